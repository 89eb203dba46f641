"""LogQL subset of the simulated Loki: selectors, line filters, direction, limits, end exclusive."""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest
from sim_helpers import http, launch_simulator, parse_seq

from sre_cockpit.simulator.logs import LogGenerator, LogQLError, parse_logql, parse_loki_time
from sre_cockpit.simulator.story import Story

START = 1_790_000_000.0


@pytest.fixture(scope="module")
def gen() -> LogGenerator:
    return LogGenerator(Story(4, START), 50)


def _scan(gen: LogGenerator, query: str, *, seconds: int = 60, limit: int = 5000,
          forward: bool = True) -> list[tuple[dict[str, str], str, int]]:
    end = int(START * 1e9)
    q = parse_logql(query)
    return [(dict(e.labels), e.line, e.ts_ns) for e in gen.scan(q, end - seconds * 10**9, end, limit, forward=forward)]


def test_selector_operators(gen: LogGenerator) -> None:
    everything = _scan(gen, '{namespace="shop"}')
    assert {lbl["app"] for lbl, _l, _t in everything} == {"checkout", "payments", "search", "gateway"}
    assert len(everything) == 60 * 50
    assert all(lbl["app"] != "search" for lbl, _l, _t in _scan(gen, '{namespace="shop", app!="search"}'))
    assert {lbl["app"] for lbl, _l, _t in _scan(gen, '{app=~"check.*|pay.*"}')} == {"checkout", "payments"}
    assert {lbl["app"] for lbl, _l, _t in _scan(gen, '{namespace="shop", app!~"check.*|pay.*"}')} == {"search", "gateway"}


def test_line_filters_chain(gen: LogGenerator) -> None:
    errors = _scan(gen, '{app="checkout"} |= "level=error"')
    assert errors and all("level=error" in line for _lbl, line, _t in errors)
    no_errors = _scan(gen, '{app="checkout"} != "level=error"')
    assert no_errors and all("level=error" not in line for _lbl, line, _t in no_errors)
    regex = _scan(gen, '{app="checkout"} |~ "status=50[23]" !~ "retry budget"')
    assert regex and all(re.search("status=50[23]", line) and "retry budget" not in line
                         for _lbl, line, _t in regex)
    explain = _scan(gen, '{app="checkout"} |= "context deadline exceeded"')
    assert explain and all("payments.Authorize" in line for _lbl, line, _t in explain)
    json_lines = _scan(gen, '{app="payments"} |= `"level":"error"`')
    assert json_lines and all(json.loads(line)["level"] == "error" for _lbl, line, _t in json_lines)


def test_direction_limit_and_order(gen: LogGenerator) -> None:
    back = _scan(gen, '{namespace="shop"}', limit=10, forward=False)
    fwd = _scan(gen, '{namespace="shop"}', limit=10, forward=True)
    assert [t for _l, _x, t in back] == sorted((t for _l, _x, t in back), reverse=True)
    assert [t for _l, _x, t in fwd] == sorted(t for _l, _x, t in fwd)
    assert back[0][2] < int(START * 1e9) <= back[0][2] + 10**9 // 50  # newest line, end exclusive
    assert parse_seq(back[0][1]) - parse_seq(back[-1][1]) == 9


@pytest.mark.parametrize("query", ["{}", '{app=""}', "app", '{app="x"', '{app="x"} | json',
                                   'rate({app="x"}[5m])', '{app=~"("}'])
def test_bad_queries(query: str) -> None:
    with pytest.raises(LogQLError):
        parse_logql(query)


def test_timestamps() -> None:
    assert parse_loki_time("1700000000", 0) == 1_700_000_000 * 10**9
    assert parse_loki_time("1700000000123456789", 0) == 1_700_000_000_123_456_789
    assert parse_loki_time("1700000000.5", 0) == 1_700_000_000_500_000_000
    assert parse_loki_time("2023-11-14T22:13:20Z", 0) == 1_700_000_000 * 10**9
    assert parse_loki_time("", 7) == 7


def test_http_query_range_end_is_exclusive() -> None:
    handle = launch_simulator(seed=4, log_rate=50, start_time=START, frozen=True)
    try:
        end = int(START * 1e9)
        params = {"query": '{namespace="shop"}', "start": end - 10**9, "end": end, "limit": 5000,
                  "direction": "forward"}
        status, _h, raw = http("GET", f"{handle.url}/loki/api/v1/query_range?" + urllib.parse.urlencode(params))
        values = [v for s in json.loads(raw)["data"]["result"] for v in s["values"]]
        assert status == 200 and len(values) == 50
        assert all(end - 10**9 <= int(v[0]) < end for v in values)
        params["end"] = int(values[0][0])  # exclusive: the line at `end` is not returned
        params["start"] = int(values[0][0]) - 10**6
        status, _h, raw = http("GET", f"{handle.url}/loki/api/v1/query_range?" + urllib.parse.urlencode(params))
        assert json.loads(raw)["data"]["result"] == []
    finally:
        handle.stop()
