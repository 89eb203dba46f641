"""Timeline pane: rendering, incident clock keys, kind filter, notes editor, pins, disk errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from journal_helpers import T0, DiskFull, incident
from timeline_helpers import NOW, TimelineHost, loaded, loaded_timeline, make_runtime, story_events

from sre_cockpit.core.models import LogLine, TimelineEvent
from sre_cockpit.feeds.cockpit import Cockpit
from sre_cockpit.feeds.notes import NotesError, pin_text
from sre_cockpit.reports.export import export_postmortem
from sre_cockpit.ui.notes_editor import NoteEditor
from sre_cockpit.ui.timeline.view import TimelinePane


def read(path: Path) -> str:
    return path.read_text()


def rows(pane: TimelinePane) -> list[tuple[str, ...]]:
    table = pane.table
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_focused_incident_events_with_relative_times(tmp_path: Path) -> None:
    async with loaded_timeline(tmp_path) as (app, pilot, pane):
        await pilot.pause()
        shown = rows(pane)
        # P2's trigger and the other alert are not P1's; the deploy of its service and the
        # context-wide SLO change are shown. Newest last.
        assert [r[1] for r in shown] == ["T-6m", "T+0s", "T+4m", "T+12m"]
        assert shown[0][0].strip() == "13:54:00"
        assert shown[1][2] == "▲ trigger"
        assert pane.table.cursor_row == 3  # the newest event
        app.focus(None)
        await pilot.pause()
        # unfocused, T± is relative to the incident each event belongs to (— for none)
        assert [r[1] for r in rows(pane)] == ["—", "—", "T+0s", "T+4m", "—", "T+14m"]


async def test_newest_first_order(tmp_path: Path) -> None:
    async with loaded_timeline(tmp_path, order="newest_first") as (_app, pilot, pane):
        await pilot.pause()
        assert [r[1] for r in rows(pane)] == ["T+12m", "T+4m", "T+0s", "T-6m"]
        assert pane.table.cursor_row == 0


async def test_enter_and_brackets_move_the_incident_clock(tmp_path: Path) -> None:
    async with loaded_timeline(tmp_path) as (app, pilot, pane):
        await pilot.pause()
        pane.table.move_cursor(row=2)
        await pilot.press("enter")
        await pilot.pause()
        assert app.moments[-1] == (T0 + timedelta(minutes=4), "14:04 UTC (T+4m)")
        assert rows(pane)[2][0].startswith("▶")
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.moments[-1] == (T0, "14:00 UTC (T+0s)")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause()
        assert app.moments[-1][0] == T0 - timedelta(minutes=6)  # stops at the oldest
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.moments[-1][0] == T0
        assert pane.table.cursor_row == 1
        pane.action_live()
        await pilot.pause()
        assert app.moments[-1] == (None, "")
        assert not any(r[0].startswith("▶") for r in rows(pane))


async def test_kind_cycle_and_filter(tmp_path: Path) -> None:
    async with loaded_timeline(tmp_path) as (_app, pilot, pane):
        await pilot.press("K")  # k moves up, as in every table
        await pilot.pause()
        assert [r[2] for r in rows(pane)] == ["▲ trigger", "✓ acknowledge"]
        await pilot.press("K", "K")
        await pilot.pause()
        assert [r[2] for r in rows(pane)] == ["⬆ deploy"]
        pane.set_filter("kind: slo_state")
        await pilot.pause()
        assert [r[2] for r in rows(pane)] == ["◆ slo_state"]
        pane.set_filter("ann")  # text search on top of the kinds chosen
        await pilot.pause()
        assert rows(pane) == []
        pane.set_filter("")  # clears both
        await pilot.pause()
        assert len(rows(pane)) == 4
        pane.set_filter("ann")
        await pilot.pause()
        assert [r[3] for r in rows(pane)] == ["Acknowledged by Ann  [pd]"]


async def test_note_editor_autosaves_and_submit_journals_then_delivers(tmp_path: Path) -> None:
    async with loaded_timeline(tmp_path) as (app, pilot, pane):
        journal = app.journal
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteEditor)
        await pilot.press(*"rolled", "enter", *"back")
        await pilot.pause(1.1)  # the draft is on disk within a second
        draft = journal.load_draft()
        assert draft is not None and draft.text == "rolled\nback"
        assert draft.incident_keys == ("pd:P1",)
        await pilot.press("escape")  # close, keep the draft
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, NoteEditor) and editor.text == "rolled\nback"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, NoteEditor)
        assert [r.text for r in journal.notes()] == ["rolled\nback"]
        assert journal.load_draft() is None
        await pilot.pause()
        assert app.notes.pending_count() == 1
        assert rows(pane)[-1][3] == "[pending] rolled␤back"
        await app.notes.outbox.deliver_once()
        await pilot.pause()
        assert app.notes.pending_count() == 0
        assert rows(pane)[-1][3] == "[delivered] rolled␤back"
        fake = app.runtime.providers["pd"]
        assert [c[2] for c in fake.calls] == ["rolled\nback"]  # type: ignore[attr-defined]


async def test_disk_full_is_visible_and_r_retries(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, journal = make_runtime(tmp_path)
    app = TimelineHost(runtime, journal)
    disk = DiskFull(monkeypatch)

    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(TimelinePane)
        await loaded(app)
        disk.on()
        with pytest.raises(NotesError, match="disk full"):
            app.notes.add_note("keep me", [incident()])
        await pilot.pause()
        status = str(pane.query_one(".timeline-status").render())
        assert "NOT SAVED" in status and "r retries" in status
        assert rows(pane)[-1][3] == "[not saved] keep me"
        assert app.notes.pending_count() == 1
        await pilot.press("r")  # still full
        await pilot.pause()
        assert journal.unsaved and "disk full" in str(pane.query_one(".timeline-status").render())
        disk.off()
        await pilot.press("r")
        await pilot.pause()
        assert journal.unsaved == [] and rows(pane)[-1][3] == "[pending] keep me"
        # The next submit also offers refused notes again.
        disk.on()
        with pytest.raises(NotesError):
            app.notes.add_note("second", [incident()])
        disk.off()
        app.notes.add_note("third", [incident()])
        assert journal.unsaved == []
        assert [r.text for r in journal.notes()] == ["keep me", "second", "third"]


async def test_pin_log_line_is_a_quoted_note_with_time_and_labels(tmp_path: Path) -> None:
    async with loaded_timeline(tmp_path) as (app, pilot, pane):
        ts = int((T0 + timedelta(minutes=3)).timestamp()) * 1_000_000_000 + 5
        app.notes.pin(LogLine(ts, "upstream timeout\x1b[31m after 800ms",
                              {"app": "checkout", "pod": "c-1"}), app.focused_incident)
        await pilot.pause()
        (record,) = app.journal.notes()
        assert record.kind == "pin" and [i.key for i in record.incidents] == ["pd:P1"]
        assert record.text.startswith("> upstream timeout")
        assert "\x1b" not in record.text
        assert record.text.endswith("— log line at 2026-03-01T14:03:00.000000005Z "
                                    "{app=checkout pod=c-1}")
        assert rows(pane)[-1][2] == "⚲ pin"


def test_pin_text_multiline() -> None:
    text = pin_text(LogLine(0, "a\nb"))
    assert text == "> a\n> b\n— log line at 1970-01-01T00:00:00.000000000Z"


async def test_export_writes_the_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, journal = make_runtime(tmp_path)
    app = TimelineHost(runtime, journal)
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(app)
        journal.add_note("rolled back", [incident()])
        cockpit = Cockpit(runtime.config, runtime=runtime, journal=journal)
        path = await export_postmortem(cockpit, incident(), None)
        await pilot.pause()
        assert Path(path) == tmp_path / f"postmortem-P1-{NOW:%Y%m%d-%H%M}.md"
        text = read(Path(path))
        assert text.startswith("# Postmortem draft: P1 checkout errors")
        assert "rolled back" in text


async def test_related_incidents_of_the_service_show_their_lifecycle_only(tmp_path: Path) -> None:
    runtime, journal = make_runtime(tmp_path)
    app = TimelineHost(runtime, journal)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(TimelinePane)
        alert = incident("a1", provider="am")  # same service (checkout) as P1
        app.set_incidents([incident("P1"), alert])
        await app.set_events(story_events())
        journal.add_note("about the alert only", [alert])
        app.focus(incident("P1"))
        await pilot.pause()
        kinds = [(r[2], r[3]) for r in rows(pane)]
        assert ("△ alert_start", "CheckoutHighErrorRate started  [am]") in kinds
        assert not any("about the alert only" in text for _k, text in kinds)
        assert str(pane.query_one(".timeline-status").render()).endswith("·  6 events")


async def test_columns_fit_the_rows_as_soon_as_they_are_shown(tmp_path: Path) -> None:
    # DataTable widens its columns only when its own queue goes idle; once (a loaded CI run)
    # that never came and every column stayed as wide as its label ("tim", "[fai…"). The pane
    # sizes them as it adds the rows: checked with no await between the rows and the widths.
    async with loaded_timeline(tmp_path) as (app, pilot, pane):
        app.focus(None)  # every incident's events
        await pilot.pause()
        wider = TimelineEvent(at=NOW, kind="status_update_with_a_long_kind", source="pd-eu-west",
                              text="a much longer event text than any row so far " * 2,
                              incident_id="P1", id="wide")
        pane.show(replace(pane.snapshot, events=(*pane.snapshot.events, wider)))
        table = pane.table  # no await since the rows were added
        assert table.row_count > 0
        for index, column in enumerate(table.ordered_columns):
            widest = max(table.get_row_at(row)[index].cell_len for row in range(table.row_count))
            assert column.content_width >= widest, (str(column.label), column.content_width)
