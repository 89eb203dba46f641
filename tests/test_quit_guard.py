"""Every way out of the real ``sre-cockpit`` goes through one guard (issue 12 item 3).

With a note not yet delivered (PagerDuty answering 500), ``q``, ``ctrl+c`` (on the main screen,
in the ``:`` prompt, in the help, in the note editor, in the command palette), ``ctrl+q``, the
palette's "Quit", ``:q`` and ``:quit`` each ask before quitting; ``n`` stays, ``y`` quits with
status 0. ``ctrl+c`` did nothing and said nothing (in a prompt or on a dialog, the key never
reached the app) and the palette's "Quit" left at once. Without undelivered notes ``ctrl+c``
quits at once; with text selected in a prompt it copies the selection instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_helpers import set_fault
from war_room_helpers import focus_incident, sim_cockpit, write_note

pytestmark = [pytest.mark.slow]

GUARD = "not delivered to the incident API yet"
CTRL_C, CTRL_Q, CTRL_P, ESC = b"\x03", b"\x11", b"\x10", b"\x1b"


def ready(text: str) -> bool:
    return "triggered" in text and "budget left" in text and "● pd" in text.splitlines()[0]


def test_every_way_out_asks_while_a_note_is_undelivered(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path) as (app, sim):
        app.wait_for(ready, 40)
        focus_incident(app, "HighErrorRate", "pd")
        set_fault(sim.url, "pagerduty", "error500")
        write_note(app, "rolled back checkout to 2.3.0")
        app.wait_for("[pending]", 20)

        def asks(keys: bytes, *, opened: str | None = None, then: bytes = b"") -> None:
            """``keys`` bring up the guard; ``n`` stays, back where they were typed."""
            app.write(keys)
            text = app.wait_for(GUARD, 10)
            assert "1 note is not delivered" in text, keys
            app.write(b"n")  # stay
            # the guard came up over what was open, which stays (it may be repainted a frame
            # after the guard goes)
            app.wait_for(lambda t: GUARD not in t and (opened is None or opened in t), 10)
            assert app.proc.poll() is None, keys
            app.write(then)
            app.pump(0.5)

        asks(b"q")
        asks(CTRL_C)
        asks(CTRL_Q)
        app.write(b":abc")  # in the prompt
        app.wait_for(":abc", 10)
        asks(CTRL_C, opened=":abc", then=ESC)
        app.write(b"?")  # the help is open: ctrl+c answers there too
        app.wait_for("cockpit.help_quit", 10)
        asks(CTRL_C, opened="cockpit.help_quit", then=ESC)
        app.wait_for(lambda t: "cockpit.help_quit" not in t, 10)
        app.write(b"1n")  # the note editor (the draft is kept when quitting from it)
        app.wait_for("Send (ctrl+s)", 10)
        app.write(b"a draft")
        app.wait_for("a draft", 10)
        asks(CTRL_C, opened="a draft", then=ESC)
        app.wait_for(lambda t: "Send (ctrl+s)" not in t, 10)
        app.write(CTRL_P)  # the command palette
        app.wait_for("Search for commands", 10)
        asks(CTRL_C, then=ESC)
        app.write(CTRL_P)
        app.wait_for("Search for commands", 10)
        app.write(b"quit")
        app.wait_for("Quit the application", 10)
        asks(b"\r")  # the palette's own "Quit"
        asks(b":q\r")
        asks(b":quit\r")
        # y quits anyway, with status 0; the note stays in the journal for the next run
        app.write(CTRL_C)
        app.wait_for(GUARD, 10)
        app.write(b"y")
        assert app.wait_exit(10) == 0


def test_ctrl_c_quits_at_once_without_undelivered_notes_and_copies_a_selection(
        tmp_path: Path) -> None:
    with sim_cockpit(tmp_path) as (app, _sim):
        app.wait_for(ready, 40)
        # text selected in the ':' prompt: ctrl+c copies it (OSC 52), the cockpit stays
        app.write(b":theme daylight")
        app.wait_for(":theme daylight", 10)
        before = len(app.output)
        app.write(b"\x1b[1;2H")  # shift+home selects the line
        app.pump(0.5)
        app.write(CTRL_C)
        app.pump(1.0)
        assert b"\x1b]52;" in bytes(app.output[before:])
        assert app.proc.poll() is None and GUARD not in app.text()
        app.write(ESC)
        app.pump(0.5)
        app.write(CTRL_C)  # nothing undelivered: out at once
        assert app.wait_exit(10) == 0
