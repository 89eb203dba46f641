"""Loki's pattern endpoint: the provider reads Loki's wire shape (and ``None`` for a Loki without
pattern ingesters), the simulator serves it from the story, and against the running simulator
the server's patterns equal the ones mined locally from the same lines."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator

import httpx
import pytest
from sim_helpers import SimHandle, http, launch_simulator

from sre_cockpit.core.loglines import ERROR, INFO, NONE
from sre_cockpit.core.logpatterns import mine
from sre_cockpit.providers.base import LogPatternSource, ProviderError
from sre_cockpit.providers.http import RetryPolicy
from sre_cockpit.providers.loki import LokiOptions, LokiProvider
from sre_cockpit.providers.loki_explore import parse_patterns

START = 1_790_000_000
NS = 1_000_000_000
Handler = Callable[[httpx.Request], httpx.Response]

# The expected JSON of grafana/loki pkg/util/marshal/marshal_test.go
# Test_WriteQueryPatternsResponseJSON (main, 2026-08; "level" was added in Loki 3.3 — the older
# form is the same without it), verbatim.
UPSTREAM_EMPTY = '{"status":"success","data":[]}'
UPSTREAM_TWO = ('{"status":"success","data":[{"pattern":"foo <*> bar","level":"info","samples":'
                '[[1,1],[2,2]]},{"pattern":"foo <*> buzz","level":"info","samples":[[3,1],[3,2]]}]}')
UPSTREAM_NO_LEVEL = '{"status":"success","data":[{"pattern":"foo <*> bar","samples":[[1,1],[2,2]]}]}'


def make(url: str, handler: Handler | None = None) -> LokiProvider:
    opts = LokiOptions.model_validate({"type": "loki", "url": url})
    transport = httpx.MockTransport(handler) if handler is not None else None
    provider = LokiProvider("loki", opts, transport=transport)
    provider.http.retry = RetryPolicy(attempts=1)
    return provider


def test_upstream_wire_shapes() -> None:
    assert parse_patterns(json.loads(UPSTREAM_EMPTY), 0, 10 * NS).patterns == ()
    report = parse_patterns(json.loads(UPSTREAM_TWO), 0, 10 * NS)
    assert [(p.template, p.count, p.first_ns, p.last_ns, p.level) for p in report.patterns] == [
        ("foo <*> bar", 3, 1 * NS, 2 * NS, INFO), ("foo <*> buzz", 3, 3 * NS, 3 * NS, INFO)]
    assert report.lines == 6
    old = parse_patterns(json.loads(UPSTREAM_NO_LEVEL), 0, 10 * NS)
    assert old.patterns[0].level == NONE and old.patterns[0].count == 3


def test_new_patterns_and_odd_answers() -> None:
    body = {"status": "success", "data": [
        {"pattern": "steady <_>", "samples": [[100, 5], [3500, 5]]},
        {"pattern": "fresh \x1b]52;c;x\x07 <_>", "level": "error", "samples": [[3400, 2]]},
        {"pattern": "silent", "samples": [[200, 0]]}]}
    report = parse_patterns(body, 0, 3600 * NS)
    assert [p.template for p in report.new] == ["fresh \x1b]52;c;x\x07 <_>"]
    fresh = report.new[0]
    assert fresh.level == ERROR and fresh.shown == "fresh ␛]52;c;x␇ <_>"  # shown sanitised
    assert report.patterns[-1].count == 0
    assert parse_patterns({"status": "success"}, 0, NS).patterns == ()
    for junk in ([], {"data": {}}, {"data": [1]}, {"data": [{"pattern": "x", "samples": [[1]]}]},
                 {"data": [{"pattern": "x", "samples": [[None, 1]]}]}, {"data": [{"samples": []}]}):
        with pytest.raises(ValueError):
            parse_patterns(junk, 0, NS)


async def test_provider_patterns_none_on_404_and_errors_otherwise() -> None:
    sent: list[httpx.Request] = []
    answers = iter([httpx.Response(200, text=UPSTREAM_TWO),
                    httpx.Response(404, text=""),
                    httpx.Response(500, text="pattern ingester unavailable"),
                    httpx.Response(200, text="{not json"),
                    httpx.Response(200, json={"status": "success", "data": {"x": 1}})])

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return next(answers)

    provider = make("http://loki.test", handler)
    assert isinstance(provider, LogPatternSource)
    report = await provider.patterns('{app="x"}', 0, 3600 * NS, step_s=60)
    assert report is not None and len(report.patterns) == 2
    assert sent[0].url.path == "/loki/api/v1/patterns"
    assert dict(sent[0].url.params) == {"query": '{app="x"}', "start": "0",
                                        "end": str(3600 * NS), "step": "60"}
    assert await provider.patterns('{app="x"}', 0, 3600 * NS) is None
    assert "step" not in sent[1].url.params
    with pytest.raises(ProviderError, match="500"):
        await provider.patterns('{app="x"}', 0, 3600 * NS)
    with pytest.raises(ProviderError, match="not JSON"):
        await provider.patterns('{app="x"}', 0, 3600 * NS)
    with pytest.raises(ProviderError, match="unexpected answer"):
        await provider.patterns('{app="x"}', 0, 3600 * NS)
    await provider.aclose()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=4, log_rate=20, start_time=float(START), frozen=True)
    yield handle
    handle.stop()


def get(sim: SimHandle, **params: str) -> tuple[int, str]:
    status, _h, raw = http("GET", f"{sim.url}/loki/api/v1/patterns?{urllib.parse.urlencode(params)}")
    return status, raw.decode()


def test_simulator_serves_lokis_shape(sim: SimHandle) -> None:
    start, end = (START - 1800) * NS, START * NS
    status, raw = get(sim, query='{app="checkout"}', start=str(start), end=str(end), step="5m")
    assert status == 200
    body = json.loads(raw)
    assert body["status"] == "success" and isinstance(body["data"], list) and body["data"]
    for item in body["data"]:
        assert set(item) == {"pattern", "level", "samples"}
        assert item["level"] in ("error", "warn", "info", "debug", "unknown")
        for ts, count in item["samples"]:
            assert isinstance(ts, int) and isinstance(count, int) and count > 0
            assert (ts * NS - start) % (300 * NS) == 0 and start <= ts * NS < end
    total = sum(n for item in body["data"] for _ts, n in item["samples"])
    assert total == pytest.approx(1800 * 20 * 0.35, rel=0.05)  # checkout's share of the lines
    levels = {item["level"] for item in body["data"]}
    assert {"error", "warn", "info"} <= levels
    # Loki keeps patterns for three hours: older ranges have none
    status, raw = get(sim, query='{app="checkout"}', start=str((START - 6 * 3600) * NS),
                      end=str((START - 4 * 3600) * NS))
    assert status == 200 and json.loads(raw) == {"status": "success", "data": []}


@pytest.mark.parametrize(("params", "message"), [
    ({"query": "nope"}, "parse error"),
    ({"query": '{app="x"}', "step": "0"}, "zero or negative"),
    ({"query": '{app="x"}', "start": "1600000000", "end": "1700000000", "step": "1"},
     "maximum resolution"),
    ({"query": '{app="x"}', "start": "1700000000", "end": "1600000000"}, "end timestamp"),
])
def test_simulator_refuses_bad_parameters(sim: SimHandle, params: dict[str, str],
                                          message: str) -> None:
    status, text = get(sim, **params)
    assert status == 400 and message in text


async def test_server_patterns_equal_local_mining(sim: SimHandle) -> None:
    provider = make(sim.url)
    start, end = (START - 300) * NS, START * NS
    try:
        report = await provider.patterns('{app="checkout"}', start, end, step_s=60)
        assert report is not None
        lines = await provider.query_range('{app="checkout"}', start, end, limit=5000)
        assert len(lines) < 5000
        local = mine((ln.ts_ns, ln.line) for ln in lines)
        assert {(p.template, p.count) for p in report.patterns} == {
            (p.template, p.count) for p in local.patterns}
        errors = [p for p in report.patterns if p.level == ERROR]
        assert errors and all("level=error" in p.template for p in errors)
    finally:
        await provider.aclose()


async def test_a_loki_without_pattern_ingesters() -> None:
    handle = launch_simulator(seed=4, log_rate=20, start_time=float(START), frozen=True,
                              extra_args=["--loki-no-patterns"])
    provider = make(handle.url)
    try:
        status, _h, raw = http("GET", f"{handle.url}/loki/api/v1/patterns?query=%7Bapp%3D%22x%22%7D")
        assert (status, raw) == (404, b"")
        assert await provider.patterns('{app="checkout"}', (START - 300) * NS, START * NS) is None
        # everything else still answers
        assert await provider.labels((START - 300) * NS, START * NS)
    finally:
        await provider.aclose()
        handle.stop()
