"""Prometheus provider: wire parsing on the recorded fixtures, GET/POST choice, errors, alignment,
tenant headers and the in-flight bound (httpx MockTransport; no network)."""

from __future__ import annotations

import asyncio
import json
import math
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sre_cockpit.providers.base import MetricSource, ProviderError, RateLimitedError
from sre_cockpit.providers.http import RetryPolicy
from sre_cockpit.providers.prometheus import (
    PrometheusOptions,
    PrometheusProvider,
    PromQLError,
    align_range,
    decode_response,
    parse_value,
)

AT = datetime.fromtimestamp(1672531440, UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, **options: object) -> PrometheusProvider:
    opts = PrometheusOptions.model_validate({"type": "prometheus", "url": "http://prom.test:9090",
                                             **options})
    provider = PrometheusProvider("prom", opts, transport=httpx.MockTransport(handler))
    provider.client.retry = RetryPolicy(attempts=1)
    return provider


def fixture(fixtures_dir: Path, name: str) -> bytes:
    return (fixtures_dir / name).read_bytes()


def json_response(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": "application/json"})


def params_of(request: httpx.Request) -> dict[str, str]:
    if request.method == "POST":
        return dict(urllib.parse.parse_qsl(request.content.decode()))
    return dict(request.url.params)


def test_is_a_metric_source() -> None:
    provider = make(lambda r: httpx.Response(200))
    assert isinstance(provider, MetricSource)
    assert PrometheusProvider.TYPE == "prometheus"


async def test_vector_fixture(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(fixture(fixtures_dir, "prom_query_vector.json"))

    provider = make(handler)
    samples = await provider.instant("up", AT)
    assert [(s.labels["instance"], s.value, s.ts) for s in samples] == [
        ("api-1:8080", 1.0, 1672531440.0), ("api-2:8080", 1.0, 1672531440.0)]
    assert seen[0].method == "GET" and seen[0].url.path == "/api/v1/query"
    assert params_of(seen[0]) == {"query": "up", "time": "1672531440"}


async def test_outage_and_empty_vector_fixtures(fixtures_dir: Path) -> None:
    provider = make(lambda r: json_response(fixture(fixtures_dir, "prom_query_vector_at_outage.json")))
    assert [s.value for s in await provider.instant("up", AT)] == [0.0, 1.0]
    provider = make(lambda r: json_response(fixture(fixtures_dir, "prom_query_empty_vector.json")))
    assert await provider.instant("up", AT) == []


async def test_scalar_and_string_fixtures(fixtures_dir: Path) -> None:
    provider = make(lambda r: json_response(fixture(fixtures_dir, "prom_query_scalar.json")))
    (sample,) = await provider.instant("scalar(sum(up))", AT)
    assert sample.value == 2.0 and dict(sample.labels) == {}
    provider = make(lambda r: json_response(fixture(fixtures_dir, "prom_query_string.json")))
    result = await provider.query('"hello"', AT)
    assert result.result_type == "string" and result.string == "hello"
    (sample,) = await provider.instant('"hello"', AT)
    assert sample.labels["__string__"] == "hello" and math.isnan(sample.value)


async def test_matrix_fixture_and_aligned_range(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(fixture(fixtures_dir, "prom_query_range_matrix.json"))

    provider = make(handler)
    series = await provider.range("sum by (code) (rate(http_requests_total[2m]))",
                                  AT - timedelta(seconds=250), AT + timedelta(seconds=7), 60)
    assert [s.labels["code"] for s in series] == ["200", "500"]
    assert series[1].points == ((1672531260.0, 0.05), (1672531320.0, 0.5), (1672531380.0, 0.95),
                                (1672531440.0, 0.55))
    params = params_of(seen[0])
    assert seen[0].url.path == "/api/v1/query_range"
    assert params["step"] == "60"
    assert float(params["start"]) % 60 == 0 and float(params["end"]) % 60 == 0
    assert float(params["start"]) <= AT.timestamp() - 250 and float(params["end"]) <= AT.timestamp() + 7


async def test_alignment_can_be_turned_off(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(fixture(fixtures_dir, "prom_query_range_matrix.json"))

    provider = make(handler, step_align=False)
    await provider.range("up", AT - timedelta(seconds=250), AT, 60)
    assert params_of(seen[0])["start"] == str(int(AT.timestamp()) - 250)


def test_align_range_caps_points() -> None:
    start, end, step = align_range(0, 86400, 1)
    assert (end - start) / step + 1 <= 11_000
    assert start % step == 0 and end % step == 0
    assert align_range(61, 179, 60) == (60, 120, 60)
    with pytest.raises(ValueError):
        align_range(10, 5, 1)
    with pytest.raises(ValueError):
        align_range(0, 5, 0)


@pytest.mark.parametrize("name,status,error_type", [
    ("prom_error_400_bad_data_parse.json", 400, "bad_data"),
    ("prom_error_400_too_many_points.json", 400, "bad_data"),
    ("prom_error_422_execution.json", 422, "execution"),
    ("prom_error_503_timeout.json", 503, "timeout"),
])
async def test_error_envelopes_become_promql_errors(fixtures_dir: Path, name: str, status: int,
                                                    error_type: str) -> None:
    body = fixture(fixtures_dir, name)
    provider = make(lambda r: json_response(body, status))
    with pytest.raises(PromQLError) as err:
        await provider.instant("sum(rate(up[5m])", AT)
    expected = json.loads(body)["error"]
    assert str(err.value) == f"PromQL error: {expected}"
    assert err.value.status == status and err.value.error_type == error_type
    assert err.value.retryable is (error_type == "timeout")


async def test_html_from_a_proxy() -> None:
    page = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n")
    provider = make(lambda r: httpx.Response(502, content=page, headers={"content-type": "text/html"}))
    with pytest.raises(ProviderError) as err:
        await provider.instant("up", AT)
    assert str(err.value) == "prom: HTTP 502 from proxy: 502 Bad Gateway"
    assert not isinstance(err.value, PromQLError)


def test_html_without_title_and_plain_text() -> None:
    with pytest.raises(ProviderError, match=r"^HTTP 403 from proxy: Access denied$"):
        decode_response(403, "text/html", b"<html><body>\n<p>Access denied</p></body></html>")
    with pytest.raises(ProviderError, match=r"^HTTP 401: no org id$"):
        decode_response(401, "text/plain", b"no org id\n")
    with pytest.raises(ProviderError, match="not a Prometheus API answer"):
        decode_response(200, "application/json", b"[1, 2]")
    with pytest.raises(ProviderError, match="malformed"):
        decode_response(200, "application/json",
                        b'{"status":"success","data":{"resultType":"vector","result":[{"value":[1]}]}}')


def test_terminal_escapes_in_errors_are_neutralised() -> None:
    body = json.dumps({"status": "error", "errorType": "bad_data",
                       "error": "bad \x1b]52;c;SGVsbG8=\x07 query\nsecond line"}).encode()
    with pytest.raises(PromQLError) as err:
        decode_response(400, "application/json", body)
    assert "\x1b" not in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("PromQL error: bad ")


async def test_warnings_are_surfaced() -> None:
    body = json.dumps({"status": "success", "warnings": ["partial response: store 2 down"],
                       "data": {"resultType": "vector", "result": []}}).encode()
    provider = make(lambda r: json_response(body))
    result = await provider.query("up", AT)
    assert result.warnings == ("partial response: store 2 down",)


def test_special_values() -> None:
    assert math.isnan(parse_value("NaN"))
    assert parse_value("+Inf") == math.inf and parse_value("-Inf") == -math.inf
    assert parse_value("1e+00") == 1.0 and parse_value("0.05") == 0.05
    with pytest.raises(ValueError):
        parse_value("abc")
    with pytest.raises(ValueError):
        parse_value(True)


async def test_nan_and_inf_in_vectors() -> None:
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"a": "1"}, "value": [1.5, "NaN"]},
        {"metric": {"a": "2"}, "value": [1.5, "+Inf"]},
        {"metric": {"a": "3"}, "value": [1.5, "-Inf"]}]}}).encode()
    provider = make(lambda r: json_response(body))
    values = [s.value for s in await provider.instant("x", AT)]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]


async def test_long_queries_go_as_post_form() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(b'{"status":"success","data":{"resultType":"vector","result":[]}}')

    provider = make(handler)
    long_query = "sum(rate(x[5m]))" + " + 0" * 500
    await provider.instant(long_query, AT)
    await provider.instant("up", AT)
    assert seen[0].method == "POST"
    assert seen[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert params_of(seen[0]) == {"query": long_query, "time": "1672531440"}
    assert seen[1].method == "GET"


async def test_tenant_headers_auth_and_query_timeout() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(b'{"status":"success","data":{"resultType":"vector","result":[]}}')

    provider = make(handler, headers={"X-Scope-OrgID": "team-a"}, query_timeout="20s",
                    auth={"bearer_token": "s3cr3t-token"})
    await provider.instant("up")
    assert seen[0].headers["X-Scope-OrgID"] == "team-a"
    assert seen[0].headers["Authorization"] == "Bearer s3cr3t-token"
    assert params_of(seen[0]) == {"query": "up", "timeout": "20s"}  # no time: server's now


async def test_rate_limited() -> None:
    provider = make(lambda r: httpx.Response(429, headers={"retry-after": "7"}, content=b"slow down"))
    with pytest.raises(RateLimitedError) as err:
        await provider.instant("up", AT)
    assert err.value.retry_after == 7.0


async def test_in_flight_requests_are_bounded() -> None:
    active = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return json_response(b'{"status":"success","data":{"resultType":"vector","result":[]}}')

    opts = PrometheusOptions(type="prometheus", url="http://prom.test", max_in_flight=3)
    provider = PrometheusProvider("prom", opts, transport=httpx.MockTransport(handler))
    await asyncio.gather(*(provider.instant(f"up{i}", AT) for i in range(30)))
    assert peak == 3 and provider.peak_in_flight == 3


async def test_queued_requests_fail_fast_when_the_backend_is_down() -> None:
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise httpx.ConnectError("connection refused", request=request)

    opts = PrometheusOptions(type="prometheus", url="http://prom.test", max_in_flight=2)
    provider = PrometheusProvider("prom", opts, transport=httpx.MockTransport(handler))
    provider.client.retry = RetryPolicy(attempts=1)
    results = await asyncio.gather(*(provider.instant(f"q{i}", AT) for i in range(20)),
                                   return_exceptions=True)
    assert all(isinstance(r, ProviderError) for r in results)
    assert calls == 2  # only the two in flight contacted the backend
    assert "ConnectError" in str(results[-1])


async def test_probe_reads_buildinfo(fixtures_dir: Path) -> None:
    provider = make(lambda r: json_response(fixture(fixtures_dir, "prom_buildinfo.json")))
    probe = await provider.probe()
    assert probe.ok and probe.detail == "Prometheus 2.42.0+ds" and probe.type == "prometheus"


async def test_probe_falls_back_when_buildinfo_is_missing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("buildinfo"):
            return httpx.Response(404, content=b"404 page not found")
        return json_response(b'{"status":"success","data":{"resultType":"vector","result":[]}}')

    probe = await make(handler).probe()
    assert probe.ok and "Prometheus-compatible" in (probe.detail or "")


async def test_probe_failure_is_one_redacted_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("boom", request=request)

    provider = make(handler, url="http://user:hunter22@prom.test:9090")
    probe = await provider.probe()
    assert not probe.ok and probe.error and "hunter22" not in probe.error


async def test_deploy_events_mark_run_starts() -> None:
    base = 1_700_000_000
    body = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"version": "v1.2.0", "service": "checkout"},
         "values": [[base + 600, "1"], [base + 630, "1"], [base + 660, "1"]]},
        {"metric": {"version": "v1.3.0", "service": "checkout"},
         "values": [[base + 3000, "1"], [base + 3030, "1"], [base + 5000, "1"]]},
    ]}}).encode()
    provider = make(lambda r: json_response(body))
    since = datetime.fromtimestamp(base, UTC)
    events = await provider.deploy_events("changes(app_build_info[1m]) > 0", "version", since,
                                          since + timedelta(hours=2), None, service_label="service")
    assert [(e.text, int(e.at.timestamp() - base)) for e in events] == [
        ("deploy checkout v1.2.0", 600), ("deploy checkout v1.3.0", 3000),
        ("deploy checkout v1.3.0", 5000)]
    assert all(e.kind == "deploy" and e.source == "prom" and e.id for e in events)
    assert len({e.id for e in events}) == 3


async def test_one_slow_query_does_not_fail_the_queued_ones() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if "slow" in str(request.url):
            await asyncio.sleep(2)
        return json_response(b'{"status":"success","data":{"resultType":"vector","result":[]}}')

    opts = PrometheusOptions(type="prometheus", url="http://prom.test", max_in_flight=1,
                             timeout="0.3s")
    provider = PrometheusProvider("prom", opts, transport=httpx.MockTransport(handler))
    results = await asyncio.gather(provider.instant("slow", AT),
                                   *(provider.instant(f"q{i}", AT) for i in range(5)),
                                   return_exceptions=True)
    assert isinstance(results[0], ProviderError) and "no complete answer" in str(results[0])
    assert results[1:] == [[]] * 5


async def test_deploy_events_ignore_the_version_already_running() -> None:
    base = 1_700_000_010  # not on a step boundary
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        params = params_of(request)
        start, step = float(params["start"]), float(params["step"])
        old = [[start + i * step, "1"] for i in range(0, 40)]
        new = [[start + i * step, "1"] for i in range(40, 80)]
        return json_response(json.dumps({"status": "success", "data": {
            "resultType": "matrix", "result": [
                {"metric": {"version": "v1"}, "values": old},
                {"metric": {"version": "v2"}, "values": new}]}}).encode())

    provider = make(handler)
    since = datetime.fromtimestamp(base, UTC)
    events = await provider.deploy_events("app_build_info{app=\"checkout\"}", "version", since,
                                          since + timedelta(minutes=40), "checkout")
    params = params_of(seen[0])
    assert float(params["start"]) < base  # one step before the window
    assert [e.text for e in events] == ["deploy checkout v2"]
    assert events[0].at.timestamp() == float(params["start"]) + 40 * float(params["step"])


# ----------------------------------------------------------------------------- queued behind a hung backend


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
