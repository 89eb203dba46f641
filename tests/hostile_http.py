"""A hostile HTTP server on loopback (aiohttp in its own thread) for the memory and credential
tests: every path answers as ``behaviour`` says, and every request's headers are recorded.

Behaviours (``HostileServer.behaviour``):

- ``huge``: 200 with ``size`` bytes of JSON-looking text, chunked (no Content-Length) — the
  client only learns the size by reading;
- ``huge_length``: the same with a Content-Length header;
- ``gzip_bomb``: ``Content-Encoding: gzip`` whose body inflates to ``size`` bytes (~100 KB on
  the wire for 100 MB);
- ``echo_auth``: 401 with a body echoing the Authorization header verbatim, inside JSON, and the
  base64 part decoded;
- ``json``: 200 with ``json_body`` (a callable of the request, for pagination tests);
- ``tail_huge``: the Loki tail WebSocket sends one text message of ``size`` bytes; other paths
  answer like a Loki with no lines.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MB = 1024 * 1024
CHUNK = b'{"pad":"' + b"x" * (MB - 16) + b'"},\n'
FILL = b"y" * MB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path_qs: str
    headers: dict[str, str]


@dataclass
class HostileServer:
    """See the module docstring. Start with :func:`hostile_server`."""

    behaviour: str = "huge"
    size: int = 100 * MB
    json_body: Callable[[web.Request], Any] | None = None
    port: int = field(default_factory=free_port)
    delay: float = 0.0
    """Seconds to wait before answering (``json``, ``echo_auth``)."""
    seen: list[Seen] = field(default_factory=list)
    bytes_sent: int = 0
    active: int = 0
    peak_active: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------ handlers

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(Seen(request.method, request.path_qs,
                              {k.lower(): v for k, v in request.headers.items()}))
        if request.method in ("POST", "PUT", "PATCH"):
            await request.read()
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await self._answer(request)
        finally:
            self.active -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/tail") and self.behaviour == "tail_huge":
            return await self._tail_huge(request)
        if self.behaviour == "tail_huge":  # range queries answer like an empty Loki
            return web.json_response({"status": "success",
                                      "data": {"resultType": "streams", "result": []}})
        if self.behaviour == "echo_auth":
            return self._echo(request)
        if self.behaviour == "json":
            assert self.json_body is not None
            return web.json_response(self.json_body(request))
        if self.behaviour == "gzip_bomb":
            return web.Response(body=_bomb(self.size), headers={
                "Content-Type": "application/json", "Content-Encoding": "gzip"})
        return await self._huge(request, with_length=self.behaviour == "huge_length")

    async def _huge(self, request: web.Request, *, with_length: bool) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        if with_length:
            resp.content_length = self.size
        else:
            resp.enable_chunked_encoding()
        try:
            await resp.prepare(request)
            sent = 0
            while sent < self.size:
                piece = CHUNK[: min(len(CHUNK), self.size - sent)]
                await resp.write(piece)
                sent += len(piece)
                self.bytes_sent += len(piece)
            await resp.write_eof()
        except (ConnectionError, RuntimeError):  # the client hung up at its cap: expected
            pass
        return resp

    def _echo(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        decoded = ""
        if auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth.split(" ", 1)[1]).decode("utf-8", "replace")
        body = (f"401 Unauthorized: bad credentials in Authorization: {auth}\n"
                + json.dumps({"headers": {"authorization": [auth]}, "user:pass": decoded}))
        return web.Response(status=401, text=body, content_type="text/plain")

    async def _tail_huge(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        transport = request.transport
        assert transport is not None
        # one text message of ``size`` bytes in 1 MiB frames (FIN only on the last one), written
        # raw: aiohttp has no fragmented send, and building the message whole would cost this
        # (test) process the memory the client is being tested for
        sent, opcode = 0, 0x1
        while sent < self.size and not transport.is_closing():
            piece = FILL[: min(MB, self.size - sent)]
            fin = 0x80 if sent + len(piece) >= self.size else 0
            transport.writelines([bytes([fin | opcode, 127]) + len(piece).to_bytes(8, "big"),
                                  piece])
            sent += len(piece)
            self.bytes_sent += len(piece)
            opcode = 0x0  # continuation
            # a raw transport has no drain(); the buffer stays small because this server runs
            # in the test's process, whose tracemalloc peak must be the client's
            while transport.get_write_buffer_size() > MB:
                if transport.is_closing():
                    break
                await asyncio.sleep(0.01)
        await asyncio.sleep(5)
        return ws

    # ------------------------------------------------------------------------ running

    def run(self, ready: threading.Event, stop: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=64 * MB)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        ready.set()

        loop.run_until_complete(asyncio.to_thread(stop.wait))
        loop.run_until_complete(runner.cleanup())
        loop.close()


def _bomb(size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"0" * MB
    out = [comp.compress(block) for _ in range(size // MB)]
    out.append(comp.flush())
    return b"".join(out)


@contextmanager
def hostile_server(**settings: Any) -> Iterator[HostileServer]:
    """Run a :class:`HostileServer` for the duration of a ``with`` block."""
    server = HostileServer(**settings)
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=server.run, args=(ready, stop), daemon=True,
                              name="hostile-http")
    thread.start()
    assert ready.wait(10), "hostile server did not start"
    try:
        yield server
    finally:
        stop.set()
        thread.join(10)
