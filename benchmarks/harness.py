"""Pseudo-terminal harness: run a terminal program in a pty, decode its screen, measure its cost.

The pieces are independent so they can be tested on canned data:

- ``ByteMeter`` counts the bytes a program writes to its terminal, with timestamps, so any
  window's bytes/s can be computed afterwards.
- ``Screen`` wraps a ``pyte`` screen fed from a byte stream and answers text questions about it.
- ``ProcessTree`` sums CPU time and RSS over a process and all its descendants (``psutil``).
- ``PtySession`` spawns a command in a new session on a pty of a given size
  (``TERM=xterm-256color``, ``COLORTERM`` unset), reads its output on a thread, feeds the meter and
  the screen, and can wait for a predicate on the screen — evaluated after every output chunk — to
  time a key press to the first chunk that paints its effect.
- ``Reaper`` remembers every process group the benchmark started and kills them all on exit,
  Ctrl-C or failure.

Nothing here imports the cockpit: the harness only sees bytes, like the operator's terminal.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TypeVar

import psutil
import pyte


# --------------------------------------------------------------------------- process cleanup
class Reaper:
    """Kills every process group it was given, once, at exit or on demand."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        atexit.register(self.kill_all)

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        """Remember a process started with ``start_new_session=True``.

        Args:
            proc: The process; its process group is the whole tree it may spawn.
        """
        with self._lock:
            self._procs.append(proc)

    def kill(self, proc: subprocess.Popen[bytes], grace: float = 2.0) -> None:
        """SIGTERM the process group, then SIGKILL it after ``grace`` seconds.

        Args:
            proc: A process given to ``add``.
            grace: Seconds to wait for a clean exit before SIGKILL.
        """
        kill_group(proc, grace)
        with self._lock, contextlib.suppress(ValueError):
            self._procs.remove(proc)

    def kill_all(self) -> None:
        """Kill every remembered process group (idempotent)."""
        with self._lock:
            procs, self._procs = self._procs, []
        for proc in procs:
            kill_group(proc, 1.0)


def kill_group(proc: subprocess.Popen[bytes], grace: float = 2.0) -> None:
    """Terminate a process and its process group; never raises.

    Args:
        proc: A process started in its own session.
        grace: Seconds between SIGTERM and SIGKILL.
    """
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    targets: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        parent = psutil.Process(proc.pid)
        targets = [parent, *parent.children(recursive=True)]
    if proc.poll() is None:
        if pgid is not None and pgid == proc.pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
        else:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    if proc.poll() is None and pgid is not None and pgid == proc.pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    for child in targets:  # descendants that left the group (setsid) are killed too
        with contextlib.suppress(psutil.Error):
            if child.is_running():
                child.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)


REAPER = Reaper()
"""The process-wide reaper used by ``PtySession`` and ``start_background``."""


def install_signal_cleanup() -> None:
    """Turn SIGINT/SIGTERM/SIGHUP into ``KeyboardInterrupt`` so ``finally`` blocks and atexit run."""

    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)
    # Ctrl-C even when started in the background of a non-interactive shell (SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)


def start_background(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                     cwd: str | None = None, stdout: int | IO[bytes] | None = subprocess.PIPE,
                     stderr: int | IO[bytes] | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """Start a helper process (simulator, writer) in its own session, registered for cleanup.

    Args:
        argv: Command line.
        env: Environment (default: inherited).
        cwd: Working directory.
        stdout: Where stdout goes (default a pipe).
        stderr: Where stderr goes (default a pipe).

    Returns:
        The started process.
    """
    proc = subprocess.Popen(list(argv), env=dict(env) if env is not None else None, cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                            start_new_session=True)
    REAPER.add(proc)
    return proc


# --------------------------------------------------------------------------- bytes
class ByteMeter:
    """Timestamped byte counter: total bytes and bytes written inside any time window."""

    def __init__(self) -> None:
        self._times: list[float] = []
        self._cumulative: list[int] = []
        self.total = 0
        self._lock = threading.Lock()

    def add(self, nbytes: int, at: float | None = None) -> None:
        """Record one chunk.

        Args:
            nbytes: Size of the chunk.
            at: ``time.monotonic()`` when it was read (default now).
        """
        when = time.monotonic() if at is None else at
        with self._lock:
            self.total += nbytes
            self._times.append(when)
            self._cumulative.append(self.total)

    def bytes_between(self, start: float, end: float) -> int:
        """Bytes in chunks read at ``start < t <= end``.

        Args:
            start: Window start (monotonic seconds).
            end: Window end (monotonic seconds).

        Returns:
            The number of bytes.
        """
        import bisect

        with self._lock:
            times, cum = self._times, self._cumulative
            lo = bisect.bisect_right(times, start)
            hi = bisect.bisect_right(times, end)
            before = cum[lo - 1] if lo > 0 else 0
            upto = cum[hi - 1] if hi > 0 else 0
        return upto - before

    def rate(self, start: float, end: float) -> float:
        """Bytes per second over a window.

        Args:
            start: Window start.
            end: Window end.

        Returns:
            Bytes/s (0 for an empty window).
        """
        span = end - start
        return self.bytes_between(start, end) / span if span > 0 else 0.0

    def chunks(self) -> int:
        """Number of chunks recorded."""
        with self._lock:
            return len(self._times)


# --------------------------------------------------------------------------- screen
T = TypeVar("T")


class _TallyScreen(pyte.Screen):
    """pyte screen that counts how many characters are drawn into every cell."""

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.tally = [[0] * columns for _ in range(lines)]

    def draw(self, data: str) -> None:
        y, x = self.cursor.y, self.cursor.x
        row = self.tally[y] if 0 <= y < len(self.tally) else None
        if row is not None:
            for i in range(min(len(data), len(row) - x)):
                row[x + i] += 1
        super().draw(data)


class Screen:
    """A pyte screen fed with raw terminal bytes.

    With ``tally=True`` it also counts the characters drawn into every cell, so a benchmark can
    tell which part of the screen is being repainted (``drawn_in``).
    """

    def __init__(self, cols: int, rows: int, *, tally: bool = False) -> None:
        self.cols = cols
        self.rows = rows
        self._screen = _TallyScreen(cols, rows) if tally else pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self._screen)

    def drawn_in(self, top: int, left: int, bottom: int, right: int) -> int:
        """Characters drawn so far into a rectangle (0 without ``tally``).

        Args:
            top: First row.
            left: First column.
            bottom: Row after the last.
            right: Column after the last.

        Returns:
            The count.
        """
        tally = getattr(self._screen, "tally", None)
        if tally is None:
            return 0
        return sum(sum(row[left:right]) for row in tally[top:bottom])

    def reset_tally(self) -> None:
        """Start counting drawn characters from zero."""
        tally = getattr(self._screen, "tally", None)
        if tally is not None:
            for row in tally:
                row[:] = [0] * len(row)

    def feed(self, data: bytes) -> None:
        """Decode more output.

        Args:
            data: Raw bytes as written by the program.
        """
        self._stream.feed(data)

    def lines(self) -> list[str]:
        """The screen's text, one string per row, trailing blanks kept."""
        return list(self._screen.display)

    def text(self) -> str:
        """The whole screen as one string (rows joined by newlines)."""
        return "\n".join(self._screen.display)

    def contains(self, pattern: str | re.Pattern[str]) -> bool:
        """Whether any row matches a regular expression.

        Args:
            pattern: Regex (string or compiled).

        Returns:
            True when a row matches.
        """
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return any(rx.search(line) for line in self._screen.display)

    def region(self, top: int, left: int, bottom: int, right: int) -> list[str]:
        """Rows ``top..bottom-1`` cut to columns ``left..right-1``.

        Args:
            top: First row.
            left: First column.
            bottom: Row after the last.
            right: Column after the last.

        Returns:
            The cut rows.
        """
        return [line[left:right] for line in self._screen.display[top:bottom]]

    def row_styles(self, row: int) -> list[tuple[str, str, bool]]:
        """(fg, bg, reverse) of every cell of a row, for highlight detection.

        Args:
            row: Row index.

        Returns:
            One tuple per column.
        """
        buffer_row = self._screen.buffer[row]
        return [(buffer_row[x].fg, buffer_row[x].bg, buffer_row[x].reverse)
                for x in range(self.cols)]

    def find(self, pattern: str | re.Pattern[str]) -> list[tuple[int, int, str]]:
        """Every match as (row, column, matched text).

        Args:
            pattern: Regex.

        Returns:
            Matches in reading order.
        """
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        found: list[tuple[int, int, str]] = []
        for row, line in enumerate(self._screen.display):
            for match in rx.finditer(line):
                found.append((row, match.start(), match.group(0)))
        return found


# --------------------------------------------------------------------------- process tree
@dataclass
class TreeSample:
    """One reading of a process tree."""

    at: float
    cpu_seconds: float
    rss_bytes: int
    processes: int


class ProcessTree:
    """CPU time and RSS of a process and every descendant.

    CPU time of descendants that already exited is not counted (psutil cannot see it); the cockpit
    does not spawn short-lived children, so this is exact for it.
    """

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self._known: dict[int, psutil.Process] = {pid: self.root}

    def _members(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            for child in self.root.children(recursive=True):
                self._known.setdefault(child.pid, child)
        alive = []
        for pid, proc in list(self._known.items()):
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
                else:
                    del self._known[pid]
            except psutil.Error:
                del self._known[pid]
        return alive

    def sample(self) -> TreeSample:
        """Read cumulative CPU seconds and current RSS of the tree.

        Returns:
            The sample (zeros if the tree is gone).
        """
        cpu = 0.0
        rss = 0
        members = self._members()
        for proc in members:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                cpu += times.user + times.system
                rss += proc.memory_info().rss
        return TreeSample(time.monotonic(), cpu, rss, len(members))


def cpu_percent(first: TreeSample, second: TreeSample) -> float:
    """CPU use between two samples, per core (100 % = one core busy).

    Args:
        first: Earlier sample.
        second: Later sample.

    Returns:
        Percent of one core.
    """
    wall = second.at - first.at
    return 100.0 * (second.cpu_seconds - first.cpu_seconds) / wall if wall > 0 else 0.0


# --------------------------------------------------------------------------- pty session
def terminal_env(base: Mapping[str, str] | None = None, *,
                 extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of a 256-colour xterm: TERM=xterm-256color, COLORTERM unset, UTF-8 locale,
    bytecode written and used (``PYTHONDONTWRITEBYTECODE`` unset).

    Args:
        base: Starting environment (default ``os.environ``).
        extra: Variables to add or override.

    Returns:
        The environment.
    """
    env = dict(os.environ if base is None else base)
    # PYTHONDONTWRITEBYTECODE (set on some CI and shared machines) would make every start of a
    # Python program compile its modules from source again (~300 of the cockpit's: ~0.16 s of
    # CPU before the first frame); an operator's installed copy runs from bytecode.
    for name in ("COLORTERM", "TERM_PROGRAM", "TMUX", "NO_COLOR", "TEXTUAL", "COLUMNS", "LINES",
                 "PYTEST_CURRENT_TEST", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["TERM"] = "xterm-256color"
    env.setdefault("LANG", "C.UTF-8")
    env["LC_ALL"] = env.get("LC_ALL") or "C.UTF-8"
    if extra:
        env.update(extra)
    return env


def _set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _make_controlling_tty() -> None:  # runs in the child after setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class Probe:
    """A predicate evaluated by the reader thread after every chunk."""

    predicate: Callable[[Screen], bool | None]
    hit_at: float | None = None
    event: threading.Event = field(default_factory=threading.Event)


class PtySession:
    """A command running on a pty whose output is metered and decoded."""

    def __init__(self, argv: Sequence[str], *, cols: int, rows: int,
                 env: Mapping[str, str] | None = None, cwd: str | None = None,
                 tally: bool = False) -> None:
        self.argv = list(argv)
        self.cols = cols
        self.rows = rows
        self.env = terminal_env() if env is None else dict(env)
        self.cwd = cwd
        self.meter = ByteMeter()
        self.screen = Screen(cols, rows, tally=tally)
        self.started_at = 0.0
        self.first_output_at: float | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.tree: ProcessTree | None = None
        self._master = -1
        self._lock = threading.Lock()
        self._probes: list[Probe] = []
        self._reader: threading.Thread | None = None
        self._closed = threading.Event()
        self.raw: bytearray | None = None
        """Set to a bytearray before ``start`` to keep a copy of everything written."""

    # -- lifecycle
    def start(self) -> None:
        """Spawn the command on a fresh pty and start reading."""
        master, slave = os.openpty()
        _set_winsize(slave, self.cols, self.rows)
        attrs = termios.tcgetattr(slave)
        self._master = master
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=slave, stdout=slave, stderr=slave,
                                     env=self.env, cwd=self.cwd, start_new_session=True,
                                     preexec_fn=_make_controlling_tty, close_fds=True)
        del attrs
        os.close(slave)
        REAPER.add(self.proc)
        try:
            self.tree = ProcessTree(self.proc.pid)
        except psutil.Error:
            self.tree = None
        self._reader = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)
        self._reader.start()

    def _read_loop(self) -> None:
        fd = self._master
        while not self._closed.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.2)
            except (OSError, ValueError):
                break
            if not ready:
                continue
            try:
                data = os.read(fd, 1 << 16)
            except OSError:
                break
            if not data:
                break
            now = time.monotonic()
            if self.first_output_at is None:
                self.first_output_at = now
            self.meter.add(len(data), now)
            with self._lock:
                if self.raw is not None:
                    self.raw.extend(data)
                self.screen.feed(data)
                for probe in self._probes:
                    if probe.hit_at is None and probe.predicate(self.screen):
                        probe.hit_at = now
                        probe.event.set()
        self._closed.set()

    def alive(self) -> bool:
        """Whether the program is still running."""
        return self.proc is not None and self.proc.poll() is None

    def close(self, quit_keys: bytes | None = None, grace: float = 3.0) -> int | None:
        """Stop the program: send ``quit_keys`` first if given, then kill its process group.

        Args:
            quit_keys: Bytes to type to ask for a clean exit (e.g. ``b"q"``).
            grace: Seconds to wait for the clean exit.

        Returns:
            The exit status, if it exited.
        """
        if self.proc is None:
            return None
        if quit_keys and self.alive():
            with contextlib.suppress(OSError):
                self.write(quit_keys)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        REAPER.kill(self.proc, grace=1.0)
        self._closed.set()
        if self._reader is not None:
            self._reader.join(2.0)
        with contextlib.suppress(OSError):
            os.close(self._master)
        return self.proc.returncode

    # -- input/output
    def write(self, data: bytes) -> float:
        """Type bytes into the terminal.

        Args:
            data: Key bytes (``b"j"``, ``b"\\x1b[B"`` …).

        Returns:
            ``time.monotonic()`` just before the write.
        """
        at = time.monotonic()
        os.write(self._master, data)
        return at

    def resize(self, cols: int, rows: int) -> None:
        """Resize the pty (the program gets SIGWINCH).

        Args:
            cols: New width.
            rows: New height.
        """
        with self._lock:
            self.cols, self.rows = cols, rows
            self.screen = Screen(cols, rows)
        _set_winsize(self._master, cols, rows)

    def snapshot(self) -> list[str]:
        """A consistent copy of the screen rows."""
        with self._lock:
            return self.screen.lines()

    def check(self, predicate: Callable[[Screen], T]) -> T:
        """Evaluate a function of the current screen under the reader's lock.

        Args:
            predicate: Function of the screen.

        Returns:
            Its result.
        """
        with self._lock:
            return predicate(self.screen)

    def wait_for(self, predicate: Callable[[Screen], bool | None],
                 timeout: float) -> float | None:
        """Wait until the screen satisfies a predicate.

        Args:
            predicate: Function of the screen, evaluated after every output chunk.
            timeout: Seconds to wait.

        Returns:
            ``time.monotonic()`` of the chunk that first satisfied it, or None on timeout.
        """
        probe = Probe(predicate)
        with self._lock:
            if predicate(self.screen):
                return time.monotonic()
            self._probes.append(probe)
        try:
            probe.event.wait(timeout)
        finally:
            with self._lock:
                self._probes.remove(probe)
        return probe.hit_at

    def press(self, key: bytes, changed: Callable[[Screen], bool | None],
              timeout: float = 2.0) -> float | None:
        """Type a key and time it to the first output chunk after which ``changed`` holds.

        Args:
            key: Key bytes.
            changed: Predicate that is false before the key and true once its effect is painted.
            timeout: Seconds to wait for the effect.

        Returns:
            Latency in seconds, or None when the effect never showed.
        """
        probe = Probe(changed)
        with self._lock:
            self._probes.append(probe)
        try:
            sent = self.write(key)
            probe.event.wait(timeout)
        finally:
            with self._lock:
                self._probes.remove(probe)
        return None if probe.hit_at is None else max(0.0, probe.hit_at - sent)

    def sample(self) -> TreeSample | None:
        """CPU/RSS sample of the program's process tree (None if it is gone)."""
        if self.tree is None:
            return None
        return self.tree.sample()


# --------------------------------------------------------------------------- statistics
def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank-with-interpolation percentile.

    Args:
        values: Samples.
        pct: Percentile in 0..100.

    Returns:
        The percentile, or None without samples.
    """
    data = sorted(values)
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * pct / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)
