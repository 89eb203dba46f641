"""Reviewer regression: queries queued behind a hung Prometheus give up within one deadline."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.prometheus import PrometheusOptions, PrometheusProvider


async def test_queued_queries_do_not_each_wait_a_full_deadline_behind_a_hung_backend() -> None:
    # `simulate --fault prometheus:hang`: with 8 slots, the 56 queries of a 4-SLO snapshot each
    # waited their turn and then 10 s of their own; the snapshot took ~110 s.
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    opts = PrometheusOptions(type="prometheus", url="http://127.0.0.1:9", timeout="0.4s",
                             max_in_flight=2)
    prom = PrometheusProvider("prom", opts, transport=httpx.MockTransport(hang))
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(prom.instant(f"vector({i})") for i in range(16)),
                                       return_exceptions=True)
        elapsed = time.monotonic() - started
    finally:
        await prom.aclose()
    assert all(isinstance(r, ProviderError) for r in results), results
    assert all("no complete answer" in str(r) for r in results)
    # 16 queries / 2 slots used to take 8 rounds x 0.4 s = 3.2 s; now at most three deadlines
    # (two waiting for a slot, one on the wire), whatever the number of queries
    assert elapsed < 1.8, elapsed
    assert prom.peak_in_flight <= 2


@pytest.mark.parametrize("slots", [1, 4])
async def test_a_slow_but_answering_backend_still_serves_every_queued_query(slots: int) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.02)
        return httpx.Response(200, json={"status": "success", "data": {
            "resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}]}})

    opts = PrometheusOptions(type="prometheus", url="http://127.0.0.1:9", timeout="2s",
                             max_in_flight=slots)
    prom = PrometheusProvider("prom", opts, transport=httpx.MockTransport(slow))
    try:
        results = await asyncio.gather(*(prom.instant("vector(1)") for _ in range(12)))
    finally:
        await prom.aclose()
    assert [len(r) for r in results] == [1] * 12
