"""Drafts (the note being typed) and parked notes (a note the store refused), as small files.

A draft is ``draft.json`` or ``draft-<digest of the incident keys>.json``, replaced atomically
while the operator types. When the store refuses a submitted note (disk full), the note is
*parked* as ``unsaved-<note id>.json`` — written whole if the disk still takes a small file, else
the editor's draft holding the same text is renamed to that name (a rename needs no free space).
Either way the draft slot is empty again, so the next note does not start with this one's text,
and the parked note is offered again (``r``, or the next start) until the store takes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize
from sre_cockpit.feeds.notes_store.records import (
    MAX_NOTE_BYTES,
    Draft,
    NoteRecord,
    TargetState,
    incident_from_dict,
    incident_to_dict,
    note_from_json,
    parse_time,
)
from sre_cockpit.feeds.notes_store.safefile import ensure_dir, read_small, write_private

DRAFT_FILE = "draft.json"
DRAFT_RE = re.compile(r"^draft(?:-[0-9a-f]{16})?\.json$")
PARKED_RE = re.compile(r"^unsaved-([0-9A-Za-z_-]{1,64})\.json$")
MAX_DRAFT_BYTES = 1 << 20
MAX_FILES = 500
"""Draft and parked files looked at in one directory listing (bounds a flooded directory)."""


def draft_path_for(directory: Path, incident_keys: Iterable[str] = ()) -> Path:
    """One draft file per set of target incidents (``draft.json`` for none)."""
    keys = sorted(set(incident_keys))
    if not keys:
        return directory / DRAFT_FILE
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
    return directory / f"draft-{digest}.json"


def write_draft(directory: Path, text: str, incident_keys: Sequence[str],
                incidents: Sequence[Incident], saved_at: datetime) -> None:
    """Atomically save a draft (0600).

    Raises:
        OSError: it could not be written.
    """
    ensure_dir(directory)
    payload = {"text": text, "incidents": list(incident_keys), "saved_at": saved_at.isoformat(),
               "targets": [incident_to_dict(i) for i in incidents]}
    write_private(draft_path_for(directory, incident_keys),
                  json.dumps(payload, ensure_ascii=False).encode())


def read_draft(path: Path) -> Draft | None:
    """A draft file (None: missing, not a regular file, too big or damaged)."""
    raw = read_small(path, MAX_DRAFT_BYTES)
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
        incidents = tuple(incident_from_dict(i) for i in data.get("targets") or ())
        return Draft(text=str(data["text"]),
                     incident_keys=tuple(str(k) for k in data.get("incidents", ())),
                     saved_at=parse_time(str(data["saved_at"])), incidents=incidents)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _names(directory: Path, pattern: re.Pattern[str]) -> list[Path]:
    found: list[Path] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if pattern.match(entry.name):
                    found.append(directory / entry.name)
                    if len(found) >= MAX_FILES:
                        break
    except OSError:
        return []
    return found


def list_drafts(directory: Path) -> list[Draft]:
    """Every readable draft, oldest first."""
    found = [d for d in (read_draft(p) for p in _names(directory, DRAFT_RE)) if d is not None]
    return sorted(found, key=lambda d: d.saved_at)


def remove(path: Path) -> None:
    """Delete a file if it is there."""
    with contextlib.suppress(OSError):
        path.unlink()


def parked_path(directory: Path, note_id: str) -> Path:
    """Where a refused note is parked."""
    return directory / f"unsaved-{re.sub(r'[^0-9A-Za-z_-]', '_', note_id)[:64]}.json"


def park(directory: Path, record: NoteRecord, draft: Path | None) -> bool:
    """Keep a refused note on disk and empty the draft slot it was typed in.

    Returns:
        True when the note is on disk (written, or its draft renamed); False when it is only
        in memory (the disk took neither).
    """
    target = parked_path(directory, record.id)
    try:
        write_private(target, json.dumps(record.to_json(), ensure_ascii=False).encode())
    except OSError:
        pass
    else:
        if draft is not None:
            remove(draft)
        return True
    if draft is None:
        return False
    held = read_draft(draft)
    if held is not None and sanitize(held.text, max_bytes=MAX_NOTE_BYTES).strip("\n") == record.text:
        try:
            os.rename(draft, target)
        except OSError:
            return False
        return True
    remove(draft)  # older text than the note (its last save failed): it must not come back
    return False


def load_parked(directory: Path, seq_start: int) -> tuple[list[NoteRecord], list[str]]:
    """Parked notes (either form), and a line for each parked file that cannot be read."""
    records: list[NoteRecord] = []
    problems: list[str] = []
    for path in sorted(_names(directory, PARKED_RE)):
        match = PARKED_RE.match(path.name)
        assert match is not None
        raw = read_small(path, MAX_DRAFT_BYTES)
        try:
            if raw is None:
                raise ValueError("not a readable regular file")
            data = json.loads(raw.decode("utf-8", "replace"))
            if isinstance(data, dict) and "id" in data:
                record = note_from_json(data, seq=seq_start + len(records))
            else:
                record = _from_draft(match.group(1), data, seq_start + len(records))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            problems.append(f"{path.name}: a note that could not be saved earlier is damaged "
                            f"({str(exc)[:60]}); the file is kept")
            continue
        record.saved = False
        records.append(record)
    return records, problems


def _from_draft(note_id: str, data: object, seq: int) -> NoteRecord:
    """A parked draft (renamed on a full disk) as a note with fresh keys (it was never sent)."""
    import uuid

    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    incidents = tuple(incident_from_dict(i) for i in data.get("targets") or ())
    record = NoteRecord(id=note_id, at=parse_time(str(data["saved_at"])),
                        text=sanitize(str(data["text"]), max_bytes=MAX_NOTE_BYTES).strip("\n"), incidents=incidents,
                        seq=seq)
    for provider in dict.fromkeys(i.provider for i in incidents):
        record.targets[provider] = TargetState(provider, str(uuid.uuid4()))
    return record
