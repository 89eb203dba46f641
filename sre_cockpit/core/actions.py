"""Values of the incident actions: what an action will send, and what came back.

These cross every layer (a provider builds them, a feed plans with them, a dialog shows them),
so they live in the core; :mod:`sre_cockpit.providers.base` re-exports them for plugins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sre_cockpit.core.models import Incident

ACTION_NAMES = ("ack", "resolve", "note", "silence", "expire_silence")
"""Every action the cockpit knows (a provider's ``supported_actions`` maps each)."""

ACTION_TITLES = {"ack": "Acknowledge", "resolve": "Resolve", "note": "Add note",
                 "silence": "Silence", "expire_silence": "Expire silence"}
"""How each action is named on screen."""


@dataclass(frozen=True, slots=True)
class ActionPreview:
    """Exactly what an action will send, shown in the confirm dialog."""

    provider: str
    action: str  # ack | resolve | note | silence | expire_silence
    method: str
    endpoint: str  # URL without secrets
    payload: Any  # JSON-serialisable body


@dataclass(frozen=True, slots=True)
class ActionResult:
    """Outcome of an action; ``message`` is shown in a toast."""

    ok: bool
    message: str
    updated: tuple[Incident, ...] = ()  # optimistic new versions of the rows


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """A silence chosen in the dialog."""

    matchers: tuple[tuple[str, str, bool, bool], ...]  # (name, value, is_regex, is_equal)
    duration_s: float
    comment: str
    created_by: str
