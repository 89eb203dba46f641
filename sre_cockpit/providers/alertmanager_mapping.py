"""Alertmanager v2 alerts as incidents: the mapping, the describe view's fields and the links.

Pure functions of an alert object (``labels``, ``annotations``, ``status.state`` active |
suppressed | unprocessed, ``silencedBy``, ``inhibitedBy``, ``fingerprint``, ``startsAt``,
``updatedAt``, ``receivers``) and the provider's options; the provider
(:class:`~sre_cockpit.providers.alertmanager.AlertmanagerProvider`) calls them for every alert
it lists. Nothing here holds the provider: the incidents carry values only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, Suppression
from sre_cockpit.providers.alertmanager_silences import describe_silence
from sre_cockpit.providers.incident_util import (
    RAW_LIMIT,
    LazyDetails,
    cut_raw,
    detail_map,
    parse_time,
    raw_json,
    severity_of,
)


def alert_to_incident(alert: Mapping[str, Any],
                      silences: Mapping[str, Mapping[str, Any]] | None = None, *,
                      raw: str | None = None, provider: str, severity_label: str,
                      severity_map: Mapping[str, Severity], service_labels: Sequence[str],
                      link_base: str, now: Callable[[], datetime]) -> Incident:
    """Map one v2 alert (and the silences it refers to) to an Incident.

    Args:
        alert: the alert object.
        silences: the silences by id (those ``silencedBy`` names are described in ``detail``).
        raw: the alert's JSON text as the server wrote it (encoded from ``alert`` when not
            given).
        provider: the provider's name.
        severity_label: the label holding the severity.
        severity_map: extra label values → severity.
        service_labels: the labels naming the service, first present wins.
        link_base: Alertmanager's public URL (the incident's link).
        now: the clock, for an alert without ``startsAt``.

    Returns:
        The incident; its describe fields are built on first read (:class:`LazyDetails`).
    """
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    annotations = {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()}
    status = alert.get("status") or {}
    state = str(status.get("state") or "unprocessed")
    silenced = [str(s) for s in status.get("silencedBy") or ()]
    inhibited = [str(s) for s in status.get("inhibitedBy") or ()]
    detail: str | None = None
    incident_status = IncidentStatus.TRIGGERED
    suppressed: Suppression | None = None
    if state == "suppressed":
        incident_status = IncidentStatus.ACKNOWLEDGED
        # a silence is someone's decision: it names the state even when an inhibition
        # also holds (the detail says both)
        suppressed = Suppression.SILENCED if silenced else Suppression.INHIBITED
        parts = [describe_silence(sid, (silences or {}).get(sid)) for sid in silenced]
        if inhibited:
            parts.append("inhibited by " + ", ".join(inhibited))
        detail = "; ".join(parts) or "suppressed"
    elif state == "unprocessed":
        detail = "not yet processed by Alertmanager"
    service = next((labels[k] for k in service_labels if labels.get(k)), None)
    started = parse_time(alert.get("startsAt")) or now()
    fingerprint = str(alert.get("fingerprint") or _fingerprint_fallback(labels))
    source: str | Mapping[str, Any] = (raw if raw is not None and len(raw) <= RAW_LIMIT
                                       else alert)  # the text, not the decoded object
    known = silences or {}

    def build() -> Mapping[str, str]:  # values only: no provider travels with the incident
        obj = json.loads(source) if isinstance(source, str) else source
        return alert_details(obj, fingerprint, state, labels, annotations, known)

    return Incident(
        id=fingerprint,
        provider=provider,
        title=annotations.get("summary") or labels.get("alertname") or fingerprint,
        status=incident_status,
        severity=severity_of(labels.get(severity_label), severity_map),
        service=service,
        started_at=started,
        url=alert_url(link_base, labels),
        assignees=(),
        labels=MappingProxyType(labels),
        detail=detail,
        updated_at=parse_time(alert.get("updatedAt")),
        details=LazyDetails(build),
        raw=cut_raw(raw) if raw is not None else raw_json(alert),
        runbook_url=_runbook_of(annotations, labels),
        suppressed=suppressed,
    )


def alert_details(alert: Mapping[str, Any], fingerprint: str, state: str,
                  labels: Mapping[str, str], annotations: Mapping[str, str],
                  silences: Mapping[str, Mapping[str, Any]]) -> Mapping[str, str]:
    """Everything the alert says, for the describe view: its status, links, receivers,
    the silences (described when they were fetched) and inhibiting alerts, every label and
    every annotation. The fingerprint is given in full."""
    status = alert.get("status") if isinstance(alert.get("status"), dict) else {}
    silenced = [str(s) for s in (status or {}).get("silencedBy") or ()]
    inhibited = [str(s) for s in (status or {}).get("inhibitedBy") or ()]
    receivers = [str(r.get("name")) if isinstance(r, dict) else str(r)
                 for r in alert.get("receivers") or ()]
    pairs: list[tuple[str, object]] = [
        ("fingerprint", fingerprint), ("state", state), ("startsAt", alert.get("startsAt")),
        ("updatedAt", alert.get("updatedAt")), ("endsAt", alert.get("endsAt")),
        ("generatorURL", alert.get("generatorURL")), ("receivers", ", ".join(receivers)),
        ("silencedBy", ", ".join(silenced)), ("inhibitedBy", ", ".join(inhibited)),
    ]
    for sid in silenced:
        sil = silences.get(sid)
        if sil:
            pairs.append((f"silences.{sid}", describe_silence(sid, sil)))
    pairs += [(f"labels.{k}", v) for k, v in labels.items()]
    pairs += [(f"annotations.{k}", v) for k, v in annotations.items()]
    return detail_map(pairs)


def alert_url(base: str, labels: Mapping[str, str]) -> str:
    """The Alertmanager UI's page of the alerts with exactly these labels."""
    matchers = ",".join(f'{k}="{_escape_value(v)}"' for k, v in sorted(labels.items()))
    return (f"{base.rstrip('/')}/#/alerts?silenced=true&inhibited=true"
            f"&filter={quote('{' + matchers + '}')}")


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _runbook_of(annotations: Mapping[str, str], labels: Mapping[str, str]) -> str | None:
    """The alert's runbook link: the ``runbook_url`` annotation (the Prometheus community's
    convention), else a ``runbook`` annotation, else a ``runbook_url`` label."""
    for value in (annotations.get("runbook_url"), annotations.get("runbook"),
                  labels.get("runbook_url")):
        if value and value.strip():
            return value
    return None


def _fingerprint_fallback(labels: Mapping[str, str]) -> str:
    return hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
