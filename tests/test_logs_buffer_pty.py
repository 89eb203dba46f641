"""The real ``sre-cockpit`` in a pty against the simulator: the log pane's older lines, kept in
compressed blocks, come back in order when the operator scrolls to the oldest line (``g``) and
pages down through them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pty_screen import PtyScreen
from test_logs_health_pty import cockpit_on_simulator, pane_text

from sre_cockpit.core.logring import BLOCK

pytestmark = [pytest.mark.slow]


def seqs(term: PtyScreen) -> list[int]:
    """The ``seq`` (logfmt or JSON) of every log line in the Logs pane, top to bottom."""
    return [int(m.group(1)) for m in re.finditer(r"\bseq\"?[=:](\d+)", pane_text(term, "Logs"))]


def buffered(term: PtyScreen) -> int:
    found = re.search(r"buffered ([\d,]+)", pane_text(term, "Logs"))
    return int(found.group(1).replace(",", "")) if found else 0


def test_the_oldest_lines_scroll_back_in_order(tmp_path: Path) -> None:
    with cockpit_on_simulator(tmp_path) as (_sim, term):
        term.wait_for(lambda t: buffered(t) > 2 * BLOCK and seqs(t), 40, "the backfill")
        newest = max(seqs(term))
        term.type(b"2")
        term.pump(0.5)
        term.type(b"g")  # the oldest buffered line
        term.wait_for(lambda t: "‖ paused" in pane_text(t, "Logs") and seqs(t)
                      and max(seqs(t)) < newest - BLOCK, 10, "the oldest lines")
        top = seqs(term)
        assert top == list(range(top[0], top[0] + len(top))), pane_text(term, "Logs")
        first = top[0]
        for _ in range(6):  # page through the sealed rows: still consecutive
            term.type(b"\x1b[6~")
            term.pump(0.4)
            top = seqs(term)
            assert top == list(range(top[0], top[0] + len(top))), pane_text(term, "Logs")
        assert top[0] > first + 2 * len(top), pane_text(term, "Logs")
        term.type(b"G")  # back to the newest
        term.wait_for(lambda t: "‖ paused" not in pane_text(t, "Logs") and seqs(t)
                      and max(seqs(t)) >= newest, 10, "following again")
