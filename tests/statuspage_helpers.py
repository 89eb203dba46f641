"""A Statuspage Manage API (v1) on loopback for the example plugin's tests.

:class:`StatuspageStub` serves one page's incidents the way Statuspage does: ``OAuth`` key
auth, ``/pages/{id}/incidents/unresolved`` and ``/pages/{id}/incidents`` newest first with
``page``/``per_page``, and ``PATCH /pages/{id}/incidents/{id}`` changing the status and adding an
incident update. Every request is recorded; :meth:`StatuspageStub.fail` makes the next answers
errors (rate limits, 5xx, a body echoing the key). It runs in its own thread and event loop, so
in-process tests and other processes (a fresh venv's ``sre-cockpit``) use it alike.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

PAGE = "kctbh9vrtdwd"
KEY = "sp-key-7d41c0ffee"
UNRESOLVED = ("investigating", "identified", "monitoring")


def stamp(at: datetime) -> str:
    """Statuspage's timestamps: RFC 3339 with milliseconds and the zone offset."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def incident(ident: str, name: str, status: str, impact: str, component: str,
             started: datetime, updates: list[tuple[str, str, datetime]]) -> dict[str, Any]:
    """One incident object with its ``incident_updates`` (newest first, as Statuspage lists
    them); ``updates`` are (status, body, when), oldest first."""
    listed = [{"id": f"{ident}-u{n}", "incident_id": ident, "status": st, "body": body,
               "created_at": stamp(when), "display_at": stamp(when), "updated_at": stamp(when),
               "affected_components": [{"code": f"c-{component.lower()}", "name": component}]}
              for n, (st, body, when) in enumerate(updates)]
    last = updates[-1][2] if updates else started
    return {
        "id": ident, "page_id": PAGE, "name": name, "status": status, "impact": impact,
        "impact_override": None, "created_at": stamp(started), "started_at": stamp(started),
        "updated_at": stamp(last), "monitoring_at": None,
        "resolved_at": stamp(last) if status == "resolved" else None,
        "shortlink": f"https://stspg.io/{ident[-6:]}", "postmortem_body": None, "metadata": {},
        "components": [{"id": f"c-{component.lower()}", "page_id": PAGE, "name": component,
                        "status": "major_outage" if impact == "critical" else "degraded_performance",
                        "position": 1, "showcase": True, "only_show_if_degraded": False}],
        "incident_updates": list(reversed(listed)),
    }


def story(now: datetime) -> list[dict[str, Any]]:
    """Four unresolved incidents and one resolved, newest first (the API's order)."""
    ago = lambda minutes: now - timedelta(minutes=minutes)  # noqa: E731
    return [
        incident("p0search00001", "Search is slow", "investigating", "minor", "Search", ago(5),
                 [("investigating", "Search queries take 4s; looking into it", ago(5))]),
        incident("p0checkout001", "Checkout API errors", "investigating", "critical", "Checkout",
                 ago(20), [("investigating", "Checkout answers 502 for 30% of requests", ago(20))]),
        incident("p0payments001", "Payments degraded", "identified", "major", "Payments", ago(50),
                 [("investigating", "Card payments fail intermittently", ago(50)),
                  ("identified", "A bad config push to the card gateway", ago(40))]),
        incident("p0login000001", "Login failures", "monitoring", "critical", "Login", ago(120),
                 [("investigating", "Logins fail for EU users", ago(120)),
                  ("identified", "Expired certificate on the EU identity proxy", ago(110)),
                  ("monitoring", "Certificate renewed; watching error rates", ago(90))]),
        incident("p0cdn00000001", "CDN cache misses", "resolved", "minor", "CDN", ago(170),
                 [("investigating", "Cache hit ratio dropped to 40%", ago(170)),
                  ("resolved", "Purge storm over; hit ratio back to 95%", ago(150))]),
    ]


@dataclass
class Request:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Any = None


@dataclass
class StatuspageStub:
    """A Statuspage on a free loopback port (see the module docstring)."""

    incidents: list[dict[str, Any]] = field(default_factory=lambda: story(datetime.now(UTC)))
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _faults: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API's base URL (what ``url:`` is set to)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def fail(self, status: int, body: str = "", *, times: int = 1,
             headers: dict[str, str] | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` and ``body``."""
        self._faults.extend([(status, headers or {}, body)] * times)

    def patches(self) -> list[tuple[str, Any]]:
        """(incident id, JSON body) of every PATCH, in arrival order."""
        return [(r.path.rsplit("/", 1)[-1], r.body) for r in self.requests if r.method == "PATCH"]

    # -- serving ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.requests.append(Request(request.method, request.path, dict(request.query),
                                     request.headers.get("Authorization"), body))
        if self._faults:
            status, headers, text = self._faults.pop(0)
            return web.Response(status=status, text=text, headers=headers,
                                content_type="application/json")
        if request.headers.get("Authorization") != f"OAuth {KEY}":
            return web.json_response({"error": "Could not authenticate"}, status=401)
        if request.match_info["page"] != PAGE:
            return web.json_response({"error": "Page not found"}, status=404)
        rest = request.match_info.get("rest", "")
        if request.method == "GET" and rest == "":
            return web.json_response({"id": PAGE, "name": "Acme Status",
                                      "url": "https://status.acme.example"})
        if request.method == "GET" and rest in ("incidents", "incidents/unresolved"):
            items = [i for i in self.incidents
                     if rest == "incidents" or i["status"] in UNRESOLVED]
            page = int(request.query.get("page", "1"))
            per_page = min(100, int(request.query.get("per_page", "100")))
            return web.json_response(items[(page - 1) * per_page: page * per_page])
        if request.method == "PATCH" and rest.startswith("incidents/"):
            return self._patch(rest.removeprefix("incidents/"), body)
        return web.json_response({"error": "not found"}, status=404)

    def _patch(self, ident: str, body: Any) -> web.Response:
        found = next((i for i in self.incidents if i["id"] == ident), None)
        if found is None:
            return web.json_response({"error": "Incident not found"}, status=404)
        change = (body or {}).get("incident") or {}
        if "status" in change:
            now = stamp(datetime.now(UTC))
            found["status"] = change["status"]
            found["updated_at"] = now
            found["incident_updates"].insert(0, {
                "id": f"{ident}-u{len(found['incident_updates'])}", "incident_id": ident,
                "status": change["status"], "body": change.get("body", ""), "created_at": now,
                "display_at": now, "updated_at": now, "affected_components": []})
        return web.json_response(found)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/v1/pages/{page}", self._handle)
        app.router.add_route("*", "/v1/pages/{page}/{rest:.*}", self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    def start(self) -> StatuspageStub:
        """Serve on a free loopback port."""
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
