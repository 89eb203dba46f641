"""Journal + outbox: fsync'd before sending, replay, idempotency keys, exactly-once, disk errors."""

from __future__ import annotations

import errno
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from journal_helpers import T0, FakeActions, FakeEvents, incident

from sre_cockpit.core.models import TimelineEvent
from sre_cockpit.feeds import journal as journal_mod
from sre_cockpit.feeds.journal import Journal, JournalError, Outbox, default_journal_dir
from sre_cockpit.providers.base import ProviderError, RateLimitedError


def make(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "data" / "nested", clock=lambda: T0)


def test_note_is_fsynced_before_anything_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(journal_mod.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    journal = make(tmp_path)
    record = journal.add_note("rolled back\nchecking", [incident()], author="ann", context="prod")
    assert calls.count("fsync") >= 3  # the file, the directory it was created in, new dirs
    lines = journal.path.read_text().splitlines()
    data = json.loads(lines[0])
    assert data["type"] == "note" and data["text"] == "rolled back\nchecking"
    assert data["keys"]["pd"] == record.targets["pd"].idempotency_key
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"
    assert record.state == "pending" and journal.pending_count() == 1


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
    types = [json.loads(line)["type"] for line in journal.path.read_text().splitlines()]
    assert types == ["note", "attempt", "state"]


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
        delays.append(outbox.next_due())
        now[0] += timedelta(seconds=delays[-1] + 0.001)
    assert await outbox.deliver_once() == 0 and record.state == "delivered"
    assert len(delays) == 26 and all(0 < d <= 60 for d in delays)
    assert delays[12] == 60  # retry_after asked for more: the cap still wins
    assert max(delays[8:]) > 30  # grew towards the cap
    assert [c[3] for c in pd.calls] == [record.targets["pd"].idempotency_key]
    states = [json.loads(line).get("state") for line in journal.path.read_text().splitlines()]
    assert "failed" not in states


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
def test_disk_errors_keep_the_note_in_memory_and_offer_it_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    journal = make(tmp_path)
    real_open = os.open

    def refuse(path: object, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith("notes.jsonl"):
            raise OSError(code, os.strerror(code))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(journal_mod.os, "open", refuse)
    with pytest.raises(JournalError) as info:
        journal.add_note("do not lose me", [incident()])
    assert "cannot write the notes journal" in str(info.value)
    assert info.value.errno == code
    assert [r.text for r in journal.unsaved] == ["do not lose me"]
    assert journal.pending_count() == 1
    assert [(e.text, e.state) for e in journal.events()] == [("do not lose me", "not saved")]
    with pytest.raises(JournalError):
        journal.retry_unsaved()
    assert len(journal.unsaved) == 1
    monkeypatch.setattr(journal_mod.os, "open", real_open)
    saved = journal.retry_unsaved()
    assert [r.text for r in saved] == ["do not lose me"] and journal.unsaved == []
    reread = Journal(journal.directory)
    reread.replay()
    assert [r.text for r in reread.notes()] == ["do not lose me"]


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


def test_torn_last_line_is_skipped_on_replay(tmp_path: Path) -> None:
    journal = make(tmp_path)
    journal.add_note("kept", [incident()])
    with open(journal.path, "ab") as fh:
        fh.write(b'{"type":"note","id":"tor')
    again = Journal(journal.directory)
    again.replay()
    assert [r.text for r in again.notes()] == ["kept"] and again.skipped_lines == 1


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


async def test_a_second_cockpit_on_the_same_journal_does_not_deliver_twice(tmp_path: Path) -> None:
    import fcntl

    journal = make(tmp_path)
    journal.add_note("once", [incident()])
    pd = FakeActions()
    holder = os.open(journal.directory / "outbox.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the other cockpit is delivering
        assert await Outbox(journal, {"pd": pd}).deliver_once() == 1
        assert pd.calls == []
    finally:
        os.close(holder)
    assert await Outbox(journal, {"pd": pd}).deliver_once() == 0
    assert len(pd.calls) == 1


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
