"""Headless SLO evaluation: turns a context's SLO configs into :class:`SloStatus` values.

Used by ``sre-cockpit snapshot`` and by the SLO pane. For every SLO it asks, concurrently, each
side (error or good, and total) over every burn window and the whole SLO window with
``{{.window}}`` replaced, and two range queries of the SLO-window ratio for the budget trend.
Against a Prometheus-compatible engine the windows of one side go in one instant query: each
window's query is labelled with ``label_replace`` and the results joined with ``or`` (8 windows:
one request instead of 8; an SLO poll was 72 requests and ~100 ms of the cockpit's CPU for four
SLOs). An engine that refuses that form gets one query per window from then on. The trend's
answer is kept until its aligned range moves. Identical queries of one refresh are sent once.
Each provider bounds its own in-flight requests, so 50 SLOs never flood a backend. The ratio is computed
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
WINDOW_LABEL = "sre_cockpit_window"
"""Label that tells the windows apart in a query asking every window of one side at once."""
SETTLED_S = 60.0
"""A trend whose aligned range ended at least this long before it was asked is kept until the
range moves (late samples have landed by then)."""


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
    windows: dict[tuple[str, str], asyncio.Task[dict[str, Answer]]] = field(default_factory=dict)


def windows_query(texts: dict[str, str]) -> str:
    """One PromQL query asking every window's query at once (window → query text): each
    labelled ``sre_cockpit_window="<window>"``, joined with ``or``."""
    return " or ".join(f'label_replace({text}, "{WINDOW_LABEL}", "{window}", "", "")'
                       for window, text in texts.items())


async def _windows(provider: DetailedMetricSource, texts: dict[str, str], at: datetime
                   ) -> dict[str, Answer]:
    """Every window's answer from one :func:`windows_query`.

    Raises:
        QueryError: the engine refused the query or answered samples without the window
            labels (not retryable: ask window by window), or what the provider raises.
    """
    result = await provider.query(windows_query(texts), at)
    if result.result_type != "vector":
        raise QueryError(f"PromQL error: the windows query returned a {result.result_type}",
                         retryable=False)
    samples: dict[str, list[MetricSample]] = {w: [] for w in texts}
    for sample in result.samples:
        window = sample.labels.get(WINDOW_LABEL)
        if window not in samples:  # an engine (or proxy) that answers without the labels
            raise QueryError("PromQL error: the windows query came back without its "
                             f"{WINDOW_LABEL} labels", retryable=False)
        samples[window].append(sample)
    return {w: Answer(_sum(found), result.warnings) for w, found in samples.items()}


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
        self.one_by_one: set[tuple[str, str]] = set()
        """(provider, query template) whose windows query the engine refused: asked per window."""
        self._trends: dict[tuple[str, str], tuple[tuple[float, float, float],
                                                  tuple[list[MetricSeries], tuple[str, ...]]]] = {}

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

    async def _side(self, batch: _Batch, provider: MetricSource, pname: str, template: str,
                    windows: Sequence[str]) -> dict[str, Answer | BaseException]:
        """One side's answer per window: one windows query (:func:`windows_query`) when the
        engine takes it, else one query per window."""
        texts = {w: maths.render_query(template, w) for w in windows}
        if isinstance(provider, DetailedMetricSource) and len(texts) > 1 and \
                (pname, template) not in self.one_by_one:
            key = (pname, windows_query(texts))
            task = batch.windows.get(key)
            if task is None:
                task = asyncio.ensure_future(_windows(provider, texts, batch.at))
                batch.windows[key] = task
            try:
                return dict(await asyncio.shield(task))
            except QueryError as exc:
                if exc.retryable:
                    return dict.fromkeys(texts, exc)
                # the engine refused the combined form (or the query itself): ask each window,
                # which also gives each its own error when the query itself is wrong
                self.one_by_one.add((pname, template))
            except Exception as exc:  # as one query per window would: that side's error
                return dict.fromkeys(texts, exc)
        answers = await asyncio.gather(*(self._ask(batch, provider, pname, t)
                                         for t in texts.values()), return_exceptions=True)
        return dict(zip(texts, answers, strict=True))

    def _ask_range(self, batch: _Batch, provider: MetricSource, pname: str,
                   query: str) -> asyncio.Task[tuple[list[MetricSeries], tuple[str, ...]]]:
        key = (pname, query)
        task = batch.ranged.get(key)
        if task is None:
            step = max(1.0, self.trend_span_s / self.trend_points)
            start = batch.at - timedelta(seconds=self.trend_span_s)
            task = asyncio.ensure_future(self._trend(provider, key, start, batch.at, step))
            batch.ranged[key] = task
        return task

    async def _trend(self, provider: MetricSource, key: tuple[str, str], start: datetime,
                     end: datetime, step: float) -> tuple[list[MetricSeries], tuple[str, ...]]:
        """A trend range query, or its last answer while the aligned range has not moved (the
        answer is then the same, once late samples have landed)."""
        align = provider.step_align if isinstance(provider, DetailedMetricSource) else True
        aligned = align_range(start.timestamp(), end.timestamp(), step, align=align)
        kept = self._trends.get(key)
        if align and kept is not None and kept[0] == aligned:
            return kept[1]
        answer = await _range(provider, key[1], start, end, step)
        if align and end.timestamp() - aligned[1] >= SETTLED_S:
            self._trends[key] = (aligned, answer)
        return answer

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
        windows = list(dict.fromkeys([*spec.query_windows, spec.window]))
        sides = ((spec.numerator_label, spec.numerator), ("total", spec.total))
        queries: dict[str, str] = {}
        for w in windows:
            for side, template in sides:
                queries[f"{side} [{w}]"] = maths.render_query(template, w)
        side_tasks = [asyncio.ensure_future(self._side(batch, provider, pname, template, windows))
                      for _side, template in sides]
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
        side_answers = await asyncio.gather(*side_tasks)
        trend_answers = await asyncio.gather(*trend_tasks, return_exceptions=True)
        if isinstance(provider, DetailedMetricSource) and \
                all((pname, template) not in self.one_by_one for _s, template in sides):
            queries["how they were sent"] = (
                f'one query per side: each window\'s query as label_replace(<query>, '
                f'"{WINDOW_LABEL}", "<window>", "", ""), joined with or')
        errors: list[str] = []
        warnings: list[str] = []
        got: dict[tuple[str, str], Answer | None] = {}
        answers_by_key = {(w, side): answer
                          for (side, _t), answers in zip(sides, side_answers, strict=True)
                          for w, answer in answers.items()}
        for key, answer in answers_by_key.items():
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

