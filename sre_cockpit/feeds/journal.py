"""Durable operator notes: a local JSON-lines journal written with fsync before any network call,
and an outbox that delivers the notes to incident providers with an idempotency key.

Every state transition is one appended line, so replaying the file rebuilds the state after a
crash, ``kill -9`` or a dropped SSH link:

- ``{"type": "note", ...}``: the note as typed, its target incidents and one idempotency key (a
  UUID) per target provider. Written and fsynced before anything is sent.
- ``{"type": "attempt", ...}``: a delivery is about to be sent (so a restart knows a request may
  have reached the provider and checks before sending again).
- ``{"type": "state", ...}``: ``delivered``, ``failed`` (with a reason) or ``local`` (the provider
  cannot take notes).

A journal that cannot be written (read-only directory, disk full, permission denied) raises
:class:`JournalError`; the note is kept in memory (``Journal.unsaved``) and offered again. Nothing
here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import random
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, TimelineEvent, utcnow
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.providers.base import EventSource, IncidentActions, ProviderError
from sre_cockpit.providers.incident_util import note_ref

JOURNAL_FILE = "notes.jsonl"
DRAFT_FILE = "draft.json"
LOCK_FILE = "outbox.lock"
MAX_NOTE_BYTES = 16_384
_VERSION = 1


class JournalError(Exception):
    """The journal could not be written. ``str(err)`` is one line for the operator."""

    def __init__(self, message: str, *, errno_: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_


def default_journal_dir(journal_dir: str | None = None) -> Path:
    """Where the journal lives: ``$SRE_COCKPIT_DATA_DIR``, else ``journal_dir`` from the config,
    else the platform data dir (``platformdirs.user_data_dir("sre-cockpit")``)."""
    env = os.environ.get("SRE_COCKPIT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if journal_dir:
        return Path(journal_dir).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("sre-cockpit"))


def describe_os_error(exc: OSError, what: str) -> str:
    """One line naming the failure in terms an operator acts on."""
    reasons = {errno.ENOSPC: "disk full", errno.EROFS: "read-only file system",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EDQUOT: "disk quota exceeded", errno.EIO: "I/O error"}
    reason = reasons.get(exc.errno or 0) or (exc.strerror or type(exc).__name__)
    return sanitize_line(f"cannot write the notes journal {what}: {reason}")


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """A JSON snapshot of the incident a note is for (enough to deliver it after a restart)."""
    return {
        "id": incident.id, "provider": incident.provider, "title": incident.title,
        "status": incident.status.value, "severity": incident.severity.value,
        "service": incident.service, "started_at": incident.started_at.isoformat(),
        "url": incident.url, "assignees": list(incident.assignees),
        "labels": dict(incident.labels),
    }


def incident_from_dict(data: Mapping[str, Any]) -> Incident:
    """Rebuild an :class:`Incident` from :func:`incident_to_dict`'s snapshot."""
    def enum_or(enum_type: Any, value: Any, default: Any) -> Any:
        try:
            return enum_type(value)
        except ValueError:
            return default

    return Incident(
        id=str(data["id"]), provider=str(data["provider"]), title=str(data.get("title", "")),
        status=enum_or(IncidentStatus, data.get("status"), IncidentStatus.TRIGGERED),
        severity=enum_or(Severity, data.get("severity"), Severity.UNKNOWN),
        service=data.get("service"), started_at=_parse_time(str(data["started_at"])),
        url=data.get("url"), assignees=tuple(data.get("assignees") or ()),
        labels=MappingProxyType(dict(data.get("labels") or {})),
    )


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class TargetState:
    """Delivery of one note to one provider."""

    provider: str
    idempotency_key: str
    state: str = "pending"  # pending | delivered | failed | local
    reason: str | None = None
    attempted: bool = False  # an attempt was recorded without an outcome (maybe in flight)
    attempts: int = 0
    next_try: datetime | None = None


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
    saved: bool = True  # False: kept in memory only because the journal could not be written
    seq: int = 0  # creation order (ties at equal timestamps keep the order they were typed in)

    @property
    def state(self) -> str:
        """Overall state for the timeline: ``pending``, ``pending: reason`` (retrying),
        ``delivered``, ``failed: reason`` or ``local only``."""
        return _overall_state(list(self.targets.values()))

    def state_for(self, provider: str) -> str:
        """The state of the delivery to one provider (the overall state when it has none)."""
        target = self.targets.get(provider)
        return _overall_state([target]) if target is not None else self.state

    @property
    def undelivered(self) -> bool:
        """True while some provider still has to receive it."""
        return any(t.state == "pending" for t in self.targets.values())

    def to_event(self) -> list[TimelineEvent]:
        """One timeline event per incident the note is for, with the state of the delivery to
        that incident's provider and the marker digest (``note_ref``) the provider's copy of
        the note will carry, so the timeline shows the note once."""
        text = self.text
        incidents = self.incidents or ()
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


def _overall_state(states: Sequence[TargetState]) -> str:
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


class Journal:
    """Append-only JSON-lines journal of operator notes, replayed on start."""

    def __init__(self, directory: Path | str, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.directory = Path(directory)
        self.path = self.directory / JOURNAL_FILE
        self.draft_path = self.directory / DRAFT_FILE
        self.clock = clock
        self.records: dict[str, NoteRecord] = {}
        self.unsaved: list[NoteRecord] = []
        """Notes the disk refused; shown and offered again, never dropped silently."""
        self.last_error: str | None = None
        self.skipped_lines = 0
        self._listeners: list[Callable[[], None]] = []
        self._seq = 0

    @classmethod
    def for_config(cls, journal_dir: str | None = None, *,
                   clock: Callable[[], datetime] = utcnow) -> Journal:
        """The journal in the configured/default directory, already replayed."""
        journal = cls(default_journal_dir(journal_dir), clock=clock)
        journal.replay()
        return journal

    # -- listeners ---------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every state change (the timeline pane re-renders)."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            with contextlib.suppress(Exception):
                callback()

    # -- low-level durable writes ---------------------------------------------------------------

    def _ensure_dir(self) -> None:
        if self.directory.is_dir():
            return
        missing: list[Path] = []
        path = self.directory
        while not path.exists():
            missing.append(path)
            path = path.parent
        for item in reversed(missing):
            os.mkdir(item, 0o700)
            _fsync_dir(item.parent)

    def _append(self, record: Mapping[str, Any], what: str) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        try:
            self._ensure_dir()
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(line)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.directory)
        except OSError as exc:
            message = describe_os_error(exc, what)
            self.last_error = message
            raise JournalError(message, errno_=exc.errno) from exc
        self.last_error = None

    # -- replay ------------------------------------------------------------------------------

    def replay(self) -> None:
        """Rebuild every note's state from the file (a torn last line is skipped)."""
        self.records.clear()
        self.skipped_lines = 0
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.last_error = sanitize_line(f"cannot read the notes journal: {exc.strerror}")
            return
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                self._apply(json.loads(line))
            except (ValueError, KeyError, TypeError):
                self.skipped_lines += 1

    def _apply(self, data: Mapping[str, Any]) -> None:
        kind = data["type"]
        if kind == "note":
            incidents = tuple(incident_from_dict(i) for i in data.get("incidents", []))
            record = NoteRecord(
                id=str(data["id"]), at=_parse_time(str(data["at"])), text=str(data["text"]),
                incidents=incidents, kind=str(data.get("kind", "note")),
                author=str(data.get("author", "")), context=str(data.get("context", "")),
                seq=self._next_seq(),
            )
            for provider, key in dict(data.get("keys", {})).items():
                record.targets[str(provider)] = TargetState(str(provider), str(key))
            self.records[record.id] = record
            return
        record = self.records[str(data["id"])]
        target = record.targets[str(data["provider"])]
        if kind == "attempt":
            target.attempted = True  # attempts are counted per process: a restart retries
        elif kind == "state":
            target.state = str(data["state"])
            target.reason = data.get("reason")
            target.attempted = False

    # -- notes -------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def notes(self) -> list[NoteRecord]:
        """Every note (saved and unsaved), oldest first."""
        return sorted([*self.records.values(), *self.unsaved], key=lambda r: (r.at, r.seq))

    def add_note(self, text: str, incidents: Sequence[Incident], *, kind: str = "note",
                 author: str = "", context: str = "") -> NoteRecord:
        """Durably record a note before anything is sent.

        Raises:
            JournalError: the journal could not be written; the note is kept in ``unsaved`` and
                :meth:`retry_unsaved` offers it again.
        """
        clean = sanitize(text, max_bytes=MAX_NOTE_BYTES).strip("\n")
        record = NoteRecord(
            id=str(uuid.uuid4()), at=self.clock(), text=clean, incidents=tuple(incidents),
            kind=kind, author=author, context=context, seq=self._next_seq(),
        )
        for provider in dict.fromkeys(i.provider for i in incidents):
            record.targets[provider] = TargetState(provider, str(uuid.uuid4()))
        return self._save(record)

    def _save(self, record: NoteRecord) -> NoteRecord:
        payload = {
            "v": _VERSION, "type": "note", "id": record.id, "at": record.at.isoformat(),
            "kind": record.kind, "text": record.text, "author": record.author,
            "context": record.context,
            "incidents": [incident_to_dict(i) for i in record.incidents],
            "keys": {p: t.idempotency_key for p, t in record.targets.items()},
        }
        try:
            self._append(payload, "(the note is kept in memory; retry to save it)")
        except JournalError:
            record.saved = False
            if record not in self.unsaved:
                self.unsaved.append(record)
            self._changed()
            raise
        record.saved = True
        if record in self.unsaved:
            self.unsaved.remove(record)
        self.records[record.id] = record
        self._changed()
        return record

    def retry_unsaved(self) -> list[NoteRecord]:
        """Try again to write the notes the disk refused.

        Raises:
            JournalError: still failing (the notes stay in ``unsaved``).
        """
        saved: list[NoteRecord] = []
        for record in list(self.unsaved):
            saved.append(self._save(record))
        return saved

    def mark_attempt(self, note_id: str, provider: str) -> None:
        """Record that a delivery is about to be sent (before the network call)."""
        target = self.records[note_id].targets[provider]
        target.attempted = True
        target.attempts += 1
        self._append({"v": _VERSION, "type": "attempt", "id": note_id, "provider": provider,
                      "at": self.clock().isoformat()}, "(delivery attempt)")

    def mark(self, note_id: str, provider: str, state: str, reason: str | None = None) -> None:
        """Record a delivery outcome (``delivered``, ``failed``, ``local`` or ``pending``).

        The in-memory state changes even when the disk refuses the line (the error is kept in
        ``last_error``), so the screen never lies about what happened in this process.
        """
        target = self.records[note_id].targets[provider]
        target.state = state
        target.reason = sanitize_line(reason) if reason else None
        if state != "pending":
            target.attempted = False
            try:
                self._append({"v": _VERSION, "type": "state", "id": note_id,
                              "provider": provider, "state": state, "reason": target.reason,
                              "at": self.clock().isoformat()}, "(delivery state)")
            finally:
                self._changed()
        else:
            self._changed()

    def requeue(self, note_id: str) -> bool:
        """Offer a failed note for delivery again (the operator asked to retry).

        Returns:
            True when something was re-queued.

        Raises:
            JournalError: the journal could not be written.
        """
        record = self.records.get(note_id)
        if record is None:
            return False
        again = [t for t in record.targets.values() if t.state == "failed"]
        for target in again:
            self._append({"v": _VERSION, "type": "state", "id": note_id,
                          "provider": target.provider, "state": "pending", "reason": None,
                          "at": self.clock().isoformat()}, "(retry)")
            target.state, target.reason, target.attempts, target.next_try = "pending", None, 0, None
        if again:
            self._changed()
        return bool(again)

    def pending(self, context: str | None = None) -> list[tuple[NoteRecord, TargetState]]:
        """Deliveries still to do (optionally only the notes of one context), oldest first."""
        out: list[tuple[NoteRecord, TargetState]] = []
        for record in sorted(self.records.values(), key=lambda r: (r.at, r.seq)):
            if context is not None and record.context and record.context != context:
                continue
            out.extend((record, t) for t in record.targets.values() if t.state == "pending")
        return out

    def pending_count(self) -> int:
        """Notes not yet safe: undelivered or not even saved (``q`` asks before quitting)."""
        undelivered = sum(1 for r in self.records.values() if r.undelivered)
        return undelivered + len(self.unsaved)

    def events(self) -> list[TimelineEvent]:
        """The notes as timeline events (one per target incident)."""
        return [event for record in self.notes() for event in record.to_event()]

    # -- drafts ------------------------------------------------------------------------------

    def draft_path_for(self, incident_keys: Iterable[str] = ()) -> Path:
        """One draft file per set of target incidents (``draft.json`` for none), so a draft for
        one incident never overwrites another's."""
        keys = sorted(set(incident_keys))
        if not keys:
            return self.draft_path
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
        return self.directory / f"draft-{digest}.json"

    def save_draft(self, text: str, incident_keys: Iterable[str] = ()) -> None:
        """Atomically save the note being typed (tmp file, fsync, rename, fsync the directory).

        Raises:
            JournalError: the draft could not be written.
        """
        keys = list(incident_keys)
        target = self.draft_path_for(keys)
        payload = json.dumps({"text": text, "incidents": keys,
                              "saved_at": self.clock().isoformat()}, ensure_ascii=False)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            self._ensure_dir()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, payload.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
            _fsync_dir(self.directory)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            message = describe_os_error(exc, "(draft)")
            self.last_error = message
            raise JournalError(message, errno_=exc.errno) from exc

    def load_draft(self, incident_keys: Iterable[str] | None = None) -> Draft | None:
        """The saved draft for these incidents (None: the most recent draft of any), or None."""
        if incident_keys is not None:
            return _read_draft(self.draft_path_for(incident_keys))
        drafts = [d for d in (_read_draft(p) for p in self.directory.glob("draft*.json"))
                  if d is not None]
        return max(drafts, key=lambda d: d.saved_at) if drafts else None

    def drafts(self) -> list[Draft]:
        """Every unsent draft, oldest first."""
        found = [d for d in (_read_draft(p) for p in self.directory.glob("draft*.json"))
                 if d is not None]
        return sorted(found, key=lambda d: d.saved_at)

    def clear_draft(self, incident_keys: Iterable[str] = ()) -> None:
        """Forget a draft (after the note was journalled or the operator discarded it)."""
        with contextlib.suppress(OSError):
            self.draft_path_for(incident_keys).unlink()

    def flush(self) -> None:
        """Make sure everything written is on disk (every append is already fsynced; this also
        syncs the directory so a just-created file survives a power cut)."""
        with contextlib.suppress(OSError):
            if self.path.exists():
                fd = os.open(self.path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            _fsync_dir(self.directory)


def _read_draft(path: Path) -> Draft | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Draft(text=str(data["text"]), incident_keys=tuple(data.get("incidents", ())),
                     saved_at=_parse_time(str(data["saved_at"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


class Outbox:
    """Delivers journalled notes to the incident providers, with backoff, exactly once.

    A provider's ``perform("note", ...)`` tells temporary from permanent failures: a retryable
    :class:`ProviderError` (network error, deadline, 5xx, 429 as ``RateLimitedError``), a
    timeout or an unexpected exception keeps the note ``pending: <reason>`` and retries it with
    capped, jittered exponential backoff (``base_delay`` doubling up to ``max_delay``, at least
    the server's ``retry_after``) for as long as it takes; a non-retryable ``ProviderError`` or
    a not-ok result (400 invalid input, 401, 403, 404) marks it ``failed: <reason>`` at once,
    and the operator re-queues it (``r`` in the timeline, :meth:`Journal.requeue`).

    Exactly once rests on three things: the idempotency key stored with the note (sent with every
    attempt), an ``attempt`` line written before each request, and, when a previous process died
    with a request in flight, a look at the provider's own notes (``EventSource``) before sending
    again. A file lock keeps two cockpits sharing a journal from delivering the same note twice.
    """

    def __init__(self, journal: Journal, actions: Mapping[str, IncidentActions], *,
                 context: str | None = None, configured: Collection[str] | None = None,
                 events: Mapping[str, EventSource] | None = None,
                 clock: Callable[[], datetime] = utcnow, base_delay: float = 2.0,
                 max_delay: float = 120.0, timeout: float = 30.0,
                 read_only: bool = False) -> None:
        self.journal = journal
        self.actions = actions
        self.context = context
        self.configured = set(configured) if configured is not None else set(actions)
        self.events = events or {}
        self.clock = clock
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.read_only = read_only
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now (a note was just added)."""
        self._wake.set()

    async def deliver_once(self) -> int:
        """Try every due delivery once. Returns how many deliveries are still pending."""
        async with self._lock:
            lock_fd = self._take_file_lock()
            if lock_fd is False:
                return len(self.journal.pending(self.context))
            try:
                now = self.clock()
                for record, target in self.journal.pending(self.context):
                    if target.next_try is not None and target.next_try > now:
                        continue
                    await self._deliver(record, target)
            finally:
                if isinstance(lock_fd, int):
                    os.close(lock_fd)
            return len(self.journal.pending(self.context))

    def _take_file_lock(self) -> int | bool | None:
        try:
            self.journal._ensure_dir()
            fd = os.open(self.journal.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None  # no lock possible (read-only dir): deliver anyway, single process
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        return fd

    async def _deliver(self, record: NoteRecord, target: TargetState) -> None:
        name = target.provider
        provider = self.actions.get(name)
        if provider is None:
            if name in self.configured:
                self._mark(record, name, "local", "provider cannot take notes")
            else:
                self._retry_later(record, target, f"provider {name} is not configured")
            return
        if self.read_only:
            self._mark(record, name, "local", "read-only context")
            return
        support = provider.supported_actions().get("note", "notes not supported")
        if support is not None:
            self._mark(record, name, "local", support)
            return
        incidents = [i for i in record.incidents if i.provider == name]
        # A request a previous process left in flight may have arrived: look before resending.
        # (Retries within this process rely on the idempotency key, sparing a rate-limited
        # provider a full event listing per retry.)
        if target.attempted and target.attempts == 0 and await self._already_there(record, name):
            self._mark(record, name, "delivered")
            return
        try:
            self.journal.mark_attempt(record.id, name)
        except JournalError as exc:
            self._retry_later(record, target, str(exc))
            return
        try:
            async with asyncio.timeout(self.timeout):
                result = await provider.perform("note", incidents, text=record.text,
                                                idempotency_key=target.idempotency_key)
        except ProviderError as exc:
            if exc.retryable:
                self._retry_later(record, target, str(exc), exc.retry_after)
            else:
                self._mark(record, name, "failed", str(exc))
            return
        except TimeoutError:
            self._retry_later(record, target, f"no answer from {name} in {self.timeout:g}s")
            return
        except Exception as exc:  # a plugin bug must not kill the outbox
            self._retry_later(record, target, f"{type(exc).__name__}: {exc}")
            return
        if result.ok:
            self._mark(record, name, "delivered")
        else:  # a refusal: temporary failures are raised as retryable ProviderError
            self._mark(record, name, "failed", result.message or f"{name} refused the note")

    def _mark(self, record: NoteRecord, provider: str, state: str,
              reason: str | None = None) -> None:
        with contextlib.suppress(JournalError):
            self.journal.mark(record.id, provider, state, reason)

    def _retry_later(self, record: NoteRecord, target: TargetState, reason: str,
                     retry_after: float | None = None) -> None:
        target.attempts += 0 if target.attempted else 1
        delay = min(self.max_delay, self.base_delay * 2 ** min(target.attempts, 10))
        delay = random.uniform(delay / 2, delay)  # jitter
        if retry_after:
            delay = max(delay, min(retry_after, self.max_delay))
        target.next_try = self.clock() + timedelta(seconds=delay)
        self.journal.mark(record.id, target.provider, "pending", reason)

    async def _already_there(self, record: NoteRecord, provider: str) -> bool:
        source = self.events.get(provider)
        if source is None:
            return False
        try:
            async with asyncio.timeout(self.timeout):
                seen = await source.list_events(record.at - timedelta(minutes=5), None)
        except Exception:  # cannot check: send again, the idempotency key protects us
            return False
        ids = {i.id for i in record.incidents if i.provider == provider}
        key = record.targets[provider].idempotency_key
        refs = {note_ref(key, i): i for i in ids}
        wanted = " ".join(record.text.split()).casefold()
        found: set[str] = set()
        for event in seen:
            if event.kind != "note" or (event.incident_id is not None
                                        and event.incident_id not in ids):
                continue
            if event.note_ref is not None:  # a note sent by a cockpit: its marker decides
                if event.note_ref in refs:
                    found.add(refs[event.note_ref])
            elif " ".join(event.text.split()).casefold().endswith(wanted):
                found.update([event.incident_id] if event.incident_id else ids)
        return bool(ids) and found >= ids  # every incident has it, else send (the key dedupes)

    def next_due(self) -> float:
        """Seconds until the next pending delivery is due (``max_delay`` when none)."""
        now = self.clock()
        waits = [max(0.0, (t.next_try - now).total_seconds()) if t.next_try else 0.0
                 for _, t in self.journal.pending(self.context)]
        return min(waits) if waits else self.max_delay

    async def run(self) -> None:
        """Deliver forever: now, then whenever woken or a retry is due. Never raises."""
        while True:
            try:
                await self.deliver_once()
            except Exception as exc:  # keep going; the state shows the reason
                self.journal.last_error = sanitize_line(f"outbox: {type(exc).__name__}: {exc}")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.2, self.next_due())):
                    await self._wake.wait()
