"""Rows of ``notes.db`` decoded into the store's records, each refusal worded as one line for
the problems list (a damaged row is skipped and said, never fatal). Nothing here imports
Textual."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.notes_store.db import NoteRow
from sre_cockpit.feeds.notes_store.records import (
    MAX_NOTE_BYTES,
    NoteRecord,
    TargetState,
    note_from_json,
)

__all__ = ["STATES", "TEXT_MAX_CHARS", "record_from_row", "target_from_row"]

TEXT_MAX_CHARS = MAX_NOTE_BYTES + 64
"""A note's text longer than this (a row written by something else) is shown cut."""
STATES = frozenset({"pending", "delivered", "failed", "local"})
"""The delivery states a row may hold."""


def record_from_row(row: NoteRow, file: str) -> NoteRecord | str:
    """The note a row holds, or why it cannot be shown (``file``: the store's name)."""
    where = f"{file}: note {sanitize_line(str(row.id))[:40]} (row {row.seq})"
    if row.incidents is None:
        return (f"{where}: incident list of {row.incidents_len} bytes is over the limit: "
                "not shown")
    try:
        return note_from_json({
            "id": row.id, "at": row.at, "kind": row.kind, "text": row.text,
            "author": row.author, "context": row.context,
            "incidents": json.loads(row.incidents)}, seq=row.seq, with_keys=False)
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:60]
        return f"{where} is damaged ({reason}): not shown"


def target_from_row(row: Sequence[Any], file: str) -> TargetState | str:
    """One delivery row (note, provider, key, state, reason, attempted, attempt owner,
    attempts, next try, claim owner, claim pid, claim until, change) as a target's state, or
    why it cannot be used."""
    (note_id, provider, key, state, reason, attempted, attempt_owner, attempts, next_try,
     claim_owner, claim_pid, claim_until, _changed) = row
    if state not in STATES:
        return (f"{file}: note {str(note_id)[:40]}: unknown delivery state "
                f"{str(state)[:20]!r} for {str(provider)[:40]}")
    try:
        return TargetState(
            str(provider), str(key), state=str(state),
            reason=sanitize_line(str(reason))[:500] if reason else None,
            attempted=bool(attempted),
            attempt_owner=str(attempt_owner) if attempt_owner else None,
            attempts=int(attempts or 0),
            next_try=(datetime.fromtimestamp(float(next_try), UTC)
                      if next_try is not None else None),
            claim_owner=str(claim_owner) if claim_owner else None,
            claim_pid=int(claim_pid) if claim_pid else None,
            claim_until=float(claim_until) if claim_until is not None else None)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        return (f"{file}: note {str(note_id)[:40]}: damaged delivery row for "
                f"{str(provider)[:40]} ({str(exc)[:60]})")
