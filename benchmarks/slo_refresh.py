"""How long one SLO refresh takes against a real local Prometheus.

Backfills N services (default 50) of ``http_requests_total`` history with promtool, starts
Prometheus on a free loopback port, then times ``evaluate_slos`` for N SLOs × the 7 default burn
windows (plus the SLO window and the budget-trend range queries), cold and warm, with the
provider's default in-flight bound. Prints one line per run and a summary line::

    python benchmarks/slo_refresh.py [--services 50] [--days 3] [--runs 3] [--max-in-flight 8]

Needs ``prometheus`` and ``promtool`` (Debian packages ``prometheus``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from prom_helpers import counter_series, have_prometheus, openmetrics, start_server  # noqa: E402

from sre_cockpit.config.model import Config  # noqa: E402
from sre_cockpit.feeds.runtime import Runtime  # noqa: E402
from sre_cockpit.feeds.slo_eval import SloEvaluator  # noqa: E402
from sre_cockpit.providers.prometheus import PrometheusProvider  # noqa: E402

H = 3600


def history(services: int, days: int, end: int, step: int) -> str:
    """Every service at 100 req/s; error fraction 0.05 % with a step to a service-specific level
    for the last few hours, so states differ across services."""
    start = end - days * 86400
    lines: list[str] = []
    for i in range(services):
        name = f"svc{i:03d}"
        frac = [0.0005, 0.004, 0.03, 0.0001][i % 4]
        seg = [(start, end - (i % 6 + 1) * H, 0.0005), (end - (i % 6 + 1) * H, end, frac)]
        lines += counter_series("http_requests_total", {"service": name, "code": "200"},
                                [(s, e, 100 * (1 - f)) for s, e, f in seg], step)
        lines += counter_series("http_requests_total", {"service": name, "code": "500"},
                                [(s, e, 100 * f) for s, e, f in seg], step)
    return openmetrics([("http_requests", "counter", "Synthetic benchmark traffic.", lines)])


def config(url: str, services: int, max_in_flight: int) -> Config:
    slos = [{
        "name": f"svc{i:03d}-availability", "provider": "prom", "objective": 99.9,
        "service": f"svc{i:03d}",
        "error_query": f'sum(rate(http_requests_total{{service="svc{i:03d}",code=~"5.."}}[{{{{.window}}}}]))',
        "total_query": f'sum(rate(http_requests_total{{service="svc{i:03d}"}}[{{{{.window}}}}]))',
    } for i in range(services)]
    return Config.model_validate({"contexts": {"bench": {
        "providers": {"prom": {"type": "prometheus", "url": url, "timeout": "30s",
                               "max_in_flight": max_in_flight}},
        "slos": slos}}})


async def timed_runs(cfg: Config, at: datetime, runs: int, trend: bool) -> list[tuple[float, int, int]]:
    out = []
    for _ in range(runs):
        runtime = Runtime(cfg, clock=lambda: at)
        provider = runtime.get("prom")
        assert isinstance(provider, PrometheusProvider)
        evaluator = SloEvaluator(runtime, trend_points=24 if trend else 0)
        started = time.perf_counter()
        statuses = await evaluator.evaluate(at)
        elapsed = time.perf_counter() - started
        errors = [s.error for s in statuses if s.error]
        if errors:
            raise SystemExit(f"evaluation failed: {errors[0]}")
        out.append((elapsed, provider.requests, provider.peak_in_flight))
        await runtime.aclose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--step", type=int, default=60, help="sample interval of the history (s)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-in-flight", type=int, default=8)
    args = parser.parse_args()
    if not have_prometheus():
        print("prometheus/promtool not installed (apt-get install prometheus)", file=sys.stderr)
        return 2
    end = int(time.time()) // 60 * 60 - 86400  # a fixed past minute: nothing is being written
    at = datetime.fromtimestamp(end, UTC)
    with tempfile.TemporaryDirectory(prefix="slo-bench-") as tmp:
        t0 = time.perf_counter()
        text = history(args.services, args.days, end, args.step)
        server = start_server(text, Path(tmp))
        setup = time.perf_counter() - t0
        print(f"backfilled {args.services} services × {args.days} days "
              f"({text.count(chr(10)):,} lines) and started Prometheus in {setup:.1f}s")
        try:
            cfg = config(server.url, args.services, args.max_in_flight)
            for trend in (True, False):
                results = asyncio.run(timed_runs(cfg, at, args.runs, trend))
                label = "with trend" if trend else "no trend  "
                for n, (elapsed, requests, peak) in enumerate(results, 1):
                    print(f"  run {n} ({label}): {elapsed:6.3f}s  {requests} requests  "
                          f"peak in flight {peak}")
                times = [r[0] for r in results]
                print(f"{args.services} SLOs × 7 windows ({label}): median {statistics.median(times):.3f}s, "
                      f"max {max(times):.3f}s, first (cold) {times[0]:.3f}s — budget 30s")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
