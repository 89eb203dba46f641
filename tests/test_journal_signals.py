"""SIGHUP/SIGTERM handlers: flush the journal and every registered draft, then ask the app to exit."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from journal_helpers import incident

from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.signals import install_signal_handlers, register_flusher


async def test_signal_flushes_then_asks_the_app_to_exit(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.add_note("x", [incident()])
    order: list[str] = []
    unregister = register_flusher(lambda: order.append("draft"))
    exited = asyncio.Event()

    def on_exit(signum: int) -> None:
        order.append(f"exit {signum}")
        exited.set()

    uninstall = install_signal_handlers(journal, on_exit=on_exit, exit_deadline=None)
    try:
        for sig in (signal.SIGHUP, signal.SIGTERM):
            exited.clear()
            os.kill(os.getpid(), sig)
            await asyncio.wait_for(exited.wait(), 5)
        assert order == ["draft", f"exit {int(signal.SIGHUP)}", "draft",
                         f"exit {int(signal.SIGTERM)}"]
    finally:
        uninstall()
        unregister()
    # Uninstalled: the loop holds no handler for either signal any more.
    loop = asyncio.get_running_loop()
    assert not loop.remove_signal_handler(signal.SIGHUP)
    assert not loop.remove_signal_handler(signal.SIGTERM)


def test_a_failing_flusher_does_not_stop_the_others(tmp_path: Path) -> None:
    from sre_cockpit.feeds.signals import flush_all

    seen: list[int] = []

    def boom() -> None:
        raise OSError("disk gone")

    undo = [register_flusher(boom), register_flusher(lambda: seen.append(1))]
    try:
        flush_all()
    finally:
        for u in undo:
            u()
    assert seen == [1]


def test_a_hung_flusher_cannot_keep_the_process_alive(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    script = (
        "import signal, time, sys\n"
        "from sre_cockpit.feeds.signals import install_signal_handlers, register_flusher\n"
        "register_flusher(lambda: time.sleep(3600))  # a flush stuck on a hung disk\n"
        "install_signal_handlers(on_exit=lambda signum: None, exit_deadline=1.0)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    time.sleep(0.05)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 128 + signal.SIGTERM
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
