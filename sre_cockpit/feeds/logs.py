"""The log feed: the context's live log stream, its query, the incident clock's moments, and the
truth about Loki's health, without drawing anything.

:class:`LogFeed` owns one :class:`~sre_cockpit.feeds.logstream.LogStream` for the current query
(the provider's default, or the focused service's selector, or what the operator typed and Loki
accepted). Its job drains the stream at ``ui.log_repaint_hz`` (at most 4 Hz, 1 Hz with
``--low-bandwidth``), so whatever shows the lines repaints at that rate, not at the line rate,
and publishes two things:

- **batches of new lines** (:class:`LogBatch`, to :meth:`LogFeed.subscribe_batches`), never merged
  or replaced: the view appends each to its ring buffer. Every batch carries the stream's
  ``generation``; a new query starts a new generation (the view starts a new buffer). A moment
  batch (``moment`` set) holds the lines around a moment of the incident clock instead.
- **a small immutable** :class:`LogsSnapshot` (to :meth:`Feed.subscribe`) whenever anything
  shown changes: mode, exact counters, lines/s, the query and its error, the moment, the last
  reconnect and one :class:`~sre_cockpit.core.models.ProviderHealth` per source, worded by the
  truth contract: ``never connected: <reason>`` when Loki never answered, ``stale`` with the
  reason while a connection or a poll fails after data was shown, never OK while it fails.

The published values (:class:`LogBatch`, :class:`LogsSnapshot`, :func:`stream_health`) live
in :mod:`sre_cockpit.feeds.logsnapshot` and are importable from here too.

Nothing here imports Textual; ``sre-cockpit logs`` and the tests drive the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from sre_cockpit.core.logpatterns import PatternReport, mine, new_since
from sre_cockpit.core.logvolume import VolumeStrip, strip_range, volume_strip
from sre_cockpit.core.models import HealthState, LogLine, ProviderHealth
from sre_cockpit.feeds.base import Feed, Job
from sre_cockpit.feeds.fanout import Fanout
from sre_cockpit.feeds.logsnapshot import (
    LogBatch,
    LogDisplay,
    LogsSnapshot,
    stream_health,
    without_name,
)
from sre_cockpit.feeds.logstream import NS, LogStream
from sre_cockpit.feeds.policy import fetch_deadline, one_line
from sre_cockpit.feeds.streamstatus import StreamStatus
from sre_cockpit.providers.base import (
    Capability,
    LogLabelSource,
    LogPatternSource,
    LogSource,
    LogVolumeSource,
    Provider,
    ProviderError,
)

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

log = logging.getLogger(__name__)

BACKFILL_S = 300.0
"""History shown when a stream starts (its newest lines, at most the buffer or 1,000)."""
MOMENT_WINDOW_S = 15 * 60
"""A moment shows lines up to this long before and after it."""
MOMENT_LIMIT = 200
"""At most this many lines on each side of a moment."""
VALIDATE_WINDOW_S = 300
"""A typed query is checked with a one-line range query over this window before it is used."""
VOLUME_SPAN_S = 3600.0
"""The volume strip covers the last hour (or the focused incident's span, when longer)."""
MAX_BACKLOG_LINES = 20_000
"""Lines kept for a view that is not listening yet (the start-up range query returns at most
the provider's ``limit``, 1,000 by default)."""


class LogFeed(Feed[LogsSnapshot]):
    """The context's first log source, streamed; see the module docstring.

    Args:
        runtime: the context's providers.
        low_bandwidth: ``--low-bandwidth`` (repaint at most once a second).
        now_ns: wall clock in Unix ns (moments and query checks; tests inject one).
    """

    name = "logs"

    def __init__(self, runtime: Runtime, *, low_bandwidth: bool = False,
                 now_ns: Callable[[], int] = time.time_ns) -> None:
        self.runtime = runtime
        self.now_ns = now_ns
        sources: dict[str, LogSource] = dict(runtime.of(LogSource))  # type: ignore[type-abstract]
        self.failed = runtime.failed_for(Capability.LOGS)
        self.source_name = next(iter(sources), "")
        self.source: LogSource | None = sources.get(self.source_name)
        """The log source streamed (the context's first; None when there is none)."""
        ui = runtime.config.ui
        low = low_bandwidth or ui.low_bandwidth
        self.display = LogDisplay(
            buffer_lines=ui.log_buffer_lines, max_line_bytes=ui.log_max_line_bytes,
            utc=ui.timezone == "utc", show_labels=ui.show_labels,
            repaint_hz=min(ui.log_repaint_hz, 1.0 if low else 4.0))
        self.base_query = self.source.default_query if self.source is not None else ""
        self.query = self.base_query
        self.stream: LogStream | None = None
        """The stream of the current query (None without a log source)."""
        self.published_lines = 0
        """Live lines of the current stream handed to the line subscribers so far (with the
        view's appended count, what is still in flight between them)."""
        self._generation = 0
        self._batches: Fanout[LogBatch] = Fanout(lambda batch: len(batch.lines),
                                                 max_backlog=MAX_BACKLOG_LINES, name="logs")
        self._restart = asyncio.Event()
        self._moment_wanted = asyncio.Event()
        self._query_error: str | None = None
        self._moment: datetime | None = None
        self._moment_loading = False
        self._moment_error: str | None = None
        self._healthy_since: datetime | None = None
        self._dirty = True  # something besides the stream's status changed since the last tick
        self._last_status: StreamStatus | None = None
        if self.source is not None:
            self._new_stream(self.base_query)
        super().__init__(self._build(self.stream.status if self.stream is not None else None))

    # ------------------------------------------------------------------------------ lines

    def subscribe_batches(self, callback: Callable[[LogBatch], None]) -> Callable[[], None]:
        """Call ``callback(batch)`` with every batch of lines; returns the unsubscribe
        function. Batches are never merged, replaced or dropped; the first subscriber first
        gets those published before it (the stream starts before the view is mounted)."""
        return self._batches.subscribe(callback)

    def _emit_lines(self, batch: LogBatch) -> None:
        if batch.moment is None:
            self.published_lines += len(batch.lines)
        self._batches.emit(batch)

    # ------------------------------------------------------------------------------ running

    def jobs(self) -> Sequence[Job]:
        if self.source is None:
            return ()
        return [Job(f"logs:{self.source_name}", self.run)]

    async def run(self) -> None:
        """Stream, drain at the repaint rate and load moments until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._run_streams())
            group.create_task(self._pump())
            group.create_task(self._load_moments())

    async def refresh(self) -> LogsSnapshot:
        """Hand over the lines waiting now and publish (what one repaint tick does)."""
        self.tick()
        return self.snapshot

    def tick(self) -> None:
        """Drain the stream into one batch and publish the snapshot if it changed."""
        stream = self.stream
        status = None
        if stream is not None:
            lines = stream.drain()
            if lines:
                self._emit_lines(LogBatch(self._generation, tuple(lines)))
            status = stream.status
        if not self._dirty and status == self._last_status:
            return  # (a tick of an idle or steady stream builds nothing)
        self._dirty = False
        self._last_status = status
        snapshot = self._build(status)
        if snapshot != self.snapshot:
            self.publish(snapshot)

    def _changed(self) -> None:
        """Publish now: the query, the moment or an error changed (not only the stream)."""
        self._dirty = True
        self.tick()

    async def _pump(self) -> None:
        interval = 1.0 / self.display.repaint_hz
        while True:
            self.tick()
            await asyncio.sleep(interval)

    async def _run_streams(self) -> None:
        while True:
            self._restart.clear()
            stream, generation = self.stream, self._generation
            task = asyncio.ensure_future(self._run_one(stream, generation))
            try:
                await self._restart.wait()
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run_one(self, stream: LogStream | None, generation: int) -> None:
        if stream is None:
            return
        try:
            await stream.run()
        except ProviderError as exc:  # Loki refused the query: shown until the query changes
            if generation == self._generation:
                self._query_error = one_line(str(exc))
                self._changed()

    def _new_stream(self, query: str) -> None:
        assert self.source is not None
        self._generation += 1
        self.published_lines = 0
        self.query = query
        self._query_error = None
        self._healthy_since = None
        self._dirty = True
        self.stream = LogStream.for_provider(
            self.source, query, since_s=BACKFILL_S,
            backfill_limit=min(1000, self.display.buffer_lines), wall=self.runtime.clock)
        self._restart.set()

    def _switch(self, query: str) -> None:
        """Stream ``query`` from now on (a new generation); a moment on screen is reloaded
        for it."""
        self._new_stream(query)
        if self._moment is not None:
            self._moment_loading = True
            self._moment_error = None
            self._moment_wanted.set()
        self._changed()

    # ------------------------------------------------------------------------------ actions

    def focus_service(self, service: str | None, selector: str | None) -> None:
        """Stream the service's logs (its ``logs`` selector), or the default query for None."""
        if self.source is None:
            return
        query = selector if (service is not None and selector) else self.base_query
        if query != self.query:
            self._switch(query)

    async def try_query(self, query: str) -> str | None:
        """Check ``query`` with Loki (a one-line range query) and stream it if Loki accepts it.

        Returns:
            None when the query is streaming now (or is the current one, or empty); else
            Loki's reason (one line) and the previous query keeps streaming.
        """
        query = query.strip()
        if self.source is None:
            return "no log provider in this context"
        if not query or query == self.query:
            return None
        now = self.now_ns()
        try:
            async with asyncio.timeout(self._deadline()):
                await self.source.query_range(query, now - VALIDATE_WINDOW_S * NS, now, limit=1)
        except ProviderError as exc:
            return one_line(str(exc))
        except TimeoutError:
            return f"{self.source_name}: no answer within {self._deadline():g}s"
        self._switch(query)
        return None

    async def volume(self, columns: int, *, since: datetime | None = None) -> VolumeStrip | str:
        """Log lines by level over the last hour, or from shortly before ``since`` (the focused
        incident's start) when that is longer ago, in ``columns`` columns, for the query being
        tailed (Loki's ``sum by (level) (count_over_time(…))``).

        Returns:
            The strip, or why there is none (one line: no volume capability, Loki's error, no
            answer in time).
        """
        if self.source is None:
            return "no log provider"
        volumes: dict[str, LogVolumeSource] = dict(
            self.runtime.of(LogVolumeSource))  # type: ignore[type-abstract]
        source = volumes.get(self.source_name)
        if source is None:
            return f"{self.source_name} has no volume (metric) queries"
        now_s = self.now_ns() / NS
        span = VOLUME_SPAN_S
        if since is not None:
            span = max(span, (now_s - since.timestamp()) * 1.1)
        try:
            start, end, step = strip_range(now_s, span, max(1, min(columns, 2000)))
        except ValueError as exc:
            return str(exc)
        query = self.query
        try:
            async with asyncio.timeout(self._deadline()):
                series = await source.volume(query, int((start + step) * NS), int(end * NS),
                                             step)
        except ProviderError as exc:
            return without_name(self.source_name, one_line(str(exc)))
        except TimeoutError:
            return f"no answer within {self._deadline():g}s"
        return volume_strip(series, start, step, columns)

    async def patterns(self, lines: Sequence[tuple[int, str]]) -> tuple[PatternReport, str]:
        """The patterns of the buffer's ``lines`` (``(ts_ns, line)``, oldest first): Loki's
        pattern endpoint over the buffer's time span when the provider has one and answers,
        else mined here (in a thread: keys are never blocked).

        Returns:
            The report and where it came from (``loki``, or ``local`` with why not Loki).
        """
        if not lines:
            return PatternReport((), 0), "local: no lines in the buffer"
        first, last = lines[0][0], lines[-1][0]
        why = "no pattern capability"
        sources: dict[str, LogPatternSource] = dict(
            self.runtime.of(LogPatternSource))  # type: ignore[type-abstract]
        source = sources.get(self.source_name)
        if source is not None and self.moment is None:
            try:
                async with asyncio.timeout(self._deadline()):
                    report = await source.patterns(self.query, first, max(last, first + NS))
            except ProviderError as exc:
                report, why = None, without_name(self.source_name, one_line(str(exc)))
            except TimeoutError:
                report, why = None, f"no answer within {self._deadline():g}s"
            else:
                why = "no pattern endpoint"
            if report is not None:
                return report, self.source_name
        elif self.moment is not None:
            why = "a moment's lines"
        since = new_since(first, last)
        report = await asyncio.to_thread(mine, lines, new_since_ns=since)
        return report, f"local ({why})"

    async def labels(self, name: str | None = None) -> list[str] | str:
        """Label names of the streams of the query being tailed over the last hour (``name``
        None), or the values of label ``name``, from Loki's label APIs.

        Returns:
            The names or values, sorted; or why there are none (one line).
        """
        if self.source is None:
            return "no log provider"
        sources: dict[str, LogLabelSource] = dict(
            self.runtime.of(LogLabelSource))  # type: ignore[type-abstract]
        source = sources.get(self.source_name)
        if source is None:
            return f"{self.source_name} cannot list labels"
        end = self.now_ns()
        start = end - int(VOLUME_SPAN_S) * NS
        try:
            async with asyncio.timeout(self._deadline()):
                if name is None:
                    found = await source.labels(start, end, query=self.query)
                else:
                    found = await source.label_values(name, start, end, query=self.query)
        except ProviderError as exc:
            return without_name(self.source_name, one_line(str(exc)))
        except TimeoutError:
            return f"no answer within {self._deadline():g}s"
        return sorted(found)

    @property
    def moment(self) -> datetime | None:
        """The moment being shown (None: live)."""
        return self._moment

    def show_moment(self, at: datetime | None) -> None:
        """Show the lines around ``at`` (range queries, as a moment batch); None: live."""
        if at == self._moment:
            return
        self._moment = at
        self._moment_error = None
        self._moment_loading = at is not None and self.source is not None
        if self._moment_loading:
            self._moment_wanted.set()
        self._changed()

    async def _load_moments(self) -> None:
        task: asyncio.Future[None] | None = None
        try:
            while True:
                await self._moment_wanted.wait()
                self._moment_wanted.clear()
                if task is not None:
                    task.cancel()
                if self._moment is not None:
                    task = asyncio.ensure_future(self.load_moment(self._moment))
        finally:
            if task is not None:
                task.cancel()

    async def load_moment(self, at: datetime) -> None:
        """Fetch the lines around ``at`` and hand them over as a moment batch (or record why
        not); a result that arrives after the moment or the query changed is dropped."""
        if self.source is None:
            return
        generation, query = self._generation, self.query
        centre = int(at.timestamp() * NS)
        window = MOMENT_WINDOW_S * NS
        error = None
        before: list[LogLine] = []
        after: list[LogLine] = []
        try:
            async with asyncio.timeout(2 * self._deadline()):
                before = await self.source.query_range(query, centre - window, centre + 1,
                                                       limit=MOMENT_LIMIT, direction="backward")
                after = await self.source.query_range(query, centre + 1, centre + window,
                                                      limit=MOMENT_LIMIT, direction="forward")
        except ProviderError as exc:
            error = one_line(str(exc))
        except TimeoutError:
            error = f"{self.source_name}: no answer within {2 * self._deadline():g}s"
        if at != self._moment or generation != self._generation:
            return
        self._moment_loading = False
        self._moment_error = error
        if error is None:
            self._emit_lines(LogBatch(generation, tuple(before + after), moment=at,
                                      before=len(before)))
        self._changed()

    def _deadline(self) -> float:
        provider = self.runtime.get(self.source_name)
        return fetch_deadline(provider if isinstance(provider, Provider) else None)

    # ------------------------------------------------------------------------------ snapshot

    def _build(self, status: StreamStatus | None) -> LogsSnapshot:
        runtime = self.runtime
        sources: list[ProviderHealth] = []
        if self.source is not None:
            health = stream_health(self.source_name, status, query_error=self._query_error,
                                   healthy_since=self._healthy_since)
            if health.state is HealthState.OK and self._healthy_since is None:
                self._healthy_since = runtime.clock()
                health = replace(health, last_ok_at=self._healthy_since)
            elif health.state is not HealthState.OK:
                self._healthy_since = None
            sources.append(health)
        sources += [ProviderHealth(provider=name, state=HealthState.ERROR,
                                   error=f"failed to start: {reason}")
                    for name, reason in self.failed.items()]
        unconfigured = None
        if self.source is None:
            if self.failed:
                name, reason = next(iter(self.failed.items()))
                unconfigured = f"log provider {name!r} could not be built: {reason}"
            else:
                unconfigured = ("no log provider configured — add one (type: loki) under "
                                f"contexts.{runtime.context_name}.providers")
        return LogsSnapshot(
            context=runtime.context_name, provider=self.source_name, unconfigured=unconfigured,
            query=self.query, base_query=self.base_query, generation=self._generation,
            stream=status, query_error=self._query_error, moment=self._moment,
            moment_loading=self._moment_loading, moment_error=self._moment_error,
            sources=tuple(sources))


__all__ = ["LogBatch", "LogDisplay", "LogFeed", "LogsSnapshot", "stream_health",
           "without_name"]
