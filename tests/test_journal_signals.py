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
