"""The real ``sre-cockpit`` in a pty against the simulator (whose Loki answers the label APIs):
``b`` in the log pane opens the label browser; choosing ``app ▸`` and ``checkout`` adds the
matcher, the query switches (the border and the lines say so); ``b`` again removes it; a line
filter typed in the browser is added to the query."""

from __future__ import annotations

from pathlib import Path

import pytest
from pty_screen import PtyScreen
from test_logs_border_pty import logs_border
from test_logs_health_pty import pane_text
from war_room_helpers import log_sim_cockpit

pytestmark = [pytest.mark.slow]

HOME, DOWN, ENTER, TAB = b"\x1b[H", b"\x1b[B", b"\r", b"\t"


def log_lines(term: PtyScreen) -> list[str]:
    return [r for r in pane_text(term, "Logs").splitlines() if "seq" in r]


def open_browser(term: PtyScreen) -> None:
    term.type(b"b")
    term.wait_for(lambda t: "╭─ Labels" in t.text and "app ▸" in t.text, 20, "the browser")


def keys(term: PtyScreen, *sequence: bytes) -> None:
    for key in sequence:
        term.type(key)
        term.pump(0.4)


def test_label_browser_shapes_the_query(tmp_path: Path) -> None:
    with log_sim_cockpit(tmp_path) as term:
        open_browser(term)
        assert '− namespace="shop"' in term.text
        keys(term, HOME, DOWN, ENTER)  # the labels follow the query's one matcher: app ▸
        term.wait_for(lambda t: '+ app="checkout"' in t.text, 20, "the values of app")
        keys(term, HOME, ENTER)
        term.wait_for(lambda t: '{namespace="shop", app="checkout"}' in logs_border(t)[0], 30,
                      "the query with the new matcher")
        term.wait_for(lambda t: bool(log_lines(t)) and all("app=checkout" in r
                                                          for r in log_lines(t)), 30,
                      "only checkout lines")
        open_browser(term)
        assert '− app="checkout"' in term.text
        keys(term, HOME, DOWN, ENTER)  # − app="checkout"
        term.wait_for(lambda t: '{namespace="shop"} ' in logs_border(t)[0] + " "
                      and "app=" not in logs_border(t)[0], 30, "the matcher removed")
        open_browser(term)
        keys(term, TAB)
        term.type(b"order placed")
        term.pump(0.4)
        keys(term, ENTER)
        term.wait_for(lambda t: '{namespace="shop"} |= "order placed"' in logs_border(t)[0], 30,
                      "the line filter added")
        # "order placed" is past the pane's edge: its lines are checkout's info lines
        term.wait_for(lambda t: bool(log_lines(t)) and all(
            "level=info" in r and "app=checkout" in r for r in log_lines(t)), 30,
            "only the filtered lines")
