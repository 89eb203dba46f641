"""The notes store: operator notes kept in SQLite, shared safely by every cockpit on the machine.

:class:`Journal` keeps the notes in memory (``records``, oldest first by ``notes()``) and in
``notes.db`` (see :mod:`.db`). A note is committed — fsynced, ``synchronous=FULL`` — before
anything is sent. Every process on the same directory sees the others' notes and delivery
states: :meth:`Journal.refresh` re-reads what changed when ``PRAGMA data_version`` moves (one
cheap read; :meth:`Journal.watch` does it every second). A delivery is *claimed* in a write
transaction before it is sent (owner, pid and a lease), so two processes never send the same
one; a claim whose process died, or whose lease lapsed, is taken over after a look at the
provider's own notes.

A note the disk refuses stays in ``unsaved`` (shown "not saved", offered again by
:meth:`retry_unsaved`) and is parked as a file (see :mod:`.drafts`) so its draft is not typed
into the next note. What the store had to skip or move aside is said in ``problems`` and
``last_error``, one line each. Nothing here imports Textual.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sre_cockpit.core.models import Incident, TimelineEvent, utcnow
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.feeds.notes_store import drafts
from sre_cockpit.feeds.notes_store.records import (
    MAX_NOTE_BYTES,
    Draft,
    JournalError,
    NoteRecord,
    TargetState,
    default_journal_dir,
    describe_os_error,
)
from sre_cockpit.feeds.notes_store.safefile import fsync_dir
from sre_cockpit.feeds.notes_store.store import WRITE, NotesMirror


@dataclass(frozen=True)
class Claim:
    """This process may send the delivery now."""

    recheck: bool
    """Another process sent it before without a recorded outcome: look at the provider's own
    notes before sending again."""


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists (on this machine: the store is local)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class Journal(NotesMirror):
    """Operator notes and their deliveries, in memory and in ``notes.db``."""

    @classmethod
    def for_config(cls, journal_dir: str | None = None, *,
                   clock: Callable[[], datetime] = utcnow) -> Journal:
        """The store in the configured/default directory, already read."""
        journal = cls(default_journal_dir(journal_dir), clock=clock)
        journal.replay()
        return journal

    def notes(self) -> list[NoteRecord]:
        """Every note (saved and unsaved), oldest first."""
        return sorted([*self.records.values(), *self.unsaved], key=lambda r: (r.at, r.seq))

    def add_note(self, text: str, incidents: Sequence[Incident], *, kind: str = "note",
                 author: str = "", context: str = "",
                 draft_keys: Iterable[str] | None = None,
                 backends: Mapping[str, str] | None = None) -> NoteRecord:
        """Durably record a note before anything is sent.

        Args:
            text: what the operator typed (neutralised and capped here).
            incidents: the incidents it is for (one delivery per provider).
            kind: ``note`` or ``pin``.
            author: who wrote it.
            context: the config context it was written in.
            draft_keys: the editor draft this note was typed in: removed once the note is
                saved; when the store refuses the note, the note is parked in its place so the
                next note does not start with this text.
            backends: provider name → the backend it talks to (recorded for the incidents'
                providers: the note belongs to them, see ``NoteScope``).

        Raises:
            JournalError: the store could not be written; the note is kept in ``unsaved``
                (and parked on disk when possible) and :meth:`retry_unsaved` offers it again.
        """
        clean = sanitize(text, max_bytes=MAX_NOTE_BYTES).strip("\n")
        self._unsaved_seq += 1
        providers = dict.fromkeys(i.provider for i in incidents)
        record = NoteRecord(
            id=str(uuid.uuid4()), at=self.clock(), text=clean, incidents=tuple(incidents),
            kind=kind, author=author, context=context, seq=self._unsaved_seq,
            backends={p: b for p, b in (backends or {}).items() if p in providers},
        )
        for provider in dict.fromkeys(i.provider for i in incidents):
            record.targets[provider] = TargetState(provider, str(uuid.uuid4()))
        self.created_here.add(record.id)
        draft = drafts.draft_path_for(self.directory, draft_keys) \
            if draft_keys is not None else None
        try:
            self._save(record)
        except JournalError as exc:
            if not drafts.park(self.directory, record, draft):
                exc.args = (f"{exc} (kept only in memory until it is saved)",)
            raise
        if draft is not None:
            drafts.remove(draft)
        return record

    # -- deliveries --------------------------------------------------------------------------

    def claim(self, note_id: str, provider: str, *, lease: float) -> Claim | None:
        """Take the delivery for this process, atomically across processes.

        Returns:
            None when there is nothing to do now: it is no longer pending, or another live
            process claimed it within its lease.

        Raises:
            JournalError: the store could not be written (try later).
        """
        def take(conn: sqlite3.Connection) -> Claim | None:
            row = conn.execute(
                "SELECT state, attempted, attempt_owner, claim_owner, claim_pid, claim_until "
                "FROM deliveries WHERE note_id = ? AND provider = ?",
                (note_id, provider)).fetchone()
            if row is None or row[0] != "pending":
                return None
            _state, attempted, attempt_owner, owner, pid, until = row
            now = time.time()
            if owner and owner != self.owner and until and until > now and pid_alive(pid):
                return None
            conn.execute(
                "UPDATE deliveries SET claim_owner = ?, claim_pid = ?, claim_until = ?, "
                "changed = ? WHERE note_id = ? AND provider = ?",
                (self.owner, os.getpid(), now + lease, self._db.next_change(conn), note_id,
                 provider))
            return Claim(recheck=bool(attempted) and attempt_owner != self.owner)

        try:
            return self._write(f"{WRITE} (delivery claim)", take)
        finally:
            self._sync_delivery(note_id, provider)

    def release(self, note_id: str, provider: str) -> None:
        """Give up this process's claim (the delivery's outcome already released it)."""
        target = self._target(note_id, provider)
        if target is None or target.claim_owner != self.owner:
            return

        def drop(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE deliveries SET claim_owner = NULL, claim_pid = NULL, "
                         "claim_until = NULL, changed = ? WHERE note_id = ? AND provider = ? "
                         "AND claim_owner = ?",
                         (self._db.next_change(conn), note_id, provider, self.owner))

        with contextlib.suppress(JournalError):  # the lease lapses anyway
            self._write(f"{WRITE} (delivery claim)", drop)
        target.claim_owner = target.claim_pid = target.claim_until = None

    def mark_attempt(self, note_id: str, provider: str) -> None:
        """Record that a delivery is about to be sent (before the network call).

        Raises:
            JournalError: the store could not be written (do not send).
        """
        target = self.records[note_id].targets[provider]
        self._write(f"{WRITE} (delivery attempt)", lambda conn: conn.execute(
            "UPDATE deliveries SET attempted = 1, attempt_owner = ?, attempts = attempts + 1, "
            "changed = ? WHERE note_id = ? AND provider = ?",
            (self.owner, self._db.next_change(conn), note_id, provider)))
        target.attempted = True
        target.attempt_owner = self.owner
        target.attempts += 1

    def mark(self, note_id: str, provider: str, state: str, reason: str | None = None) -> None:
        """Record a delivery outcome (``delivered``, ``failed``, ``local``) or, for
        ``pending``, why it waits and until when (``next_try``); releases the claim.

        The in-memory state changes even when the disk refuses (the error is kept in
        ``last_error`` and the outcome written later), so the screen never lies about what
        happened in this process. An outcome another process recorded first wins.

        Raises:
            JournalError: the store could not be written.
        """
        target = self.records[note_id].targets[provider]
        target.state = state
        target.reason = sanitize_line(reason) if reason else None
        if state != "pending":
            target.attempted = False
        try:
            self._write_outcome(note_id, provider, target)
        except JournalError:
            if state != "pending":
                self._unsynced[(note_id, provider)] = (state, target.reason)
            raise
        finally:
            self._changed()

    def requeue(self, note_id: str) -> bool:
        """Offer a failed note for delivery again (the operator asked to retry).

        Returns:
            True when something was re-queued.

        Raises:
            JournalError: the store could not be written.
        """
        record = self.records.get(note_id)
        if record is None:
            return False
        again = [t for t in record.targets.values() if t.state == "failed"]
        if not again:
            return False

        def update(conn: sqlite3.Connection) -> None:
            change = self._db.next_change(conn)
            for target in again:
                conn.execute("UPDATE deliveries SET state = 'pending', reason = NULL, "
                             "attempts = 0, next_try = NULL, changed = ? WHERE note_id = ? "
                             "AND provider = ? AND state = 'failed'",
                             (change, note_id, target.provider))

        self._write(f"{WRITE} (retry)", update)
        for target in again:
            target.state, target.reason, target.attempts, target.next_try = \
                "pending", None, 0, None
        self._changed()
        return True

    def pending(self, context: str | None = None) -> list[tuple[NoteRecord, TargetState]]:
        """Deliveries still to do (optionally only the notes of one context), oldest first."""
        out: list[tuple[NoteRecord, TargetState]] = []
        for record in sorted(self.records.values(), key=lambda r: (r.at, r.seq)):
            if context is not None and record.context and record.context != context:
                continue
            out.extend((record, t) for t in record.targets.values() if t.state == "pending")
        return out

    def pending_count(self) -> int:
        """Notes not yet safe: undelivered or not even saved (``q`` asks before quitting)."""
        undelivered = sum(1 for r in self.records.values() if r.undelivered)
        return undelivered + len(self.unsaved)

    def events(self) -> list[TimelineEvent]:
        """The notes as timeline events (one per target incident)."""
        return [event for record in self.notes() for event in record.to_event()]

    # -- drafts ------------------------------------------------------------------------------

    def draft_path_for(self, incident_keys: Iterable[str] = ()) -> Path:
        """One draft file per set of target incidents (``draft.json`` for none), so a draft for
        one incident never overwrites another's."""
        return drafts.draft_path_for(self.directory, incident_keys)

    def save_draft(self, text: str, incident_keys: Iterable[str] = (), *,
                   incidents: Sequence[Incident] = ()) -> None:
        """Atomically save the note being typed (0600 tmp file, fsync, rename, fsync the
        directory). ``incidents`` lets a draft parked on a full disk be delivered later.

        Raises:
            JournalError: the draft could not be written.
        """
        try:
            drafts.write_draft(self.directory, text, list(incident_keys), incidents,
                               self.clock())
        except OSError as exc:
            message = describe_os_error(exc, "(draft)")
            self.last_error = message
            raise JournalError(message, errno_=exc.errno) from exc

    def load_draft(self, incident_keys: Iterable[str] | None = None) -> Draft | None:
        """The saved draft for these incidents (None: the most recent draft of any), or None."""
        if incident_keys is not None:
            return drafts.read_draft(self.draft_path_for(incident_keys))
        found = drafts.list_drafts(self.directory)
        return found[-1] if found else None

    def drafts(self) -> list[Draft]:
        """Every unsent draft, oldest first."""
        return drafts.list_drafts(self.directory)

    def clear_draft(self, incident_keys: Iterable[str] = ()) -> None:
        """Forget a draft (after the note was stored or the operator discarded it)."""
        drafts.remove(self.draft_path_for(incident_keys))

    # -- shutdown ----------------------------------------------------------------------------

    def flush(self) -> None:
        """On SIGHUP/SIGTERM: every commit is already on disk; save what is still only in
        memory (outcomes and notes the store refused; refused notes are parked as files when
        the store still refuses them). Quick (bounded by the busy timeout) and never raises."""
        if self._in_txn:
            return
        with contextlib.suppress(Exception):
            self._sync_unsynced()
            if self.unsaved:
                try:
                    self.retry_unsaved()
                except JournalError:
                    for record in list(self.unsaved):
                        if not drafts.parked_path(self.directory, record.id).exists():
                            drafts.park(self.directory, record, None)
            fsync_dir(self.directory)

    def close(self) -> None:
        """Close the store's connection (it reopens on the next use)."""
        self._db.close()
