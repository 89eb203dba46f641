"""SIGHUP / SIGTERM: flush the notes journal and the open draft before the process goes away.

Textual installs no handler for either, and a dropped SSH link (without tmux) sends SIGHUP: the
default action kills the cockpit with the note being typed still in memory. The handlers here
run every registered flusher (the notes store saving what is only in memory, the note editor's
draft save), then either ask the app to exit (``on_exit``) or re-deliver the signal with its
default action so the process ends exactly as it would have; either way the process is ended
``EXIT_DEADLINE_S`` after the signal even if a flusher hangs. Nothing here imports Textual.

A terminal can also go away without a signal: a pty whose master is closed (a test killed, a
terminal emulator crashed, an SSH session whose pty is not our controlling terminal) sends none.
Textual's input thread then spins on end-of-file and its output thread dies on ``EIO``, after
which the event loop blocks on the full output queue — and a signal handler run by that loop
never runs (the cockpit ignored SIGTERM at ~34 % CPU). :func:`watch_hangup` sees the hang-up
(``POLLHUP``/``POLLERR`` on the terminal, without reading a byte) in its own thread and takes
the SIGHUP path from there: deadline, flush, exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the handlers are installed on the UI thread: no notes store import there
    from sre_cockpit.feeds.journal import Journal

HANDLED_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGHUP, signal.SIGTERM)
EXIT_DEADLINE_S = 3.0
"""After a handled signal the process is ended anyway this many seconds later (a hung-up
terminal can block a clean exit, a hung disk a flush)."""

_flushers: list[Callable[[], None]] = []


def register_flusher(flush: Callable[[], None]) -> Callable[[], None]:
    """Run ``flush`` (synchronous, quick, must not raise) when a handled signal arrives.

    Returns:
        A function that unregisters it.
    """
    _flushers.append(flush)

    def unregister() -> None:
        with contextlib.suppress(ValueError):
            _flushers.remove(flush)

    return unregister


def flush_all() -> None:
    """Run every registered flusher (errors are swallowed: flushing must reach the next one)."""
    for flush in list(_flushers):
        with contextlib.suppress(Exception):
            flush()


HANGUP_EVENTS = select.POLLHUP | select.POLLERR | select.POLLNVAL


def watch_hangup(fds: Iterable[int], on_hangup: Callable[[], None]) -> Callable[[], None]:
    """Call ``on_hangup`` (once, from a daemon thread) when any of ``fds`` hangs up.

    The thread sleeps in ``poll`` until a hang-up or :func:`stop <watch_hangup>` (a pipe wakes
    it): no timer, no CPU while the terminal is there, and no input read away from the app.

    Returns:
        A function that stops the watch.
    """
    poller = select.poll()
    watched = 0
    for fd in fds:
        with contextlib.suppress(OSError, ValueError):
            poller.register(fd, 0)  # no events asked: poll reports only hang-up and errors
            watched += 1
    wake_read, wake_write = os.pipe()
    poller.register(wake_read, select.POLLIN)
    stopped = threading.Event()

    def run() -> None:
        try:
            while not stopped.is_set():
                try:
                    events = poller.poll()
                except InterruptedError:
                    continue
                if stopped.is_set():
                    return
                if any(fd != wake_read and mask & HANGUP_EVENTS for fd, mask in events):
                    on_hangup()
                    return
        finally:
            for fd in (wake_read, wake_write):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def stop() -> None:
        if not stopped.is_set():
            stopped.set()
            with contextlib.suppress(OSError):
                os.write(wake_write, b"x")

    if watched:
        threading.Thread(target=run, name="terminal-hangup", daemon=True).start()
    else:
        stopped.set()
        for fd in (wake_read, wake_write):
            os.close(fd)
    return stop


def terminal_fds() -> tuple[int, ...]:
    """The process's terminal: standard input and output, those that are ttys."""
    fds = []
    for stream in (sys.__stdin__, sys.__stdout__):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if stream is not None and os.isatty(stream.fileno()):
                fds.append(stream.fileno())
    return tuple(dict.fromkeys(fds))


def install_signal_handlers(journal: Journal | None = None, *,
                            on_exit: Callable[[int], Any] | None = None,
                            loop: asyncio.AbstractEventLoop | None = None,
                            signals: Iterable[signal.Signals] = HANDLED_SIGNALS,
                            exit_deadline: float | None = EXIT_DEADLINE_S,
                            terminal: Iterable[int] = (),
                            ) -> Callable[[], None]:
    """Install the flushing handlers for SIGHUP and SIGTERM.

    In the app, call it from ``on_mount`` (a running loop): ``install_signal_handlers(journal,
    on_exit=lambda signum: app.exit(return_code=128 + signum))``.

    Args:
        journal: the notes journal to fsync (also registered as a flusher).
        on_exit: asked to end the app after flushing; the process is ended anyway after
            ``EXIT_DEADLINE_S``. Without it the signal's default action is re-delivered.
        loop: install through ``loop.add_signal_handler`` (default: the running loop, if any,
            else ``signal.signal``).
        signals: which signals.
        exit_deadline: seconds after the signal before the process is ended anyway, even
            if a flusher hangs (None: never; tests).
        terminal: file descriptors of the terminal: their hang-up is handled like SIGHUP
            (:func:`watch_hangup`), from a thread of its own, so a blocked loop cannot stop it.

    Returns:
        A function restoring the previous handlers and unregistering the journal flusher.
    """
    unregister = register_flusher(journal.flush) if journal is not None else (lambda: None)
    chosen = tuple(signals)
    if loop is None:
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()

    def handle(signum: int) -> None:
        # The deadline starts before the flush: a flusher stuck on a hung disk must not keep
        # a process that was told to end alive (it was deaf to SIGTERM and SIGHUP before).
        if exit_deadline is not None:
            timer = threading.Timer(exit_deadline, os._exit, args=(128 + signum,))
            timer.daemon = True
            timer.start()
        flush_all()
        if on_exit is None:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if threading.current_thread() is not threading.main_thread() and loop is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop: the deadline ends it
                loop.call_soon_threadsafe(leave, signum)
            return
        leave(signum)

    def leave(signum: int) -> None:
        try:
            on_exit(signum)  # type: ignore[misc]  # only scheduled with one
        except Exception:
            os._exit(128 + signum)

    previous: dict[signal.Signals, Any] = {}
    for sig in chosen:
        if loop is not None:
            previous[sig] = None
            loop.add_signal_handler(sig, handle, int(sig))
        else:
            previous[sig] = signal.signal(sig, lambda signum, _frame: handle(signum))

    stop_watch = watch_hangup(terminal, lambda: handle(int(signal.SIGHUP)))

    def uninstall() -> None:
        stop_watch()
        unregister()
        for sig, old in previous.items():
            if loop is not None:
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
            else:
                signal.signal(sig, old if old is not None else signal.SIG_DFL)

    return uninstall
