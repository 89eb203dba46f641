"""The postmortem draft: summary, SLO impact, timeline, notes, pinned lines and links (headless).

Built from what the cockpit can see: the incident providers, the timeline sources, the operator's
journal and the SLO queries evaluated at the incident's start and end (``time=`` on instant
queries) plus a range query for peak burn rates. Every piece of external text is sanitised and
Markdown-escaped; provider URLs and credentials never appear (only the incident's own link, with
secrets redacted). Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sre_cockpit.core.durations import format_duration
from sre_cockpit.core.models import Incident, IncidentStatus, TimelineEvent
from sre_cockpit.core.sanitize import sanitize_line
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
from sre_cockpit.feeds.incident_lookup import (
    UnknownIncident,
    find_incident,
    pick_incident,
    related_incidents,
)
from sre_cockpit.feeds.policy import redact
from sre_cockpit.feeds.slo_impact import PEAK_WINDOWS, SloImpact, slo_impacts
from sre_cockpit.feeds.timeline_sources import fetch_timeline_report

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit

__all__ = ["PEAK_WINDOWS", "SloImpact", "UnknownIncident", "build_postmortem", "find_incident",
           "pick_incident", "render_postmortem"]

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


async def build_postmortem(cockpit: Cockpit, wanted: str, *,
                           impact_timeout: float = 60.0) -> str:
    """Find the incident (the incident feed, the notes, a provider that can fetch it by id),
    gather its timeline and SLO impact, and render the draft.

    Raises:
        UnknownIncident: ``wanted`` matches no incident.
    """
    runtime = cockpit.runtime
    incident, known = await find_incident(cockpit, wanted)
    now = runtime.clock()
    start = as_utc(incident.started_at)
    # a resolved incident's neighbours are those that started before it ended, not since
    # (an alert a day later on the same service is another incident)
    related_until = (as_utc(incident.updated_at) if incident.status is IncidentStatus.RESOLVED
                     and incident.updated_at else now)
    related = related_incidents(incident, known.incidents, related_until)
    context = cockpit.context
    report = await fetch_timeline_report(runtime, [incident, *related],
                                         since=start - timedelta(hours=1), until=now,
                                         journal=cockpit.notes.journal, context=context)
    # notes and pins belong to the incident they were written for: an unattached pin is no
    # part of this postmortem (the report holds this context's notes only)
    mine = [e for e in report.events if e.kind not in ("note", "pin") or e.incident_id]
    events = filter_events(mine, incident_ids={incident.id}, service=incident.service,
                           include_global=True)
    related_ids = {i.id: i for i in related}
    for event in mine:
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
    impacts, all_slos = await slo_impacts(runtime, incident, start, end,
                                          deadline_s=impact_timeout)
    return render_postmortem(incident, events, impacts, all_slos=all_slos, generated_at=now,
                             timezone=runtime.config.ui.timezone, context=context,
                             source_errors=report.errors, now=now, related=related)

