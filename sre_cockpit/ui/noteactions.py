"""What the panes ask of the operator's notes: the durable note editor and pinned log lines.

Views never open the journal: they post :class:`~sre_cockpit.ui.pane.Pane.NoteRequested` or
:class:`~sre_cockpit.ui.pane.Pane.PinRequested`, and the app hands the request to these
functions, which go through the cockpit's notes feed (journal first, then the outbox) and say
in a toast what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import App

from sre_cockpit.core.models import Incident, LogLine
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.feeds.notes import NotesFeed

RETRY_HINT = "press r in the timeline to retry"
"""Said after a note that could not be written or queued."""


def open_note_editor(app: App[Any], notes: NotesFeed | None, targets: tuple[Incident, ...], *,
                     clock: Callable[[], datetime]) -> None:
    """The durable note editor for ``targets`` (say why not when there are none, or no notes
    feed yet); what the operator submits goes to ``notes``."""
    from sre_cockpit.feeds.notes import NotesError
    from sre_cockpit.ui.notes_editor import NoteEditor

    if not targets:
        toast(app, "choose an incident first (enter in the incidents pane)", severity="warning")
        return
    if notes is None:
        toast(app, "notes are not available yet: the cockpit is starting", severity="error")
        return

    def submitted(text: str | None) -> None:
        if text is None:
            return
        try:
            notes.add_note(text, targets)
        except NotesError as exc:
            # later: called from the editor's dismiss, a toast raised now belongs to the
            # closing editor and was never seen
            app.call_later(toast, app, f"{exc} — {RETRY_HINT}", severity="error", timeout=15)

    app.push_screen(NoteEditor(notes, targets, clock=clock, routes=notes.delivery_plan(targets)),
                    submitted)


def pin_line(app: App[Any], notes: NotesFeed | None, line: LogLine,
             incident: Incident | None) -> None:
    """``p`` in the log pane: the line becomes a note on ``incident`` (or stays in the local
    journal when none is focused)."""
    from sre_cockpit.feeds.notes import NotesError

    if notes is None:
        return
    try:
        notes.pin(line, incident)
    except NotesError as exc:
        toast(app, f"{exc} — {RETRY_HINT}", severity="error", timeout=15)
        return
    where = incident.key if incident is not None else "the local journal only"
    toast(app, f"pinned to {where}", timeout=4)
