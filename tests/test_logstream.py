"""LogStream guarantees against the Loki stub: exactly-once delivery across reconnects of every
kind, gap fill, proactive reconnect, polling fallback, exact drop counters."""

# ruff: noqa: ASYNC110  (tests poll state that a stream mutates)
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from loki_helpers import LokiStub, loki_stub

from sre_cockpit.core.models import LogLine
from sre_cockpit.feeds.logstream import NS, LogStream, StreamMode
from sre_cockpit.providers.base import ProviderError, TailMessage
from sre_cockpit.providers.loki import LogQLError, LokiOptions, LokiProvider, TailClosed

SEQ = re.compile(r"seq=(\d+)")


def provider(url: str, **opts: object) -> LokiProvider:
    return LokiProvider("loki", LokiOptions.model_validate({"type": "loki", "url": url, **opts}))


async def collect_until(stream: LogStream, done: Callable[[list[LogLine]], bool],
                        within: float) -> list[LogLine]:
    got: list[LogLine] = []
    task = asyncio.create_task(stream.run())
    try:
        async with asyncio.timeout(within):
            while not done(got):
                await stream.wait(0.2)
                got.extend(stream.drain())
                if task.done():
                    task.result()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    return got


def assert_exactly_once(lines: list[LogLine]) -> list[int]:
    seqs = [int(m.group(1)) for ln in lines if (m := SEQ.search(ln.line))]
    assert seqs, "no numbered lines"
    assert len(seqs) == len(set(seqs)), "duplicates delivered"
    assert seqs == sorted(seqs), "out of order"
    first, last = seqs[0], seqs[-1]
    assert seqs == list(range(first, last + 1)), \
        f"gaps: missing {sorted(set(range(first, last + 1)) - set(seqs))[:10]}"
    return seqs


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["close_every", "abort_every"])
async def test_exactly_once_over_reconnects(fault: str) -> None:
    with loki_stub(**{fault: 0.8}) as stub:
        stub.start_producer(200)
        loki = provider(stub.url)
        stream = LogStream.for_provider(loki, '{app="stub"}', backoff_base=0.05)
        try:
            got = await collect_until(stream, lambda _: stream.reconnects >= 6, 30)
        finally:
            await loki.aclose()
        seqs = assert_exactly_once(got)
        assert len(seqs) > 300
        status = stream.status
        assert status.reconnects >= 6
        assert status.dropped_client == 0 and status.dropped_server == 0
        assert stub.tail_connections >= 6
        assert status.last_reconnect is not None and status.last_reconnect_reason


async def test_backfill_then_live_and_boundary_duplicates() -> None:
    with loki_stub() as stub:
        base = time.time_ns() - 5 * 10**9
        for i in range(50):
            stub.push(f"seq={i}", ts=base + i * 1000)
        loki = provider(stub.url)
        stream = LogStream(loki, '{app="stub"}', since_s=60, backfill_limit=20)

        def pushed_live(got: list[LogLine]) -> bool:
            if len(got) == 20 and stub.seq == 0:
                stub.seq = 50
                stub.push("seq=50")
            return len(got) >= 21

        try:
            got = await collect_until(stream, pushed_live, 10)
        finally:
            await loki.aclose()
        assert [ln.line for ln in got] == [f"seq={i}" for i in range(30, 51)]
        # the same lines fed again (a resumed tail repeating the boundary) are not delivered
        assert stream.ingest(got[-3:]) == 0
        assert stream.status.duplicates == 3


async def test_gap_filled_when_tail_history_truncated() -> None:
    """Loki's tail history is backward + limit: with a client clock behind the server, the
    first message is capped; what lies before it must come from query_range."""
    with loki_stub() as stub:
        base = time.time_ns() - 8 * 10**9
        for i in range(40):
            stub.push(f"seq={i}", ts=base + i * 10**6)
        loki = provider(stub.url, limit=5)
        stream = LogStream.for_provider(loki, '{app="stub"}',
                                        now_ns=lambda: time.time_ns() - 10 * 10**9)
        try:
            got = await collect_until(stream, lambda g: len(g) >= 40, 10)
        finally:
            await loki.aclose()
        assert_exactly_once(got)
        assert len(got) == 40
        assert stream.status.gap_filled == 35


async def test_gap_filled_after_disconnect() -> None:
    """Lines written while the client was disconnected are recovered exactly once."""
    with loki_stub() as stub:
        loki = provider(stub.url)
        stream = LogStream.for_provider(loki, '{app="stub"}', tail_mode="websocket",
                                        backoff_base=0.2)
        task = asyncio.create_task(stream.run())
        try:
            async with asyncio.timeout(10):
                while stream.mode is not StreamMode.LIVE:
                    await asyncio.sleep(0.02)
                stub.push("seq=0")
                while stream.received < 1:
                    await asyncio.sleep(0.02)
                stub.refuse_upgrade = 503
                stub.abort_every = 0.0
                while stream.reconnects < 1:
                    await asyncio.sleep(0.01)
                for i in range(1, 41):
                    stub.push(f"seq={i}")
                attempts = len(stub.tail_params)
                while len(stub.tail_params) < attempts + 2:  # a refused try started after them
                    await asyncio.sleep(0.02)
                stub.abort_every = None
                stub.refuse_upgrade = None
                while stream.received < 41:
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await loki.aclose()
        got = stream.drain()
        assert_exactly_once(got)
        assert len(got) == 41
        assert stream.status.gap_filled >= 40


async def test_proactive_reconnect_before_max_duration() -> None:
    with loki_stub() as stub:
        stub.start_producer(100)
        loki = provider(stub.url, max_tail_duration="1s")
        stream = LogStream.for_provider(loki, '{app="stub"}')
        try:
            got = await collect_until(stream, lambda _: stream.reconnects >= 3, 15)
        finally:
            await loki.aclose()
        assert_exactly_once(got)
        assert "proactive" in (stream.status.last_reconnect_reason or "")


@pytest.mark.slow
async def test_silence_triggers_reconnect() -> None:
    with loki_stub(silent=True) as stub:
        loki = provider(stub.url, silence_timeout="1s", ping_interval="0.3s")
        stream = LogStream.for_provider(loki, '{app="stub"}', backoff_base=0.05)
        try:
            await collect_until(stream, lambda _: stream.reconnects >= 2, 15)
        finally:
            await loki.aclose()
        assert stub.tail_connections >= 2


async def test_polling_fallback_when_upgrade_refused() -> None:
    with loki_stub(refuse_upgrade=403) as stub:
        stub.start_producer(100)
        loki = provider(stub.url, poll_interval="0.2s")
        stream = LogStream.for_provider(loki, '{app="stub"}')
        try:
            seen: list[Any] = []

            def enough(got: list[LogLine]) -> bool:
                seen.append(stream.status)
                return len(got) >= 150

            got = await collect_until(stream, enough, 15)
            assert seen[-1].mode is StreamMode.POLLING
            assert "HTTP 403" in (seen[-1].detail or "")
            assert "polling every 0.2s" in (seen[-1].detail or "")
        finally:
            await loki.aclose()
        assert_exactly_once(got)


async def test_query_error_stops_with_loki_message() -> None:
    with loki_stub() as stub:
        loki = provider(stub.url)
        stream = LogStream(loki, "unk(foo)")
        try:
            with pytest.raises(LogQLError, match="parse error at line 1, col 1"):
                await asyncio.wait_for(stream.run(), 10)
        finally:
            await loki.aclose()
        assert stream.mode is StreamMode.ERROR
        assert "parse error" in (stream.status.last_error or "")


class ScriptedSource:
    """A LogSource replaying scripted tail messages (for exact counter checks)."""

    name = "scripted"
    default_query = "{a=\"b\"}"

    def __init__(self, messages: list[TailMessage]) -> None:
        self.messages = messages

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        return []

    async def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
        for message in self.messages:
            yield message
        await asyncio.sleep(3600)


async def test_exact_server_and_client_drop_counters() -> None:
    lines = [LogLine(i, f"seq={i}") for i in range(1, 101)]
    messages = [TailMessage(lines=tuple(lines[i:i + 10]), dropped=i // 10) for i in range(0, 100, 10)]
    stream = LogStream(ScriptedSource(messages), "{a=\"b\"}", max_pending=30)
    task = asyncio.create_task(stream.run())
    try:
        async with asyncio.timeout(5):
            while stream.received < 100:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    status = stream.status
    assert status.dropped_server == sum(range(10))  # 0+1+…+9, exactly as reported
    assert status.dropped_client == 70  # 100 received, 30 kept for the consumer
    kept = stream.drain()
    assert [ln.ts_ns for ln in kept] == list(range(71, 101))  # the newest are kept
    assert status.received == 100


async def test_status_defaults_and_rate(monkeypatch: Any) -> None:
    stream = LogStream(ScriptedSource([]), "{a=\"b\"}")
    assert stream.status.mode is StreamMode.CONNECTING
    stream.ingest([LogLine(1, "x"), LogLine(2, "y")])
    assert stream.status.pending == 2
    assert stream.cursor_ns == 2


def test_tail_closed_carries_code() -> None:
    err = TailClosed("x", code=1011, reason="reached tail max duration limit")
    assert err.code == 1011 and err.retryable


def test_unused_stub_class_importable() -> None:
    assert LokiStub().url.startswith("http://127.0.0.1:")


async def test_gap_filled_when_disconnected_before_any_line() -> None:
    """No line delivered yet still means "everything since the stream began" on resume."""
    with loki_stub() as stub:
        loki = provider(stub.url)
        stream = LogStream.for_provider(loki, '{app="stub"}', tail_mode="websocket",
                                        backoff_base=0.2)
        task = asyncio.create_task(stream.run())
        try:
            async with asyncio.timeout(10):
                while stream.mode is not StreamMode.LIVE:
                    await asyncio.sleep(0.02)
                stub.refuse_upgrade = 503
                stub.abort_every = 0.0
                while stream.reconnects < 1:
                    await asyncio.sleep(0.01)
                for i in range(10):
                    stub.push(f"seq={i}")
                attempts = len(stub.tail_params)
                while len(stub.tail_params) < attempts + 2:
                    await asyncio.sleep(0.02)
                stub.abort_every = None
                stub.refuse_upgrade = None
                while stream.received < 10:
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await loki.aclose()
        assert [ln.line for ln in stream.drain()] == [f"seq={i}" for i in range(10)]


def test_backfill_is_not_counted_as_live_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    stream = LogStream(ScriptedSource([]), "{a=\"b\"}")
    history = [LogLine(ts_ns=i, line=f"old {i}", labels={"a": "b"}) for i in range(500)]
    assert stream.ingest(history, backfill=True) == 500
    live = [LogLine(ts_ns=10_000 + i, line=f"new {i}", labels={"a": "b"}) for i in range(20)]
    assert stream.ingest(live) == 20
    clock[0] += 1.0
    assert stream.received == 520  # counted as received, exactly
    assert stream.lines_per_s() == 20 / 5.0  # but only live lines make the rate


def test_steady_rate_reads_as_its_own_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """50 lines every second read as 50/s (the average covered four seconds but divided by 5)."""
    clock = [2000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    stream = LogStream(ScriptedSource([]), "{a=\"b\"}")
    for second in range(10):
        stream.ingest([LogLine(ts_ns=second * 10**9 + i, line=f"l {i}", labels={"a": "b"})
                       for i in range(50)])
        clock[0] += 1.0
        if second >= 5:
            assert stream.lines_per_s() == 50.0


class FlakyHistorySource(ScriptedSource):
    """Its first range queries fail (a garbage answer), then it holds an hour of lines; the
    tail upgrade is refused (polling)."""

    def __init__(self, now_ns: int, failures: int) -> None:
        super().__init__([])
        self.failures = failures
        self.lines = [LogLine(now_ns - 3600 * NS + i * 10**9, f"seq={i}") for i in range(3600)]

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        if self.failures > 0:
            self.failures -= 1
            raise ProviderError("loki: query_range: not JSON")
        found = [ln for ln in self.lines if start_ns <= ln.ts_ns < end_ns]
        return found[-limit:] if direction == "backward" else found[:limit]

    async def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
        from sre_cockpit.providers.loki import TailRefused

        raise TailRefused("loki: WebSocket upgrade refused: HTTP 200")
        yield TailMessage(lines=())  # pragma: no cover


async def test_failed_backfill_is_retried_not_replaced_by_the_whole_window() -> None:
    """--limit 100 --since 1h: after a failed backfill the stream fetched the whole hour."""
    now = 10_000 * NS
    source = FlakyHistorySource(now, failures=5)  # the query check and the backfill's four tries
    stream = LogStream(source, "{a=\"b\"}", since_s=3600, backfill_limit=100, tail_mode="auto",
                       poll_interval=0.01, backoff_base=0.001, backoff_cap=0.01,
                       now_ns=lambda: now)
    task = asyncio.create_task(stream.run())
    try:
        async with asyncio.timeout(5):
            while stream.received < 100:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert stream.received == 100
    assert [ln.line for ln in stream.drain()] == [f"seq={i}" for i in range(3500, 3600)]
