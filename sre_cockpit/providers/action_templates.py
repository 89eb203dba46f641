"""Action URL and body templates of the ``type: http`` provider.

An action's ``url`` and the strings of its JSON ``body`` name :data:`PLACEHOLDERS` as
``{name}``; each call replaces them with one incident's values (URL-encoded in the URL). The
body stays valid JSON whatever the values contain, because replacement happens inside strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from sre_cockpit.core.models import Incident
from sre_cockpit.providers.base import ActionArgs

PLACEHOLDERS = ("id", "text", "user", "assignee", "assignee_name", "assignee_kind", "level",
                "duration", "message")
"""``{name}``s replaced in action URLs and bodies: the incident id, the note text, the config's
user, the reassign target's id, name and kind (``user`` or ``escalation_policy``), the escalate
level, the snooze duration in whole seconds and the status update's message."""
NUMERIC = ("level", "duration")
"""Placeholders that make a JSON number when they are a body string's whole value."""

_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def fill_template(value: Any, subs: Mapping[str, str]) -> Any:
    """Replace ``{name}`` placeholders inside every string of a JSON value (keys too). A string
    that is exactly ``{level}`` or ``{duration}`` becomes that number when ``subs`` has it."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in NUMERIC and subs.get(whole.group(1), "").isdigit():
            return int(subs[whole.group(1)])
        return _PLACEHOLDER.sub(lambda m: subs.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill_template(v, subs) for v in value]
    if isinstance(value, dict):
        return {fill_template(k, subs): fill_template(v, subs) for k, v in value.items()}
    return value


def fill_url(url: str, subs: Mapping[str, str]) -> str:
    """Replace the placeholders of an action URL, each value URL-encoded."""
    return _PLACEHOLDER.sub(lambda m: quote(subs[m.group(1)], safe="")
                            if m.group(1) in subs else m.group(0), url)


def action_subs(inc: Incident, user: str, text: str | None,
                args: ActionArgs | None) -> dict[str, str]:
    """The placeholder values of one incident's action call."""
    subs = {"id": inc.id, "text": text or "", "user": user}
    if args is not None:
        if args.assignee is not None:
            subs.update(assignee=args.assignee.id, assignee_name=args.assignee.name,
                        assignee_kind=args.assignee.kind.value)
        if args.level is not None:
            subs["level"] = str(args.level)
        if args.duration_s is not None:
            subs["duration"] = str(round(args.duration_s))
        if args.message is not None:
            subs["message"] = args.message
    return subs
