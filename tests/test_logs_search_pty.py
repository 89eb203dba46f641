"""The real ``sre-cockpit`` in a pty against the simulator: ``/`` in the log pane searches as
it is typed (the matches drawn reversed, the count in the status line), ``enter`` and ``n``/``N``
jump between matching lines, ``esc`` clears; ``f`` filters with the pane's counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pty_screen import PtyScreen
from test_logs_health_pty import cockpit_on_simulator, pane_text

pytestmark = [pytest.mark.slow]


def reversed_cells(term: PtyScreen, needle: str) -> list[bool]:
    """For every occurrence of ``needle`` in a log line on screen (not in the search editor):
    whether its cells are drawn reversed."""
    found = []
    for y, line in enumerate(term.lines):
        if "seq=" not in line:
            continue
        for match in re.finditer(re.escape(needle), line):
            row = term.screen.buffer[y]
            found.append(all(row[x].reverse for x in range(match.start(), match.end())))
    return found


def matches_in_status(term: PtyScreen) -> tuple[int, int] | None:
    """(ordinal, total) from ``/…: 3/12 matches`` (ordinal 0 for ``12 matches``)."""
    text = pane_text(term, "Logs")
    found = re.search(r"/level=warn: (?:(\d+)/)?(\d+) match", text)
    if found is None:
        return None
    return int(found.group(1) or 0), int(found.group(2))


def test_search_highlights_jumps_and_clears_and_f_filters(tmp_path: Path) -> None:
    with cockpit_on_simulator(tmp_path) as (_sim, term):
        term.wait_for(lambda t: "level=warn" in pane_text(t, "Logs"), 40, "warn lines")
        term.type(b"2")
        term.pump(0.5)
        term.type(b"/level=warn")  # no enter: applied as typed
        term.wait_for(lambda t: matches_in_status(t) is not None, 10, "the match count")
        term.wait_for(lambda t: bool(reversed_cells(t, "level=warn")), 20, "a warn line shown")
        highlighted = reversed_cells(term, "level=warn")
        assert all(highlighted), term.text
        assert not any(reversed_cells(term, "level=info")), term.text
        term.type(b"\r")  # enter: paused on the newest match
        term.wait_for(lambda t: "‖ paused" in pane_text(t, "Logs"), 10, "paused")
        term.wait_for(lambda t: (matches_in_status(t) or (0, 0))[0] > 0, 10, "the ordinal")
        at, total = matches_in_status(term) or (0, 0)
        assert at == total, pane_text(term, "Logs")
        if total > 1:
            term.type(b"N")
            term.wait_for(lambda t: (matches_in_status(t) or (0, 0))[0] == at - 1, 10,
                          "the previous match")
            term.type(b"n")
            term.wait_for(lambda t: (matches_in_status(t) or (0, 0))[0] == at, 10,
                          "the next match")
        term.type(b"\x1b")  # esc: the search goes
        term.wait_for(lambda t: "/level=warn:" not in pane_text(t, "Logs"), 10, "no search")
        assert not any(reversed_cells(term, "level=warn")), term.text
        term.type(b"f")  # the filter: hides the other lines, with counts
        term.pump(0.5)
        term.type(b"level=warn\r")
        term.wait_for(lambda t: re.search(r"/level=warn — \d+ of \d+ lines shown, \d+ hidden",
                                          pane_text(t, "Logs")) is not None, 10,
                      "the filter bar")
        term.pump(0.5)
        rows = [r for r in pane_text(term, "Logs").splitlines() if "seq=" in r]
        assert rows and all("level=warn" in r for r in rows), pane_text(term, "Logs")
