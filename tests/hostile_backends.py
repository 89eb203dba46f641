"""Hostile backends on loopback: a Prometheus, a Loki, an Alertmanager and a PagerDuty that put
markup and escape sequences in every field and every error body the cockpit shows.

One aiohttp server (in its own thread) serves every backend under its own path prefix, so a
config points each provider at ``{url}/prom``, ``{url}/loki``, ``{url}/am``, ``{url}/pd``.
``{url}/fail/<anything>`` answers every request with HTTP 500 and a hostile body (HTML-looking
for Prometheus, plain text for Loki, JSON for PagerDuty and Alertmanager): providers pointed there
are failing sources whose error bodies reach the source line, the empty state and the header.

Every string is :func:`hostile` of a short tag naming the field (``T1`` an incident title,
``LL`` a log line …): the tag first, then the markup (``[/]``, ``[b]``, ``$variable``,
``[@click=app.quit]…[/]``, ``[link=file:///etc/passwd]…[/link]``, an unbalanced ``[``), then
the escapes (OSC 52 writing the clipboard, OSC 0 retitling the window, CSI 2J, 8-bit CSI/OSC/ST,
BEL, CR, a bidi override). So the screen must show ``T1[/][b]$variable`` literally, and the raw
output must hold none of the escapes. A few fields are very long (:data:`LONG_FIELDS`).

Errors on demand, for the paths that only run when the operator asks:

- Loki ``query_range`` for a query containing ``bad`` answers 400 with a hostile plain-text
  body (the LogQL editor), for one containing ``quitme`` 400 with :data:`CLICK_BODY`, and any
  range query ending more than a minute ago answers 500 (the moment chosen on the timeline);
- every PagerDuty write (ack, resolve, notes) answers 500 with a hostile JSON error;
- Alertmanager ``POST /api/v2/silences`` answers 400 with a hostile JSON string.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

MARKUP = "[/][b]$variable [@click=app.quit]CLICK[/] [link=file:///etc/passwd]L[/link] ["
"""The markup part of every hostile string (shown literally, right after the tag)."""
ESCAPES = ("\x1b]52;c;cHduZWQ=\x07\x1b]0;pwned\x07\x1b[2J\x9b6n\x9d0;pwned\x9c\x07 cr\rX "
           "\u202eRTL")
"""The escape part: OSC 52 (clipboard ``pwned``), OSC 0 (title), CSI 2J, 8-bit CSI, OSC and
ST, BEL, CR, a right-to-left override."""
SHOWN_ESCAPES = "␛]52;c;cHduZWQ=␇␛]0;pwned␇␛[2J⟨9B⟩6n⟨9D⟩0;pwned⟨9C⟩␇ cr␍X ⟨U+202E⟩RTL"
"""What the sanitiser shows instead of :data:`ESCAPES`."""
RAW_FORBIDDEN = ("\x1b]52;c;cHduZWQ=", "\x1b]0;pwned", "\x9b6n", "\x9d0;pwned", "\x9c",
                 "\u202e", "\x1b[2J\x9b")
"""Pieces of :data:`ESCAPES` that must never reach the terminal (Textual writes its own CSI
sequences, BELs and CRs, so those are checked through their neighbours)."""
CLICK_BODY = "QC [@click=app.quit]CLICK-ME[/] balanced"
"""A Loki error body whose markup is balanced: parsed as markup it is a clickable ``CLICK-ME``
that quits the cockpit (the LogQL editor, for a query containing ``quitme``)."""
LONG = 20_000
LONG_FIELDS = frozenset({"T1", "LL", "PE", "LE"})
"""Fields made :data:`LONG` characters longer (incident title, a log line, error bodies)."""


def hostile(tag: str) -> str:
    """The hostile text of field ``tag`` (see the module docstring)."""
    text = f"{tag}{MARKUP} {ESCAPES}"
    if tag in LONG_FIELDS:
        text += " " + "x" * LONG
    return text


def short_hostile(tag: str) -> str:
    """A short hostile name (providers: the header has room for a few of them)."""
    return f"{tag}[/][b]\x1b]0;pwned\x07\x9b6n\u202e"


def shown(tag: str) -> str:
    """The start of what the screen must show for field ``tag`` (literal markup)."""
    return f"{tag}{MARKUP[:18]}"


INCIDENT_URL = "https://pd.example/incidents/" + hostile("PU").replace(" ", "")
"""The first PagerDuty incident's URL: an http(s) URL with markup and escapes in its path."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class HostileBackends:
    """See the module docstring. Start with :func:`hostile_backends`."""

    port: int = field(default_factory=free_port)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    requests: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)
    """(method, path) of every POST/PUT the cockpit sent."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --------------------------------------------------------------------------- Prometheus

    async def prom(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["rest"]
        if path.endswith("status/buildinfo"):
            return web.json_response({"status": "success", "data": {"version": hostile("PV")}})
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        query = params.get("query", "")
        if "deploy" in query:  # the deploy query: one version series appearing 10 min ago
            now = time.time()
            points = [[now - 3600 + 60 * i, "1"] for i in range(50, 61)]
            return web.json_response({"status": "success", "data": {
                "resultType": "matrix", "result": [
                    {"metric": {"version": hostile("DV"), "service": hostile("DS")},
                     "values": points}]}})
        if "broken" in query:  # an SLO whose query the engine rejects
            return web.json_response({"status": "error", "errorType": "bad_data",
                                      "error": hostile("QE")}, status=400)
        value = "0.5" if "error" in query else "1000"
        now = time.time()
        if path.endswith("query_range"):
            data: dict[str, Any] = {"resultType": "matrix", "result": [
                {"metric": {}, "values": [[now - 60, value], [now, value]]}]}
        else:
            data = {"resultType": "vector", "result": [{"metric": {}, "value": [now, value]}]}
        return web.json_response({"status": "success", "data": data,
                                  "warnings": [hostile("PW")]})

    # --------------------------------------------------------------------------- Loki

    def _streams(self, count: int = 3) -> list[dict[str, Any]]:
        base = int(self.started.timestamp() * 10**9)
        values = [[str(base - (count - i) * 1_000_000), hostile("LL" if i == 0 else f"L{i}")]
                  for i in range(count)]
        return [{"stream": {"app": hostile("LV"), "lk_" + hostile("LK"): "v"},
                 "values": values}]

    async def loki(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["rest"]
        if path.endswith("tail"):
            return await self._tail(request)
        if path.endswith("labels") or path.endswith("values"):
            return web.json_response({"status": "success", "data": ["app", hostile("LN")]})
        if path.endswith("ready"):
            return web.Response(text="ready\n")
        if path.endswith("patterns"):
            return web.json_response({"status": "success", "data": []})
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        if "bad" in params.get("query", ""):
            return web.Response(status=400, text=hostile("QB"))
        if "quitme" in params.get("query", ""):
            return web.Response(status=400, text=CLICK_BODY)
        end = int(params.get("end", str(time.time_ns())))
        if end < time.time_ns() - 60 * 10**9:
            return web.Response(status=500, text=hostile("LE"))
        return web.json_response({"status": "success", "data": {
            "resultType": "streams", "result": self._streams(), "stats": {}}})

    async def _tail(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        try:
            await ws.send_str(json.dumps({"streams": self._streams(),
                                          "dropped_entries": None}))
            while not ws.closed:
                await asyncio.sleep(1.0)
                await ws.ping()
        except (ConnectionResetError, RuntimeError):
            pass
        return ws

    # --------------------------------------------------------------------------- Alertmanager

    def _alerts(self) -> list[dict[str, Any]]:
        start = _iso(self.started - timedelta(minutes=20))
        base = {"startsAt": start, "updatedAt": start, "endsAt": _iso(self.started + timedelta(hours=1)),
                "generatorURL": "http://prom/graph?" + hostile("AG"),
                "receivers": [{"name": hostile("AR")}]}
        return [
            {**base, "fingerprint": "a1" + hostile("AF")[:40],
             "labels": {"alertname": hostile("AN"), "service": hostile("AS"),
                        "severity": "critical", short_hostile("AK"): hostile("AL")},
             "annotations": {"summary": hostile("AT"), "description": hostile("AD"),
                             "runbook_url": "https://runbooks.example/" + hostile("AU")},
             "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}},
            {**base, "fingerprint": "a2silenced",
             "labels": {"alertname": "Quiet", "service": "checkout", "severity": "warning"},
             "annotations": {"summary": hostile("AQ")},
             "status": {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []}},
        ]

    def _silences(self) -> list[dict[str, Any]]:
        return [{"id": "s1", "createdBy": hostile("SC"), "comment": hostile("SM"),
                 "startsAt": _iso(self.started - timedelta(minutes=10)),
                 "endsAt": _iso(self.started + timedelta(hours=2)),
                 "updatedAt": _iso(self.started - timedelta(minutes=10)),
                 "status": {"state": "active"},
                 "matchers": [{"name": "alertname", "value": "Quiet", "isRegex": False,
                               "isEqual": True}]}]

    async def am(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["rest"]
        if request.method != "GET":
            await request.read()
            self.writes.append((request.method, path))
            return web.json_response(hostile("AE"), status=400)
        if path.endswith("alerts"):
            return web.json_response(self._alerts())
        if path.endswith("silences"):
            return web.json_response(self._silences())
        if path.endswith("status"):
            return web.json_response({"versionInfo": {"version": hostile("AV")},
                                      "cluster": {"status": "disabled"}})
        return web.json_response([])

    # --------------------------------------------------------------------------- PagerDuty

    def _incidents(self) -> list[dict[str, Any]]:
        created = _iso(self.started - timedelta(minutes=15))
        return [{
            "id": "PX" + hostile("PI")[:30], "incident_number": 7, "type": "incident",
            "title": hostile("T1"), "status": "triggered", "urgency": "high",
            "priority": {"summary": hostile("PP")},
            "service": {"id": "S1", "summary": hostile("PS")},
            "assignments": [{"assignee": {"id": "U1", "summary": hostile("PA")}}],
            "escalation_policy": {"id": "E1", "summary": hostile("PL")},
            "html_url": INCIDENT_URL,
            "created_at": created, "updated_at": created,
        }, {
            "id": "PY2", "incident_number": 8, "type": "incident", "title": hostile("T2"),
            "status": "acknowledged", "urgency": "low",
            "service": {"id": "S2", "summary": "payments"}, "assignments": [],
            "html_url": "javascript:alert(1)//" + hostile("PJ"),
            "created_at": created, "updated_at": created,
        }]

    def _log_entries(self, incident_id: str) -> list[dict[str, Any]]:
        at = self.started - timedelta(minutes=12)
        agent = {"type": "user_reference", "summary": hostile("PG")}
        ref = {"id": incident_id}
        return [
            {"id": "LE1", "type": "trigger_log_entry", "created_at": _iso(at),
             "summary": hostile("PT"), "agent": agent, "incident": ref},
            {"id": "LE2", "type": "annotate_log_entry",
             "created_at": _iso(at + timedelta(minutes=1)), "summary": "note",
             "channel": {"type": "note", "summary": hostile("PN")}, "agent": agent,
             "incident": ref},
            {"id": "LE3", "type": "status_update_log_entry",
             "created_at": _iso(at + timedelta(minutes=2)), "summary": "status update",
             "message": hostile("PM"), "agent": agent, "incident": ref},
        ]

    async def pd(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["rest"]
        if request.method != "GET":
            await request.read()
            self.writes.append((request.method, path))
            return web.json_response({"error": {"message": hostile("PE"), "code": 2001,
                                                 "errors": [hostile("PR")]}}, status=500)
        if path.endswith("log_entries"):
            incident_id = path.split("/")[-2]
            return web.json_response({"log_entries": self._log_entries(incident_id),
                                      "more": False})
        if path.endswith("notes"):
            return web.json_response({"notes": []})
        if path.endswith("oncalls"):
            return web.json_response({"oncalls": [
                {"user": {"summary": hostile("OU")}, "escalation_level": 1,
                 "escalation_policy": {"summary": hostile("OP")}}], "more": False})
        if path.endswith("incidents"):
            return web.json_response({"incidents": self._incidents(), "more": False})
        if "/incidents/" in path:
            return web.json_response({"incident": self._incidents()[0]})
        if path.endswith("users") or path.endswith("escalation_policies"):
            key = path.rsplit("/", 1)[-1]
            return web.json_response({key: [], "more": False})
        return web.json_response({})

    # --------------------------------------------------------------------------- failing

    async def fail(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["rest"]
        if request.method in ("POST", "PUT"):
            await request.read()
        if path.startswith("prom"):
            return web.Response(status=500, content_type="text/html",
                                text=f"<html><title>{hostile('FP')}</title></html>")
        if path.startswith("loki"):
            return web.Response(status=500, text=hostile("FL"))
        if path.startswith("pd"):
            return web.json_response({"error": {"message": hostile("FD"), "code": 2001}},
                                     status=500)
        return web.json_response(hostile("FA"), status=500)

    # --------------------------------------------------------------------------- running

    async def _log(self, request: web.Request) -> None:
        self.requests.append(f"{request.method} {request.path_qs}")

    def run(self, ready: threading.Event, stop: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        @web.middleware
        async def log(request: web.Request, handler: Any) -> web.StreamResponse:
            await self._log(request)
            result: web.StreamResponse = await handler(request)
            return result

        app = web.Application(middlewares=[log])
        for prefix, handler in (("prom", self.prom), ("loki", self.loki), ("am", self.am),
                                ("pd", self.pd), ("fail", self.fail)):
            app.router.add_route("*", f"/{prefix}/{{rest:.*}}", handler)
        runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        ready.set()
        loop.run_until_complete(asyncio.to_thread(stop.wait))
        loop.run_until_complete(runner.cleanup())
        loop.close()


@contextmanager
def hostile_backends() -> Iterator[HostileBackends]:
    """Run :class:`HostileBackends` for the duration of a ``with`` block."""
    server = HostileBackends()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=server.run, args=(ready, stop), daemon=True,
                              name="hostile-backends")
    thread.start()
    assert ready.wait(10), "hostile backends did not start"
    try:
        yield server
    finally:
        stop.set()
        thread.join(10)


def yaml_str(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (JSON escapes are valid YAML escapes)."""
    return json.dumps(text, ensure_ascii=True)


CONTEXT = hostile("CX")
"""The hostile context's name."""
OTHER_CONTEXT = "broken" + MARKUP + ESCAPES
"""A second context whose providers all fail with hostile error bodies."""


def hostile_config(url: str, *, journal_dir: str | None = None,
                   loki_query: str | None = None) -> str:
    """A config whose every name and query is hostile, pointing at :class:`HostileBackends`.

    Providers: ``prom…``, ``loki…``, ``am…``, ``pd…`` answer with hostile data; ``pdfail…`` and
    ``promfail…`` fail with hostile error bodies. SLOs: one evaluated, one whose query the
    engine rejects with a hostile error, one on the failing Prometheus. ``loki_query``
    replaces the hostile default LogQL query.
    """
    prom, loki, am, pd = (short_hostile(t) for t in ("NP", "NL", "NA", "ND"))
    pdfail, promfail = short_hostile("NF"), short_hostile("NG")
    q = yaml_str
    lines = [
        f"default_context: {q(CONTEXT)}",
        "contexts:",
        f"  {q(CONTEXT)}:",
        "    providers:",
        f"      {q(pd)}: {{type: pagerduty, url: {q(url + '/pd')}, token: tok,"
        " from_email: me@example.com}",
        f"      {q(am)}: {{type: alertmanager, url: {q(url + '/am')}}}",
        f"      {q(prom)}: {{type: prometheus, url: {q(url + '/prom')}}}",
        f"      {q(loki)}: {{type: loki, url: {q(url + '/loki')},"
        f" query: {q(loki_query or '{app=' + chr(34) + 'x' + chr(34) + '} ' + hostile('LQ'))}}}",
        f"      {q(pdfail)}: {{type: pagerduty, url: {q(url + '/fail/pd')}, token: tok}}",
        f"      {q(promfail)}: {{type: prometheus, url: {q(url + '/fail/prom')}}}",
        "    slos:",
        f"      - {{name: {q(hostile('SN'))}, provider: {q(prom)}, objective: 99.9, window: 30d,"
        f" error_query: {q('sum(rate(error_total[{{.window}}])) ' + hostile('SQ'))},"
        f" total_query: 'sum(rate(total[{{{{.window}}}}]))', service: {q(hostile('SS'))},"
        f" description: {q(hostile('SD'))}}}",
        f"      - {{name: {q(hostile('SB'))}, provider: {q(prom)}, objective: 99,"
        " window: 7d, error_query: 'broken', total_query: 'sum(rate(total[5m]))'}",
        f"      - {{name: {q(hostile('SF'))}, provider: {q(promfail)}, objective: 99,"
        " window: 7d, error_query: 'sum(rate(e[5m]))', total_query: 'sum(rate(t[5m]))'}",
        "    deploys:",
        f"      - {{provider: {q(prom)}, query: 'count by (version, service) (deploy_info)',"
        " version_label: version, service_label: service}",
        f"  {q(OTHER_CONTEXT)}:",
        "    providers:",
        f"      {q(short_hostile('NH'))}: {{type: pagerduty, url: {q(url + '/fail/pd')},"
        " token: tok}",
        f"      {q(short_hostile('NI'))}: {{type: loki, url: {q(url + '/fail/loki')},"
        " query: '{app=\"x\"}'}",
        f"user: {q(hostile('US'))}",
    ]
    if journal_dir is not None:
        lines.append(f"journal_dir: {q(journal_dir)}")
    return "\n".join(lines) + "\n"
