"""The SLO engine against a REAL Prometheus holding a deterministic eight-day history.

Every figure is compared with two independent ground truths: Prometheus' own answer to the
plain ratio query at the same time, and the arithmetic of the story (``prom_story``). Then the
failure cases: a bad query (400) and Prometheus going away mid-run and coming back.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prom_helpers import PrometheusServer, have_prometheus, start_server
from prom_story import END, STORIES, config_dict, error_query, good_query, history, total_query
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from sre_cockpit.config.model import Config
from sre_cockpit.core.durations import parse_duration
from sre_cockpit.core.models import HealthState, SloState, SloStatus
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slo_eval import SloEvaluator, SloRow, evaluate_slos
from sre_cockpit.feeds.slos import SloFeed
from sre_cockpit.providers.prometheus import PrometheusOptions, PrometheusProvider, PromQLError
from sre_cockpit.ui.messages import SlosChanged
from sre_cockpit.ui.slos.format import fmt_burn, fmt_percent
from sre_cockpit.ui.slos.view import SloPane
from sre_cockpit.ui.themes import VARIABLE_DEFAULTS

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not have_prometheus(), reason="prometheus/promtool not installed"),
]

AT = datetime.fromtimestamp(END, UTC)
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = start_server(history(), tmp_path_factory.mktemp("prom-story"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def statuses(prom: PrometheusServer) -> dict[str, SloStatus]:
    runtime = Runtime(Config.model_validate(config_dict(prom.url)), clock=lambda: AT)

    async def run() -> list[SloStatus]:
        try:
            return await evaluate_slos(runtime, AT)
        finally:
            await runtime.aclose()

    return {s.name: s for s in asyncio.run(run())}


def prom_ratio(prom: PrometheusServer, service: str, window: str, *, good: bool = False) -> float:
    """Prometheus' own error ratio for a service over a window (the plain ratio query)."""
    num = (good_query if good else error_query)(service).replace("{{.window}}", window)
    den = total_query(service).replace("{{.window}}", window)
    expr = f"1 - ({num}) / ({den})" if good else f"({num}) / ({den})"
    result = prom.query(expr, END)
    assert len(result) == 1, (expr, result)
    return float(result[0]["value"][1])  # type: ignore[index]


def close(actual: float | None, expected: float, rel: float = 0.01, abs_: float = 1e-9) -> bool:
    return actual is not None and math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


@pytest.mark.parametrize("name,service,objective,window", [
    ("checkout-availability", "checkout", 0.999, "30d"),
    ("payments-availability", "payments", 0.999, "30d"),
    ("payments-weekly", "payments", 0.999, "7d"),
    ("search-availability", "search", 0.995, "30d"),
])
def test_figures_match_prometheus_and_the_story(prom: PrometheusServer,
                                                statuses: dict[str, SloStatus], name: str,
                                                service: str, objective: float, window: str) -> None:
    status = statuses[name]
    good = name.startswith("search")
    assert status.error is None, status.error
    assert status.objective == objective
    assert status.window == window
    story = STORIES[service]
    for w in WINDOWS:
        truth_prom = prom_ratio(prom, service, w, good=good) / (1 - objective)
        truth_story = story.error_ratio(parse_duration(w)) / (1 - objective)
        burn = status.burn_rates[w]
        assert close(burn, truth_prom), (name, w, burn, truth_prom)
        assert close(burn, truth_story), (name, w, burn, truth_story)
    ratio_prom = prom_ratio(prom, service, window, good=good)
    ratio_story = story.error_ratio(parse_duration(window))
    assert close(status.error_budget_remaining, 1 - ratio_prom / (1 - objective))
    assert close(status.error_budget_remaining, 1 - ratio_story / (1 - objective))
    assert close(status.sli, 1 - ratio_story)


def test_states_follow_the_multiwindow_rules(statuses: dict[str, SloStatus]) -> None:
    assert statuses["checkout-availability"].state is SloState.CRITICAL  # 1h & 5m = 30 ≥ 14.4
    assert statuses["payments-availability"].state is SloState.WARNING  # 1d & 2h = 3.5 ≥ 3
    assert statuses["payments-weekly"].state is SloState.CRITICAL  # 7d: 1h threshold 3.36
    assert statuses["payments-custom"].state is SloState.OK  # only rule: 1h & 5m ≥ 10
    assert statuses["search-availability"].state is SloState.OK
    assert statuses["noerr-availability"].state is SloState.OK


def test_time_to_exhaustion_at_the_1h_burn_rate(statuses: dict[str, SloStatus]) -> None:
    status = statuses["checkout-availability"]
    budget = STORIES["checkout"].error_ratio(30 * 86400)
    remaining = 1 - budget / 0.001
    expected = AT + timedelta(seconds=remaining * 30 * 86400 / 30.0)  # 1h burn rate is 30
    assert status.exhausted_at is not None
    assert abs((status.exhausted_at - expected).total_seconds()) <= 0.01 * (expected - AT).total_seconds()
    assert statuses["noerr-availability"].exhausted_at is None  # nothing burns


def test_budget_trend_is_bounded_and_ends_at_the_current_budget(
        statuses: dict[str, SloStatus]) -> None:
    status = statuses["checkout-availability"]
    assert 2 <= len(status.trend) <= 24
    assert close(status.trend[-1], status.error_budget_remaining or 0.0)
    assert status.trend[-1] < status.trend[-3]  # the last two hours burnt budget
    flat = statuses["search-availability"].trend
    assert max(flat) - min(flat) < 0.01


def test_no_traffic_no_data_and_missing_error_series(statuses: dict[str, SloStatus]) -> None:
    idle = statuses["idle-availability"]
    assert idle.state is SloState.NO_DATA
    assert idle.sli is None and idle.error_budget_remaining is None
    assert all(v == 0.0 for v in idle.burn_rates.values())  # no traffic: nothing burns
    assert any("no traffic" in w for w in idle.warnings)
    ghost = statuses["ghost-availability"]
    assert ghost.state is SloState.NO_DATA
    assert all(v is None for v in ghost.burn_rates.values())
    assert any("no data" in w for w in ghost.warnings)
    noerr = statuses["noerr-availability"]
    assert noerr.error_budget_remaining == 1.0
    assert all(v == 0.0 for v in noerr.burn_rates.values())


def test_bad_promql_is_shown_verbatim(statuses: dict[str, SloStatus]) -> None:
    broken = statuses["broken-query"]
    assert broken.error is not None
    assert broken.error.startswith("PromQL error: ")
    assert "parse error" in broken.error
    assert broken.state is SloState.NO_DATA
    assert broken.queries["error [5m]"].endswith("[5m])")  # the exact query as sent
    # the note must not claim the query "returned nothing": it failed
    assert not any("returned nothing" in w for w in broken.warnings), broken.warnings
    assert any("query failed" in w for w in broken.warnings), broken.warnings


def test_worst_first_order(statuses: dict[str, SloStatus], prom: PrometheusServer) -> None:
    runtime = Runtime(Config.model_validate(config_dict(prom.url)), clock=lambda: AT)
    names = [s.name for s in asyncio.run(_eval_and_close(runtime))]
    assert names[:2] == ["checkout-availability", "payments-weekly"]
    assert names.index("payments-availability") < names.index("search-availability")


async def _eval_and_close(runtime: Runtime) -> list[SloStatus]:
    try:
        return await evaluate_slos(runtime, AT)
    finally:
        await runtime.aclose()


async def test_provider_against_real_prometheus(prom: PrometheusServer) -> None:
    provider = PrometheusProvider("prom", PrometheusOptions(type="prometheus", url=prom.url))
    try:
        probe = await provider.probe()
        assert probe.ok and probe.detail == "Prometheus 2.42.0+ds"
        samples = await provider.instant('sum by (code) (rate(http_requests_total{service="checkout"}[1h]))', AT)
        by_code = {s.labels["code"]: s.value for s in samples}
        assert close(by_code["500"], 3.0) and close(by_code["200"], 97.0)
        # a long query goes out as a POST form and gives the same answer
        long_query = "sum(rate(http_requests_total{service=\"checkout\"}[1h]))" + " + 0" * 800
        assert len(long_query) > 1500
        (total,) = await provider.instant(long_query, AT)
        assert close(total.value, 100.0)
        series = await provider.range('sum(rate(http_requests_total{service="checkout",code="500"}[5m]))',
                                      AT - timedelta(hours=3, seconds=17), AT, 600)
        (only,) = series
        assert all(ts % 600 == 0 for ts, _ in only.points)  # start/end aligned to the step
        assert close(only.points[-1][1], 3.0) and close(only.points[0][1], 0.05)
        with pytest.raises(PromQLError) as err:
            await provider.instant("sum(rate(up[5m])", AT)
        assert err.value.status == 400 and str(err.value).startswith("PromQL error: ")
        assert provider.peak_in_flight <= provider.options.max_in_flight
    finally:
        await provider.aclose()


async def test_deploy_events_from_a_range_query(prom: PrometheusServer) -> None:
    provider = PrometheusProvider("prom", PrometheusOptions(type="prometheus", url=prom.url))
    try:
        # "changes" of the error fraction stand in for a build-info change: the step 2h before END
        query = ('label_replace(sum(rate(http_requests_total{service="checkout",code="500"}[5m])) '
                 '> 1, "version", "v2.3.1", "", "")')
        events = await provider.deploy_events(query, "version", AT - timedelta(hours=6), AT,
                                              "checkout")
        assert [e.text for e in events] == ["deploy checkout v2.3.1"]
        # rate over 5m crosses 1/s two minutes after the step
        assert abs((events[0].at - (AT - timedelta(hours=2))).total_seconds()) <= 180
        assert events[0].kind == "deploy" and events[0].service == "checkout"
    finally:
        await provider.aclose()


async def test_prometheus_stopped_mid_run_goes_stale_then_recovers(prom: PrometheusServer) -> None:
    runtime = Runtime(Config.model_validate(config_dict(prom.url)), clock=lambda: AT)
    evaluator = SloEvaluator(runtime, trend_points=0)
    updates: list[PollUpdate[list[SloRow]]] = []
    poller: Poller[list[SloRow]] = Poller("prom", lambda: evaluator.refresh(AT), interval=30,
                                          deadline=20, on_update=updates.append)
    try:
        first = await poller.poll_once()
        assert first.health.state is HealthState.OK
        good = {r.status.name: r for r in first.value or []}
        assert good["checkout-availability"].status.state is SloState.CRITICAL
        prom.stop()
        loop = asyncio.get_running_loop()
        started = loop.time()
        down = await poller.poll_once()
        assert loop.time() - started < 10  # queued queries fail fast once the backend is down
        assert down.health.state is HealthState.STALE
        assert down.health.error and "prom" in down.health.error
        kept = {r.status.name: r for r in down.value or []}  # last good value still there
        assert kept["checkout-availability"].status.state is SloState.CRITICAL
        prom.start()
        back = await poller.poll_once()
        assert back.health.state is HealthState.OK
        rows = {r.status.name: r for r in back.value or []}
        assert not rows["checkout-availability"].stale
        assert rows["checkout-availability"].status.state is SloState.CRITICAL
    finally:
        prom.start()
        await runtime.aclose()


def test_evaluating_a_past_moment_uses_time(prom: PrometheusServer) -> None:
    """The incident clock: evaluated 3 h before the end, checkout had not started burning."""
    runtime = Runtime(Config.model_validate(config_dict(prom.url)), clock=lambda: AT)
    earlier = AT - timedelta(hours=3)
    statuses = {s.name: s for s in asyncio.run(_eval_at(runtime, earlier))}
    checkout = statuses["checkout-availability"]
    assert checkout.evaluated_at == earlier
    assert checkout.state is SloState.OK
    assert close(checkout.burn_rates["1h"], 0.5)


async def _eval_at(runtime: Runtime, at: datetime) -> list[SloStatus]:
    try:
        return await evaluate_slos(runtime, at, only=["checkout-availability"])
    finally:
        await runtime.aclose()


def test_sloth_spec_against_prometheus(prom: PrometheusServer, tmp_path: Path) -> None:
    spec = tmp_path / "sloth.yml"
    spec.write_text(
        "version: prometheus/v1\nservice: checkout\nslos:\n"
        "  - name: availability\n    objective: 99.9\n    sli:\n      events:\n"
        f"        error_query: '{error_query('checkout')}'\n"
        f"        total_query: '{total_query('checkout')}'\n"
        "    alerting:\n      page_alert: {disable: true}\n", encoding="utf-8")
    cfg = config_dict(prom.url, slos=[])
    cfg["contexts"]["test"]["slos_from"] = str(spec)  # type: ignore[index]
    cfg["contexts"]["test"]["services"] = {}  # type: ignore[index]
    runtime = Runtime(Config.model_validate(cfg), clock=lambda: AT)
    (status,) = asyncio.run(_eval_and_close(runtime))
    assert status.name == "checkout-availability" and status.service == "checkout"
    # only the ticket rules remain: 1d & 2h burn 2.96 < 3, but 3d (1.32) & 6h (10.3) ≥ 1
    assert status.state is SloState.WARNING
    assert close(status.burn_rates["1h"], 30.0)


class _PaneApp(App[None]):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.feed = SloFeed(runtime)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield SloPane()

    def on_mount(self) -> None:
        pane = self.query_one(SloPane)
        pane.bind(self.feed)
        self.feed.subscribe(lambda snap: pane.post_message(SlosChanged(snap)))


async def test_pane_shows_prometheus_figures_then_stale_then_recovers(
        prom: PrometheusServer, statuses: dict[str, SloStatus]) -> None:
    runtime = Runtime(Config.model_validate(config_dict(prom.url)), clock=lambda: AT)
    app = _PaneApp(runtime)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            app.query_one(SloPane)
            await app.feed.refresh()
            await pilot.pause()
            table = app.query_one(DataTable)
            cells = {str(r.key.value): [c.plain.strip() for c in table.get_row(r.key)]
                     for r in table.ordered_rows}
            checkout = statuses["checkout-availability"]
            row = cells["checkout-availability"]
            assert fmt_burn(checkout.burn_rates["1h"]) in row and "CRIT" in row
            assert any(fmt_percent(checkout.error_budget_remaining) in c for c in row)
            assert fmt_burn(statuses["payments-availability"].burn_rates["1d"]) in \
                cells["payments-availability"]
            assert any("error" in c for c in cells["broken-query"])
            prom.stop()
            await app.feed.refresh()
            await pilot.pause()
            assert app.feed.pollers["prom"].health.state is HealthState.STALE
            row = [c.plain.strip() for c in table.get_row("checkout-availability")]
            assert any("stale" in c for c in row) and "CRIT" in row  # last good figures kept
            prom.start()
            await app.feed.refresh()
            await pilot.pause()
            assert app.feed.pollers["prom"].health.state is HealthState.OK
            row = [c.plain.strip() for c in table.get_row("checkout-availability")]
            assert not any("stale" in c for c in row)
    finally:
        prom.start()
        await runtime.aclose()
