"""Capability protocols every provider plugin implements a subset of.

A provider class declares ``TYPE`` (the ``type:`` in the config), ``Options`` (a strict pydantic
model validated at config-load time) and ``CAPABILITIES``. The cockpit checks capabilities with
``isinstance(p, IncidentSource)`` etc. (the protocols are runtime-checkable) and greys out what a
provider cannot do. Nothing here imports Textual.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from sre_cockpit.models import (
    Incident,
    LogLine,
    MetricSample,
    MetricSeries,
    ProbeResult,
    TimelineEvent,
    empty_mapping,
)


class Capability(enum.StrEnum):
    """What a provider can do."""

    INCIDENTS = "incidents"
    INCIDENT_ACTIONS = "incident_actions"
    LOGS = "logs"
    METRICS = "metrics"
    EVENTS = "events"


class StrictModel(BaseModel):
    """Base for every options model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderError(Exception):
    """A provider call failed. ``str(err)`` is one line, already redacted, fit for a pane."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds, when the server told us (429 / Retry-After)


class RateLimitedError(ProviderError):
    """The backend answered 429; ``retry_after`` says how long to wait (capped)."""


@dataclass(frozen=True, slots=True)
class ProviderEnv:
    """What the cockpit tells every provider at construction."""

    context: str = "default"
    user: str = "sre-cockpit"  # createdBy for silences, author of notes
    read_only: bool = False


class Provider:
    """Base class of every provider. Subclasses set the three class attributes."""

    TYPE: ClassVar[str] = ""
    Options: ClassVar[type[StrictModel]] = StrictModel
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, name: str, options: Any, env: ProviderEnv | None = None) -> None:
        self.name = name
        self.options = options
        self.env = env or ProviderEnv()

    async def probe(self) -> ProbeResult:
        """Check the backend answers (for ``sre-cockpit check``)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release connections."""


@runtime_checkable
class IncidentSource(Protocol):
    """Lists open (and optionally recently resolved) incidents."""

    name: str

    async def list_incidents(self) -> list[Incident]: ...


@dataclass(frozen=True, slots=True)
class ActionPreview:
    """Exactly what an action will send, shown in the confirm dialog."""

    provider: str
    action: str  # ack | resolve | note | silence | expire_silence | ONCALL_ACTIONS (below)
    method: str
    endpoint: str  # URL without secrets
    payload: Any  # JSON-serialisable body


@dataclass(frozen=True, slots=True)
class ActionResult:
    """Outcome of an action; ``message`` is shown in a toast."""

    ok: bool
    message: str
    updated: tuple[Incident, ...] = ()  # optimistic new versions of the rows
    retry_after: float | None = None  # seconds, when the backend rate-limited the action (429)


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """A silence chosen in the dialog."""

    matchers: tuple[tuple[str, str, bool, bool], ...]  # (name, value, is_regex, is_equal)
    duration_s: float
    comment: str
    created_by: str


@runtime_checkable
class IncidentActions(Protocol):
    """Changes incidents. ``supported_actions`` maps every action name the cockpit knows
    (ack, resolve, note, silence, expire_silence, and the on-call actions of
    ``ONCALL_ACTIONS``) to ``None`` when supported, or to the reason it is not (shown greyed
    out). ``args`` carries the on-call actions' parameters; the cockpit passes it only for those
    actions, so a provider written before they existed keeps working unchanged."""

    name: str

    def supported_actions(self) -> Mapping[str, str | None]: ...

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None,
                args: ActionArgs | None = None) -> ActionPreview: ...

    async def perform(self, action: str, incidents: Sequence[Incident], *,
                      text: str | None = None, silence: SilenceRequest | None = None,
                      idempotency_key: str | None = None,
                      args: ActionArgs | None = None) -> ActionResult: ...


@dataclass(frozen=True, slots=True)
class TailMessage:
    """One message of a live tail: lines plus what the server says it dropped."""

    lines: tuple[LogLine, ...]
    dropped: int = 0  # dropped_entries reported by the server in this message
    info: Mapping[str, str] = field(default_factory=empty_mapping)


@runtime_checkable
class LogSource(Protocol):
    """Range queries and a live tail (Loki)."""

    name: str

    @property
    def default_query(self) -> str: ...

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]: ...

    def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]: ...


@runtime_checkable
class MetricSource(Protocol):
    """PromQL instant and range queries."""

    name: str

    async def instant(self, query: str, at: datetime | None = None) -> list[MetricSample]: ...

    async def range(self, query: str, start: datetime, end: datetime,
                    step_s: float) -> list[MetricSeries]: ...


@runtime_checkable
class EventSource(Protocol):
    """Timeline events (PagerDuty log entries, deploys, …)."""

    name: str

    async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]: ...


# =============================================================================================
# On-call actions (issue 13): reassign, escalate, snooze and a stakeholder status update.
# Everything above keeps its meaning; these additions are optional for every provider.
# =============================================================================================

ONCALL_ACTIONS: tuple[str, ...] = ("reassign", "escalate", "snooze", "status_update")
"""The actions that take an :class:`ActionArgs` (``args=`` of ``preview`` and ``perform``).
A provider that lists one of them in ``supported_actions`` with ``None`` accepts ``args``."""


class AssigneeKind(enum.StrEnum):
    """What an incident can be reassigned to."""

    USER = "user"
    ESCALATION_POLICY = "escalation_policy"


@dataclass(frozen=True, slots=True)
class Assignee:
    """One reassign target, as the backend's directory lists it."""

    id: str
    """The backend's id (sent in the request)."""
    kind: AssigneeKind
    name: str
    """What a person reads (the user's or the policy's name)."""
    detail: str | None = None
    """A user's email, a policy's description: tells two people with the same name apart."""
    levels: int | None = None
    """An escalation policy's number of levels, when the directory says."""

    @property
    def label(self) -> str:
        """One line for a picker: ``Dana Whitfield <dana@example.com>`` or
        ``Shop Primary (escalation policy, 2 levels)``."""
        if self.kind is AssigneeKind.USER:
            return f"{self.name} <{self.detail}>" if self.detail else self.name
        extra = "escalation policy"
        if self.levels is not None:
            extra += f", {self.levels} level{'s' if self.levels != 1 else ''}"
        return f"{self.name} ({extra})"


@dataclass(frozen=True, slots=True)
class ActionArgs:
    """The parameters of the on-call actions; each action reads its own field."""

    assignee: Assignee | None = None
    """reassign: the user or escalation policy chosen from :class:`AssigneeDirectory`."""
    level: int | None = None
    """escalate: the escalation level to escalate to (1 is the first level)."""
    duration_s: float | None = None
    """snooze: how long, in seconds."""
    message: str | None = None
    """status_update: the text stakeholders receive."""

    def problem(self, action: str) -> str | None:
        """Why these arguments cannot drive ``action`` (one line), or None when they can."""
        if action == "reassign" and (self.assignee is None or not self.assignee.id.strip()):
            return "reassign needs an assignee (a user or an escalation policy)"
        if action == "escalate" and (self.level is None or self.level < 1):
            return "escalate needs an escalation level (1 or more)"
        if action == "snooze" and (self.duration_s is None or not self.duration_s > 0
                                   or self.duration_s == float("inf")):
            return "snooze needs a positive duration"
        if action == "status_update" and not (self.message or "").strip():
            return "a status update needs a message"
        return None


def args_problem(action: str, args: ActionArgs | None) -> str | None:
    """:meth:`ActionArgs.problem` for a possibly missing ``args`` (None for other actions)."""
    if action not in ONCALL_ACTIONS:
        return None
    return (args or ActionArgs()).problem(action)


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """One level (rule) of an incident's escalation policy."""

    level: int
    """1 for the first level."""
    targets: tuple[str, ...]
    """Who the level notifies, by name (users and schedules, as the backend lists them)."""
    delay_minutes: int | None = None
    """Minutes before the policy escalates past this level."""


@runtime_checkable
class AssigneeDirectory(Protocol):
    """Optional: who an incident can be reassigned to, searched by name.

    ``search_assignees("")`` lists the first page of every kind. Raises ``ProviderError`` (one
    line) when the directory cannot answer, e.g. a ``type: http`` provider without
    ``assignee_search``; the reassign dialog then takes a typed id instead.
    """

    name: str

    async def search_assignees(self, query: str) -> list[Assignee]: ...


@runtime_checkable
class EscalationPolicyReader(Protocol):
    """Optional: the levels of an incident's escalation policy (for the escalate dialog)."""

    name: str

    async def escalation_levels(self, incident: Incident) -> list[EscalationLevel]: ...
