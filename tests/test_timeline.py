"""Timeline maths: merge, clock skew, equal timestamps, duplicates, filters, relative time, Markdown."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from sre_cockpit.core.models import TimelineEvent
from sre_cockpit.core.timeline import (
    correct_skew,
    estimate_offset,
    filter_events,
    format_time,
    markdown_table,
    md_escape,
    merge_events,
    neighbour,
    parse_kinds,
    relative_label,
)

T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def ev(minutes: float, kind: str, source: str = "pd", text: str = "", incident: str | None = "P1",
       id: str | None = None, **kw: object) -> TimelineEvent:
    return TimelineEvent(at=T0 + timedelta(minutes=minutes), kind=kind, source=source,
                         text=text or kind, incident_id=incident, id=id, **kw)  # type: ignore[arg-type]


def test_merge_orders_across_sources_whatever_the_arrival_order() -> None:
    pd = [ev(0, "trigger", id="L1"), ev(3, "acknowledge", id="L2"), ev(20, "resolve", id="L3")]
    am = [ev(-1, "alert_start", source="am", text="HighErrorRate")]
    ops = [ev(5, "note", source="operator", text="rolled back", id="n1")]
    expected = [e.kind for e in merge_events(pd, am, ops)]
    assert expected == ["alert_start", "trigger", "acknowledge", "note", "resolve"]
    rng = random.Random(7)
    for _ in range(20):
        shuffled = [list(s) for s in (pd, am, ops)]
        for s in shuffled:
            rng.shuffle(s)
        rng.shuffle(shuffled)
        assert [e.kind for e in merge_events(*shuffled)] == expected


def test_equal_timestamps_follow_causal_order_deterministically() -> None:
    same = [ev(0, "resolve", id="c"), ev(0, "acknowledge", id="b"), ev(0, "trigger", id="a"),
            ev(0, "deploy", source="prom", incident=None, text="v2")]
    kinds = [e.kind for e in merge_events(same)]
    assert kinds == ["deploy", "trigger", "acknowledge", "resolve"]
    assert merge_events(list(reversed(same))) == merge_events(same)


def test_duplicates_from_two_polls_are_kept_once_latest_copy_wins() -> None:
    first = [ev(0, "trigger", id="L1"), ev(5, "note", source="operator", text="x", id="n1",
                                            state="pending")]
    second = [ev(0, "trigger", id="L1"), ev(5, "note", source="operator", text="x", id="n1",
                                             state="delivered")]
    merged = merge_events(first, second)
    assert len(merged) == 2
    assert merged[1].state == "delivered"
    # Events without ids de-duplicate on their values.
    no_id = [ev(1, "alert_end", source="cockpit", text="gone")]
    assert len(merge_events(no_id, no_id)) == 1


def test_clock_ahead_is_corrected_by_offset_and_clamped_to_now() -> None:
    # PagerDuty's clock runs 90 s ahead: its ack at 14:03:00 really happened at 14:01:30,
    # before our operator note at 14:02.
    pd = [ev(3, "acknowledge", id="L2")]
    ops = [ev(2, "note", source="operator", text="looking", id="n")]
    merged = merge_events(pd, ops, offsets={"pd": 90.0})
    assert [e.kind for e in merged] == ["acknowledge", "note"]
    assert merged[0].at == T0 + timedelta(minutes=1, seconds=30)
    # An unknown skew putting an event in the future is clamped to now.
    now = T0 + timedelta(minutes=10)
    future = [ev(15, "resolve", id="L9")]
    later = [ev(10, "note", source="operator", text="done", id="n2")]
    out = merge_events(future, later, now=now)
    assert out[-1].kind == "resolve" and out[-1].at == now
    assert correct_skew([ev(10.05, "x")], now=now)[0].at == T0 + timedelta(minutes=10.05)


def test_estimate_offset_uses_round_trip_midpoint() -> None:
    sent = T0
    received = T0 + timedelta(seconds=2)
    assert estimate_offset(T0 + timedelta(seconds=61), sent, received) == 60.0


def test_operator_note_and_provider_copy_are_one_event() -> None:
    mine = ev(5, "note", source="operator", text="Rolled back  v2", id="n1", state="delivered")
    theirs = ev(6.5, "note", source="pagerduty", text="rolled back v2", id="LE9")
    other = ev(7, "note", source="pagerduty", text="someone else", id="LE10")
    merged = merge_events([theirs, other], [mine])
    assert [(e.source, e.text) for e in merged] == [("operator", "Rolled back  v2"),
                                                   ("pagerduty", "someone else")]
    # Outside the window, or on another incident, they stay separate.
    far = ev(60, "note", source="pagerduty", text="rolled back v2", id="LE11")
    elsewhere = ev(5, "note", source="pagerduty", text="rolled back v2", id="LE12", incident="P2")
    assert len(merge_events([far, elsewhere], [mine])) == 3


def test_filter_by_kind_incident_service_and_text() -> None:
    events = merge_events([
        ev(0, "trigger", id="a"), ev(1, "trigger", id="b", incident="P2"),
        ev(2, "deploy", source="prom", incident=None, text="checkout v2", service="checkout"),
        ev(3, "deploy", source="prom", incident=None, text="search v9", service="search"),
        ev(4, "slo_state", source="cockpit", incident=None, text="availability critical"),
    ])
    focused = filter_events(events, incident_ids={"P1"}, service="checkout")
    assert [e.text for e in focused] == ["trigger", "checkout v2", "availability critical"]
    assert [e.kind for e in filter_events(events, kinds=parse_kinds("deploy"))] == ["deploy"] * 2
    assert [e.text for e in filter_events(events, text="SEARCH")] == ["search v9"]
    assert parse_kinds(" note, pin ") == frozenset({"note", "pin"})
    assert parse_kinds("") is None


def test_relative_labels() -> None:
    assert relative_label(T0 + timedelta(minutes=12, seconds=30), T0) == "T+12m"
    assert relative_label(T0 - timedelta(minutes=3), T0) == "T-3m"
    assert relative_label(T0 + timedelta(seconds=45), T0) == "T+45s"
    assert relative_label(T0, T0) == "T+0s"
    assert relative_label(T0 + timedelta(hours=1, minutes=5), T0) == "T+1h05m"
    assert relative_label(T0 + timedelta(days=2, hours=3), T0) == "T+2d03h"
    assert relative_label(T0, None) == ""
    naive = datetime(2026, 3, 1, 14, 2)
    assert relative_label(naive, T0) == "T+2m"


def test_format_time_utc_and_other_zones() -> None:
    assert format_time(T0 + timedelta(minutes=3, seconds=7)) == "14:03:07 UTC"
    assert format_time(T0, seconds=False, date=True) == "2026-03-01 14:00 UTC"
    cet = datetime(2026, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(cet) == "14:00:00 UTC"
    local = T0.astimezone()
    assert format_time(T0, "local") == f"{local:%H:%M:%S} {local.tzname()}"


def test_neighbour_steps_through_events() -> None:
    events = merge_events([ev(0, "trigger", id="a"), ev(5, "acknowledge", id="b"),
                           ev(9, "resolve", id="c")])
    assert neighbour(events, None, -1) == 2
    assert neighbour(events, None, 1) == 0
    assert neighbour(events, events[1].at, -1) == 0
    assert neighbour(events, events[1].at, 1) == 2
    assert neighbour(events, events[0].at, -1) == 0
    assert neighbour(events, events[2].at, 1) == 2
    assert neighbour([], None, 1) is None


def test_markdown_is_escaped_and_sanitised() -> None:
    hostile = ev(2, "note", source="operator", text="a | b [x](http://evil) \x1b]52;c;AAAA\x07 *b*\nnext",
                 id="n", state="pending")
    table = markdown_table([ev(0, "trigger", id="a"), hostile], T0)
    lines = table.splitlines()
    assert lines[0] == "| Time | Relative | Kind | Source | Event |"
    row = lines[3]
    assert row.count(" | ") == 4  # the | in the text is escaped, not a new column
    assert "\\|" in row and "\\[x\\]" in row and "\\*b\\*" in row
    assert "\x1b" not in table and "\x07" not in table and "\n" not in row
    assert "| T+2m |" in row and row.endswith("\\[pending\\] |")
    assert md_escape("<script>") == "\\<script\\>"


def test_provider_copy_with_the_journal_marker_is_the_journal_note_delivered() -> None:
    from journal_helpers import incident

    from sre_cockpit.feeds.journal import Journal, NoteRecord, TargetState
    from sre_cockpit.providers.incident_util import idempotency_marker, note_marker_key, note_ref
    from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider

    pending = ev(5, "note", source="operator", text="db failover", id="n1:pd:P1",
                 state="pending: pd: HTTP 503", note_ref=note_ref("key-1", "P1"))
    # PagerDuty's copy: stamped 40 minutes later by a clock far off, formatted differently.
    entry = {"id": "LE1", "type": "annotate_log_entry", "created_at": "2026-03-01T14:45:00Z",
             "summary": "Note added by Dana", "agent": {"summary": "Dana"},
             "channel": {"type": "note",
                         "summary": "db failover" + idempotency_marker(note_marker_key("key-1",
                                                                                       "P1"))},
             "incident": {"id": "P1"}}
    pd = PagerDutyProvider("pd", PagerDutyOptions.model_validate({"token": "t"}))
    theirs = pd.log_entry_to_event(entry)
    assert theirs is not None and theirs.note_ref == pending.note_ref
    merged = merge_events([theirs], [pending])
    assert [(e.source, e.text, e.state) for e in merged] == [("operator", "db failover",
                                                               "delivered")]
    # A failed delivery the provider does show is delivered after all (the marker proves it).
    failed = ev(5, "note", source="operator", text="db failover", id="n1:pd:P1",
                state="failed: pd: HTTP 400", note_ref=pending.note_ref)
    assert [e.state for e in merge_events([theirs], [failed])] == ["delivered"]
    # The same text with another cockpit's marker is another note: both are shown, and an
    # identical text sent twice from here (two keys) stays two notes on each side.
    other = TimelineEvent(at=pending.at, kind="note", source="pd", text="note by Ann: db failover",
                          incident_id="P1", id="LE2", note_ref=note_ref("key-9", "P1"))
    merged = merge_events([other], [pending])
    assert [(e.source, e.state) for e in merged] == [("operator", "pending: pd: HTTP 503"),
                                                    ("pd", None)]
    again = ev(6, "note", source="operator", text="db failover", id="n2:pd:P1",
               state="pending", note_ref=note_ref("key-2", "P1"))
    assert len(merge_events([theirs], [pending, again])) == 2
    # Same marker on another incident's entry: not this note.
    elsewhere = TimelineEvent(at=theirs.at, kind="note", source="pd", text=theirs.text,
                              incident_id="P2", id="LE3", note_ref=pending.note_ref)
    assert len(merge_events([elsewhere], [pending])) == 2
    # The journal stamps the same digest on its copy of a note.
    journal = Journal("/nonexistent-sre-cockpit-test", clock=lambda: T0)
    record = NoteRecord(id="n1", at=T0, text="db failover", incidents=(incident("P1"),),
                        targets={"pd": TargetState("pd", "key-1")})
    journal.records[record.id] = record
    (event,) = journal.events()
    assert event.note_ref == pending.note_ref and event.state == "pending"
    assert [e.state for e in merge_events([theirs], [event])] == ["delivered"]


def test_provider_copy_without_marker_matches_by_text_within_the_window() -> None:
    pending = ev(5, "note", source="operator", text="Rolled back  v2", id="n1", state="pending",
                 note_ref="0123456789ab")
    typed = ev(7, "note", source="pd", text="note by Dana: rolled back v2", id="LE1")
    merged = merge_events([typed], [pending])
    assert [(e.source, e.state) for e in merged] == [("operator", "delivered")]
    failed = ev(5, "note", source="operator", text="rolled back v2", id="n1",
                state="failed: pd: HTTP 403")
    assert [(e.source, e.state) for e in merge_events([typed], [failed])] == [
        ("operator", "failed: pd: HTTP 403")]  # text alone does not prove this delivery
    late = ev(30, "note", source="pd", text="note by Dana: rolled back v2", id="LE2")
    assert len(merge_events([late], [pending])) == 2
