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

from sre_cockpit.core.actions import ONCALL_ACTIONS as ONCALL_ACTIONS
from sre_cockpit.core.actions import ActionArgs as ActionArgs
from sre_cockpit.core.actions import ActionPreview as ActionPreview  # re-exported for plugins
from sre_cockpit.core.actions import ActionResult as ActionResult
from sre_cockpit.core.actions import Assignee as Assignee
from sre_cockpit.core.actions import AssigneeKind as AssigneeKind
from sre_cockpit.core.actions import EscalationLevel as EscalationLevel
from sre_cockpit.core.actions import SilenceRequest as SilenceRequest
from sre_cockpit.core.actions import args_problem as args_problem
from sre_cockpit.core.backends import backend_identity
from sre_cockpit.core.logpatterns import PatternReport
from sre_cockpit.core.models import (
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

    @property
    def timeout_s(self) -> float:
        """How long one call to the backend may take, in seconds: the provider's ``timeout``
        option when its options have one (a number of seconds), else 10. The feeds build every
        deadline from it (``feeds/policy.py``)."""
        timeout = getattr(self.options, "timeout", None)
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
            return float(timeout)
        return 10.0

    @property
    def backend(self) -> str:
        """Which backend this provider talks to (half of an incident's identity: a note or pin
        belongs to the provider name, this backend and the incident's id). By default the
        ``type:`` and the ``url`` option when the options have one (credentials, query and
        fragment left out): :func:`~sre_cockpit.core.backends.backend_identity`. Override when
        one URL serves several backends (a page or project id)."""
        url = getattr(self.options, "url", None)
        return backend_identity(self.TYPE or type(self).__name__,
                                url if isinstance(url, str) else None)

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
class LogLabelSource(Protocol):
    """Label names and values of the log streams (the label browser)."""

    name: str

    async def labels(self, start_ns: int | None = None, end_ns: int | None = None, *,
                     query: str | None = None) -> list[str]: ...

    async def label_values(self, name: str, start_ns: int | None = None,
                           end_ns: int | None = None, *, query: str | None = None) -> list[str]: ...


@runtime_checkable
class LogVolumeSource(Protocol):
    """Log lines per step by level for a log query (the volume strip)."""

    name: str

    async def volume(self, query: str, start_ns: int, end_ns: int,
                     step_s: float) -> list[MetricSeries]: ...


@runtime_checkable
class LogPatternSource(Protocol):
    """Server-side log patterns; ``patterns`` answers ``None`` when the server has none to
    offer (the caller mines the buffer itself)."""

    name: str

    async def patterns(self, query: str, start_ns: int, end_ns: int,
                       step_s: float | None = None) -> PatternReport | None: ...


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


@runtime_checkable
class EventKinds(Protocol):
    """An ``EventSource`` that says which kinds of timeline events it gives. One whose kinds
    hold no incident lifecycle kind (``core.timeline.LIFECYCLE_KINDS``: trigger, acknowledge,
    resolve…) leaves the cockpit recording its incidents' starts and ends itself (Alertmanager,
    whose events are silences). An ``EventSource`` that does not say is taken to report its
    incidents' lifecycle itself (PagerDuty's log entries)."""

    @property
    def event_kinds(self) -> frozenset[str]: ...


# ---------------------------------------------------------------------------------------------
# Optional capabilities. A feed checks each with ``isinstance`` (never ``getattr`` or a type
# name); a provider that does not implement one simply does not get the feature.


class QueryError(ProviderError):
    """The backend refused the query itself (PromQL/LogQL syntax or semantics): the message is
    the backend's own, shown verbatim, and the SLO or the log query is marked in error."""


class TailRefused(ProviderError):
    """A live tail's upgrade was answered with a plain HTTP status (proxy, auth, 400): the
    stream falls back to polling."""


class TailClosed(ProviderError):
    """A live tail ended (server close, network error or silence): the stream reconnects."""

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        super().__init__(message, retryable=True)
        self.code = code
        self.reason = reason


@runtime_checkable
class OnCallSource(Protocol):
    """Knows who is on call (PagerDuty ``/oncalls``). Asked every few minutes with the poll."""

    async def oncall(self) -> list[str]: ...


@runtime_checkable
class NoticeSource(Protocol):
    """Has a notice about its last answer (e.g. "showing the first 10,000 incidents"), shown on
    the incidents pane's source line; None when there is nothing to say."""

    @property
    def notice(self) -> str | None: ...


@runtime_checkable
class SilenceDefaults(Protocol):
    """Proposes the silence for a set of alerts (matchers, duration), which the form starts
    from. Without it the form starts empty."""

    def default_silence(self, incidents: Sequence[Incident], *,
                        comment: str = "") -> SilenceRequest: ...


@runtime_checkable
class DeploySource(Protocol):
    """Gives deploy events from a query (``contexts.<ctx>.deploys`` with a metrics provider)."""

    async def deploy_events(self, query: str, version_label: str, since: datetime,
                            until: datetime, service: str | None = None, *,
                            service_label: str | None = None) -> list[TimelineEvent]: ...


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One decoded metric answer with everything the engine said.

    Attributes:
        result_type: ``vector``, ``matrix``, ``scalar`` or ``string``.
        samples: instant samples (vector, scalar).
        series: range series (matrix).
        string: a string result.
        warnings: the engine's warnings, verbatim.
        sent: the parameters exactly as sent.
    """

    result_type: str
    samples: tuple[MetricSample, ...] = ()
    series: tuple[MetricSeries, ...] = ()
    string: str | None = None
    warnings: tuple[str, ...] = ()
    sent: Mapping[str, str] = field(default_factory=empty_mapping)


@runtime_checkable
class DetailedMetricSource(Protocol):
    """A metrics provider that reports result types and engine warnings (Prometheus), and says
    whether range queries should be aligned to their step (query-frontend caches)."""

    @property
    def step_align(self) -> bool: ...

    async def query(self, query: str, at: datetime | None = None) -> MetricResult: ...

    async def query_range(self, query: str, start: datetime, end: datetime,
                          step_s: float) -> MetricResult: ...


@dataclass(frozen=True, slots=True)
class TailSettings:
    """How a provider wants its live tail run (None: the stream's default)."""

    tail_mode: str | None = None  # auto | websocket | poll
    max_tail_duration: float | None = None
    poll_interval: float | None = None
    resume_overlap: float | None = None
    websocket_retry: float | None = None
    page_limit: int | None = None


@runtime_checkable
class TailTuning(Protocol):
    """A log source with its own tail settings (Loki's ``tail``, ``poll_interval``…)."""

    def tail_settings(self) -> TailSettings: ...


@runtime_checkable
class ClockSkew(Protocol):
    """Measures how far the backend's clock runs ahead of ours (seconds; None when unknown),
    so its events are placed correctly on the timeline."""

    @property
    def clock_offset(self) -> float | None: ...


# =============================================================================================
# On-call actions (issue 13): optional capabilities for reassign and escalate. The values
# (ActionArgs, Assignee, EscalationLevel, ONCALL_ACTIONS) live in core/actions.py.
# =============================================================================================

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


@runtime_checkable
class IncidentLookup(Protocol):
    """Fetches one incident by id, resolved ones included (PagerDuty ``GET /incidents/{id}``),
    so a postmortem can be written after the incident left the open list."""

    async def get_incident(self, incident_id: str) -> Incident | None: ...
