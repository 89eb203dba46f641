"""A damaged, hostile or busy notes.db: moved aside with a clear line and a fresh store started
(what could be read copied over, the old file kept), refused without being opened when it is not
a regular file, and never a hang."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from journal_helpers import incident

from sre_cockpit.feeds.journal import Journal, JournalError
from sre_cockpit.feeds.notes_store.db import BUSY_TIMEOUT_MS
from sre_cockpit.feeds.notes_store.records import note_from_json


def opened(directory: Path) -> Journal:
    journal = Journal(directory)
    journal.replay()
    return journal


def aside(directory: Path, label: str) -> list[Path]:
    return sorted(directory.glob(f"notes.db.{label}-*"))


def test_garbage_in_place_of_the_store_is_moved_aside_and_a_new_one_started(
        tmp_path: Path) -> None:
    tmp_path.joinpath("notes.db").write_bytes(b"this is not a database\n" * 100)
    journal = opened(tmp_path)
    (moved,) = aside(tmp_path, "corrupt")
    assert moved.read_bytes() == b"this is not a database\n" * 100  # kept as it was
    assert journal.last_error == (f"notes.db is damaged (file is not a database): moved aside "
                                  f"to {moved.name} and a new notes store started")
    journal.add_note("after the damage", [incident()])
    assert [r.text for r in opened(tmp_path).notes()] == ["after the damage"]


def test_a_store_damaged_in_the_middle_keeps_what_can_be_read(tmp_path: Path) -> None:
    journal = opened(tmp_path)
    for n in range(40):
        journal.add_note(f"note {n} " + "x" * 2000, [incident()])
    journal.close()
    conn = sqlite3.connect(tmp_path / "notes.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = bytearray((tmp_path / "notes.db").read_bytes())
    page = 4096
    raw[page * 20:page * 22] = b"\xff" * (page * 2)  # two pages of overflow text destroyed
    (tmp_path / "notes.db").write_bytes(bytes(raw))
    again = opened(tmp_path)
    (moved,) = aside(tmp_path, "corrupt")
    assert moved.stat().st_size == len(raw)
    assert "moved aside" in (again.last_error or "") and "recovered" in (again.last_error or "")
    recovered = [r.text.split(" ", 2)[1] for r in again.notes()]
    assert 0 < len(recovered) < 40 and recovered == sorted(recovered, key=int)
    assert again.records and all(r.state == "pending" for r in again.records.values())


@pytest.mark.parametrize("kind", ["fifo", "dev-full-link", "directory"])
def test_a_store_that_is_not_a_regular_file_is_moved_aside_unopened(tmp_path: Path,
                                                                     kind: str) -> None:
    path = tmp_path / "notes.db"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-full-link":
        path.symlink_to("/dev/full")
    else:
        path.mkdir()
    started = time.monotonic()
    journal = opened(tmp_path)
    assert time.monotonic() - started < 2  # SQLite would block reading a FIFO's header
    (moved,) = aside(tmp_path, "refused")
    what = {"fifo": "a FIFO (named pipe)", "dev-full-link": "a symbolic link to /dev/full",
            "directory": "a directory"}[kind]
    assert journal.last_error == (f"notes.db is {what}, not a regular file: not used (moved "
                                  f"aside to {moved.name}); a new notes store was started")
    assert os.path.lexists(moved)
    journal.add_note("works", [incident()])
    assert [r.text for r in opened(tmp_path).notes()] == ["works"]


def test_a_wal_file_that_is_a_fifo_is_moved_aside_with_the_store(tmp_path: Path) -> None:
    earlier = opened(tmp_path)
    earlier.add_note("before", [incident()])
    earlier.close()  # the last connection: the WAL is checkpointed into notes.db and removed
    assert not (tmp_path / "notes.db-wal").exists()
    os.mkfifo(tmp_path / "notes.db-wal")
    journal = opened(tmp_path)
    assert "notes.db-wal is a FIFO (named pipe), not a regular file" in (journal.last_error or "")
    assert "1 note(s) recovered from the old file" in (journal.last_error or "")
    assert [r.text for r in journal.notes()] == ["before"]


def test_another_programs_database_is_not_used(tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "notes.db")
    other.execute("CREATE TABLE notes (whatever TEXT)")
    other.execute("INSERT INTO notes VALUES ('theirs')")
    other.commit()
    other.close()
    journal = opened(tmp_path)
    assert "notes.db is not an sre-cockpit notes store (another program's database): moved " \
           "aside" in (journal.last_error or "")
    (moved,) = aside(tmp_path, "corrupt")
    theirs = sqlite3.connect(moved)
    assert theirs.execute("SELECT whatever FROM notes").fetchall() == [("theirs",)]
    theirs.close()


def test_a_store_from_a_newer_version_is_left_alone_and_notes_stay_in_memory(
        tmp_path: Path) -> None:
    opened(tmp_path).add_note("old", [incident()])
    conn = sqlite3.connect(tmp_path / "notes.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    journal = opened(tmp_path)
    assert journal.last_error == ("notes.db was written by a newer sre-cockpit (schema 99); "
                                  "notes stay in memory until it is upgraded")
    with pytest.raises(JournalError, match="newer sre-cockpit"):
        journal.add_note("new", [incident()])
    assert [(r.text, r.saved) for r in journal.notes()] == [("new", False)]
    assert not aside(tmp_path, "corrupt")


def test_a_store_held_by_another_process_fails_fast_and_says_so(tmp_path: Path) -> None:
    journal = opened(tmp_path)
    journal.add_note("first", [incident()])
    holder = sqlite3.connect(tmp_path / "notes.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process sits on the write lock
    try:
        started = time.monotonic()
        with pytest.raises(JournalError, match="busy: another process holds the notes store"):
            journal.add_note("second", [incident()])
        assert time.monotonic() - started < BUSY_TIMEOUT_MS / 1000 + 1.0
        assert [r.text for r in journal.unsaved] == ["second"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    journal.retry_unsaved()
    assert [r.text for r in opened(tmp_path).notes()] == ["first", "second"]


def test_a_draft_that_is_a_fifo_or_a_link_is_not_read(tmp_path: Path) -> None:
    journal = opened(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    os.mkfifo(journal.draft_path_for(["pd:P1"]))
    journal.draft_path_for(["pd:P2"]).symlink_to("/dev/full")
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.extend(
        [journal.load_draft(["pd:P1"]), journal.load_draft(["pd:P2"]), journal.load_draft(),
         journal.drafts()]), daemon=True)
    reader.start()
    reader.join(3)
    assert not reader.is_alive(), "reading a draft blocked"
    assert result == [None, None, None, []]
    # and saving replaces the odd file with a regular one (never writing through the link)
    journal.save_draft("typed", ["pd:P2"])
    assert not journal.draft_path_for(["pd:P2"]).is_symlink()
    draft = journal.load_draft(["pd:P2"])
    assert draft is not None and draft.text == "typed"


def test_a_huge_store_is_read_up_to_a_bound_and_says_so(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from sre_cockpit.feeds.notes_store import store

    monkeypatch.setattr(store, "MAX_LOADED_NOTES", 10)
    monkeypatch.setattr(store, "MAX_OLDER_PENDING", 3)
    journal = opened(tmp_path)
    notes = [journal.add_note(f"n{n}", [incident()]) for n in range(20)]
    for record in notes[:5]:
        journal.mark(record.id, "pd", "delivered")
    again = opened(tmp_path)
    shown = [r.text for r in again.notes()]
    assert shown == ["n5", "n6", "n7"] + [f"n{n}" for n in range(10, 20)]
    assert again.last_error == ("notes.db holds 20 notes: shown are the newest 10 and the "
                                "oldest 3 older undelivered ones; the other undelivered notes "
                                "stay in the file, unsent")


def test_hostile_values_in_delivery_rows_are_skipped_with_a_line(tmp_path: Path) -> None:
    journal = opened(tmp_path)
    record = journal.add_note("fine", [incident()])
    conn = sqlite3.connect(tmp_path / "notes.db")
    conn.execute("UPDATE deliveries SET next_try = 'soon', attempts = 'many'")
    conn.commit()
    conn.close()
    again = opened(tmp_path)
    assert [r.text for r in again.notes()] == ["fine"]
    assert "damaged delivery row for pd" in (again.last_error or "")
    assert again.records[record.id].targets == {}  # not guessed: nothing is sent for it


def test_a_note_parked_here_and_stored_by_another_process_is_shown_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from journal_helpers import DiskFull

    first = opened(tmp_path)
    first.add_note("before", [incident()])
    disk = DiskFull(monkeypatch)
    disk.on()
    with pytest.raises(JournalError):
        first.add_note("parked", [incident()])
    disk.off()
    parked = list(tmp_path.glob("unsaved-*.json"))
    assert len(parked) == 0  # the full disk refused the parked file too: only in memory
    (note,) = first.unsaved
    # another cockpit stores the same note (as it would from a parked file)
    other = opened(tmp_path)
    other.unsaved.append(note_from_json(note.to_json()))
    other.retry_unsaved()
    assert first.refresh()
    assert [(r.text, r.saved) for r in first.notes()] == [("before", True), ("parked", True)]
    assert first.unsaved == []
