"""The deterministic multi-day history the Prometheus/SLO integration tests run against.

Eight days of ``http_requests_total`` at 100 requests/s per service, one sample a minute, with
piecewise-constant error rates, so every figure has an arithmetic ground truth:

- checkout: 0.05 % errors, then 3 % for the last 2 h  → critical (1h and 5m burn 30 ≥ 14.4);
- payments: 0.01 % errors, then 0.35 % for the last 26 h → warning (1d and 2h burn 3.5 ≥ 3);
  with a 7-day window the same data is critical (1h threshold scaled to 3.36);
- search: 0.02 % errors (good/total form, objective 99.5) → ok;
- idle: counters that never move → zero traffic → no_data;
- noerr: only code="200" series exist (the error query returns nothing) → ok, burn 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prom_helpers import counter_series, openmetrics

H = 3600
END = 1795521600  # 2026-11-24T12:00:00Z, the evaluation time of the tests
START = END - 192 * H  # eight days of history
RPS = 100.0


@dataclass(frozen=True)
class Story:
    """Per-service error fraction as (start, end, fraction) segments."""

    service: str
    segments: tuple[tuple[int, int, float], ...]
    with_errors: bool = True

    def error_ratio(self, window_s: float, at: int = END) -> float:
        """Arithmetic ground truth: traffic is constant, so the ratio is the time-weighted mean
        of the error fraction over [at - window, at] (clipped to the history)."""
        lo = max(START, at - window_s)
        span = at - lo
        weighted = 0.0
        for s, e, frac in self.segments:
            overlap = max(0.0, min(e, at) - max(s, lo))
            weighted += overlap * frac
        return weighted / span


STORIES: Mapping[str, Story] = {
    "checkout": Story("checkout", ((START, END - 2 * H, 0.0005), (END - 2 * H, END, 0.03))),
    "payments": Story("payments", ((START, END - 26 * H, 0.0001), (END - 26 * H, END, 0.0035))),
    "search": Story("search", ((START, END, 0.0002),)),
    "noerr": Story("noerr", ((START, END, 0.0),), with_errors=False),
}


def history() -> str:
    """The OpenMetrics document of the whole story."""
    lines: list[str] = []
    for story in STORIES.values():
        ok = [(s, e, RPS * (1 - f)) for s, e, f in story.segments]
        err = [(s, e, RPS * f) for s, e, f in story.segments]
        lines += counter_series("http_requests_total", {"service": story.service, "code": "200"}, ok)
        if story.with_errors:
            lines += counter_series("http_requests_total", {"service": story.service, "code": "500"},
                                    err)
    for code in ("200", "500"):
        lines += counter_series("http_requests_total", {"service": "idle", "code": code},
                                [(START, END, 0.0)])
    return openmetrics([("http_requests", "counter", "Requests (synthetic story).", lines)])


def error_query(service: str) -> str:
    """Errors of a service with the ``{{.window}}`` placeholder."""
    return f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))'


def total_query(service: str) -> str:
    """All requests of a service."""
    return f'sum(rate(http_requests_total{{service="{service}"}}[{{{{.window}}}}]))'


def good_query(service: str) -> str:
    """Good requests of a service."""
    return f'sum(rate(http_requests_total{{service="{service}",code="200"}}[{{{{.window}}}}]))'


def slo_configs(provider: str = "prom") -> list[dict[str, object]]:
    """The SLOs of the tests (config dicts)."""
    def slo(name: str, service: str, objective: float, **extra: object) -> dict[str, object]:
        base: dict[str, object] = {"name": name, "provider": provider, "objective": objective,
                                   "service": service, "error_query": error_query(service),
                                   "total_query": total_query(service)}
        base.update(extra)
        return base

    search = slo("search-availability", "search", 99.5)
    search.pop("error_query")
    search["good_query"] = good_query("search")
    return [
        slo("checkout-availability", "checkout", 99.9),
        slo("payments-availability", "payments", 99.9),
        slo("payments-weekly", "payments", 99.9, window="7d"),
        slo("payments-custom", "payments", 99.9,
            alerting=[{"long": "1h", "short": "5m", "burn_rate": 10, "severity": "critical"}]),
        search,
        slo("idle-availability", "idle", 99.9),
        slo("noerr-availability", "noerr", 99.9),
        slo("ghost-availability", "ghost", 99.9,
            error_query='sum(rate(ghost_errors_total[{{.window}}]))',
            total_query='sum(rate(ghost_requests_total[{{.window}}]))'),
        slo("broken-query", "checkout", 99.9,
            error_query='sum(rate(http_requests_total{code=~"5.."}[{{.window}}])'),
    ]


def config_dict(url: str, slos: Sequence[dict[str, object]] | None = None) -> dict[str, object]:
    """A whole cockpit config pointing at the test Prometheus."""
    return {
        "default_context": "test",
        "contexts": {"test": {
            "providers": {"prom": {"type": "prometheus", "url": url, "timeout": "5s"}},
            "slos": list(slos if slos is not None else slo_configs()),
            "services": {"checkout": {"slos": ["checkout-availability"]}},
        }},
    }
