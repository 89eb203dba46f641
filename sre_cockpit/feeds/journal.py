"""The operator's notes store (moved to :mod:`sre_cockpit.feeds.notes_store`; this name is kept for
the modules and plugins that import it)."""

from __future__ import annotations

from sre_cockpit.feeds.notes_store import (
    DB_FILE,
    DRAFT_FILE,
    LEGACY_FILE,
    MAX_NOTE_BYTES,
    Claim,
    Draft,
    Journal,
    JournalError,
    NoteRecord,
    NoteScope,
    Outbox,
    TargetState,
    default_journal_dir,
    describe_os_error,
    incident_from_dict,
    incident_to_dict,
)

JOURNAL_FILE = LEGACY_FILE
"""The old JSON-lines journal's name (imported into ``notes.db`` once)."""

__all__ = [
    "DB_FILE",
    "DRAFT_FILE",
    "JOURNAL_FILE",
    "LEGACY_FILE",
    "MAX_NOTE_BYTES",
    "Claim",
    "Draft",
    "Journal",
    "JournalError",
    "NoteRecord",
    "NoteScope",
    "Outbox",
    "TargetState",
    "default_journal_dir",
    "describe_os_error",
    "incident_from_dict",
    "incident_to_dict",
]
