"""Values that cross the provider → core → UI boundary.

Every provider returns these frozen dataclasses; widgets only ever see these. Nothing here imports
Textual or does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

EMPTY: Mapping[str, str] = MappingProxyType({})


def empty_mapping() -> Mapping[str, str]:
    return EMPTY


class Severity(enum.StrEnum):
    """Normalised incident severity, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """0 for critical … 4 for unknown (sort key)."""
        return _SEVERITY_RANKS[self]


class IncidentStatus(enum.StrEnum):
    """Normalised incident status."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def rank(self) -> int:
        """0 for triggered … 2 for resolved (sort key)."""
        return _STATUS_RANKS[self]


_SEVERITY_RANKS = {s: n for n, s in enumerate(Severity)}
_STATUS_RANKS = {s: n for n, s in enumerate(IncidentStatus)}
"""Ranks looked up, not searched: sorting an alert flood of 7,000 rows asks 14,000 times."""


class Suppression(enum.StrEnum):
    """Why an alert notifies no one though no person acknowledged it (Alertmanager's
    ``suppressed`` state). Such an alert keeps the status ``acknowledged`` (the snapshot JSON
    keeps its three statuses) and says which of these it is in ``Incident.suppressed``."""

    SILENCED = "silenced"  # a silence matches it (who and why: ``Incident.detail``)
    INHIBITED = "inhibited"  # another firing alert inhibits it


class HealthState(enum.StrEnum):
    """Health of one provider capability as the poller sees it."""

    PENDING = "pending"  # never answered yet
    OK = "ok"
    STALE = "stale"  # last fetch failed or is overdue; last good value still shown
    ERROR = "error"  # failing and no good value ever obtained


class SloState(enum.StrEnum):
    """State of an SLO under multi-window multi-burn-rate rules."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    NO_DATA = "no_data"

    @property
    def rank(self) -> int:
        """0 for critical (worst) … 3 for ok."""
        return {"critical": 0, "warning": 1, "no_data": 2, "ok": 3}[self.value]


def utcnow() -> datetime:
    """Timezone-aware now in UTC (the one clock helper; tests inject their own clocks)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident or alert, normalised across providers."""

    id: str
    provider: str
    title: str
    status: IncidentStatus
    severity: Severity
    service: str | None
    started_at: datetime
    url: str | None = None
    assignees: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=empty_mapping, compare=False)
    detail: str | None = None  # e.g. "silenced by carol: disk swap, until … (silence 5c1e…)"
    updated_at: datetime | None = None
    details: Mapping[str, str] = field(default_factory=empty_mapping, compare=False)
    """Everything the provider said that a describe view shows, in display order, keyed in the
    provider's own words: bare names for top-level facts (``fingerprint``, ``generatorURL``,
    ``escalation_policy``) and ``section.name`` for grouped ones (``labels.severity``,
    ``annotations.runbook_url``, ``conference_bridge.url``). Values are the provider's text,
    unsanitised and never truncated (sanitise at display)."""
    raw: str | None = field(default=None, compare=False)
    """The provider's object as compact JSON text, bounded (the built-in providers keep 16,384
    characters; a longer text is cut and ends with ``…[cut]``); None without an object."""
    runbook_url: str | None = field(default=None, compare=False)
    """The runbook link as the provider gave it (not validated: display checks http/https)."""
    suppressed: Suppression | None = None
    """Why an ``acknowledged`` alert is quiet although no person acknowledged it: silenced
    (who and why are in ``detail``) or inhibited. None for a person's acknowledgement and for
    every other status."""

    @property
    def status_text(self) -> str:
        """The status as people read it: ``silenced`` or ``inhibited`` for a suppressed alert,
        else the status's own word (``triggered``, ``acknowledged``, ``resolved``)."""
        return self.suppressed.value if self.suppressed is not None else self.status.value

    @property
    def silenced(self) -> bool:
        """A silence mutes it: counted as silenced, not as firing, in the incidents pane's
        groups."""
        return self.suppressed is Suppression.SILENCED

    @property
    def key(self) -> str:
        """Globally unique key across providers (``provider:id``)."""
        return f"{self.provider}:{self.id}"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log entry. ``ts_ns`` is Unix nanoseconds exactly as Loki sent it."""

    ts_ns: int
    line: str
    labels: Mapping[str, str] = field(default_factory=empty_mapping)
    metadata: Mapping[str, str] = field(default_factory=empty_mapping)

    @property
    def stream_key(self) -> str:
        """Stable text form of the stream labels (used for de-duplication)."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))

    @property
    def dedupe_key(self) -> tuple[int, str, str]:
        """(timestamp, line, stream): Loki's boundary entry may arrive twice on resume."""
        return (self.ts_ns, self.line, self.stream_key)


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One sample of an instant-vector result (value may be NaN or ±Inf)."""

    labels: Mapping[str, str]
    value: float
    ts: float


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One series of a range-query (matrix) result."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]  # (unix seconds, value)


@dataclass(frozen=True, slots=True)
class SloStatus:
    """The evaluated state of one SLO at ``evaluated_at``."""

    name: str
    objective: float  # fraction, e.g. 0.999
    window: str  # e.g. "30d"
    sli: float | None
    error_budget_remaining: float | None  # fraction of budget left; may be negative
    burn_rates: Mapping[str, float | None]  # window string -> burn rate (None = no data)
    state: SloState
    exhausted_at: datetime | None
    evaluated_at: datetime
    service: str | None = None
    trend: tuple[float, ...] = ()  # budget remaining over time, oldest first, bounded
    error: str | None = None
    queries: Mapping[str, str] = field(default_factory=empty_mapping, compare=False)
    description: str | None = None
    warnings: tuple[str, ...] = ()  # engine warnings and notes ("no traffic in 5m: burn rate 0")


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event on the incident timeline."""

    at: datetime
    kind: str  # trigger|acknowledge|assign|escalate|note|resolve|alert_start|alert_end|deploy|slo_state|pin|...
    source: str  # provider name, "cockpit" or "operator"
    text: str
    incident_id: str | None = None
    id: str | None = None  # stable id for de-duplication when the source has one
    state: str | None = None  # for operator notes: pending | delivered | failed: reason
    service: str | None = None
    note_ref: str | None = None  # a note sent by the cockpit: its idempotency marker digest


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """Health of one provider capability, as the poller sees it."""

    provider: str
    state: HealthState
    last_ok_at: datetime | None = None
    checked_at: datetime | None = None
    error: str | None = None  # one line, already redacted
    latency_ms: float | None = None
    rate_limited_until: datetime | None = None
    mode: str | None = None  # free-form, e.g. "live" / "polling" for a log tail
    fresh_for: float | None = None
    """Seconds an OK answer counts as fresh (the feed sets ~2x its refresh interval; None: the
    display's default). Older OK data is shown as stale with a coarse age."""
    label: str | None = None
    """How a pane names this source when it is more than the provider (``prom deploys``);
    the header still counts it under ``provider``."""

    def age_seconds(self, now: datetime) -> float | None:
        """Seconds since the last good answer, or None if never."""
        if self.last_ok_at is None:
            return None
        return max(0.0, (now - self.last_ok_at).total_seconds())

    def is_aged(self, now: datetime, default_fresh: float = 30.0) -> bool:
        """True when the last good answer is older than ``fresh_for`` (or ``default_fresh``)."""
        age = self.age_seconds(now)
        limit = self.fresh_for if self.fresh_for is not None else default_fresh
        return age is not None and age > limit


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Outcome of ``sre-cockpit check`` for one provider."""

    name: str
    type: str
    ok: bool
    latency_ms: float | None
    error: str | None = None
    detail: str | None = None  # e.g. "Prometheus 2.42.0"
