"""The cockpit draws at the terminal's real size, whatever ``COLUMNS``/``LINES`` say.

Textual sizes its screen with ``shutil.get_terminal_size``, which prefers exported
``COLUMNS``/``LINES`` to the terminal. With ``COLUMNS=80 LINES=24`` exported (a wrapper script,
a CI runner) in a 120×40 tmux pane, the cockpit drew 80×24 beside the header's stale
``starting…`` and never followed a resize. Here it runs in tmux with those variables exported,
and the screen is read.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tmux_helpers import TmuxPane


def frame(screen: str) -> tuple[int, int]:
    """(width of the widest pane row, rows of the screen holding pane borders)."""
    rows = [row for row in screen.splitlines() if row.startswith(("╭", "│", "╰"))]
    return max((len(row) for row in rows), default=0), len(rows)


def test_exported_columns_and_lines_do_not_size_the_cockpit(tmp_path: Path) -> None:
    demo = shlex.join(["env", "COLUMNS=80", "LINES=24", f"SRE_COCKPIT_DATA_DIR={tmp_path}",
                       sys.executable, "-m", "sre_cockpit", "demo"])
    with TmuxPane.start(demo, cols=120, rows=40) as pane:
        screen = pane.wait_for(lambda s: "╭─ Incidents" in s and "budget left" in s, timeout=40)
        width, height = frame(screen)
        assert width == 120, screen
        assert height == 38, screen  # header and footer besides
        assert "starting…" not in screen  # the pre-frame header is covered, cell for cell
        pane._cmd("resize-window", "-t", "main", "-x", "100", "-y", "30")
        screen = pane.wait_for(lambda s: frame(s) == (100, 28), timeout=20)
        assert "╭─ Incidents" in screen
