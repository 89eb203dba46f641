"""The notes feed: the operator's notes and pins of one context, durable before anything else.

Wraps the notes store (:mod:`sre_cockpit.feeds.notes_store`: SQLite, fsynced before any network
call) and its outbox (delivery to the incident providers with an idempotency key, claimed so two
cockpits never post a note twice). It publishes a :class:`NotesSnapshot` whenever a note is
written, changes delivery state, or another cockpit on the same store writes one. The views
never open the store: they call :meth:`NotesFeed.add_note` and read snapshots.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sre_cockpit.core.models import HealthState, Incident, LogLine, ProviderHealth, TimelineEvent
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.feeds.base import Feed, Job
from sre_cockpit.feeds.notes_store import Draft, Journal, JournalError, NoteScope, Outbox
from sre_cockpit.feeds.signals import register_flusher
from sre_cockpit.providers.base import EventSource, IncidentActions

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

NotesError = JournalError
"""A note could not be saved; ``str()`` is one line for the operator."""


def pin_text(line: LogLine) -> str:
    """A log line as a note: quoted, with its timestamp and labels (sanitised)."""
    seconds, nanos = divmod(line.ts_ns, 1_000_000_000)
    when = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
    labels = " ".join(f"{sanitize_line(k)}={sanitize_line(v)}"
                      for k, v in sorted(line.labels.items()))
    quoted = "\n".join(f"> {row}" for row in sanitize(line.line).splitlines() or [""])
    return f"{quoted}\n— log line at {when}" + (f" {{{labels}}}" if labels else "")


def note_scope(runtime: Runtime) -> NoteScope:
    """The notes that belong to ``runtime``: its context, the backends its providers talk to."""
    return NoteScope(runtime.context_name, dict(runtime.backends))


@dataclass(frozen=True, slots=True)
class NoteRoute:
    """Where a note goes for one provider: sent to it, or kept in the local journal only.

    Attributes:
        provider: the incident provider's name.
        local_reason: why the note stays local (None: it is sent).
    """

    provider: str
    local_reason: str | None = None


@dataclass(frozen=True, slots=True)
class NotesSnapshot:
    """The notes of one context as the timeline shows them.

    Attributes:
        events: every note and pin of this context and its backends, with the delivery
            state of each target.
        pending: notes of this context and its backends not delivered yet, and notes not
            saved (``q`` asks before quitting).
        unsaved: notes the disk refused, kept in memory (``r`` retries).
        problem: the latest thing the store skipped, refused or moved aside (one line).
        source: the store and outbox as a source (error while notes cannot be saved).
    """

    events: tuple[TimelineEvent, ...] = ()
    pending: int = 0
    unsaved: int = 0
    problem: str | None = None
    source: ProviderHealth | None = None


class NotesFeed(Feed[NotesSnapshot]):
    """The notes store and outbox of one runtime's context."""

    name = "notes"

    def __init__(self, runtime: Runtime, *, journal: Journal | None = None) -> None:
        self.runtime = runtime
        self.journal = journal or Journal.for_config(runtime.config.journal_dir,
                                                     clock=runtime.clock)
        events = runtime.of(EventSource)  # type: ignore[type-abstract]
        self.scope = note_scope(runtime)
        """The notes this cockpit shows, counts and delivers (its context, its backends)."""
        self.outbox = Outbox(self.journal, runtime.of(IncidentActions),  # type: ignore[type-abstract]
                             context=runtime.context_name,
                             configured=set(runtime.context.providers), events=events,
                             read_only=runtime.read_only, backends=runtime.backends)
        self._unsubscribe = self.journal.subscribe(self._changed)
        self._unregister_flush: Callable[[], None] | None = register_flusher(self.flush)
        super().__init__(self._build())

    # ------------------------------------------------------------------------------ live

    def jobs(self) -> Sequence[Job]:
        return [Job("notes:outbox", self.outbox.run), Job("notes:watch", self.journal.watch)]

    async def refresh(self) -> NotesSnapshot:
        """Re-read the store (notes written by another cockpit) and publish."""
        self.journal.refresh()
        self.publish(self._build())
        return self.snapshot

    def _changed(self) -> None:
        self.publish(self._build())

    def _build(self) -> NotesSnapshot:
        events = tuple(event for record in self.journal.notes()
                       for event in self.scope.events(record))
        problems = list(self.journal.problems)
        problem = problems[-1] if problems else self.journal.last_error
        unsaved = len(self.journal.unsaved)
        if unsaved:
            source = ProviderHealth(provider="notes", state=HealthState.ERROR,
                                    error=f"{unsaved} note(s) not saved — r retries",
                                    checked_at=self.runtime.clock())
        else:
            source = ProviderHealth(provider="notes", state=HealthState.OK,
                                    last_ok_at=self.runtime.clock(), fresh_for=float("inf"))
        return NotesSnapshot(events=events, pending=self.pending_count(),
                             unsaved=unsaved, problem=sanitize_line(problem) if problem else None,
                             source=source)

    # ------------------------------------------------------------------------------ actions

    def add_note(self, text: str, incidents: Sequence[Incident], *, kind: str = "note") -> None:
        """Store a note (fsync) and wake the outbox.

        Raises:
            NotesError: the disk refused it (it is then kept, shown as not saved; retry).
        """
        # A typed note's draft is removed once it is stored, or replaced by the parked note
        # when the disk refuses it (it must not come back as the start of the next note).
        draft_keys = [i.key for i in incidents] if kind == "note" else None
        self.journal.add_note(text, incidents, kind=kind, author=self.runtime.env.user,
                              context=self.runtime.context_name, draft_keys=draft_keys,
                              backends=self.runtime.backends)
        if self.journal.unsaved:  # the disk takes notes again: save the ones it refused
            with contextlib.suppress(JournalError):
                self.journal.retry_unsaved()
        self.outbox.wake()

    def pin(self, line: LogLine, incident: Incident | None) -> None:
        """A log line becomes a note on ``incident`` (local only when there is none).

        Raises:
            NotesError: the disk refused it.
        """
        self.add_note(pin_text(line), (incident,) if incident is not None else (), kind="pin")

    def retry(self, note_id: str | None = None) -> int:
        """Save the notes the disk refused, and re-send a failed note (``note_id``).

        Returns:
            How many refused notes are now saved.

        Raises:
            NotesError: the disk still refuses them.
        """
        saved = len(self.journal.retry_unsaved()) if self.journal.unsaved else 0
        if note_id is not None:
            self.journal.requeue(note_id)
        self.outbox.wake()
        self.publish(self._build())
        return saved

    def delivery_plan(self, incidents: Sequence[Incident]) -> tuple[NoteRoute, ...]:
        """Where a note for ``incidents`` will go, said before it is typed (the editor shows
        it): one route per provider, sent or kept local with the reason, decided as the outbox
        decides (a read-only context, a provider that cannot take notes or is not
        configured)."""
        routes: list[NoteRoute] = []
        for provider in dict.fromkeys(i.provider for i in incidents):
            actions = self.outbox.actions.get(provider)
            reason: str | None
            if self.runtime.read_only:
                reason = "read-only context"
            elif actions is None:
                reason = (f"{provider} cannot take notes" if provider in self.outbox.configured
                          else f"{provider} is not configured in context "
                               f"{self.runtime.context_name}")
            else:
                reason = actions.supported_actions().get("note", "notes not supported")
            routes.append(NoteRoute(provider, sanitize_line(reason) if reason else None))
        return tuple(routes)

    def pending_count(self) -> int:
        """Notes of this cockpit not delivered yet, and notes not even saved (``q`` asks before
        quitting). Notes of another context or backend are not counted: this cockpit does not
        deliver them, so quitting changes nothing for them (an old demo's simulator is gone
        for good, and would have asked on every quit)."""
        undelivered = sum(1 for record in self.journal.records.values()
                          if self.scope.undelivered(record))
        return undelivered + len(self.journal.unsaved)

    # ------------------------------------------------------------------------------ drafts

    def load_draft(self, keys: Iterable[str]) -> Draft | None:
        """The unsent draft for these incident keys, if any."""
        return self.journal.load_draft(list(keys))

    def save_draft(self, text: str, keys: Iterable[str], *,
                   incidents: Sequence[Incident] = ()) -> None:
        """Keep a draft (atomic, fsynced).

        Raises:
            NotesError: the disk refused it.
        """
        self.journal.save_draft(text, list(keys), incidents=incidents)

    def clear_draft(self, keys: Iterable[str]) -> None:
        """Forget the draft for these incident keys."""
        self.journal.clear_draft(list(keys))

    def flush(self) -> None:
        """Make everything durable now (SIGHUP, SIGTERM, quitting)."""
        self.journal.flush()

    async def aclose(self) -> None:
        self._unsubscribe()
        if self._unregister_flush is not None:
            self._unregister_flush()
            self._unregister_flush = None
        self.journal.flush()
        self.journal.close()
