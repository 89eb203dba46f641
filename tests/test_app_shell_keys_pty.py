"""The real cockpit in a pty: a command typed in ONE write to the terminal (as ``tmux send-keys``
or a paste delivers it) is run whole, whether it arrives after start-up or while the cockpit is
still reading its config (before the panes attach)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyte
import pytest
from test_pty_hostile import run_in_pty

pytestmark = [pytest.mark.slow]

CONFIG = """\
default_context: prod
contexts:
  prod: {}
  staging:
    read_only: true
"""


def _run(tmp_path: Path, at: float, after: bytes) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    path.chmod(0o600)
    screen = pyte.Screen(120, 40)
    out, status = run_in_pty([sys.executable, "-m", "sre_cockpit", "--config", str(path)],
                             at + 6.0, cols=120, rows=40, emulate=screen,
                             keys=[(at, b":ctx staging\r")], keys_after=after)
    assert status is None, f"the cockpit exited ({status}): {out[-2000:]!r}"
    return "\n".join(screen.display)


# 0.0 after the first frame (its header shows "? help"): the cockpit is still reading its config
# and attaching the panes (typed before the first frame the keys would meet a terminal still in
# cooked mode, where the tty itself turns \r into \n).
@pytest.mark.parametrize("at", [0.0, 1.5], ids=["first-frame", "after-start"])
def test_a_command_typed_in_one_write_runs_whole(tmp_path: Path, at: float) -> None:
    display = _run(tmp_path, at, b"help")
    header = display.splitlines()[0]
    assert "staging" in header, display
    assert "PRODUCTION" not in header
    assert "unknown command" not in display
