"""A minimal Loki stub (aiohttp) for the Loki/log-stream unit tests.

It keeps entries in memory, answers ``query_range`` like Loki (``[start, end)``, limit, both
directions, plain-text 400s) and serves ``/tail`` like Loki does: the history part is a
*backward* query capped by ``limit`` from ``start``, then live entries, a ping every second,
and faults on demand: close every N seconds with 1011, abort the TCP connection (1006), go
silent, refuse the upgrade with an HTTP status (a proxy), report ``dropped_entries``.
The stub runs in its own thread so both async tests and blocking pty/subprocess tests use it.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web


@dataclass(order=True)
class StubEntry:
    ts: int
    line: str = field(compare=False)
    labels: dict[str, str] = field(compare=False, default_factory=lambda: {"app": "stub"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LokiStub:
    """In-memory Loki. Call methods from any thread; they hop onto the stub's loop."""

    def __init__(self) -> None:
        self.entries: list[StubEntry] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.refuse_upgrade: int | None = None  # answer the tail with this HTTP status
        self.close_every: float | None = None  # close each tail after N s with 1011
        self.abort_every: float | None = None  # drop TCP after N s (client sees 1006)
        self.silent: bool = False  # tail sends nothing, no pings
        self.ping: bool = True
        self.require_tenant: str | None = None
        self.dropped_per_message: int = 0
        self.hostile_error: str | None = None  # body for a 400 on query_range
        self.range_status: int | None = None  # answer query_range with this status (e.g. 500)
        self.tail_connections = 0
        self.range_queries: list[dict[str, str]] = []
        self.tail_params: list[dict[str, str]] = []
        self._live: set[asyncio.Queue[StubEntry]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._producer: asyncio.Task[None] | None = None
        self.seq = 0

    # ------------------------------------------------------------------------ data

    def push(self, line: str, *, ts: int | None = None, labels: dict[str, str] | None = None) -> None:
        """Add one entry (and send it to live tails)."""
        entry = StubEntry(ts if ts is not None else time.time_ns(), line,
                          labels or {"app": "stub"})
        self.call(self._add, entry)

    def _add(self, entry: StubEntry) -> None:
        if self.entries and entry.ts <= self.entries[-1].ts:
            entry.ts = self.entries[-1].ts + 1
        bisect.insort(self.entries, entry)
        for queue in list(self._live):
            queue.put_nowait(entry)

    def start_producer(self, rate: float, make: Callable[[int], str] | None = None) -> None:
        """Emit ``rate`` numbered lines per second (``seq=N``) until stopped."""
        maker = make or (lambda n: f"seq={n} level=info msg=\"request served\"")

        async def produce() -> None:
            interval = 1.0 / rate
            next_at = time.monotonic()
            while True:
                self._add(StubEntry(time.time_ns(), maker(self.seq)))
                self.seq += 1
                next_at += interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif self.seq % 50 == 0:
                    await asyncio.sleep(0)

        def start() -> None:
            self._producer = asyncio.ensure_future(produce())

        self.call(start)

    def stop_producer(self) -> None:
        def stop() -> None:
            if self._producer is not None:
                self._producer.cancel()

        self.call(stop)

    # ---------------------------------------------------------------------- server

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        assert self._loop is not None
        done = threading.Event()

        def run() -> None:
            try:
                fn(*args)
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    def start(self) -> LokiStub:
        self._thread = threading.Thread(target=self._run, daemon=True, name="loki-stub")
        self._thread.start()
        assert self._ready.wait(10), "stub did not start"
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _shutdown(self) -> None:
        if self._producer is not None:
            self._producer.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_route("*", "/loki/api/v1/query_range", self._query_range)
        app.router.add_get("/loki/api/v1/tail", self._tail)
        app.router.add_get("/loki/api/v1/labels", self._labels)
        app.router.add_get("/ready", self._readyz)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        loop.run_until_complete(site.start())
        self._ready.set()
        loop.run_forever()
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def _tenant_ok(self, request: web.Request) -> bool:
        return self.require_tenant is None or \
            request.headers.get("X-Scope-OrgID") == self.require_tenant

    async def _labels(self, request: web.Request) -> web.StreamResponse:
        if not self._tenant_ok(request):
            return web.Response(status=401, text="no org id\n")
        return web.json_response({"status": "success", "data": ["app", "level"]})

    async def _readyz(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="ready\n")

    def _select(self, start: int, end: int) -> list[StubEntry]:
        lo = bisect.bisect_left(self.entries, StubEntry(start, ""))
        hi = bisect.bisect_left(self.entries, StubEntry(end, ""))
        return self.entries[lo:hi]

    @staticmethod
    def _streams(entries: list[StubEntry]) -> list[dict[str, Any]]:
        streams: dict[str, dict[str, Any]] = {}
        for entry in entries:
            key = json.dumps(entry.labels, sort_keys=True)
            stream = streams.setdefault(key, {"stream": entry.labels, "values": []})
            stream["values"].append([str(entry.ts), entry.line])
        return list(streams.values())

    async def _query_range(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        self.range_queries.append(params)
        if not self._tenant_ok(request):
            return web.Response(status=401, text="no org id\n")
        query = params.get("query", "")
        if self.range_status is not None:
            return web.Response(status=self.range_status, text="internal server error\n")
        if self.hostile_error is not None:
            return web.Response(status=400, text=self.hostile_error)
        if not query.startswith("{"):
            return web.Response(status=400,
                                text="parse error at line 1, col 1: syntax error: unexpected IDENTIFIER")
        start = int(params.get("start", "0"))
        end = int(params.get("end", str(time.time_ns())))
        if end <= start:
            return web.Response(status=400,
                                text="end timestamp must not be before or equal to start time")
        limit = int(params.get("limit", "100"))
        direction = params.get("direction", "backward")
        selected = self._select(start, end)
        selected = selected[-limit:] if direction == "backward" else selected[:limit]
        if direction == "backward":
            selected = list(reversed(selected))
        body = {"status": "success",
                "data": {"resultType": "streams", "result": self._streams(selected), "stats": {}}}
        return web.json_response(body)

    async def _tail(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        self.tail_params.append(params)
        if self.refuse_upgrade is not None:
            return web.Response(status=self.refuse_upgrade,
                                text="<html><title>403 Forbidden</title>websockets blocked</html>",
                                content_type="text/html")
        if not self._tenant_ok(request):
            return web.Response(status=401, text="no org id\n")
        query = params.get("query", "")
        if not query.startswith("{"):
            return web.Response(status=400,
                                text="parse error at line 1, col 1: syntax error: unexpected IDENTIFIER")
        if int(params.get("delay_for", "0")) > 5:
            return web.Response(status=400, text="delay_for can't be greater than 5")
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        self.tail_connections += 1
        limit = int(params.get("limit", "100"))
        start = int(params.get("start", str(time.time_ns() - 3600 * 10**9)))
        queue: asyncio.Queue[StubEntry] = asyncio.Queue()
        self._live.add(queue)
        opened = time.monotonic()
        try:
            if self.silent:
                await asyncio.sleep(3600)
            history = self._select(start, time.time_ns() + 1)[-limit:]  # backward + limit
            if history:
                await ws.send_str(json.dumps({"streams": self._streams(history),
                                              "dropped_entries": None}))
            seen_upto = history[-1].ts if history else start - 1
            last_ping = time.monotonic()
            while not ws.closed:
                elapsed = time.monotonic() - opened
                if self.close_every is not None and elapsed >= self.close_every:
                    await ws.close(code=WSCloseCode.INTERNAL_ERROR,
                                   message=b"reached tail max duration limit")
                    break
                if self.abort_every is not None and elapsed >= self.abort_every:
                    transport = request.transport
                    if transport is not None:
                        transport.abort()
                    break
                batch: list[StubEntry] = []
                try:
                    entry = await asyncio.wait_for(queue.get(), 0.05)
                    batch.append(entry)
                    while not queue.empty() and len(batch) < limit:
                        batch.append(queue.get_nowait())
                except TimeoutError:
                    pass
                batch = [e for e in batch if e.ts > seen_upto]
                if batch:
                    dropped = [{"timestamp": str(batch[0].ts), "labels": {"app": "stub"}}
                               for _ in range(self.dropped_per_message)]
                    await ws.send_str(json.dumps({"streams": self._streams(batch),
                                                  "dropped_entries": dropped or None}))
                if self.ping and time.monotonic() - last_ping >= 1:
                    last_ping = time.monotonic()
                    await ws.ping()
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            self._live.discard(queue)
        return ws


@contextmanager
def loki_stub(**settings: Any) -> Iterator[LokiStub]:
    """Run a stub for the duration of a ``with`` block."""
    stub = LokiStub()
    for key, value in settings.items():
        setattr(stub, key, value)
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


def write_config(path: Any, url: str, *, query: str = '{app="stub"}', extra: str = "") -> Any:
    """A config file with one Loki provider pointing at ``url``."""
    path.write_text(
        "default_context: test\n"
        "contexts:\n"
        "  test:\n"
        "    providers:\n"
        "      loki:\n"
        "        type: loki\n"
        f"        url: {url}\n"
        f"        query: '{query}'\n"
        f"{extra}")
    return path


def make_runtime(url: str | None, *, query: str = '{app="stub"}', clock: Any = None,
                 loki: dict[str, Any] | None = None, **ui: Any) -> Any:
    """A Runtime with one Loki provider at ``url`` (or none; ``loki``: more of its options)
    and ``ui`` overrides."""
    from sre_cockpit.config.model import Config
    from sre_cockpit.feeds.runtime import Runtime

    providers = {} if url is None else {"loki": {"type": "loki", "url": url, "query": query,
                                                 **(loki or {})}}
    config = Config.model_validate({"default_context": "test",
                                    "contexts": {"test": {"providers": providers}},
                                    "ui": ui})
    if clock is None:
        return Runtime(config, "test")
    return Runtime(config, "test", clock=clock)
