"""The cockpit config that points every provider at a running simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sre_cockpit.core.privatefile import write_private_file
from sre_cockpit.simulator.api_incidents import PD_PREFIX

ERROR_RATIO = 'sum(rate(http_requests_total{{service="{svc}",code=~"5.."}}[{{{{.window}}}}]))'
TOTAL = 'sum(rate(http_requests_total{{service="{svc}"}}[{{{{.window}}}}]))'


def config_dict(url: str, *, pd_token: str, from_email: str = "operator@example.com",
                context: str = "sim") -> dict[str, Any]:
    """The config (shape of ``sre_cockpit.config.model.Config``) for a simulator at ``url``."""

    def availability(svc: str, objective: float, desc: str) -> dict[str, Any]:
        return {"name": f"{svc}-availability", "provider": "prom", "objective": objective,
                "window": "30d", "service": svc, "description": desc,
                "error_query": ERROR_RATIO.format(svc=svc), "total_query": TOTAL.format(svc=svc)}

    slos = [
        availability("checkout", 99.9, "Checkout requests answered without a 5xx"),
        availability("payments", 99.9, "Payment authorisations answered without a 5xx"),
        {"name": "payments-latency", "provider": "prom", "objective": 99.0, "window": "30d",
         "service": "payments", "description": "Payment authorisations faster than 500 ms",
         "good_query": 'sum(rate(http_request_duration_seconds_bucket{service="payments",le="0.5"}[{{.window}}]))',
         "total_query": 'sum(rate(http_request_duration_seconds_count{service="payments"}[{{.window}}]))'},
        availability("search", 99.5, "Search queries answered without a 5xx"),
    ]
    ctx: dict[str, Any] = {
        "read_only": False,
        "providers": {
            "prom": {"type": "prometheus", "url": url},
            "loki": {"type": "loki", "url": url, "query": '{namespace="shop"}'},
            "alerts": {"type": "alertmanager", "url": url},
            "pd": {"type": "pagerduty", "url": url + PD_PREFIX, "token": pd_token,
                   "from_email": from_email},
        },
        "slos": slos,
        "services": {
            "checkout": {"logs": '{app="checkout"}', "slos": ["checkout-availability"]},
            "payments": {"logs": '{app="payments"}',
                         "slos": ["payments-availability", "payments-latency"]},
            "search": {"logs": '{app="search"}', "slos": ["search-availability"]},
        },
        # the form that works on a real Prometheus too (a build-info series appears at its
        # deploy); changes(app_build_info[1m]) finds nothing there, and misses deploys here
        # once the timeline's step is longer than a minute
        "deploys": [{"provider": "prom", "query": "count by (service, version) (app_build_info)",
                     "version_label": "version", "service_label": "service"}],
    }
    return {
        "default_context": context,
        "contexts": {context: ctx},
        "refresh": {"incidents": "5s", "slos": "15s", "timeline": "15s"},
        "ui": {"theme": "war-room"},
        "user": from_email.split("@")[0],
    }


def render_config(url: str, *, pd_token: str, from_email: str = "operator@example.com") -> str:
    """YAML text of :func:`config_dict` with a header comment."""
    header = ("# Written by `sre-cockpit simulate --write-config`: every provider points at the\n"
              f"# incident simulator on {url}. It holds the simulator's PagerDuty token (mode 0600).\n")
    body = yaml.safe_dump(config_dict(url, pd_token=pd_token, from_email=from_email),
                          sort_keys=False, default_flow_style=False, width=200)
    return header + body


def write_config(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` readable by the owner only (0600), atomically."""
    return write_private_file(path, text, make_parents=True)
