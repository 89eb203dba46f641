"""The headless LogFeed: batches never merged and tagged with their stream, snapshots only on
change (idle is idle), queries switched only once Loki accepts them, service focus, moments, and
the truth contract's words for every state of the stream."""

# ruff: noqa: ASYNC110  (tests poll state that a feed mutates)
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from loki_helpers import make_runtime

from sre_cockpit.core.models import HealthState, LogLine
from sre_cockpit.feeds.logs import LogBatch, LogFeed, LogsSnapshot, stream_health
from sre_cockpit.feeds.logstream import NS
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.streamstatus import StreamMode, StreamStatus
from sre_cockpit.providers.base import Capability, ProviderError, QueryError, TailMessage

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class MemoryLogs:
    """A LogSource in memory: range queries over ``lines``; the tail opens, sends what is
    pushed to ``live`` and stays open. Queries in ``refuse`` are refused like Loki refuses
    a bad LogQL query; ``fail`` makes every range query fail."""

    name = "mem"
    default_query = '{app="mem"}'

    def __init__(self, lines: list[LogLine] | None = None) -> None:
        self.lines = lines or []
        self.live: asyncio.Queue[LogLine] = asyncio.Queue()
        self.refuse: set[str] = set()
        self.fail: str | None = None
        self.tails: list[str] = []
        self.ranges: list[tuple[str, int, int, int, str]] = []

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        self.ranges.append((query, start_ns, end_ns, limit, direction))
        if query in self.refuse:
            raise QueryError(f"mem: LogQL error: parse error in {query}")
        if self.fail:
            raise ProviderError(self.fail)
        found = [ln for ln in self.lines if start_ns <= ln.ts_ns < end_ns]
        return found[-limit:] if direction == "backward" else found[:limit]

    async def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
        self.tails.append(query)
        yield TailMessage(lines=())
        while True:
            line = await self.live.get()
            yield TailMessage(lines=(line,))


def runtime_with(source: MemoryLogs | None, **ui: object) -> Runtime:
    runtime = make_runtime(None, **ui)
    if source is not None:
        runtime.providers[source.name] = source  # type: ignore[assignment]
    return runtime


def recorded(feed: LogFeed) -> tuple[list[LogsSnapshot], list[LogBatch]]:
    snapshots: list[LogsSnapshot] = []
    batches: list[LogBatch] = []
    feed.subscribe(snapshots.append)
    feed.subscribe_batches(batches.append)
    return snapshots, batches


async def test_batches_are_handed_over_whole_and_idle_publishes_nothing() -> None:
    feed = LogFeed(runtime_with(MemoryLogs()))
    snapshots, batches = recorded(feed)
    assert feed.stream is not None
    feed.stream.ingest([LogLine(1, "a"), LogLine(2, "b")])
    feed.tick()
    feed.stream.ingest([LogLine(3, "c")])
    feed.tick()
    assert [[ln.line for ln in b.lines] for b in batches] == [["a", "b"], ["c"]]
    assert {b.generation for b in batches} == {feed.snapshot.generation}
    assert feed.published_lines == 3
    published = len(snapshots)
    for _ in range(5):  # nothing new: no batch, no snapshot (an idle pane repaints nothing)
        feed.tick()
    assert len(batches) == 2 and len(snapshots) == published


async def test_the_job_streams_and_a_new_query_restarts_it() -> None:
    source = MemoryLogs()
    feed = LogFeed(runtime_with(source))
    _, batches = recorded(feed)
    job = asyncio.create_task(feed.jobs()[0].run())
    try:
        async with asyncio.timeout(5):
            while feed.snapshot.stream is None or feed.snapshot.stream.mode is not StreamMode.LIVE:
                await asyncio.sleep(0.02)
            source.live.put_nowait(LogLine(10, "first"))
            while not batches:
                await asyncio.sleep(0.02)
            generation = feed.snapshot.generation
            feed.focus_service("checkout", '{app="checkout"}')
            assert feed.snapshot.query == '{app="checkout"}'
            assert feed.snapshot.generation == generation + 1
            while source.tails[-1:] != ['{app="checkout"}']:
                await asyncio.sleep(0.02)
            while feed.snapshot.stream is None or feed.snapshot.stream.mode is not StreamMode.LIVE:
                await asyncio.sleep(0.02)
            source.live.put_nowait(LogLine(20, "second"))
            while len(batches) < 2:
                await asyncio.sleep(0.02)
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
    assert [(b.generation, b.lines[0].line) for b in batches] == [(generation, "first"),
                                                                 (generation + 1, "second")]
    feed.focus_service(None, None)
    assert feed.snapshot.query == '{app="mem"}'  # back to the provider's default


async def test_a_query_is_used_only_once_loki_accepts_it() -> None:
    source = MemoryLogs()
    source.refuse.add("unk(foo)")
    feed = LogFeed(runtime_with(source))
    generation = feed.snapshot.generation
    error = await feed.try_query("unk(foo)")
    assert error == "mem: LogQL error: parse error in unk(foo)"
    assert feed.query == '{app="mem"}' and feed.snapshot.generation == generation
    assert await feed.try_query("  ") is None and await feed.try_query('{app="mem"}') is None
    assert feed.snapshot.generation == generation  # empty or unchanged: nothing restarts
    assert await feed.try_query('{app="mem"} |= "x"') is None
    assert feed.snapshot.query == '{app="mem"} |= "x"'
    assert feed.snapshot.generation == generation + 1
    assert source.ranges[-1][3] == 1  # checked with a one-line range query


async def test_a_refused_streaming_query_is_an_error_until_it_changes() -> None:
    source = MemoryLogs()
    runtime = runtime_with(source)
    source.refuse.add(source.default_query)
    source.tail = _refused_tail  # type: ignore[method-assign]
    feed = LogFeed(runtime)
    job = asyncio.create_task(feed.jobs()[0].run())
    try:
        async with asyncio.timeout(5):
            while feed.snapshot.query_error is None:
                await asyncio.sleep(0.02)
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
    snapshot = feed.snapshot
    assert snapshot.problem == "mem: LogQL error: parse error in {app=\"mem\"}"
    assert [s.state for s in snapshot.sources] == [HealthState.ERROR]
    assert snapshot.sources[0].error == snapshot.query_error


async def _refused_tail(query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
    from sre_cockpit.providers.base import TailRefused

    raise TailRefused("mem: WebSocket upgrade refused: HTTP 400", status=400)
    yield TailMessage(lines=())  # pragma: no cover


async def test_a_moment_comes_as_one_batch_with_the_lines_before_and_after() -> None:
    centre = int(AT.timestamp()) * NS
    source = MemoryLogs([LogLine(centre + i * NS, f"moment {i}") for i in range(-3, 4)])
    feed = LogFeed(runtime_with(source))
    snapshots, batches = recorded(feed)
    feed.show_moment(AT)
    assert feed.snapshot.moment == AT and feed.snapshot.moment_loading
    await feed.load_moment(AT)
    assert not feed.snapshot.moment_loading and feed.snapshot.moment_error is None
    (batch,) = batches
    assert batch.moment == AT and batch.before == 4  # -3 … 0: at or before the moment
    assert [ln.line for ln in batch.lines] == [f"moment {i}" for i in range(-3, 4)]
    assert [r[4] for r in source.ranges] == ["backward", "forward"]
    assert feed.published_lines == 0  # a moment's lines are not live lines
    feed.show_moment(None)
    assert feed.snapshot.moment is None and snapshots[-1].moment is None


async def test_a_moment_that_fails_says_why_and_a_late_answer_is_dropped() -> None:
    source = MemoryLogs([LogLine(int(AT.timestamp()) * NS, "x")])
    feed = LogFeed(runtime_with(source))
    _, batches = recorded(feed)
    source.fail = "mem: query_range: HTTP 500: [/] boom"
    feed.show_moment(AT)
    await feed.load_moment(AT)
    assert feed.snapshot.moment_error == "mem: query_range: HTTP 500: [/] boom"
    assert not batches
    source.fail = None
    feed.show_moment(None)
    await feed.load_moment(AT)  # answered after the operator went back to live: dropped
    assert not batches and feed.snapshot.moment is None


async def test_a_new_query_reloads_the_moment_on_screen() -> None:
    source = MemoryLogs()
    feed = LogFeed(runtime_with(source))
    job = asyncio.create_task(feed.jobs()[0].run())
    try:
        feed.show_moment(AT)
        async with asyncio.timeout(5):
            while feed.snapshot.moment_loading:
                await asyncio.sleep(0.02)
            feed.focus_service("checkout", '{app="checkout"}')
            assert feed.snapshot.moment_loading
            while feed.snapshot.moment_loading:
                await asyncio.sleep(0.02)
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
    assert [r[0] for r in source.ranges if r[3] == 200][-2:] == ['{app="checkout"}'] * 2


def test_repaint_rate_and_display_come_from_the_config() -> None:
    source = MemoryLogs()
    assert LogFeed(runtime_with(source)).display.repaint_hz == 4.0
    assert LogFeed(runtime_with(source, log_repaint_hz=30)).display.repaint_hz == 4.0
    assert LogFeed(runtime_with(source, log_repaint_hz=2)).display.repaint_hz == 2.0
    assert LogFeed(runtime_with(source, low_bandwidth=True)).display.repaint_hz == 1.0
    assert LogFeed(runtime_with(source), low_bandwidth=True).display.repaint_hz == 1.0
    display = LogFeed(runtime_with(source, log_buffer_lines=123, timezone="local",
                                   show_labels=True)).display
    assert (display.buffer_lines, display.utc, display.show_labels) == (123, False, True)


def test_no_log_provider_or_a_broken_one_is_explained() -> None:
    feed = LogFeed(runtime_with(None))
    assert feed.jobs() == () and feed.snapshot.sources == ()
    assert feed.snapshot.unconfigured == ("no log provider configured — add one (type: loki) "
                                          "under contexts.test.providers")
    runtime = runtime_with(None)
    runtime.build_errors["loki"] = "ValueError: bad"
    runtime.failed_capabilities["loki"] = frozenset({Capability.LOGS})
    runtime.build_errors["pd"] = "cannot say"
    runtime.failed_capabilities["pd"] = frozenset({Capability.INCIDENTS})
    broken = LogFeed(runtime).snapshot
    assert broken.unconfigured == "log provider 'loki' could not be built: ValueError: bad"
    assert [(s.provider, s.state, s.error) for s in broken.sources] == [
        ("loki", HealthState.ERROR, "failed to start: ValueError: bad")]


REFUSED = "loki: tail: ConnectError for http://127.0.0.1:9/loki/api/v1/tail: refused"


@pytest.mark.parametrize(("status", "state", "error"), [
    (None, HealthState.PENDING, None),
    (StreamStatus(StreamMode.CONNECTING, "q"), HealthState.PENDING, None),
    (StreamStatus(StreamMode.CONNECTING, "q", last_error=REFUSED, failing=True),
     HealthState.ERROR, "never connected: tail: ConnectError for http://127.0.0.1:9/loki/api/v1/"
                        "tail: refused"),
    (StreamStatus(StreamMode.POLLING, "q", last_error="loki: query_range: HTTP 500",
                  failing=True),
     HealthState.ERROR, "never connected: query_range: HTTP 500"),
    (StreamStatus(StreamMode.LIVE, "q", connected=True), HealthState.OK, None),
    (StreamStatus(StreamMode.POLLING, "q", connected=True, last_error="refused upgrade"),
     HealthState.OK, None),
    (StreamStatus(StreamMode.POLLING, "q", connected=True, failing=True,
                  last_error="loki: query_range: HTTP 500", last_ok_at=AT),
     HealthState.STALE, "query_range: HTTP 500"),
    (StreamStatus(StreamMode.RECONNECTING, "q", connected=True, failing=True,
                  last_error=REFUSED, last_ok_at=AT),
     HealthState.STALE, "tail: ConnectError for http://127.0.0.1:9/loki/api/v1/tail: refused"),
    (StreamStatus(StreamMode.RECONNECTING, "q", connected=True,
                  last_error="tail closed by server (1011)"), HealthState.OK, None),
    (StreamStatus(StreamMode.ERROR, "q", connected=True, failing=True,
                  last_error="loki: LogQL error: parse error"),
     HealthState.ERROR, "LogQL error: parse error"),
], ids=["no-stream", "first-try", "never-connected", "never-polled", "live", "polling-ok",
        "polling-failing", "reconnect-failing", "reconnecting-ok", "query-refused"])
def test_stream_health_words(status: StreamStatus | None, state: HealthState,
                             error: str | None) -> None:
    health = stream_health("loki", status, healthy_since=AT)
    assert (health.state, health.error) == (state, error)
    if state is HealthState.OK:
        assert health.fresh_for == float("inf")  # a quiet working tail never turns stale
    if state is HealthState.STALE:
        assert health.last_ok_at == AT  # the age counts from the last answer


def test_feed_health_is_never_ok_while_polls_fail() -> None:
    feed = LogFeed(runtime_with(MemoryLogs()))
    assert feed.stream is not None
    feed.stream._mark_ok()
    feed.stream._set_mode(StreamMode.POLLING, "polling every 2s")
    feed.tick()
    assert feed.snapshot.sources[0].state is HealthState.OK
    feed.stream._attempt_failed("mem: query_range: HTTP 500")
    feed.tick()
    (health,) = feed.snapshot.sources
    assert health.state is HealthState.STALE and health.error == "query_range: HTTP 500"
    assert feed.snapshot.problem == "query_range: HTTP 500"


def test_batches_published_before_anyone_listens_reach_the_first_subscriber() -> None:
    """The stream starts before the log view is mounted: the lines loaded at start were lost."""
    from sre_cockpit.feeds.fanout import Fanout

    fanout: Fanout[list[str]] = Fanout(len, max_backlog=5, name="test")
    fanout.emit(["a", "b"])
    fanout.emit(["c", "d"])
    fanout.emit(["e", "f"])  # over the cap: the oldest batch goes, and is counted
    first: list[str] = []
    fanout.subscribe(first.extend)
    assert first == ["c", "d", "e", "f"] and fanout.backlog_dropped == 2
    fanout.emit(["g"])
    second: list[str] = []
    fanout.subscribe(second.extend)  # later subscribers get what comes next only
    fanout.emit(["h"])
    assert first == ["c", "d", "e", "f", "g", "h"] and second == ["h"]
