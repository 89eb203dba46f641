"""What the log feed publishes: the view's display settings, batches of lines and the small
immutable :class:`LogsSnapshot`, with the truth contract's words for a stream
(:func:`stream_health`).

Values only (frozen dataclasses and pure functions): :mod:`sre_cockpit.feeds.logs` builds
them, the log view and ``sre-cockpit logs`` read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sre_cockpit.core.models import HealthState, LogLine, ProviderHealth
from sre_cockpit.feeds.policy import one_line
from sre_cockpit.feeds.streamstatus import StreamMode, StreamStatus


@dataclass(frozen=True, slots=True)
class LogDisplay:
    """How the lines are shown (the ``ui:`` settings): the view's buffer and defaults.

    Attributes:
        buffer_lines: ring buffer size (``ui.log_buffer_lines``).
        max_line_bytes: longer lines are cut, with the cut counted (``ui.log_max_line_bytes``).
        utc: timestamps in UTC (``ui.timezone``).
        show_labels: labels shown by default (``ui.show_labels``).
        repaint_hz: batches per second at most (≤ 4, ≤ 1 with ``--low-bandwidth``).
    """

    buffer_lines: int = 50_000
    max_line_bytes: int = 4096
    utc: bool = True
    show_labels: bool = False
    repaint_hz: float = 4.0


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Lines for the view, oldest first.

    Attributes:
        generation: the stream they came from (a new query starts a new one).
        lines: the lines.
        moment: set for the lines around a moment of the incident clock (they replace the
            previous moment's lines; live lines keep arriving in other batches).
        before: in a moment batch, how many lines are at or before the moment.
    """

    generation: int
    lines: tuple[LogLine, ...]
    moment: datetime | None = None
    before: int = 0


@dataclass(frozen=True, slots=True)
class LogsSnapshot:
    """Everything the log view shows about the stream, at one moment (the lines come apart).

    Attributes:
        context: the context's name.
        provider: the log provider's name ("" when there is none).
        unconfigured: why there is no stream at all (no log provider, or it failed to start).
        query: the LogQL query streaming now.
        base_query: the provider's default query (what ``focus_service(None, …)`` returns to).
        generation: increases with every new stream (a new query).
        stream: the stream's mode and exact counters (None before a stream exists).
        query_error: Loki refused the streaming query (its own message).
        moment: the moment of the incident clock being shown (None: live).
        moment_loading: the moment's lines are being fetched.
        moment_error: why the moment's lines could not be fetched.
        sources: one health per log source, failed ones included.
    """

    context: str = ""
    provider: str = ""
    unconfigured: str | None = None
    query: str = ""
    base_query: str = ""
    generation: int = 0
    stream: StreamStatus | None = None
    query_error: str | None = None
    moment: datetime | None = None
    moment_loading: bool = False
    moment_error: str | None = None
    sources: tuple[ProviderHealth, ...] = ()

    @property
    def never_connected(self) -> bool:
        """Loki has not answered once and the last attempt failed."""
        status = self.stream
        return (status is not None and not status.connected and status.failing
                and status.mode is not StreamMode.ERROR)

    @property
    def problem(self) -> str | None:
        """What is wrong with the stream now, in full (None when nothing is)."""
        if self.query_error:
            return self.query_error
        status = self.stream
        if status is None or not status.failing or not status.last_error:
            return None
        return without_name(self.provider, one_line(status.last_error))


def stream_health(name: str, status: StreamStatus | None, *, query_error: str | None = None,
                  healthy_since: datetime | None = None) -> ProviderHealth:
    """The truth contract's words for one stream: OK only while nothing fails; ``stale`` (the
    lines already shown stay) when it fails after having worked; an error when Loki never
    answered (``never connected: …``) or refused the query. A quiet but working tail is never
    stale (``fresh_for`` is infinite): its mode says whether lines would reach the screen."""
    if query_error:
        return ProviderHealth(provider=name, state=HealthState.ERROR, error=query_error,
                              mode=StreamMode.ERROR.value)
    if status is None:
        return ProviderHealth(provider=name, state=HealthState.PENDING)
    mode = status.mode.value
    reason = without_name(name, one_line(status.last_error)) if status.last_error else None
    if status.mode is StreamMode.ERROR:
        return ProviderHealth(provider=name, state=HealthState.ERROR, error=reason, mode=mode)
    if not status.connected:
        if status.failing:
            return ProviderHealth(provider=name, state=HealthState.ERROR, mode=mode,
                                  error=f"never connected: {reason or 'no answer'}")
        return ProviderHealth(provider=name, state=HealthState.PENDING, mode=mode)
    if status.failing:
        return ProviderHealth(provider=name, state=HealthState.STALE, mode=mode, error=reason,
                              last_ok_at=status.last_ok_at, fresh_for=float("inf"))
    return ProviderHealth(provider=name, state=HealthState.OK, mode=mode,
                          last_ok_at=healthy_since, fresh_for=float("inf"))


def without_name(name: str, reason: str) -> str:
    """``loki: tail: …`` → ``tail: …``: the source line already names the source."""
    prefix = f"{name}: "
    return reason[len(prefix):] if name and reason.startswith(prefix) else reason


__all__ = ["LogBatch", "LogDisplay", "LogsSnapshot", "stream_health", "without_name"]
