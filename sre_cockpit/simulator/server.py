"""The simulator's HTTP server: every backend on one port, faults, and the control endpoints.

URL layout (one port):

* ``/api/v1/...``            Prometheus HTTP API v1
* ``/loki/api/v1/...``       Loki (query_range, labels, tail WebSocket …)
* ``/api/v2/...``            Alertmanager API v2
* ``/pagerduty/...``         PagerDuty REST API v2 (base URL ``http://HOST:PORT/pagerduty``)
* ``/_sim/faults``           GET / POST / DELETE faults (see :mod:`.faults`)
* ``/_sim/pagerduty/incidents``  POST ``{"count": N}`` adds synthetic incidents
* ``/_sim/state``            GET the story's times and the simulator's settings
* ``/_sim/stats``            GET counters (requests, tail_lines_sent, tails_open …)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from typing import Any

from aiohttp import web

from sre_cockpit.simulator import api_incidents, api_loki, api_prom
from sre_cockpit.simulator.faults import Fault, FaultSpecError
from sre_cockpit.simulator.huge import MB, huge_response
from sre_cockpit.simulator.state import SimOptions, SimState


def backend_for(path: str) -> str | None:
    """Which simulated backend a request path belongs to."""
    if path.startswith("/loki/") or path == "/ready":
        return "loki"
    if path.startswith("/api/v1/") or path.startswith("/-/"):
        return "prometheus"
    if path.startswith("/api/v2/"):
        return "alertmanager"
    if path.startswith(api_incidents.PD_PREFIX + "/") or path == api_incidents.PD_PREFIX:
        return "pagerduty"
    return None


class Simulator(SimState):
    """The simulator: its state plus the aiohttp application serving every backend."""

    def __init__(self, opts: SimOptions) -> None:
        super().__init__(opts)
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ app
    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._fault_middleware])
        api_prom.add_routes(app, self)
        api_loki.add_routes(app, self)
        api_incidents.add_alertmanager_routes(app, self)
        api_incidents.add_pagerduty_routes(app, self)
        app.router.add_get("/_sim/faults", self._get_faults)
        app.router.add_post("/_sim/faults", self._post_faults)
        app.router.add_delete("/_sim/faults", self._delete_faults)
        app.router.add_post("/_sim/pagerduty/incidents", self._add_incidents)
        app.router.add_get("/_sim/state", self._state)
        app.router.add_get("/_sim/stats", self._stats)
        app.router.add_get("/", self._index)
        return app

    async def start(self) -> str:
        """Start serving; returns the base URL (``http://host:port``)."""
        self.story.series()  # build the metric caches before the first query
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.opts.host, self.opts.port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None and isinstance(server, asyncio.base_events.Server)
        port = server.sockets[0].getsockname()[1]
        host = self.opts.host if ":" not in self.opts.host else f"[{self.opts.host}]"
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ faults
    @web.middleware
    async def _fault_middleware(self, request: web.Request,
                                handler: api_incidents.Handler) -> web.StreamResponse:
        backend = backend_for(request.path)
        self.stats["requests"] += 1
        fault = self.faults.active(backend) if backend else None
        if fault is None or fault.mode in ("ws_close_every", "tail_drop"):
            return await handler(request)
        assert backend is not None
        mode = fault.mode
        if mode == "huge":
            if request.path == "/loki/api/v1/tail":
                return await handler(request)  # the tail sends one huge message itself
            return await huge_response(request, int(fault.argument() * MB))
        if mode == "refuse":
            _reset_connection(request)
            return web.Response(status=500)  # never written: the transport is gone
        if mode == "hang":
            while self.faults.active(backend) is fault:  # noqa: ASYNC110 - faults expire by time
                await asyncio.sleep(0.1)
            return await handler(request)
        if mode == "slow":
            await asyncio.sleep(fault.argument() / 1000)
            return await handler(request)
        if mode == "error500":
            return _error_500(backend)
        if mode == "error502":
            return web.Response(status=502, content_type="text/html", text=(
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n"))
        if mode in ("error429", "error429_noheaders"):
            headers = None
            if mode == "error429":
                headers = {"ratelimit-limit": "960", "ratelimit-remaining": "0",
                           "ratelimit-reset": "20", "Retry-After": "20"}
            if backend == "pagerduty":
                return api_incidents.rate_limited(headers)
            if backend == "loki":
                return api_loki.plain(429, "too many outstanding requests")
            return web.Response(status=429, text="Too Many Requests\n", headers=headers)
        if mode == "timeout":
            return _timeout(backend)
        if mode == "garbage":
            return web.Response(status=200, content_type="application/json",
                                body=b'{"status":"succ\x00\xff\xfe<html>garbage]]}')
        if mode == "drip":
            return await _drip(request, await handler(request), fault)
        return await handler(request)

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response({"faults": [f.to_json() for f in self.faults.active_all()]})

    async def _post_faults(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
            active = self.faults.apply_json(body)
        except (ValueError, FaultSpecError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"faults": [f.to_json() for f in active]})

    async def _delete_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.json_response({"faults": []})

    async def _add_incidents(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
            count = body["count"]
            if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= 20_000:
                raise ValueError("count must be an integer between 1 and 20000")
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"expected {{\"count\": N}}: {exc}"}, status=400)
        ids = self.pd.add_extra(count)
        return web.json_response({"added": ids, "total": len(self.pd.incidents)})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats)

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    def state(self) -> dict[str, Any]:
        """The story's times and the simulator's settings (also ``GET /_sim/state``)."""
        st = self.story
        return {
            "url": self.url, "now": self.clock.now(), "start": self.clock.start,
            "frozen": self.clock.frozen, "seed": st.seed, "speed": st.speed,
            "log_rate": self.logs.rate, "log_origin_ns": self.logs.origin_ns,
            "history_start": st.origin_ms / 1000, "pd_token": self.opts.pd_token,
            "pd_incident_ids": {"checkout": self.pd.main_id, "payments": self.pd.payments_id},
            "story": {name.removeprefix("t_"): getattr(st, name) for name in sorted(vars(st))
                      if name.startswith("t_")},
            "deploys": [{"at": at, "service": svc, "version": ver, "previous": prev}
                        for at, svc, ver, prev in st.deploys],
            "urls": {"prometheus": self.url, "loki": self.url, "alertmanager": self.url,
                     "pagerduty": self.url + api_incidents.PD_PREFIX},
        }

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text=(
            "sre-cockpit simulator\n"
            f"prometheus:   {self.url}/api/v1/\n"
            f"loki:         {self.url}/loki/api/v1/\n"
            f"alertmanager: {self.url}/api/v2/\n"
            f"pagerduty:    {self.url}{api_incidents.PD_PREFIX}/\n"
            f"faults:       {self.url}/_sim/faults\n"))


def _reset_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _error_500(backend: str) -> web.Response:
    if backend == "prometheus":
        return api_prom.envelope_error("internal", "simulated fault: internal server error")
    if backend == "loki":
        return api_loki.plain(500, "simulated fault: internal server error")
    if backend == "pagerduty":
        return api_incidents.pd_response({"error": {"message": "Internal Server Error", "code": 2000}}, 500)
    return web.Response(status=500, text=json.dumps("simulated fault: internal server error"),
                        content_type="application/json")


def _timeout(backend: str) -> web.Response:
    if backend == "prometheus":
        return api_prom.envelope_error("timeout", "query timed out in query queue")
    if backend == "loki":
        return api_loki.plain(504, api_loki.ERR_TIMEOUT)
    if backend == "pagerduty":
        return api_incidents.pd_response({"error": {"message": "Gateway Timeout", "code": 2000}}, 504)
    return web.Response(status=504, text=json.dumps("context deadline exceeded"),
                        content_type="application/json")


async def _drip(request: web.Request, resp: web.StreamResponse, fault: Fault) -> web.StreamResponse:
    if not isinstance(resp, web.Response) or resp.prepared:
        return resp
    body = resp.body if isinstance(resp.body, bytes) else (resp.text or "").encode()
    out = web.StreamResponse(status=resp.status, headers=resp.headers)
    out.content_length = len(body)
    await out.prepare(request)
    interval = fault.argument() / 1000
    for i in range(len(body)):
        await out.write(body[i:i + 1])
        await asyncio.sleep(interval)
    await out.write_eof()
    return out
