"""LogStream when Loki fails: a Loki that never answered is "connecting" with its reason, never
"reconnecting"; every failed poll is ``failing`` with its reason; after the failure clears the
stream is back on the WebSocket within one poll backoff, and while the upgrade stays refused it
is retried on a doubling backoff that resets once a tail has opened."""

# ruff: noqa: ASYNC110  (tests poll state that a stream mutates)
from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from loki_helpers import loki_stub

from sre_cockpit.core.models import LogLine
from sre_cockpit.feeds import logstream
from sre_cockpit.feeds.logstream import LogStream, StreamMode, StreamStatus
from sre_cockpit.providers.base import ProviderError, TailClosed, TailMessage, TailRefused
from sre_cockpit.providers.loki import LokiOptions, LokiProvider


def provider(url: str, **opts: object) -> LokiProvider:
    return LokiProvider("loki", LokiOptions.model_validate({"type": "loki", "url": url, **opts}))


def refused_url() -> str:
    """A loopback port nothing listens on (bound, then closed): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def run_until(stream: LogStream, done: Any, within: float) -> StreamStatus:
    """Run the stream until ``done()``; its status at that moment (before it is stopped)."""
    task = asyncio.create_task(stream.run())
    try:
        async with asyncio.timeout(within):
            while not done():
                await asyncio.sleep(0.02)
                if task.done():
                    task.result()
            return stream.status
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_loki_that_never_answered_is_connecting_not_reconnecting() -> None:
    events: list[str] = []
    loki = provider(refused_url())
    stream = LogStream.for_provider(loki, '{app="x"}', backoff_base=0.05, backoff_cap=0.1,
                                    on_event=events.append)
    try:
        status = await run_until(stream, lambda: stream.status.attempts >= 3, 10)
    finally:
        await loki.aclose()
    assert status.mode is StreamMode.CONNECTING
    assert not status.connected and status.failing
    assert status.reconnects == 0 and status.last_reconnect is None
    assert "ConnectError" in (status.last_error or "")
    assert (status.detail or "").startswith("never connected: ")
    assert events and all("reconnecting" not in e for e in events)
    assert all(e.startswith("log stream: not connected yet (") for e in events)


async def test_failing_polls_say_so_and_the_stream_is_live_again_soon_after() -> None:
    """Loki answering 500 to the upgrade and to every poll (issue 16 #8: the pane said
    "● loki polling" and the badge "ok"; after recovery it stayed on polling for 300 s)."""
    with loki_stub(refuse_upgrade=500, range_status=500) as stub:
        loki = provider(stub.url, poll_interval="0.2s")
        stream = LogStream.for_provider(loki, '{app="stub"}', backoff_base=0.02,
                                        backoff_cap=0.05)
        task = asyncio.create_task(stream.run())
        try:
            async with asyncio.timeout(20):
                while not (stream.mode is StreamMode.POLLING and stream.status.failing):
                    await asyncio.sleep(0.02)
                status = stream.status
                assert not status.connected
                assert "HTTP 500" in (status.last_error or "")
                assert "last poll failed" in (status.detail or "")
                attempts = len(stub.tail_params)
                stub.range_status = None  # polls answer again; the upgrade is still refused
                while not stream.connected:
                    await asyncio.sleep(0.02)
                assert not stream.status.failing
                while stream.mode is not StreamMode.POLLING or len(stub.tail_params) == attempts:
                    await asyncio.sleep(0.02)  # the recovered poll sent it to the WebSocket first
                assert not stream.status.failing
                stub.range_status = 500  # failing again after having worked: still failing
                while not stream.status.failing:
                    await asyncio.sleep(0.02)
                assert stream.status.connected and stream.status.last_ok_at is not None
                cleared = time.monotonic()
                stub.range_status = None
                stub.refuse_upgrade = None
                while stream.mode is not StreamMode.LIVE:
                    await asyncio.sleep(0.02)
                back_after = time.monotonic() - cleared
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await loki.aclose()
    # one poll backoff (0.2 s doubling, at most 32x here) plus the retries inside one poll,
    # then the WebSocket at once: far below websocket_retry (300 s)
    assert back_after < 10, back_after
    assert not stream.status.failing


class RefusingSource:
    """A LogSource whose tail upgrade is refused except on the attempts listed in ``opens``
    (those open, send one line and end); every attempt's time is recorded."""

    name = "scripted"
    default_query = '{a="b"}'

    def __init__(self, opens: set[int]) -> None:
        self.opens = opens
        self.attempts: list[float] = []

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        return []

    async def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
        self.attempts.append(time.monotonic())
        if len(self.attempts) not in self.opens:
            raise TailRefused("scripted: WebSocket upgrade refused: HTTP 403", status=403)
        yield TailMessage(lines=())
        yield TailMessage(lines=(LogLine(time.time_ns(), "opened"),))
        raise TailClosed("scripted: tail closed by proxy", code=1006)


async def test_websocket_retry_doubles_while_refused_and_resets_once_open(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logstream, "WEBSOCKET_RETRY_FIRST_S", 0.2)
    source = RefusingSource(opens={4})
    stream = LogStream(source, '{a="b"}', poll_interval=0.02, websocket_retry=0.8,
                       backoff_base=0.01, backoff_cap=0.02)
    await run_until(stream, lambda: len(source.attempts) >= 7, 15)
    gaps = [b - a for a, b in zip(source.attempts, source.attempts[1:], strict=False)]
    # refused, refused, refused: polling 0.2, 0.4, 0.8 s between tries; the 4th opens (and the
    # proxy cuts it): reconnect at once, refused, then polling from 0.2 s again, then 0.4
    expected = [0.2, 0.4, 0.8, 0.0, 0.2, 0.4]
    for gap, want in zip(gaps, expected, strict=False):
        assert want - 0.05 <= gap <= want + 0.35, (gaps, expected)


class OutageSource(RefusingSource):
    """Loki down (upgrade refused, every range query failing) until the tail has been tried
    ``until_attempt`` times; then everything works."""

    def __init__(self, until_attempt: int) -> None:
        super().__init__(opens=set())
        self.until_attempt = until_attempt

    @property
    def down(self) -> bool:
        return len(self.attempts) < self.until_attempt

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        if self.down:
            raise ProviderError("scripted: query_range: HTTP 500")
        return []

    async def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
        self.attempts.append(time.monotonic())
        if len(self.attempts) <= self.until_attempt:
            raise TailRefused("scripted: WebSocket upgrade refused: HTTP 500", status=500)
        yield TailMessage(lines=())
        await asyncio.sleep(3600)


async def test_recovery_at_the_start_of_a_polling_window_still_goes_live_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The polls failed in earlier polling windows; the first poll of a new window answers:
    the WebSocket is tried at once, not after that window (60 s in the benchmark)."""
    monkeypatch.setattr(logstream, "WEBSOCKET_RETRY_FIRST_S", 0.3)
    source = OutageSource(until_attempt=3)
    stream = LogStream(source, '{a="b"}', poll_interval=0.05, websocket_retry=10,
                       backoff_base=0.01, backoff_cap=0.02)
    status = await run_until(stream, lambda: stream.mode is StreamMode.LIVE, 15)
    assert status.connected and not status.failing
    gaps = [b - a for a, b in zip(source.attempts, source.attempts[1:], strict=False)]
    assert len(gaps) == 3 and gaps[0] >= 0.25 and gaps[1] >= 0.55, gaps  # windows 0.3, 0.6 s
    assert gaps[2] < 0.6, gaps  # not the third window's 1.2 s


class BlipSource(OutageSource):
    """The upgrade is refused once and the next range query fails once: the poll succeeds on
    its retry (the outage ended within one poll)."""

    def __init__(self) -> None:
        super().__init__(until_attempt=1)
        self.range_failures = 2  # the query check after the refusal, then the poll's first try

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        if self.range_failures:
            self.range_failures -= 1
            raise ProviderError("scripted: query_range: HTTP 500")
        return []


async def test_a_poll_that_needed_a_retry_sends_the_stream_back_to_the_websocket(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logstream, "WEBSOCKET_RETRY_FIRST_S", 5.0)
    source = BlipSource()
    stream = LogStream(source, '{a="b"}', since_s=60, backfill_limit=10, poll_interval=0.05,
                       backoff_base=0.01, backoff_cap=0.02)
    status = await run_until(stream, lambda: stream.mode is StreamMode.LIVE, 10)
    assert status.connected and not status.failing
    assert source.attempts[1] - source.attempts[0] < 1.0  # not after the 5 s polling window
