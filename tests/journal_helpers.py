"""Fakes for the notes journal and outbox tests (incident-actions providers that record calls)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

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
