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
  polling ``query_range`` and says so (``tail: auto``). It tries the WebSocket again after
  :data:`WEBSOCKET_RETRY_FIRST_S`, doubling up to ``websocket_retry`` while it stays refused,
  and at once when a poll succeeds after failed ones (the outage that refused the upgrade is
  probably over): after a Loki 500 clears, the pane is live again within one poll backoff
  (at most :data:`POLL_BACKOFF_CAP_S`), not after ``websocket_retry`` (300 s);
- a stream that never got an answer is ``connecting`` with its last error, never
  "reconnecting"; every failed poll is ``failing`` with its reason (:class:`StreamStatus`);
- ``dropped_entries`` reported by the server and lines the client had to drop because nobody
  consumed them are counted separately and exactly.

Consumers take lines with :meth:`LogStream.drain` (non-blocking) or :meth:`LogStream.batches`
(the de-duplicating queue is :class:`~sre_cockpit.feeds.linebuffer.LineBuffer`) and read
:attr:`LogStream.status`. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Any

from sre_cockpit.core.models import LogLine, utcnow
from sre_cockpit.feeds.linebuffer import LineBuffer
from sre_cockpit.feeds.streamstatus import StreamMode, StreamStatus
from sre_cockpit.providers.base import (
    LogSource,
    ProviderError,
    QueryError,
    TailClosed,
    TailMessage,
    TailRefused,
    TailTuning,
)

__all__ = ["NS", "LogStream", "StreamMode", "StreamStatus"]

log = logging.getLogger(__name__)

NS = 1_000_000_000
WEBSOCKET_RETRY_FIRST_S = 15.0
"""In polling fallback, the first wait before trying the WebSocket again (then doubling up to
``websocket_retry``; back to this once a tail has opened)."""
POLL_BACKOFF_CAP_S = 16.0
"""Longest wait between two failing polls (``poll_interval`` doubling per failure)."""


class LogStream(LineBuffer):
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
        websocket_retry: in polling fallback, the longest wait before trying the WebSocket
            again (the first is :data:`WEBSOCKET_RETRY_FIRST_S`, doubling up to this).
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
        super().__init__(max_pending=max_pending, dedupe_window=dedupe_window, start_ns=start_ns)
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
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.now_ns = now_ns
        self.wall = wall
        self.on_event = on_event
        self.rng = rng or random.Random()
        self._started = start_ns is not None
        self._floor_ns: int = start_ns or 0  # never fill below where the stream began
        self._mode = StreamMode.CONNECTING
        self._detail: str | None = None
        self._last_error: str | None = None
        self._last_reconnect: datetime | None = None
        self._last_reconnect_reason: str | None = None
        self.dropped_server = 0
        """Entries Loki reported in ``dropped_entries`` (it could not send them fast enough)."""
        self.reconnects = 0
        self._failures = 0
        self._connected = False
        self._failing = False
        self._attempts = 0
        self._last_ok: datetime | None = None
        self._retried = False  # a range query of the current poll needed a retry
        self._ws_retry = min(WEBSOCKET_RETRY_FIRST_S, websocket_retry)

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
            last_error=self._last_error, detail=self._detail, connected=self._connected,
            failing=self._failing, last_ok_at=self._last_ok, attempts=self._attempts)

    @property
    def connected(self) -> bool:
        """Loki answered at least once."""
        return self._connected

    @property
    def mode(self) -> StreamMode:
        """The current mode."""
        return self._mode

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
                    await self._connection_failed(refused)
                    continue
                wait = self._ws_retry
                self._ws_retry = min(self.websocket_retry, wait * 2)
                await self._poll_forever(wait, refused)
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
                await self._connection_failed(str(exc), retry_after=exc.retry_after)

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
        self._failing = True
        self._set_mode(StreamMode.ERROR, str(exc))

    def _mark_ok(self) -> None:
        """Loki answered: connected, not failing."""
        self._connected = True
        self._failing = False
        self._attempts = 0
        self._last_ok = self.wall()

    def _attempt_failed(self, reason: str) -> None:
        self._failing = True
        self._attempts += 1
        self._last_error = reason

    async def _connection_failed(self, reason: str, *, retry_after: float | None = None) -> None:
        """A connection attempt failed: "reconnecting" if one ever worked, else still
        connecting ("never connected: …"); then back off."""
        self._attempt_failed(reason)
        if self._connected:
            self._record_reconnect(reason)
        else:
            self._set_mode(StreamMode.CONNECTING, f"never connected: {reason}")
            self._emit(f"log stream: not connected yet ({reason}); retrying")
        await self._backoff(reason, retry_after=retry_after)

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
        if self._mode not in (StreamMode.RECONNECTING, StreamMode.CONNECTING):
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
                            self._mark_ok()
                            self._ws_retry = min(WEBSOCKET_RETRY_FIRST_S, self.websocket_retry)
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
            self._last_ok = self.wall()
            self._record_reconnect("proactive reconnect before the server's max tail duration")
            self._failures = 0
            return
        except TailClosed as exc:
            lasted = 0.0 if opened_at is None else time.monotonic() - opened_at
            if opened_at is not None:
                self._last_ok = self.wall()  # it worked until now
                if not first_data or lasted > 2:
                    self._last_error = str(exc)
                    self._record_reconnect(str(exc))
                    self._failures = 0  # a working connection ended (max duration, LB): at once
                    return
            await self._connection_failed(str(exc))  # never opened or died at once: back off
            return
        self._last_ok = self.wall()
        self._record_reconnect("tail ended")

    async def _fill_before(self, start_ns: int) -> bool:
        """Backfill on the first connection, gap fill on every later one; True if Loki was
        asked (and answered)."""
        asked = False
        if not self._started:
            floor = start_ns - int(self.since_s * NS) if self.backfill_limit else start_ns
            if self.since_s > 0 and self.backfill_limit > 0:
                lines = await self._with_retries(
                    lambda: self.source.query_range(
                        self.query, start_ns - int(self.since_s * NS), start_ns,
                        limit=self.backfill_limit, direction="backward"))
                self.ingest(lines, backfill=True)
                asked = True
            # started only once the backfill succeeded: marked before it, a failed backfill
            # left a floor ``since`` back and no cursor, so the next gap fill poured the whole
            # window out (72,000 lines for `logs -f` with --limit 100 after one bad answer)
            self._floor_ns = floor
            self._started = True
            return asked
        # nothing delivered yet still means "everything since the stream began"
        return await self._fill_range(self._resume_from(), start_ns)

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

    async def _fill_range(self, start_ns: int, end_ns: int) -> bool:
        """Forward, paginated range query of ``[start_ns, end_ns)`` into the stream; True if
        Loki was asked (and answered)."""
        cursor = start_ns
        asked = False
        while cursor < end_ns:
            lines = await self._with_retries(functools.partial(
                self.source.query_range, self.query, cursor, end_ns, limit=self.page_limit,
                direction="forward"))
            self.ingest(lines, filled=True)
            asked = True
            if len(lines) < self.page_limit:
                break
            newest = max(line.ts_ns for line in lines)
            # the page may end in the middle of one nanosecond: re-read it (de-duplicated)
            cursor = newest if newest > cursor else cursor + 1
        return asked

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
                self._retried = True
                if attempt == attempts:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else delay
                await asyncio.sleep(min(wait, self.backoff_cap))
                delay = min(self.backoff_cap, delay * 2)
        return []

    async def _poll_forever(self, until_s: float | None, reason: str) -> None:
        """Polling mode; returns after ``until_s`` seconds, or as soon as a poll succeeds after
        failed ones or after a retry (to try the WebSocket again), unless ``until_s`` is None
        (``tail: poll``)."""
        every = f"polling every {self.poll_interval:g}s"
        detail = every if until_s is None else f"{reason}; {every}"
        self._set_mode(StreamMode.POLLING, detail)
        started = time.monotonic()
        failures = 0
        while until_s is None or time.monotonic() - started < until_s:
            end = self.now_ns()
            self._retried = False
            try:
                if not self._started:
                    asked = await self._fill_before(end)
                else:
                    asked = await self._fill_range(self._resume_from(), end)
            except QueryError as exc:
                self._fail_query(exc)
                raise
            except ProviderError as exc:
                failures += 1
                self._attempt_failed(str(exc))
                self._set_mode(StreamMode.POLLING, f"{detail}; last poll failed")
                cap = max(POLL_BACKOFF_CAP_S, self.poll_interval)
                await asyncio.sleep(min(cap, self.poll_interval * 2 ** min(failures, 5)))
                continue
            if asked:  # (the first poll without a backfill only marks where the stream starts)
                # it failed before (maybe in an earlier polling window), or this poll needed a
                # retry: the outage that refused the upgrade may be over, try the WebSocket
                recovered = self._failing or self._retried
                self._mark_ok()
                self._set_mode(StreamMode.POLLING, detail)
                if recovered and until_s is not None:
                    self._emit("log stream: polls answer again: trying the WebSocket tail")
                    return
                failures = 0
            await asyncio.sleep(self.poll_interval)
        self._emit("log stream: trying the WebSocket tail again")
