"""The real ``sre-cockpit`` in a pty against the simulator: ``F`` in the log pane lists the
columns (``ts``, ``level``, ``msg``, the fields seen in the simulator's logfmt and JSON lines,
``*``); unticking ``*`` leaves time, level and message in the structured rows; a new cockpit on
the same context shows the same columns for the same query (remembered in the data dir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pty_screen import PtyScreen
from test_logs_structured_pty import structured_rows
from war_room_helpers import log_simulator, open_log_pane

pytestmark = [pytest.mark.slow]

END, ENTER = b"\x1b[F", b"\r"
TITLE = "columns of structured rows"


def open_logs(config: Path) -> PtyScreen:
    """The cockpit on ``config``, its log pane focused with lines and maximised (``z``)."""
    term = open_log_pane(config)
    term.type(b"z")  # maximised: whole rows in sight
    term.pump(0.5)
    return term


def only_message_columns(term: PtyScreen) -> bool:
    rows = structured_rows(term)
    return len(rows) > 5 and not any("seq=" in rest or "app=" in rest for _, rest in rows)


def test_picked_columns_show_and_are_remembered_across_runs(tmp_path: Path) -> None:
    with log_simulator(tmp_path) as config:
        term = open_logs(config)
        try:
            term.type(b"F")
            term.wait_for(lambda t: TITLE in t.text, 15, "the field picker")
            term.wait_for(lambda t: all(name in t.text for name in
                                        ("X▌ ts", "X▌ level", "X▌ msg", "X▌ seq", "X▌ app")),
                          10, "the columns offered, ticked")
            term.type(END)
            term.wait_for(lambda t: "X▌ *  every other field" in t.text, 10, "the last: *")
            term.type(b" ")  # untick * (every other field)
            term.pump(0.3)
            term.type(ENTER)
            term.wait_for(lambda t: TITLE not in t.text, 10, "the picker closed")
            term.wait_for(only_message_columns, 15, "rows of time, level and message")
        finally:
            term.close()
        term = open_logs(config)
        try:
            term.type(b"s")
            term.wait_for(only_message_columns, 15, "the remembered columns")
        finally:
            term.close()
