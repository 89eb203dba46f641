"""Drive the real ``sre-cockpit`` process in a pseudo-terminal and read its screen while it runs.

:func:`test_pty_hostile.run_in_pty` runs a program for a fixed time; a scenario that changes the
world half-way (a simulator fault set, then cleared) needs to read the screen, act, and read
again. :class:`PtyScreen` keeps the process running, feeds everything it writes to a terminal
emulator (pyte, answering the terminal's queries like a real one) and waits for what a person
would wait for on the screen.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Sequence

import pyte
from test_pty_hostile import set_winsize


class PtyScreen:
    """A program running in a pty, its output decoded onto an emulated screen.

    Args:
        argv: the command.
        cols: terminal columns.
        rows: terminal rows.
    """

    def __init__(self, argv: Sequence[str], *, cols: int = 120, rows: int = 40) -> None:
        master, slave = os.openpty()
        set_winsize(slave, rows, cols)
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        env.pop("TMUX", None)
        env.pop("TEXTUAL", None)
        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave,
                                     env=env, start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._replies: list[bytes] = []
        self.screen.write_process_input = (  # type: ignore[method-assign]
            lambda data: self._replies.append(data.encode()))
        self.output = bytearray()

    @property
    def lines(self) -> list[str]:
        """The screen, row by row."""
        return list(self.screen.display)

    @property
    def text(self) -> str:
        """The screen as one string."""
        return "\n".join(self.screen.display)

    def pump(self, seconds: float) -> None:
        """Read what the program writes for ``seconds`` (answering terminal queries)."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if not ready:
                if self.proc.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk
            self._stream.feed(chunk)
            while self._replies:
                os.write(self.master, self._replies.pop(0))

    def wait_for(self, check: Callable[[PtyScreen], bool], within: float, what: str) -> float:
        """Pump until ``check(self)`` holds; returns the seconds it took.

        Raises:
            AssertionError: not within ``within`` seconds (with the screen), or the program
                exited.
        """
        start = time.monotonic()
        while not check(self):
            if self.proc.poll() is not None:
                raise AssertionError(f"the program exited ({self.proc.returncode}) waiting "
                                     f"for {what}:\n{self.text}")
            if time.monotonic() - start > within:
                raise AssertionError(f"no {what} within {within:g}s; the screen:\n{self.text}")
            self.pump(0.1)
        return time.monotonic() - start

    def type(self, keys: bytes) -> None:
        """Write keys to the terminal, as one read."""
        os.write(self.master, keys)

    def close(self) -> None:
        """Stop the program (its whole process group) and release the pty."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)
