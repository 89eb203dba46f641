"""The ``:`` command line through the real ``sre-cockpit`` on a pty (issue 12 item 11).

- ``tab`` puts the completion in the line, so what the line shows is what enter runs: ``:th``
  and tab used to show ``:theme`` while enter ran ``:th`` ("unknown command").
- A failed command closes the line and leaves its reason where the line was: the next ``:``
  starts empty (it used to give ``:ctx:ctx prod``), the pane's keys work at once, and up
  recalls the failed line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from war_room_helpers import sim_cockpit

pytestmark = [pytest.mark.slow]

PLACEHOLDER = "ctx NAME · theme NAME · export · help · q"
"""What an empty ``:`` line shows."""
DAYLIGHT_BACKGROUND = "f7f7f5"
"""daylight's ``background`` (behind the panes' borders)."""


def bottom(text: str, rows: int = 3) -> str:
    """The last rows of the screen (the command line, then the footer)."""
    return "\n".join(text.splitlines()[-rows:])


def ready(text: str) -> bool:
    return "triggered" in text and "budget left" in text and "● pd" in text.splitlines()[0]


def test_tab_completes_what_enter_runs(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, env={"COLORTERM": "truecolor"}) as (app, _sim):
        app.wait_for(ready, 40)
        app.write(b":th\t")  # one read: the completion is there before the next key
        app.wait_for(lambda t: ":theme" in bottom(t) and PLACEHOLDER not in t, 10)
        app.write(b"neon\r")  # ":theme neon" is what runs: its error, not ":th"'s
        text = app.wait_for("unknown theme 'neon'", 10)
        assert "unknown command" not in text
        # the argument completes too: a theme name
        app.write(b":th\tday\t")
        app.wait_for(lambda t: ":theme daylight" in bottom(t), 10)
        app.write(b"\r")
        app.wait_for(lambda _t: str(app.screen.buffer[1][0].bg) == DAYLIGHT_BACKGROUND, 10)
        # tab with nothing to complete leaves the line (and the focus) alone
        app.write(b":zzz\t")
        app.wait_for(lambda t: ":zzz" in bottom(t), 10)
        app.write(b"\r")
        app.wait_for("unknown command :zzz", 10)


def test_a_failed_command_closes_the_line_and_the_next_colon_starts_empty(
        tmp_path: Path) -> None:
    with sim_cockpit(tmp_path) as (app, _sim):
        app.wait_for(ready, 40)
        app.write(b"1:ctx prod\r")
        text = app.wait_for("unknown context 'prod'", 10)
        # closed: no input line, the footer is the incidents pane's again (its keys work)
        assert ":ctx prod" not in text
        app.wait_for(lambda t: "a Ack" in t.splitlines()[-1], 10)
        # a prefix of a command gets a hint
        app.write(b":th\r")
        app.wait_for("unknown command :th (did you mean 'theme'? tab completes)", 10)
        # the next ':' starts empty (not ':th:'), the reason is gone
        app.write(b":")
        text = app.wait_for(PLACEHOLDER, 10)
        assert "unknown command" not in text and ":th" not in bottom(text)
        app.write(b"\x1b[A")  # up: the failed line, to edit
        app.wait_for(lambda t: ":th" in bottom(t) and PLACEHOLDER not in t, 10)
        app.write(b"\x15help\r")  # ctrl+u clears, then a command that works
        app.wait_for(lambda t: "cockpit.command" in t, 10)  # the help lists the bindings
        app.write(b"\x1b")
        app.wait_for(lambda t: "cockpit.command" not in t, 10)
        # the pane's keys work after the error (the focus came back to the table): enter
        # focuses the first incident, and the SLO pane follows it
        app.write(b"g\r")
        app.wait_for("focus: checkout", 10)
