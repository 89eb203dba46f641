"""Import of the old JSON-lines journal (``notes.jsonl``) into the SQLite store, once.

The old file held one record a line: ``note`` (the note and an idempotency key per provider),
``attempt`` (a request was about to be sent) and ``state`` (its outcome). It is read as a stream
with bounds (a line over :data:`MAX_LINE_BYTES` and anything past :data:`MAX_FILE_BYTES` are not
imported, and said so), only if it is a regular file (a FIFO or a link to ``/dev/full`` is refused
without being opened for reading), and each damaged record is skipped with its line number and
byte offset. A record preceded by garbage on its line (a torn write, zeros after a crash) is still
found. Every note keeps its id and keys, so importing twice (two cockpits starting together)
changes nothing: ``INSERT OR IGNORE``. The file is renamed ``notes.jsonl.migrated`` afterwards.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sre_cockpit.feeds.notes_store.db import NotesDb
from sre_cockpit.feeds.notes_store.records import note_from_json
from sre_cockpit.feeds.notes_store.rows import STATES
from sre_cockpit.feeds.notes_store.safefile import fsync_dir, open_regular, read_chunks

LEGACY_FILE = "notes.jsonl"
MAX_FILE_BYTES = 16 << 20
MAX_LINE_BYTES = 256 << 10
MAX_CANDIDATES = 16
"""Positions on a damaged line where a record is looked for (bounds the work per line)."""
MAX_DAMAGED = 1000
"""After this many damaged lines the rest of the file is not read (a flood of garbage)."""
_DECODER = json.JSONDecoder()
_CONTENT = re.compile(rb"[^\n]*\S[^\n]*")


@dataclass
class LegacyImport:
    """What importing ``notes.jsonl`` did."""

    imported: int = 0
    """Notes added to the store (0 when another process had already imported them)."""
    skipped: int = 0
    """Damaged or unusable records."""
    truncated_at: int | None = None
    """Bytes read when the file was longer than :data:`MAX_FILE_BYTES`."""
    size: int = 0
    kept_as: str | None = None
    """The name the file was renamed to."""
    stopped_at: tuple[int, int] | None = None
    """(line, byte) where reading stopped after :data:`MAX_DAMAGED` damaged lines."""
    details: list[str] = field(default_factory=list)
    """One line per damaged place (the first :data:`MAX_DAMAGED`)."""

    def skip(self, line: int, offset: int, what: str, *, count: bool = True) -> None:
        """Count a skipped record (``count``) and remember where it was."""
        self.skipped += int(count)
        if len(self.details) < MAX_DAMAGED:
            self.details.append(f"{LEGACY_FILE} line {line} (byte {offset}): {what}")

    def summary(self) -> str | None:
        """One line for the operator when something was not imported (None: all fine)."""
        if not self.details and self.truncated_at is None and self.stopped_at is None:
            return None
        parts = []
        if self.details:
            lines = ", ".join(d.split(" ", 3)[2] for d in self.details[:5])
            more = " …" if len(self.details) > 5 else ""
            what = f"{self.skipped} damaged record(s) skipped" if self.skipped else \
                "garbage skipped"
            parts.append(f"{what} (line {lines}{more})")
        if self.truncated_at is not None:
            parts.append(f"only the first {self.truncated_at >> 20} MiB of {self.size} bytes "
                         "were read")
        if self.stopped_at is not None:
            parts.append(f"reading stopped at line {self.stopped_at[0]} (byte "
                         f"{self.stopped_at[1]}) after {MAX_DAMAGED} damaged lines")
        kept = f"; the file is kept as {self.kept_as}" if self.kept_as else ""
        return f"{LEGACY_FILE}: {self.imported} note(s) imported, " + "; ".join(parts) + kept


def lines_of(fd: int, limit: int, max_line: int, *,
             chunk_size: int = 1 << 20) -> Iterator[tuple[int, int, bytes | None]]:
    """``(line number, byte offset, bytes or None when longer than max_line)`` for each line
    with something other than whitespace in the first ``limit`` bytes (a last line without a
    newline included). Blank lines cost no Python work; memory stays under one chunk plus
    ``max_line``."""
    number, base = 1, 0  # the line number and file offset where ``held`` starts
    held = b""
    skipping = False  # inside a line over max_line: drop bytes up to its newline
    for chunk in read_chunks(fd, limit, chunk_size):
        if skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                base += len(chunk)
                continue
            number, base, chunk, skipping = number + 1, base + newline + 1, \
                chunk[newline + 1:], False
        data = held + chunk
        cut = data.rfind(b"\n") + 1
        complete, held = data[:cut], data[cut:]
        pos = 0
        for match in _CONTENT.finditer(complete):
            number += complete.count(b"\n", pos, match.start())
            pos = match.start()
            text = match.group()
            yield number, base + pos, text if len(text) <= max_line else None
        number += complete.count(b"\n", pos)
        base += cut
        if len(held) > max_line:
            yield number, base, None
            base += len(held)
            held, skipping = b"", True
    if held.strip():
        yield number, base, held


def records_in_line(text: str) -> tuple[list[dict[str, Any]], int]:
    """The journal records on one line and how many characters around them are garbage.

    A clean line is one JSON object. A damaged one is searched for objects with a ``type``
    from each ``{`` (at most :data:`MAX_CANDIDATES` of them); nesting too deep to decode
    (``[[[[…``) counts as garbage, never as an error.
    """
    stripped = text.strip()
    if not stripped:
        return [], 0
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and "type" in value:
        return [value], 0
    found: list[dict[str, Any]] = []
    garbage = pos = last_end = tries = 0
    while pos < len(stripped) and tries < MAX_CANDIDATES:
        start = stripped.find("{", pos)
        if start < 0:
            break
        tries += 1
        try:
            value, end = _DECODER.raw_decode(stripped, start)
        except (ValueError, RecursionError):
            pos = start + 1
            continue
        if isinstance(value, dict) and "type" in value:
            found.append(value)
            garbage += _visible(stripped[last_end:start])
            pos = last_end = end
        else:
            pos = start + 1
    return found, garbage + _visible(stripped[last_end:])


def _visible(text: str) -> int:
    """Characters that are not whitespace."""
    return len(text) - sum(1 for ch in text if ch.isspace())


def import_legacy(path: Path, db: NotesDb) -> LegacyImport | None:
    """Import ``notes.jsonl`` into ``db`` in one transaction, then rename it ``.migrated``.

    Returns:
        What was done, or None when there is no legacy file.

    Raises:
        RefusedFile: it is not a regular file (nothing is read; the file is left alone).
        OSError: it cannot be read.
        sqlite3.Error: the store refused the import (busy: another process is importing).
    """
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        return None
    result = LegacyImport()
    try:
        result.size = os.fstat(fd).st_size
        with db.transaction() as conn:
            change = db.next_change(conn)
            mine: set[str] = set()
            known: set[str] = set()
            for number, offset, raw in lines_of(fd, MAX_FILE_BYTES, MAX_LINE_BYTES):
                if len(result.details) >= MAX_DAMAGED:
                    result.stopped_at = (number, offset)
                    break
                if raw is None:
                    result.skip(number, offset, f"longer than {MAX_LINE_BYTES >> 10} KiB")
                    continue
                records, garbage = records_in_line(raw.decode("utf-8", "replace"))
                if not records and garbage:
                    result.skip(number, offset, f"not a journal record ({len(raw)} bytes)")
                elif garbage:
                    result.skip(number, offset, f"{garbage} characters of garbage around a "
                                                "record skipped (the record was kept)",
                                count=False)
                for data in records:
                    problem = _apply(conn, db, data, change, mine, known)
                    if problem:
                        result.skip(number, offset, problem)
            result.imported = len(mine)
            if result.size > MAX_FILE_BYTES and result.stopped_at is None:
                result.truncated_at = MAX_FILE_BYTES
    finally:
        os.close(fd)
    result.kept_as = _rename_done(path)
    return result


def _apply(conn: sqlite3.Connection, db: NotesDb, data: dict[str, Any], change: int,
           mine: set[str], known: set[str]) -> str | None:
    """Apply one record; returns why it was skipped (None: applied or already there)."""
    kind = data.get("type")
    if kind == "note":
        try:
            record = note_from_json(data)
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            return f"damaged note ({_why(exc)})"
        known.add(record.id)
        if db.insert_note(conn, record, change) is not None:
            mine.add(record.id)
        return None
    if kind not in ("attempt", "state"):
        return f"unknown record type {str(kind)[:20]!r}"
    note_id, provider = str(data.get("id")), str(data.get("provider"))
    if note_id not in known:
        return "a delivery record for a note not in the file"
    if note_id not in mine:
        return None  # imported before (by another process): its state there is newer
    if kind == "attempt":
        conn.execute("UPDATE deliveries SET attempted = 1, attempt_owner = 'legacy', changed = ? "
                     "WHERE note_id = ? AND provider = ?", (change, note_id, provider))
        return None
    state = data.get("state")
    if state not in STATES:
        return f"unknown delivery state {str(state)[:20]!r}"
    reason = data.get("reason")
    conn.execute("UPDATE deliveries SET state = ?, reason = ?, attempted = 0, changed = ? "
                 "WHERE note_id = ? AND provider = ?",
                 (state, str(reason)[:500] if reason is not None else None, change, note_id,
                  provider))
    return None


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deep"
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}" if exc.args else "missing field"
    return str(exc)[:80] or type(exc).__name__


def _rename_done(path: Path) -> str | None:
    """Rename the imported file ``notes.jsonl.migrated`` (``.migrated-2`` … when taken)."""
    target = path.with_name(path.name + ".migrated")
    count = 1
    while os.path.lexists(target):
        count += 1
        target = path.with_name(f"{path.name}.migrated-{count}")
    try:
        os.rename(path, target)
    except FileNotFoundError:  # another process imported and renamed it first
        return None
    except OSError:
        return path.name  # cannot rename (read-only dir): re-imported harmlessly next time
    fsync_dir(path.parent)
    return target.name
