"""The incident simulator: Prometheus, Loki, Alertmanager and PagerDuty on one port.

Never imports Textual. Entry points: ``sre-cockpit simulate`` / ``python -m sre_cockpit.simulator``
and :class:`sre_cockpit.simulator.server.Simulator` for in-process use.
"""
