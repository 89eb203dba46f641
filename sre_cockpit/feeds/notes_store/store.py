"""The in-memory mirror of ``notes.db``, kept in step with every other process on the store.

:class:`NotesMirror` opens the store (moving a damaged one aside, importing ``notes.jsonl``
once, reloading parked notes), reads what other processes changed when ``PRAGMA data_version``
moves, writes in short durable transactions, and keeps outcomes and notes the disk refused until
they can be written. :class:`~sre_cockpit.feeds.notes_store.journal.Journal` adds the public API.
Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sre_cockpit.core.models import utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.notes_store import drafts
from sre_cockpit.feeds.notes_store.db import (
    NoteRow,
    NotesDb,
    StoreUnavailable,
    is_corruption,
)
from sre_cockpit.feeds.notes_store.legacy import LEGACY_FILE, import_legacy
from sre_cockpit.feeds.notes_store.records import (
    JournalError,
    NoteRecord,
    TargetState,
    os_reason,
    sqlite_reason,
)
from sre_cockpit.feeds.notes_store.rows import TEXT_MAX_CHARS, record_from_row, target_from_row
from sre_cockpit.feeds.notes_store.safefile import RefusedFile

T = TypeVar("T")
WRITE = "cannot write the notes journal"
REFRESH_INTERVAL_S = 1.0
REOPEN_AFTER_S = 30.0
"""A store that could not be opened is tried again by :meth:`NotesMirror.refresh` this often."""
MAX_LOADED_NOTES = 20_000
"""Notes held in memory (the newest; older ones still pending are added)."""
MAX_OLDER_PENDING = 5_000
MAX_DELIVERY_ROWS = 200_000
MAX_PROBLEMS = 50
INCIDENTS_MAX_CHARS = 256 << 10
_UNSAVED_SEQ = 10**15


class NotesMirror:
    """Notes and deliveries in memory, in step with ``notes.db``."""

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
        self._open_failed_at = 0.0
        self._legacy_retry = False
        self._in_txn = False
        self._recovering = False
        self._unsynced: dict[tuple[str, str], tuple[str, str | None]] = {}

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
            self._open_failed_at = time.monotonic()
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
                    older = db.pending_before(start - 1, MAX_OLDER_PENDING + 1)
                    shown = f"shown are the newest {MAX_LOADED_NOTES} and every older " \
                        "undelivered one"
                    if len(older) > MAX_OLDER_PENDING:
                        older = older[:MAX_OLDER_PENDING]
                        shown = (f"shown are the newest {MAX_LOADED_NOTES} and the oldest "
                                 f"{MAX_OLDER_PENDING} older undelivered ones; the other "
                                 "undelivered notes stay in the file, unsent")
                    self._problem(f"{self.path.name} holds {total} notes: {shown}")
                    for row in older:
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
        for waiting in self.unsaved:  # refused here, stored since by another process (parked)
            if waiting.id == row.id:
                self.unsaved.remove(waiting)
                waiting.saved = True
                self.records[waiting.id] = waiting
                return
        record = record_from_row(row, self.path.name)
        if isinstance(record, str):
            self.skipped_lines += 1
            self._problem(record)
            return
        if row.text_len > TEXT_MAX_CHARS:
            where = f"{self.path.name}: note {sanitize_line(str(row.id))[:40]} (row {row.seq})"
            self._problem(f"{where}: text of {row.text_len} characters shown cut")
        self.records[record.id] = record

    def _apply_delivery(self, row: Sequence[Any]) -> None:
        record = self.records.get(str(row[0]))
        if record is None:
            return
        values = target_from_row(row, self.path.name)
        if isinstance(values, str):
            self._problem(values)
            return
        target = record.targets.get(values.provider)
        if target is None:
            record.targets[values.provider] = values
            return
        # the same object (the outbox and the callers of add_note hold it), new values
        target.state, target.reason, target.attempted = values.state, values.reason, \
            values.attempted
        target.attempt_owner, target.attempts, target.next_try = values.attempt_owner, \
            values.attempts, values.next_try
        target.claim_owner, target.claim_pid, target.claim_until = values.claim_owner, \
            values.claim_pid, values.claim_until

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
            retry = self._open_error is None or \
                time.monotonic() - self._open_failed_at >= REOPEN_AFTER_S
            if retry and os.path.lexists(self.path) and self._open(create=False):
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
