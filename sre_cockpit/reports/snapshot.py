"""A snapshot of one context: provider status, incidents, SLOs and timeline at one moment.

``collect_snapshot`` asks every feed of a :class:`~sre_cockpit.feeds.cockpit.Cockpit` once;
``to_dict`` gives the binding JSON shape (``sre-cockpit.snapshot/v1``); ``render_text`` and
``render_markdown`` give terminal-safe and Markdown-safe reports. Reused by ``snapshot`` and the
postmortem export. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import json
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sre_cockpit.core.models import HealthState, Incident, SloStatus, TimelineEvent
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.tables import format_latency, format_table
from sre_cockpit.feeds.policy import one_line, redact
from sre_cockpit.feeds.probes import ProbeFeed

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit

SCHEMA = "sre-cockpit.snapshot/v1"


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """Did one provider answer while the snapshot was taken."""

    name: str
    type: str
    ok: bool
    latency_ms: float | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the cockpit shows, at one moment."""

    generated_at: datetime
    context: str
    providers: tuple[ProviderStatus, ...] = ()
    incidents: tuple[Incident, ...] = ()
    slos: tuple[SloStatus, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)  # not in JSON; stderr lines

    @property
    def ok(self) -> bool:
        """True when every provider answered and nothing else failed."""
        return all(p.ok for p in self.providers) and not self.problems


# ------------------------------------------------------------------------------ collecting


async def collect_snapshot(cockpit: Cockpit, *, at: datetime | None = None) -> Snapshot:
    """Ask every feed once: the incidents (every incident provider, the one ordering and the one
    deadline policy of the TUI), a probe of every other provider, the SLOs evaluated at
    ``generated_at`` and the timeline. A failing provider or timeline source is reported,
    never fatal."""
    runtime = cockpit.runtime
    generated_at = at or runtime.clock()
    others = [n for n in runtime.providers if n not in cockpit.incidents.sources]
    incidents, probes = await asyncio.gather(cockpit.incidents.refresh(),
                                             ProbeFeed(runtime, names=others).refresh())
    statuses: dict[str, ProviderStatus] = {}
    for name, reason in runtime.build_errors.items():
        statuses[name] = ProviderStatus(name, runtime.types.get(name, "?"), False, None,
                                        one_line(reason))
    for source in (*incidents.sources, *probes.sources):
        if source.provider in statuses:
            continue
        ok = source.state is HealthState.OK
        statuses[source.provider] = ProviderStatus(
            source.provider, runtime.types.get(source.provider, "?"), ok, source.latency_ms,
            None if ok else one_line(source.error or source.state.value))
    # the SLOs are figures *at generated_at*: the incident fetches above can take seconds (a
    # hanging provider up to its deadline), and a burn window read later no longer matches
    # Prometheus' answer at the snapshot's own timestamp
    slos, timeline = await asyncio.gather(cockpit.slos.refresh(at=generated_at),
                                          cockpit.timeline.refresh())
    problems: list[str] = []
    if slos.config_error:
        problems.append(f"SLOs: slos_from: {slos.config_error}")
    for source in timeline.sources:
        if source.state is not HealthState.OK:
            problems.append(f"timeline: {source.label or source.provider}: "
                            f"{source.error or source.state.value}")
    ordered = [statuses[n] for n in runtime.context.providers if n in statuses]
    ordered += [s for n, s in statuses.items() if n not in runtime.context.providers]
    statuses_slo = list(slos.statuses)
    secrets = tuple(runtime.config.secret_values())
    if secrets:  # belt and braces: no configured secret leaves through an error string
        ordered = [replace(p, error=redact(p.error, secrets) if p.error else None)
                   for p in ordered]
        statuses_slo = [replace(s, error=redact(s.error, secrets) if s.error else None)
                        for s in statuses_slo]
        problems = [redact(p, secrets) for p in problems]
    return Snapshot(generated_at=generated_at, context=runtime.context_name,
                    providers=tuple(ordered), incidents=incidents.incidents,
                    slos=tuple(statuses_slo),
                    timeline=tuple(sorted(timeline.events, key=lambda e: e.at)),
                    problems=tuple(problems))


# ------------------------------------------------------------------------------ conversion


def rfc3339(when: datetime | None) -> str | None:
    """``2026-01-02T03:04:05Z`` (UTC; fractional seconds kept when present)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _num(value: float | None, digits: int | None = None) -> float | None:
    if value is None or not isinstance(value, int | float) or math.isnan(value) or math.isinf(value):
        return None
    return round(float(value), digits) if digits is not None else float(value)


def provider_to_dict(p: ProviderStatus) -> dict[str, Any]:
    """One ``providers[]`` entry."""
    return {"name": p.name, "type": p.type, "ok": p.ok, "latency_ms": _num(p.latency_ms, 1),
            "error": p.error}


def incident_to_dict(i: Incident) -> dict[str, Any]:
    """One ``incidents[]`` entry. ``status`` keeps v1's three values; ``suppressed`` (added in
    v1, null unless set) says why an ``acknowledged`` alert is quiet: ``silenced`` or
    ``inhibited``."""
    return {"id": i.id, "provider": i.provider, "title": i.title, "status": i.status.value,
            "severity": i.severity.value, "service": i.service,
            "started_at": rfc3339(i.started_at), "url": i.url,
            "suppressed": i.suppressed.value if i.suppressed is not None else None}


def slo_to_dict(s: SloStatus) -> dict[str, Any]:
    """One ``slos[]`` entry."""
    return {"name": s.name, "objective": _num(s.objective), "window": s.window,
            "sli": _num(s.sli), "error_budget_remaining": _num(s.error_budget_remaining),
            "burn_rates": {str(k): _num(v) for k, v in s.burn_rates.items()},
            "state": s.state.value, "exhausted_at": rfc3339(s.exhausted_at)}


def event_to_dict(e: TimelineEvent) -> dict[str, Any]:
    """One ``timeline[]`` entry."""
    return {"at": rfc3339(e.at), "kind": e.kind, "source": e.source,
            "incident_id": e.incident_id, "text": e.text}


def to_dict(snap: Snapshot) -> dict[str, Any]:
    """The binding JSON shape ``sre-cockpit.snapshot/v1``."""
    return {
        "schema": SCHEMA,
        "generated_at": rfc3339(snap.generated_at),
        "context": snap.context,
        "providers": [provider_to_dict(p) for p in snap.providers],
        "incidents": [incident_to_dict(i) for i in snap.incidents],
        "slos": [slo_to_dict(s) for s in snap.slos],
        "timeline": [event_to_dict(e) for e in snap.timeline],
    }


def _escape_invisible(text: str) -> str:
    """Escape characters that are valid in JSON strings but unsafe on a terminal (C0/C1
    controls, bidi overrides, zero-width, line separators) as ``\\uXXXX``."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp") and ch not in "\n":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else
                       json.dumps(ch, ensure_ascii=True)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


def render_json(snap: Snapshot) -> str:
    """Pretty JSON, UTF-8 kept readable but every terminal-unsafe character escaped."""
    return _escape_invisible(json.dumps(to_dict(snap), indent=2, ensure_ascii=False,
                                        allow_nan=False)) + "\n"


# ------------------------------------------------------------------------------- text


def _pct(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value) or math.isinf(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def _rate(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.1f}x"


def _ts(when: datetime | None) -> str:
    if when is None:
        return "—"
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return format_table(headers, rows).splitlines()


def _latency(ms: float | None) -> str:
    return format_latency(ms)


def _burns(rates: Mapping[str, float | None]) -> str:
    return " ".join(f"{k}={_rate(v)}" for k, v in rates.items()) or "—"


def _provider_rows(snap: Snapshot) -> list[list[str]]:
    return [[p.name, p.type, "ok" if p.ok else "FAIL", _latency(p.latency_ms), p.error or ""]
            for p in snap.providers]


def _incident_rows(snap: Snapshot) -> list[list[str]]:
    return [[i.severity.value, i.status_text, i.title, i.service or "—", _ts(i.started_at),
             f"{i.provider}:{i.id}"] for i in snap.incidents]


def _slo_rows(snap: Snapshot) -> list[list[str]]:
    return [[s.name, s.state.value, _pct(s.objective, 2), s.window, _pct(s.sli),
             _pct(s.error_budget_remaining, 1), _burns(s.burn_rates), _ts(s.exhausted_at),
             s.error or ""] for s in snap.slos]


def _event_rows(snap: Snapshot) -> list[list[str]]:
    return [[_ts(e.at), e.kind, e.source, e.incident_id or "", e.text] for e in snap.timeline]


PROVIDER_HEADERS = ("NAME", "TYPE", "STATUS", "LATENCY", "ERROR")
INCIDENT_HEADERS = ("SEVERITY", "STATUS", "TITLE", "SERVICE", "STARTED", "ID")
SLO_HEADERS = ("SLO", "STATE", "OBJECTIVE", "WINDOW", "SLI", "BUDGET LEFT", "BURN RATES",
               "EXHAUSTED AT", "ERROR")
EVENT_HEADERS = ("AT", "KIND", "SOURCE", "INCIDENT", "TEXT")


def render_text(snap: Snapshot) -> str:
    """A plain-text report; every external string is sanitised to one terminal-safe line."""
    out = [f"sre-cockpit snapshot of context {sanitize_line(snap.context)} at "
           f"{_ts(snap.generated_at)}", ""]
    sections: list[tuple[str, Sequence[str], list[list[str]], str]] = [
        ("Providers", PROVIDER_HEADERS, _provider_rows(snap), "no providers configured"),
        ("Incidents", INCIDENT_HEADERS, _incident_rows(snap), "no open incidents"),
        ("SLOs", SLO_HEADERS, _slo_rows(snap), "no SLOs"),
        ("Timeline", EVENT_HEADERS, _event_rows(snap), "no events"),
    ]
    for title, headers, rows, empty in sections:
        out.append(f"{title} ({len(rows)})")
        if rows:
            out.extend("  " + line for line in _table(headers, rows))
        else:
            out.append(f"  {empty}")
        out.append("")
    return "\n".join(out)


def md_cell(text: str) -> str:
    """One Markdown table cell: sanitised, pipes and markup characters escaped."""
    text = sanitize_line(text)
    for ch in "\\`*_[]<>|#~":
        text = text.replace(ch, "\\" + ch)
    return text


def _md_table(headers: Sequence[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(snap: Snapshot) -> str:
    """A Markdown report with one table per section (cells escaped)."""
    out = [f"# sre-cockpit snapshot: {md_cell(snap.context)}", "",
           f"Generated at {_ts(snap.generated_at)}.", ""]
    sections: list[tuple[str, Sequence[str], list[list[str]], str]] = [
        ("Providers", PROVIDER_HEADERS, _provider_rows(snap), "No providers configured."),
        ("Incidents", INCIDENT_HEADERS, _incident_rows(snap), "No open incidents."),
        ("SLOs", SLO_HEADERS, _slo_rows(snap), "No SLOs."),
        ("Timeline", EVENT_HEADERS, _event_rows(snap), "No events."),
    ]
    for title, headers, rows, empty in sections:
        out.append(f"## {title}")
        out.append("")
        out.extend(_md_table(headers, rows) if rows else [empty])
        out.append("")
    return "\n".join(out)


RENDERERS: dict[str, Callable[[Snapshot], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
