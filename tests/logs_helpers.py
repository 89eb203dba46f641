"""Helpers for log-pane tests: a host app that binds a LogPane to a LogFeed as the cockpit does,
and ways to read what the pane shows."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sre_cockpit.core.models import LogLine
from sre_cockpit.feeds.logs import LogBatch, LogFeed, LogsSnapshot
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.streamstatus import StreamMode
from sre_cockpit.ui.logs.view import LogPane, LogView
from sre_cockpit.ui.messages import LogLinesArrived, LogsChanged


class LogPaneApp(App[None]):
    """Hosts one LogPane on a LogFeed, as the cockpit app does: the feed's job runs as a worker
    (``start``) and every snapshot and batch reaches the pane as a message.

    Attributes:
        feed: the feed the pane shows.
        snapshots: every snapshot the feed published.
        batches: every batch of lines the feed handed over.
        pins: lines the pane asked to pin.
    """

    CSS = "LogPane { height: 1fr; }"

    def __init__(self, runtime: Runtime, *, start: bool = True,
                 low_bandwidth: bool = False) -> None:
        super().__init__()
        self.feed = LogFeed(runtime, low_bandwidth=low_bandwidth)
        self.start = start
        self.snapshots: list[LogsSnapshot] = []
        self.batches: list[LogBatch] = []
        self.pins: list[LogLine] = []

    def compose(self) -> ComposeResult:
        yield LogPane(id="logs")

    def on_mount(self) -> None:
        pane = self.query_one(LogPane)
        pane.bind(self.feed)
        self.feed.subscribe(self._published)
        self.feed.subscribe_batches(self._lines)
        if self.start:
            for job in self.feed.jobs():
                self.run_worker(job.run(), name=job.name, exit_on_error=False)
        self.set_focus(pane.focus_target())

    def _published(self, snapshot: LogsSnapshot) -> None:
        self.snapshots.append(snapshot)
        self.query_one(LogPane).post_message(LogsChanged(snapshot))

    def _lines(self, batch: LogBatch) -> None:
        self.batches.append(batch)
        self.query_one(LogPane).post_message(LogLinesArrived(batch))

    def on_pane_pin_requested(self, message: LogPane.PinRequested) -> None:
        self.pins.append(message.line)

    @property
    def pane(self) -> LogPane:
        """The log pane."""
        return self.query_one(LogPane)


def screen_text(app: App[Any]) -> str:
    """What the log view draws, row by row."""
    view = app.query_one(LogView)
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], within: float = 8.0) -> None:
    """Pause the app until ``predicate()`` holds (AssertionError after ``within`` seconds)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await pilot.pause(0.05)


def mode_is(pane: LogPane, mode: StreamMode) -> Callable[[], bool]:
    """A predicate: the pane shows a stream in ``mode``."""
    return lambda: pane.snapshot.stream is not None and pane.snapshot.stream.mode is mode


@contextlib.asynccontextmanager
async def running_pane(runtime: Runtime, size: tuple[int, int] = (80, 24), *,
                       live: bool = True, **kwargs: Any,
                       ) -> AsyncIterator[tuple[LogPaneApp, Pilot[Any], LogPane]]:
    """Run a :class:`LogPaneApp` on ``runtime``; with ``live`` wait until its tail is live."""
    app = LogPaneApp(runtime, **kwargs)
    async with app.run_test(size=size) as pilot:
        pane = app.pane
        if live:
            await wait_for(pilot, mode_is(pane, StreamMode.LIVE))
        yield app, pilot, pane
