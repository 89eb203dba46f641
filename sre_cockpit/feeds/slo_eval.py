"""Headless SLO evaluation: turns a context's SLO configs into :class:`SloStatus` values.

Used by ``sre-cockpit snapshot`` and by the SLO pane. For every SLO it sends, concurrently,
one instant query per burn window and per side (error or good, and total) with ``{{.window}}``
replaced, plus the same pair over the whole SLO window, and two range queries of the SLO-window
ratio for the budget trend. Identical queries of one refresh are sent once. Each provider bounds
its own in-flight requests, so 50 SLOs × 8 windows never flood a backend. The ratio is computed
here (not in PromQL) so that "no data" and "zero traffic" stay distinguishable and the queries
stay simple enough for every Prometheus-compatible engine. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from sre_cockpit.config.model import SloConfig
from sre_cockpit.config.sloth import load_sloth_file
from sre_cockpit.core import slo as maths
from sre_cockpit.core.durations import align_range
from sre_cockpit.core.models import MetricSample, MetricSeries, SloState, SloStatus
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.base import (
    DetailedMetricSource,
    MetricSource,
    ProviderError,
    QueryError,
)

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

TREND_POINTS = 24
"""Points of the budget trend (sparkline width)."""
TREND_SPAN_S = 86400.0
"""The trend covers the last day (hourly points)."""


@dataclass(frozen=True, slots=True)
class SloSpec:
    """One SLO ready to evaluate (config resolved to fractions, seconds and rules)."""

    name: str
    provider: str
    objective: float  # fraction
    window_s: float
    window: str  # label, e.g. "30d"
    numerator: str  # error or good query template
    good_based: bool
    total: str
    rules: tuple[maths.BurnRule, ...]
    burn_windows: tuple[str, ...]  # shown in the pane and the JSON
    query_windows: tuple[str, ...]  # every window queried (burn ∪ rules ∪ 1h)
    service: str | None = None
    description: str | None = None

    @classmethod
    def from_config(cls, cfg: SloConfig) -> SloSpec:
        """Resolve one :class:`SloConfig`."""
        rules = maths.rules_for(cfg.window, cfg.alerting)
        burn_windows = tuple(cfg.burn_windows or maths.DEFAULT_BURN_WINDOWS)
        numerator = cfg.error_query if cfg.error_query is not None else cfg.good_query
        assert numerator is not None  # SloConfig guarantees one of them
        return cls(
            name=cfg.name, provider=cfg.provider, objective=maths.objective_fraction(cfg.objective),
            window_s=float(cfg.window), window=maths.window_label(cfg.window),
            numerator=numerator, good_based=cfg.error_query is None, total=cfg.total_query,
            rules=rules, burn_windows=burn_windows,
            query_windows=tuple(maths.windows_to_query(burn_windows, rules)),
            service=cfg.service, description=cfg.description)

    @property
    def numerator_label(self) -> str:
        """"good" or "error"."""
        return "good" if self.good_based else "error"


@dataclass(frozen=True, slots=True)
class Answer:
    """The summed value of one instant query (None = no series) and the engine's warnings."""

    value: float | None
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class _Batch:
    """Per-refresh de-duplication of identical queries."""

    at: datetime
    instant: dict[tuple[str, str], asyncio.Task[Answer]] = field(default_factory=dict)
    ranged: dict[tuple[str, str], asyncio.Task[tuple[list[MetricSeries], tuple[str, ...]]]] = \
        field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SloRow:
    """What the pane shows for one SLO: the latest good figures and, when the latest
    evaluation failed, its error (the figures are then stale)."""

    status: SloStatus
    stale_error: str | None = None

    @property
    def stale(self) -> bool:
        """True when the figures come from an earlier evaluation."""
        return self.stale_error is not None


def merge_rows(statuses: Sequence[SloStatus], last_good: dict[str, SloStatus]) -> list[SloRow]:
    """Rows for new statuses: a failed one falls back to the last good status of its SLO
    (marked stale with the new error); without one it is shown with its error."""
    rows = []
    for status in statuses:
        good = last_good.get(status.name)
        if status.error is not None and good is not None and good.error is None:
            rows.append(SloRow(good, status.error))
        else:
            rows.append(SloRow(status))
    return rows


def _sum(samples: Sequence[MetricSample]) -> float | None:
    values = [s.value for s in samples if "__string__" not in s.labels]
    if not samples:
        return None
    if not values:
        return math.nan
    return math.fsum(values) if all(math.isfinite(v) for v in values) else sum(values)


async def _instant(provider: MetricSource, query: str, at: datetime) -> Answer:
    if isinstance(provider, DetailedMetricSource):
        result = await provider.query(query, at)
        if result.result_type == "matrix":
            raise QueryError("PromQL error: the query returns a range vector; wrap it in rate() "
                             "or similar", retryable=False)
        if result.result_type == "string":
            return Answer(math.nan, result.warnings)
        return Answer(_sum(result.samples), result.warnings)
    return Answer(_sum(await provider.instant(query, at)))


async def _range(provider: MetricSource, query: str, start: datetime, end: datetime,
                 step: float) -> tuple[list[MetricSeries], tuple[str, ...]]:
    if isinstance(provider, DetailedMetricSource):
        result = await provider.query_range(query, start, end, step)
        return list(result.series), result.warnings
    return await provider.range(query, start, end, step), ()


def _sum_series(series: Sequence[MetricSeries]) -> list[tuple[float, float]]:
    acc: dict[float, float] = {}
    for s in series:
        for ts, value in s.points:
            acc[ts] = acc.get(ts, 0.0) + value
    return sorted(acc.items())


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return sanitize_line(str(exc))
    if isinstance(exc, TimeoutError):
        return "no answer within the deadline"
    return sanitize_line(f"{type(exc).__name__}: {exc}")


def resolve_slos(runtime: Runtime) -> list[SloConfig]:
    """The context's SLOs: inline ``slos:`` then those of ``slos_from:`` (a Sloth spec, path
    relative to the config file). ``load_config`` has already merged the spec into ``slos``
    (``context.slos_imported``): then it is not read again. Otherwise (a config built in code) it
    is read here, with ``slos_from_provider`` as the provider; an imported SLO whose name is
    already present is skipped.

    Raises:
        ValueError: when the Sloth file cannot be read or is invalid.
    """
    slos = list(runtime.context.slos)
    source = runtime.context.slos_from
    if source and not runtime.context.slos_imported:
        path = Path(source).expanduser()
        if not path.is_absolute() and runtime.config.source:
            path = Path(runtime.config.source).expanduser().parent / path
        names = {s.name for s in slos}
        provider = runtime.context.slos_from_provider or ""
        slos += [s for s in load_sloth_file(path, provider=provider) if s.name not in names]
    return slos


class SloEvaluator:
    """Evaluates a context's SLOs; keeps the last good status of each for stale display.

    Args:
        runtime: the providers and the SLO configs.
        trend_points: number of points of the budget trend (0 disables the trend queries).
        trend_span_s: how far back the trend goes.
    """

    def __init__(self, runtime: Runtime, *, trend_points: int = TREND_POINTS,
                 trend_span_s: float = TREND_SPAN_S) -> None:
        self.runtime = runtime
        self.trend_points = trend_points
        self.trend_span_s = trend_span_s
        self.config_error: str | None = None
        self.specs: list[SloSpec] = []
        try:
            self.specs = [SloSpec.from_config(c) for c in resolve_slos(runtime)]
        except ValueError as exc:
            self.config_error = sanitize_line(str(exc))
            self.specs = [SloSpec.from_config(c) for c in runtime.context.slos]
        self.last_good: dict[str, SloStatus] = {}
        """Latest status without error per SLO name."""
        self.last_attempt: dict[str, SloStatus] = {}
        """Latest status per SLO name, errors included."""
        self._good_moment: dict[str, datetime | None] = {}  # the ``at`` asked for (None = live)

    def provider_for(self, spec: SloSpec) -> tuple[MetricSource | None, str | None]:
        """The metrics provider of an SLO, or None and why not (one line)."""
        sources = self.runtime.of(MetricSource)  # type: ignore[type-abstract]
        if spec.provider:
            if spec.provider in sources:
                return sources[spec.provider], None
            if spec.provider in self.runtime.build_errors:
                return None, sanitize_line(
                    f"provider {spec.provider!r} failed to start: "
                    f"{self.runtime.build_errors[spec.provider]}")
            if spec.provider in self.runtime.providers:
                return None, f"provider {spec.provider!r} cannot run PromQL queries"
            return None, f"no provider named {spec.provider!r} in this context"
        if len(sources) == 1:
            return next(iter(sources.values())), None
        return None, ("the SLO names no provider and the context has "
                      f"{len(sources) or 'no'} metrics providers; set provider:")

    async def evaluate(self, at: datetime | None = None, *,
                       only: Sequence[str] | None = None,
                       each: Callable[[SloStatus], None] | None = None) -> list[SloStatus]:
        """Evaluate every SLO (or those named in ``only``) at ``at`` (default: the runtime's
        clock), all queries concurrently. Never raises for a failing query: the status of that
        SLO carries the error. Returns worst first; ``each`` is called with every status as soon
        as it is known (its queries are sent in SLO order, so the first comes well before the
        last)."""
        when = at or self.runtime.clock()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        batch = _Batch(at=when)
        wanted = set(only) if only is not None else None
        specs = [s for s in self.specs if wanted is None or s.name in wanted]

        async def one(spec: SloSpec) -> SloStatus:
            status = await self._one(spec, batch)
            if each is not None:
                each(status)
            return status

        statuses = await asyncio.gather(*(one(spec) for spec in specs))
        for status in statuses:
            self.last_attempt[status.name] = status
            if status.error is None:
                self.last_good[status.name] = status
                self._good_moment[status.name] = at
        return maths.worst_first(statuses)

    async def refresh(self, at: datetime | None = None, *,
                      only: Sequence[str] | None = None,
                      each: Callable[[SloStatus], None] | None = None) -> list[SloRow]:
        """Evaluate and merge with the last good statuses (for a poller; ``each`` as in
        :meth:`evaluate`).

        A status that failed keeps the last good figures of its SLO, marked stale with the new
        error. When every SLO evaluated failed because its backend could not be reached (not a
        PromQL error), raises so the poller reports the source stale and backs off.

        Raises:
            ProviderError: nothing answered.
        """
        # only fall back to figures of the same view: live for live, that moment for a moment
        previous = {n: s for n, s in self.last_good.items() if self._good_moment.get(n) == at}
        statuses = await self.evaluate(at, only=only, each=each)
        if statuses and all(s.error for s in statuses) and \
                not any(s.error and "PromQL error" in s.error for s in statuses) and \
                all(self.provider_for(spec)[0] is not None for spec in self.specs
                    if only is None or spec.name in only):
            raise ProviderError(statuses[0].error or "no SLO could be evaluated")
        return merge_rows(statuses, previous)

    def _ask(self, batch: _Batch, provider: MetricSource, pname: str, query: str) -> asyncio.Task[Answer]:
        key = (pname, query)
        task = batch.instant.get(key)
        if task is None:
            task = asyncio.ensure_future(_instant(provider, query, batch.at))
            batch.instant[key] = task
        return task

    def _ask_range(self, batch: _Batch, provider: MetricSource, pname: str,
                   query: str) -> asyncio.Task[tuple[list[MetricSeries], tuple[str, ...]]]:
        key = (pname, query)
        task = batch.ranged.get(key)
        if task is None:
            step = max(1.0, self.trend_span_s / self.trend_points)
            start = batch.at - timedelta(seconds=self.trend_span_s)
            task = asyncio.ensure_future(_range(provider, query, start, batch.at, step))
            batch.ranged[key] = task
        return task

    async def _one(self, spec: SloSpec, batch: _Batch) -> SloStatus:
        at = batch.at
        provider, problem = self.provider_for(spec)
        if provider is None:
            return SloStatus(name=spec.name, objective=spec.objective, window=spec.window,
                             sli=None, error_budget_remaining=None,
                             burn_rates=MappingProxyType({w: None for w in spec.query_windows}),
                             state=SloState.NO_DATA, exhausted_at=None, evaluated_at=at,
                             service=spec.service, error=problem, description=spec.description)
        pname = spec.provider or provider.name
        windows = [*spec.query_windows, spec.window]
        queries: dict[str, str] = {}
        tasks: dict[tuple[str, str], Awaitable[Answer]] = {}
        for w in windows:
            for side, template in ((spec.numerator_label, spec.numerator), ("total", spec.total)):
                text = maths.render_query(template, w)
                queries[f"{side} [{w}]"] = text
                tasks[(w, side)] = self._ask(batch, provider, pname, text)
        trend_tasks: list[Awaitable[tuple[list[MetricSeries], tuple[str, ...]]]] = []
        if self.trend_points > 0:
            for side, template in ((spec.numerator_label, spec.numerator), ("total", spec.total)):
                text = maths.render_query(template, spec.window)
                queries[f"trend {side} (range)"] = text
                trend_tasks.append(self._ask_range(batch, provider, pname, text))
            step = max(1.0, self.trend_span_s / self.trend_points)
            align = provider.step_align if isinstance(provider, DetailedMetricSource) else True
            start, end, step = align_range(at.timestamp() - self.trend_span_s, at.timestamp(),
                                           step, align=align)
            queries["trend range"] = f"start={start:.0f} end={end:.0f} step={step:.0f}"
        keys = list(tasks)
        answers = await asyncio.gather(*tasks.values(), return_exceptions=True)
        trend_answers = await asyncio.gather(*trend_tasks, return_exceptions=True)
        errors: list[str] = []
        warnings: list[str] = []
        got: dict[tuple[str, str], Answer | None] = {}
        for key, answer in zip(keys, answers, strict=True):
            if isinstance(answer, BaseException):
                if isinstance(answer, asyncio.CancelledError):
                    raise answer
                got[key] = None
                line = _error_line(answer)
                if line not in errors:
                    errors.append(line)
            else:
                got[key] = answer
                warnings.extend(w for w in answer.warnings if w not in warnings)

        def ratio(w: str) -> maths.WindowRatio:
            num, total = got.get((w, spec.numerator_label)), got.get((w, "total"))
            if num is None or total is None:  # failed query
                return maths.QUERY_FAILED
            if spec.good_based:
                return maths.window_ratio(None, total.value, good=num.value, good_based=True)
            return maths.window_ratio(num.value, total.value)

        burn_ratios = {w: ratio(w) for w in spec.query_windows}
        figures = maths.evaluate(spec.objective, spec.window_s, ratio(spec.window), burn_ratios,
                                 spec.rules, at)
        if not maths.has_placeholder(spec.total) or not maths.has_placeholder(spec.numerator):
            warnings.append("a query has no {{.window}} placeholder: every window sees the same ratio")
        trend: tuple[float, ...] = ()
        if trend_answers:
            if any(isinstance(a, BaseException) for a in trend_answers):
                bad = next(a for a in trend_answers if isinstance(a, BaseException))
                if isinstance(bad, asyncio.CancelledError):
                    raise bad
                if not errors:
                    warnings.append(f"budget trend unavailable: {_error_line(bad)}")
            else:
                (num_series, w1), (total_series, w2) = trend_answers  # type: ignore[misc]
                warnings.extend(w for w in (*w1, *w2) if w not in warnings)
                trend = maths.budget_trend(_sum_series(num_series), _sum_series(total_series),
                                           spec.objective, good_based=spec.good_based,
                                           max_points=self.trend_points)
        shown = {w: figures.burn_rates.get(w) for w in spec.query_windows}
        return SloStatus(
            name=spec.name, objective=spec.objective, window=spec.window, evaluated_at=at,
            service=spec.service, description=spec.description,
            sli=figures.sli, error_budget_remaining=figures.budget_remaining,
            burn_rates=MappingProxyType(shown), state=figures.state,
            exhausted_at=figures.exhausted_at, trend=trend,
            error="; ".join(errors) if errors else None,
            queries=MappingProxyType(queries),
            warnings=(*figures.notes, *warnings))


async def evaluate_slos(runtime: Runtime, at: datetime | None = None, *,
                        only: Sequence[str] | None = None) -> list[SloStatus]:
    """Evaluate a context's SLOs once (worst first); see :class:`SloEvaluator`.

    Raises:
        ProviderError: when ``slos_from:`` names an unreadable or invalid Sloth spec.
    """
    evaluator = SloEvaluator(runtime)
    if evaluator.config_error:
        raise ProviderError(f"slos_from: {evaluator.config_error}", retryable=False)
    return await evaluator.evaluate(at, only=only)

