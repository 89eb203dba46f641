"""Incidents columns by importance, read off the real demo in tmux (issue 12, item 10).

At 80 and 120 columns the title got 9–16 characters while the id column took 12
(``921949919…  Checkout…``). This runs ``sre-cockpit demo`` at 80×24 and 120×40, reads the
incidents table's header and rows, and checks that the title has the room, ids are cut to a
prefix that still tells them apart, and the detail line under the table gives the whole id.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from tmux_helpers import TmuxPane

pytestmark = [pytest.mark.slow]

WHOLE_ID = re.compile(r"\b[0-9a-f]{16}\b")
"""An Alertmanager fingerprint, whole."""
ROW = re.compile(r"^│  (\S+)\s+(critical|high|warning|info|unknown)\s")


def columns(header: str) -> dict[str, tuple[int, int]]:
    """Column name → (start, end) in the pane's line, from the header row."""
    names = [(m.start(), m.group().rstrip("…▲▼")) for m in re.finditer(r"[a-z]+[…▲▼]?", header)]
    spans = {}
    for n, (start, name) in enumerate(names):
        end = names[n + 1][0] if n + 1 < len(names) else len(header)
        spans[name] = (start, end)
    return spans


def incidents_lines(screen: str) -> list[str]:
    """The incidents pane's lines (its left half when other panes stand beside it)."""
    lines = screen.splitlines()
    top = next(n for n, line in enumerate(lines) if "─ Incidents " in line)
    bottom = next(n for n in range(top + 1, len(lines)) if lines[n].startswith("╰"))
    width = lines[top].index("╮") + 1
    return [line[:width] for line in lines[top:bottom + 1]]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_the_title_gets_the_room_in_the_demo(tmp_path: Path, size: tuple[int, int]) -> None:
    cols, rows = size
    demo = shlex.join(["env", f"SRE_COCKPIT_DATA_DIR={tmp_path / 'data'}", sys.executable,
                       "-m", "sre_cockpit", "demo"])
    with TmuxPane.start(demo, cols=cols, rows=rows) as pane:
        screen = pane.wait_for(
            lambda s: "─ Incidents " in s and "● pd ok" in s and "● alerts ok" in s
            and sum(bool(ROW.match(line)) for line in s.splitlines()) >= 6, timeout=60)
        pane.send("d")  # describe the highlighted (first) row: the whole id at any width
        described = pane.wait_for(lambda s: WHOLE_ID.search(s) is not None, timeout=15)
    lines = incidents_lines(screen)
    header = next(line for line in lines if line.startswith("│id "))
    spans = columns(header)
    id_width = spans["sev"][0] - spans["id"][0]  # the marker, the id and a space
    title_width = spans["title"][1] - spans["title"][0]
    assert id_width <= 10, header  # was 13: a 16-character fingerprint cut at 9
    assert title_width >= 24, header  # was 14 at 80 columns and 10 at 120
    assert title_width >= 2 * id_width, header
    table = [line for line in lines if ROW.match(line)]
    ids = [ROW.match(line).group(1) for line in table]  # type: ignore[union-attr]
    assert len(set(ids)) == len(ids) and all(len(i.rstrip("…")) >= 6 for i in ids), ids
    titles = {line[spans["title"][0]:spans["title"][1]].rstrip() for line in table}
    assert any(t.startswith("checkout is answering") for t in titles), titles
    assert all(len(t) >= 20 for t in titles), titles  # every title reads past its first word
    # the first row is an alert, its fingerprint cut; the line under the table gives its
    # whole title, and describe its whole id
    first = ids[0]
    assert first.endswith("…") and len(first) == 7, ids
    assert lines[-2].startswith("│checkout is answering 3.8% of requests with 5xx"), lines[-2]
    whole = WHOLE_ID.search(described)
    assert whole and whole.group().startswith(first.rstrip("…")), described
