"""Log volume: the metric query built from the tailed query, the Loki provider's metric range
call parsed from the recorded matrix, and the matrix turned into strip columns by level."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

import httpx
import pytest

from sre_cockpit.core.logvolume import (
    LEVELS,
    VolumeStrip,
    duration_text,
    level_index,
    strip_range,
    volume_logql,
    volume_strip,
)
from sre_cockpit.core.models import MetricSeries
from sre_cockpit.providers.base import LogVolumeSource, ProviderError
from sre_cockpit.providers.http import RetryPolicy
from sre_cockpit.providers.loki import LogQLError, LokiOptions, LokiProvider
from sre_cockpit.providers.loki_explore import parse_matrix

Handler = Callable[[httpx.Request], httpx.Response]


def series(labels: dict[str, str], points: list[tuple[float, float]]) -> MetricSeries:
    return MetricSeries(MappingProxyType(labels), tuple(points))


def make(handler: Handler) -> LokiProvider:
    opts = LokiOptions.model_validate({"type": "loki", "url": "http://loki.test:3100"})
    provider = LokiProvider("loki", opts, transport=httpx.MockTransport(handler))
    provider.http.retry = RetryPolicy(attempts=1)
    return provider


def test_volume_query() -> None:
    assert volume_logql('{app="x"} |= "err" | json | level="error"', 60) == (
        'sum by (level, detected_level) (count_over_time({app="x"} |= "err" [1m]))')
    assert volume_logql('{app="x"}', 45, by=("level",)) == (
        'sum by (level) (count_over_time({app="x"} [45s]))')
    assert volume_logql('{app="x"}', 3600, by=()) == 'sum(count_over_time({app="x"} [1h]))'
    # a filter that cannot be shaped still counts; stages after the first '|' do not
    assert volume_logql('{app="x"} |= "a" |= ip("1.2.3.4") |json |= "later"', 60) == (
        'sum by (level, detected_level) (count_over_time({app="x"} |= "a" |= ip("1.2.3.4") [1m]))')
    # a query that cannot be shaped at all is counted whole
    assert volume_logql('{app="x"} | label_format a=(b', 60) == (
        'sum by (level, detected_level) (count_over_time({app="x"} | label_format a=(b [1m]))')
    with pytest.raises(ValueError):
        volume_logql('{app="x"}', 60, by=("bad-name",))
    assert [duration_text(s) for s in (1, 59, 60, 90, 120, 3600, 7200, 0.25, 1.5)] == [
        "1s", "59s", "1m", "90s", "2m", "1h", "2h", "250ms", "1500ms"]
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError):
            duration_text(bad)


def test_strip_range_is_aligned_to_the_step() -> None:
    start, end, step = strip_range(1_790_000_123.4, 3600, 80)
    assert step == 45 and end % 45 == 0 and end >= 1_790_000_123.4 and end - start == 80 * 45
    assert strip_range(100, 10, 40) == (60.0, 100.0, 1.0)  # never below one second
    for bad in ((100, 0, 10), (100, 60, 0), (100, 60, 5000), (math.nan, 60, 10)):
        with pytest.raises(ValueError):
            strip_range(*bad)


def test_level_of_a_series() -> None:
    assert [LEVELS[level_index(x)] for x in (
        {"level": "ERROR"}, {"detected_level": "warning"}, {"level": "", "detected_level": "info"},
        {"level": "fatal"}, {"detected_level": "unknown"}, {}, {"level": "debug"},
        {"level": "trace"})] == ["error", "warn", "info", "error", "other", "other", "debug", "debug"]


def test_volume_strip_columns() -> None:
    start, step = 1000.0, 60.0
    data = [series({"level": "error"}, [(1060, 3), (1120, 1), (1300, 5)]),
            series({"detected_level": "info"}, [(1060, 10), (1180, 7), (1000, 99), (1500, 99)]),
            series({"level": "warn"}, [(1090, 2), (1120, math.nan), (1120, -4)])]
    strip = volume_strip(data, start, step, 5)
    assert [c.counts for c in strip.columns] == [
        (3, 0, 10, 0, 0), (1, 2, 0, 0, 0), (0, 0, 7, 0, 0), (0, 0, 0, 0, 0), (5, 0, 0, 0, 0)]
    assert (strip.peak, strip.total) == (13, 28)
    assert strip.columns[1].count("warn") == 2 and strip.columns[0].total == 13
    assert (strip.columns[0].start_s, strip.columns[0].end_s) == (1000, 1060)
    assert [strip.column_at(t) for t in (1000, 1000.5, 1060, 1061, 1300, 1301)] == [
        None, 0, 0, 1, 4, None]
    empty = volume_strip([], start, step, 3)
    assert isinstance(empty, VolumeStrip) and empty.peak == 0 and empty.total == 0
    with pytest.raises(ValueError):
        volume_strip([], start, 0, 3)


def test_recorded_matrix_fixture(fixtures_dir: Path) -> None:
    body = json.loads((fixtures_dir / "loki_query_range_matrix.json").read_text())
    got = parse_matrix(body)
    assert [dict(s.labels) for s in got] == [
        {"filename": "/var/hostlog/apport.log", "job": "varlogs"},
        {"filename": "/var/hostlog/syslog", "job": "varlogs"}]
    assert got[1].points == ((1568404331.324, 3.45), (1568404331.339, 4.45))
    streams = json.loads((fixtures_dir / "loki_query_range_streams.json").read_text())
    with pytest.raises(ValueError, match="not a matrix"):
        parse_matrix(streams)
    vector = json.loads((fixtures_dir / "loki_query_vector.json").read_text())
    with pytest.raises(ValueError, match="expected a matrix"):
        parse_matrix(vector)
    for junk in (None, [], {"data": {"resultType": "matrix", "result": [{"values": [[1]]}]}},
                 {"data": {"resultType": "matrix", "result": [{"values": [[{}, "1"]]}]}}):
        with pytest.raises(ValueError):
            parse_matrix(junk)


async def test_provider_volume_sends_the_metric_query(fixtures_dir: Path) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=(fixtures_dir / "loki_query_range_matrix.json").read_bytes())

    provider = make(handler)
    assert isinstance(provider, LogVolumeSource)
    got = await provider.volume('{app="checkout"} |= "x" | json', 1_000 * 10**9, 4_600 * 10**9, 60)
    assert len(got) == 2
    params = sent[0].url.params
    assert sent[0].url.path == "/loki/api/v1/query_range"
    assert params["query"] == ('sum by (level, detected_level) '
                               '(count_over_time({app="checkout"} |= "x" [1m]))')
    assert (params["start"], params["end"], params["step"]) == (
        str(1_000 * 10**9), str(4_600 * 10**9), "60")
    await provider.aclose()


async def test_provider_metric_range_errors() -> None:
    answers = iter([httpx.Response(400, text="parse error at line 1, col 5: syntax error"),
                    httpx.Response(200, json={"status": "success",
                                              "data": {"resultType": "streams", "result": []}}),
                    httpx.Response(200, text="<html>proxy</html>")])
    provider = make(lambda request: next(answers))
    with pytest.raises(LogQLError, match="col 5"):
        await provider.metric_range("sum(x)", 0, 60 * 10**9, 1)
    with pytest.raises(ProviderError, match="not a matrix"):
        await provider.metric_range("sum(x)", 0, 60 * 10**9, 1)
    with pytest.raises(ProviderError, match="not JSON"):
        await provider.metric_range("sum(x)", 0, 60 * 10**9, 1)
    for start, end, step in ((0, 10, 0), (10, 0, 1), (0, 20_000 * 10**9, 1), (0, 10, math.nan)):
        with pytest.raises(ProviderError) as info:
            await provider.metric_range("sum(x)", start, end, step)
        assert not info.value.retryable
    await provider.aclose()
