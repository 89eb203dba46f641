"""``/`` search in the log pane (highlight, ``n``/``N``, the match count, invalid regexes, esc)
and ``f`` filter, through a pilot on a LogFeed against a Loki stub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from logs_helpers import running_pane, wait_for
from loki_helpers import LokiStub, loki_stub, make_runtime
from textual.widgets import Input

from sre_cockpit.core.loglines import LineFilter, make_row
from sre_cockpit.core.models import LogLine
from sre_cockpit.ui.logs.search import SearchState, row_index


@pytest.fixture
def stub() -> Iterator[LokiStub]:
    with loki_stub() as running:
        yield running


def test_search_state_tracks_appends_evictions_and_directions() -> None:
    rows = [make_row(i, LogLine(ts_ns=i, line=f"seq={i} {'boom' if i % 3 == 0 else 'ok'}",
                                labels={}), 4096) for i in range(10)]
    state = SearchState()
    state.set(LineFilter.parse("boom"), rows[:6])
    assert state.ids == [0, 3]
    state.extend(rows[6:])
    assert state.ids == [0, 3, 6, 9]
    state.drop_before(2)
    assert state.ids == [3, 6, 9]
    assert state.next_id(None, 1) == 9 and state.next_id(None, -1) == 9
    assert state.next_id(3, 1) == 6 and state.next_id(6, -1) == 3
    assert state.next_id(9, 1) is None and state.next_id(3, -1) is None
    assert state.ordinal(6) == 2 and state.ordinal(5) == 0
    assert row_index(rows, 6) == 6
    state.set(LineFilter.parse("!boom"), rows)
    assert state.ids == [1, 2, 4, 5, 7, 8] and state.spans("seq=1 ok") == []
    state.set(None, rows)
    assert state.ids == [] and not state.active


async def test_search_highlights_counts_jumps_and_esc_clears(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url), (100, 30)) as (_app, pilot, pane):
        for i in range(40):
            stub.push(f"seq={i} level={'error' if i % 10 == 5 else 'info'} ok")
        await wait_for(pilot, lambda: len(pane.view.ring) == 40)
        await pilot.press("slash")
        editor = pane.query_one("#log-search", Input)
        assert editor.has_focus
        await pilot.press(*"level=error")
        await wait_for(pilot, lambda: pane.search_text == "level=error")  # debounced, no enter
        assert len(pane.view.view) == 40  # a search hides nothing
        assert "/level=error: 4 matches (n/N)" in pane.status_line.content.plain
        await pilot.press("enter")
        assert pane.view.has_focus and not pane.view.follow
        row = pane.view.current_row()
        assert row is not None and row.text.startswith("seq=35 ")
        assert "4/4 matches" in pane.status_line.content.plain
        await pilot.press("N", "N")
        row = pane.view.current_row()
        assert row is not None and row.text.startswith("seq=15 ")
        assert "2/4 matches" in pane.status_line.content.plain
        await pilot.press("n")
        row = pane.view.current_row()
        assert row is not None and row.text.startswith("seq=25 ")
        strip = pane.view._row_strip(row, selected=False)  # the match is drawn reversed
        styled = [(seg.text, bool(seg.style and seg.style.reverse)) for seg in strip]
        assert ("level=error", True) in styled
        stub.push("seq=40 level=error ok")  # a new match is counted as it arrives
        await wait_for(pilot, lambda: "3/5 matches" in pane.status_line.content.plain)
        pane.set_search("/[broken/")  # an invalid regex is said; the old search stays
        assert "invalid regular expression" in pane.status_line.content.plain
        assert len(pane.view.searcher.ids) == 5
        await pilot.press("escape")
        assert pane.search_text == "" and not pane.view.searcher.active
        assert "matches" not in pane.status_line.content.plain


async def test_inverted_search_visits_the_other_lines(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url), (100, 30)) as (_app, pilot, pane):
        for i in range(10):
            stub.push(f"seq={i} level={'error' if i == 7 else 'info'} ok")
        await wait_for(pilot, lambda: len(pane.view.ring) == 10)
        assert pane.set_search("!level=info")
        assert pane.view.searcher.ids and len(pane.view.searcher.ids) == 1
        pane.view.action_search_next(1)
        row = pane.view.current_row()
        assert row is not None and row.text.startswith("seq=7 ")
