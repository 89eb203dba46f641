"""The shared HTTP layer against real loopback servers: overall deadline (slow drip), retries on
503, 429 with Retry-After, and redaction of a canary secret in every error and log record."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.http import (
    HttpOptions,
    RedactingFilter,
    RetryPolicy,
    build_client,
    redact,
    retry_after_seconds,
    secrets_of,
)

CANARY = "canary-S3cr3t-7f3a9c"
FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05)

Handler = Callable[["Request", asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]


@dataclass
class Server:
    port: int
    requests: list[Request] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def serve(handler: Handler) -> AsyncIterator[Server]:
    server_state = Server(port=0)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if length:
                await reader.readexactly(length)
            req = Request(method, target, headers)
            server_state.requests.append(req)
            await handler(req, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    try:
        yield server_state
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def opts(url: str, **kw: object) -> HttpOptions:
    return HttpOptions.model_validate({"type": "test", "url": url, **kw})


async def test_overall_deadline_beats_slow_drip() -> None:
    async def drip(req: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        await writer.drain()
        for _ in range(1000):  # one byte every 0.2 s: a per-read timeout never fires
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    async for srv in serve(drip):
        client = build_client(opts(srv.url, timeout="5s"), provider="prom", retry=FAST)
        start = time.perf_counter()
        with pytest.raises(ProviderError) as info:
            await client.request("GET", "/api/v1/query", deadline=0.8)
        elapsed = time.perf_counter() - start
        await client.aclose()
        assert 0.7 <= elapsed < 2.0
        assert str(info.value) == (f"prom: no complete answer from {srv.url}/api/v1/query "
                                   "within 0.8s")
        assert len(srv.requests) == 1  # a deadline is not retried


async def test_default_deadline_is_the_timeout_option() -> None:
    async def drip(req: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    async for srv in serve(drip):
        client = build_client(opts(srv.url, timeout="700ms"), provider="loki")
        start = time.perf_counter()
        with pytest.raises(ProviderError, match=r"within 0\.7s"):
            await client.request("GET", "/x")
        assert time.perf_counter() - start < 2.0
        await client.aclose()


async def test_retries_idempotent_503_then_succeeds() -> None:
    async def flaky(req: Request, writer: asyncio.StreamWriter) -> None:
        ok = len(srv.requests) >= 3
        writer.write(response(200 if ok else 503, b"ok" if ok else b"busy"))

    async for srv in serve(flaky):
        client = build_client(opts(srv.url), provider="prom", retry=FAST)
        resp = await client.request("GET", "/api/v1/query")
        assert resp.status_code == 200 and resp.text == "ok"
        assert len(srv.requests) == 3
        # retries exhausted: the last 503 is returned for the caller to map
        srv.requests.clear()
        client.retry = RetryPolicy(attempts=2, base=0.01, cap=0.01)
        resp = await client.request("GET", "/api/v1/query")
        assert resp.status_code == 503 and len(srv.requests) == 2
        await client.aclose()


async def test_post_is_not_retried() -> None:
    async def busy(req: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(503, b"busy"))

    async for srv in serve(busy):
        client = build_client(opts(srv.url), provider="am", retry=FAST)
        resp = await client.request("POST", "/api/v2/silences", json={"a": 1})
        assert resp.status_code == 503
        assert len(srv.requests) == 1
        await client.aclose()


async def test_429_honours_retry_after() -> None:
    async def limited(req: Request, writer: asyncio.StreamWriter) -> None:
        if len(srv.requests) == 1:
            writer.write(response(429, b"slow down", {"Retry-After": "1"}))
        else:
            writer.write(response(200, b"ok"))

    async for srv in serve(limited):
        client = build_client(opts(srv.url, timeout="5s"), provider="pd", retry=FAST)
        start = time.perf_counter()
        resp = await client.request("GET", "/incidents")
        assert resp.status_code == 200
        assert time.perf_counter() - start >= 0.95  # waited as told, not the 10 ms backoff
        assert len(srv.requests) == 2
        await client.aclose()


async def test_429_with_retry_after_beyond_deadline_returns_at_once() -> None:
    async def limited(req: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(429, b"slow down", {"Retry-After": "120"}))

    async for srv in serve(limited):
        client = build_client(opts(srv.url, timeout="2s"), provider="pd", retry=FAST)
        start = time.perf_counter()
        resp = await client.request("GET", "/incidents")
        assert resp.status_code == 429
        assert time.perf_counter() - start < 1.0
        assert retry_after_seconds(resp) == 120.0
        await client.aclose()


def test_retry_after_parsing() -> None:
    def hdr(**h: str) -> httpx.Response:
        return httpx.Response(429, headers={k.replace("_", "-"): v for k, v in h.items()})

    assert retry_after_seconds(hdr(retry_after="7")) == 7.0
    assert retry_after_seconds(hdr(retry_after="100000")) == 300.0  # capped
    assert retry_after_seconds(hdr(retry_after="Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # past
    assert retry_after_seconds(hdr(ratelimit_reset="3")) == 3.0
    epoch = str(int(time.time()) + 60)
    assert 55 <= (retry_after_seconds(hdr(x_ratelimit_reset=epoch)) or 0) <= 60
    assert retry_after_seconds(hdr(retry_after="soon")) is None
    assert retry_after_seconds(hdr()) is None


def test_full_jitter_backoff_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base=0.2, cap=5.0)
    import random

    rng = random.Random(1)
    for attempt in range(1, 12):
        upper = min(5.0, 0.2 * 2 ** (attempt - 1))
        assert all(0 <= policy.delay(attempt, rng) <= upper for _ in range(100))


async def test_connection_refused_is_one_redacted_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    o = opts(f"http://admin:{CANARY}@127.0.0.1:{port}/prefix", headers={"X-Api-Key": CANARY})
    client = build_client(o, provider="prom", retry=FAST)
    with pytest.raises(ProviderError) as info:
        await client.request("GET", f"/api/v1/query?query=up&access_token={CANARY}")
    await client.aclose()
    message = str(info.value)
    assert "\n" not in message
    # user:password@ became basic auth when the options were read: the URL no longer has it
    assert message.startswith(f"prom: ConnectError for http://127.0.0.1:{port}/prefix/api/v1/")
    assert CANARY not in message
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in (record.exc_text or "")


async def test_basic_auth_password_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def echo(req: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(401, f"bad credentials: {req.headers.get('authorization')}"
                                   .encode()))

    async for srv in serve(echo):
        o = opts(srv.url,
                 auth={"basic": {"username": "u", "password": CANARY}})
        client = build_client(o, provider="loki", retry=FAST)
        resp = await client.request("GET", f"/loki/api/v1/labels?token={CANARY}")
        assert resp.status_code == 401
        assert srv.requests[0].headers["authorization"].startswith("Basic ")
        # a provider turning the body into an error uses client.redact
        assert "Basic ***" in client.redact(resp.text)
        assert CANARY not in client.redact(f"{resp.text} {resp.request.url}")
        await client.aclose()
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP Request" in m for m in messages)  # httpx did log the URL ...
    assert all(CANARY not in m for m in messages)  # ... redacted


async def test_bearer_token_sent_and_redacted_from_logged_exceptions(
        caplog: pytest.LogCaptureFixture) -> None:
    async def ok(req: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(200, b"{}"))

    async for srv in serve(ok):
        client = build_client(opts(srv.url, auth={"bearer_token": CANARY}), provider="pd")
        await client.request("GET", "/")
        assert srv.requests[0].headers["authorization"] == f"Bearer {CANARY}"
        await client.aclose()
    logger = logging.getLogger("sre_cockpit.providers.somewhere")
    logger.addFilter(RedactingFilter())
    caplog.set_level(logging.DEBUG)
    try:
        raise RuntimeError(f"failed with Authorization: Bearer {CANARY}")
    except RuntimeError:
        logger.exception("call failed for %s", CANARY)
    record = caplog.records[-1]
    assert CANARY not in record.getMessage()
    assert CANARY not in (record.exc_text or "")


def test_redact_shapes() -> None:
    assert redact(f"GET https://bob:{CANARY}@h/x") == "GET https://***@h/x"
    assert redact(f"https://h/x?a=1&token={CANARY}&b=2") == "https://h/x?a=1&token=***&b=2"
    assert redact(f"Authorization: Bearer {CANARY}") == "Authorization: ***"
    assert redact(f"Token token={CANARY}") == "Token token=***"
    assert redact(f"the value {CANARY} leaked", [CANARY]) == "the value *** leaked"
    o = opts(f"http://u:{CANARY}@h", proxy=f"http://p:{CANARY}-p@proxy:3128",
             headers={"Authorization": f"Bearer {CANARY}-h"})
    found = secrets_of(o)
    assert CANARY in found and f"{CANARY}-p" in found and f"{CANARY}-h" in found


def test_options_validation() -> None:
    from pydantic import ValidationError

    for bad in ({"url": "localhost:9090"}, {"url": "ftp://h"}, {"url": "http://"},
                {"url": "http://h", "timeout": "0s"}, {"url": "http://h", "auth": {}},
                {"url": "http://h", "proxy": "socks"}, {"url": "http://h/?token=x"},
                {"url": "http://h/#frag"}):
        with pytest.raises(ValidationError):
            HttpOptions.model_validate({"type": "t", **bad})
    assert HttpOptions.model_validate({"type": "t", "url": "https://h:1/p", "timeout": "1m"}
                                      ).timeout == 60.0


async def test_insecure_skip_verify_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    client = build_client(opts("https://h", insecure_skip_verify=True), provider="prom")
    await client.aclose()
    assert any("TLS verification is OFF" in r.getMessage() for r in caplog.records)
