"""What a :class:`~sre_cockpit.feeds.logstream.LogStream` says about itself: its mode and exact
counters, as an immutable value (headless: the log feed, ``sre-cockpit logs`` and tests read it).

The words matter, because the screen is built from them: a stream that never got an answer is
``connecting`` with ``connected=False`` and its last error (never "reconnecting"); a stream in
polling fallback whose polls fail says ``failing=True`` with the poll's error, so nothing above
it can show a green badge while Loki answers 500.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class StreamMode(enum.StrEnum):
    """What the stream is doing right now."""

    CONNECTING = "connecting"
    """No connection yet (``connected`` says whether there ever was one)."""
    LIVE = "live"
    RECONNECTING = "reconnecting"
    """A connection that worked ended; the next one is being set up."""
    POLLING = "polling"
    ERROR = "error"
    """The query was refused; not retrying until it changes."""
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
    """Connections that had worked and were set up again (failed first attempts not counted)."""
    lines_per_s: float = 0.0
    pending: int = 0
    last_reconnect: datetime | None = None
    last_reconnect_reason: str | None = None
    last_error: str | None = None
    detail: str | None = None
    """Why the mode is what it is, e.g. "WebSocket refused (HTTP 403); polling every 2s"."""
    connected: bool = False
    """Loki answered at least once (a tail opened, a backfill or a poll succeeded)."""
    failing: bool = False
    """The latest attempt (connection or poll) failed; ``last_error`` says why."""
    last_ok_at: datetime | None = None
    """When Loki last answered well (a tail opened or ended after working, a poll succeeded)."""
    attempts: int = 0
    """Failed attempts in a row (connections or polls) since the last success."""
