"""The real ``sre-cockpit`` in a pty against the simulator: queries run from the LogQL editor
(``l``) are remembered per context across runs; in a new cockpit ``up`` in the editor brings
them back, newest first, and ``enter`` streams the one recalled."""

from __future__ import annotations

from pathlib import Path

import pytest
from pty_screen import PtyScreen
from test_logs_border_pty import logs_border
from test_logs_health_pty import pane_text
from war_room_helpers import log_simulator, open_log_pane

pytestmark = [pytest.mark.slow]

UP, ENTER, CTRL_U = b"\x1b[A", b"\r", b"\x15"
CHECKOUT = '{namespace="shop", app="checkout"}'
SEARCH = '{namespace="shop", app="search"}'


def run_query(term: PtyScreen, query: str) -> None:
    term.type(b"l")
    term.pump(0.5)
    term.type(CTRL_U)  # alone: an Input's ctrl+u runs after the keys of the same read
    term.pump(0.5)
    term.type(query.encode())
    term.pump(0.5)
    term.type(ENTER)
    term.wait_for(lambda t: query in logs_border(t)[0], 30, f"the query {query}")


def editor_line(term: PtyScreen) -> str:
    """The LogQL editor's row in the log pane (the one holding a query selector)."""
    rows = [r for r in pane_text(term, "Logs").splitlines() if "{namespace=" in r]
    return rows[-1] if rows else ""


def test_history_survives_a_restart_and_up_recalls_it(tmp_path: Path) -> None:
    with log_simulator(tmp_path) as config:
        term = open_log_pane(config)
        try:
            run_query(term, CHECKOUT)
            run_query(term, SEARCH)
        finally:
            term.close()
        term = open_log_pane(config)  # a new run of the same context
        try:
            assert '{namespace="shop"}' in logs_border(term)[0]
            term.type(b"l")
            term.wait_for(lambda t: "↑↓ history" in t.text or '{namespace="shop"}' in
                          editor_line(t), 10, "the editor")
            term.type(UP)
            term.wait_for(lambda t: SEARCH in editor_line(t), 10, "the newest query recalled")
            term.type(UP)
            term.wait_for(lambda t: CHECKOUT in editor_line(t), 10, "the older query")
            term.type(ENTER)
            term.wait_for(lambda t: CHECKOUT in logs_border(t)[0], 30, "the recalled query")
            term.wait_for(lambda t: any("app=checkout" in r for r in
                                        pane_text(t, "Logs").splitlines()), 30,
                          "checkout's lines")
        finally:
            term.close()
