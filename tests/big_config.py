"""A large but honest config: many contexts, each with a few providers, many SLOs and a
service entry per SLO.

Used by the config hostile-file tests (a big valid file must load, quickly, and never be called an
alias bomb) and by ``benchmarks/config_load.py`` (load time and peak RSS). No anchors or aliases:
every node is written out, as a generated config would be.
"""

from __future__ import annotations

from pathlib import Path

SLO = """\
      - name: svc{c:03d}-{s:03d}-availability
        provider: prom
        objective: 99.9
        window: 30d
        error_query: sum(rate(http_requests_total{{service="svc{c:03d}-{s:03d}",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{service="svc{c:03d}-{s:03d}"}}[{{{{.window}}}}]))
        service: svc{c:03d}-{s:03d}
        burn_windows: [5m, 30m, 1h, 2h, 6h, 1d, 3d]
        alerting:
          - {{long: 1h, short: 5m, burn_rate: 14.4, severity: critical}}
          - {{long: 6h, short: 30m, burn_rate: 6, severity: critical}}
          - {{long: 3d, short: 6h, burn_rate: 1, severity: warning}}
"""

CONTEXT = """\
  ctx{c:03d}:
    read_only: {read_only}
    providers:
      prom: {{type: prometheus, url: "http://127.0.0.1:9090", timeout: 10s}}
      loki: {{type: loki, url: "http://127.0.0.1:3100", query: '{{service="svc{c:03d}"}}'}}
      alerts: {{type: alertmanager, url: "http://127.0.0.1:9093"}}
    slos:
"""

SERVICE = """\
      svc{c:03d}-{s:03d}: {{logs: '{{service="svc{c:03d}-{s:03d}"}}', slos: [svc{c:03d}-{s:03d}-availability]}}
"""


def big_config_text(target_bytes: int = 3_900_000, slos_per_context: int = 50) -> str:
    """A valid config of about ``target_bytes`` (never less): contexts of ``slos_per_context``
    SLOs each are added until the size is reached."""
    parts = ["default_context: ctx000\nrefresh: {incidents: 15s, slos: 30s, timeline: 30s}\n"
             "contexts:\n"]
    size = len(parts[0])
    c = 0
    while size < target_bytes:
        block = [CONTEXT.format(c=c, read_only="true" if c % 2 else "false")]
        block += [SLO.format(c=c, s=s) for s in range(slos_per_context)]
        block.append("    services:\n")
        block += [SERVICE.format(c=c, s=s) for s in range(slos_per_context)]
        text = "".join(block)
        parts.append(text)
        size += len(text.encode())
        c += 1
    return "".join(parts)


def write_big_config(path: Path, target_bytes: int = 3_900_000) -> Path:
    """Write :func:`big_config_text` to ``path`` and return it."""
    path.write_text(big_config_text(target_bytes), encoding="utf-8")
    return path
