"""The note editor: a multi-line modal whose draft is saved to disk at least every second.

The draft (text + target incidents) is written atomically with fsync to the notes store
every half second while it changes, on SIGHUP/SIGTERM (a registered flusher), and when the editor
is dismissed without sending; it is restored the next time the editor opens. It is only deleted
once the note itself is stored. Submitting returns the text; the app stores it through the notes
feed, which hands it to the outbox.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from sre_cockpit.core.models import Incident, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.notes import NoteRoute, NotesError, NotesFeed
from sre_cockpit.feeds.signals import register_flusher
from sre_cockpit.ui.plain import plain

AUTOSAVE_INTERVAL_S = 0.5
"""How often the draft is saved while it changes (the promise is: at least every second)."""


def describe_targets(incidents: Sequence[Incident]) -> str:
    """``pd:P1 checkout errors`` / ``pd:P1 checkout errors (+2 more)`` (sanitised)."""
    if not incidents:
        return "no incident"
    first = incidents[0]
    text = f"{first.key} {first.title}"
    if len(incidents) > 1:
        text += f" (+{len(incidents) - 1} more)"
    return sanitize_line(text)[:120]


def describe_route(routes: Sequence[NoteRoute]) -> tuple[str, bool]:
    """Where the note goes, said before it is typed: ``sent to pd`` or ``stays in the local
    journal: read-only context (not sent to pd)``, and whether any of it stays local."""
    sent = [r.provider for r in routes if r.local_reason is None]
    local = [r for r in routes if r.local_reason is not None]
    parts = [f"sent to {', '.join(sent)} (saved in the local journal first)"] if sent else []
    for route in local:
        parts.append(f"stays in the local journal: {route.local_reason} "
                     f"(not sent to {route.provider})")
    return sanitize_line("; ".join(parts) or "stays in the local journal"), bool(local)


class NoteEditor(ModalScreen[str | None]):
    """Type a note for one or more incidents; ``ctrl+s`` sends, ``escape`` keeps it as a draft."""

    DEFAULT_CSS = """
    NoteEditor { align: center middle; }
    NoteEditor > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    NoteEditor .note-title { text-style: bold; height: auto; }
    NoteEditor .note-route { color: $text-muted; height: auto; }
    NoteEditor .note-route.-local { color: $warning; text-style: bold; }
    NoteEditor TextArea { height: 10; min-height: 4; }
    NoteEditor .note-status { color: $text-muted; height: 1; }
    NoteEditor .note-status.-error { color: $error; text-style: bold; }
    NoteEditor Horizontal { height: auto; align-horizontal: right; }
    NoteEditor Button { margin-left: 1; min-width: 12; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # Not a priority binding: those run when the key is *read*, before the keys read with
        # it (typeahead, a coalesced SSH packet) reach the editor, so "text^S" sent the note
        # without its text. This one runs when ctrl+s comes back up from the TextArea, after
        # every key before it was inserted.
        Binding("ctrl+s", "submit", "send note", id="notes.submit"),
        Binding("escape", "keep_draft", "close (keep draft)", id="notes.close"),
    ]

    def __init__(self, notes: NotesFeed, incidents: Sequence[Incident], *,
                 clock: Callable[[], datetime] = utcnow, initial: str | None = None,
                 error: str | None = None, routes: Sequence[NoteRoute] = ()) -> None:
        super().__init__()
        self.notes = notes
        self.incidents = tuple(incidents)
        self.routes = tuple(routes)
        """Where the note goes (``NotesFeed.delivery_plan``), shown before it is typed: a
        read-only context says at once that the note stays local."""
        self.clock = clock
        self.keys = tuple(i.key for i in self.incidents)
        self.restored: str | None = None
        draft = notes.load_draft(self.keys)
        text = initial or ""
        if not text and draft is not None and draft.text.strip():
            text = draft.text
            self.restored = f"restored the unsent draft from {draft.saved_at:%H:%M:%S}"
        self.initial_text = text
        self._latest = text
        self.initial_error = error
        # what is on disk: the draft's text, or nothing at all (an empty editor with no draft
        # has nothing to save; its first autosave said "draft saved" over "empty note not
        # saved" half a second after ctrl+s)
        self._saved_text = (text if draft is not None and text == draft.text
                            else "" if draft is None and not text else None)
        self._unregister: Callable[[], None] | None = None
        self._finished = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"Note for {describe_targets(self.incidents)}"),
                         classes="note-title")
            if self.routes:
                route, local = describe_route(self.routes)
                yield Static(plain(route), id="note-route",
                             classes="note-route -local" if local else "note-route")
            yield TextArea(self.initial_text, soft_wrap=True, show_line_numbers=False,
                           id="note-text")
            yield Static("", classes="note-status", id="note-status")
            with Horizontal():
                yield Button("Send (ctrl+s)", variant="primary", id="note-send")
                yield Button("Discard", variant="error", id="note-discard")
                yield Button("Close (esc)", id="note-close")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)
        if self.initial_error:
            self.show_status(self.initial_error, error=True)
        elif self.restored:
            self.show_status(self.restored)
        else:
            self.show_status("drafts are saved as you type; ctrl+s sends, esc keeps the draft")
        self._unregister = register_flusher(self.flush_draft)
        self.set_interval(AUTOSAVE_INTERVAL_S, self.flush_draft)

    def on_unmount(self) -> None:
        self.flush_draft()  # the app is exiting (SIGHUP, :q!) with the editor open
        if self._unregister is not None:
            self._unregister()
            self._unregister = None

    @property
    def text(self) -> str:
        """What the editor holds now (the last known text once it is unmounted)."""
        with contextlib.suppress(Exception):
            self._latest = self.query_one("#note-text", TextArea).text
        return self._latest

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._latest = event.text_area.text

    def show_status(self, message: str, *, error: bool = False) -> None:
        """One line under the editor (errors in bold)."""
        status = self.query_one("#note-status", Static)
        status.update(plain(message))
        status.set_class(error, "-error")

    def flush_draft(self) -> None:
        """Save the draft if it changed (timer, signal handler, close). Never raises."""
        if self._finished:
            return
        text = self.text
        if text == self._saved_text:
            return
        try:
            if text.strip():
                self.notes.save_draft(text, self.keys, incidents=self.incidents)
            else:
                self.notes.clear_draft(self.keys)
        except NotesError as exc:
            with contextlib.suppress(Exception):
                self.show_status(f"{exc} — the text stays here", error=True)
            return
        self._saved_text = text
        with contextlib.suppress(Exception):
            self.show_status(f"draft saved {self.clock().strftime('%H:%M:%S')}")

    def action_submit(self) -> None:
        """Send what the editor holds: the app stores it (through the notes feed) before
        anything else. An empty editor says so and stays open."""
        text = self.text
        if not text.strip():
            self.show_status("empty note not saved — type the note, then ctrl+s", error=True)
            return
        self.flush_draft()
        self._finished = True
        self.dismiss(text)

    def action_keep_draft(self) -> None:
        """Close without sending; the draft stays on disk and comes back next time."""
        self.flush_draft()
        self._finished = True
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "note-send":
            self.action_submit()
        elif event.button.id == "note-discard":
            self._finished = True
            self.notes.clear_draft(self.keys)
            self.dismiss(None)
        else:
            self.action_keep_draft()
