"""The SQLite file behind the notes store: opening it safely, its schema, and bounded reads.

``notes.db`` in the journal directory, in WAL mode with ``synchronous=FULL`` (a commit is on disk
before it returns, so a note is durable before anything is sent), a small ``busy_timeout`` (a
store held by another process fails a write quickly instead of freezing the UI) and
``trusted_schema=OFF``. Every process sharing the directory sees the others' commits through
``PRAGMA data_version`` and a change counter stamped on every delivery row it touches.

Before SQLite sees the file, each of ``notes.db``, ``-wal``, ``-shm`` and ``-journal`` must be a
regular file (SQLite would block reading a FIFO); one that is not, a file that is not a SQLite
database, another program's database or a damaged one is moved aside (``notes.db.corrupt-…``,
kept), what could still be read is copied into a fresh store, and a line says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sre_cockpit.feeds.notes_store.records import NoteRecord, sqlite_reason
from sre_cockpit.feeds.notes_store.safefile import (
    create_private,
    ensure_dir,
    fsync_dir,
    move_aside,
    refusal,
)

DB_FILE = "notes.db"
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
APPLICATION_ID = 0x53524543  # "SREC"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 250
"""How long a write waits for another process's transaction before it fails (and says so)."""
QUICK_CHECK_MAX_BYTES = 64 << 20
"""Larger stores skip the integrity check at open (it reads every page)."""
MAX_SALVAGE_ROWS = 200_000
CORRUPT_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('change', 0);
CREATE TABLE IF NOT EXISTS notes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    context TEXT NOT NULL,
    incidents TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    note_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    reason TEXT,
    attempted INTEGER NOT NULL DEFAULT 0,
    attempt_owner TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL,
    claim_owner TEXT,
    claim_pid INTEGER,
    claim_until REAL,
    changed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (note_id, provider)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_changed ON deliveries (changed);
"""

NOTE_COLUMNS = ("seq, id, at, kind, substr(text, 1, :text_max), length(text), author, context, "
                "CASE WHEN length(incidents) <= :inc_max THEN incidents END, length(incidents)")
DELIVERY_COLUMNS = ("note_id, provider, idempotency_key, state, reason, attempted, attempt_owner, "
                    "attempts, next_try, claim_owner, claim_pid, claim_until, changed")


class StoreUnavailable(Exception):
    """The store cannot be used at all; ``str()`` is one line for the operator."""


class Damaged(Exception):
    """The file is not a usable notes store (moved aside by :meth:`NotesDb.open`)."""


def error_name(exc: BaseException) -> str:
    """``SQLITE_CORRUPT``, ``SQLITE_FULL`` … (empty for other errors)."""
    return str(getattr(exc, "sqlite_errorname", "") or "")


def is_corruption(exc: BaseException) -> bool:
    """Whether a SQLite error says the file is damaged or not a database."""
    name = error_name(exc)
    return any(name == code or name.startswith(code + "_") for code in CORRUPT_CODES)


def stamp(now: datetime | None = None) -> str:
    """``20260301T140000Z``: the suffix of a moved-aside file."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class NoteRow:
    """A ``notes`` row as read (text and incident list bounded)."""

    seq: int
    id: str
    at: str
    kind: str
    text: str
    text_len: int
    author: str
    context: str
    incidents: str | None
    incidents_len: int


class NotesDb:
    """One connection to ``notes.db`` (autocommit; explicit ``BEGIN IMMEDIATE`` for writes)."""

    def __init__(self, directory: Path, *, text_max: int, incidents_max: int) -> None:
        self.directory = directory
        self.path = directory / DB_FILE
        self.text_max = text_max
        self.incidents_max = incidents_max
        self.conn: sqlite3.Connection | None = None
        self.problems: list[str] = []
        """What opening found and did (moved-aside files, salvaged rows), one line each."""
        self._identity: tuple[int, int] | None = None

    # -- opening ---------------------------------------------------------------------------

    def open(self, *, create: bool) -> bool:
        """Open (and when ``create``, create) the store. Returns False when there is none yet.

        Raises:
            OSError: the directory or the file cannot be created.
            StoreUnavailable: a newer schema, or the file cannot be opened even fresh.
        """
        if self.conn is not None:
            return True
        if create:
            ensure_dir(self.directory)
        salvage_from: Path | None = None
        odd = [r for r in (refusal(self.path.with_name(self.path.name + s))
                           for s in ("", *SIDE_SUFFIXES)) if r]
        message = ""
        if odd:
            main_is_file = os.path.lexists(self.path) and refusal(self.path) is None
            moved = self._move_all_aside("refused")
            salvage_from = moved if main_is_file else None
            where = f" (moved aside to {moved.name})" if moved is not None else ""
            message = f"{'; '.join(odd)}: not used{where}; a new notes store was started"
        if not os.path.lexists(self.path):
            if not create and not odd:
                return False
            ensure_dir(self.directory)
            create_private(self.path)  # 0600 before SQLite creates it (-wal/-shm copy the mode)
        try:
            self._connect()
        except Damaged as exc:
            self.close()
            moved = self._move_all_aside("corrupt")
            salvage_from = moved
            where = f" to {moved.name}" if moved is not None else ""
            message = f"{self.path.name} {exc}: moved aside{where} and a new notes store started"
            create_private(self.path)
            try:
                self._connect()
            except Damaged as again:
                self.close()
                raise StoreUnavailable(f"a new {self.path.name} cannot be used: {again}") from again
        if salvage_from is not None:
            salvaged = salvage_into(salvage_from, self)
            if salvaged:
                message += f"; {salvaged} note(s) recovered from the old file"
        if message:
            self.problems.append(message)
        return True

    def _move_all_aside(self, label: str) -> Path | None:
        when = stamp()
        moved = None
        for suffix in ("", *SIDE_SUFFIXES):
            path = self.path.with_name(self.path.name + suffix)
            try:
                target = move_aside(path, label, when)
            except OSError as exc:
                raise StoreUnavailable(f"{path.name} cannot be moved aside: "
                                       f"{exc.strerror or exc}") from exc
            if suffix == "":
                moved = target
        return moved

    def _connect(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.path.name} cannot be opened: "
                                   f"{sqlite_reason(exc)}") from exc
        self.conn = conn
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute("PRAGMA cell_size_check = ON")
            self._check(conn)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreUnavailable(f"{self.path.name}: WAL mode refused ({mode})")
            conn.execute("PRAGMA synchronous = FULL")
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
                fsync_dir(self.directory)
        except sqlite3.DatabaseError as exc:
            if is_corruption(exc):
                raise Damaged(f"is damaged ({exc})") from exc
            self.close()
            raise StoreUnavailable(f"{self.path.name} cannot be opened: "
                                   f"{sqlite_reason(exc)}") from exc
        except BaseException:
            self.close()
            raise
        info = os.lstat(self.path)
        self._identity = (info.st_dev, info.st_ino)

    def _check(self, conn: sqlite3.Connection) -> None:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if tables and app_id != APPLICATION_ID:
            raise Damaged("is not an sre-cockpit notes store (another program's database)")
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(f"{self.path.name} was written by a newer sre-cockpit "
                                   f"(schema {version}); notes stay in memory until it is "
                                   "upgraded")
        if tables and os.lstat(self.path).st_size <= QUICK_CHECK_MAX_BYTES:
            verdict = conn.execute("PRAGMA quick_check(3)").fetchall()
            if [tuple(row) for row in verdict] != [("ok",)]:
                raise Damaged(f"is damaged ({'; '.join(str(r[0]) for r in verdict)[:200]})")

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def replaced(self) -> bool:
        """Whether ``notes.db`` is no longer the file this connection has open (another
        process moved a damaged store aside, or it was deleted)."""
        if self.conn is None or self._identity is None:
            return False
        try:
            info = os.lstat(self.path)
        except OSError:
            return True
        return (info.st_dev, info.st_ino) != self._identity

    def recover(self) -> None:
        """The open store turned out damaged: move it aside and start a fresh one (rows still
        readable are copied), with a line in ``problems`` saying so.

        Raises:
            OSError, StoreUnavailable: no fresh store could be started.
        """
        self.close()
        moved = self._move_all_aside("corrupt")
        create_private(self.path)
        self._connect()
        salvaged = salvage_into(moved, self) if moved is not None else 0
        where = moved.name if moved is not None else "nowhere (it was gone)"
        self.problems.append(f"{self.path.name} became damaged: moved aside to {where} and a new "
                             f"notes store started; {salvaged} note(s) recovered from it")

    # -- reading -----------------------------------------------------------------------------

    def require(self) -> sqlite3.Connection:
        """The open connection.

        Raises:
            StoreUnavailable: not open.
        """
        if self.conn is None:
            raise StoreUnavailable("the notes store is not open")
        return self.conn

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap: read from shared memory)."""
        return int(self.require().execute("PRAGMA data_version").fetchone()[0])

    def first_seq(self, newest: int) -> int:
        """The ``seq`` from which the newest ``newest`` notes start (0: all)."""
        row = self.require().execute("SELECT seq FROM notes ORDER BY seq DESC LIMIT 1 OFFSET ?",
                                     (newest - 1,)).fetchone()
        return int(row[0]) if row else 0

    def count_notes(self) -> int:
        """How many notes the store holds."""
        return int(self.require().execute("SELECT count(*) FROM notes").fetchone()[0])

    def notes_after(self, seq: int, limit: int) -> list[NoteRow]:
        """Notes with ``seq`` above ``seq``, oldest first, at most ``limit``."""
        rows = self.require().execute(
            f"SELECT {NOTE_COLUMNS} FROM notes WHERE seq > :seq ORDER BY seq LIMIT :limit",
            {"seq": seq, "limit": limit, "text_max": self.text_max,
             "inc_max": self.incidents_max}).fetchall()
        return [NoteRow(*row) for row in rows]

    def pending_before(self, seq: int, limit: int) -> list[NoteRow]:
        """Notes older than ``seq`` that still have a delivery to do."""
        rows = self.require().execute(
            f"SELECT {NOTE_COLUMNS} FROM notes WHERE seq <= :seq AND EXISTS (SELECT 1 FROM "
            "deliveries d WHERE d.note_id = notes.id AND d.state = 'pending') ORDER BY seq "
            "LIMIT :limit",
            {"seq": seq, "limit": limit, "text_max": self.text_max,
             "inc_max": self.incidents_max}).fetchall()
        return [NoteRow(*row) for row in rows]

    def deliveries_changed_after(self, change: int, limit: int) -> list[tuple[Any, ...]]:
        """Delivery rows stamped after ``change`` (every row for 0), oldest stamp first."""
        return self.require().execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE changed > ? ORDER BY changed "
            "LIMIT ?", (change, limit)).fetchall()

    def delivery(self, note_id: str, provider: str) -> tuple[Any, ...] | None:
        """One delivery row."""
        row = self.require().execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE note_id = ? AND provider = ?",
            (note_id, provider)).fetchone()
        return tuple(row) if row is not None else None

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (durable on return), rolled back on any error.

        Raises:
            sqlite3.Error: busy, disk full, damaged …
            StoreUnavailable: not open.
        """
        conn = self.require()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    def next_change(conn: sqlite3.Connection) -> int:
        """Stamp for the rows this transaction changes (other processes read rows above the
        last stamp they saw)."""
        conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'change'")
        return int(conn.execute("SELECT value FROM meta WHERE key = 'change'").fetchone()[0])

    @staticmethod
    def insert_note(conn: sqlite3.Connection, record: NoteRecord, change: int) -> int | None:
        """Insert a note and its deliveries unless a note with its id exists.

        Returns:
            Its ``seq``, or None when it was already there (an idempotent re-import).
        """
        cursor = conn.execute(
            "INSERT OR IGNORE INTO notes (id, at, kind, text, author, context, incidents) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.id, record.at.isoformat(), record.kind, record.text, record.author,
             record.context, json.dumps(record.incidents_json(), ensure_ascii=False,
                                        separators=(",", ":"))))
        if cursor.rowcount != 1:
            return None
        for target in record.targets.values():
            conn.execute(
                "INSERT OR IGNORE INTO deliveries (note_id, provider, idempotency_key, state, "
                "reason, attempted, changed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.id, target.provider, target.idempotency_key, target.state,
                 target.reason, int(target.attempted), change))
        return int(cursor.lastrowid or 0)


def salvage_into(moved: Path, db: NotesDb) -> int:
    """Copy the notes (and their delivery states) still readable in a moved-aside store into
    ``db``. Returns how many notes were copied; stops quietly at the first unreadable page."""
    from sre_cockpit.feeds.notes_store.records import note_from_json

    try:
        old = sqlite3.connect(f"file:{moved}?mode=ro&immutable=1", uri=True, timeout=0.1)
    except sqlite3.Error:
        return 0
    copied = 0
    try:
        old.execute("PRAGMA trusted_schema = OFF")
        notes: list[NoteRecord] = []
        states: dict[tuple[str, str], Sequence[Any]] = {}
        with contextlib.suppress(sqlite3.Error):
            for row in old.execute("SELECT id, at, kind, text, author, context, incidents "
                                   f"FROM notes ORDER BY seq LIMIT {MAX_SALVAGE_ROWS}"):
                with contextlib.suppress(KeyError, TypeError, ValueError, RecursionError):
                    notes.append(note_from_json({
                        "id": row[0], "at": row[1], "kind": row[2], "text": row[3],
                        "author": row[4], "context": row[5],
                        "incidents": json.loads(row[6]) if len(str(row[6])) <= db.incidents_max
                        else None, "keys": {}} | _keys_of(old, str(row[0]))))
        with contextlib.suppress(sqlite3.Error):
            for row in old.execute("SELECT note_id, provider, state, reason FROM deliveries "
                                   f"LIMIT {MAX_SALVAGE_ROWS}"):
                states[(str(row[0]), str(row[1]))] = row
        if not notes:
            return 0
        with db.transaction() as conn:
            change = db.next_change(conn)
            for record in notes:
                for provider, target in record.targets.items():
                    row = states.get((record.id, provider))
                    if row is not None and row[2] in ("pending", "delivered", "failed", "local"):
                        target.state, target.reason = str(row[2]), row[3]
                        target.attempted = row[2] == "pending"  # unknown: look before sending
                if db.insert_note(conn, record, change) is not None:
                    copied += 1
    except sqlite3.Error:
        return copied
    finally:
        old.close()
    return copied


def _keys_of(old: sqlite3.Connection, note_id: str) -> dict[str, Any]:
    try:
        rows = old.execute("SELECT provider, idempotency_key FROM deliveries WHERE note_id = ?",
                           (note_id,)).fetchall()
    except sqlite3.Error:
        return {}
    return {"keys": {str(p): str(k) for p, k in rows}}
