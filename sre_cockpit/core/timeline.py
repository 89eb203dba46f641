"""Incident timeline maths: merge, order, de-duplicate, filter, relative time, Markdown (pure).

Events arrive from several sources whose clocks disagree (PagerDuty's servers, Alertmanager, the
cockpit's own observations, the operator's journal). Everything here is pure and deterministic: the
same input gives the same output whatever order the sources answered in. Nothing here imports
Textual or does I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

from sre_cockpit.core.models import TimelineEvent
from sre_cockpit.core.sanitize import sanitize, sanitize_line

KIND_ORDER: tuple[str, ...] = (
    "deploy", "alert_start", "trigger", "slo_state", "assign", "escalate", "acknowledge",
    "silence", "note", "pin", "silence_end", "alert_end", "resolve",
)
"""Causal order used to break ties between events with equal timestamps."""

KIND_SYMBOLS: Mapping[str, str] = {
    "trigger": "▲", "alert_start": "△", "acknowledge": "✓", "assign": "→", "escalate": "⇡",
    "note": "✎", "pin": "⚲", "resolve": "●", "alert_end": "○", "deploy": "⬆", "slo_state": "◆",
    "silence": "⊘", "silence_end": "⊙",
}
"""One symbol per event kind (the pane shows it before the text)."""

KIND_COLOURS: Mapping[str, str] = {
    "trigger": "sev-critical", "alert_start": "sev-high", "acknowledge": "sev-warning",
    "assign": "sev-info", "escalate": "sev-high", "note": "sev-info", "pin": "sev-info",
    "resolve": "slo-ok", "alert_end": "slo-ok", "deploy": "accent", "slo_state": "slo-warning",
    "silence": "sev-warning", "silence_end": "sev-high",
}
"""Theme variable naming each kind's colour."""

FILTER_KINDS: tuple[str | None, ...] = (
    None, "trigger,acknowledge,assign,escalate,resolve", "alert_start,alert_end,silence,silence_end",
    "deploy", "slo_state", "note,pin",
)
"""What ``k`` cycles through in the pane: all, incident lifecycle, alerts (and their silences),
deploys, SLOs, notes."""

RELATED_KINDS: frozenset[str] = frozenset({"alert_start", "alert_end", "trigger", "acknowledge",
                                          "resolve"})
"""Events of related incidents (same service) shown with the focused incident's."""

LIFECYCLE_KINDS: frozenset[str] = frozenset({"alert_start", "alert_end", "trigger",
                                            "acknowledge", "resolve"})
"""Kinds that tell an incident's own lifecycle: a source giving any of them reports its
incidents' starts and ends itself (the cockpit then adds none of its own for them)."""

NOTE_DEDUPE_WINDOW = timedelta(minutes=10)
"""A provider's copy of an operator note within this time of the journal's copy is the same note."""


def kind_rank(kind: str) -> int:
    """Tie-break rank of a kind (unknown kinds sort after the known ones)."""
    try:
        return KIND_ORDER.index(kind)
    except ValueError:
        return len(KIND_ORDER)


def as_utc(at: datetime) -> datetime:
    """``at`` as an aware UTC datetime (naive values are taken as UTC)."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def sort_key(event: TimelineEvent) -> tuple[datetime, int, str, str, str, str]:
    """Total, deterministic order: time, causal kind rank, incident, source, text, id."""
    return (as_utc(event.at), kind_rank(event.kind), event.incident_id or "", event.source,
            event.text, event.id or "")


def _identity(event: TimelineEvent) -> tuple[str, ...]:
    if event.id:
        return ("id", event.source, event.id)
    return ("val", event.source, event.kind, event.incident_id or "",
            as_utc(event.at).isoformat(), event.text)


def _norm_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def correct_skew(events: Iterable[TimelineEvent], offsets: Mapping[str, float] | None = None, *,
                 now: datetime | None = None,
                 tolerance: timedelta = timedelta(seconds=5)) -> list[TimelineEvent]:
    """Put every event on the cockpit's clock.

    Args:
        events: events as the sources reported them.
        offsets: seconds each source's clock is ahead of ours (from ``estimate_offset``); the
            offset is subtracted from that source's timestamps.
        now: the cockpit's now; an event still in the future after correction (a source whose
            clock runs ahead by more than we know) is clamped to ``now`` so it never sorts after
            what we observe next.
        tolerance: how far in the future an event may be before it is clamped.

    Returns:
        The corrected events (same order).
    """
    out: list[TimelineEvent] = []
    for event in events:
        at = as_utc(event.at)
        offset = (offsets or {}).get(event.source)
        if offset:
            at = at - timedelta(seconds=offset)
        if now is not None and at > as_utc(now) + tolerance:
            at = as_utc(now)
        out.append(event if at == event.at else replace(event, at=at))
    return out


def estimate_offset(server_time: datetime, sent_at: datetime, received_at: datetime) -> float:
    """Seconds a server's clock is ahead of ours, from its ``Date`` header and the round trip."""
    midpoint = as_utc(sent_at) + (as_utc(received_at) - as_utc(sent_at)) / 2
    return (as_utc(server_time) - midpoint).total_seconds()


def merge_events(*sources: Iterable[TimelineEvent],
                 offsets: Mapping[str, float] | None = None,
                 now: datetime | None = None) -> list[TimelineEvent]:
    """Merge events from several sources into one ordered, de-duplicated list.

    - The same event seen twice (two polls; same ``source`` + ``id``, or identical values) is
      kept once; the copy seen last wins (a note's delivery state moves on).
    - An operator note and the provider's own log entry for it are one event: the operator's
      copy is kept, and since the provider shows the note, its state reads ``delivered``. The
      provider's copy is recognised by the idempotency marker the cockpit embedded in it
      (``note_ref`` equal on both, whatever the time); a provider note without a marker matches
      by text instead (same incident, same text, within ``NOTE_DEDUPE_WINDOW`` whatever the
      clocks say), and then only turns a ``pending`` state into ``delivered``.
    - Clock skew is corrected with ``offsets``/``now`` (see :func:`correct_skew`), then events are
      ordered by :func:`sort_key`, so equal timestamps follow causal kind order deterministically.

    Returns:
        The merged events, oldest first.
    """
    by_identity: dict[tuple[str, ...], TimelineEvent] = {}
    for source in sources:
        for event in correct_skew(source, offsets, now=now):
            by_identity[_identity(event)] = event
    events = list(by_identity.values())
    operator_notes = [e for e in events if e.kind in ("note", "pin") and e.source == "operator"]
    if operator_notes:
        kept: list[TimelineEvent] = []
        delivered: set[tuple[str, ...]] = set()
        for event in events:
            if event.kind == "note" and event.source != "operator":
                mine = _operator_copy(event, operator_notes)
                if mine is not None:
                    if event.note_ref or (mine.state or "").startswith("pending"):
                        delivered.add(_identity(mine))
                    continue
            kept.append(event)
        events = [replace(e, state="delivered") if delivered and _identity(e) in delivered
                  and e.state is not None else e for e in kept]
    events.sort(key=sort_key)
    return events


def _operator_copy(theirs: TimelineEvent,
                   operator_notes: Sequence[TimelineEvent]) -> TimelineEvent | None:
    """The operator note a provider's note event is a copy of, if any."""
    if theirs.note_ref:
        return next((mine for mine in operator_notes if mine.note_ref == theirs.note_ref
                     and _same_incident(theirs, mine)), None)
    return next((mine for mine in operator_notes if _same_note(theirs, mine)), None)


def _same_incident(theirs: TimelineEvent, mine: TimelineEvent) -> bool:
    return not (theirs.incident_id and mine.incident_id and theirs.incident_id != mine.incident_id)


def _same_note(theirs: TimelineEvent, mine: TimelineEvent) -> bool:
    if not _same_incident(theirs, mine):
        return False
    if abs(as_utc(theirs.at) - as_utc(mine.at)) > NOTE_DEDUPE_WINDOW:
        return False
    a, b = _norm_text(theirs.text), _norm_text(mine.text)
    return bool(a) and (a == b or a.endswith(b) or b.endswith(a))


def parse_kinds(text: str | None) -> frozenset[str] | None:
    """``"deploy, note"`` → ``{"deploy", "note"}``; empty → None (all kinds)."""
    if not text:
        return None
    kinds = frozenset(k.strip().lower() for k in re.split(r"[,\s]+", text) if k.strip())
    return kinds or None


def filter_events(events: Iterable[TimelineEvent], *, kinds: Iterable[str] | None = None,
                  incident_ids: Iterable[str] | None = None, service: str | None = None,
                  text: str | None = None, include_global: bool = True) -> list[TimelineEvent]:
    """Keep the events matching every given criterion.

    Args:
        events: the merged events.
        kinds: kinds to keep (None = all).
        incident_ids: keep events of these incidents (``Incident.id`` or ``Incident.key``);
            None = every incident.
        service: with ``incident_ids``, also keep events without an incident whose service matches
            (deploys of the incident's service).
        text: case-insensitive substring of the text, kind or source.
        include_global: with ``incident_ids``, also keep events tied to no incident and no other
            service (SLO changes, deploys without a service).

    Returns:
        The events kept, in the input order.
    """
    wanted_kinds = frozenset(kinds) if kinds is not None else None
    ids = frozenset(incident_ids) if incident_ids is not None else None
    needle = text.casefold() if text else None
    out: list[TimelineEvent] = []
    for event in events:
        if wanted_kinds is not None and event.kind not in wanted_kinds:
            continue
        if ids is not None and event.incident_id not in ids:
            if event.incident_id is not None:
                continue
            same_service = service is not None and event.service == service
            if not (same_service or (include_global and event.service is None)):
                continue
        if needle is not None and not any(
                needle in field.casefold() for field in (event.text, event.kind, event.source)):
            continue
        out.append(event)
    return out


def elapsed_seconds(at: datetime, start: datetime) -> int:
    """Whole seconds from ``start`` to ``at`` as their times are shown (each cut to its second,
    like ``format_time``): 13:41:16.2 after 13:37:16.9 is 240 s, what the two clocks on the page
    say, not 239. Every "T+" label and every duration counted from an incident start uses it,
    so no two figures on one page disagree."""
    return math.floor(as_utc(at).timestamp()) - math.floor(as_utc(start).timestamp())


def relative_label(at: datetime, start: datetime | None) -> str:
    """Time relative to an incident start: ``T+12m``, ``T-3m``, ``T+45s``, ``T+1h05m``, ``T+2d03h``
    (whole units, cut down: 4m59s is ``T+4m``; seconds counted by :func:`elapsed_seconds`)."""
    if start is None:
        return ""
    seconds = elapsed_seconds(at, start)
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    if seconds < 60:
        body = f"{seconds}s"
    elif seconds < 3600:
        body = f"{seconds // 60}m"
    elif seconds < 86400:
        body = f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    else:
        body = f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
    return f"T{sign}{body}"


def zone_for(timezone: str) -> tzinfo | None:
    """``"utc"`` → UTC; ``"local"`` → None (the machine's zone via ``astimezone()``)."""
    return None if timezone == "local" else UTC


def format_time(at: datetime, timezone: str = "utc", *, seconds: bool = True,
                date: bool = False) -> str:
    """Absolute time in the configured zone: ``14:03:07 UTC`` or ``15:03:07 CET``."""
    local = as_utc(at).astimezone(zone_for(timezone))
    fmt = ("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    name = "UTC" if timezone != "local" else (local.tzname() or "local")
    return f"{local.strftime(fmt)} {name}"


def neighbour(events: Sequence[TimelineEvent], current: datetime | None, step: int) -> int | None:
    """Index of the event before (``step=-1``) or after (``+1``) the moment ``current``.

    With ``current`` None, ``-1`` picks the newest event and ``+1`` the oldest.
    """
    if not events:
        return None
    if current is None:
        return len(events) - 1 if step < 0 else 0
    cur = as_utc(current)
    if step < 0:
        before = [i for i, e in enumerate(events) if as_utc(e.at) < cur]
        return before[-1] if before else 0
    after = [i for i, e in enumerate(events) if as_utc(e.at) > cur]
    return after[0] if after else len(events) - 1


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: str) -> str:
    """Sanitised, one-line, Markdown-inert text for a table cell or a list item."""
    clean = sanitize_line(text)
    return _MD_SPECIAL.sub(r"\\\1", clean)


def md_block(text: str) -> str:
    """Sanitised multi-line text as a Markdown blockquote (every line escaped)."""
    lines = sanitize(text).splitlines() or [""]
    return "\n".join(f"> {md_escape(line)}" if line.strip() else ">" for line in lines)


def markdown_table(events: Sequence[TimelineEvent], start: datetime | None,
                   timezone: str = "utc") -> str:
    """The timeline as a Markdown table: absolute time, relative time, kind, source, event."""
    rows = ["| Time | Relative | Kind | Source | Event |", "|---|---|---|---|---|"]
    for event in events:
        text = event.text
        if event.state and event.kind in ("note", "pin"):
            text = f"{text} [{event.state}]"
        rows.append("| " + " | ".join((
            format_time(event.at, timezone, date=True),
            relative_label(event.at, start) or "—",
            md_escape(event.kind),
            md_escape(event.source),
            md_escape(text),
        )) + " |")
    return "\n".join(rows)
