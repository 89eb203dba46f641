"""Notes store + outbox: committed before sending, replay, idempotency keys, claims, disk errors."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from journal_helpers import T0, FakeActions, FakeEvents, incident

from sre_cockpit.core.models import TimelineEvent
from sre_cockpit.feeds.journal import Claim, Journal, JournalError, Outbox, default_journal_dir
from sre_cockpit.feeds.notes_store import safefile
from sre_cockpit.providers.base import ProviderError, RateLimitedError


def make(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "data" / "nested", clock=lambda: T0)


def test_note_is_committed_durably_before_anything_else(tmp_path: Path) -> None:
    journal = make(tmp_path)
    record = journal.add_note("rolled back\nchecking", [incident()], author="ann", context="prod")
    conn = journal._db.require()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync on commit
    # committed: another connection (another process) reads it at once
    other = sqlite3.connect(journal.path)
    try:
        text, = other.execute("SELECT text FROM notes WHERE id = ?", (record.id,)).fetchone()
        key, = other.execute("SELECT idempotency_key FROM deliveries WHERE note_id = ?",
                             (record.id,)).fetchone()
    finally:
        other.close()
    assert text == "rolled back\nchecking" and key == record.targets["pd"].idempotency_key
    for path in journal.directory.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600", path.name
    assert oct(journal.directory.stat().st_mode & 0o777) == "0o700"
    assert record.state == "pending" and journal.pending_count() == 1


def delivery_row(journal: Journal, note_id: str) -> tuple[object, ...]:
    row = journal._db.require().execute(
        "SELECT state, attempted, attempts, claim_owner FROM deliveries WHERE note_id = ?",
        (note_id,)).fetchone()
    return tuple(row)


async def test_outbox_delivers_once_and_replay_rebuilds_state(tmp_path: Path) -> None:
    journal = make(tmp_path)
    record = journal.add_note("first", [incident()], context="prod")
    pd = FakeActions()
    outbox = Outbox(journal, {"pd": pd}, context="prod", clock=lambda: T0)
    assert await outbox.deliver_once() == 0
    assert await outbox.deliver_once() == 0
    assert pd.calls == [("note", ("P1",), "first", record.targets["pd"].idempotency_key)]
    again = Journal(journal.directory)
    again.replay()
    assert again.records[record.id].state == "delivered"
    assert again.pending() == [] and again.pending_count() == 0
    # one attempt recorded before the request, then the outcome; the claim is released
    assert delivery_row(again, record.id) == ("delivered", 0, 1, None)


async def test_retryable_errors_back_off_and_keep_the_key(tmp_path: Path) -> None:
    now = [T0]
    journal = make(tmp_path)
    record = journal.add_note("x", [incident()])
    pd = FakeActions(failures=[ProviderError("pd: connection refused")])
    outbox = Outbox(journal, {"pd": pd}, clock=lambda: now[0], base_delay=1, max_delay=10)
    assert await outbox.deliver_once() == 1
    assert record.state == "pending: pd: connection refused"
    assert await outbox.deliver_once() == 1 and pd.calls == []  # not due yet
    assert 0 < outbox.next_due() <= 10
    now[0] = T0 + timedelta(seconds=11)
    assert await outbox.deliver_once() == 0
    assert record.state == "delivered"
    assert pd.calls[0][3] == record.targets["pd"].idempotency_key


async def test_temporary_failures_are_retried_forever_with_capped_backoff(tmp_path: Path) -> None:
    now = [T0]
    journal = make(tmp_path)
    record = journal.add_note("still trying", [incident()])
    failures: list[ProviderError] = [ProviderError(f"pd: HTTP 503 #{n}", status=503)
                                     for n in range(25)]
    failures.insert(12, RateLimitedError("pd: rate limited by PagerDuty (429) until 14:05:00 UTC",
                                         status=429, retry_after=300))
    pd = FakeActions(failures=failures)
    outbox = Outbox(journal, {"pd": pd}, clock=lambda: now[0], base_delay=2, max_delay=60)
    delays: list[float] = []
    while pd.failures:
        before = len(pd.failures)
        assert await outbox.deliver_once() == 1
        assert len(pd.failures) == before - 1
        assert record.state.startswith("pending: pd: ")  # visible, never given up
        assert delivery_row(journal, record.id)[0] == "pending"  # never "failed" on disk
        delays.append(outbox.next_due())
        now[0] += timedelta(seconds=delays[-1] + 0.001)
    assert await outbox.deliver_once() == 0 and record.state == "delivered"
    assert len(delays) == 26 and all(0 < d <= 60 for d in delays)
    assert delays[12] == 60  # retry_after asked for more: the cap still wins
    assert max(delays[8:]) > 30  # grew towards the cap
    assert [c[3] for c in pd.calls] == [record.targets["pd"].idempotency_key]


async def test_permanent_failures_and_local_only(tmp_path: Path) -> None:
    journal = make(tmp_path)
    failing = journal.add_note("x", [incident()])
    local = journal.add_note("y", [incident("a1", provider="am")])
    pd = FakeActions(failures=[ProviderError("pd: 400 invalid", retryable=False)])
    am = FakeActions("am", note_support="Alertmanager has no notes")
    await Outbox(journal, {"pd": pd, "am": am}).deliver_once()
    assert failing.state == "failed: pd: 400 invalid"
    assert local.state == "local only"
    assert am.calls == []
    # A not-ok result is a permanent refusal: failed at once, not retried.
    rejected = journal.add_note("z", [incident()])
    refusing = FakeActions(ok=False)
    outbox = Outbox(journal, {"pd": refusing}, base_delay=0)
    await outbox.deliver_once()
    assert rejected.state == "failed: rejected: note too long"
    await outbox.deliver_once()
    assert len(refusing.calls) == 1
    events = {e.text: e.state for e in journal.events()}
    assert events == {"x": "failed: pd: 400 invalid", "y": "local only",
                      "z": "failed: rejected: note too long"}
    # The operator asks to retry a failed note: it is pending again, durably.
    assert journal.requeue(failing.id) and failing.state == "pending"
    again = Journal(journal.directory)
    again.replay()
    assert again.records[failing.id].state == "pending"
    assert not journal.requeue(local.id)
    # A read-only context keeps notes local.
    ro = journal.add_note("ro", [incident()])
    await Outbox(journal, {"pd": FakeActions()}, read_only=True).deliver_once()
    assert ro.state == "local only"


async def test_in_flight_attempt_is_checked_against_the_provider_before_resending(tmp_path: Path) -> None:
    journal = make(tmp_path)
    record = journal.add_note("mitigated by rollback", [incident()])
    journal.mark_attempt(record.id, "pd")  # the previous process died here, request in flight
    restarted = Journal(journal.directory)
    restarted.replay()
    pd = FakeActions()
    seen = FakeEvents("pd", [TimelineEvent(at=T0, kind="note", source="pd",
                                           text="mitigated  by rollback", incident_id="P1")])
    await Outbox(restarted, {"pd": pd}, events={"pd": seen}).deliver_once()
    assert pd.calls == []
    assert restarted.records[record.id].state == "delivered"


async def test_other_contexts_and_unconfigured_providers(tmp_path: Path) -> None:
    journal = make(tmp_path)
    journal.add_note("for staging", [incident()], context="staging")
    gone = journal.add_note("for prod", [incident(provider="old")], context="prod")
    outbox = Outbox(journal, {}, context="prod", configured=set())
    assert await outbox.deliver_once() == 1
    assert gone.state.startswith("pending: provider old is not configured")


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES])
def test_a_store_that_cannot_be_created_keeps_the_note_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    reason = {errno.EROFS: "read-only file system", errno.ENOSPC: "disk full",
              errno.EACCES: "permission denied"}[code]
    journal = make(tmp_path)
    real_open = os.open

    def refuse(path: object, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith("notes.db") or ".unsaved-" in str(path):
            raise OSError(code, os.strerror(code))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(safefile.os, "open", refuse)
    with pytest.raises(JournalError) as info:
        journal.add_note("do not lose me", [incident()])
    assert str(info.value) == (f"note not saved: cannot create notes.db: {reason} (kept only "
                               "in memory until it is saved)")  # not even parked: the disk took nothing
    assert [r.text for r in journal.unsaved] == ["do not lose me"]
    assert journal.pending_count() == 1
    assert [(e.text, e.state) for e in journal.events()] == [("do not lose me", "not saved")]
    with pytest.raises(JournalError):
        journal.retry_unsaved()
    assert len(journal.unsaved) == 1
    monkeypatch.setattr(safefile.os, "open", real_open)
    saved = journal.retry_unsaved()
    assert [r.text for r in saved] == ["do not lose me"] and journal.unsaved == []
    reread = Journal(journal.directory)
    reread.replay()
    assert [r.text for r in reread.notes()] == ["do not lose me"]


def test_a_full_store_keeps_the_note_parked_and_saves_it_once_there_is_room(
        tmp_path: Path) -> None:
    journal = make(tmp_path)
    journal.add_note("first", [incident()])
    conn = journal._db.require()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    big = ("do not lose me " * 1000).strip()  # needs overflow pages
    with pytest.raises(JournalError, match="disk full"):
        journal.add_note(big, [incident()])
    assert [r.text for r in journal.unsaved] == [big]
    parked = list(journal.directory.glob("unsaved-*.json"))
    assert len(parked) == 1 and oct(parked[0].stat().st_mode & 0o777) == "0o600"
    with pytest.raises(JournalError, match="disk full"):
        journal.retry_unsaved()
    # a restart (a connection with room) finds the parked note and stores it
    again = Journal(journal.directory)
    again.replay()
    assert [(r.text, r.saved) for r in again.notes()] == [("first", True), (big, True)]
    assert not list(journal.directory.glob("unsaved-*.json"))
    # the first process's own retry then finds it stored: still once
    conn.execute("PRAGMA max_page_count = 1073741823")
    journal.retry_unsaved()
    assert journal.unsaved == []
    final = Journal(journal.directory)
    final.replay()
    assert [r.text for r in final.notes()] == ["first", big]


def test_read_only_directory_is_a_visible_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions; covered by the os.open test")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(JournalError, match="permission denied"):
            Journal(ro).add_note("x", [incident()])
    finally:
        ro.chmod(0o700)


def test_torn_last_line_of_an_old_journal_is_skipped_and_said(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    note = Journal(tmp_path / "scratch").add_note("kept", [incident()])
    (directory / "notes.jsonl").write_text(json.dumps(note.to_json()) + "\n"
                                           + '{"type":"note","id":"tor')
    again = Journal(directory)
    again.replay()
    assert [r.text for r in again.notes()] == ["kept"] and again.skipped_lines == 1
    assert any("notes.jsonl line 2 (byte" in p for p in again.problems)
    assert again.last_error is not None and "1 damaged record(s) skipped" in again.last_error


def test_drafts_per_incident_round_trip_and_clear(tmp_path: Path) -> None:
    journal = make(tmp_path)
    assert journal.load_draft() is None
    journal.save_draft("half a th", ["pd:P1"])
    journal.save_draft("other", ["pd:P2", "am:x"])
    draft = journal.load_draft(["pd:P1"])
    assert draft is not None and draft.text == "half a th" and draft.incident_keys == ("pd:P1",)
    other = journal.load_draft(["am:x", "pd:P2"])  # order does not matter
    assert other is not None and other.text == "other"
    assert sorted(d.text for d in journal.drafts()) == ["half a th", "other"]
    assert not list(journal.directory.glob(".*.tmp"))
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in journal.directory.glob("draft*"))
    journal.clear_draft(["pd:P1"])
    assert journal.load_draft(["pd:P1"]) is None
    assert journal.load_draft(["pd:P2", "am:x"]) is not None


def test_notes_are_sanitised(tmp_path: Path) -> None:
    journal = make(tmp_path)
    record = journal.add_note("ok \x1b]52;c;AAAA\x07 done", [incident()])
    assert "\x1b" not in record.text and "\x07" not in record.text


def test_default_dir_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SRE_COCKPIT_DATA_DIR", str(tmp_path / "env"))
    assert default_journal_dir("/cfg") == tmp_path / "env"
    monkeypatch.delenv("SRE_COCKPIT_DATA_DIR")
    assert default_journal_dir(str(tmp_path / "cfg")) == tmp_path / "cfg"
    assert default_journal_dir(None).name == "sre-cockpit"


async def test_a_second_cockpit_that_read_the_note_as_pending_does_not_send_it_again(
        tmp_path: Path) -> None:
    first = make(tmp_path)
    record = first.add_note("once", [incident()])
    second = Journal(first.directory)
    second.replay()
    assert second.records[record.id].state == "pending"
    pd = FakeActions()
    assert await Outbox(first, {"pd": pd}).deliver_once() == 0
    # the second cockpit still holds "pending" in memory: the claim reads the store first
    assert await Outbox(second, {"pd": pd}).deliver_once() == 0
    assert len(pd.calls) == 1 and second.records[record.id].state == "delivered"


async def test_a_live_claim_holds_off_other_cockpits_until_it_lapses(tmp_path: Path) -> None:
    first = make(tmp_path)
    record = first.add_note("slow", [incident()])
    second = Journal(first.directory)
    second.replay()
    assert first.claim(record.id, "pd", lease=60) == Claim(recheck=False)
    pd = FakeActions()
    outbox = Outbox(second, {"pd": pd})
    assert await outbox.deliver_once() == 1 and pd.calls == []  # being sent elsewhere
    assert 50 < outbox.next_due() <= 60  # waits for the lease, no busy loop
    assert second.claim(record.id, "pd", lease=60) is None
    first.release(record.id, "pd")
    assert await outbox.deliver_once() == 0 and len(pd.calls) == 1


def dead_pid() -> int:
    """A pid that no longer runs."""
    gone = subprocess.Popen(["sleep", "60"])
    gone.kill()
    gone.wait()
    return gone.pid


async def test_a_claim_of_a_dead_process_is_taken_over_after_a_look(tmp_path: Path) -> None:
    first = make(tmp_path)
    record = first.add_note("in flight when it died", [incident()])
    first.claim(record.id, "pd", lease=600)
    first.mark_attempt(record.id, "pd")
    gone = dead_pid()  # the claim's owner died with the request in flight
    first._db.require().execute("UPDATE deliveries SET claim_pid = ?, claim_owner = 'dead'",
                                (gone,))
    second = Journal(first.directory)
    second.replay()
    seen = FakeEvents("pd", [TimelineEvent(at=T0, kind="note", source="pd",
                                           text="in flight when it died", incident_id="P1")])
    pd = FakeActions()
    await Outbox(second, {"pd": pd}, events={"pd": seen}).deliver_once()
    assert pd.calls == [] and second.records[record.id].state == "delivered"


async def test_only_a_previous_process_in_flight_attempt_is_looked_up(tmp_path: Path) -> None:
    class Counting(FakeEvents):
        calls = 0

        async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]:
            Counting.calls += 1
            return await super().list_events(since, until)

    now = [T0]
    journal = make(tmp_path)
    record = journal.add_note("x", [incident()])
    pd = FakeActions(failures=[ProviderError("pd: HTTP 503", status=503)] * 3)
    outbox = Outbox(journal, {"pd": pd}, events={"pd": Counting("pd", [])},
                    clock=lambda: now[0], base_delay=1, max_delay=2)
    for _ in range(4):
        await outbox.deliver_once()
        now[0] += timedelta(seconds=3)
    assert record.state == "delivered" and Counting.calls == 0  # the key guards in-process retries
    crashed = journal.add_note("y", [incident()])
    journal.mark_attempt(crashed.id, "pd")  # died with this request in flight
    restarted = Journal(journal.directory)
    restarted.replay()
    await Outbox(restarted, {"pd": FakeActions()}, events={"pd": Counting("pd", [])}).deliver_once()
    assert Counting.calls == 1 and restarted.records[crashed.id].state == "delivered"
