"""The operator's notes: a SQLite store shared by every cockpit on the machine, drafts, and the
outbox that delivers notes to the incident providers exactly once.

See :mod:`.journal` (the store), :mod:`.outbox` (delivery), :mod:`.db` (the file),
:mod:`.legacy` (the one-time import of ``notes.jsonl``), :mod:`.drafts` and :mod:`.safefile`.
Nothing here imports Textual.
"""

from __future__ import annotations

from sre_cockpit.feeds.notes_store.db import DB_FILE
from sre_cockpit.feeds.notes_store.drafts import DRAFT_FILE
from sre_cockpit.feeds.notes_store.journal import Claim, Journal
from sre_cockpit.feeds.notes_store.legacy import LEGACY_FILE
from sre_cockpit.feeds.notes_store.outbox import Outbox
from sre_cockpit.feeds.notes_store.records import (
    MAX_NOTE_BYTES,
    Draft,
    JournalError,
    NoteRecord,
    NoteScope,
    TargetState,
    default_journal_dir,
    describe_os_error,
    incident_from_dict,
    incident_to_dict,
)

__all__ = [
    "DB_FILE",
    "DRAFT_FILE",
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
