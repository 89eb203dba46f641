"""The consumer side of a live log stream: de-duplication, the pending queue, exact counters and
the line rate (headless; :class:`~sre_cockpit.feeds.logstream.LogStream` builds on it).

Lines are de-duplicated on (timestamp, line, stream) over a sliding window, so a reconnect's
boundary entry (and the resume overlap) is delivered once. Lines wait in a bounded queue for the
consumer; when it does not keep up the oldest are dropped and counted (``dropped_client``), never
silently.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator

from sre_cockpit.core.models import LogLine


class LineBuffer:
    """De-duplicated lines waiting for the consumer, with exact counters.

    Args:
        max_pending: lines kept for the consumer; beyond it the oldest are dropped (counted).
        dedupe_window: how many recent line keys are remembered for de-duplication.
        start_ns: the newest timestamp already delivered (None: nothing yet).
    """

    def __init__(self, *, max_pending: int = 100_000, dedupe_window: int = 20_000,
                 start_ns: int | None = None) -> None:
        self.max_pending = max(1, max_pending)
        self.dedupe_window = max(1, dedupe_window)
        self._pending: deque[LogLine] = deque()
        self._seen_order: deque[int] = deque()
        self._seen: set[int] = set()
        self._cursor: int | None = start_ns  # newest timestamp delivered
        self._arrived = asyncio.Event()
        self._rate: deque[tuple[int, int]] = deque()  # (second, lines)
        self.received = 0
        """Lines delivered to the consumer buffer (after de-duplication)."""
        self.dropped_client = 0
        """Lines received but discarded because the consumer did not keep up."""
        self.duplicates = 0
        """Boundary/overlap lines removed by de-duplication."""
        self.gap_filled = 0
        """Lines recovered with ``query_range`` between two connections."""

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


def _ts(line: LogLine) -> int:
    return line.ts_ns
