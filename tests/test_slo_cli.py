"""End to end: ``sre-cockpit snapshot --format json`` in a subprocess against a real Prometheus
whose backfilled history ends now; burn rates and budget within 1 % of Prometheus' own ratio
at the snapshot's ``generated_at``, the right states, and the binding JSON shape."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from prom_helpers import counter_series, have_prometheus, openmetrics, start_server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not have_prometheus(), reason="prometheus/promtool not installed"),
]

H = 3600
SERVICES = {  # service: (background error fraction, fraction in the last 2 h / 26 h, hours)
    "checkout": (0.0001, 0.03, 1),
    "payments": (0.0001, 0.0035, 26),
    "search": (0.0002, 0.0002, 1),
}


def story(end: int) -> str:
    start = end - 2 * 86400
    lines: list[str] = []
    for service, (base, recent, hours) in SERVICES.items():
        segs = [(start, end - hours * H, base), (end - hours * H, end + 600, recent)]
        lines += counter_series("http_requests_total", {"service": service, "code": "200"},
                                [(s, e, 100 * (1 - f)) for s, e, f in segs])
        lines += counter_series("http_requests_total", {"service": service, "code": "500"},
                                [(s, e, 100 * f) for s, e, f in segs])
    return openmetrics([("http_requests", "counter", "Requests (synthetic story).", lines)])


def query(service: str, errors: bool) -> str:
    code = ',code=~"5.."' if errors else ""
    return f'sum(rate(http_requests_total{{service="{service}"{code}}}[{{{{.window}}}}]))'


def test_snapshot_json_matches_prometheus(tmp_path: Path) -> None:
    # history up to the next whole minute: samples exist at "now" for the instant queries
    end = (int(time.time()) // 60 + 1) * 60
    server = start_server(story(end), tmp_path)
    try:
        cfg = {"default_context": "prod", "contexts": {"prod": {
            "providers": {"prom": {"type": "prometheus", "url": server.url}},
            "slos": [{"name": f"{s}-availability", "provider": "prom", "objective": 99.9,
                      "window": "30d", "service": s, "error_query": query(s, True),
                      "total_query": query(s, False)} for s in SERVICES]}}}
        path = tmp_path / "cockpit.yaml"
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        env = {**os.environ, "NO_COLOR": "1"}
        proc = subprocess.run([sys.executable, "-m", "sre_cockpit", "snapshot", "--config",
                               str(path), "--format", "json"], capture_output=True, text=True,
                              timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr
        snap = json.loads(proc.stdout)
        assert snap["schema"] == "sre-cockpit.snapshot/v1"
        at = datetime.fromisoformat(snap["generated_at"].replace("Z", "+00:00")).timestamp()
        slos = {s["name"]: s for s in snap["slos"]}
        assert set(slos) == {f"{s}-availability" for s in SERVICES}
        for service in SERVICES:
            entry = slos[f"{service}-availability"]
            assert set(entry) == {"name", "objective", "window", "sli", "error_budget_remaining",
                                  "burn_rates", "state", "exhausted_at"}
            assert entry["objective"] == 0.999 and entry["window"] == "30d"
            assert list(entry["burn_rates"]) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
            for window, burn in entry["burn_rates"].items():
                num = query(service, True).replace("{{.window}}", window)
                den = query(service, False).replace("{{.window}}", window)
                (truth,) = server.query(f"({num}) / ({den})", at)
                expected = float(truth["value"][1]) / 0.001  # type: ignore[index]
                assert math.isclose(burn, expected, rel_tol=0.01), (service, window, burn, expected)
            num = query(service, True).replace("{{.window}}", "30d")
            den = query(service, False).replace("{{.window}}", "30d")
            (truth,) = server.query(f"1 - (({num}) / ({den})) / 0.001", at)
            assert math.isclose(entry["error_budget_remaining"], float(truth["value"][1]),  # type: ignore[index]
                                rel_tol=0.01)
        assert slos["checkout-availability"]["state"] == "critical"
        assert slos["payments-availability"]["state"] == "warning"
        assert slos["search-availability"]["state"] == "ok"
        checkout = slos["checkout-availability"]
        assert checkout["error_budget_remaining"] > 0
        gone = datetime.fromisoformat(checkout["exhausted_at"].replace("Z", "+00:00")).timestamp()
        expected_gone = at + checkout["error_budget_remaining"] * 30 * 86400 / checkout["burn_rates"]["1h"]
        assert math.isclose(gone - at, expected_gone - at, rel_tol=0.01)
        assert snap["slos"][0]["name"] == "checkout-availability"  # worst first
    finally:
        server.stop()


async def test_snapshot_evaluates_slos_at_its_own_timestamp() -> None:
    # the SLOs were evaluated at a second reading of the clock, after every incident provider
    # had answered (20 s later behind a hanging Alertmanager): burn windows then differ from
    # Prometheus' figures at the snapshot's generated_at
    from datetime import UTC, timedelta

    from aiohttp import web

    from sre_cockpit.config.model import Config
    from sre_cockpit.feeds.runtime import Runtime
    from sre_cockpit.reports.snapshot import collect_snapshot

    asked: list[float] = []

    async def query(request: web.Request) -> web.Response:
        form = dict(request.query)
        if request.method == "POST":
            form.update(await request.post())  # type: ignore[arg-type]
        asked.append(float(form["time"]))
        return web.json_response({"status": "success", "data": {
            "resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]}})

    async def query_range(request: web.Request) -> web.Response:
        return web.json_response({"status": "success",
                                  "data": {"resultType": "matrix", "result": []}})

    async def buildinfo(request: web.Request) -> web.Response:
        return web.json_response({"status": "success", "data": {"version": "2.53.0"}})

    app = web.Application()
    app.router.add_route("*", "/api/v1/query", query)
    app.router.add_route("*", "/api/v1/query_range", query_range)
    app.router.add_get("/api/v1/status/buildinfo", buildinfo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    ticks = iter(range(1000))

    def clock() -> datetime:  # every reading is 20 s after the previous one
        return base + timedelta(seconds=20 * next(ticks))

    try:
        cfg = Config.model_validate({"contexts": {"prod": {
            "providers": {"prom": {"type": "prometheus", "url": f"http://127.0.0.1:{port}"}},
            "slos": [{"name": "a", "provider": "prom", "objective": 99.9, "window": "30d",
                      "error_query": query_text(True), "total_query": query_text(False)}]}}})
        runtime = Runtime(cfg, clock=clock)
        try:
            from sre_cockpit.feeds.cockpit import Cockpit

            snap = await collect_snapshot(Cockpit(cfg, runtime=runtime))
        finally:
            await runtime.aclose()
    finally:
        await runner.cleanup()
    assert [s.evaluated_at for s in snap.slos] == [snap.generated_at]
    assert asked and set(asked) == {snap.generated_at.timestamp()}


def query_text(errors: bool) -> str:
    return query("checkout", errors)
