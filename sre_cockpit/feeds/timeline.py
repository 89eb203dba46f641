"""The timeline feed: every source's events merged, each source's last good events kept.

Sources (:func:`~sre_cockpit.feeds.timeline_sources.timeline_sources`): the providers' own events
(PagerDuty log entries) and each ``deploys:`` entry, one poller per source so a failing source
never hides another's events. A source that fails keeps its last good events on the timeline
(the view marks them stale, with the reason on the source line) instead of dropping them under
a green badge. The tracker adds what the cockpit observed itself (alert starts and ends from the
incident feed, SLO state changes from the SLO feed) and the notes feed adds the operator's notes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sre_cockpit.core.models import HealthState, Incident, ProviderHealth, TimelineEvent
from sre_cockpit.core.timeline import merge_events
from sre_cockpit.feeds.base import Feed, Job
from sre_cockpit.feeds.incidents import IncidentFeed, IncidentsSnapshot
from sre_cockpit.feeds.notes import NotesFeed, NotesSnapshot
from sre_cockpit.feeds.policy import fetch_deadline
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.feeds.slos import SloFeed, SlosSnapshot
from sre_cockpit.feeds.timeline_sources import (
    TimelineSource,
    TimelineTracker,
    clock_offsets,
    default_since,
    timeline_sources,
)
from sre_cockpit.providers.base import EventSource

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

MAX_EVENTS = 5000
"""The newest events kept in a snapshot."""


@dataclass(frozen=True, slots=True)
class TimelineSnapshot:
    """Everything the timeline view shows.

    Attributes:
        events: every source's last good events, the observed ones and the notes, merged and
            de-duplicated, oldest first.
        sources: one health per source (its ``label`` names it: ``pd events``,
            ``prom deploys``), then the notes store.
        incidents: the incidents the incident feed last published (to relate events to them).
        stale: keys (``provider``) of sources whose events on screen are last good data.
        notes: the notes feed's state (pending, unsaved, problems).
        unconfigured: why there is nothing to show at all.
        timezone: ``utc`` or ``local`` (``ui.timezone``).
        newest_first: ``ui.timeline_order`` is ``newest_first``.
    """

    events: tuple[TimelineEvent, ...] = ()
    sources: tuple[ProviderHealth, ...] = ()
    incidents: tuple[Incident, ...] = ()
    stale: frozenset[str] = frozenset()
    notes: NotesSnapshot = field(default_factory=NotesSnapshot)
    unconfigured: str | None = None
    timezone: str = "utc"
    newest_first: bool = False


class TimelineFeed(Feed[TimelineSnapshot]):
    """The timeline of one runtime's context."""

    name = "timeline"

    def __init__(self, runtime: Runtime, *, incidents: IncidentFeed, slos: SloFeed,
                 notes: NotesFeed) -> None:
        self.runtime = runtime
        self.interval = float(runtime.config.refresh.timeline)
        self.sources = {s.key: s for s in timeline_sources(runtime)}
        self.tracker = TimelineTracker(clock=runtime.clock,
                                       lifecycle_sources=runtime.of(EventSource))  # type: ignore[type-abstract]
        self.notes = notes
        self._incidents: tuple[Incident, ...] = incidents.snapshot.incidents
        self._incident_stale: frozenset[str] = frozenset()
        self._lists: dict[str, list[TimelineEvent]] = {}
        self._healths: dict[str, ProviderHealth] = {}
        self.pollers: dict[str, Poller[list[TimelineEvent]]] = {}
        for key, source in self.sources.items():
            self.pollers[key] = Poller(
                source.provider, self._fetcher(source), interval=self.interval,
                deadline=fetch_deadline(runtime.get(source.provider)),
                on_update=lambda update, k=key: self._on_poll(k, update),  # type: ignore[misc]
                wall=runtime.clock)
            state = HealthState.ERROR if source.problem else HealthState.PENDING
            self._healths[key] = ProviderHealth(provider=source.provider, state=state,
                                                error=source.problem, label=source.label,
                                                fresh_for=2 * self.interval)
        self.tracker.observe_incidents(self._incidents, runtime.clock())
        super().__init__(self._build())
        incidents.subscribe(self._incidents_changed)
        slos.subscribe(self._slos_changed)
        notes.subscribe(self._notes_changed)

    # ------------------------------------------------------------------------------ polling

    def jobs(self) -> Sequence[Job]:
        return [Job(f"timeline:{key}", poller.run) for key, poller in self.pollers.items()]

    async def refresh(self) -> TimelineSnapshot:
        """Ask every source once, concurrently, and publish."""
        await asyncio.gather(*(p.poll_once() for p in self.pollers.values()))
        return self.snapshot

    def _fetcher(self, source: TimelineSource) -> Callable[[], Awaitable[list[TimelineEvent]]]:
        async def fetch() -> list[TimelineEvent]:
            # live (no until): each source reads up to its own now; skew is corrected at merge
            return await source.fetch(default_since(self._incidents, self.runtime.clock()), None)
        return fetch

    def _on_poll(self, key: str, update: PollUpdate[list[TimelineEvent]]) -> None:
        if update.fresh and update.value is not None:
            self._lists[key] = list(update.value)
        source = self.sources[key]
        self._healths[key] = replace(update.health, label=source.label,
                                     fresh_for=2 * self.interval)
        self.publish(self._build())

    # ------------------------------------------------------------------------------ the others

    def _incidents_changed(self, snapshot: IncidentsSnapshot) -> None:
        changed = {i.key for i in snapshot.incidents} != {i.key for i in self._incidents}
        self._incidents = snapshot.incidents
        stale = frozenset(s.provider for s in snapshot.sources
                          if s.state in (HealthState.STALE, HealthState.ERROR))
        if stale != self._incident_stale:
            self._incident_stale = stale  # the alert starts/ends observed from them are old
            changed = True
        new = self.tracker.observe_incidents(snapshot.incidents, self.runtime.clock())
        if changed:
            for poller in self.pollers.values():
                poller.trigger()  # a new page: fetch its log entries now, not in 30 s
        if new or changed:
            self.publish(self._build())

    def _slos_changed(self, snapshot: SlosSnapshot) -> None:
        if snapshot.moment is not None or not snapshot.entries:
            return  # only live figures are history
        if self.tracker.observe_slos(snapshot.statuses, self.runtime.clock()):
            self.publish(self._build())

    def _notes_changed(self, snapshot: NotesSnapshot) -> None:
        self.publish(self._build())

    # ------------------------------------------------------------------------------ snapshot

    def _build(self) -> TimelineSnapshot:
        runtime = self.runtime
        notes = self.notes.snapshot
        events = merge_events(*self._lists.values(), self.tracker.events(), notes.events,
                              offsets=clock_offsets(runtime), now=runtime.clock())
        stale = frozenset(h.provider for key, h in self._healths.items()
                          if h.state in (HealthState.STALE, HealthState.ERROR)
                          and self._lists.get(key)) | self._incident_stale
        sources = list(self._healths.values())
        if notes.source is not None and notes.source.state is not HealthState.OK:
            sources.append(notes.source)
        has_source = bool(self.sources or runtime.context.slos or self._incidents
                          or runtime.context.providers)
        unconfigured = None
        if not has_source and not notes.events:
            unconfigured = ("no timeline source configured — add an incident provider or "
                            f"deploys under contexts.{runtime.context_name}")
        ui = runtime.config.ui
        return TimelineSnapshot(events=tuple(events[-MAX_EVENTS:]), sources=tuple(sources),
                                incidents=self._incidents, stale=stale, notes=notes,
                                unconfigured=unconfigured, timezone=ui.timezone,
                                newest_first=ui.timeline_order == "newest_first")
