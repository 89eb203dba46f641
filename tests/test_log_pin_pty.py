"""``p`` in the log view says "pinned" only once the pin is stored, and says why when the disk
refuses it (issue 12, sweep bug).

The log view toasted "line pinned to the timeline" as it posted the request, before the notes
store had written anything, so a full disk showed both that and the error. Here the demo runs
in a pty: ``p`` with an incident focused says ``pinned to <incident>`` when the store already
holds the pin; with the data directory on a full tmpfs it says the failure and never "pinned".
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from notes_helpers import Cockpit, stored_notes
from test_notes_disk_full import MOUNT, can_mount_tmpfs, fill
from test_notes_identity import pause_logs

pytestmark = [pytest.mark.slow]

DEMO = (sys.executable, "-m", "sre_cockpit", "demo")


def demo_ready(text: str) -> bool:
    return "● pd ok" in text and "triggered" in text and "● loki live" in text


def focus_first_incident(app: Cockpit) -> str:
    """Focus the first incident; its key as the cockpit names it."""
    app.write(b"1g\r")
    text = app.wait_for(lambda t: re.search(r"incident (\S+:\S+)", t) is not None, 15)
    match = re.search(r"incident (\S+:\S+)", text)
    assert match is not None
    return match.group(1)


def test_pin_is_said_once_stored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = Cockpit(None, data, command=DEMO)
    try:
        app.wait_for(demo_ready, 60)
        key = focus_first_incident(app)
        pause_logs(app)  # the log pane, paused on its newest line: the line p pins
        app.write(b"p")
        app.wait_for(f"pinned to {key}", 15)
        pins = [text for text, _p, _s in stored_notes(data / "notes.db")]
        assert len(pins) == 1 and pins[0].strip(), pins  # written before it was said
        assert b"line pinned to the timeline" not in app.output  # the early claim is gone
    finally:
        app.stop()


def test_a_refused_pin_says_why_and_never_pinned(tmp_path: Path) -> None:
    data = tmp_path / "data"
    if not can_mount_tmpfs(data):
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare -Urm)")
    app = Cockpit(None, data, command=DEMO,
                  prefix=["unshare", "-Urm", "sh", "-c", MOUNT, str(data)])
    try:
        app.wait_for(demo_ready, 60)
        focus_first_incident(app)
        inside = Path(f"/proc/{app.proc.pid}/root") / str(data).lstrip("/")
        fill(inside)
        pause_logs(app)  # the log pane, paused on its newest line: the line p pins
        app.write(b"p")
        screen = app.wait_for(lambda t: "line not pinned:" in t and "disk full" in t, 15)
        assert "pinned to" not in screen, screen
        assert b"pinned to" not in app.output  # never claimed, not even for a frame
    finally:
        app.stop()
