"""``--log-rate 0``: a quiet live tail (pings, no lines) while ``query_range`` still answers with
the story's history (the benchmarks' idle phase needs it)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from sim_helpers import SimHandle, http, launch_simulator, parse_seq

from sre_cockpit.simulator.logs import HISTORY_RATE, LogGenerator, parse_logql
from sre_cockpit.simulator.story import Story

ALL = '{namespace="shop"}'
START = 1_790_000_000.0


@pytest.fixture(scope="module")
def quiet() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=6, log_rate=0)
    yield handle
    handle.stop()


def _state(url: str) -> dict[str, Any]:
    return json.loads(http("GET", f"{url}/_sim/state")[2])


def _query(url: str, **params: Any) -> tuple[int, Any]:
    status, _headers, body = http("GET", f"{url}/loki/api/v1/query_range?"
                                  + urllib.parse.urlencode(params))
    return status, (json.loads(body) if status == 200 else body.decode())


async def test_tail_at_rate_0_stays_open_with_pings_and_no_lines(quiet: SimHandle) -> None:
    now_ns = int(_state(quiet.url)["now"] * 1e9)
    url = (quiet.url.replace("http://", "ws://") + "/loki/api/v1/tail?"
           + urllib.parse.urlencode({"query": ALL, "start": now_ns, "limit": 10}))
    texts: list[str] = []
    pings = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url, autoping=False) as ws:
        deadline = time.monotonic() + 2.6
        while time.monotonic() < deadline:
            try:
                msg = await asyncio.wait_for(ws.receive(), deadline - time.monotonic())
            except TimeoutError:
                break
            if msg.type == aiohttp.WSMsgType.PING:
                pings += 1
                await ws.pong(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:
                texts.append(msg.data)
            else:
                pytest.fail(f"tail ended: {msg.type} {msg.extra!r}")
        assert not ws.closed
    assert texts == [] and pings >= 2
    assert _state(quiet.url)["log_rate"] == 0


def test_query_range_at_rate_0_returns_the_history_and_nothing_after_start(
        quiet: SimHandle) -> None:
    state = _state(quiet.url)
    now_ns = int(state["now"] * 1e9)
    status, body = _query(quiet.url, query=ALL, start=now_ns - 600 * 10**9, end=now_ns,
                          limit=200, direction="backward")
    assert status == 200, body
    values = [(int(v[0]), v[1]) for s in body["data"]["result"] for v in s["values"]]
    assert len(values) == 200  # ten minutes of history at the history rate
    seqs = sorted(parse_seq(line) for _ts, line in values)
    assert seqs == list(range(seqs[0], seqs[0] + 200)), "history has gaps"
    newest = max(ts for ts, _line in values)
    time.sleep(1.2)  # the clock runs on; no new line appears
    status, later = _query(quiet.url, query=ALL, start=newest + 1, limit=50,
                           end=int(_state(quiet.url)["now"] * 1e9) + 10**9)
    assert status == 200 and later["data"]["result"] == []


def test_generator_rate_0_ends_the_lines_at_until() -> None:
    story = Story(3, START, 1.0, 3600)
    until = int(START * 1e9)
    gen = LogGenerator(story, 0, until_ns=until)
    last = gen.end_index
    assert last is not None and last > 0
    assert gen.ts(last - 1) < until <= gen.ts(last)
    assert gen.first_at_or_after(until + 3600 * 10**9) == last
    spaced = LogGenerator(story, HISTORY_RATE)
    assert gen.ts(last - 1) == spaced.ts(last - 1)  # same history as the default rate
    query = parse_logql(ALL)
    assert len(gen.scan(query, until - 10**9, until + 60 * 10**9, 1000, forward=True)) \
        == HISTORY_RATE
    assert list(gen.iter_range(query, last, gen.first_at_or_after(until + 10**12))) == []
    with pytest.raises(ValueError, match="until_ns"):
        LogGenerator(story, 0)
    with pytest.raises(ValueError, match="between 0 and"):
        LogGenerator(story, -1)
