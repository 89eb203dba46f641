"""Label browser data: Loki's label APIs in the provider and the simulator (time range, selector,
``data`` omitted when empty), and a browser's round trip against the running simulator: list
labels and values, shape the query, and get exactly the lines the new query selects."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sim_helpers import SimHandle, http, launch_simulator, structure_diff

from sre_cockpit.core.logql_shape import parse_query
from sre_cockpit.providers.base import LogLabelSource, ProviderError
from sre_cockpit.providers.http import RetryPolicy
from sre_cockpit.providers.loki import LogQLError, LokiOptions, LokiProvider

START = 1_790_000_000
NS = 1_000_000_000
Handler = Callable[[httpx.Request], httpx.Response]


def make(url: str, handler: Handler | None = None) -> LokiProvider:
    opts = LokiOptions.model_validate({"type": "loki", "url": url})
    transport = httpx.MockTransport(handler) if handler is not None else None
    provider = LokiProvider("loki", opts, transport=transport)
    provider.http.retry = RetryPolicy(attempts=1)
    return provider


async def test_provider_sends_window_and_selector(fixtures_dir: Path) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/values"):
            return httpx.Response(200, json={"status": "success"})  # empty: no data at all
        return httpx.Response(200, content=(fixtures_dir / "loki_labels.json").read_bytes())

    provider = make("http://loki.test", handler)
    assert isinstance(provider, LogLabelSource)
    assert await provider.labels(10 * NS, 20 * NS, query='{app="x"}') == ["label1", "test", "value"]
    assert await provider.label_values("pod", 10 * NS, 20 * NS) == []
    first, second = sent
    assert first.url.path == "/loki/api/v1/labels"
    assert dict(first.url.params) == {"start": str(10 * NS), "end": str(20 * NS),
                                      "query": '{app="x"}'}
    assert second.url.path == "/loki/api/v1/label/pod/values"
    assert "query" not in second.url.params
    await provider.labels()  # default: the last five minutes, up to now
    window = int(sent[-1].url.params["end"]) - int(sent[-1].url.params["start"])
    assert window == 300 * NS
    await provider.aclose()


async def test_provider_refuses_bad_names_and_reports_failures() -> None:
    answers = iter([httpx.Response(400, text="parse error at line 1, col 2: syntax error"),
                    httpx.Response(200, json={"status": "success", "data": {"not": "a list"}}),
                    httpx.Response(401, text="no org id")])
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return next(answers)

    provider = make("http://loki.test", handler)
    for bad in ("../../admin", "a b", "", "x/values?y", "1abc"):
        with pytest.raises(ProviderError, match="invalid label name") as info:
            await provider.label_values(bad)
        assert not info.value.retryable
    assert sent == []  # nothing was sent for a bad name
    with pytest.raises(LogQLError, match="col 2"):
        await provider.labels(query="{")
    with pytest.raises(ProviderError, match="unexpected answer"):
        await provider.label_values("app")
    with pytest.raises(ProviderError, match="401"):
        await provider.labels()
    await provider.aclose()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=4, log_rate=20, start_time=float(START), frozen=True)
    yield handle
    handle.stop()


def get_json(sim: SimHandle, path: str, **params: str) -> tuple[int, object]:
    status, _h, raw = http("GET", f"{sim.url}{path}?{urllib.parse.urlencode(params)}")
    return status, json.loads(raw) if status == 200 else raw.decode()


def test_simulator_label_endpoints(sim: SimHandle, fixtures_dir: Path) -> None:
    fixture = json.loads((fixtures_dir / "loki_labels.json").read_text())
    window = {"start": str((START - 600) * NS), "end": str(START * NS)}
    status, body = get_json(sim, "/loki/api/v1/labels", **window)
    assert status == 200 and structure_diff(fixture, body) == []
    assert body == {"status": "success", "data": ["app", "env", "namespace", "pod"]}
    status, body = get_json(sim, "/loki/api/v1/label/app/values", **window)
    assert body == {"status": "success", "data": ["checkout", "gateway", "payments", "search"]}
    status, body = get_json(sim, "/loki/api/v1/label/app/values", query='{app=~"pay.*|search"}',
                            **window)
    assert body == {"status": "success", "data": ["payments", "search"]}
    status, body = get_json(sim, "/loki/api/v1/label/pod/values", query='{app="checkout"}',
                            **window)
    pods = body["data"]  # type: ignore[index]
    assert len(pods) == 3 and all(p.startswith("checkout-") for p in pods)
    # before the story's history there is nothing: data is omitted, as Loki does
    old = {"start": "1000000000", "end": "1000003600"}
    assert get_json(sim, "/loki/api/v1/labels", **old) == (200, {"status": "success"})
    assert get_json(sim, "/loki/api/v1/label/nosuch/values", **window) == (
        200, {"status": "success"})
    status, text = get_json(sim, "/loki/api/v1/labels", query="nope")
    assert status == 400 and str(text).startswith("parse error")
    status, text = get_json(sim, "/loki/api/v1/labels", start=str(START), end=str(START - 60))
    assert status == 400 and "end timestamp" in str(text)


def test_simulator_pods_follow_the_deploys(sim: SimHandle) -> None:
    """checkout 2.3.1 is deployed 30 minutes before the start (seed 4: the jitter moves it a
    little): its pods exist only after it; a window across the deploy has both sets."""
    before = {"start": str((START - 7200) * NS), "end": str((START - 3600) * NS)}
    after = {"start": str((START - 600) * NS), "end": str(START * NS)}
    across = {"start": str((START - 3600) * NS), "end": str(START * NS)}
    pods = {}
    for name, window in (("before", before), ("after", after), ("across", across)):
        _status, body = get_json(sim, "/loki/api/v1/label/pod/values", query='{app="checkout"}',
                                 **window)
        pods[name] = set(body["data"])  # type: ignore[index]
    assert pods["before"].isdisjoint(pods["after"])
    assert pods["across"] == pods["before"] | pods["after"]


async def test_label_browser_round_trip(sim: SimHandle) -> None:
    provider = make(sim.url)
    start, end = (START - 300) * NS, START * NS
    try:
        query = parse_query('{namespace="shop"}')
        assert "app" in await provider.labels(start, end, query=query.to_logql())
        apps = await provider.label_values("app", start, end, query=query.to_logql())
        chosen = [a for a in apps if a in ("payments", "search")]
        query = query.set_label("app", chosen).with_filter("!=", "level=info")
        assert query.to_logql() == '{namespace="shop", app=~"payments|search"} != "level=info"'
        lines = await provider.query_range(query.to_logql(), start, end, limit=5000)
        assert lines and {ln.labels["app"] for ln in lines} == {"payments", "search"}
        assert all("level=info" not in ln.line for ln in lines)
        pods = await provider.label_values("pod", start, end, query=query.selector())
        assert {p.split("-")[0] for p in pods} == {"payments", "search"}
        narrowed = query.set_label("pod", pods[:1])
        lines = await provider.query_range(narrowed.to_logql(), start, end, limit=5000)
        assert lines and {ln.labels["pod"] for ln in lines} == {pods[0]}
        widened = narrowed.without_label("pod").without_filter("!=", "level=info")
        assert widened.to_logql() == '{namespace="shop", app=~"payments|search"}'
    finally:
        await provider.aclose()
