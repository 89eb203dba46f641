"""Alertmanager silences in words: the alert's detail line and the timeline's silence events.

Pure functions of the ``GET /api/v2/silences`` objects (``id``, ``status.state`` active |
pending | expired, ``matchers``, ``startsAt``, ``endsAt``, ``updatedAt``, ``createdBy``,
``comment``; there is no creation time: Alertmanager moves a ``startsAt`` in the past to the
moment of creation, so ``startsAt`` is when it was created unless it was scheduled ahead).
Expiring a silence sets its ``endsAt`` (and ``updatedAt``) to that moment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sre_cockpit.core.models import TimelineEvent
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.incident_util import parse_time

SILENCE_KINDS: frozenset[str] = frozenset({"silence", "silence_end"})
"""The timeline kinds Alertmanager gives: a silence created (or scheduled) and one that expired."""


@dataclass(frozen=True, slots=True)
class KnownAlert:
    """What the last listing said about one alert: its labels and service."""

    labels: Mapping[str, str]
    service: str | None


def _operator(is_regex: bool, is_equal: bool) -> str:
    return {(False, True): "=", (False, False): "!=", (True, True): "=~",
            (True, False): "!~"}[(is_regex, is_equal)]


def matchers_of(silence: Mapping[str, Any]) -> list[tuple[str, str, bool, bool]]:
    """``(name, value, is_regex, is_equal)`` of each well-formed matcher (``isEqual`` defaults
    to true, as in Alertmanager before 0.22)."""
    out: list[tuple[str, str, bool, bool]] = []
    for item in silence.get("matchers") or ():
        if isinstance(item, dict) and item.get("name") is not None:
            out.append((str(item["name"]), str(item.get("value") or ""),
                        bool(item.get("isRegex")), item.get("isEqual") is not False))
    return out


def matcher_text(matchers: Sequence[tuple[str, str, bool, bool]]) -> str:
    """``alertname="DiskFull", instance=~"db-.*"`` (values quoted as Alertmanager writes them)."""
    return ", ".join(f'{name}{_operator(regex, equal)}"{value}"'
                     for name, value, regex, equal in matchers)


def who_and_why(silence: Mapping[str, Any] | None) -> str:
    """``carol: disk swap`` (author, then comment), or what is known of them."""
    if not silence:
        return ""
    who = str(silence.get("createdBy") or "").strip()
    why = str(silence.get("comment") or "").strip()
    if who and why:
        return f"{who}: {why}"
    return who or why


def describe_silence(sid: str, silence: Mapping[str, Any] | None) -> str:
    """The alert's detail for one silence: who and why first, then its end and its id (the
    UUID is the least read part, and the detail line is cut at the pane's width).

    ``silenced by carol: disk swap, until 2026-03-04 12:00 UTC (silence 5c1e…)``; when the
    silence could not be read: ``silenced (silence 5c1e…)``.
    """
    said = who_and_why(silence)
    text = f"silenced by {said}" if said else "silenced"
    ends = parse_time((silence or {}).get("endsAt"))
    if ends is not None:
        text += f", until {ends:%Y-%m-%d %H:%M} UTC"
    return f"{text} (silence {sid})"


def matches(labels: Mapping[str, str], matchers: Sequence[tuple[str, str, bool, bool]]) -> bool:
    """Whether every matcher matches ``labels`` (a missing label is the empty string; a regex
    must match the whole value, as in Alertmanager; an invalid regex matches nothing)."""
    for name, value, is_regex, is_equal in matchers:
        actual = labels.get(name, "")
        try:
            hit = bool(re.fullmatch(value, actual)) if is_regex else actual == value
        except re.error:
            hit = False
        if hit != is_equal:
            return False
    return True


def _matching(matchers: Sequence[tuple[str, str, bool, bool]],
              alerts: Mapping[str, KnownAlert]) -> list[str]:
    return [aid for aid, alert in alerts.items() if matches(alert.labels, matchers)]


def _service(matchers: Sequence[tuple[str, str, bool, bool]], matched: Iterable[KnownAlert],
             service_labels: Sequence[str]) -> str | None:
    services = {a.service for a in matched}
    if len(services) == 1:
        only = next(iter(services))
        if only:
            return only
    for label in service_labels:
        for name, value, regex, equal in matchers:
            if name == label and equal and not regex and value:
                return value
    return None


def silence_events(silences: Iterable[Any], *, source: str, since: datetime,
                   until: datetime, alerts: Mapping[str, KnownAlert],
                   service_labels: Sequence[str] = ("service", "job")) -> list[TimelineEvent]:
    """Timeline events of the silences between ``since`` and ``until``.

    Each silence gives ``silence`` when it was created (its ``startsAt``; a silence scheduled
    ahead: when it was scheduled, its ``updatedAt``) and ``silence_end`` when it expired (its
    ``endsAt``, once past). An event belongs to the one alert the silence matches among
    ``alerts`` (the last listing), else to the service the matched alerts (or an equality
    matcher on a service label) name, else to no incident.

    Args:
        silences: the ``GET /api/v2/silences`` answer (anything that is not an object with an
            id and a start is skipped).
        source: the provider's name.
        since: start of the window.
        until: end of the window (also "now" for what has expired).
        alerts: the alerts of the last listing by id (fingerprint).
        service_labels: the provider's ``service_labels``.
    """
    events: list[TimelineEvent] = []
    for silence in silences:
        if not isinstance(silence, dict) or not silence.get("id"):
            continue
        starts = parse_time(silence.get("startsAt"))
        if starts is None:
            continue
        events += [e for e in _events_of(silence, starts, source, until, alerts, service_labels)
                   if since <= e.at <= until]
    events.sort(key=lambda e: (e.at, e.id or ""))
    return events


def _events_of(silence: Mapping[str, Any], starts: datetime, source: str, until: datetime,
               alerts: Mapping[str, KnownAlert],
               service_labels: Sequence[str]) -> list[TimelineEvent]:
    """The created (or scheduled) event of one silence and, once past, its expiry."""
    sid = sanitize_line(str(silence["id"]))
    ends = parse_time(silence.get("endsAt"))
    state = str((silence.get("status") or {}).get("state") or "")
    matchers = matchers_of(silence)
    matched = _matching(matchers, alerts)
    service = _service(matchers, (alerts[a] for a in matched), service_labels)
    said = sanitize_line(who_and_why(silence))
    what = sanitize_line(matcher_text(matchers)) or "no matchers"
    by = f" by {said}" if said else ""
    until_text = f" until {ends:%Y-%m-%d %H:%M} UTC" if ends else ""
    base = TimelineEvent(at=starts, kind="silence", source=source, text="",
                         id=f"silence:{silence['id']}:created",
                         incident_id=matched[0] if len(matched) == 1 else None,
                         service=sanitize_line(service) if service else None)
    if state == "pending" or starts > until:
        out = [replace(base, at=parse_time(silence.get("updatedAt")) or until,
                       text=f"silence scheduled{by} — {what} from {starts:%Y-%m-%d %H:%M} UTC"
                            f"{until_text} (silence {sid})")]
    else:
        out = [replace(base, text=f"silence created{by} — {what}{until_text} (silence {sid})")]
    if ends is not None and (state == "expired" or ends <= until):
        set_by = f" (set by {said})" if said else ""
        out.append(replace(base, at=ends, kind="silence_end",
                           id=f"silence:{silence['id']}:expired",
                           text=f"silence expired — {what}{set_by} (silence {sid})"))
    return out
