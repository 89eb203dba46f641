"""What a PagerDuty incident object says, as ``Incident.details`` for the describe view.

Keys are PagerDuty's own field names (``escalation_policy``, ``alert_counts``,
``conference_bridge.conference_url``, ``custom_fields.<name>``); values are its text, not
sanitised and not truncated. References (service, policy, users, teams) are shown by their
``summary``, the name PagerDuty gives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sre_cockpit.providers.incident_util import detail_map


def _summary(ref: object) -> str | None:
    if isinstance(ref, dict):
        value = ref.get("summary") or ref.get("name") or ref.get("id")
        return str(value) if value else None
    return None


def _obj(item: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = item.get(key)
    return value if isinstance(value, dict) else {}


def _list(item: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = item.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _names(refs: list[Mapping[str, Any]], key: str | None = None) -> str:
    names = [_summary(r.get(key) if key else r) for r in refs]
    return ", ".join(n for n in names if n)


def alert_counts_text(counts: Mapping[str, Any]) -> str | None:
    """``{"all": 2, "triggered": 1, "resolved": 1}`` → ``2 (1 triggered, 1 resolved)``."""
    if not counts:
        return None
    parts = [f"{counts[k]} {k}" for k in ("triggered", "resolved") if counts.get(k) is not None]
    total = counts.get("all")
    if total is None:
        return ", ".join(parts) or None
    return f"{total} ({', '.join(parts)})" if parts else str(total)


def incident_details(item: Mapping[str, Any]) -> Mapping[str, str]:
    """The describe view's facts about one PagerDuty incident object, in display order:
    identity, status and urgency, priority, service, escalation policy, teams, assignees,
    acknowledgers (with when), alert count, conference bridge, links, times, pending actions
    (a snooze shows as ``unacknowledge at …``), responders and custom fields."""
    acks = [f"{name} at {a.get('at')}" if a.get("at") else name
            for a in _list(item, "acknowledgements")
            if (name := _summary(a.get("acknowledger")))]
    pending = "; ".join(f"{p.get('type')} at {p.get('at')}" for p in _list(item, "pending_actions")
                        if p.get("type"))
    responders = []
    for r in _list(item, "incidents_responders"):
        name = _summary(r.get("user")) or _summary(r.get("escalation_policy"))
        if name:
            responders.append(f"{name} ({r['state']})" if r.get("state") else name)
    bridge = _obj(item, "conference_bridge")
    pairs: list[tuple[str, object]] = [
        ("incident_number", item.get("incident_number")),
        ("title", item.get("title") or item.get("summary")),
        ("description", item.get("description")),
        ("status", item.get("status")),
        ("urgency", item.get("urgency")),
        ("priority", _summary(item.get("priority"))),
        ("service", _summary(item.get("service"))),
        ("escalation_policy", _summary(item.get("escalation_policy"))),
        ("teams", _names(_list(item, "teams"))),
        ("assignees", _names(_list(item, "assignments"), "assignee")),
        ("assigned_via", item.get("assigned_via")),
        ("acknowledgers", ", ".join(acks)),
        ("alert_counts", alert_counts_text(_obj(item, "alert_counts"))),
        ("conference_bridge.conference_number", bridge.get("conference_number")),
        ("conference_bridge.conference_url", bridge.get("conference_url")),
        ("html_url", item.get("html_url")),
        ("incident_key", item.get("incident_key")),
        ("incident_type", _obj(item, "incident_type").get("name")),
        ("created_at", item.get("created_at")),
        ("updated_at", item.get("updated_at")),
        ("last_status_change_at", item.get("last_status_change_at")),
        ("last_status_change_by", _summary(item.get("last_status_change_by"))),
        ("resolved_at", item.get("resolved_at")),
        ("resolve_reason", item.get("resolve_reason")),
        ("pending_actions", pending),
        ("responders", ", ".join(responders)),
        ("id", item.get("id")),
    ]
    for cf in _list(item, "custom_fields"):
        name = cf.get("name") or cf.get("display_name")
        if name:
            pairs.append((f"custom_fields.{name}", cf.get("value")))
    return detail_map(pairs)
