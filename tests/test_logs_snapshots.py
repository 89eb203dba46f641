"""Snapshot baselines of the log pane (fixed lines, UTC timestamps, no live stream)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from loki_helpers import make_runtime
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sre_cockpit.core.models import LogLine
from sre_cockpit.feeds.logs import LogBatch, LogFeed, stream_health
from sre_cockpit.feeds.streamstatus import StreamMode, StreamStatus
from sre_cockpit.ui.logs.view import LogPane, LogView

T0 = 1_767_322_800_000_000_000  # 2026-01-02T03:00:00Z
NOW = datetime(2026, 1, 2, 3, 0, 30, tzinfo=UTC)
LABELS = MappingProxyType({"app": "checkout", "pod": "checkout-7d9"})
LINES = [
    "ts=2026-01-02T03:00:00Z level=info msg=\"request served\" path=/api/cart status=200",
    '{"level":"warn","msg":"slow upstream","upstream":"payments","latency_ms":912}',
    "ts=2026-01-02T03:00:02Z level=error msg=\"payment declined\" code=502 retry=3",
    "DEBUG cache miss key=user:42",
    "evil \x1b]52;c;cHduZWQ=\x07 title \x1b]0;pwned\x07 clear \x1b[2J c1 \x9b6n",
    "bidi \u202egnirts desrever\u202c zero\u200bwidth nul\x00",
    "[@click=app.quit]not a link[/] [b]not bold[/b] [link=http://x]no[/link]",
    "ts=2026-01-02T03:00:07Z level=error msg=\"db timeout\" after=2.3s",
    "plain line without a level " + "x" * 120,
]
REFUSED = ("loki: tail: ConnectError for http://10.20.30.40:3100/loki/api/v1/tail: "
           "[Errno 111] Connection refused")


class SnapApp(App[None]):
    """A log pane bound to a feed that is not running: the snapshot and the lines are
    published by hand (fixed counters, a frozen clock, no live stream)."""

    def __init__(self, *, never_connected: bool = False) -> None:
        super().__init__()
        self.feed = LogFeed(make_runtime("http://10.20.30.40:3100", query='{app="checkout"}',
                                         clock=lambda: NOW))
        self.never_connected = never_connected

    def compose(self) -> ComposeResult:
        yield LogPane(id="logs")

    def on_mount(self) -> None:
        pane = self.query_one(LogPane)
        pane.bind(self.feed)
        snapshot = self.feed.snapshot
        if self.never_connected:
            status = StreamStatus(mode=StreamMode.CONNECTING, query=snapshot.query,
                                  last_error=REFUSED, failing=True, attempts=4,
                                  detail=f"never connected: {REFUSED}")
        else:
            status = StreamStatus(mode=StreamMode.LIVE, query=snapshot.query, received=9,
                                  lines_per_s=3.0, connected=True)
        health = stream_health("loki", status, healthy_since=NOW)
        pane.show(replace(snapshot, stream=status, sources=(health,)))
        if not self.never_connected:
            lines = tuple(LogLine(T0 + i * 1_000_000_000 + i * 1_000_000, text, LABELS)
                          for i, text in enumerate(LINES))
            pane.add_batch(LogBatch(snapshot.generation, lines))
        self.query_one(LogView).focus()


async def timestamps_and_labels(pilot: Pilot[Any]) -> None:
    await pilot.press("t")
    await pilot.press("L")
    await pilot.pause()


async def filtered_and_paused(pilot: Pilot[Any]) -> None:
    pane = pilot.app.query_one(LogPane)
    pane.set_filter("error")
    await pilot.press("E")
    await pilot.pause()


def test_log_pane_80x24(snap_compare: Any) -> None:
    assert snap_compare(SnapApp(), terminal_size=(80, 24))


def test_log_pane_120x40_timestamps_labels(snap_compare: Any) -> None:
    assert snap_compare(SnapApp(), terminal_size=(120, 40), run_before=timestamps_and_labels)


def test_log_pane_filter_and_paused(snap_compare: Any) -> None:
    assert snap_compare(SnapApp(), terminal_size=(100, 20), run_before=filtered_and_paused)


def test_log_pane_wrapped(snap_compare: Any) -> None:
    async def wrap(pilot: Pilot[Any]) -> None:
        await pilot.press("w")
        await pilot.pause()

    assert snap_compare(SnapApp(), terminal_size=(60, 24), run_before=wrap)


def test_log_pane_never_connected_72x20(snap_compare: Any) -> None:
    """Loki never answered (the log pane is 72 columns wide in a 120-column terminal): the
    source line says so, the reason is shown whole under the status line (wrapped, not cut
    after "ConnectError for")."""
    assert snap_compare(SnapApp(never_connected=True), terminal_size=(72, 20))
