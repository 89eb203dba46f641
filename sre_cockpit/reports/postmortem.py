"""The postmortem draft: summary, SLO impact, timeline, notes, pinned lines and links (headless).

Built from what the cockpit can see: the incident providers, the timeline sources, the operator's
journal and the SLO queries evaluated at the incident's start and end (``time=`` on instant
queries) plus a range query for peak burn rates. Every piece of external text is sanitised and
Markdown-escaped; provider URLs and credentials never appear (only the incident's own link, with
secrets redacted). Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sre_cockpit.config.model import SloConfig
from sre_cockpit.core.durations import format_duration
from sre_cockpit.core.models import Incident, IncidentStatus, TimelineEvent
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.slo import objective_fraction, render_query, window_ratio
from sre_cockpit.core.timeline import (
    RELATED_KINDS,
    as_utc,
    elapsed_seconds,
    filter_events,
    format_time,
    markdown_table,
    md_block,
    md_escape,
    relative_label,
    sort_key,
)
from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.timeline_sources import fetch_timeline_report
from sre_cockpit.providers.base import IncidentSource, MetricSource
from sre_cockpit.providers.http import redact

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

PEAK_WINDOWS: tuple[str, ...] = ("5m", "1h")
"""Burn-rate windows whose peak over the incident is reported."""
MAX_RANGE_POINTS = 300


class UnknownIncident(LookupError):
    """The id matches no incident; ``known`` lists the ids that do exist."""

    def __init__(self, wanted: str, known: Sequence[str],
                 errors: Sequence[str] = ()) -> None:
        shown = ", ".join(known[:30]) + (" …" if len(known) > 30 else "")
        message = (f"unknown incident {sanitize_line(wanted)!r}; known: "
                   f"{sanitize_line(shown) if known else 'none'}")
        if errors:
            message += f" (could not list: {sanitize_line('; '.join(errors))})"
        super().__init__(message)
        self.known = list(known)


@dataclass(frozen=True, slots=True)
class SloImpact:
    """What one SLO lost during the incident window."""

    name: str
    objective: float  # fraction
    error_ratio: float | None  # over the incident window
    budget_start: float | None  # fraction of budget remaining at the incident start
    budget_end: float | None
    peak_burn: dict[str, float | None]
    error: str | None = None

    @property
    def consumed(self) -> float | None:
        """Fraction of the error budget consumed during the window."""
        if self.budget_start is None or self.budget_end is None:
            return None
        return self.budget_start - self.budget_end


@dataclass
class Candidates:
    """Incidents known to the providers and the journal, and why a provider could not list."""

    incidents: list[Incident]
    errors: list[str]


async def known_incidents(runtime: Runtime, journal: Journal | None = None) -> Candidates:
    """Every incident the providers list now, plus those the journal's notes were written for."""
    sources = runtime.of(IncidentSource)  # type: ignore[type-abstract]
    results = await asyncio.gather(*(s.list_incidents() for s in sources.values()),
                                   return_exceptions=True)
    candidates: list[Incident] = []
    errors: list[str] = []
    for name, result in zip(sources, results, strict=True):
        if isinstance(result, BaseException):
            errors.append(sanitize_line(redact(str(result)) or f"{name}: {type(result).__name__}"))
        else:
            candidates.extend(result)
    errors.extend(sanitize_line(f"{n}: {e}") for n, e in runtime.build_errors.items())
    if journal is not None:
        seen = {i.key for i in candidates}
        for record in journal.notes():
            for incident in record.incidents:
                if incident.key not in seen:
                    candidates.append(incident)
                    seen.add(incident.key)
    return Candidates(candidates, errors)


def pick_incident(candidates: Sequence[Incident], wanted: str,
                  errors: Sequence[str] = ()) -> Incident:
    """The incident whose ``id`` or ``key`` is ``wanted`` (exact, then case-insensitive).

    Raises:
        UnknownIncident: nothing matches (lists the known ids).
    """
    for incident in candidates:
        if wanted in (incident.key, incident.id):
            return incident
    lowered = wanted.casefold()
    for incident in candidates:
        if lowered in (incident.key.casefold(), incident.id.casefold()):
            return incident
    raise UnknownIncident(wanted, sorted({i.key for i in candidates}), errors)


async def _fetch_by_id(runtime: Runtime, wanted: str) -> Incident | None:
    """A resolved incident the listings no longer show: ask providers that can fetch one by id
    (an optional ``get_incident(id)`` method; ``provider:id`` picks the provider)."""
    provider_name, _, ident = wanted.partition(":") if ":" in wanted else ("", "", wanted)
    for name, source in runtime.of(IncidentSource).items():  # type: ignore[type-abstract]
        getter = getattr(source, "get_incident", None)
        if not callable(getter) or (provider_name and name != provider_name):
            continue
        try:
            found = await getter(ident)
        except Exception:  # not found there, or unreachable: try the next provider
            continue
        if isinstance(found, Incident):
            return found
    return None


async def find_incident(runtime: Runtime, wanted: str,
                        journal: Journal | None = None) -> Incident:
    """The incident whose ``id`` or ``key`` is ``wanted``, from the providers or the journal.

    Raises:
        UnknownIncident: nothing matches (lists the known ids).
    """
    known = await known_incidents(runtime, journal)
    try:
        return pick_incident(known.incidents, wanted, known.errors)
    except UnknownIncident:
        found = await _fetch_by_id(runtime, wanted)
        if found is None:
            raise
        return found


def related_incidents(incident: Incident, candidates: Sequence[Incident],
                      until: datetime) -> list[Incident]:
    """Other incidents of the same service that started from an hour before until ``until``."""
    if not incident.service:
        return []
    start = as_utc(incident.started_at) - timedelta(hours=1)
    return [i for i in candidates
            if i.key != incident.key and i.service == incident.service
            and start <= as_utc(i.started_at) <= as_utc(until)]


def affected_slos(runtime: Runtime, incident: Incident) -> tuple[list[SloConfig], bool]:
    """SLOs of the incident's service (``services.<svc>.slos`` or ``slos[].service``).

    Returns:
        The SLOs and whether they are all of the context (no service mapping matched).
    """
    slos = runtime.context.slos
    service = incident.service
    if service:
        mapped = runtime.context.services.get(service)
        names = set(mapped.slos if mapped is not None else ())
        chosen = [s for s in slos if s.name in names or s.service == service]
        if chosen:
            return chosen, False
    return list(slos), True


def _sum(samples: Sequence[object]) -> float | None:
    values = [float(getattr(s, "value", math.nan)) for s in samples]
    return math.fsum(values) if values else None


async def _ratio_at(source: MetricSource, slo: SloConfig, window: str,
                    at: datetime) -> float | None:
    total_q = render_query(slo.total_query, window)
    other = slo.good_query if slo.good_query is not None else slo.error_query
    assert other is not None
    total, part = await asyncio.gather(source.instant(total_q, at),
                                       source.instant(render_query(other, window), at))
    ratio = window_ratio(_sum(part), _sum(total), good=_sum(part),
                         good_based=slo.good_query is not None)
    return ratio.ratio


async def _peak_burn(source: MetricSource, slo: SloConfig, window: str, start: datetime,
                     end: datetime, objective: float) -> float | None:
    span = max(60.0, (end - start).total_seconds())
    step = max(15.0, math.ceil(span / MAX_RANGE_POINTS / 15.0) * 15.0)
    other = slo.good_query if slo.good_query is not None else slo.error_query
    assert other is not None
    totals, parts = await asyncio.gather(
        source.range(render_query(slo.total_query, window), start, end, step),
        source.range(render_query(other, window), start, end, step))

    def by_time(series: Sequence[object]) -> dict[float, float]:
        out: dict[float, float] = {}
        for s in series:
            for ts, value in getattr(s, "points", ()):
                if math.isfinite(value):
                    out[ts] = out.get(ts, 0.0) + value
        return out

    total_t, part_t = by_time(totals), by_time(parts)
    peak: float | None = None
    for ts, total in total_t.items():
        ratio = window_ratio(part_t.get(ts), total, good=part_t.get(ts),
                             good_based=slo.good_query is not None).ratio
        if ratio is not None:
            burn = ratio / (1.0 - objective)
            peak = burn if peak is None else max(peak, burn)
    return peak


async def slo_impact(runtime: Runtime, slo: SloConfig, start: datetime,
                     end: datetime) -> SloImpact:
    """Budget consumed and peak burn rates of one SLO between ``start`` and ``end``.

    Budget consumed is the drop of the budget remaining over the SLO window, evaluated at the
    incident start and at its end (scale-free: works for rate- and increase-based queries).
    """
    objective = objective_fraction(slo.objective)
    source = runtime.of(MetricSource).get(slo.provider)  # type: ignore[type-abstract]
    if source is None:
        reason = runtime.build_errors.get(slo.provider, "not a configured metrics provider")
        return SloImpact(slo.name, objective, None, None, None, {},
                         error=sanitize_line(f"{slo.provider}: {reason}"))
    slo_window = format_duration(slo.window)
    incident_window = f"{max(60, int((end - start).total_seconds()))}s"
    try:
        ratio_start, ratio_end, ratio_during, *peaks = await asyncio.gather(
            _ratio_at(source, slo, slo_window, start),
            _ratio_at(source, slo, slo_window, end),
            _ratio_at(source, slo, incident_window, end),
            *(_peak_burn(source, slo, w, start, end, objective) for w in PEAK_WINDOWS))
    except Exception as exc:  # one SLO failing leaves the others in the draft
        return SloImpact(slo.name, objective, None, None, None, {},
                         error=sanitize_line(redact(str(exc)) or type(exc).__name__))

    def budget(ratio: float | None) -> float | None:
        return None if ratio is None else 1.0 - ratio / (1.0 - objective)

    return SloImpact(slo.name, objective, ratio_during, budget(ratio_start), budget(ratio_end),
                     dict(zip(PEAK_WINDOWS, peaks, strict=True)))


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _burn(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}×"


def _first(events: Sequence[TimelineEvent], *kinds: str) -> TimelineEvent | None:
    return next((e for e in events if e.kind in kinds), None)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """When the incident was acknowledged, and through which incident.

    Attributes:
        at: the acknowledge event's time.
        via: the key of the related incident whose acknowledgement it was (an alert acknowledged
            through the PagerDuty incident it paged), None for the incident's own.
    """

    at: datetime
    via: str | None = None


def acknowledgement(incident: Incident, events: Sequence[TimelineEvent],
                    related: Sequence[Incident] = ()) -> Acknowledgement | None:
    """The one definition of "acknowledged" in a draft: the incident's own first ``acknowledge``
    event, else the first one of a related incident (:func:`related_incidents`: the same
    service, started from an hour before it), else None. A silence is not an acknowledgement
    (the Status row says ``silenced``; the silence is on the timeline)."""
    mine = [e for e in events if e.kind == "acknowledge" and e.incident_id == incident.id]
    if mine:
        return Acknowledgement(mine[0].at)
    keys = {i.id: i.key for i in related}
    theirs = [e for e in events if e.kind == "acknowledge" and e.incident_id in keys]
    if theirs:
        return Acknowledgement(theirs[0].at, via=keys[theirs[0].incident_id or ""])
    return None


def _since(at: datetime, start: datetime) -> str:
    """``T+4m30s``: exact, from the same whole seconds the durations use."""
    seconds = elapsed_seconds(at, start)
    return ("T-" if seconds < 0 else "T+") + format_duration(abs(seconds))


def _safe_url(url: str | None) -> str | None:
    if not url or not url.lower().startswith(("https://", "http://")):
        return None
    return redact(sanitize_line(url)).replace(" ", "%20").replace(")", "%29")


def render_postmortem(incident: Incident, events: Sequence[TimelineEvent],
                      impacts: Sequence[SloImpact], *, all_slos: bool, generated_at: datetime,
                      timezone: str = "utc", context: str = "",
                      source_errors: dict[str, str] | None = None,
                      now: datetime | None = None, related: Sequence[Incident] = ()) -> str:
    """The Markdown draft (pure). ``related`` are the incidents whose events were added (their
    acknowledgement counts when the incident has none of its own, and says so)."""
    start = as_utc(incident.started_at)
    ack = acknowledgement(incident, events, related)
    resolved = _first(events, "resolve")
    if resolved is None and incident.status is IncidentStatus.RESOLVED:
        resolved = _first(events, "alert_end")
    resolved_at = resolved.at if resolved else (
        incident.updated_at if incident.status is IncidentStatus.RESOLVED else None)
    end = as_utc(resolved_at) if resolved_at else as_utc(now or generated_at)

    def when(at: datetime | None, missing: str) -> str:
        if at is None:
            return missing
        return f"{format_time(at, timezone, date=True)} ({_since(at, start)})"

    title = md_escape(incident.title) or "untitled incident"
    out: list[str] = [f"# Postmortem draft: {title}", ""]
    out.append(f"_Draft written by sre-cockpit at {format_time(generated_at, timezone, date=True)}"
               f"{' from context ' + md_escape(context) if context else ''}, from what it "
               "observed. Check every figure before sharing._")
    out += ["", "## Summary", "", "| Field | Value |", "|---|---|"]
    if incident.suppressed is not None:
        missing = f"not acknowledged ({incident.suppressed.value})"
    elif incident.status is IncidentStatus.ACKNOWLEDGED:
        missing = "acknowledged (time not reported)"
    else:
        missing = "not acknowledged"
    ack_text = when(ack.at if ack else None, missing)
    if ack is not None and ack.via:
        ack_text += f", through {md_escape(ack.via)}"
    rows = [
        ("Incident", md_escape(incident.key)),
        ("Title", title),
        ("Severity", md_escape(incident.severity.value)),
        ("Service", md_escape(incident.service or "unknown")),
        ("Status", md_escape(incident.status_text)),
        ("Started", when(start, "unknown")),
        ("Acknowledged", ack_text),
        ("Resolved", when(resolved_at, "not resolved yet")),
        ("Time to acknowledge",
         format_duration(max(0, elapsed_seconds(ack.at, start))) if ack else "—"),
        ("Duration", format_duration(max(0, elapsed_seconds(end, start)))
         + ("" if resolved_at else " (ongoing)")),
    ]
    if incident.assignees:
        rows.append(("Assignees", md_escape(", ".join(incident.assignees))))
    out += [f"| {k} | {v} |" for k, v in rows]

    out += ["", "## Impact", ""]
    if not impacts:
        out.append("No SLO is configured for this context, so the impact on error budgets is "
                   "unknown.")
    else:
        scope = ("every SLO of the context (no SLO is mapped to this incident's service)"
                 if all_slos else f"SLOs of service {md_escape(incident.service or '')}")
        out.append(f"Error budget over {scope}, from {format_time(start, timezone)} to "
                   f"{format_time(end, timezone)}:")
        peaks = " | ".join(f"Peak burn {w}" for w in PEAK_WINDOWS)
        out += ["", f"| SLO | Objective | Error ratio | Budget consumed | Budget left at start "
                    f"| Budget left at end | {peaks} |",
                "|---|---|---|---|---|---|" + "---|" * len(PEAK_WINDOWS)]
        for impact in impacts:
            if impact.error:
                out.append(f"| {md_escape(impact.name)} | {impact.objective * 100:g}% | "
                           f"unavailable: {md_escape(impact.error)} |" + " — |" *
                           (3 + len(PEAK_WINDOWS)))
                continue
            burns = " | ".join(_burn(impact.peak_burn.get(w)) for w in PEAK_WINDOWS)
            out.append(f"| {md_escape(impact.name)} | {impact.objective * 100:g}% | "
                       f"{_pct(impact.error_ratio, 2)} | {_pct(impact.consumed)} | "
                       f"{_pct(impact.budget_start)} | {_pct(impact.budget_end)} | {burns} |")

    out += ["", "## Timeline", ""]
    if events:
        out.append(markdown_table(events, start, timezone))
    else:
        out.append("No events were found for this incident.")
    if source_errors:
        out += ["", "Sources that could not be read (their events are missing):", ""]
        out += [f"- {md_escape(name)}: {md_escape(reason)}"
                for name, reason in sorted(source_errors.items())]

    notes = [e for e in events if e.kind == "note"]
    out += ["", "## Notes", ""]
    if notes:
        for note in notes:
            state = f" — {md_escape(note.state)}" if note.state else ""
            out.append(f"- {format_time(note.at, timezone)} ({relative_label(note.at, start)}), "
                       f"{md_escape(note.source)}{state}:")
            out.append("")
            out.append("  " + md_block(note.text).replace("\n", "\n  "))
            out.append("")
    else:
        out.append("No notes.")
    pins = [e for e in events if e.kind == "pin"]
    out += ["", "## Pinned log lines", ""]
    if pins:
        for pin in pins:
            out.append(f"- {format_time(pin.at, timezone)} ({relative_label(pin.at, start)}):")
            out.append("")
            out.append("  " + md_block(pin.text).replace("\n", "\n  "))
            out.append("")
    else:
        out.append("No log lines were pinned.")

    out += ["", "## Links", ""]
    url = _safe_url(incident.url)
    out.append(f"- Incident: <{url}>" if url else "- Incident: no link reported by the provider")
    out += ["", "## Follow-ups", "", "- [ ] Root cause:", "- [ ] What went well:",
            "- [ ] What to change:", ""]
    return "\n".join(out)


async def build_postmortem(runtime: Runtime, wanted: str, *, journal: Journal | None = None,
                           impact_timeout: float = 60.0) -> str:
    """Find the incident, gather its timeline and SLO impact, and render the draft.

    Raises:
        UnknownIncident: ``wanted`` matches no incident.
    """
    if journal is None:
        journal = Journal.for_config(runtime.config.journal_dir, clock=runtime.clock)
    known = await known_incidents(runtime, journal)
    try:
        incident = pick_incident(known.incidents, wanted, known.errors)
    except UnknownIncident:
        fetched = await _fetch_by_id(runtime, wanted)
        if fetched is None:
            raise
        incident = fetched
    now = runtime.clock()
    start = as_utc(incident.started_at)
    # a resolved incident's neighbours are those that started before it ended, not since
    # (an alert a day later on the same service is another incident)
    related_until = (as_utc(incident.updated_at) if incident.status is IncidentStatus.RESOLVED
                     and incident.updated_at else now)
    related = related_incidents(incident, known.incidents, related_until)
    report = await fetch_timeline_report(runtime, [incident, *related],
                                         since=start - timedelta(hours=1), until=now,
                                         journal=journal)
    events = filter_events(report.events, incident_ids={incident.id},
                           service=incident.service, include_global=True)
    related_ids = {i.id: i for i in related}
    for event in report.events:
        other = related_ids.get(event.incident_id or "")
        # notes too: an alert's postmortem needs what responders wrote on its page
        if other is not None and event.kind in RELATED_KINDS | {"note"} \
                and event.incident_id != incident.id:
            events.append(replace(event, text=f"{other.key}: {event.text}"))
    events.sort(key=sort_key)
    resolved = _first(events, "resolve")
    end = as_utc(resolved.at) if resolved else (
        as_utc(incident.updated_at) if incident.status is IncidentStatus.RESOLVED
        and incident.updated_at else now)
    if end <= start:
        end = start + timedelta(minutes=1)
    slos, all_slos = affected_slos(runtime, incident)
    async with asyncio.timeout(impact_timeout):
        impacts = list(await asyncio.gather(*(slo_impact(runtime, s, start, end) for s in slos)))
    return render_postmortem(incident, events, impacts, all_slos=all_slos, generated_at=now,
                             timezone=runtime.config.ui.timezone, context=runtime.context_name,
                             source_errors=report.errors, now=now, related=related)

