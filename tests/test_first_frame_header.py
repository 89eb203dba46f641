"""The first frame: the CLI draws the header (context, production, read-only, providers) before
Textual loads, and always gives the terminal back.

The header is on screen ~0.1 s after exec instead of ~0.4 s (Python, Textual and the first
layout); these tests check what it says, that hostile names cannot reach the terminal through
it, that keys typed meanwhile are neither printed nor lost, and that every way out (the UI
starting, an error, SIGTERM) leaves the terminal as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pyte
import pytest
import yaml
from notes_helpers import Cockpit
from sim_helpers import SimHandle, launch_simulator
from test_pty_hostile import set_winsize

from sre_cockpit.cli.preframe import ENTER, LEAVE, PreFrame, header_line
from sre_cockpit.ui.boot import BootInfo

SGR = re.compile(r"\x1b\[[0-9;]*m")


def plain(line: str) -> str:
    return SGR.sub("", line)


def test_header_says_context_production_read_only_and_providers() -> None:
    calm = plain(header_line(BootInfo("staging", False, True, ("prom", "loki")), 100))
    assert calm.startswith(" ctx staging ") and "READ-ONLY" in calm and "○ prom  ○ loki" in calm
    assert calm.endswith(" starting… ") and len(calm) == 100
    loud = header_line(BootInfo("prod-eu", True, False, ("pd",)), 60)
    assert "\x1b[1;97;41m ⚠ PRODUCTION prod-eu " in loud and "READ-ONLY" not in loud


def test_header_fits_narrow_terminals_and_neutralises_hostile_names() -> None:
    hostile = BootInfo("x\x1b]52;c;cHduZWQ=\x07\u202e", False, False,
                       ("a" * 200, "b\x1b[2J"))
    line = header_line(hostile, 40)
    assert len(plain(line)) <= 40
    assert "\x1b]" not in line and "\x1b[2J" not in line and "\u202e" not in line
    assert "\x07" not in line
    assert " ⚠ PRODU… " in plain(header_line(BootInfo("c" * 300, True, True, ()), 20))


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, int]]:
    master, slave = os.openpty()
    set_winsize(slave, 10, 80)
    try:
        yield master, slave
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def read_all(fd: int) -> bytes:
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            return out
        out += os.read(fd, 65536)


def test_release_gives_the_modes_back_and_abort_the_screen(pty_pair: tuple[int, int]) -> None:
    master, slave = pty_pair
    before = termios.tcgetattr(slave)
    frame = PreFrame.show(BootInfo("prod", True, False, ("prom",)), out=slave, tty=slave)
    assert frame is not None
    assert not termios.tcgetattr(slave)[3] & termios.ECHO  # typed keys are not printed over it
    drawn = read_all(master).decode()
    assert drawn.startswith(ENTER) and "⚠ PRODUCTION prod" in drawn
    frame.release()
    assert termios.tcgetattr(slave) == before  # what Textual will save and restore at exit
    assert read_all(master) == b""  # the screen stays for the UI to paint over
    frame.abort()  # after release: nothing left to undo on screen
    assert read_all(master) == b""
    again = PreFrame.show(BootInfo("prod", True, False, ()), out=slave, tty=slave)
    assert again is not None
    read_all(master)
    again.abort()
    assert read_all(master).decode() == LEAVE and termios.tcgetattr(slave) == before


def test_nothing_is_drawn_without_a_terminal(tmp_path: Path) -> None:
    with open(tmp_path / "out", "wb") as fh:
        assert PreFrame.show(BootInfo("x", False, False, ()), out=fh.fileno(),
                             tty=fh.fileno()) is None


def test_sigterm_before_the_ui_leaves_the_terminal_as_it_was(pty_pair: tuple[int, int]) -> None:
    master, slave = pty_pair
    before = termios.tcgetattr(slave)
    code = ("import time\nfrom sre_cockpit.cli.preframe import PreFrame\n"
            "from sre_cockpit.ui.boot import BootInfo\n"
            "assert PreFrame.show(BootInfo('prod', True, False, ())) is not None\n"
            "print('up', flush=True)\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True)
    out = b""
    deadline = time.monotonic() + 20
    while b"up" not in out and time.monotonic() < deadline:
        out += read_all(master)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    out += read_all(master)
    assert out.decode().endswith(LEAVE)
    assert termios.tcgetattr(slave)[3] & termios.ECHO == before[3] & termios.ECHO


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path_factory.mktemp("sim") / "sim.yaml"
    handle = launch_simulator(seed=5, log_rate=20, write_config=config)
    try:
        yield handle, config
    finally:
        handle.stop()


@pytest.mark.slow
def test_the_real_cockpit_shows_the_header_first_and_keeps_early_keys(
        sim: tuple[SimHandle, Path], tmp_path: Path) -> None:
    app = Cockpit(sim[1], tmp_path / "data", cols=120, rows=40)
    try:
        app.wait_for(lambda text: text.startswith(" ctx sim "), timeout=20)
        header_first = "starting…" in app.text().splitlines()[0]
        app.write(b"4")  # typed before the UI runs: kept for it, never printed
        app.wait_for(lambda text: "Timeline" in text and "zoom" in text.splitlines()[-1])
        app.wait_for(lambda text: "kinds" in text.splitlines()[-1])  # the timeline has focus
        assert not any(line.startswith("4") for line in app.text().splitlines())
        first_header = bytes(app.output).index(b"ctx sim")
        first_textual = bytes(app.output).find(b"\x1b[?1000h")  # Textual turns the mouse on
        assert header_first and 0 <= first_header < first_textual
        app.write(b"q")
        assert app.wait_exit(10) == 0
    finally:
        app.stop()


@pytest.mark.slow
def test_a_theme_error_comes_before_any_header(sim: tuple[SimHandle, Path],
                                               tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    doc = yaml.safe_load(sim[1].read_text())
    doc.setdefault("ui", {})["theme"] = "no-such-theme"
    config.write_text(yaml.safe_dump(doc))
    config.chmod(0o600)
    app = Cockpit(config, tmp_path / "data", cols=100, rows=20)
    try:
        assert app.wait_exit(20) == 2
        app.pump(0.3)
    finally:
        app.stop()
    assert b"\x1b[?1049h" not in app.output
    screen = pyte.Screen(100, 20)
    pyte.ByteStream(screen).feed(bytes(app.output))
    assert "unknown theme 'no-such-theme'" in "".join(screen.display)  # one line, wrapped
