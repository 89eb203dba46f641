"""Run the real ``sre-cockpit`` process (in a pty or with pipes) and read its peak RSS from the
kernel: ``VmHWM`` in ``/proc/PID/status``, the high-water mark of the process's memory since it
exec'd, read every 10 ms until it exits (a mark only grows, so the last read before the exit holds
the peak unless it came in the last 10 ms). ``wait4``'s ``ru_maxrss`` would not do: Linux carries
it over ``exec``, so it includes the forked copy of the (large) test process."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyte

COCKPIT = [sys.executable, "-m", "sre_cockpit"]


@dataclass
class PtyRun:
    """What a pty run left behind."""

    screens: list[list[str]] = field(default_factory=list)
    """The emulated screen whenever ``watch`` first held, and at the end."""
    raw: bytes = b""
    peak_rss_mb: float = 0.0
    status: int | None = None
    seen_at: float | None = None
    """Seconds from start until ``watch`` first held."""


def high_water_mb(pid: int) -> float | None:
    """``VmHWM`` of a running process in MB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        return None
    return None


class _Child:
    """A child reaped with ``wait4`` (``Popen.poll`` would reap it and lose its rusage)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.status: int | None = None
        self.peak_mb = 0.0

    def alive(self, block: bool = False) -> bool:
        if self.status is not None:
            return False
        mark = high_water_mb(self.proc.pid)  # readable until the child is reaped
        if mark is not None:
            self.peak_mb = max(self.peak_mb, mark)
        pid, raw, _rusage = os.wait4(self.proc.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return True
        self.status = os.waitstatus_to_exitcode(raw)
        self.proc.returncode = self.status
        return False


def run_pty(args: list[str], *, seconds: float, watch: Callable[[pyte.Screen], bool],
            cols: int = 200, rows: int = 50, keys: list[tuple[float, bytes]] | None = None,
            env: dict[str, str] | None = None) -> PtyRun:
    """Run ``sre-cockpit ARGS`` in a pty for ``seconds`` (keys are (seconds after ``watch``
    first held, bytes)), then quit with ``q`` (SIGTERM, then SIGKILL if it lingers)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    child_env = dict(os.environ if env is None else env, TERM="xterm-256color",
                     COLUMNS=str(cols), LINES=str(rows))
    child_env.pop("TMUX", None)
    child = _Child(subprocess.Popen([*COCKPIT, *args], stdin=slave, stdout=slave, stderr=slave,
                                    env=child_env, start_new_session=True, close_fds=True))
    os.close(slave)
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    result = PtyRun()
    raw = bytearray()
    start = time.monotonic()
    pending = list(keys or [])

    def pump(wait: float) -> bool:
        ready, _, _ = select.select([master], [], [], wait)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return False
            raw.extend(chunk)
            stream.feed(chunk)
        return True

    try:
        while time.monotonic() - start < seconds and child.alive():
            if not pump(0.05):
                break
            if result.seen_at is None and watch(screen):
                result.seen_at = time.monotonic() - start
                result.screens.append(list(screen.display))
            while pending and result.seen_at is not None and \
                    time.monotonic() - start - result.seen_at >= pending[0][0]:
                os.write(master, pending.pop(0)[1])
        result.screens.append(list(screen.display))
        if child.alive():
            os.write(master, b"q")
            deadline = time.monotonic() + 5
            while child.alive() and time.monotonic() < deadline and pump(0.05):
                pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not child.alive():
                break
            os.killpg(child.proc.pid, sig)
            time.sleep(1.0)
        child.alive(block=child.status is None)
        os.close(master)
    result.raw = bytes(raw)
    result.status = child.status
    result.peak_rss_mb = child.peak_mb
    return result


def run_cli(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120,
            stop_after: float | None = None) -> tuple[int, str, str, float]:
    """Run ``sre-cockpit ARGS`` with pipes; returns (status, stdout, stderr, peak RSS MB).
    ``stop_after``: send SIGINT after that many seconds (``logs -f``)."""
    child = _Child(subprocess.Popen([*COCKPIT, *args], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, start_new_session=True))
    proc = child.proc
    out = bytearray()
    err = bytearray()
    start = time.monotonic()
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}  # type: ignore[union-attr]
    interrupted = False
    while streams or child.alive():
        child.alive()  # also reads the high-water mark
        if stop_after is not None and not interrupted and time.monotonic() - start > stop_after:
            os.killpg(proc.pid, signal.SIGINT)
            interrupted = True
        if time.monotonic() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
        if not streams:
            time.sleep(0.01)
            continue
        ready, _, _ = select.select(list(streams), [], [], 0.01)
        for fd in ready:
            data = os.read(fd, 65536)
            if data:
                streams[fd] += data
            else:
                del streams[fd]
    assert child.status is not None
    return child.status, out.decode(errors="replace"), err.decode(errors="replace"), child.peak_mb
