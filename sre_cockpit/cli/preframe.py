"""The cockpit's header, drawn by the CLI before Textual loads.

Python, Textual and the first layout take ~0.3-0.5 s of CPU before the UI can draw anything; the
operator's first question — which context, is it production, can I act — is answered from the
quick read of the config (:func:`sre_cockpit.cli.tui.peek`) well before that. This module writes
that header line (the same words as the real header: ``ctx NAME`` or ``⚠ PRODUCTION NAME``,
``READ-ONLY``, the providers still starting) on the alternate screen, in the terminal's own
colours, and gets out of the way: Textual's first frame covers every cell of it.

The terminal is changed as little as possible and always given back: echo is off while the
header is up (keys typed meanwhile wait in the terminal for the cockpit instead of being printed
over it), and :meth:`PreFrame.release` restores the modes *before* Textual starts (Textual saves
the modes it finds to restore them at exit). When the UI never starts (an error, Ctrl-C),
:meth:`PreFrame.abort` leaves the alternate screen and shows the cursor again. Nothing here
imports Textual.
"""

from __future__ import annotations

import contextlib
import os
import signal
import termios
import unicodedata
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from sre_cockpit.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from sre_cockpit.ui.boot import BootInfo

ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"
"""Alternate screen, cursor hidden, cleared."""
LEAVE = "\x1b[0m\x1b[2J\x1b[?1049l\x1b[?25h"
"""Cleared, back to the shell's screen, cursor shown."""
PRODUCTION_STYLE = "\x1b[1;97;41m"
"""Bold bright white on red: the real header's production badge in any terminal palette."""
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RESET = "\x1b[0m"


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells (an ellipsis marks the cut)."""
    if _cells(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        size = _cells(ch)
        if used + size > max(0, width - 1):
            break
        out.append(ch)
        used += size
    return "".join(out) + "…"


def header_line(boot: BootInfo, cols: int) -> str:
    """The header row with its SGR styles, at most ``cols`` cells wide.

    Args:
        boot: what the quick read of the config found.
        cols: the terminal's width.

    Returns:
        The row (no newline).
    """
    name = sanitize_line(boot.context)
    badge = f" ⚠ PRODUCTION {name} " if boot.danger else f" ctx {name} "
    parts: list[tuple[str, str]] = [(PRODUCTION_STYLE if boot.danger else BOLD, badge)]
    if boot.read_only:
        parts.append((BOLD, " READ-ONLY "))
    providers = "  ".join(f"○ {sanitize_line(p)}" for p in boot.providers)
    if providers:
        parts.append((DIM, f" {providers} "))
    right = " starting… "
    out, used = [], 0
    room = max(0, cols - _cells(right))
    for style, text in parts:
        if used >= room:
            break
        shown = _cut(text, room - used)
        out.append(f"{style}{shown}{RESET}")
        used += _cells(shown)
    if used + _cells(right) <= cols:
        out.append(" " * (cols - used - _cells(right)) + f"{DIM}{right}{RESET}")
    return "".join(out)


class PreFrame:
    """The header on screen until the UI takes over.

    Args:
        out: the terminal's file descriptor the UI writes to (Textual writes to stderr).
        tty: the terminal's input file descriptor (its echo is turned off meanwhile).
    """

    def __init__(self, out: int, tty: int) -> None:
        self.out = out
        self.tty = tty
        self._modes: list[Any] | None = None
        self._sigterm: Callable[[int, FrameType | None], object] | int | None = None
        self.active = False

    @classmethod
    def show(cls, boot: BootInfo, *, out: int = 2, tty: int = 0) -> PreFrame | None:
        """Draw the header (None, drawing nothing, when either descriptor is not a terminal or
        the terminal refuses).

        Args:
            boot: what the first frame shows.
            out: where the UI writes.
            tty: the terminal's input.

        Returns:
            The pre-frame to release or abort, or None.
        """
        if not (os.isatty(out) and os.isatty(tty)):
            return None
        frame = cls(out, tty)
        try:
            cols = os.get_terminal_size(out).columns
            frame._modes = termios.tcgetattr(tty)
            quiet = list(frame._modes)
            quiet[3] = int(quiet[3]) & ~termios.ECHO
            termios.tcsetattr(tty, termios.TCSANOW, quiet)
            frame.active = True
            # SIGTERM before the UI runs would leave the terminal on the alternate screen
            frame._sigterm = signal.signal(signal.SIGTERM, frame._on_sigterm)
            os.write(out, (ENTER + header_line(boot, cols)).encode("utf-8"))
        except (OSError, termios.error, ValueError):
            frame.abort()
            return None
        return frame

    def _on_sigterm(self, signum: int, _frame: FrameType | None) -> None:
        self.abort()
        os._exit(128 + signum)

    def _restore(self) -> None:
        if self._modes is not None:
            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self.tty, termios.TCSANOW, self._modes)
            self._modes = None
        if self._sigterm is not None:
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None

    def release(self) -> None:
        """Give the terminal modes back just before the UI starts (it keeps the screen)."""
        self._restore()
        self.active = False

    def abort(self) -> None:
        """The UI will not start: leave the alternate screen, cursor and modes as they were."""
        was_drawn = self.active
        self._restore()
        self.active = False
        if was_drawn:
            with contextlib.suppress(OSError):
                os.write(self.out, LEAVE.encode("ascii"))
