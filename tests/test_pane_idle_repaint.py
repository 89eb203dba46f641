"""Idle cockpit: health lines show no ticking age while data is fresh, repaint only on change;
the timeline table is not rebuilt when its rows are unchanged (benchmarks: idle bytes/s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from journal_helpers import incident
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from timeline_helpers import loaded_timeline, story_events

from sre_cockpit.core.models import HealthState, ProviderHealth
from sre_cockpit.ui.pane import HealthLine, Pane, coarse_age, theme_state_style

T0 = datetime(2026, 11, 26, 14, 0, 0, tzinfo=UTC)


def test_coarse_age_changes_at_most_every_ten_seconds() -> None:
    assert coarse_age(0) == "<10s" and coarse_age(9.9) == "<10s"
    assert coarse_age(10) == "10s" and coarse_age(19.9) == "10s" and coarse_age(59) == "50s"
    assert coarse_age(60) == "1m" and coarse_age(299) == "4m" and coarse_age(7200) == "2h"
    assert len({coarse_age(s) for s in range(0, 600)}) == 6 + 9  # <10s..50s, 1m..9m


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0

    def compose(self) -> ComposeResult:
        yield Pane(id="p")


async def test_fresh_health_shows_state_only_then_coarse_stale_age() -> None:
    app = Host()
    async with app.run_test(size=(80, 6)) as pilot:
        pane = app.query_one(Pane)
        line = pane.query_one(HealthLine)
        line.clock = lambda: app.now
        fresh = 10.0  # 2 x a 5 s refresh interval, as a feed stamps it
        pane.show_sources([ProviderHealth("alerts", HealthState.OK, last_ok_at=T0,
                                          fresh_for=fresh)])
        await pilot.pause()
        assert line.make_text().plain == "● alerts ok"
        assert line.next_change_in() == 10.0  # one wake-up when it turns stale, none before
        app.now = T0 + timedelta(seconds=9)
        assert line.tick() is False  # fresh: the same text, nothing repainted
        app.now = T0 + timedelta(seconds=23)
        assert line.tick() is True
        text: Text = line.make_text()
        assert text.plain == "▲ alerts stale 20s: no new answer since 14:00:00"
        stale = theme_state_style(app, HealthState.STALE)  # the theme's warning colour
        assert stale != theme_state_style(app, HealthState.OK)
        assert any(str(span.style) == stale for span in text.spans)
        assert line.next_change_in() == 7.0  # the next 10 s step, at 30 s
        app.now = T0 + timedelta(seconds=29)
        assert line.tick() is False  # same 10 s step
        app.now = T0 + timedelta(minutes=3, seconds=5)
        assert line.tick() is True and line.make_text().plain == "▲ alerts stale 3m: no new answer since 14:00:00"
        # a new good answer: fresh again, no age
        pane.show_sources([ProviderHealth("alerts", HealthState.OK, last_ok_at=app.now,
                                          fresh_for=fresh)])
        assert line.make_text().plain == "● alerts ok"


async def test_stream_health_with_its_own_mode_never_ages() -> None:
    app = Host()
    async with app.run_test(size=(80, 6)) as pilot:
        pane = app.query_one(Pane)
        line = pane.query_one(HealthLine)
        line.clock = lambda: app.now
        pane.show_sources([ProviderHealth("loki", HealthState.OK, last_ok_at=T0, mode="live",
                                          fresh_for=float("inf"))])
        await pilot.pause()
        app.now = T0 + timedelta(hours=2)  # a quiet tail: no line for two hours
        assert line.make_text().plain == "● loki live"
        assert line.next_change_in() is None  # nothing to wake up for
        pane.show_sources([ProviderHealth("loki", HealthState.STALE, mode="reconnecting",
                                          error="connection reset", fresh_for=float("inf"))])
        assert line.make_text().plain == "▲ loki stale (reconnecting): connection reset"


async def test_timeline_unchanged_rows_are_not_rebuilt(tmp_path: Path) -> None:
    async with loaded_timeline(tmp_path) as (app, pilot, pane):
        await pilot.pause()
        clears: list[int] = []
        original = pane.table.clear

        def counting_clear(columns: bool = False) -> object:
            clears.append(1)
            return original(columns)

        pane.table.clear = counting_clear  # type: ignore[method-assign]
        rows_before = pane.table.row_count
        cursor = pane.table.cursor_row
        # the polls an idle cockpit sees: same incidents, same events
        app.set_incidents([incident("P1"), incident("P2", service="payments")])
        await app.set_events(story_events())
        pane.render_events()
        await pilot.pause()
        assert clears == [] and pane.table.row_count == rows_before
        assert pane.table.cursor_row == cursor
        # a real change still rebuilds
        app.focus(None)
        await pilot.pause()
        assert clears and pane.table.row_count > rows_before


async def test_slo_poll_with_same_rows_updates_changed_cells_only() -> None:
    from test_slo_pane import FROZEN, canned, feed, make_app

    from sre_cockpit.ui.slos.view import SloPane

    app = make_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await feed(pilot)
        pane = app.query_one(SloPane)
        table = pane.query_one(DataTable)
        rows_before = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        clears: list[int] = []
        updates: list[tuple[object, object]] = []
        original_clear, original_update = table.clear, table.update_cell

        def counting_clear(columns: bool = False) -> object:
            clears.append(1)
            return original_clear(columns)

        def counting_update(row: Any, column: Any, value: Any, **kw: Any) -> None:
            updates.append((row, column))
            original_update(row, column, value, **kw)

        table.clear = counting_clear  # type: ignore[method-assign]
        table.update_cell = counting_update  # type: ignore[method-assign]
        await feed(pilot)  # the same answer again
        assert clears == [] and updates == []
        changed = canned()
        first = changed[0]
        changed[0] = type(first)(**{**{f: getattr(first, f) for f in first.__dataclass_fields__},
                                    "sli": 0.9991})
        app.show_statuses(changed, provider="prom", fetched_at=FROZEN - timedelta(seconds=12))
        await pilot.pause()
        assert clears == [] and updates == [("checkout-availability", "sli")]
        rows_after = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert len(rows_after) == len(rows_before) and rows_after[1:] == rows_before[1:]
