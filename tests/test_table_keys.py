"""Issue 12 item 12: ``home``/``end`` and ``j``/``k``/``g``/``G`` in every table and the logs.

Home/End did nothing in the Incidents table (Textual's DataTable gives them to the leftmost and
rightmost *column*) though the help said tables take them. Every table pane (incidents, SLOs,
timeline) now has ``j``/``k`` down/up, ``g``/``home`` first row, ``G``/``end`` last row, as k9s
and lnav users expect; the log view has the same keys. The timeline's kinds filter moved from
``k`` (now up, as everywhere) to ``K``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from war_room_helpers import sim_cockpit

from sre_cockpit.core.keyids import BINDING_SCOPES, binding_clashes
from sre_cockpit.ui.pane import PaneTable

CURSOR_BG = "2b4a6f"
"""war-room's ``block-cursor-background`` (the focused table's cursor row)."""
HOME, END = b"\x1b[H", b"\x1b[F"


def test_table_keys_have_ids_and_clash_with_nothing_in_their_scope() -> None:
    assert BINDING_SCOPES["PaneTable"] == {"table.down": "j", "table.up": "k",
                                           "table.first": "home,g", "table.last": "end,G"}
    assert BINDING_SCOPES["TimelinePane"]["timeline.kinds"] == "K"
    for scope in ("PaneTable", "LogView", "TimelinePane"):
        for binding_id, keys in BINDING_SCOPES[scope].items():
            assert binding_clashes({binding_id: keys}) == [], binding_id
    # k is up in a table, so the timeline's kinds key must not be k (the table would win)
    table_keys = {k for keys in BINDING_SCOPES["PaneTable"].values() for k in keys.split(",")}
    for scope in ("IncidentsPane", "SloPane", "TimelinePane", "Pane"):
        pane_keys = {k for keys in BINDING_SCOPES[scope].values() for k in keys.split(",")}
        assert not table_keys & pane_keys, scope


async def test_home_and_end_move_the_row_cursor_not_the_columns() -> None:
    from textual.app import App, ComposeResult

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield PaneTable(cursor_type="row")

    app = Host()
    async with app.run_test() as pilot:
        table = app.query_one(PaneTable)
        table.add_column("n")
        for n in range(30):
            table.add_row(str(n))
        table.focus()
        for key, row in (("end", 29), ("home", 0), ("G", 29), ("g", 0), ("j", 1), ("j", 2),
                         ("k", 1)):
            await pilot.press(key)
            assert table.cursor_row == row, key


def cursor_rows(app: object) -> list[int]:
    """Screen rows painted with the focused table cursor's background."""
    screen = app.screen  # type: ignore[attr-defined]
    return [y for y in range(screen.lines)
            if sum(1 for x in range(screen.columns) if screen.buffer[y][x].bg == CURSOR_BG) > 10]


def row_text(app: object, y: int) -> str:
    return app.screen.display[y]  # type: ignore[attr-defined, no-any-return]


@pytest.mark.slow
def test_the_keys_move_the_cursor_in_every_table_pane_and_the_logs(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, cols=80, rows=30, env={"COLORTERM": "truecolor"}) as (app, _s):
        app.wait_for(lambda text: "triggered" in text and "● pd" in text.splitlines()[0], 30)
        app.pump(1.0)
        for pane, first_text, last_text in (("1", None, None), ("3", "checkout-avail",
                                                                  "search-avail"),
                                            ("4", None, None)):
            app.write(pane.encode())
            app.pump(0.8)
            assert len(cursor_rows(app)) == 1, (pane, app.text())
            moves: dict[str, int] = {}
            for name, key in (("end", END), ("home", HOME), ("G", b"G"), ("g", b"g"),
                              ("j", b"j"), ("k", b"k")):
                app.write(key)
                app.pump(0.4)
                rows = cursor_rows(app)
                assert len(rows) == 1, (pane, name, app.text())
                moves[name] = rows[0]
            first = moves["g"]  # the first row: just under the header
            assert moves["home"] == first and "─" not in row_text(app, first - 1), (pane, moves)
            assert moves["end"] == moves["G"] > first + 2, (pane, moves)  # the last row
            assert moves["j"] == first + 1 and moves["k"] == first, (pane, moves)
            if first_text is not None and last_text is not None:
                assert first_text in row_text(app, moves["g"])
                assert last_text in row_text(app, moves["G"])
        # the timeline's kinds filter is K now (k moved the cursor above)
        app.write(b"K")
        # (the source line names "prom deploys": the rows are what the filter changes)
        app.wait_for(lambda text: "trigger" in text and "⬆ deploy" not in text
                     and "kinds: " in text, 10)
        # the log view: g the oldest line, j/k down/up, G back to the newest (live again)
        app.write(b"2")
        app.pump(0.8)
        app.write(b"g")
        app.wait_for(lambda text: "paused" in text and len(cursor_rows(app)) == 1, 10)
        oldest = cursor_rows(app)[0]
        assert row_text(app, oldest - 1).startswith("│● loki")  # the first line under the source
        app.write(b"j")
        app.wait_for(lambda text: cursor_rows(app) == [oldest + 1], 10)
        app.write(b"k")
        app.wait_for(lambda text: cursor_rows(app) == [oldest], 10)
        app.write(HOME)
        app.wait_for(lambda text: cursor_rows(app) == [oldest], 10)
        app.write(b"G")
        app.wait_for(lambda text: "paused" not in text and cursor_rows(app) == [], 10)
        app.write(b"k")  # k pauses on the newest line, as up does
        app.wait_for(lambda text: "paused" in text and len(cursor_rows(app)) == 1, 10)
        app.write(END)
        app.wait_for(lambda text: "paused" not in text and cursor_rows(app) == [], 10)
