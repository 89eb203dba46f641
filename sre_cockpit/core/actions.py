"""Values of the incident actions: what an action will send, and what came back.

These cross every layer (a provider builds them, a feed plans with them, a dialog shows them),
so they live in the core; :mod:`sre_cockpit.providers.base` re-exports them for plugins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sre_cockpit.core.models import Incident

ONCALL_ACTIONS: tuple[str, ...] = ("reassign", "escalate", "snooze", "status_update")
"""The actions that take an :class:`ActionArgs` (``args=`` of ``preview`` and ``perform``).
A provider that lists one of them in ``supported_actions`` with ``None`` accepts ``args``."""

ACTION_NAMES = ("ack", "resolve", "note", "silence", "expire_silence", *ONCALL_ACTIONS)
"""Every action the cockpit knows (a provider's ``supported_actions`` maps each)."""

ACTION_TITLES = {"ack": "Acknowledge", "resolve": "Resolve", "note": "Add note",
                 "silence": "Silence", "expire_silence": "Expire silence",
                 "reassign": "Reassign", "escalate": "Escalate", "snooze": "Snooze",
                 "status_update": "Status update"}
"""How each action is named on screen."""


@dataclass(frozen=True, slots=True)
class ActionPreview:
    """Exactly what an action will send, shown in the confirm dialog."""

    provider: str
    action: str  # one of ACTION_NAMES
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


# ---------------------------------------------------------------------------------------------
# On-call actions (issue 13): reassign, escalate, snooze and a stakeholder status update. Their
# parameters travel as ActionArgs (``args=`` of a provider's ``preview`` and ``perform``).
# ---------------------------------------------------------------------------------------------

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
