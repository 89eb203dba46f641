"""The simulated PagerDuty account's objects and errors (shared by :mod:`.pagerduty`, the
account's state, and :mod:`.pagerduty_oncall`, its directory and on-call operations)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sre_cockpit.simulator.story import hash_keys

API = "https://api.pagerduty.com"
WEB = "https://shop.pagerduty.com"
STATUSES = ("triggered", "acknowledged", "resolved")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


class PagerDutyError(Exception):
    """An API error with PagerDuty's envelope."""

    def __init__(self, status: int, message: str, code: int, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            err["errors"] = self.errors
        return {"error": err}


def invalid(*errors: str) -> PagerDutyError:
    """PagerDuty's 400 "Invalid Input Provided" (code 2001)."""
    return PagerDutyError(400, "Invalid Input Provided", 2001, list(errors))


def pd_id(seed: int, *keys: int) -> str:
    """A PagerDuty-looking object id ("P" + 6 characters)."""
    h = hash_keys(seed, *keys)
    out = "P"
    for _ in range(6):
        out += _ALPHABET[h % len(_ALPHABET)]
        h //= len(_ALPHABET)
    return out


def parse_iso(value: str, name: str) -> float:
    """A PagerDuty date parameter (ISO 8601); 400 like PagerDuty when it is not one."""
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"{name.capitalize()} is not a valid date.") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def iso(t: float) -> str:
    """PagerDuty timestamps: RFC3339 seconds, UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t)))


@dataclass
class User:
    id: str
    name: str
    email: str

    def ref(self) -> dict[str, Any]:
        return {"id": self.id, "type": "user_reference", "summary": self.name,
                "self": f"{API}/users/{self.id}", "html_url": f"{WEB}/users/{self.id}"}


@dataclass
class Ref:
    id: str
    kind: str  # service, escalation_policy, team, priority
    name: str

    def ref(self) -> dict[str, Any]:
        path = {"service": "service-directory", "escalation_policy": "escalation_policies",
                "team": "teams", "priority": "priorities", "schedule": "schedules"}[self.kind]
        out = {"id": self.id, "type": f"{self.kind}_reference", "summary": self.name,
               "self": f"{API}/{path.replace('service-directory', 'services')}/{self.id}"}
        if self.kind != "priority":
            out["html_url"] = f"{WEB}/{path}/{self.id}"
        return out


@dataclass
class LogEntry:
    id: str
    type: str
    summary: str
    at: float
    agent: dict[str, Any]
    description: str
    assignees: list[User] = field(default_factory=list)  # assign/delegate/escalate entries
    message: str | None = None  # status_update_log_entry


@dataclass
class Note:
    id: str
    user: User
    content: str
    at: float


@dataclass
class Incident:
    id: str
    number: int
    title: str
    service: Ref
    urgency: str
    created_at: float
    incident_key: str
    status: str = "triggered"
    updated_at: float = 0.0
    resolved_at: float | None = None
    last_change_by: dict[str, Any] | None = None
    acknowledgements: list[tuple[float, User]] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    assigned_at: float = 0.0
    policy_id: str = ""
    level: int = 1
    snoozed_until: float | None = None
