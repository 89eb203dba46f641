"""Gathers the timeline from every source of a runtime (headless; used by the pane and the CLI).

Sources: PagerDuty-style log entries (``EventSource`` providers), alert starts and observed ends
(kept by :class:`TimelineTracker` across polls), deploys from ``contexts.<ctx>.deploys`` (a
Prometheus ``deploy_events`` query or a LogQL query through a ``LogSource``), SLO state changes the
cockpit observed, and the operator's notes from the journal. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sre_cockpit.config.model import DeployConfig
from sre_cockpit.core.models import (
    Incident,
    IncidentStatus,
    SloState,
    SloStatus,
    TimelineEvent,
    utcnow,
)
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.timeline import LIFECYCLE_KINDS, as_utc, merge_events
from sre_cockpit.providers.base import (
    ClockSkew,
    DeploySource,
    EventKinds,
    EventSource,
    LogSource,
    ProviderError,
)

if TYPE_CHECKING:
    from sre_cockpit.feeds.journal import Journal
    from sre_cockpit.feeds.runtime import Runtime

DEFAULT_LOOKBACK = timedelta(hours=6)
BEFORE_INCIDENT = timedelta(hours=1)
MAX_TRACKED_EVENTS = 5000


def lifecycle_names(sources: Iterable[str] | Mapping[str, object]) -> set[str]:
    """Names of the providers that report their incidents' lifecycle themselves: the names
    given, or, given the ``EventSource`` providers by name, those that do not say
    (``EventKinds``) that their events hold none of ``LIFECYCLE_KINDS`` (Alertmanager's are
    silences: its alerts still get the starts and ends the cockpit observes)."""
    if isinstance(sources, Mapping):
        return {name for name, source in sources.items()
                if not (isinstance(source, EventKinds)
                        and not source.event_kinds & LIFECYCLE_KINDS)}
    return set(sources)


class TimelineTracker:
    """What the cockpit itself observed between polls: alert starts and ends, SLO state changes.

    Incidents of providers that report their own lifecycle (``EventSource`` providers such as
    PagerDuty, named in ``lifecycle_sources`` or given there as providers, see
    :func:`lifecycle_names`) get no synthetic start/end events: their log entries already hold
    trigger and resolve.
    """

    def __init__(self, *, clock: Callable[[], datetime] = utcnow,
                 lifecycle_sources: Iterable[str] | Mapping[str, object] = ()) -> None:
        self.clock = clock
        self.lifecycle_sources = lifecycle_names(lifecycle_sources)
        self._incidents: dict[str, Incident] | None = None
        self._slo_states: dict[str, SloState] = {}
        self._events: dict[str, TimelineEvent] = {}

    def _add(self, event: TimelineEvent) -> bool:
        assert event.id is not None
        if event.id in self._events:
            return False
        self._events[event.id] = event
        if len(self._events) > MAX_TRACKED_EVENTS:  # oldest first out
            for key in sorted(self._events, key=lambda k: self._events[k].at)[:len(self._events)
                                                                               - MAX_TRACKED_EVENTS]:
                del self._events[key]
        return True

    def observe_incidents(self, incidents: Iterable[Incident],
                          at: datetime | None = None) -> list[TimelineEvent]:
        """Record a poll's incidents; returns the events this poll produced.

        Each incident gives an ``alert_start`` at its ``started_at``. An incident present in the
        previous poll and absent now (or now resolved) gives an ``alert_end`` at the time of this
        observation (or its ``updated_at`` when the provider says it resolved).
        """
        now = at or self.clock()
        current = {i.key: i for i in incidents}
        new: list[TimelineEvent] = []
        for key, incident in current.items():
            if incident.provider in self.lifecycle_sources:
                continue
            title = sanitize_line(incident.title)
            start = TimelineEvent(at=as_utc(incident.started_at), kind="alert_start",
                                  source=incident.provider, text=f"{title} started",
                                  incident_id=incident.id,
                                  id=f"start:{key}:{as_utc(incident.started_at).isoformat()}",
                                  service=incident.service)
            if self._add(start):
                new.append(start)
            if incident.status is IncidentStatus.RESOLVED:
                end = TimelineEvent(at=as_utc(incident.updated_at or now), kind="alert_end",
                                    source=incident.provider, text=f"{title} resolved",
                                    incident_id=incident.id, id=f"end:{key}:{start.at.isoformat()}",
                                    service=incident.service)
                if self._add(end):
                    new.append(end)
        if self._incidents is not None:
            for key, gone in self._incidents.items():
                if key in current or gone.provider in self.lifecycle_sources:
                    continue
                if gone.status is IncidentStatus.RESOLVED:
                    continue  # its end was already recorded
                end = TimelineEvent(at=as_utc(now), kind="alert_end", source=gone.provider,
                                    text=f"{sanitize_line(gone.title)} ended (no longer reported)",
                                    incident_id=gone.id,
                                    id=f"end:{key}:{as_utc(gone.started_at).isoformat()}",
                                    service=gone.service)
                if self._add(end):
                    new.append(end)
        self._incidents = current
        return new

    def observe_slos(self, statuses: Iterable[SloStatus],
                     at: datetime | None = None) -> list[TimelineEvent]:
        """Record SLO states; a change (or a first sighting that is not OK) is an event."""
        new: list[TimelineEvent] = []
        for status in statuses:
            previous = self._slo_states.get(status.name)
            self._slo_states[status.name] = status.state
            if previous == status.state:
                continue
            if previous is None and status.state in (SloState.OK, SloState.NO_DATA):
                continue
            when = as_utc(status.evaluated_at or at or self.clock())
            name = sanitize_line(status.name)
            text = (f"SLO {name}: {previous.value} → {status.state.value}" if previous is not None
                    else f"SLO {name} is {status.state.value}")
            rates = [f"{w} ×{r:.1f}" for w, r in status.burn_rates.items() if r is not None]
            if rates and status.state in (SloState.WARNING, SloState.CRITICAL):
                text += f" (burn {', '.join(rates[:3])})"
            event = TimelineEvent(at=when, kind="slo_state", source="cockpit", text=text,
                                  id=f"slo:{status.name}:{when.isoformat()}:{status.state.value}",
                                  service=status.service)
            if self._add(event):
                new.append(event)
        return new

    def events(self) -> list[TimelineEvent]:
        """Everything observed so far, oldest first."""
        return sorted(self._events.values(), key=lambda e: (e.at, e.id or ""))


@dataclass
class TimelineFetch:
    """The merged timeline and, per source, why it could not be read (one line each)."""

    events: list[TimelineEvent]
    errors: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()


def _error_text(name: str, exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return sanitize_line(str(exc))
    if isinstance(exc, TimeoutError):
        return f"{name}: no answer in time"
    return sanitize_line(f"{name}: {type(exc).__name__}: {exc}")


async def _deploys_from_logs(source: LogSource, deploy: DeployConfig, since: datetime,
                             until: datetime) -> list[TimelineEvent]:
    start_ns = int(as_utc(since).timestamp() * 1e9)
    end_ns = int(as_utc(until).timestamp() * 1e9)
    lines = await source.query_range(deploy.query, start_ns, end_ns, limit=1000,
                                     direction="forward")
    events: list[TimelineEvent] = []
    for line in lines:
        labels: Mapping[str, str] = {**line.labels, **line.metadata}
        service = deploy.service or (labels.get(deploy.service_label)
                                     if deploy.service_label else None)
        version = labels.get(deploy.version_label)
        what = sanitize_line(version) if version else sanitize_line(line.line)[:160]
        svc = sanitize_line(service) if service else None
        at = datetime.fromtimestamp(line.ts_ns / 1e9, UTC)
        events.append(TimelineEvent(
            at=at, kind="deploy", source=source.name,
            text=f"deploy {svc + ' ' if svc else ''}{what}", service=svc,
            id=f"deploy:{source.name}:{line.ts_ns}:{hash(line.dedupe_key) & 0xFFFFFFFF:x}"))
    return events


@dataclass(frozen=True, slots=True)
class TimelineSource:
    """One place timeline events come from: a provider's own events (PagerDuty log entries) or
    one ``deploys:`` entry.

    Attributes:
        key: unique among the context's sources (``pd``, ``deploys[0]``).
        provider: the provider it asks (the header counts it under this name).
        label: how a pane names it (``pd events``, ``prom deploys``).
        fetch: the events between ``since`` and ``until`` (None: up to the source's now).
        problem: why it cannot be asked at all (provider missing or unable); ``fetch`` raises it.
    """

    key: str
    provider: str
    label: str
    fetch: Callable[[datetime, datetime | None], Awaitable[list[TimelineEvent]]]
    problem: str | None = None


def timeline_sources(runtime: Runtime) -> list[TimelineSource]:
    """Every timeline source of a runtime's context, in config order."""
    sources: list[TimelineSource] = []
    for name, source in runtime.of(EventSource).items():  # type: ignore[type-abstract]
        sources.append(TimelineSource(name, name, f"{name} events", source.list_events))
    for index, deploy in enumerate(runtime.context.deploys):
        key = f"deploys[{index}]"
        label = f"{deploy.provider} deploys"
        provider = runtime.get(deploy.provider)
        problem: str | None = None
        fetch: Callable[[datetime, datetime | None], Awaitable[list[TimelineEvent]]]
        if provider is None:
            problem = sanitize_line(f"{deploy.provider}: "
                                    f"{runtime.build_errors.get(deploy.provider, 'not configured')}")
        elif isinstance(provider, DeploySource):
            fetch = _deploy_fetcher(provider, deploy, runtime.clock)
        elif isinstance(provider, LogSource):
            fetch = _log_deploy_fetcher(provider, deploy, runtime.clock)
        else:
            problem = (f"{deploy.provider}: cannot give deploy events (needs a metrics or a log "
                       "provider)")
        if problem is not None:
            fetch = _failing(problem)
        sources.append(TimelineSource(key, deploy.provider, label, fetch, problem))
    return sources


def _deploy_fetcher(provider: DeploySource, deploy: DeployConfig, clock: Callable[[], datetime]
                    ) -> Callable[[datetime, datetime | None], Awaitable[list[TimelineEvent]]]:
    async def fetch(since: datetime, until: datetime | None) -> list[TimelineEvent]:
        return await provider.deploy_events(deploy.query, deploy.version_label, since,
                                            until or clock(), deploy.service,
                                            service_label=deploy.service_label)
    return fetch


def _log_deploy_fetcher(provider: LogSource, deploy: DeployConfig, clock: Callable[[], datetime]
                        ) -> Callable[[datetime, datetime | None], Awaitable[list[TimelineEvent]]]:
    async def fetch(since: datetime, until: datetime | None) -> list[TimelineEvent]:
        return await _deploys_from_logs(provider, deploy, since, until or clock())
    return fetch


def _failing(problem: str) -> Callable[[datetime, datetime | None], Awaitable[list[TimelineEvent]]]:
    async def fetch(since: datetime, until: datetime | None) -> list[TimelineEvent]:
        raise ProviderError(problem, retryable=False)
    return fetch


def default_since(incidents: Sequence[Incident], now: datetime) -> datetime:
    """Where the timeline starts: an hour before the earliest incident, else six hours ago."""
    starts = [as_utc(i.started_at) for i in incidents]
    return (min(starts) - BEFORE_INCIDENT) if starts else now - DEFAULT_LOOKBACK


async def fetch_timeline_report(runtime: Runtime, incidents: Sequence[Incident], *,
                                since: datetime | None = None, until: datetime | None = None,
                                tracker: TimelineTracker | None = None,
                                journal: Journal | None = None,
                                context: str | None = None,
                                source_timeout: float = 20.0) -> TimelineFetch:
    """Fetch every source once, concurrently, and merge; a failing source is reported, never
    fatal (the CLI's one-shot timeline; the TUI polls the same sources in the TimelineFeed).

    Args:
        runtime: the context's providers and config.
        incidents: the incidents currently known (their starts set the default window and give
            alert-start events when no tracker was given).
        since: start of the window (default: :func:`default_since`).
        until: end of the window (default: now).
        tracker: alert ends and SLO changes observed across polls.
        journal: the operator's notes (default: the configured store, read from disk).
        context: only the notes written in this context (default: the runtime's), and for
            the backends the runtime's providers talk to.
        source_timeout: deadline per source.
    """
    now = runtime.clock()
    since = since or default_since(incidents, now)
    sources = timeline_sources(runtime)

    async def guarded(source: TimelineSource) -> list[TimelineEvent]:
        async with asyncio.timeout(source_timeout):
            return await source.fetch(since, until)

    results = await asyncio.gather(*(guarded(s) for s in sources), return_exceptions=True)
    fetched: list[list[TimelineEvent]] = []
    errors: dict[str, str] = {}
    for source, result in zip(sources, results, strict=True):
        if isinstance(result, BaseException):
            if isinstance(result, asyncio.CancelledError):
                raise result
            errors[source.label] = _error_text(source.label, result)
        else:
            fetched.append(result)
    if tracker is None:
        tracker = TimelineTracker(clock=runtime.clock,
                                  lifecycle_sources=runtime.of(EventSource))  # type: ignore[type-abstract]
        tracker.observe_incidents(incidents, now)
    own_journal = journal is None
    if journal is None:
        from sre_cockpit.feeds.journal import Journal

        journal = Journal.for_config(runtime.config.journal_dir, clock=runtime.clock)
    from sre_cockpit.feeds.notes_store.records import NoteScope

    scope = NoteScope(context or runtime.context_name, dict(runtime.backends))
    ids = {i.id for i in incidents}
    try:
        notes = [event for record in journal.notes() for event in scope.events(record)
                 if not event.incident_id or event.incident_id in ids or not incidents]
    finally:
        if own_journal:
            journal.close()
    events = merge_events(*fetched, tracker.events(), notes, offsets=clock_offsets(runtime),
                          now=now)
    return TimelineFetch(events=events, errors=errors, sources=tuple(s.label for s in sources))


def clock_offsets(runtime: Runtime) -> dict[str, float]:
    """Seconds each provider's clock runs ahead of ours, for providers that measure it (an
    optional ``clock_offset`` attribute, e.g. from the ``Date`` header and the round trip)."""
    offsets: dict[str, float] = {}
    for name, provider in runtime.providers.items():
        value = provider.clock_offset if isinstance(provider, ClockSkew) else None
        if isinstance(value, int | float) and math.isfinite(value) and abs(value) < 86400:
            offsets[name] = float(value)
    return offsets


async def fetch_timeline(runtime: Runtime, incidents: Sequence[Incident], *,
                         since: datetime | None = None, until: datetime | None = None,
                         tracker: TimelineTracker | None = None,
                         journal: Journal | None = None) -> list[TimelineEvent]:
    """The merged, ordered, de-duplicated timeline (failing sources are left out; use
    :func:`fetch_timeline_report` to know which)."""
    report = await fetch_timeline_report(runtime, incidents, since=since, until=until,
                                         tracker=tracker, journal=journal)
    return report.events
