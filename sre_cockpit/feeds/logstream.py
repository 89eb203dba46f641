"""A live log stream that does not lie: the reliable layer on top of a :class:`LogSource` tail.

Loki's tail is designed to end (``tail_max_duration`` 1h, close 1011, proxies cutting idle
sockets, 1006 on network loss) and its resume is lossy (the tail's own history part is a
*backward* query capped by ``limit``). :class:`LogStream` therefore owns the guarantees:

- every connection starts with ``start=<now>``; once the upgrade succeeded, the window between
  the last line delivered (minus ``resume_overlap``) and that start is filled with forward,
  paginated ``query_range`` calls, so nothing between two connections is lost;
- lines are de-duplicated on (timestamp, line, stream) over a sliding window, so the boundary
  entry (and the overlap) is delivered once;
- a first message as large as the tail's ``limit`` means Loki's history part was truncated: the
  hole before it is filled too;
- reconnects happen on every kind of end (close codes, network errors, silence) with capped,
  jittered backoff, immediately after a normal end, and proactively before ``max_tail_duration``;
- when the WebSocket upgrade is refused (a proxy answering 4xx/5xx), the stream falls back to
  polling ``query_range`` and says so, retrying the WebSocket now and then (``tail: auto``);
- ``dropped_entries`` reported by the server and lines the client had to drop because nobody
  consumed them are counted separately and exactly.

Consumers take lines with :meth:`LogStream.drain` (non-blocking) or :meth:`LogStream.batches`
and read :attr:`LogStream.status`. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import random
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sre_cockpit.core.models import LogLine, utcnow
from sre_cockpit.providers.base import (
    LogSource,
    ProviderError,
    QueryError,
    TailClosed,
    TailMessage,
    TailRefused,
    TailTuning,
)

log = logging.getLogger(__name__)

NS = 1_000_000_000


class StreamMode(enum.StrEnum):
    """What the stream is doing right now."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    POLLING = "polling"
    ERROR = "error"  # the query was refused; not retrying until it changes
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """A snapshot of the stream's state and exact counters."""

    mode: StreamMode
    query: str
    received: int = 0
    """Lines delivered to the consumer buffer (after de-duplication)."""
    dropped_server: int = 0
    """Entries Loki reported in ``dropped_entries`` (it could not send them fast enough)."""
    dropped_client: int = 0
    """Lines received but discarded because the consumer did not keep up."""
    duplicates: int = 0
    """Boundary/overlap lines removed by de-duplication."""
    gap_filled: int = 0
    """Lines recovered with ``query_range`` between two connections."""
    reconnects: int = 0
    lines_per_s: float = 0.0
    pending: int = 0
    last_reconnect: datetime | None = None
    last_reconnect_reason: str | None = None
    last_error: str | None = None
    detail: str | None = None
    """Why the mode is what it is, e.g. "WebSocket refused (HTTP 403); polling every 2s"."""


class LogStream:
    """Reliable live lines for one query.

    Args:
        source: the log source (``LokiProvider`` or anything implementing ``LogSource``).
        query: LogQL query.
        since_s: backfill this far back when the stream starts (0: no backfill).
        backfill_limit: at most this many backfill lines (the newest).
        tail_mode: ``auto`` (WebSocket, polling fallback), ``websocket`` or ``poll``.
        max_tail_duration: reconnect proactively after this many seconds on one connection.
        poll_interval: seconds between polls in polling mode.
        resume_overlap: seconds re-read before the last line on reconnect (de-duplicated).
        websocket_retry: in polling fallback, seconds before trying the WebSocket again.
        page_limit: entries per ``query_range`` page (and the tail's ``limit``).
        max_pending: lines kept for the consumer; beyond it the oldest are dropped (counted).
        dedupe_window: how many recent line keys are remembered for de-duplication.
        backoff_base: first reconnect delay after a failure (seconds, full jitter).
        backoff_cap: longest reconnect delay.
        start_ns: resume after this timestamp instead of starting at "now" (exclusive of
            lines already seen; the range is filled on the first connection).
        now_ns: wall clock in Unix ns (tests inject one).
        wall: aware "now" for status timestamps.
        on_event: called with one human line for notable events (reconnects, fallbacks).
    """

    def __init__(self, source: LogSource, query: str, *, since_s: float = 0.0,
                 backfill_limit: int = 0, tail_mode: str = "auto",
                 max_tail_duration: float = 55 * 60.0, poll_interval: float = 2.0,
                 resume_overlap: float = 1.0, websocket_retry: float = 300.0,
                 page_limit: int = 1000, max_pending: int = 100_000,
                 dedupe_window: int = 20_000, backoff_base: float = 0.5,
                 backoff_cap: float = 30.0, start_ns: int | None = None,
                 now_ns: Callable[[], int] = time.time_ns,
                 wall: Callable[[], datetime] = utcnow,
                 on_event: Callable[[str], None] | None = None,
                 rng: random.Random | None = None) -> None:
        if tail_mode not in ("auto", "websocket", "poll"):
            raise ValueError(f"tail mode must be auto, websocket or poll, not {tail_mode!r}")
        self.source = source
        self.query = query
        self.since_s = max(0.0, since_s)
        self.backfill_limit = max(0, backfill_limit)
        self.tail_mode = tail_mode
        self.max_tail_duration = max_tail_duration
        self.poll_interval = poll_interval
        self.resume_overlap_ns = int(resume_overlap * NS)
        self.websocket_retry = websocket_retry
        self.page_limit = max(1, page_limit)
        self.max_pending = max(1, max_pending)
        self.dedupe_window = max(1, dedupe_window)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.now_ns = now_ns
        self.wall = wall
        self.on_event = on_event
        self.rng = rng or random.Random()
        self._pending: deque[LogLine] = deque()
        self._seen_order: deque[int] = deque()
        self._seen: set[int] = set()
        self._cursor: int | None = start_ns  # newest timestamp delivered
        self._started = start_ns is not None
        self._floor_ns: int = start_ns or 0  # never fill below where the stream began
        self._arrived = asyncio.Event()
        self._rate: deque[tuple[int, int]] = deque()  # (second, lines)
        self._mode = StreamMode.CONNECTING
        self._detail: str | None = None
        self._last_error: str | None = None
        self._last_reconnect: datetime | None = None
        self._last_reconnect_reason: str | None = None
        self.received = 0
        self.dropped_server = 0
        self.dropped_client = 0
        self.duplicates = 0
        self.gap_filled = 0
        self.reconnects = 0
        self._failures = 0

    # ----------------------------------------------------------------------------- factory

    @classmethod
    def for_provider(cls, provider: LogSource, query: str | None = None,
                     **kwargs: Any) -> LogStream:
        """A stream with the provider's own options (``tail``, ``poll_interval``, …) as
        defaults; ``kwargs`` override them."""
        defaults: dict[str, Any] = {}
        if isinstance(provider, TailTuning):
            settings = provider.tail_settings()
            defaults = {name: value for name, value in (
                ("tail_mode", settings.tail_mode),
                ("max_tail_duration", settings.max_tail_duration),
                ("poll_interval", settings.poll_interval),
                ("resume_overlap", settings.resume_overlap),
                ("websocket_retry", settings.websocket_retry),
                ("page_limit", settings.page_limit)) if value is not None}
        defaults.update(kwargs)
        return cls(provider, query or provider.default_query, **defaults)

    # --------------------------------------------------------------------------- consumer

    @property
    def status(self) -> StreamStatus:
        """Counters and mode now."""
        return StreamStatus(
            mode=self._mode, query=self.query, received=self.received,
            dropped_server=self.dropped_server, dropped_client=self.dropped_client,
            duplicates=self.duplicates, gap_filled=self.gap_filled, reconnects=self.reconnects,
            lines_per_s=self.lines_per_s(), pending=len(self._pending),
            last_reconnect=self._last_reconnect,
            last_reconnect_reason=self._last_reconnect_reason,
            last_error=self._last_error, detail=self._detail)

    @property
    def mode(self) -> StreamMode:
        """The current mode."""
        return self._mode

    @property
    def cursor_ns(self) -> int | None:
        """Newest timestamp delivered so far."""
        return self._cursor

    def lines_per_s(self) -> float:
        """Delivered lines per second over the last five seconds."""
        now = int(time.monotonic())
        # the five complete seconds before this one (keeping only four made 50/s read 40/s)
        while self._rate and self._rate[0][0] < now - 5:
            self._rate.popleft()
        total = sum(count for second, count in self._rate if second < now)
        return total / 5.0 if total else 0.0

    def drain(self, max_lines: int | None = None) -> list[LogLine]:
        """Take the pending lines (oldest first) without waiting."""
        pending = self._pending
        if max_lines is None or max_lines >= len(pending):
            out = list(pending)
            pending.clear()
        else:
            out = [pending.popleft() for _ in range(max_lines)]
        if not pending:
            self._arrived.clear()
        return out

    async def wait(self, within: float | None = None) -> bool:
        """Wait until lines are pending; False on timeout."""
        if self._pending:
            return True
        try:
            async with asyncio.timeout(within):
                await self._arrived.wait()
        except TimeoutError:
            return False
        return True

    async def batches(self, min_interval: float = 0.0) -> AsyncIterator[list[LogLine]]:
        """Yield pending lines as they arrive, at most once per ``min_interval`` seconds."""
        while True:
            await self.wait()
            batch = self.drain()
            if batch:
                yield batch
            if min_interval > 0:
                await asyncio.sleep(min_interval)

    # ----------------------------------------------------------------------------- ingest

    def _emit(self, text: str) -> None:
        log.info("%s", text)
        if self.on_event is not None:
            self.on_event(text)

    def _set_mode(self, mode: StreamMode, detail: str | None = None) -> None:
        changed = mode is not self._mode
        self._mode = mode
        self._detail = detail
        if changed and mode in (StreamMode.POLLING, StreamMode.ERROR):
            self._emit(f"log stream: {mode.value}{': ' + detail if detail else ''}")

    def ingest(self, lines: tuple[LogLine, ...] | list[LogLine], *, filled: bool = False,
               backfill: bool = False) -> int:
        """De-duplicate and queue lines for the consumer; returns how many were new.

        Backfill (history fetched at start) is not counted in lines/s: the rate says how fast the
        live stream flows, and a burst of history would overstate it for five seconds."""
        seen = self._seen
        order = self._seen_order
        new: list[LogLine] = []
        cursor = self._cursor
        for line in lines:
            key = hash(line.dedupe_key)
            if key in seen:
                self.duplicates += 1
                continue
            seen.add(key)
            order.append(key)
            new.append(line)
            if cursor is None or line.ts_ns > cursor:
                cursor = line.ts_ns
        while len(order) > self.dedupe_window:
            seen.discard(order.popleft())
        self._cursor = cursor
        if not new:
            return 0
        new.sort(key=_ts)
        self.received += len(new)
        if filled:
            self.gap_filled += len(new)
        pending = self._pending
        pending.extend(new)
        overflow = len(pending) - self.max_pending
        if overflow > 0:
            for _ in range(overflow):
                pending.popleft()
            self.dropped_client += overflow
        if not backfill:
            second = int(time.monotonic())
            if self._rate and self._rate[-1][0] == second:
                self._rate[-1] = (second, self._rate[-1][1] + len(new))
            else:
                self._rate.append((second, len(new)))
        self._arrived.set()
        return len(new)

    # -------------------------------------------------------------------------------- run

    async def run(self) -> None:
        """Stream until cancelled.

        Raises:
            ProviderError: only a non-retryable query error (``QueryError``: Loki refused the
                query); the mode is then ``error`` and the old query should be restored.
        """
        try:
            if self.tail_mode == "poll":
                await self._poll_forever(None, "tail: poll configured")
                return
            while True:
                refused = await self._websocket_until_refused()
                if refused is None:
                    continue
                if self.tail_mode == "websocket":
                    await self._backoff(refused)
                    continue
                await self._poll_forever(self.websocket_retry, refused)
        except asyncio.CancelledError:
            self._set_mode(StreamMode.STOPPED)
            raise

    async def _websocket_until_refused(self) -> str | None:
        """Run tail connections until the upgrade is refused; return the refusal reason."""
        while True:
            try:
                await self._one_connection()
            except TailRefused as exc:
                await self._check_query()  # a 400 may be the query itself: raise it
                self._last_error = str(exc)
                return str(exc)
            except QueryError as exc:
                self._fail_query(exc)
                raise
            except ProviderError as exc:
                self._last_error = str(exc)
                self._record_reconnect(str(exc))
                await self._backoff(str(exc), retry_after=exc.retry_after)

    async def _check_query(self) -> None:
        """Raise the query's own error (Loki's message) if the query is invalid."""
        now = self.now_ns()
        try:
            await self.source.query_range(self.query, now - 60 * NS, now, limit=1)
        except QueryError as exc:
            self._fail_query(exc)
            raise
        except ProviderError:
            pass  # some other trouble: the fallback decides

    def _fail_query(self, exc: ProviderError) -> None:
        self._last_error = str(exc)
        self._set_mode(StreamMode.ERROR, str(exc))

    def _record_reconnect(self, reason: str) -> None:
        self.reconnects += 1
        self._last_reconnect = self.wall()
        self._last_reconnect_reason = reason
        self._set_mode(StreamMode.RECONNECTING, reason)
        self._emit(f"log stream: reconnecting ({reason})")

    async def _backoff(self, reason: str, *, retry_after: float | None = None) -> None:
        """Capped exponential backoff with jitter; a server's Retry-After wins (capped)."""
        self._failures += 1
        upper = min(self.backoff_cap, self.backoff_base * 2 ** (self._failures - 1))
        delay = self.rng.uniform(upper / 2, upper)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 300.0))
        await asyncio.sleep(delay)

    async def _one_connection(self) -> None:
        """One tail connection from upgrade to its end; returns on a proactive reconnect or a
        normal end (after recording it), raises ProviderError on failures."""
        if self._mode is not StreamMode.RECONNECTING:
            self._set_mode(StreamMode.CONNECTING)
        start_ns = self.now_ns()
        opened_at: float | None = None
        agen = self.source.tail(self.query, start_ns=start_ns)
        first_data = True
        try:
            try:
                async with asyncio.timeout(self.max_tail_duration):
                    async for message in agen:
                        if opened_at is None:
                            opened_at = time.monotonic()
                            self._set_mode(StreamMode.LIVE)
                            self._last_error = None
                            await self._fill_before(start_ns)
                        if message.lines and first_data:
                            first_data = False
                            await self._fill_truncated_history(message, start_ns)
                        if message.lines:
                            self.ingest(message.lines)
                        if message.dropped:
                            self.dropped_server += message.dropped
                        if opened_at is not None and time.monotonic() - opened_at > 10:
                            self._failures = 0
            finally:
                if isinstance(agen, AsyncGenerator):
                    with contextlib.suppress(Exception):
                        await agen.aclose()
        except TimeoutError:
            self._record_reconnect("proactive reconnect before the server's max tail duration")
            self._failures = 0
            return
        except TailClosed as exc:
            self._last_error = str(exc)
            self._record_reconnect(str(exc))
            lasted = 0.0 if opened_at is None else time.monotonic() - opened_at
            if opened_at is not None and (not first_data or lasted > 2):
                self._failures = 0  # a working connection ended (max duration, LB): at once
                return
            await self._backoff(str(exc))  # never opened or died at once: back off
            return
        self._record_reconnect("tail ended")

    async def _fill_before(self, start_ns: int) -> None:
        """Backfill on the first connection, gap fill on every later one."""
        if not self._started:
            floor = start_ns - int(self.since_s * NS) if self.backfill_limit else start_ns
            if self.since_s > 0 and self.backfill_limit > 0:
                lines = await self._with_retries(
                    lambda: self.source.query_range(
                        self.query, start_ns - int(self.since_s * NS), start_ns,
                        limit=self.backfill_limit, direction="backward"))
                self.ingest(lines, backfill=True)
            # started only once the backfill succeeded: marked before it, a failed backfill
            # left a floor ``since`` back and no cursor, so the next gap fill poured the whole
            # window out (72,000 lines for `logs -f` with --limit 100 after one bad answer)
            self._floor_ns = floor
            self._started = True
            return
        # nothing delivered yet still means "everything since the stream began"
        await self._fill_range(self._resume_from(), start_ns)

    def _resume_from(self) -> int:
        """Where a gap fill starts: the newest line delivered minus the overlap, never before
        the stream's own start."""
        cursor = self._cursor if self._cursor is not None else self._floor_ns
        return max(self._floor_ns, cursor - self.resume_overlap_ns)

    async def _fill_truncated_history(self, message: TailMessage, start_ns: int) -> None:
        """Loki's tail history is a backward query capped by ``limit``: when the first message
        is that large, fetch what lies between the connection start and it."""
        if len(message.lines) < self.page_limit:
            return
        oldest = min(line.ts_ns for line in message.lines)
        if oldest > start_ns:
            await self._fill_range(start_ns, oldest)

    async def _fill_range(self, start_ns: int, end_ns: int) -> None:
        """Forward, paginated range query of ``[start_ns, end_ns)`` into the stream."""
        cursor = start_ns
        while cursor < end_ns:
            lines = await self._with_retries(functools.partial(
                self.source.query_range, self.query, cursor, end_ns, limit=self.page_limit,
                direction="forward"))
            self.ingest(lines, filled=True)
            if len(lines) < self.page_limit:
                return
            newest = max(line.ts_ns for line in lines)
            # the page may end in the middle of one nanosecond: re-read it (de-duplicated)
            cursor = newest if newest > cursor else cursor + 1

    async def _with_retries(self, call: Callable[[], Any], attempts: int = 4) -> list[LogLine]:
        delay = self.backoff_base
        for attempt in range(1, attempts + 1):
            try:
                result: list[LogLine] = await call()
                return result
            except QueryError:
                raise
            except ProviderError as exc:
                self._last_error = f"range query failed: {exc}"
                if attempt == attempts:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else delay
                await asyncio.sleep(min(wait, self.backoff_cap))
                delay = min(self.backoff_cap, delay * 2)
        return []

    async def _poll_forever(self, until_s: float | None, reason: str) -> None:
        """Polling mode; returns after ``until_s`` seconds (to retry the WebSocket)."""
        every = f"polling every {self.poll_interval:g}s"
        detail = every if until_s is None else f"{reason}; {every}"
        self._set_mode(StreamMode.POLLING, detail)
        started = time.monotonic()
        failures = 0
        while until_s is None or time.monotonic() - started < until_s:
            end = self.now_ns()
            try:
                if not self._started:
                    await self._fill_before(end)
                else:
                    await self._fill_range(self._resume_from(), end)
                failures = 0
                self._set_mode(StreamMode.POLLING, detail)
                await asyncio.sleep(self.poll_interval)
            except QueryError as exc:
                self._fail_query(exc)
                raise
            except ProviderError as exc:
                failures += 1
                self._last_error = str(exc)
                self._set_mode(StreamMode.POLLING, f"{detail}; last poll failed")
                await asyncio.sleep(min(self.backoff_cap,
                                        self.poll_interval * 2 ** min(failures, 5)))
        self._emit("log stream: trying the WebSocket tail again")


def _ts(line: LogLine) -> int:
    return line.ts_ns
