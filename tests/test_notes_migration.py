"""The old notes.jsonl is imported into the SQLite store once, whatever state it is in.

Damaged records are skipped with their line and byte offset (a note behind garbage on its line
is still found), nesting too deep to decode is a skipped record (not a RecursionError), bounds
hold for long lines and long files, anything that is not a regular file is refused without being
read, and importing twice (two cockpits starting together) changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from journal_helpers import T0, incident

from sre_cockpit.feeds.journal import Journal, NoteRecord
from sre_cockpit.feeds.notes_store import legacy


def old_note(text: str, provider: str = "pd", context: str = "prod") -> dict[str, object]:
    """A note record as the JSON-lines journal wrote it (in ``context``)."""
    record = NoteRecord(id=f"id-{text.replace(' ', '-')}", at=T0, text=text,
                        incidents=(incident(provider=provider),), author="ann", context=context)
    data = record.to_json()
    data["keys"] = {provider: f"key-{text.replace(' ', '-')}"}
    return data


def line(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode() + b"\n"


def state(note: dict[str, object], value: str, reason: str | None = None) -> bytes:
    return line({"v": 1, "type": "state", "id": note["id"], "provider": "pd", "state": value,
                 "reason": reason, "at": T0.isoformat()})


def write_legacy(directory: Path, content: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "notes.jsonl"
    path.write_bytes(content)
    return path


def opened(directory: Path) -> Journal:
    journal = Journal(directory)
    journal.replay()
    return journal


def test_notes_and_their_states_are_imported_once_and_the_file_kept(tmp_path: Path) -> None:
    a, b, c = old_note("delivered one"), old_note("failed one"), old_note("in flight")
    content = (line(a) + line({"v": 1, "type": "attempt", "id": a["id"], "provider": "pd"})
               + state(a, "delivered") + line(b) + state(b, "failed", "pd: 400 invalid")
               + line(c) + line({"v": 1, "type": "attempt", "id": c["id"], "provider": "pd"}))
    write_legacy(tmp_path, content)
    journal = opened(tmp_path)
    assert [(r.text, r.state) for r in journal.notes()] == [
        ("delivered one", "delivered"), ("failed one", "failed: pd: 400 invalid"),
        ("in flight", "pending")]
    assert journal.records[str(c["id"])].targets["pd"].attempted  # looked up before resending
    assert journal.records[str(a["id"])].targets["pd"].idempotency_key == "key-delivered-one"
    assert journal.problems == [] and journal.last_error is None
    assert not (tmp_path / "notes.jsonl").exists()
    assert (tmp_path / "notes.jsonl.migrated").read_bytes() == content
    # importing the same file again (an old cockpit wrote it back) neither doubles a note nor
    # turns a state the store has moved on back
    journal.mark(str(c["id"]), "pd", "delivered")
    write_legacy(tmp_path, content)
    again = opened(tmp_path)
    assert [(r.text, r.state) for r in again.notes()] == [
        ("delivered one", "delivered"), ("failed one", "failed: pd: 400 invalid"),
        ("in flight", "delivered")]
    assert (tmp_path / "notes.jsonl.migrated-2").read_bytes() == content


def test_garbage_before_the_first_newline_does_not_drop_the_note(tmp_path: Path) -> None:
    first, second = old_note("first note"), old_note("second note")
    write_legacy(tmp_path, b"\x00\x00\x00\x1b[2Jjunk" + line(first) + line(second))
    journal = opened(tmp_path)
    assert [r.text for r in journal.notes()] == ["first note", "second note"]
    assert journal.problems[0].startswith("notes.jsonl line 1 (byte 0): 11 characters of "
                                          "garbage around a record skipped")
    assert "garbage skipped (line 1)" in (journal.last_error or "")


def test_torn_and_concatenated_records_are_recovered_or_reported_with_their_place(
        tmp_path: Path) -> None:
    a, b, c = old_note("a"), old_note("b"), old_note("c")
    torn = line(a)[:40]  # a crash mid-write, then the next record appended on the same line
    content = line(a) + torn + line(b) + b"not json at all\n" + line(c)[:-1] + line(c)[-1:]
    write_legacy(tmp_path, content)
    journal = opened(tmp_path)
    assert [r.text for r in journal.notes()] == ["a", "b", "c"]
    offset_3 = len(line(a)) + len(torn) + len(line(b))
    assert f"notes.jsonl line 3 (byte {offset_3}): not a journal record (15 bytes)" in \
        journal.problems
    assert any(p.startswith(f"notes.jsonl line 2 (byte {len(line(a))}): 40 characters")
               for p in journal.problems)
    assert journal.skipped_lines == 1


def test_nesting_too_deep_is_a_skipped_record_not_a_crash(tmp_path: Path) -> None:
    good = old_note("still here")
    write_legacy(tmp_path, b"[" * 100_000 + b"\n" + b'{"type":"note","x":' + b"[" * 100_000
                 + b"\n" + line(good))
    journal = opened(tmp_path)
    assert [r.text for r in journal.notes()] == ["still here"]
    assert "notes.jsonl line 1 (byte 0): not a journal record (100000 bytes)" in journal.problems
    assert journal.skipped_lines == 2


def test_damaged_fields_and_unknown_records_are_named(tmp_path: Path) -> None:
    good = old_note("fine")
    no_key = old_note("no key")
    no_key["keys"] = {}
    content = (line({"type": "note", "id": "x"}) + line(no_key) + line({"type": "wat"})
               + line({"type": "state", "id": "nobody", "provider": "pd", "state": "delivered"})
               + line(good) + state(good, "exploded"))
    write_legacy(tmp_path, content)
    journal = opened(tmp_path)
    assert [(r.text, r.state) for r in journal.notes()] == [("fine", "pending")]
    problems = "\n".join(journal.problems)
    assert "line 1 (byte 0): damaged note (missing 'at')" in problems
    assert "line 2" in problems and "no idempotency key for provider 'pd'" in problems
    assert "line 3" in problems and "unknown record type 'wat'" in problems
    assert "line 4" in problems and "a delivery record for a note not in the file" in problems
    assert "line 6" in problems and "unknown delivery state 'exploded'" in problems
    assert journal.skipped_lines == 5


def test_escapes_in_an_old_note_are_neutralised_on_import(tmp_path: Path) -> None:
    write_legacy(tmp_path, line(old_note("ok \x1b]52;c;AAAA\x07 done")))
    (record,) = opened(tmp_path).notes()
    assert "\x1b" not in record.text and "\x07" not in record.text


def test_a_line_over_the_limit_is_skipped_without_being_held(tmp_path: Path) -> None:
    good = old_note("after the long line")
    huge = b'{"type":"note","text":"' + b"x" * (legacy.MAX_LINE_BYTES * 4) + b'"}\n'
    write_legacy(tmp_path, huge + line(good))
    journal = opened(tmp_path)
    assert [r.text for r in journal.notes()] == ["after the long line"]
    assert f"notes.jsonl line 1 (byte 0): longer than {legacy.MAX_LINE_BYTES >> 10} KiB" in \
        journal.problems


def test_a_file_over_the_limit_is_read_only_up_to_it(tmp_path: Path) -> None:
    first = old_note("at the start")
    filler = b"\n" * (legacy.MAX_FILE_BYTES + 1024)
    write_legacy(tmp_path, line(first) + filler + line(old_note("beyond the limit")))
    journal = opened(tmp_path)
    assert [r.text for r in journal.notes()] == ["at the start"]
    assert f"only the first {legacy.MAX_FILE_BYTES >> 20} MiB" in (journal.last_error or "")
    assert "kept as notes.jsonl.migrated" in (journal.last_error or "")
    assert (tmp_path / "notes.jsonl.migrated").stat().st_size > legacy.MAX_FILE_BYTES


def test_a_fifo_is_refused_at_once_and_left_alone(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    os.mkfifo(tmp_path / "notes.jsonl")
    started = time.monotonic()
    journal = opened(tmp_path)  # a blocking open or read would hang here for ever
    assert time.monotonic() - started < 2
    assert journal.last_error == ("old notes journal not imported: notes.jsonl is a FIFO "
                                  "(named pipe), not a regular file")
    assert (tmp_path / "notes.jsonl").exists()
    journal.add_note("the store still works", [incident()])
    assert [r.text for r in opened(tmp_path).notes()] == ["the store still works"]


def test_a_link_to_dev_full_is_refused_without_reading(tmp_path: Path) -> None:
    (tmp_path / "notes.jsonl").symlink_to("/dev/full")
    journal = opened(tmp_path)
    assert journal.last_error == ("old notes journal not imported: notes.jsonl is a symbolic "
                                  "link to /dev/full, not a regular file")
    assert journal.notes() == []


def test_a_directory_and_a_device_are_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.jsonl").mkdir()
    assert "notes.jsonl is a directory, not a regular file" in (opened(tmp_path).last_error or "")


IMPORT_SCRIPT = """
import sys
from sre_cockpit.feeds.journal import Journal
journal = Journal(sys.argv[1])
journal.replay()
print(len(journal.notes()), journal.last_error or "")
"""


def test_cockpits_starting_together_import_the_file_once(tmp_path: Path) -> None:
    notes = [old_note(f"note {n}") for n in range(3000)]  # ~2 MB: the imports overlap
    write_legacy(tmp_path, b"".join(line(n) for n in notes))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    procs = [subprocess.Popen([sys.executable, "-c", IMPORT_SCRIPT, str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(3)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    journal = opened(tmp_path)
    assert len(journal.notes()) == 3000
    assert sorted(r.text for r in journal.notes()) == sorted(f"note {n}" for n in range(3000))
    kept = sorted(p.name for p in tmp_path.glob("notes.jsonl*"))
    assert kept == ["notes.jsonl.migrated"], kept


def test_a_flood_of_garbage_lines_stops_the_import_quickly(tmp_path: Path) -> None:
    good = old_note("before the flood")
    write_legacy(tmp_path, line(good) + b"x\n" * (legacy.MAX_FILE_BYTES // 2)
                 + b" \n\t\n" * 1000)
    started = time.monotonic()
    journal = opened(tmp_path)
    assert time.monotonic() - started < 5
    assert [r.text for r in journal.notes()] == ["before the flood"]
    assert (f"reading stopped at line {legacy.MAX_DAMAGED + 2} (byte "
            f"{len(line(good)) + 2 * legacy.MAX_DAMAGED}) after {legacy.MAX_DAMAGED} damaged "
            "lines") in (journal.last_error or "")


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b"{", b" ", b"\t", b"\n", b"\n\n", b"xyz"]),
                     max_size=120).map(b"".join),
       chunk_size=st.integers(1, 17), max_line=st.integers(1, 12))
def test_lines_are_found_with_their_place_across_chunk_boundaries(
        data: bytes, chunk_size: int, max_line: int) -> None:
    expected = []
    offset = 0
    for number, text in enumerate(data.split(b"\n"), start=1):
        if text.strip():
            expected.append((number, offset, text if len(text) <= max_line else None))
        offset += len(text) + 1
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    try:
        found = list(legacy.lines_of(read, len(data), max_line, chunk_size=chunk_size))
    finally:
        os.close(read)
    # a blank line over max_line that spans chunks may be reported as too long: never as text
    assert [f for f in found if f[2] is not None or f in expected] == expected
