"""Bounded memory in the shared HTTP layer: answers read as streams up to ``max_body`` (chunked,
announced, gzip bombs), a per-client bound on requests in flight that Prometheus shares, and the
cap on Loki tail WebSocket messages — against a hostile server on loopback."""

from __future__ import annotations

import asyncio
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest
from hostile_http import MB, hostile_server

from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.bodies import format_size, parse_size
from sre_cockpit.providers.http import AnswerTooLarge, HttpOptions, RetryPolicy, build_client
from sre_cockpit.providers.loki import LokiOptions, LokiProvider, TailClosed
from sre_cockpit.providers.prometheus import PrometheusOptions, PrometheusProvider

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.02)


def opts(url: str, **kw: object) -> HttpOptions:
    return HttpOptions.model_validate({"type": "test", "url": url, **kw})


# ------------------------------------------------------------------------------------ sizes

@pytest.mark.parametrize(("text", "size"), [
    ("16MiB", 16 * MB), ("16 MiB", 16 * MB), ("512KiB", 512 * 1024), ("2MB", 2_000_000),
    ("1.5MiB", 1_572_864), ("1GiB", 1024 * MB), (65536, 65536), ("65536", 65536),
    ("8mib", 8 * MB),
])
def test_parse_size(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "16 MiBs", "-1MiB", "16TB", True, 1.5, [1]])
def test_parse_size_refuses(text: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


def test_format_size() -> None:
    assert [format_size(n) for n in (100, 1536, 16 * MB, 100 * MB, 1024 * MB)] == [
        "100 B", "1.5 KiB", "16 MiB", "100 MiB", "1 GiB"]


def test_max_body_defaults_per_api_and_bounds() -> None:
    from sre_cockpit.providers.alertmanager import AlertmanagerOptions
    from sre_cockpit.providers.generic_http import GenericHttpOptions
    from sre_cockpit.providers.pagerduty import PagerDutyOptions

    url = {"url": "http://h"}
    assert PrometheusOptions(type="prometheus", **url).max_body == 16 * MB
    assert LokiOptions(type="loki", **url).max_body == 32 * MB
    assert LokiOptions(type="loki", **url).max_message == 8 * MB
    assert AlertmanagerOptions(type="alertmanager", **url).max_body == 16 * MB
    assert PagerDutyOptions(type="pagerduty", token="t0ken").max_body == 4 * MB
    assert GenericHttpOptions(type="http", list_url="/x", **url).max_body == 8 * MB
    assert opts("http://h", max_body="2MiB").max_body == 2 * MB
    for bad in ("1KiB", "2GiB", "lots"):
        with pytest.raises(ValueError, match="max_body"):
            opts("http://h", max_body=bad)


# ------------------------------------------------------------------------------- the cap

async def test_chunked_answer_over_the_cap_fails_with_one_line_naming_it() -> None:
    with hostile_server(behaviour="huge", size=100 * MB) as srv:
        client = build_client(opts(srv.url, max_body="1MiB"), provider="prom", retry=FAST)
        tracemalloc.start()
        try:
            with pytest.raises(AnswerTooLarge) as info:
                await client.request("GET", "/api/v1/query", params={"query": "up"})
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            await client.aclose()
        message = str(info.value)
        assert message == (f"prom: answer larger than 1 MiB (max_body): GET {srv.url}/api/v1/"
                           "query; raise max_body for prom if answers this large are expected")
        assert len(srv.seen) == 1  # not retried: the same answer would come again
        assert peak < 4 * MB  # the cap plus a read or two, never the 100 MB
        await asyncio.sleep(0.2)
        assert srv.bytes_sent < 30 * MB  # the client hung up long before the end


async def test_announced_length_over_the_cap_fails_before_reading() -> None:
    with hostile_server(behaviour="huge_length", size=100 * MB) as srv:
        client = build_client(opts(srv.url, max_body="1MiB"), provider="am", retry=FAST)
        try:
            with pytest.raises(AnswerTooLarge) as info:
                await client.request("GET", "/api/v2/alerts")
        finally:
            await client.aclose()
    assert "answer larger than 1 MiB (max_body) (announced 100 MiB)" in str(info.value)


@pytest.mark.parametrize(("size", "fits"), [(MB, True), (MB + 1, False)])
async def test_exactly_the_cap_fits(size: int, fits: bool) -> None:
    for behaviour in ("huge", "huge_length"):
        with hostile_server(behaviour=behaviour, size=size) as srv:
            client = build_client(opts(srv.url, max_body="1MiB"), provider="p", retry=FAST)
            try:
                if fits:
                    resp = await client.request("GET", "/x")
                    assert resp.status_code == 200 and len(resp.content) == size
                else:
                    with pytest.raises(AnswerTooLarge):
                        await client.request("GET", "/x")
            finally:
                await client.aclose()


async def test_gzip_bomb_is_stopped_while_inflating() -> None:
    with hostile_server(behaviour="gzip_bomb", size=100 * MB) as srv:
        client = build_client(opts(srv.url, max_body="2MiB"), provider="loki", retry=FAST)
        tracemalloc.start()
        try:
            with pytest.raises(AnswerTooLarge, match=r"answer larger than 2 MiB \(max_body\)"):
                await client.request("GET", "/loki/api/v1/query_range")
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            await client.aclose()
    assert peak < 8 * MB  # httpx's own decoder would have inflated a read to ~64 MB at once
    assert srv.seen[0].headers["accept-encoding"] == "gzip, deflate"


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def _transport(body: bytes, encoding: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-encoding": encoding},
                              stream=_Stream([body[:7], body[7:]]))
    return httpx.MockTransport(handler)


@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw", "identity"])
async def test_encodings_decode_within_the_cap(encoding: str) -> None:
    text = b'{"status":"success","data":' + b"1" * 5000 + b"}"
    if encoding == "gzip":
        comp = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    elif encoding == "deflate-raw":
        comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    else:
        comp = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS)
    body = text if encoding == "identity" else comp.compress(text) + comp.flush()
    wire = encoding.split("-")[0]
    client = build_client(opts("http://h"), provider="p", transport=_transport(body, wire))
    resp = await client.request("GET", "/x")
    await client.aclose()
    assert resp.content == text
    assert "content-encoding" not in resp.headers


@pytest.mark.parametrize(("encoding", "body", "why"), [
    ("br", b"\x00\x01", "unsupported Content-Encoding 'br'"),
    ("gzip", b"\x1f\x8b\x08\x00garbage-not-gzip", "corrupt gzip data"),
])
async def test_unreadable_encodings_are_one_line(encoding: str, body: bytes, why: str) -> None:
    client = build_client(opts("http://h"), provider="p", transport=_transport(body, encoding))
    with pytest.raises(ProviderError) as info:
        await client.request("GET", "/x")
    await client.aclose()
    assert str(info.value).startswith("p: unreadable answer from http://h/x: ")
    assert why in str(info.value) and "\n" not in str(info.value)


# --------------------------------------------------------------------------- in flight

async def test_in_flight_requests_are_bounded_per_client() -> None:
    with hostile_server(behaviour="json", json_body=lambda r: {"ok": True}, delay=0.2) as srv:
        client = build_client(opts(srv.url, max_in_flight=2), provider="p", retry=FAST)
        try:
            answers = await asyncio.gather(*(client.request("GET", f"/x/{i}") for i in range(8)))
        finally:
            await client.aclose()
    assert [a.status_code for a in answers] == [200] * 8
    assert srv.peak_active == 2 and client.peak_in_flight == 2 and client.in_flight == 0


async def test_queued_request_waits_at_most_two_deadlines_for_a_slot() -> None:
    with hostile_server(behaviour="json", json_body=lambda r: {}, delay=30) as srv:
        client = build_client(opts(srv.url, max_in_flight=1, timeout="3s"), provider="p",
                              retry=FAST)
        try:
            first = asyncio.ensure_future(client.request("GET", "/slow"))
            await asyncio.sleep(0.1)
            started = asyncio.get_running_loop().time()
            with pytest.raises(ProviderError, match=r"^p: no complete answer from http://127.0.0"
                               r".1:\d+/queued within 0.2s \(waited 0.4s for one of 1 busy "
                               r"connections\)$"):
                await client.request("GET", "/queued", deadline=0.2)
            assert asyncio.get_running_loop().time() - started < 2
            assert [s.path_qs for s in srv.seen] == ["/slow"]  # the queued one was never sent
            first.cancel()
        finally:
            await client.aclose()


async def test_a_task_holding_a_slot_does_not_wait_for_its_own() -> None:
    with hostile_server(behaviour="json", json_body=lambda r: {"n": 1}) as srv:
        client = build_client(opts(srv.url, max_in_flight=1), provider="p", retry=FAST)
        try:
            async with client.slot("/x"), asyncio.timeout(5):
                resp = await client.request("GET", "/x")
            assert resp.json() == {"n": 1} and client.in_flight == 0
        finally:
            await client.aclose()


async def test_prometheus_shares_the_client_bound_and_fails_queued_queries_fast() -> None:
    with hostile_server(behaviour="huge", size=100 * MB) as srv:
        prom = PrometheusProvider("prom", PrometheusOptions(
            type="prometheus", url=srv.url, max_in_flight=2, max_body="1MiB"))
        try:
            results = await asyncio.gather(*(prom.instant(f"up{i}") for i in range(10)),
                                           return_exceptions=True)
        finally:
            await prom.aclose()
    assert all(isinstance(r, ProviderError) for r in results)
    assert all("answer larger than 1 MiB (max_body)" in str(r) for r in results)
    assert prom.peak_in_flight <= 2 and prom.client.peak_in_flight <= 2
    assert len(srv.seen) <= 4  # the queued ones fail with the first one's error, unsent


# ------------------------------------------------------------------------- Loki tail

async def test_tail_message_over_max_message_drops_the_connection_with_1009() -> None:
    with hostile_server(behaviour="tail_huge", size=40 * MB) as srv:
        loki = LokiProvider("loki", LokiOptions(type="loki", url=srv.url, max_message="1MiB"))
        tracemalloc.start()
        try:
            with pytest.raises(TailClosed) as info:
                async for message in loki.tail('{app="x"}'):
                    assert message.info.get("event") == "open"
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            await loki.aclose()
    assert info.value.code == 1009
    assert str(info.value) == (f"loki: tail message larger than 1 MiB (max_message); dropped the "
                               f"connection: {srv.url}/loki/api/v1/tail")
    assert peak < 8 * MB


async def test_loki_range_answer_over_max_body_is_a_provider_error() -> None:
    with hostile_server(behaviour="huge", size=100 * MB) as srv:
        loki = LokiProvider("loki", LokiOptions(type="loki", url=srv.url, max_body="1MiB"))
        try:
            with pytest.raises(ProviderError, match=r"^loki: answer larger than 1 MiB"):
                await loki.query_range('{app="x"}', 0, 10)
        finally:
            await loki.aclose()
