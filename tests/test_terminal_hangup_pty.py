"""The cockpit ends when its terminal goes away (issue 12, sweep bug).

When the pty master was closed (an SSH link dropped, a test killed, a terminal emulator gone)
the cockpit kept running at ~34 % CPU and ignored SIGTERM: Textual's input thread spun on
end-of-file, its output thread died on ``EIO``, and the event loop then blocked on the full
output queue, so the SIGTERM handler it runs never ran. Closing the master sends no SIGHUP when
the pty is not the controlling terminal. Here ``sre-cockpit demo`` runs in a pty with a note
being typed; the master is closed (or SIGTERM sent) and the process must end within seconds,
the draft saved as on SIGHUP.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from notes_helpers import Cockpit, editor_open

from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.signals import watch_hangup

pytestmark = [pytest.mark.slow]

TYPED = "typed just before the terminal went away"
DEMO = (sys.executable, "-m", "sre_cockpit", "demo")


def demo_with_a_draft(data: Path) -> Cockpit:
    """The demo in a pty, the note editor open on an incident with :data:`TYPED` in it."""
    app = Cockpit(None, data, cols=120, rows=40, command=DEMO)
    app.wait_for(lambda s: "● pd ok" in s and "triggered" in s, timeout=60)
    app.write(b"n")
    app.wait_for(editor_open)
    app.write(TYPED.encode())
    app.wait_for(TYPED, timeout=10)
    return app


def ended_within(proc: psutil.Process, seconds: float) -> int | None:
    """The exit status once ``proc`` ended within ``seconds`` (None: still running)."""
    try:
        return proc.wait(seconds)
    except psutil.TimeoutExpired:
        return None


def test_closing_the_terminal_ends_the_cockpit_and_saves_the_draft(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = demo_with_a_draft(data)
    try:
        os.close(app.master)  # the terminal goes away; no signal is sent to the cockpit
        started = time.monotonic()
        status = app.proc.wait(8) if app.proc.poll() is None else app.proc.returncode
        assert status == 128 + signal.SIGHUP, status  # the SIGHUP path, not a crash
        assert time.monotonic() - started < 6
    finally:
        app.stop()
    draft = Journal(data).load_draft()
    assert draft is not None and draft.text == TYPED


def test_sigterm_ends_it_promptly_and_saves_the_draft(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = demo_with_a_draft(data)
    try:
        started = time.monotonic()
        app.signal(signal.SIGTERM)
        assert app.wait_exit(6) == 128 + signal.SIGTERM
        assert time.monotonic() - started < 6
    finally:
        app.stop()
    draft = Journal(data).load_draft()
    assert draft is not None and draft.text == TYPED


def test_sigterm_after_the_terminal_went_away_still_ends_it(tmp_path: Path) -> None:
    """Closed master first, SIGTERM a moment later (a supervisor cleaning up): it ends, never
    needing SIGKILL."""
    app = Cockpit(None, tmp_path / "data", cols=120, rows=40, command=DEMO)
    try:
        app.wait_for(lambda s: "● pd ok" in s, timeout=60)
        proc = psutil.Process(app.proc.pid)
        os.close(app.master)
        time.sleep(0.3)
        if app.proc.poll() is None:
            app.signal(signal.SIGTERM)
        status = ended_within(proc, 8)
        # the hang-up path's exit, the SIGTERM handler's, or (once the hang-up path has
        # flushed and uninstalled the handlers on its way out) SIGTERM's default action
        assert status in (128 + signal.SIGHUP, 128 + signal.SIGTERM, -signal.SIGTERM), status
    finally:
        app.stop()


def test_watch_hangup_sees_a_closed_master_and_stops_quietly() -> None:
    master, slave = os.openpty()
    seen = threading.Event()
    stop = watch_hangup([slave], seen.set)
    try:
        assert not seen.wait(0.3)  # a live terminal: nothing
        os.close(master)
        assert seen.wait(3)
    finally:
        stop()
        os.close(slave)
    master, slave = os.openpty()
    quiet = threading.Event()
    stop = watch_hangup([slave], quiet.set)
    stop()  # stopped before any hang-up: the callback never runs
    os.close(master)
    time.sleep(0.3)
    assert not quiet.is_set()
    os.close(slave)
