"""Fakes for the notes journal and outbox tests (incident-actions providers that record calls)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, TimelineEvent
from sre_cockpit.providers.base import (
    ActionPreview,
    ActionResult,
    ProviderError,
    SilenceRequest,
)

T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def incident(id: str = "P1", provider: str = "pd", service: str | None = "checkout") -> Incident:
    return Incident(id=id, provider=provider, title=f"{id} checkout errors",
                    status=IncidentStatus.TRIGGERED, severity=Severity.CRITICAL, service=service,
                    started_at=T0)


class FakeActions:
    """An IncidentActions provider that records notes; can fail or refuse notes."""

    def __init__(self, name: str = "pd", *, note_support: str | None = None,
                 failures: Sequence[ProviderError] = (), ok: bool = True) -> None:
        self.name = name
        self.note_support = note_support
        self.failures = list(failures)
        self.ok = ok
        self.calls: list[tuple[str, tuple[str, ...], str | None, str | None]] = []

    def supported_actions(self) -> Mapping[str, str | None]:
        return {"ack": None, "resolve": None, "note": self.note_support, "silence": "no"}

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None) -> ActionPreview:
        return ActionPreview(self.name, action, "POST", "/notes", {"note": text})

    async def perform(self, action: str, incidents: Sequence[Incident], *,
                      text: str | None = None, silence: SilenceRequest | None = None,
                      idempotency_key: str | None = None) -> ActionResult:
        if self.failures:
            raise self.failures.pop(0)
        self.calls.append((action, tuple(i.id for i in incidents), text, idempotency_key))
        return ActionResult(self.ok, "added" if self.ok else "rejected: note too long")


class FakeEvents:
    """An EventSource answering a fixed list of events."""

    def __init__(self, name: str, events: Sequence[TimelineEvent]) -> None:
        self.name = name
        self.events = list(events)

    async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]:
        return list(self.events)


class DiskFull:
    """Make the notes store behave as on a full disk: every write transaction fails the way
    SQLite fails (``SQLITE_FULL``) and new small files (drafts, parked notes) get ENOSPC.
    ``on()`` / ``off()`` switch it (a ``pytest.MonkeyPatch`` undoes it after the test)."""

    def __init__(self, monkeypatch: Any) -> None:
        import contextlib
        import errno
        import os
        import sqlite3

        from sre_cockpit.feeds.notes_store import safefile
        from sre_cockpit.feeds.notes_store.db import NotesDb

        self.full = False
        real_transaction = NotesDb.transaction
        real_open = os.open

        @contextlib.contextmanager
        def transaction(db: NotesDb) -> Any:
            if self.full:
                error = sqlite3.OperationalError("database or disk is full")
                error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
                error.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
                raise error
            with real_transaction(db) as conn:
                yield conn

        def open_(path: Any, flags: int, mode: int = 0o777) -> int:
            if self.full and flags & os.O_CREAT:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_open(path, flags, mode)

        monkeypatch.setattr(NotesDb, "transaction", transaction)
        monkeypatch.setattr(safefile.os, "open", open_)

    def on(self) -> None:
        """The disk is full from now on."""
        self.full = True

    def off(self) -> None:
        """Space again."""
        self.full = False
