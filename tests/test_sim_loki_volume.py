"""The simulator's Loki answers metric queries (the volume strip's ``sum by (level)
(count_over_time(…))``) with Loki's window semantics, and the provider's volume against the
running simulator agrees line for line with the log lines it serves."""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from sim_helpers import SimHandle, http, launch_simulator, structure_diff

from sre_cockpit.core.loglines import LEVEL_NAMES, detect_level
from sre_cockpit.core.logvolume import strip_range, volume_strip
from sre_cockpit.providers.loki import LogQLError, LokiOptions, LokiProvider
from sre_cockpit.simulator.logs import LogGenerator, parse_logql
from sre_cockpit.simulator.logs import LogQLError as SimLogQLError
from sre_cockpit.simulator.loki_metrics import MetricEngine, parse_metric
from sre_cockpit.simulator.story import Story

START = 1_790_000_000
NS = 1_000_000_000


@pytest.fixture(scope="module")
def gen() -> LogGenerator:
    return LogGenerator(Story(4, float(START)), 20)


def expected(gen: LogGenerator, log_query: str, lo_ns: int, hi_ns: int) -> Counter[str]:
    """Levels of the lines in (lo, hi], counted the slow way."""
    q = parse_logql(log_query)
    lines = gen.scan(q, lo_ns + 1, hi_ns + 1, 1_000_000, forward=True)
    return Counter(LEVEL_NAMES.get(detect_level(e.line), "unknown") for e in lines)


def test_sum_by_level_counts_every_line(gen: LogGenerator) -> None:
    engine = MetricEngine(gen)
    query = parse_metric('sum by (level) (count_over_time({namespace="shop"} [1m]))')
    start, end = (START - 600) * NS, START * NS
    got = engine.evaluate(query, start, end, 60 * NS, now_ns=START * NS)
    assert set(got) == {(("level", "error"),), (("level", "info"),), (("level", "warn"),)}
    for t in range(start, end + 1, 60 * NS):
        want = expected(gen, '{namespace="shop"}', t - 60 * NS, t)
        have = {dict(k)["level"]: v for k, pts in got.items() for ts, v in pts if ts == t}
        assert have == dict(want)
    assert sum(want.values()) == 60 * 20


def test_filters_rate_grouping_and_clause_position(gen: LogGenerator) -> None:
    engine = MetricEngine(gen)
    t = START * NS
    q = parse_metric('sum(count_over_time({app="checkout"} |= "status=502" [5m])) by (app)')
    (key, points), = engine.evaluate(q, t, t, NS, now_ns=t).items()
    want = expected(gen, '{app="checkout"} |= "status=502"', t - 300 * NS, t)
    assert key == (("app", "checkout"),) and points == [(t, float(sum(want.values())))]
    assert sum(want.values()) > 0
    rate = parse_metric('sum by (detected_level) (rate({app="checkout"} |= "status=502" [5m]))')
    (_k, rpoints), = engine.evaluate(rate, t, t, NS, now_ns=t).items()
    assert rpoints[0][1] == pytest.approx(sum(want.values()) / 300)
    total = parse_metric('sum(count_over_time({app="search"}[1m]))')
    assert engine.evaluate(total, t, t, NS, now_ns=t) == {(): [(t, float(sum(
        expected(gen, '{app="search"}', t - 60 * NS, t).values())))]}
    raw = parse_metric('count_over_time({app="search"}[1m])')
    keys = set(engine.evaluate(raw, t, t, NS, now_ns=t))
    assert all({"app", "env", "namespace", "pod", "level", "detected_level"} == {k for k, _ in key}
               for key in keys)
    without = parse_metric('sum without (pod, env, namespace, detected_level) '
                           '(count_over_time({app="search"}[1m]))')
    assert {k for key in engine.evaluate(without, t, t, NS, now_ns=t) for k, _v in key} == {
        "app", "level"}


def test_window_is_open_on_the_left_and_the_future_is_empty(gen: LogGenerator) -> None:
    engine = MetricEngine(gen)
    q = parse_metric('sum(count_over_time({namespace="shop"}[1s]))')
    i = gen.first_at_or_after((START - 100) * NS)
    t = gen.ts(i)  # a line exactly at T counts; the line exactly at T - 1s does not
    got = engine.evaluate(q, t, t, NS, now_ns=START * NS)
    assert got == {(): [(t, 20.0)]}
    assert gen.ts(i - 20) == t - NS
    future = engine.evaluate(q, (START + 10) * NS, (START + 20) * NS, NS, now_ns=START * NS)
    assert future == {}


def test_windows_in_the_past_are_cached(gen: LogGenerator) -> None:
    engine = MetricEngine(gen)
    q = parse_metric('sum by (level) (count_over_time({app="payments"}[1m]))')
    args = ((START - 1800) * NS, START * NS, 60 * NS)
    first = engine.evaluate(q, *args, now_ns=START * NS)
    scanned = engine.lines_scanned
    assert scanned == 31 * 60 * 20  # 31 steps from start to end inclusive
    assert engine.evaluate(q, *args, now_ns=START * NS) == first
    assert engine.lines_scanned == scanned


def test_many_lines_are_estimated_within_bounds() -> None:
    fast = LogGenerator(Story(4, float(START)), 1000)
    engine = MetricEngine(fast)
    q = parse_metric('sum by (level) (count_over_time({namespace="shop"}[30s]))')
    t = (START - 600) * NS
    got = {dict(k)["level"]: pts[0][1] for k, pts in engine.evaluate(q, t, t, NS, now_ns=t).items()}
    assert engine.lines_scanned <= 10_000  # not the 30,000 lines of the window
    exact = expected(fast, '{namespace="shop"}', t - 30 * NS, t)
    assert sum(got.values()) == pytest.approx(30_000, abs=5)
    for level, n in exact.items():
        assert got.get(level, 0) == pytest.approx(n, rel=0.3), level


@pytest.mark.parametrize(("query", "message"), [
    ('unk({app="x"}[5m])', "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"),
    ('avg_over_time({app="x"} | unwrap x [5m])', "supports these metric queries"),
    ('sum by (le-vel) (count_over_time({app="x"}[1m]))', "invalid label name"),
    ('count_over_time({app="x"}[soon])', "invalid range"),
    ('count_over_time({app=""}[1m])', "at least one regexp or equality matcher"),
    ('sum by (a) (count_over_time({app="x"}[1m])) by (b)', "not both"),
])
def test_metric_parse_errors(query: str, message: str) -> None:
    with pytest.raises(SimLogQLError, match=message.replace("(", r"\(")):
        parse_metric(query)


# ------------------------------------------------------------------ the running simulator

@pytest.fixture(scope="module")
def sim() -> SimHandle:
    handle = launch_simulator(seed=4, log_rate=20, start_time=float(START), frozen=True)
    yield handle  # type: ignore[misc]
    handle.stop()


def get(sim: SimHandle, path: str, **params: str) -> tuple[int, bytes]:
    status, _h, raw = http("GET", f"{sim.url}{path}?{urllib.parse.urlencode(params)}")
    return status, raw


def test_http_matrix_and_vector_have_lokis_shape(sim: SimHandle, fixtures_dir: Path) -> None:
    status, raw = get(sim, "/loki/api/v1/query_range",
                      query='sum by (level) (count_over_time({app="checkout"}[1m]))',
                      start=str((START - 600) * NS), end=str(START * NS), step="1m")
    assert status == 200
    body = json.loads(raw)
    matrix = json.loads((fixtures_dir / "loki_query_range_matrix.json").read_text())
    assert structure_diff(matrix, body, missing_ok={"warnings"}) == []
    assert body["data"]["resultType"] == "matrix"
    assert {r["metric"]["level"] for r in body["data"]["result"]} == {"error", "info", "warn"}
    assert all(len(r["values"]) <= 11 for r in body["data"]["result"])
    status, raw = get(sim, "/loki/api/v1/query", query='sum(count_over_time({app="checkout"}[1m]))',
                      time=str(START))
    vector = json.loads((fixtures_dir / "loki_query_vector.json").read_text())
    body = json.loads(raw)
    assert status == 200 and structure_diff(vector, body, missing_ok={"warnings"}) == []
    assert body["data"]["result"][0]["value"][0] == START


def test_http_step_rules(sim: SimHandle, fixtures_dir: Path) -> None:
    query = 'sum(count_over_time({app="checkout"}[1m]))'
    status, raw = get(sim, "/loki/api/v1/query_range", query=query, start="1600000000",
                      end="1700000000", step="1")
    assert status == 400
    assert raw.decode() == (fixtures_dir / "loki_error_400_step_too_small.txt").read_text().strip()
    status, raw = get(sim, "/loki/api/v1/query_range", query=query, step="0")
    assert status == 400 and "zero or negative" in raw.decode()
    status, raw = get(sim, "/loki/api/v1/query_range", query=query, step="-5s")
    assert status == 400
    status, raw = get(sim, "/loki/api/v1/query_range", query=query,
                      start=str(START - 2500), end=str(START))  # default step: 2500 / 250 = 10s
    points = json.loads(raw)["data"]["result"][0]["values"]
    assert status == 200 and points[1][0] - points[0][0] == 10


async def test_provider_volume_agrees_with_the_lines(sim: SimHandle) -> None:
    provider = LokiProvider("loki", LokiOptions.model_validate({"type": "loki", "url": sim.url}))
    try:
        start, end, step = strip_range(START, 600, 10)
        query = '{app="checkout"} | logfmt'
        got = await provider.volume(query, int((start + step) * NS), int(end * NS), step)
        strip = volume_strip(got, start, step, 10)
        lines = await provider.query_range('{app="checkout"}', int(start * NS) + 1,
                                           int(end * NS) + 1, limit=5000, direction="forward")
        assert len(lines) < 5000
        want = [Counter() for _ in range(10)]
        for line in lines:
            column = strip.column_at(line.ts_ns / NS)
            assert column is not None
            want[column][LEVEL_NAMES.get(detect_level(line.line), "other")] += 1
        for column, counts in zip(strip.columns, want, strict=True):
            assert {lvl: column.count(lvl) for lvl in counts} == dict(counts)
            assert column.total == sum(counts.values())
        assert strip.total == len(lines) and strip.columns[-1].count("error") > 0
        with pytest.raises(LogQLError, match="unexpected"):
            await provider.volume("{app=", int(start * NS), int(end * NS), step)
    finally:
        await provider.aclose()
