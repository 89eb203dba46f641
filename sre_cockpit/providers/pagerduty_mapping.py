"""PagerDuty incidents and log entries as the cockpit's values: the incident mapping (severity
from the priority name P1…P5 when the account uses priorities, else from the urgency) and the
timeline's events (notes read ``note by <agent>: <text>``, the cockpit's idempotency marker
stripped and kept in ``note_ref``).

Pure functions of PagerDuty's JSON objects; the provider
(:class:`~sre_cockpit.providers.pagerduty.PagerDutyProvider`) calls them for every incident and
log entry it lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, TimelineEvent
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.providers.incident_util import (
    cut_raw,
    find_marker,
    parse_time,
    raw_json,
    severity_of,
    strip_marker,
)
from sre_cockpit.providers.pagerduty_details import incident_details
from sre_cockpit.providers.pagerduty_oncall import POLICY_LABEL

DEFAULT_SEVERITY_MAP: Mapping[str, Severity] = {
    "P1": Severity.CRITICAL, "P2": Severity.HIGH, "P3": Severity.WARNING, "P4": Severity.INFO,
    "P5": Severity.INFO, "high": Severity.HIGH, "low": Severity.INFO,
}
"""Priority names and urgencies → severity, under the options' ``severity_map``."""

LOG_KINDS: Mapping[str, str] = {
    "trigger_log_entry": "trigger", "acknowledge_log_entry": "acknowledge",
    "assign_log_entry": "assign", "escalate_log_entry": "escalate",
    "annotate_log_entry": "note", "resolve_log_entry": "resolve",
    "unacknowledge_log_entry": "unacknowledge", "notify_log_entry": "notify",
    "reach_trigger_limit_log_entry": "escalate", "repeat_escalation_path_log_entry": "escalate",
    "exhaust_escalation_path_log_entry": "escalate", "snooze_log_entry": "snooze",
    "delegate_log_entry": "assign", "reassign_log_entry": "assign",
    "status_update_log_entry": "status_update",
}
"""Log entry types → timeline kinds (others lose their ``_log_entry`` suffix)."""


def to_incident(item: Mapping[str, Any], *, text: str | None = None, provider: str,
                severity_map: Mapping[str, Severity], now: Callable[[], datetime]) -> Incident:
    """Map one PagerDuty incident object to an Incident.

    Args:
        item: the incident object.
        text: its JSON as PagerDuty wrote it, kept as ``raw`` (encoded from ``item`` when not
            given).
        provider: the provider's name.
        severity_map: priority names and urgencies → severity.
        now: the clock, for an incident without ``created_at``.
    """
    priority = (item.get("priority") or {}).get("summary") if isinstance(item.get("priority"), dict) else None
    urgency = item.get("urgency")
    severity = Severity.UNKNOWN
    if priority:
        severity = severity_of(priority, severity_map)
    if severity is Severity.UNKNOWN and urgency:
        severity = severity_of(urgency, severity_map)
    status = {"triggered": IncidentStatus.TRIGGERED, "acknowledged": IncidentStatus.ACKNOWLEDGED,
              "resolved": IncidentStatus.RESOLVED}.get(str(item.get("status")),
                                                       IncidentStatus.TRIGGERED)
    assignees = tuple(str(a["assignee"].get("summary") or a["assignee"].get("id") or "")
                      for a in item.get("assignments") or []
                      if isinstance(a, dict) and isinstance(a.get("assignee"), dict))
    service = item.get("service") if isinstance(item.get("service"), dict) else {}
    policy = item.get("escalation_policy") if isinstance(item.get("escalation_policy"), dict) else {}
    detail_parts = [f"urgency={urgency}"] if urgency else []
    if priority:
        detail_parts.append(f"priority={priority}")
    if item.get("incident_number") is not None:
        detail_parts.insert(0, f"#{item['incident_number']}")
    labels = {k: str(v) for k, v in (("urgency", urgency), ("priority", priority),
                                     ("incident_number", item.get("incident_number")),
                                     ("service_id", (service or {}).get("id")),
                                     (POLICY_LABEL, (policy or {}).get("id")))
              if v is not None}
    return Incident(
        id=str(item.get("id") or ""),
        provider=provider,
        title=str(item.get("title") or item.get("summary") or item.get("id") or ""),
        status=status,
        severity=severity,
        service=str(service.get("summary")) if service and service.get("summary") else None,
        started_at=parse_time(item.get("created_at")) or now(),
        url=str(item["html_url"]) if item.get("html_url") else None,
        assignees=tuple(a for a in assignees if a),
        labels=MappingProxyType(labels),
        detail=" ".join(detail_parts) or None,
        updated_at=parse_time(item.get("updated_at") or item.get("last_status_change_at")),
        details=incident_details(item),
        raw=cut_raw(text) if text is not None else raw_json(item),
    )


def log_entry_to_event(entry: Mapping[str, Any], incident: Incident | None = None, *,
                       source: str) -> TimelineEvent | None:
    """Map one log entry to a TimelineEvent (None when it has no time).

    An ``annotate_log_entry`` carries the note's text in ``channel.summary``: the event reads
    ``note by <agent>: <text>`` (sanitised, the cockpit's idempotency marker stripped and
    kept in ``note_ref`` so the timeline shows a note sent from the cockpit once).
    """
    at = parse_time(entry.get("created_at"))
    if at is None:
        return None
    etype = str(entry.get("type") or "")
    kind = LOG_KINDS.get(etype, etype.removesuffix("_log_entry") or "event")
    ref = entry.get("incident") if isinstance(entry.get("incident"), dict) else {}
    incident_id = str((ref or {}).get("id") or (incident.id if incident else "")) or None
    agent_ref = entry.get("agent")
    agent = agent_ref.get("summary") if isinstance(agent_ref, dict) else None
    text = sanitize_line(strip_marker(str(entry.get("summary") or kind))) or kind
    note_ref = None
    message = entry.get("message")
    if kind == "status_update" and isinstance(message, str) and message.strip():
        who = sanitize_line(str(agent)) if agent else "someone"
        text = f"status update by {who}: {sanitize(message).strip()}"
    if kind == "note":
        channel = entry.get("channel") if isinstance(entry.get("channel"), dict) else {}
        raw = (channel or {}).get("summary") or (channel or {}).get("content")
        if isinstance(raw, str) and raw.strip():
            note_ref = find_marker(raw)
            content = sanitize(strip_marker(raw)).strip()
            if content:
                who = sanitize_line(str(agent)) if agent else "someone"
                text = f"note by {who}: {content}"
    return TimelineEvent(at=at, kind=kind, source=source, text=text,
                         incident_id=incident_id, id=str(entry.get("id") or "") or None,
                         service=incident.service if incident else None, note_ref=note_ref)
