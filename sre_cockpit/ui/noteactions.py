"""What the panes ask of the operator's notes: the durable note editor and pinned log lines.

Views never open the journal: they post :class:`~sre_cockpit.ui.pane.Pane.NoteRequested` or
:class:`~sre_cockpit.ui.pane.Pane.PinRequested`, and the app hands the request to these
functions, which go through the cockpit's notes feed (journal first, then the outbox) and say
in a toast what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sre_cockpit.core.models import Incident, LogLine
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.ui.app import CockpitApp

RETRY_HINT = "press r in the timeline to retry"
"""Said after a note that could not be written or queued."""


def open_note_editor(app: CockpitApp, incidents: Sequence[Incident]) -> None:
    """The durable note editor for ``incidents`` (default: the focused incident)."""
    from sre_cockpit.feeds.notes import NotesError
    from sre_cockpit.ui.notes_editor import NoteEditor

    focused = app.focused_incident
    targets = tuple(incidents) or ((focused,) if focused is not None else ())
    if not targets:
        toast(app, "choose an incident first (enter in the incidents pane)", severity="warning")
        return
    if app.cockpit is None:
        toast(app, "notes are not available yet: the cockpit is starting", severity="error")
        return
    notes = app.cockpit.notes

    def submitted(text: str | None) -> None:
        if text is None:
            return
        try:
            notes.add_note(text, targets)
        except NotesError as exc:
            # later: called from the editor's dismiss, a toast raised now belongs to the
            # closing editor and was never seen
            app.call_later(toast, app, f"{exc} — {RETRY_HINT}", severity="error", timeout=15)

    app.push_screen(NoteEditor(notes, targets, clock=app.clock,
                               routes=notes.delivery_plan(targets)), submitted)


def pin_line(app: CockpitApp, line: LogLine) -> None:
    """``p`` in the log pane: the line becomes a note on the focused incident (or stays in
    the local journal when none is focused)."""
    from sre_cockpit.feeds.notes import NotesError

    if app.cockpit is None:
        return
    incident = app.focused_incident
    try:
        app.cockpit.notes.pin(line, incident)
    except NotesError as exc:
        toast(app, f"{exc} — {RETRY_HINT}", severity="error", timeout=15)
        return
    where = incident.key if incident is not None else "the local journal only"
    toast(app, f"pinned to {where}", timeout=4)
