"""Note editor: the draft reaches the disk on exit, on a signal flush, and is restored."""

from __future__ import annotations

from pathlib import Path

from journal_helpers import incident
from textual.app import App
from textual.widgets import Static

from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.signals import flush_all
from sre_cockpit.ui.notes_editor import NoteEditor, describe_targets


class Host(App[None]):
    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("host")


async def test_draft_is_saved_when_the_app_exits_with_the_editor_open(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    app = Host()
    async with app.run_test() as pilot:
        app.push_screen(NoteEditor(journal, [incident()]))
        await pilot.pause()
        await pilot.press(*"half typed")
        # no pause long enough for the autosave timer: the unmount must save it
    draft = journal.load_draft()
    assert draft is not None and draft.text == "half typed"


async def test_signal_flush_saves_the_draft_immediately(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    app = Host()
    async with app.run_test() as pilot:
        app.push_screen(NoteEditor(journal, [incident()]))
        await pilot.pause()
        await pilot.press(*"sighup")
        flush_all()  # what the SIGHUP/SIGTERM handler runs first
        draft = journal.load_draft()
        assert draft is not None and draft.text == "sighup"
        await pilot.press("escape")
        await pilot.pause()
        # Reopened: the draft comes back, with a line saying so.
        editor = NoteEditor(journal, [incident()])
        app.push_screen(editor)
        await pilot.pause()
        assert editor.text == "sighup"
        assert "restored the unsent draft" in str(editor.query_one("#note-status").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert journal.load_draft() is not None  # only the timeline clears it, once journalled


async def test_discard_and_empty_submit(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.save_draft("for another incident", ["pd:P2"])
    journal.save_draft("mine", ["pd:P1"])
    app = Host()
    async with app.run_test() as pilot:
        editor = NoteEditor(journal, [incident()])
        results: list[str | None] = []
        app.push_screen(editor, results.append)
        await pilot.pause()
        assert editor.text == "mine"  # P2's draft is not offered for P1
        editor.query_one("#note-text").clear()  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "empty note not saved" in str(editor.query_one("#note-status").render())
        await pilot.click("#note-discard")
        await pilot.pause()
        assert results == [None]
    assert journal.load_draft(["pd:P1"]) is None
    kept = journal.load_draft(["pd:P2"])
    assert kept is not None and kept.text == "for another incident"


def test_describe_targets() -> None:
    assert describe_targets([]) == "no incident"
    assert describe_targets([incident("P1"), incident("P2")]) == "pd:P1 P1 checkout errors (+1 more)"
    assert "\x1b" not in describe_targets([incident("\x1b[2J")])
