"""A snapshot of one context: provider status, incidents, SLOs and timeline at one moment.

``collect_snapshot`` fetches everything once through a :class:`~sre_cockpit.feeds.runtime.Runtime`;
``to_dict`` gives the binding JSON shape (``sre-cockpit.snapshot/v1``); ``render_text`` and
``render_markdown`` give terminal-safe and Markdown-safe reports. Reused by ``snapshot`` and the
postmortem export. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sre_cockpit.core.models import Incident, SloStatus, TimelineEvent
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.base import IncidentSource, Provider, ProviderError
from sre_cockpit.providers.http import HttpOptions, redact, secrets_of

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

SCHEMA = "sre-cockpit.snapshot/v1"
GRACE_S = 2.0  # on top of a provider's own timeout before we give up on it


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


def provider_deadline(provider: Provider) -> float:
    """How long to wait for one provider: its own ``timeout`` option plus a grace period."""
    timeout = getattr(provider.options, "timeout", None)
    return (float(timeout) if isinstance(timeout, int | float) and timeout > 0 else 10.0) + GRACE_S


def provider_error(provider: Provider | None, exc: BaseException) -> str:
    """One redacted, terminal-safe line for an exception raised by a provider call."""
    if isinstance(exc, ProviderError):
        text = str(exc)
    elif isinstance(exc, TimeoutError):
        text = "no answer within the deadline"
    elif isinstance(exc, NotImplementedError):
        text = "not implemented by this provider"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return clean_error(provider, text)


def clean_error(provider: Provider | None, text: str) -> str:
    """Redact a provider's secrets (and generic credential shapes) and make one safe line."""
    secrets: list[str] = []
    options = getattr(provider, "options", None)
    if isinstance(options, HttpOptions):
        secrets = secrets_of(options)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return sanitize_line(redact(lines[0] if lines else text, secrets))


async def timed(provider: Provider, call: Callable[[], Any]) -> tuple[Any, float, str | None]:
    """Await ``call()`` under the provider's deadline: (result, latency ms, error or None)."""
    start = time.perf_counter()
    deadline = provider_deadline(provider)
    try:
        async with asyncio.timeout(deadline):
            result = await call()
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        return None, (time.perf_counter() - start) * 1000, clean_error(
            provider, f"{provider.name}: no answer within {deadline:g}s")
    except Exception as exc:
        return None, (time.perf_counter() - start) * 1000, provider_error(provider, exc)
    return result, (time.perf_counter() - start) * 1000, None


async def collect_snapshot(runtime: Runtime, *, at: datetime | None = None) -> Snapshot:
    """Fetch everything once: incidents from every incident source (other providers are
    probed), then SLOs and the timeline. A failing provider is reported, never fatal."""
    generated_at = at or runtime.clock()
    statuses: dict[str, ProviderStatus] = {}
    for name, reason in runtime.build_errors.items():
        statuses[name] = ProviderStatus(name, runtime.types.get(name, "?"), False, None,
                                        sanitize_line(reason))
    incidents: list[Incident] = []

    async def visit(name: str, provider: Provider) -> None:
        type_name = runtime.types.get(name) or provider.TYPE
        if isinstance(provider, IncidentSource):
            result, latency, error = await timed(provider, provider.list_incidents)
            if error is None:
                incidents.extend(result or [])
            statuses[name] = ProviderStatus(name, type_name, error is None, latency, error)
            return
        result, latency, error = await timed(provider, provider.probe)
        if error is None and result is not None and not getattr(result, "ok", True):
            error = clean_error(provider, str(getattr(result, "error", None) or "probe failed"))
        if error is None and result is not None and getattr(result, "latency_ms", None):
            latency = float(result.latency_ms)
        statuses[name] = ProviderStatus(name, type_name, error is None, latency, error)

    await asyncio.gather(*(visit(n, p) for n, p in runtime.providers.items()))
    incidents.sort(key=lambda i: (i.status.rank, i.severity.rank, -i.started_at.timestamp(),
                                  i.key))
    problems: list[str] = []
    slos: list[SloStatus] = []
    timeline: list[TimelineEvent] = []
    evaluate = _optional("sre_cockpit.feeds.slo_eval", "evaluate_slos")
    feed = _optional("sre_cockpit.feeds.timeline_sources", "fetch_timeline")

    async def get_slos() -> None:
        if evaluate is not None:
            try:
                # the SLOs are figures *at generated_at*: the incident fetches above can take
                # seconds (a hanging provider up to its deadline), and a burn window read later
                # no longer matches Prometheus' answer at the snapshot's own timestamp
                slos.extend(await evaluate(runtime, at=generated_at))
            except ProviderError as exc:
                problems.append(f"SLOs: {clean_error(None, str(exc))}")

    async def get_timeline() -> None:
        if feed is not None:
            try:
                timeline.extend(await feed(runtime, list(incidents)))
            except ProviderError as exc:
                problems.append(f"timeline: {clean_error(None, str(exc))}")

    await asyncio.gather(get_slos(), get_timeline())
    ordered = [statuses[n] for n in runtime.context.providers if n in statuses]
    ordered += [s for n, s in statuses.items() if n not in runtime.context.providers]
    secrets = runtime.config.secret_values()
    if secrets:  # belt and braces: no configured secret leaves through an error string
        ordered = [replace(p, error=redact(p.error, secrets) if p.error else None)
                   for p in ordered]
        slos = [replace(s, error=redact(s.error, secrets) if s.error else None) for s in slos]
        problems = [redact(p, secrets) for p in problems]
    return Snapshot(generated_at=generated_at, context=runtime.context_name,
                    providers=tuple(ordered), incidents=tuple(incidents), slos=tuple(slos),
                    timeline=tuple(sorted(timeline, key=lambda e: e.at)),
                    problems=tuple(problems))


def _optional(module: str, attr: str) -> Any:
    """``module.attr`` or None while the module (written by another part) does not exist.
    Only the module's own absence is tolerated; an import error inside it propagates."""
    try:
        mod = __import__(module, fromlist=[attr])
    except ImportError as exc:
        if exc.name == module:
            return None
        raise
    return getattr(mod, attr, None)


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
    from sre_cockpit.cli.common import format_table

    return format_table(headers, rows).splitlines()


def _latency(ms: float | None) -> str:
    from sre_cockpit.cli.common import format_latency

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
