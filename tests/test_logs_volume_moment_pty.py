"""The real ``sre-cockpit`` in a pty against the simulator: in the log volume strip (``v``)
``left``/``right`` move the selected bar (its time on the axis row, beside the totals), ``enter`` moves
the cockpit's incident clock there — the moment banner, the log pane's ``◆`` status and time
range, follow off — and ``.`` returns to live; a mouse click on a bar does the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markup_helpers import mouse_click
from pty_screen import PtyScreen
from test_logs_border_pty import logs_border
from test_logs_health_pty import pane_text
from war_room_helpers import log_sim_cockpit

pytestmark = [pytest.mark.slow]

LEFT, ENTER = b"\x1b[D", b"\r"
CAPTION = re.compile(r"▸ (\d\d:\d\d:\d\d) UTC")
BARS = re.compile(r"[▁▂▃▄▅▆▇█]{10,}")


def caption(term: PtyScreen) -> str:
    found = CAPTION.search(pane_text(term, "Logs"))
    return found.group(1) if found else ""


def banner(term: PtyScreen) -> str:
    return next((line for line in term.lines if "returns to live" in line), "")


def test_a_bar_chosen_by_keys_or_click_moves_the_incident_clock(tmp_path: Path) -> None:
    with log_sim_cockpit(tmp_path) as term:
        term.type(b"v")
        term.wait_for(lambda t: bool(BARS.search(pane_text(t, "Logs"))), 30, "the strip")
        term.type(LEFT)
        term.wait_for(lambda t: bool(caption(t)), 10, "the newest bar selected")
        newest = caption(term)
        for _ in range(20):
            term.type(LEFT)
            term.pump(0.05)
        term.wait_for(lambda t: caption(t) and caption(t) < newest, 10, "an earlier bar")
        chosen = ""
        while chosen != caption(term):  # every left arrow handled: the selection settles
            chosen = caption(term)
            term.pump(1.0)
        term.type(ENTER)
        term.wait_for(lambda t: f"viewing {chosen} UTC (log volume)" in banner(t), 15,
                      "the moment banner")
        term.wait_for(lambda t: f"◆ moment {chosen} UTC" in pane_text(t, "Logs"), 15,
                      "the log pane at the moment")
        term.wait_for(lambda t: f"◆ {chosen} UTC" in logs_border(t)[1], 15, "its time range")
        term.type(b".")
        term.wait_for(lambda t: not banner(t) and "live" in logs_border(t)[1], 15, "live again")
        term.pump(0.5)
        row = next(i for i, line in enumerate(term.lines) if BARS.search(line)
                   and "╭─ Logs" not in line)
        column = BARS.search(term.lines[row]).start() + 10  # type: ignore[union-attr]
        term.type(mouse_click(column, row))
        term.wait_for(lambda t: "(log volume) — . returns to live" in banner(t), 15,
                      "the clicked bar's moment")
