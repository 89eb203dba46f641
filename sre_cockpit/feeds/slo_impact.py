"""What an incident cost each SLO: budget consumed and peak burn rates over its window.

Evaluated from the SLO's own queries: the budget remaining over the SLO window at the incident's
start and at its end (instant queries with ``time=``), the error ratio over the incident window,
and the peak burn rates from range queries. Used by the postmortem draft.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sre_cockpit.config.model import SloConfig
from sre_cockpit.core.durations import format_duration
from sre_cockpit.core.models import Incident, MetricSample, MetricSeries
from sre_cockpit.core.slo import objective_fraction, render_query, window_ratio
from sre_cockpit.feeds.policy import one_line
from sre_cockpit.providers.base import MetricSource

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

PEAK_WINDOWS: tuple[str, ...] = ("5m", "1h")
"""Burn-rate windows whose peak over the incident is reported."""
MAX_RANGE_POINTS = 300


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


def _sum(samples: Sequence[MetricSample]) -> float | None:
    values = [s.value for s in samples]
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


def _by_time(series: Sequence[MetricSeries]) -> dict[float, float]:
    out: dict[float, float] = {}
    for s in series:
        for ts, value in s.points:
            if math.isfinite(value):
                out[ts] = out.get(ts, 0.0) + value
    return out


async def _peak_burn(source: MetricSource, slo: SloConfig, window: str, start: datetime,
                     end: datetime, objective: float) -> float | None:
    span = max(60.0, (end - start).total_seconds())
    step = max(15.0, math.ceil(span / MAX_RANGE_POINTS / 15.0) * 15.0)
    other = slo.good_query if slo.good_query is not None else slo.error_query
    assert other is not None
    totals, parts = await asyncio.gather(
        source.range(render_query(slo.total_query, window), start, end, step),
        source.range(render_query(other, window), start, end, step))
    total_t, part_t = _by_time(totals), _by_time(parts)
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
                         error=one_line(f"{slo.provider}: {reason}"))
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
                         error=one_line(str(exc)) or type(exc).__name__)

    def budget(ratio: float | None) -> float | None:
        return None if ratio is None else 1.0 - ratio / (1.0 - objective)

    return SloImpact(slo.name, objective, ratio_during, budget(ratio_start), budget(ratio_end),
                     dict(zip(PEAK_WINDOWS, peaks, strict=True)))


async def slo_impacts(runtime: Runtime, incident: Incident, start: datetime, end: datetime, *,
                      deadline_s: float = 60.0) -> tuple[list[SloImpact], bool]:
    """The impact on every SLO the incident touches (and whether that is every SLO)."""
    slos, all_slos = affected_slos(runtime, incident)
    async with asyncio.timeout(deadline_s):
        impacts = list(await asyncio.gather(*(slo_impact(runtime, s, start, end) for s in slos)))
    return impacts, all_slos
