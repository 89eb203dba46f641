"""The values the notes store keeps: notes, their deliveries, drafts, and the error it raises.

Nothing here touches the disk or imports Textual.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, TimelineEvent
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.providers.incident_util import note_ref

MAX_NOTE_BYTES = 16_384
"""A note's text is cut (with a visible marker) beyond this many UTF-8 bytes."""
MAX_BACKEND_CHARS = 512
"""A backend identity longer than this in a stored note is ignored (damaged)."""


class JournalError(Exception):
    """The notes store could not be written. ``str(err)`` is one line for the operator."""

    def __init__(self, message: str, *, errno_: int | None = None,
                 record: NoteRecord | None = None) -> None:
        super().__init__(message)
        self.errno = errno_
        self.record = record
        """The note the store refused (kept in ``Journal.unsaved``), when there is one."""


def default_journal_dir(journal_dir: str | None = None) -> Path:
    """Where the notes live: ``$SRE_COCKPIT_DATA_DIR``, else ``journal_dir`` from the config,
    else the platform data dir (``platformdirs.user_data_dir("sre-cockpit")``)."""
    env = os.environ.get("SRE_COCKPIT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if journal_dir:
        return Path(journal_dir).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("sre-cockpit"))


_OS_REASONS = {errno.ENOSPC: "disk full", errno.EROFS: "read-only file system",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EDQUOT: "disk quota exceeded", errno.EIO: "I/O error",
               errno.EFBIG: "file too large"}
_SQLITE_REASONS = {"SQLITE_FULL": "disk full", "SQLITE_READONLY": "read-only",
                   "SQLITE_BUSY": "busy: another process holds the notes store",
                   "SQLITE_LOCKED": "busy: another process holds the notes store",
                   "SQLITE_IOERR": "I/O error", "SQLITE_CANTOPEN": "cannot open the file",
                   "SQLITE_CORRUPT": "the file is damaged", "SQLITE_NOTADB": "not a database",
                   "SQLITE_PERM": "permission denied"}


def os_reason(exc: OSError) -> str:
    """``disk full``, ``permission denied`` … for an OS error."""
    return _OS_REASONS.get(exc.errno or 0) or (exc.strerror or type(exc).__name__)


def describe_os_error(exc: OSError, what: str) -> str:
    """One line naming the failure in terms an operator acts on."""
    return sanitize_line(f"cannot write the notes journal {what}: {os_reason(exc)}")


def sqlite_reason(exc: sqlite3.Error) -> str:
    """``disk full``, ``busy: …``, ``I/O error`` … for a SQLite error (its own text otherwise)."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    for prefix, reason in _SQLITE_REASONS.items():
        if name == prefix or name.startswith(prefix + "_"):
            return reason
    return sanitize_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def incident_to_dict(incident: Incident, backend: str | None = None) -> dict[str, Any]:
    """A JSON snapshot of the incident a note is for (enough to deliver it after a restart),
    with the backend its provider talked to when the note was written (``backend``)."""
    data: dict[str, Any] = {
        "id": incident.id, "provider": incident.provider, "title": incident.title,
        "status": incident.status.value, "severity": incident.severity.value,
        "service": incident.service, "started_at": incident.started_at.isoformat(),
        "url": incident.url, "assignees": list(incident.assignees),
        "labels": dict(incident.labels),
    }
    if backend:
        data["backend"] = backend
    return data


def backends_of(raw_incidents: Sequence[object]) -> dict[str, str]:
    """Provider name → backend, from the incident snapshots of a stored note (those written
    before backends were recorded have none)."""
    found: dict[str, str] = {}
    for item in raw_incidents:
        if isinstance(item, Mapping):
            backend = item.get("backend")
            if isinstance(backend, str) and backend and len(backend) <= MAX_BACKEND_CHARS:
                found.setdefault(str(item.get("provider", "")), sanitize_line(backend))
    return found


def incident_from_dict(data: Mapping[str, Any]) -> Incident:
    """Rebuild an :class:`Incident` from :func:`incident_to_dict`'s snapshot.

    Raises:
        KeyError, TypeError, ValueError: the snapshot is damaged.
    """
    def enum_or(enum_type: Any, value: Any, default: Any) -> Any:
        try:
            return enum_type(value)
        except ValueError:
            return default

    service = data.get("service")
    url = data.get("url")
    return Incident(
        id=str(data["id"]), provider=str(data["provider"]), title=str(data.get("title", "")),
        status=enum_or(IncidentStatus, data.get("status"), IncidentStatus.TRIGGERED),
        severity=enum_or(Severity, data.get("severity"), Severity.UNKNOWN),
        service=str(service) if service is not None else None,
        started_at=parse_time(str(data["started_at"])),
        url=str(url) if url is not None else None,
        assignees=tuple(str(a) for a in (data.get("assignees") or ())),
        labels=MappingProxyType({str(k): str(v) for k, v in dict(data.get("labels") or {}).items()}),
    )


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; a naive one is taken as UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class TargetState:
    """Delivery of one note to one provider."""

    provider: str
    idempotency_key: str
    state: str = "pending"  # pending | delivered | failed | local
    reason: str | None = None
    attempted: bool = False
    """A request was sent without a recorded outcome (it may have reached the provider)."""
    attempts: int = 0
    """How many times it was sent (sets the backoff)."""
    next_try: datetime | None = None
    """Not before this (a retry's backoff, shared by every process on the store)."""
    attempt_owner: str | None = None
    """Which store connection sent the last attempt."""
    claim_owner: str | None = None
    """Which store connection is sending it right now (None: nobody)."""
    claim_pid: int | None = None
    claim_until: float | None = None
    """Wall-clock seconds when that claim lapses even if its process still runs."""


@dataclass
class NoteRecord:
    """One operator note (or pinned log line) and its delivery state per provider."""

    id: str
    at: datetime
    text: str
    incidents: tuple[Incident, ...]
    kind: str = "note"  # note | pin
    author: str = ""
    context: str = ""
    targets: dict[str, TargetState] = field(default_factory=dict)
    saved: bool = True  # False: kept in memory only because the store could not be written
    seq: int = 0  # creation order (ties at equal timestamps keep the order they were typed in)
    backends: dict[str, str] = field(default_factory=dict)
    """Provider name → the backend it talked to when the note was written (none recorded:
    a note from before backends were; it belongs to whatever backend the name points to)."""

    @property
    def state(self) -> str:
        """Overall state for the timeline: ``pending``, ``pending: reason`` (retrying),
        ``delivered``, ``failed: reason`` or ``local only``."""
        return overall_state(list(self.targets.values()))

    def state_for(self, provider: str) -> str:
        """The state of the delivery to one provider (the overall state when it has none)."""
        target = self.targets.get(provider)
        return overall_state([target]) if target is not None else self.state

    @property
    def undelivered(self) -> bool:
        """True while some provider still has to receive it."""
        return any(t.state == "pending" for t in self.targets.values())

    def to_event(self, only: Callable[[Incident], bool] | None = None) -> list[TimelineEvent]:
        """One timeline event per incident the note is for (those ``only`` keeps), with the
        state of the delivery to that incident's provider and the marker digest
        (``note_ref``) the provider's copy of the note will carry, so the timeline shows the
        note once."""
        text = self.text
        incidents = self.incidents or ()
        if incidents and only is not None:
            incidents = tuple(i for i in incidents if only(i))
            if not incidents:
                return []
        if not incidents:
            return [TimelineEvent(at=self.at, kind=self.kind, source="operator", text=text,
                                  id=self.id, state=self.state if self.saved else "not saved")]
        events: list[TimelineEvent] = []
        for inc in incidents:
            target = self.targets.get(inc.provider)
            events.append(TimelineEvent(
                at=self.at, kind=self.kind, source="operator", text=text, incident_id=inc.id,
                id=f"{self.id}:{inc.key}",
                state=self.state_for(inc.provider) if self.saved else "not saved",
                service=inc.service,
                note_ref=note_ref(target.idempotency_key, inc.id) if target else None))
        return events

    def to_json(self) -> dict[str, Any]:
        """The note as one JSON object (the legacy journal's and a parked note's format)."""
        return {
            "v": 1, "type": "note", "id": self.id, "at": self.at.isoformat(),
            "kind": self.kind, "text": self.text, "author": self.author,
            "context": self.context,
            "incidents": [incident_to_dict(i, self.backends.get(i.provider))
                          for i in self.incidents],
            "keys": {p: t.idempotency_key for p, t in self.targets.items()},
        }

    def incidents_json(self) -> list[dict[str, Any]]:
        """The incidents as stored (each with its provider's backend when recorded)."""
        return [incident_to_dict(i, self.backends.get(i.provider)) for i in self.incidents]


def overall_state(states: Sequence[TargetState]) -> str:
    """The one state shown for a set of deliveries (the worst one wins)."""
    failed = [t for t in states if t.state == "failed"]
    if failed:
        return f"failed: {failed[0].reason or 'unknown error'}"
    pending = [t for t in states if t.state == "pending"]
    if pending:
        reason = next((t.reason for t in pending if t.reason), None)
        return f"pending: {reason}" if reason else "pending"
    if any(t.state == "delivered" for t in states):
        return "delivered"
    return "local only"


@dataclass
class Draft:
    """The note being typed, saved while the editor is open."""

    text: str
    incident_keys: tuple[str, ...]
    saved_at: datetime
    incidents: tuple[Incident, ...] = ()
    """The incidents themselves when the draft file carries them (drafts saved by this version)."""


MAX_INCIDENTS_PER_NOTE = 200
MAX_ID_CHARS = 128


@dataclass(frozen=True)
class NoteScope:
    """The notes one cockpit shows and delivers: those written in its context (or in none: a
    note from before contexts were recorded) for the backends its providers talk to now.

    A note written in ``sim`` for ``pd`` at one simulator is not shown, counted or delivered by
    a cockpit whose ``pd`` is another simulator (same names, same incident ids), nor in
    another context; a provider this context does not configure (any more) keeps its notes
    visible, so their ``pending: provider … is not configured`` state is seen.
    """

    context: str = ""
    backends: Mapping[str, str] = field(default_factory=dict)
    """Provider name → backend, as :func:`~sre_cockpit.core.backends.backend_identity`."""

    def owns(self, record: NoteRecord) -> bool:
        """Whether the note was written in this context."""
        return not record.context or not self.context or record.context == self.context

    def owns_target(self, record: NoteRecord, provider: str) -> bool:
        """Whether the note's incidents of ``provider`` are this cockpit's: same context, and
        the backend they were written for is the one the provider talks to now."""
        if not self.owns(record):
            return False
        written = record.backends.get(provider)
        here = self.backends.get(provider)
        return written is None or here is None or written == here

    def events(self, record: NoteRecord) -> list[TimelineEvent]:
        """The note's timeline events this cockpit shows (none for another context or
        backend; an unattached note or pin of this context as itself)."""
        if not self.owns(record):
            return []
        return record.to_event(only=lambda incident: self.owns_target(record, incident.provider))

    def undelivered(self, record: NoteRecord) -> bool:
        """Whether the note still has a delivery to do here."""
        return any(target.state == "pending" and self.owns_target(record, provider)
                   for provider, target in record.targets.items())


def note_from_json(data: object, *, seq: int = 0, with_keys: bool = True) -> NoteRecord:
    """A note from its JSON form (:meth:`NoteRecord.to_json`), checked field by field.

    The text is neutralised again (a hand-edited or hostile file may carry escapes) and, with
    ``with_keys``, every incident's provider needs its idempotency key (without, the record
    has no targets: the store adds them from its delivery rows).

    Raises:
        KeyError, TypeError, ValueError: the record is damaged (the message says how).
    """
    if not isinstance(data, Mapping):
        raise TypeError("not a JSON object")
    note_id = str(data["id"])
    if not note_id or len(note_id) > MAX_ID_CHARS:
        raise ValueError("bad note id")
    raw_incidents = data.get("incidents") or []
    if not isinstance(raw_incidents, list) or len(raw_incidents) > MAX_INCIDENTS_PER_NOTE:
        raise ValueError("bad incident list")
    incidents = tuple(incident_from_dict(_mapping(i)) for i in raw_incidents)
    keys = _mapping(data.get("keys") or {})
    record = NoteRecord(
        id=note_id, at=parse_time(str(data["at"])), text=_clean_text(data["text"]),
        incidents=incidents, kind="pin" if data.get("kind") == "pin" else "note",
        author=sanitize_line(str(data.get("author", "")))[:200],
        context=sanitize_line(str(data.get("context", "")))[:200], seq=seq,
        backends=backends_of(raw_incidents))
    if not with_keys:
        return record
    for provider in dict.fromkeys(i.provider for i in incidents):
        key = keys.get(provider)
        if not isinstance(key, str) or not key or len(key) > MAX_ID_CHARS:
            raise ValueError(f"no idempotency key for provider {provider!r}")
        record.targets[provider] = TargetState(provider, key)
    return record


def _mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError("not a JSON object")
    return value


def _clean_text(value: object) -> str:
    """Neutralised text; an already clean note (even one cut with its ``…+N bytes`` marker)
    comes back unchanged."""
    text = str(value)
    size = len(text.encode("utf-8", "surrogatepass"))
    return sanitize(text, max_bytes=None if size <= MAX_NOTE_BYTES + 64 else MAX_NOTE_BYTES
                    ).strip("\n")
