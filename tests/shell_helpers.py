"""Helpers for the cockpit-shell tests (app, header, prompts, themes, first frame)."""

from __future__ import annotations

import os
import pty
import select
import signal
import struct
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sre_cockpit.config.model import Config
from sre_cockpit.ui.app import CockpitApp, make_app

FIXED = datetime(2026, 11, 26, 14, 3, 7, tzinfo=UTC)
"""The frozen "now" of every shell test."""


def frozen() -> datetime:
    """A clock that never moves (deterministic header and pane ages)."""
    return FIXED


def make_config(contexts: dict[str, Any] | None = None, **top: Any) -> Config:
    """A validated config; by default one production context and one read-only staging."""
    data: dict[str, Any] = {
        "default_context": "prod",
        "contexts": contexts if contexts is not None else {
            "prod": {},
            "staging": {"read_only": True},
        },
    }
    data.update(top)
    return Config.model_validate(data)


def shell_app(config: Config | None = None, *, start_polling: bool = False,
              **kwargs: Any) -> CockpitApp:
    """The real cockpit with a frozen clock (polling off unless asked)."""
    return make_app(config or make_config(), clock=frozen, start_polling=start_polling, **kwargs)


def visible(widget: Any) -> bool:
    """Whether a widget currently takes screen space."""
    return bool(widget.display) and widget.region.width > 0 and widget.region.height > 0


def first_frame_seconds(argv: list[str], *, cols: int = 160, rows: int = 48,
                        timeout: float = 20.0, env: dict[str, str] | None = None,
                        ) -> tuple[float | None, list[str]]:
    """Spawn ``argv`` in a pty and time exec → first complete frame.

    Complete = the header line shows the context, the first pane border is drawn and the footer
    line has its keys. Returns (seconds or None on timeout, the screen lines).
    """
    import fcntl
    import termios

    import pyte

    child_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows),
                     **(env or {}))
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execvpe(argv[0], argv, child_env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    found: float | None = None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            stream.feed(data)
            lines = screen.display
            if ("PRODUCTION" in lines[0] or "ctx " in lines[0]) and "Incidents" in lines[1] \
                    and "help" in lines[-1]:
                found = time.perf_counter() - start
                break
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                done, _status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.02)
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)
    return found, list(screen.display)


PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[1]


def idle_bytes_per_second(argv: list[str], *, settle: float = 3.0, window: float = 3.0,
                          cols: int = 160, rows: int = 48,
                          max_settle: float = 30.0) -> tuple[float, int]:
    """Bytes per second the app writes while nothing happens.

    Idle starts once start-up is over: at least ``settle`` seconds after exec, and then only when
    the last second brought no more than a clock tick's worth of bytes (a loaded machine can take
    longer than ``settle`` to draw the first frame; that is start-up, not idling). After
    ``max_settle`` seconds the window starts anyway, so a cockpit that never settles fails.

    Returns:
        (bytes per second during the window, bytes written while settling).
    """
    import fcntl
    import termios

    child_env = dict(os.environ, TERM="xterm-256color")
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execvpe(argv[0], argv, child_env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    start = time.perf_counter()
    settled = measured = 0
    recent: list[tuple[float, int]] = []  # (when, bytes) over the last second of settling
    window_start: float | None = None
    try:
        while window_start is None or time.perf_counter() - window_start < window:
            now = time.perf_counter()
            if window_start is None:
                recent = [(t, n) for t, n in recent if now - t < 1.0]
                quiet = sum(n for _, n in recent) <= 400
                if now - start >= max_settle or (now - start >= settle and quiet and settled):
                    window_start = now
                    continue
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if window_start is None:
                settled += len(data)
                recent.append((time.perf_counter(), len(data)))
            else:
                measured += len(data)
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    return measured / window, settled


if __name__ == "__main__":  # python tests/shell_helpers.py [-n 5] sre-cockpit --config FILE
    import shutil
    import statistics

    args = sys.argv[1:]
    runs = 5
    if len(args) > 1 and args[0] == "-n":
        runs, args = int(args[1]), args[2:]
    if not args:
        raise SystemExit("usage: shell_helpers.py [-n RUNS] COMMAND ARGS…")
    args[0] = shutil.which(args[0]) or args[0]
    times = []
    for _ in range(runs):
        seconds, lines = first_frame_seconds(args)
        if seconds is None:
            raise SystemExit("no complete frame:\n" + "\n".join(lines))
        times.append(seconds)
    print(f"first complete frame (160x48): min {min(times):.3f}s median "
          f"{statistics.median(times):.3f}s max {max(times):.3f}s over {runs} runs; "
          f"load average {os.getloadavg()[0]:.2f}")
