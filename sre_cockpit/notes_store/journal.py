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

import asyncio
import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sre_cockpit.models import Incident, TimelineEvent, utcnow
from sre_cockpit.notes_store import drafts
from sre_cockpit.notes_store.db import (
    NoteRow,
    NotesDb,
    StoreUnavailable,
    is_corruption,
)
from sre_cockpit.notes_store.legacy import LEGACY_FILE, import_legacy
from sre_cockpit.notes_store.records import (
    MAX_NOTE_BYTES,
    Draft,
    JournalError,
    NoteRecord,
    TargetState,
    default_journal_dir,
    describe_os_error,
    note_from_json,
    os_reason,
    sqlite_reason,
)
from sre_cockpit.notes_store.safefile import RefusedFile, fsync_dir
from sre_cockpit.sanitize import sanitize, sanitize_line

T = TypeVar("T")
WRITE = "cannot write the notes journal"
REFRESH_INTERVAL_S = 1.0
MAX_LOADED_NOTES = 20_000
"""Notes held in memory (the newest; older ones still pending are added)."""
MAX_OLDER_PENDING = 2_000
MAX_DELIVERY_ROWS = 200_000
MAX_PROBLEMS = 50
TEXT_MAX_CHARS = MAX_NOTE_BYTES + 64
INCIDENTS_MAX_CHARS = 256 << 10
STATES = frozenset({"pending", "delivered", "failed", "local"})
_UNSAVED_SEQ = 10**15


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


class Journal:
    """Operator notes and their deliveries, in memory and in ``notes.db``."""

    def __init__(self, directory: Path | str, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.directory = Path(directory)
        self._db = NotesDb(self.directory, text_max=TEXT_MAX_CHARS,
                           incidents_max=INCIDENTS_MAX_CHARS)
        self.path = self._db.path
        self.legacy_path = self.directory / LEGACY_FILE
        self.draft_path = self.directory / drafts.DRAFT_FILE
        self.clock = clock
        self.records: dict[str, NoteRecord] = {}
        self.unsaved: list[NoteRecord] = []
        """Notes the disk refused; shown and offered again, never dropped silently."""
        self.last_error: str | None = None
        """The latest problem, one line (cleared by the next successful write)."""
        self.problems: list[str] = []
        """Everything the store skipped, refused or moved aside, one line each (bounded)."""
        self.skipped_lines = 0
        """Records not imported or not shown because they were damaged."""
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        """This connection's name in delivery claims and attempts."""
        self.created_here: set[str] = set()
        """Ids of the notes this instance added."""
        self._listeners: list[Callable[[], None]] = []
        self._unsaved_seq = _UNSAVED_SEQ
        self._seen_seq = 0
        self._seen_change = 0
        self._data_version: int | None = None
        self._open_error: str | None = None
        self._legacy_retry = False
        self._in_txn = False
        self._recovering = False
        self._unsynced: dict[tuple[str, str], tuple[str, str | None]] = {}

    @classmethod
    def for_config(cls, journal_dir: str | None = None, *,
                   clock: Callable[[], datetime] = utcnow) -> Journal:
        """The store in the configured/default directory, already read."""
        journal = cls(default_journal_dir(journal_dir), clock=clock)
        journal.replay()
        return journal

    # -- listeners and problems --------------------------------------------------------------

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` after every change (this process's or another's).

        Returns:
            A function that unsubscribes it.
        """
        self._listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    def _changed(self) -> None:
        for callback in list(self._listeners):
            with contextlib.suppress(Exception):
                callback()

    def _problem(self, line: str) -> bool:
        """Say what the store skipped, refused or moved aside. Returns whether it is new."""
        line = sanitize_line(line)
        self.last_error = line
        if line in self.problems[-3:]:
            return False
        self.problems.append(line)
        del self.problems[:-MAX_PROBLEMS]
        return True

    def _drain_db_problems(self) -> None:
        while self._db.problems:
            self._problem(self._db.problems.pop(0))

    # -- opening and reading -----------------------------------------------------------------

    def _open(self, *, create: bool) -> bool:
        """Open the store (importing ``notes.jsonl`` once). False: none yet, or unusable.

        A store that cannot be opened is a problem line when reading (``create`` False); a
        write says it in its own error instead.
        """
        if self._db.conn is not None:
            return True
        try:
            opened = self._db.open(create=create or os.path.lexists(self.legacy_path))
        except (StoreUnavailable, OSError) as exc:
            self._open_error = sanitize_line(
                str(exc) if isinstance(exc, StoreUnavailable)
                else f"cannot create {self.path.name}: {os_reason(exc)}")
            if not create:
                self._problem(self._open_error)
            return False
        finally:
            self._drain_db_problems()
        if not opened:
            return False
        self._open_error = None
        self._import_legacy()
        try:
            self._load(full=True)
        except sqlite3.Error as exc:
            if not is_corruption(exc):
                self._problem(f"cannot read the notes store: {sqlite_reason(exc)}")
                return True
            self._recover()
        self._load_parked()
        return True

    def _import_legacy(self) -> None:
        self._legacy_retry = False
        if not os.path.lexists(self.legacy_path):
            return
        try:
            result = import_legacy(self.legacy_path, self._db)
        except RefusedFile as exc:
            self._problem(f"old notes journal not imported: {exc}")
            return
        except OSError as exc:
            self._problem(f"old notes journal {LEGACY_FILE} cannot be read: "
                          f"{exc.strerror or exc}")
            return
        except sqlite3.Error as exc:
            self._legacy_retry = True  # another process holds the store (importing it too)
            self._problem(f"{LEGACY_FILE} not imported yet: {sqlite_reason(exc)}")
            return
        if result is None:
            return
        self.skipped_lines += result.skipped
        summary = result.summary()
        if summary:
            for detail in result.details[:MAX_PROBLEMS - 10]:
                self._problem(detail)
            self._problem(summary)

    def replay(self) -> None:
        """Read every note and delivery state again from the store."""
        self._db.close()
        self.records.clear()
        self.skipped_lines = 0
        self._open_error = None
        self._open(create=False)
        self._load_parked()

    def _load_parked(self) -> None:
        known = set(self.records) | {r.id for r in self.unsaved}
        parked, problems = drafts.load_parked(self.directory, self._unsaved_seq + 1)
        for line in problems:
            self._problem(line)
        fresh = [r for r in parked if r.id not in known]
        for record in fresh:
            self._unsaved_seq += 1
            record.seq = self._unsaved_seq
            self.unsaved.append(record)
        if fresh and self._db.conn is not None:
            with contextlib.suppress(JournalError):
                self.retry_unsaved()

    def _load(self, *, full: bool) -> bool:
        """Read the notes and delivery rows this instance has not seen, in one snapshot.

        Returns:
            Whether anything was read.
        """
        db = self._db
        conn = db.require()
        self._data_version = db.data_version()
        conn.execute("BEGIN")
        try:
            read = False
            if full:
                self._seen_seq = self._seen_change = 0
                total = db.count_notes()
                if total > MAX_LOADED_NOTES:
                    start = db.first_seq(MAX_LOADED_NOTES)
                    self._problem(f"{self.path.name} holds {total} notes; the newest "
                                  f"{MAX_LOADED_NOTES} (and older undelivered ones) are shown")
                    for row in db.pending_before(start - 1, MAX_OLDER_PENDING):
                        self._apply_note(row)
                    self._seen_seq = start - 1
            while True:
                rows = db.notes_after(self._seen_seq, 1000)
                for row in rows:
                    self._apply_note(row)
                    self._seen_seq = row.seq
                read = read or bool(rows)
                if len(rows) < 1000:
                    break
            deliveries = db.deliveries_changed_after(self._seen_change, MAX_DELIVERY_ROWS + 1)
            if len(deliveries) > MAX_DELIVERY_ROWS:
                self._problem(f"{self.path.name}: more than {MAX_DELIVERY_ROWS} delivery rows "
                              "changed; the rest are read on the next change")
                deliveries = deliveries[:MAX_DELIVERY_ROWS]
            for delivery in deliveries:
                self._apply_delivery(delivery)
                self._seen_change = max(self._seen_change, int(delivery[12] or 0))
            read = read or bool(deliveries)
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("COMMIT")
        for (note_id, provider), (state, reason) in self._unsynced.items():
            target = self._target(note_id, provider)
            if target is not None:
                target.state, target.reason = state, reason
        return read

    def _apply_note(self, row: NoteRow) -> None:
        if row.id in self.records:
            return  # this process's own note (it keeps the order it was typed in)
        where = f"{self.path.name}: note {sanitize_line(str(row.id))[:40]} (row {row.seq})"
        if row.incidents is None:
            self.skipped_lines += 1
            self._problem(f"{where}: incident list of {row.incidents_len} bytes is over the "
                          "limit: not shown")
            return
        try:
            record = note_from_json({
                "id": row.id, "at": row.at, "kind": row.kind, "text": row.text,
                "author": row.author, "context": row.context,
                "incidents": json.loads(row.incidents)}, seq=row.seq, with_keys=False)
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            self.skipped_lines += 1
            reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:60]
            self._problem(f"{where} is damaged ({reason}): not shown")
            return
        if row.text_len > TEXT_MAX_CHARS:
            self._problem(f"{where}: text of {row.text_len} characters shown cut")
        self.records[record.id] = record

    def _apply_delivery(self, row: Sequence[Any]) -> None:
        (note_id, provider, key, state, reason, attempted, attempt_owner, attempts, next_try,
         claim_owner, claim_pid, claim_until, _changed) = row
        record = self.records.get(str(note_id))
        if record is None:
            return
        if state not in STATES:
            self._problem(f"{self.path.name}: note {str(note_id)[:40]}: unknown delivery "
                          f"state {str(state)[:20]!r} for {str(provider)[:40]}")
            return
        target = record.targets.get(str(provider))
        if target is None:
            target = record.targets[str(provider)] = TargetState(str(provider), str(key))
        target.state = str(state)
        target.reason = sanitize_line(str(reason))[:500] if reason else None
        target.attempted = bool(attempted)
        target.attempt_owner = str(attempt_owner) if attempt_owner else None
        target.attempts = int(attempts or 0)
        target.next_try = (datetime.fromtimestamp(float(next_try), UTC)
                           if next_try is not None else None)
        target.claim_owner = str(claim_owner) if claim_owner else None
        target.claim_pid = int(claim_pid) if claim_pid else None
        target.claim_until = float(claim_until) if claim_until is not None else None

    def _target(self, note_id: str, provider: str) -> TargetState | None:
        record = self.records.get(note_id)
        return record.targets.get(provider) if record is not None else None

    def _sync_delivery(self, note_id: str, provider: str) -> None:
        with contextlib.suppress(sqlite3.Error, StoreUnavailable):
            row = self._db.delivery(note_id, provider)
            if row is not None:
                self._apply_delivery(row)

    def refresh(self) -> bool:
        """Re-read what other processes changed (a no-op unless ``data_version`` moved).

        Returns:
            Whether something changed (listeners were called).
        """
        if self._in_txn:
            return False
        if self._db.conn is None:
            if self._open_error is None and os.path.lexists(self.path) and \
                    self._open(create=False):
                self._changed()
                return True
            return False
        try:
            if self._db.replaced():
                self._problem(f"{self.path.name} was replaced by another process; re-read")
                self._db.close()
                self._open(create=False)
                self._changed()
                return True
            self._sync_unsynced()
            if self._legacy_retry:
                self._import_legacy()
            if self._db.data_version() == self._data_version:
                return False
            changed = self._load(full=False)
        except (sqlite3.Error, StoreUnavailable) as exc:
            if isinstance(exc, sqlite3.Error) and is_corruption(exc):
                self._recover()
                self._changed()
                return True
            reason = sqlite_reason(exc) if isinstance(exc, sqlite3.Error) else str(exc)
            if self._problem(f"cannot read the notes store: {reason}"):
                self._changed()
            return False
        if changed:
            self._changed()
        return changed

    async def watch(self, interval: float = REFRESH_INTERVAL_S) -> None:
        """Follow the other processes' notes for ever (one cheap check every ``interval``
        seconds; listeners are called only when something changed). Never raises."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.refresh()
            except Exception as exc:  # never let a watcher die silently
                if self._problem(f"notes store: {type(exc).__name__}: {exc}"):
                    self._changed()

    def _recover(self) -> None:
        """The store is damaged: move it aside, start fresh, write back what memory holds."""
        if self._recovering:
            return
        self._recovering = True
        try:
            self._recover_now()
        finally:
            self._recovering = False

    def _recover_now(self) -> None:
        try:
            self._db.recover()
        except (OSError, StoreUnavailable) as exc:
            self._open_error = str(exc)
            self._problem(f"the notes store is damaged and cannot be replaced: {exc}")
            return
        finally:
            self._drain_db_problems()
        kept = list(self.records.values())

        def write_back(conn: sqlite3.Connection) -> None:
            change = self._db.next_change(conn)
            for record in kept:
                self._db.insert_note(conn, record, change)

        with contextlib.suppress(JournalError):
            self._write(f"{WRITE} (recovery)", write_back)
        self._seen_seq = self._seen_change = 0
        with contextlib.suppress(sqlite3.Error):
            self._load(full=False)

    # -- writing -----------------------------------------------------------------------------

    def _write(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one durable write transaction.

        Args:
            what: the start of the error line (``note not saved``, ``cannot write the notes
                journal (delivery state)`` …); the reason follows it.

        Raises:
            JournalError: not written (one line: busy, disk full, damaged …).
        """
        for attempt in (1, 2):
            if not self._open(create=True):
                raise JournalError(sanitize_line(
                    f"{what}: {self._open_error or 'store unavailable'}"))
            self._in_txn = True
            try:
                with self._db.transaction() as conn:
                    result = work(conn)
            except sqlite3.Error as exc:
                if is_corruption(exc) and attempt == 1 and not self._recovering:
                    self._in_txn = False
                    self._recover()
                    continue
                message = sanitize_line(f"{what}: {sqlite_reason(exc)}")
                self.last_error = message
                raise JournalError(message) from exc
            except OSError as exc:
                message = sanitize_line(f"{what}: {os_reason(exc)}")
                self.last_error = message
                raise JournalError(message, errno_=exc.errno) from exc
            finally:
                self._in_txn = False
            return result
        raise JournalError(f"{what}: the store keeps failing")

    # -- notes -------------------------------------------------------------------------------

    def notes(self) -> list[NoteRecord]:
        """Every note (saved and unsaved), oldest first."""
        return sorted([*self.records.values(), *self.unsaved], key=lambda r: (r.at, r.seq))

    def add_note(self, text: str, incidents: Sequence[Incident], *, kind: str = "note",
                 author: str = "", context: str = "",
                 draft_keys: Iterable[str] | None = None) -> NoteRecord:
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

        Raises:
            JournalError: the store could not be written; the note is kept in ``unsaved``
                (and parked on disk when possible) and :meth:`retry_unsaved` offers it again.
        """
        clean = sanitize(text, max_bytes=MAX_NOTE_BYTES).strip("\n")
        self._unsaved_seq += 1
        record = NoteRecord(
            id=str(uuid.uuid4()), at=self.clock(), text=clean, incidents=tuple(incidents),
            kind=kind, author=author, context=context, seq=self._unsaved_seq,
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

    def _save(self, record: NoteRecord) -> NoteRecord:
        def insert(conn: sqlite3.Connection) -> int | None:
            return self._db.insert_note(conn, record, self._db.next_change(conn))

        try:
            self._write("note not saved", insert)
        except JournalError as exc:
            record.saved = False
            if record not in self.unsaved:
                self.unsaved.append(record)
            exc.record = record
            self._changed()
            raise
        record.saved = True
        if record in self.unsaved:
            self.unsaved.remove(record)
        self.records[record.id] = record
        drafts.remove(drafts.parked_path(self.directory, record.id))
        self.last_error = None
        self._changed()
        return record

    def retry_unsaved(self) -> list[NoteRecord]:
        """Try again to write the notes the disk refused.

        Raises:
            JournalError: still failing (the notes stay in ``unsaved``).
        """
        return [self._save(record) for record in list(self.unsaved)]

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

    def _write_outcome(self, note_id: str, provider: str, target: TargetState) -> None:
        def update(conn: sqlite3.Connection) -> int:
            change = self._db.next_change(conn)
            if target.state == "pending":
                next_try = target.next_try.timestamp() if target.next_try else None
                return conn.execute(
                    "UPDATE deliveries SET reason = ?, attempts = ?, next_try = ?, "
                    "claim_owner = NULL, claim_pid = NULL, claim_until = NULL, changed = ? "
                    "WHERE note_id = ? AND provider = ? AND state = 'pending'",
                    (target.reason, target.attempts, next_try, change, note_id,
                     provider)).rowcount
            return conn.execute(
                "UPDATE deliveries SET state = ?, reason = ?, attempted = 0, next_try = NULL, "
                "claim_owner = NULL, claim_pid = NULL, claim_until = NULL, changed = ? "
                "WHERE note_id = ? AND provider = ? AND state = 'pending'",
                (target.state, target.reason, change, note_id, provider)).rowcount

        updated = self._write(f"{WRITE} (delivery state)", update)
        self._unsynced.pop((note_id, provider), None)
        if updated:
            target.claim_owner = target.claim_pid = target.claim_until = None
        else:
            self._sync_delivery(note_id, provider)  # decided elsewhere first: show that

    def _sync_unsynced(self) -> None:
        for (note_id, provider), (state, _reason) in list(self._unsynced.items()):
            target = self._target(note_id, provider)
            if target is None or target.state != state:
                self._unsynced.pop((note_id, provider), None)
                continue
            with contextlib.suppress(JournalError):
                self._write_outcome(note_id, provider, target)

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
