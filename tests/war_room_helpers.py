"""The real cockpit on the simulator in a pty, for the war-room sweep (issue 12) tests.

:func:`sim_cockpit` starts ``sre-cockpit simulate`` in a child process and the real
``sre-cockpit`` on a pty (:class:`notes_helpers.Cockpit`: a pyte screen that answers terminal
queries); :func:`resize` changes the terminal's size like tmux does; :func:`sgr_colours` reads
the colours out of the raw bytes the cockpit wrote; :func:`cell_colours` reads every cell's
colours from the emulated screen. :func:`log_sim_cockpit` (or :func:`log_simulator` with
:func:`open_log_pane`, to start more than one cockpit on the same simulator) is the log pty
tests' set-up: the cockpit in a :class:`pty_screen.PtyScreen`, the log pane focused and showing
Loki's lines.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from notes_helpers import Cockpit
from pty_screen import PtyScreen
from sim_helpers import SimHandle, launch_simulator
from test_logs_health_pty import pane_text
from test_pty_hostile import set_winsize

ALL_PANES = ("Incidents", "Logs", "SLOs", "Timeline")


@contextlib.contextmanager
def sim_cockpit(tmp_path: Path, *, cols: int = 120, rows: int = 40, args: Sequence[str] = (),
                env: dict[str, str] | None = None, faults: Sequence[str] = (),
                seed: int = 5, log_rate: int = 20) -> Iterator[tuple[Cockpit, SimHandle]]:
    """The simulator and a cockpit on it (``args`` after ``--config``), both stopped after."""
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=seed, write_config=config, faults=faults, log_rate=log_rate)
    app: Cockpit | None = None
    try:
        # COLUMNS/LINES empty: the cockpit asks the pty for its size, so a resize reaches it
        # (a set COLUMNS would win over the terminal's size, as in shutil.get_terminal_size)
        app = Cockpit(config, tmp_path / "data", cols=cols, rows=rows, args=args,
                      extra_env={"COLUMNS": "", "LINES": "", **(env or {})})
        yield app, sim
    finally:
        if app is not None:
            app.stop()
        sim.stop()


@contextlib.contextmanager
def log_simulator(tmp_path: Path, *, extra_args: Sequence[str] = ()) -> Iterator[Path]:
    """The simulator (seed 3, 20 log lines a second, ``extra_args``) for the log pty tests.

    Yields:
        The config it wrote (``tmp_path/sim.yaml``); the simulator is stopped after.
    """
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=3, log_rate=20, write_config=config, extra_args=extra_args)
    try:
        yield config
    finally:
        sim.stop()


def open_log_pane(config: Path, *, cols: int = 120, rows: int = 40) -> PtyScreen:
    """The real ``sre-cockpit`` on ``config`` in a pty, once Loki answers (``● loki ok`` in
    the top bar), the log pane is focused (``2``: at 80x24 it is then shown alone) and Loki's
    lines are in it. The caller closes it; it is closed here if it never gets there."""
    term = PtyScreen([sys.executable, "-m", "sre_cockpit", "--config", str(config)],
                     cols=cols, rows=rows)
    try:
        term.wait_for(lambda t: "● loki ok" in t.lines[0], 40, "Loki answering")
        term.type(b"2")
        term.wait_for(lambda t: "level=" in pane_text(t, "Logs"), 30, "log lines")
        term.pump(0.5)
    except BaseException:
        term.close()
        raise
    return term


@contextlib.contextmanager
def log_sim_cockpit(tmp_path: Path, *, cols: int = 120, rows: int = 40,
                    extra_args: Sequence[str] = ()) -> Iterator[PtyScreen]:
    """:func:`log_simulator` and one :func:`open_log_pane` on it, both stopped after."""
    with log_simulator(tmp_path, extra_args=extra_args) as config:
        term = open_log_pane(config, cols=cols, rows=rows)
        try:
            yield term
        finally:
            term.close()


def every_pane_has_data(text: str) -> bool:
    """At 120x40 or more: incidents, SLOs, the timeline and the log stream all show data."""
    return ("triggered" in text and "budget left" in text and "alert_start" in text
            and "level=" in text and "● pd ok" in text)


def resize(app: Cockpit, cols: int, rows: int) -> None:
    """Resize the pty (the kernel tells the cockpit with SIGWINCH) and the emulated screen."""
    app.screen.resize(rows, cols)
    set_winsize(app.master, rows, cols)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(app.proc.pid, signal.SIGWINCH)


@dataclass(frozen=True, slots=True)
class SgrColour:
    """One colour set by an SGR sequence: ``38;5;n`` is ``("fg", "256", "n")``, ``38;2;r;g;b``
    is ``("fg", "rgb", "r;g;b")``, ``31`` is ``("fg", "16", "1")``."""

    layer: str
    kind: str
    value: str


_SGR = re.compile(rb"\x1b\[([0-9;:]*)m")


def sgr_colours(data: bytes) -> list[SgrColour]:
    """Every colour the SGR sequences in ``data`` set, in order."""
    found: list[SgrColour] = []
    for match in _SGR.finditer(data):
        params = [p for p in re.split(rb"[;:]", match.group(1))]
        i = 0
        while i < len(params):
            param = params[i]
            if param in (b"38", b"48") and i + 1 < len(params):
                layer = "fg" if param == b"38" else "bg"
                if params[i + 1] == b"5" and i + 2 < len(params):
                    found.append(SgrColour(layer, "256", params[i + 2].decode()))
                    i += 3
                    continue
                if params[i + 1] == b"2" and i + 4 < len(params):
                    found.append(SgrColour(layer, "rgb", b";".join(params[i + 2:i + 5]).decode()))
                    i += 5
                    continue
            if param.isdigit():
                n = int(param)
                if 30 <= n <= 37 or 90 <= n <= 97:
                    found.append(SgrColour("fg", "16", str(n - 30 if n < 90 else n - 82)))
                elif 40 <= n <= 47 or 100 <= n <= 107:
                    found.append(SgrColour("bg", "16", str(n - 40 if n < 100 else n - 92)))
            i += 1
    return found


def beyond_16_colours(data: bytes) -> list[SgrColour]:
    """Colours outside the terminal's 16-colour palette: ``38;5;n``/``48;5;n`` with n > 15
    and any truecolour."""
    return [c for c in sgr_colours(data)
            if c.kind == "rgb" or (c.kind == "256" and int(c.value or 0) > 15)]


def focus_incident(app: Cockpit, words: str, pick: str = "") -> str:
    """Focus an incident: ``1``, filter the incidents by ``words``, enter on the first row whose
    cells include the word ``pick`` (a source such as ``pd``; empty: the first row), esc clears
    the filter. Returns the incident's key as the timeline names it (``pd:P…``)."""
    app.write(b"1/\x15" + words.encode() + b"\r")
    app.wait_for(lambda t: re.search(r"— \d+ of \d+ incidents shown", t) is not None, 15)
    # zoomed, the table has the room for its source column (beside other panes it drops
    # first); the helper expects the panes side by side (120 columns and more)
    app.write(b"z")
    text = app.wait_for(lambda t: re.search(r"│id\s+sev\s.*\ssource\s", t) is not None, 15)
    lines = [line.split("││", 1)[0] for line in text.splitlines()]  # the incidents pane
    header = next(i for i, line in enumerate(lines) if re.match(r"│id\s+sev\s", line))
    word = re.compile(rf"(^|\s){re.escape(pick)}(\s|│|$)")
    index = next(i for i, line in enumerate(lines[header + 1:]) if word.search(line))
    app.write(b"z")
    app.wait_for(lambda t: "─ Logs" in t or "─ Timeline" in t, 15)
    app.write(b"g" + b"j" * index + b"\r")
    text = app.wait_for(lambda t: re.search(r"incident (\S+:\S+)", t) is not None, 15)
    match = re.search(r"incident (\S+:\S+)", text)
    assert match is not None
    app.write(b"\x1b")  # clears the filter; the focus stays
    app.wait_for(lambda t: " incidents shown" not in t, 15)
    return match.group(1)


def write_note(app: Cockpit, text: str) -> None:
    """``n`` on the focused incident, type ``text``, ctrl+s: the editor closes."""
    app.write(b"1n")
    app.wait_for("Send (ctrl+s)", 15)
    app.write(text.encode() + b"\x13")
    app.wait_for(lambda t: "Send (ctrl+s)" not in t, 15)
