"""Drive programs in a real tmux (a private server per test): type keys, read the screen and the
terminal modes tmux keeps for the pane (alternate screen, mouse reporting).

::

    with TmuxPane.start(shell_command(env), cols=120, rows=40) as pane:
        pane.run("sre-cockpit --config c.yaml")
        pane.wait_for("● am ok")
        pane.send("ctrl+z")            # tmux key names
        pane.modes()                   # {"alternate_on": "0", "mouse_any_flag": "0", ...}

Skips the test when tmux is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

MODE_FLAGS = ("alternate_on", "mouse_any_flag", "mouse_button_flag", "mouse_standard_flag",
              "mouse_sgr_flag", "cursor_flag")
"""Pane formats tmux keeps per pane: whether the program left the alternate screen, mouse
reporting (any motion, buttons, basic, SGR encoding) or a hidden cursor on."""

_COUNTER = itertools.count()


def require_tmux() -> str:
    """The tmux binary, or skip the test."""
    path = shutil.which("tmux")
    if path is None:
        pytest.skip("tmux is not installed (Debian package tmux; .ci/run installs it)")
    return path


def cockpit_argv(config: Path, *extra: str) -> str:
    """The shell command line that starts the real cockpit with this interpreter."""
    return shlex.join([sys.executable, "-m", "sre_cockpit", "--config", str(config), *extra])


PROMPT = "[sh]$"
"""The prompt of :func:`shell_command`'s shell (a space follows it, which capture-pane drops)."""


def shell_command(env: Mapping[str, str] | None = None) -> str:
    """An interactive bash with job control and no rc files, prompt :data:`PROMPT`."""
    assigns = [f"{k}={v}" for k, v in (env or {}).items()]
    return shlex.join(["env", *assigns, f"PS1={PROMPT} ", "bash", "--norc", "--noprofile",
                       "-i"])


class TmuxPane:
    """One tmux session with one pane, on a private server (``tmux -L``)."""

    def __init__(self, command: str, *, cols: int = 120, rows: int = 40) -> None:
        self.tmux = require_tmux()
        self.server = f"sre-cockpit-test-{os.getpid()}-{next(_COUNTER)}"
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        env["TERM"] = "xterm-256color"
        subprocess.run([self.tmux, "-L", self.server, "-f", "/dev/null", "start-server", ";",
                        "set-option", "-g", "default-terminal", "tmux-256color", ";",
                        "set-option", "-g", "escape-time", "10", ";",
                        "new-session", "-d", "-s", "main", "-x", str(cols), "-y", str(rows),
                        command], check=True, env=env, timeout=20)

    @classmethod
    @contextlib.contextmanager
    def start(cls, command: str, *, cols: int = 120, rows: int = 40) -> Iterator[TmuxPane]:
        """A pane running ``command``; the server is killed on exit."""
        pane = cls(command, cols=cols, rows=rows)
        try:
            yield pane
        finally:
            pane.close()

    def _cmd(self, *args: str) -> str:
        done = subprocess.run([self.tmux, "-L", self.server, *args], capture_output=True,
                              text=True, timeout=20)
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def text(self) -> str:
        """The visible screen, one line per row (trailing spaces kept off)."""
        return self._cmd("capture-pane", "-p", "-t", "main")

    def modes(self) -> dict[str, str]:
        """The pane's terminal modes (:data:`MODE_FLAGS`), as tmux reports them."""
        fmt = "\t".join(f"#{{{flag}}}" for flag in MODE_FLAGS)
        values = self._cmd("display-message", "-p", "-t", "main", fmt).rstrip("\n").split("\t")
        return dict(zip(MODE_FLAGS, values, strict=True))

    def send(self, *keys: str) -> None:
        """Press keys by tmux name (``ctrl+z`` is written ``C-z``)."""
        self._cmd("send-keys", "-t", "main", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally."""
        self._cmd("send-keys", "-t", "main", "-l", text)

    def run(self, command_line: str) -> None:
        """Type a command line into the shell and press Enter."""
        self.type(command_line)
        self.send("Enter")

    def pane_pid(self) -> int:
        """The pid of the pane's own process (the shell)."""
        return int(self._cmd("display-message", "-p", "-t", "main", "#{pane_pid}").strip())

    def child_pid(self, timeout: float = 10.0) -> int:
        """The pid of the shell's child process (the program it is running)."""
        shell = self.pane_pid()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
                if children:
                    return int(children[0])
            time.sleep(0.05)
        raise AssertionError(f"the shell {shell} started no program")

    def wait_for(self, want: str | Callable[[str], bool], timeout: float = 30.0) -> str:
        """Poll the screen until it shows ``want`` (text, or a predicate on the screen).

        Raises:
            AssertionError: not within ``timeout``, with the screen in the message.
        """
        check = (lambda screen: want in screen) if isinstance(want, str) else want
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.text()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {want!r}; the screen:\n{screen}")

    def close(self) -> None:
        """Kill the private server and everything it runs, and remove its socket (tmux 3.3
        leaves it behind)."""
        with contextlib.suppress(Exception):
            subprocess.run([self.tmux, "-L", self.server, "kill-server"], capture_output=True,
                           timeout=10)
        base = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        with contextlib.suppress(OSError):
            (base / self.server).unlink(missing_ok=True)
