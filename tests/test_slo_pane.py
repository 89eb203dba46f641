"""The SLO pane: snapshots at 80×24 and 160×48 with a frozen clock and canned statuses, the
detail view, ordering, focus, moments, stale marking and the pane's empty states."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from sre_cockpit.config.model import Config
from sre_cockpit.core.models import SloState, SloStatus
from sre_cockpit.core.slo import worst_first
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slo_eval import SloRow
from sre_cockpit.feeds.slos import SloEntry, SloFeed, SlosSnapshot
from sre_cockpit.ui.messages import SlosChanged
from sre_cockpit.ui.slos.detail import SloDetailScreen
from sre_cockpit.ui.slos.format import (
    exhaustion_text,
    fmt_burn,
    fmt_remaining,
    gauge,
    layout_columns,
    sparkline,
)
from sre_cockpit.ui.slos.view import SloPane
from sre_cockpit.ui.themes import VARIABLE_DEFAULTS

FROZEN = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


def slo_cfg(name: str, service: str, objective: float = 99.9, **extra: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "name": name, "provider": "prom", "objective": objective, "service": service,
        "error_query": f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))',
        "total_query": f'sum(rate(http_requests_total{{service="{service}"}}[{{{{.window}}}}]))'}
    cfg.update(extra)
    return cfg


def config(slos: list[dict[str, object]] | None = None,
           providers: dict[str, object] | None = None) -> Config:
    return Config.model_validate({"contexts": {"prod": {
        "providers": providers if providers is not None else
        {"prom": {"type": "prometheus", "url": "http://127.0.0.1:9", "timeout": "1s"}},
        "slos": slos if slos is not None else [
            slo_cfg("checkout-availability", "checkout"),
            slo_cfg("payments-availability", "payments"),
            slo_cfg("search-availability", "search", 99.5),
            slo_cfg("idle-availability", "idle"),
            slo_cfg("broken-query", "ledger"),
            slo_cfg("auth-latency", "auth", 99.0)],
        "services": {"search": {"slos": ["search-availability"]}},
    }}})


def status(name: str, state: SloState, *, budget: float | None, burns: list[float | None],
           objective: float = 0.999, sli: float | None = None, exhausted_in_h: float | None = None,
           trend: tuple[float, ...] = (), service: str | None = None, error: str | None = None,
           warnings: tuple[str, ...] = ()) -> SloStatus:
    return SloStatus(
        name=name, objective=objective, window="30d", sli=sli,
        error_budget_remaining=budget,
        burn_rates=MappingProxyType(dict(zip(WINDOWS, burns, strict=True))), state=state,
        exhausted_at=FROZEN + timedelta(hours=exhausted_in_h) if exhausted_in_h else None,
        evaluated_at=FROZEN, service=service, trend=trend, error=error,
        queries=MappingProxyType({
            "error [5m]": f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[5m]))',
            "total [5m]": f'sum(rate(http_requests_total{{service="{service}"}}[5m]))'}),
        warnings=warnings)


def canned() -> list[SloStatus]:
    falling = (*(0.45 - 0.002 * i for i in range(21)), 0.36, 0.28, 0.193)
    return [
        status("checkout-availability", SloState.CRITICAL, budget=0.1927, sli=0.999193,
               burns=[30.0, 30.0, 30.0, 30.0, 10.33, 2.96, 1.32], exhausted_in_h=4.62,
               trend=falling, service="checkout"),
        status("payments-availability", SloState.WARNING, budget=0.4396, sli=0.999440,
               burns=[3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 1.33], exhausted_in_h=30.1,
               trend=tuple(0.7 - 0.011 * i for i in range(24)), service="payments"),
        status("search-availability", SloState.OK, budget=0.96, sli=0.9998, objective=0.995,
               burns=[0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04], exhausted_in_h=24 * 300,
               trend=(0.96,) * 24, service="search"),
        status("idle-availability", SloState.NO_DATA, budget=None, burns=[0.0] * 7,
               service="idle",
               warnings=("no traffic in the 30d window: SLI undefined, no budget burnt",)),
        status("broken-query", SloState.NO_DATA, budget=None, burns=[None] * 7, service="ledger",
               error="PromQL error: invalid parameter \"query\": 1:17: parse error: unclosed left parenthesis"),
        status("auth-latency", SloState.OK, budget=-0.297, sli=0.98703, objective=0.99,
               burns=[0.2, 0.3, 0.5, 0.6, 0.8, 0.9, 1.1], trend=tuple(-0.2 - 0.004 * i for i in range(24)),
               service="auth"),
    ]


class PaneApp(App[None]):
    """One SLO pane filling the screen on an SloFeed, as the cockpit app hosts it."""

    def __init__(self, runtime: Runtime, *, start_polling: bool = False) -> None:
        super().__init__()
        self.runtime = runtime
        self.start_polling = start_polling
        self.feed = SloFeed(runtime)
        self.published: list[SlosSnapshot] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        self.theme_variables = dict(variables)  # what the cockpit shell exposes to panes
        return variables

    def compose(self) -> ComposeResult:
        yield SloPane()

    def on_mount(self) -> None:
        pane = self.query_one(SloPane)
        pane.bind(self.feed)
        self.feed.subscribe(self._published)
        if self.start_polling:
            for job in self.feed.jobs():
                self.run_worker(job.run(), name=job.name, exit_on_error=False)

    def _published(self, snapshot: SlosSnapshot) -> None:
        self.published.append(snapshot)
        self.query_one(SloPane).post_message(SlosChanged(snapshot))

    def show_statuses(self, statuses: list[SloStatus], *, provider: str = "prom",
                      fetched_at: datetime | None = None,
                      stale_errors: dict[str, str] | None = None) -> None:
        """Publish canned figures as the feed would after an evaluation."""
        errors = stale_errors or {}
        snap = self.feed.snapshot
        entries = {e.status.name: e for e in snap.entries}
        for st in statuses:
            entries[st.name] = SloEntry(SloRow(st, errors.get(st.name)), provider,
                                        fetched_at or FROZEN)
        ordered = worst_first(e.status for e in entries.values())
        self.feed.publish(replace(snap, entries=tuple(entries[x.name] for x in ordered)))


def make_app(cfg: Config | None = None) -> PaneApp:
    return PaneApp(Runtime(cfg or config(), clock=lambda: FROZEN))


async def feed(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, PaneApp)
    app.show_statuses(canned(), provider="prom", fetched_at=FROZEN - timedelta(seconds=12))
    await pilot.pause()


@contextlib.asynccontextmanager
async def fed_pane(size: tuple[int, int]) -> AsyncIterator[tuple[PaneApp, Pilot[None], SloPane]]:
    """Run the default config's SLO pane at ``size`` with the canned figures on screen."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await feed(pilot)
        yield app, pilot, app.query_one(SloPane)


def test_snapshot_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=feed)


def test_snapshot_160x48(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await feed(pilot)
        app = pilot.app
        assert isinstance(app, PaneApp)
        app.show_statuses([canned()[1]], provider="prom", fetched_at=FROZEN - timedelta(minutes=4),
                          stale_errors={"payments-availability": "prom: ConnectError: refused"})
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(160, 48), run_before=run_before)


def test_snapshot_detail_view(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await feed(pilot)
        pilot.app.query_one(DataTable).focus()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


async def test_rows_are_worst_first_and_statuses_are_posted() -> None:
    async with fed_pane((160, 48)) as (app, _pilot, pane):
        table = app.query_one(DataTable)
        keys = [str(r.key.value) for r in table.ordered_rows]
        assert keys == ["checkout-availability", "payments-availability", "broken-query",
                        "idle-availability", "auth-latency", "search-availability"]
        assert app.published and [x.name for x in app.published[-1].statuses] == keys
        row = table.get_row("checkout-availability")
        plain = [c.plain.strip() for c in row]
        assert "CRIT" in plain and "30.0" in plain and "in 4h37m" in plain
        assert any("19.3%" in p for p in plain)
        auth = [c.plain.strip() for c in table.get_row("auth-latency")]
        assert "exhausted" in auth and any("-29.7%" in p for p in auth)
        assert pane.cursor_status() is not None


async def test_focus_service_puts_its_slos_first() -> None:
    async with fed_pane((160, 48)) as (app, pilot, pane):
        pane.focus_service("search")
        await pilot.pause()
        table = app.query_one(DataTable)
        assert str(table.ordered_rows[0].key.value) == "search-availability"
        assert table.get_row("search-availability")[0].plain.startswith("▶ ")
        pane.focus_service(None)
        await pilot.pause()
        assert str(table.ordered_rows[0].key.value) == "checkout-availability"


async def test_show_moment_marks_the_pane_and_drops_live_figures() -> None:
    async with fed_pane((120, 30)) as (app, pilot, pane):
        moment = FROZEN - timedelta(hours=3, minutes=57)
        app.feed.show_moment(moment)
        await pilot.pause()
        assert pane.snapshot.moment == moment and pane.has_class("-moment")
        assert pane.snapshot.entries == ()  # figures of another moment never pass for this one
        from sre_cockpit.ui.pane import HealthLine
        assert "as of 08:03 UTC" in pane.query_one(HealthLine).render().plain
        assert "evaluating 6 SLOs as of 08:03 UTC" in str(pane.query_one(".slo-waiting").render())
        app.feed.show_moment(None)
        await pilot.pause()
        assert not pane.has_class("-moment")
        assert "as of" not in pane.query_one(HealthLine).render().plain


async def test_filter() -> None:
    async with fed_pane((120, 30)) as (app, pilot, pane):
        pane.set_filter("pay")
        await pilot.pause()
        assert [str(r.key.value) for r in app.query_one(DataTable).ordered_rows] == [
            "payments-availability"]
        pane.set_filter("nothing-matches")
        await pilot.pause()
        assert not app.query_one(DataTable).display
        # /regex/ and a leading ! (the README's "/" key) were taken as literal words
        pane.set_filter("/^(search|auth)-/")
        await pilot.pause()
        assert sorted(str(r.key.value) for r in app.query_one(DataTable).ordered_rows) == [
            "auth-latency", "search-availability"]
        pane.set_filter("!availability")
        await pilot.pause()
        assert sorted(str(r.key.value) for r in app.query_one(DataTable).ordered_rows) == [
            "auth-latency", "broken-query"]


async def test_detail_view_shows_queries_error_and_rules() -> None:
    async with fed_pane((140, 50)) as (app, pilot, _pane):
        table = app.query_one(DataTable)
        table.focus()
        table.move_cursor(row=[str(r.key.value) for r in table.ordered_rows].index("broken-query"))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SloDetailScreen)
        body = screen.body.plain
        assert "PromQL error: invalid parameter" in body
        assert 'sum(rate(http_requests_total{service="ledger",code=~"5.."}[5m]))' in body
        assert "evaluated    2026-11-24 12:00:00 UTC" in body
        assert "critical: 1h and 5m ≥ 14.4" in body
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SloDetailScreen)


async def test_no_slos_and_no_provider_are_explained() -> None:
    app = make_app(config(slos=[]))
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        pane = app.query_one(SloPane)
        text = str(pane.query_one(".pane-empty").render())
        assert "no SLOs configured — add them under contexts.prod.slos" in text
    app = make_app(config(providers={}, slos=[slo_cfg("a", "a")]).model_copy())
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        text = str(app.query_one(SloPane).query_one(".pane-empty").render())
        assert "no metrics provider configured" in text


async def test_hostile_names_are_not_markup() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        evil = status("[@click=app.quit]x[/] \x1b]52;c;ZXZpbA==\x07", SloState.OK, budget=0.5,
                      burns=[0.1] * 7)
        app.show_statuses([evil], provider="prom")
        await pilot.pause()
        (row,) = app.query_one(DataTable).ordered_rows
        name_cell = app.query_one(DataTable).get_row(row.key)[0]
        assert "\x1b" not in name_cell.plain and "[@click=app.quit]" in name_cell.plain
        assert app.is_running


async def test_polling_a_dead_prometheus_shows_each_slo_with_its_error() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await app.feed.refresh()
        await pilot.pause()
        health = app.feed.pollers["prom"].health
        assert health.state.value == "error" and health.error
        # the rows carry their own errors (no good value yet)
        rows = app.query_one(DataTable).ordered_rows
        assert len(rows) == 6


def test_layout_drops_columns_by_priority() -> None:
    wide = [c.key for c in layout_columns(160, WINDOWS)]
    assert wide[0] == "name" and "trend" in wide and "objective" in wide
    assert all(f"burn:{w}" in wide for w in WINDOWS)
    narrow = [c.key for c in layout_columns(78, WINDOWS)]
    assert narrow[0] == "name" and {"state", "budget", "burn:5m", "burn:1h"} <= set(narrow)
    assert "trend" not in narrow and "objective" not in narrow
    assert sum(c.width for c in layout_columns(78, WINDOWS)) <= 76
    tiny = layout_columns(40, WINDOWS)
    assert [c.key for c in tiny][:1] == ["name"] and "state" in [c.key for c in tiny]


@pytest.mark.parametrize("value,text", [(None, "—"), (0.04, "0.04"), (3.5, "3.50"), (14.4, "14.4"),
                                        (123.4, "123"), (float("nan"), "—"), (float("inf"), "∞")])
def test_fmt_burn(value: float | None, text: str) -> None:
    assert fmt_burn(value) == text


def test_small_formatters() -> None:
    assert fmt_remaining(3 * 3600 + 12 * 60 + 5) == "3h12m"
    assert fmt_remaining(2 * 86400 + 4 * 3600) == "2d4h"
    assert fmt_remaining(10) == "1m"
    assert gauge(0.5, 10) == "█████░░░░░" and gauge(-1, 4) == "░░░░" and gauge(None, 3) == "···"
    assert sparkline([0.0, 0.5, 1.0], 3) == "▁▅█"
    assert sparkline([0.5] * 5, 3) == "▅▅▅"  # flat: the middle of the scale
    assert sparkline([], 5) == ""
    s = canned()
    assert exhaustion_text(s[0], FROZEN) == "in 4h37m"
    assert exhaustion_text(s[5], FROZEN) == "exhausted"
    assert exhaustion_text(s[3], FROZEN) == "—"


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_overspent_budget_figure_is_never_cut(size: tuple[int, int]) -> None:
    # a 99.99 % SLO that burnt 3× its budget shows "-200.0%", not "-200.…" (7 cells did not fit
    # the 6 reserved for the figure); a budget overspent a thousandfold drops the decimal
    app = make_app()
    async with app.run_test(size=size) as pilot:
        app.show_statuses([
            status("checkout-availability", SloState.WARNING, budget=-2.0, sli=0.9997,
                   objective=0.9999, burns=[0.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0]),
            status("payments-availability", SloState.CRITICAL, budget=-998.99, sli=0.0,
                   burns=[1000.0] * 7)], provider="prom", fetched_at=FROZEN)
        await pilot.pause()
        table = app.query_one(DataTable)
        cells = [c.plain for c in table.get_row("checkout-availability")]
        assert any(c.strip().endswith("-200.0%") for c in cells), cells
        cells = [c.plain for c in table.get_row("payments-availability")]
        assert any(c.strip().endswith("-99899%") for c in cells), cells
        assert not any("…" in c for c in cells if "%" in c), cells


async def test_the_highlighted_slo_error_is_shown_verbatim_in_the_pane() -> None:
    async with fed_pane((160, 48)) as (app, pilot, pane):
        line = pane.query_one(".slo-cursor-error", Static)
        assert not line.display  # checkout-availability is healthy
        table = app.query_one(DataTable)
        table.move_cursor(row=[str(r.key.value) for r in table.ordered_rows].index("broken-query"))
        await pilot.pause()
        assert line.display
        assert str(line.render()) == ('PromQL error: invalid parameter "query": 1:17: parse error: '
                                      "unclosed left parenthesis")
        table.move_cursor(row=0)
        await pilot.pause()
        assert not line.display
