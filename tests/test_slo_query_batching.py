"""SLO evaluation asks each side's windows in one query, keeps the trend while its range holds.

An SLO poll was one instant query per window and side: 72 requests every 15 s for four SLOs,
~100 ms of the cockpit's CPU each time and a burst that held keys back. Now each side's windows
go in one ``label_replace(...) or ...`` query. Checked here against a REAL Prometheus: the
figures are exactly those of one query per window, with a quarter of the requests; an engine
that refuses the combined form (or a broken query) is asked window by window from then on, with
the same figures and the engine's own error; the trend's range query is sent again only when its
aligned range moves.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prom_helpers import PrometheusServer, have_prometheus, start_server
from prom_story import END, config_dict, history

from sre_cockpit.config.model import Config
from sre_cockpit.core.models import MetricSample, SloStatus
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slo_eval import WINDOW_LABEL, SloEvaluator, windows_query
from sre_cockpit.providers.base import MetricResult, QueryError
from sre_cockpit.providers.prometheus import PrometheusProvider

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not have_prometheus(), reason="prometheus/promtool not installed"),
]

HOUR = 3600.0
# two minutes into an hour: the trend's hourly range ended long enough ago to be kept
AT = datetime.fromtimestamp(math.floor(END / HOUR) * HOUR - HOUR + 120, UTC)


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = start_server(history(), tmp_path_factory.mktemp("prom-batching"))
    try:
        yield server
    finally:
        server.stop()


class Counting:
    """Counts a Prometheus provider's instant and range queries (wraps the real methods)."""

    def __init__(self, provider: PrometheusProvider) -> None:
        self.calls: Counter[str] = Counter()
        self.texts: list[str] = []
        self.ranges: list[tuple[datetime, str]] = []
        real_query, real_range = provider.query, provider.query_range

        async def query(text: str, at: datetime | None = None) -> MetricResult:
            self.calls["instant"] += 1
            self.texts.append(text)
            return await real_query(text, at)

        async def query_range(text: str, start: datetime, end: datetime, step_s: float) -> MetricResult:
            self.calls["range"] += 1
            self.ranges.append((end, text))
            return await real_range(text, start, end, step_s)

        provider.query = query  # type: ignore[method-assign,assignment]
        provider.query_range = query_range  # type: ignore[method-assign,assignment]


def _figures(status: SloStatus) -> tuple[Any, ...]:
    return (status.error, status.sli, status.error_budget_remaining, dict(status.burn_rates),
            status.state, status.exhausted_at, status.trend)


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (figures of SLOs without traffic)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _evaluate(prom: PrometheusServer, *ats: datetime, one_by_one: bool = False
              ) -> tuple[list[list[SloStatus]], Counting, SloEvaluator]:
    runtime = Runtime(Config.model_validate(config_dict(prom.url)), clock=lambda: ats[0])
    provider = runtime.providers["prom"]
    assert isinstance(provider, PrometheusProvider)
    counting = Counting(provider)
    evaluator = SloEvaluator(runtime)
    if one_by_one:
        evaluator.one_by_one = {(spec.provider or "prom", template) for spec in evaluator.specs
                                for template in (spec.numerator, spec.total)}

    async def run() -> list[list[SloStatus]]:
        try:
            return [await evaluator.evaluate(at) for at in ats]
        finally:
            await runtime.aclose()

    return asyncio.run(run()), counting, evaluator


def test_one_query_per_side_gives_the_figures_of_one_query_per_window(prom: PrometheusServer) -> None:
    [batched], counted, evaluator = _evaluate(prom, AT)
    [single], counted_single, _ = _evaluate(prom, AT, one_by_one=True)
    assert [s.name for s in batched] == [s.name for s in single]
    for a, b in zip(batched, single, strict=True):
        assert _same(_figures(a), _figures(b)), (a.name, _figures(a), _figures(b))
    healthy = [s for s in batched if s.error is None]
    assert len(healthy) >= 4
    # the broken query's SLO: refused as one query, then asked per window with the engine's error
    broken = next(s for s in batched if s.name == "broken-query")
    assert broken.error is not None and broken.error.startswith("PromQL error: ")
    assert "parse error" in broken.error
    broken_spec = next(spec for spec in evaluator.specs if spec.name == "broken-query")
    assert evaluator.one_by_one == {("prom", broken_spec.numerator)}
    assert "how they were sent" not in broken.queries
    for status in healthy:
        assert "label_replace(<query>" in status.queries["how they were sent"]
        for window in (*status.burn_rates, status.window):  # each window's query is still shown
            assert status.queries[f"total [{window}]"].endswith(f"[{window}]))")
    # a quarter of the requests or fewer (8 windows per side)
    assert counted.calls["instant"] * 4 <= counted_single.calls["instant"], (
        counted.calls, counted_single.calls)
    assert any(WINDOW_LABEL in t and " or " in t for t in counted.texts)


def test_the_trend_is_asked_again_only_when_its_range_moves(prom: PrometheusServer) -> None:
    later = datetime.fromtimestamp(AT.timestamp() + 15, UTC)
    next_hour = datetime.fromtimestamp(AT.timestamp() + HOUR, UTC)
    [first, again, moved], counted, _ = _evaluate(prom, AT, later, next_hour)
    asked = {end: [text for e, text in counted.ranges if e == end] for end in (AT, later, next_hour)}
    assert len(asked[AT]) >= 8
    assert asked[next_hour] == asked[AT]  # a new hour: every trend asked again
    # AT and AT+15s share the hourly range: only the trend whose answer failed is asked again
    assert asked[later] == ['sum(rate(http_requests_total{code=~"5.."}[30d])'], asked[later]
    assert [s.trend for s in first] == [s.trend for s in again]
    assert any(a.trend != b.trend for a, b in zip(first, moved, strict=True))


# ---------------------------------------------------------------- an engine without label_replace


class NoLabelReplace:
    """A Prometheus-compatible engine without ``label_replace``: it refuses it (``refuse``) or
    answers as if the query had no labels at all (a stub or a careless proxy); every window's
    query answers the window's length in hours (error side: a tenth of it)."""

    name = "plain"
    step_align = True

    def __init__(self, *, refuse: bool = True) -> None:
        self.refuse = refuse
        self.texts: list[str] = []

    async def query(self, query: str, at: datetime | None = None) -> MetricResult:
        self.texts.append(query)
        if "label_replace" in query and self.refuse:
            raise QueryError('PromQL error: unknown function with name "label_replace"',
                             retryable=False)
        hours = {"[5m]": 5 / 60, "[1h]": 1.0, "[30d]": 720.0}
        value = next((v for k, v in hours.items() if k in query), 2.0)
        value = value / 10 if "errors" in query else value
        return MetricResult(result_type="vector",
                            samples=(MetricSample(labels={}, value=value, ts=0.0),),
                            series=(), string=None, warnings=(), sent={})

    async def query_range(self, query: str, start: datetime, end: datetime,
                          step_s: float) -> MetricResult:
        return MetricResult(result_type="matrix", samples=(), series=(), string=None,
                            warnings=(), sent={})

    async def instant(self, query: str, at: datetime | None = None) -> list[MetricSample]:
        return list((await self.query(query, at)).samples)

    async def range(self, query: str, start: datetime, end: datetime, step_s: float) -> list[Any]:
        return []

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("refuse", [True, False], ids=["refused", "answered-unlabelled"])
def test_an_engine_without_label_replace_is_asked_per_window(refuse: bool) -> None:
    cfg = {"contexts": {"c": {"providers": {"plain": {"type": "prometheus", "url": "http://x"}},
                              "slos": [{"name": "s", "objective": 99.0, "window": "30d",
                                        "provider": "plain",
                                        "error_query": "sum(rate(errors[{{.window}}]))",
                                        "total_query": "sum(rate(all[{{.window}}]))"}]}}}
    runtime = Runtime(Config.model_validate(cfg), "c")
    engine = NoLabelReplace(refuse=refuse)
    runtime.providers["plain"] = engine  # type: ignore[assignment]
    evaluator = SloEvaluator(runtime, trend_points=0)

    async def run() -> tuple[list[SloStatus], list[SloStatus]]:
        try:
            return await evaluator.evaluate(), await evaluator.evaluate()
        finally:
            await runtime.aclose()

    first, second = asyncio.run(run())
    windows = len(evaluator.specs[0].query_windows) + 1
    combined = [t for t in engine.texts if "label_replace" in t]
    assert len(combined) == 2  # one per side, first poll only
    assert len(engine.texts) == 2 + 2 * 2 * windows
    for status in (first[0], second[0]):
        assert status.error is None
        assert status.burn_rates["1h"] == pytest.approx(0.1 / 0.01)
        assert "how they were sent" not in status.queries


def test_windows_query_labels_each_window() -> None:
    text = windows_query({"5m": "sum(rate(x[5m]))", "1h": "sum(rate(x[1h]))"})
    assert text == (f'label_replace(sum(rate(x[5m])), "{WINDOW_LABEL}", "5m", "", "") or '
                    f'label_replace(sum(rate(x[1h])), "{WINDOW_LABEL}", "1h", "", "")')
