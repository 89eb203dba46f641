"""Alertmanager API v2 (``/api/v2/...``) and PagerDuty REST v2 (``/pagerduty/...``) handlers."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sre_cockpit.simulator.alertmanager import AlertmanagerError
from sre_cockpit.simulator.pagerduty_types import PagerDutyError, invalid, parse_iso

if TYPE_CHECKING:
    from sre_cockpit.simulator.state import SimState

PD_PREFIX = "/pagerduty"
PD_CONTENT_TYPE = "application/json; charset=utf-8"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def am_error(exc: AlertmanagerError) -> web.Response:
    """Alertmanager errors: a JSON string (handlers) or {code,message} (schema validation)."""
    if exc.body is None:
        return web.Response(status=exc.status)
    return web.Response(status=exc.status, text=json.dumps(exc.body, separators=(",", ":")),
                        content_type="application/json")


def _bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return True
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise AlertmanagerError(400, {"code": 400, "message": f'{name} in query must be of type boolean: "{raw}"'})


async def _json_body(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError:
        return _BadJson(text)


class _BadJson:
    def __init__(self, text: str) -> None:
        self.text = text


def add_alertmanager_routes(app: web.Application, sim: SimState) -> None:
    """Register the Alertmanager v2 endpoints."""
    am = sim.am

    def guarded(fn: Handler) -> Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                return await fn(request)
            except AlertmanagerError as exc:
                return am_error(exc)
        return wrapper

    async def get_alerts(request: web.Request) -> web.StreamResponse:
        data = am.list_alerts(request.query.getall("filter", []), silenced=_bool(request, "silenced"),
                              inhibited=_bool(request, "inhibited"), active=_bool(request, "active"),
                              unprocessed=_bool(request, "unprocessed"),
                              receiver=request.query.get("receiver"))
        return web.json_response(data)

    async def post_alerts(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        if isinstance(body, _BadJson):
            return am_error(AlertmanagerError(400, {"code": 400, "message": "parsing alerts body from \"\" failed, because invalid character in JSON"}))
        am.post_alerts(body)
        return web.Response(status=200)

    async def groups(request: web.Request) -> web.StreamResponse:
        data = am.groups(request.query.getall("filter", []), silenced=_bool(request, "silenced"),
                         inhibited=_bool(request, "inhibited"), active=_bool(request, "active"),
                         receiver=request.query.get("receiver"))
        return web.json_response(data)

    async def get_silences(request: web.Request) -> web.StreamResponse:
        return web.json_response(am.list_silences(request.query.getall("filter", [])))

    async def post_silence(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        if isinstance(body, _BadJson):
            return am_error(AlertmanagerError(400, {"code": 400, "message": "parsing silence body from \"\" failed, because invalid character in JSON"}))
        return web.json_response({"silenceID": am.post_silence(body)})

    async def get_silence(request: web.Request) -> web.StreamResponse:
        return web.json_response(am.get_silence(request.match_info["id"]))

    async def delete_silence(request: web.Request) -> web.StreamResponse:
        am.expire_silence(request.match_info["id"])
        return web.Response(status=200)

    async def status(request: web.Request) -> web.StreamResponse:
        return web.json_response(am.status())

    async def receivers(request: web.Request) -> web.StreamResponse:
        return web.json_response([{"name": "shop-pagerduty"}, {"name": "shop-slack"}])

    r = app.router
    r.add_get("/api/v2/alerts", guarded(get_alerts))
    r.add_post("/api/v2/alerts", guarded(post_alerts))
    r.add_get("/api/v2/alerts/groups", guarded(groups))
    r.add_get("/api/v2/silences", guarded(get_silences))
    r.add_post("/api/v2/silences", guarded(post_silence))
    r.add_get("/api/v2/silence/{id}", guarded(get_silence))
    r.add_delete("/api/v2/silence/{id}", guarded(delete_silence))
    r.add_get("/api/v2/status", guarded(status))
    r.add_get("/api/v2/receivers", guarded(receivers))


class RateLimiter:
    """A fixed one-minute window of ``limit`` requests (PagerDuty's per-key limit)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.window = 0
        self.count = 0

    def check(self) -> tuple[bool, dict[str, str]]:
        """Count one request; returns (allowed, ratelimit headers)."""
        if not self.limit:
            return True, {}
        now = time.time()
        window = int(now // 60)
        if window != self.window:
            self.window, self.count = window, 0
        self.count += 1
        reset = max(1, int(60 - now % 60))
        headers = {"ratelimit-limit": str(self.limit),
                   "ratelimit-remaining": str(max(0, self.limit - self.count)),
                   "ratelimit-reset": str(reset)}
        return self.count <= self.limit, headers


def pd_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), headers=headers,
                        content_type="application/json", charset="utf-8")


def rate_limited(headers: dict[str, str] | None) -> web.Response:
    """PagerDuty's 429 (code 2020), with or without the ``ratelimit-*`` headers."""
    return pd_response({"error": {"message": "Rate Limit Exceeded", "code": 2020}}, 429, headers)


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid(f"{name.capitalize()} must be an integer.") from exc
    if value < 0:
        raise invalid(f"{name.capitalize()} must be a non-negative integer.")
    return value


def _date_range(request: web.Request, now: float) -> tuple[float | None, float | None]:
    """PagerDuty's since/until/date_range: default the last 30 days, ``date_range=all`` = all."""
    if request.query.get("date_range") == "all":
        return None, None
    since_raw, until_raw = request.query.get("since"), request.query.get("until")
    until = parse_iso(until_raw, "until") if until_raw else now
    since = parse_iso(since_raw, "since") if since_raw else until - 30 * 86400
    if since > until:
        raise invalid("Since must be before until.")
    return since, until


def _list_param(request: web.Request, name: str) -> list[str]:
    return request.query.getall(f"{name}[]", []) + request.query.getall(name, [])


def add_pagerduty_routes(app: web.Application, sim: SimState) -> None:
    """Register the PagerDuty endpoints under ``/pagerduty``."""
    pd = sim.pd
    limiter = RateLimiter(sim.opts.pd_rate_limit)

    def guarded(fn: Handler, *, needs_from: bool = False) -> Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            auth = request.headers.get("Authorization", "").strip()
            if auth != f"Token token={sim.opts.pd_token}":
                return pd_response({"error": {"message": "Unauthorized", "code": 2006}}, 401)
            allowed, headers = limiter.check()
            if not allowed:
                return rate_limited(headers)
            try:
                if needs_from and not request.headers.get("From", "").strip():
                    raise invalid("You must specify a user's email address in the \"From\" header to perform this action")
                resp = await fn(request)
            except PagerDutyError as exc:
                resp = pd_response(exc.body(), exc.status)
            resp.headers.update(headers)
            return resp
        return wrapper

    async def list_incidents(request: web.Request) -> web.StreamResponse:
        offset = _int_param(request, "offset", 0)
        limit = min(_int_param(request, "limit", 25), 100) or 25
        if offset + limit > 10_000:
            raise invalid("Offset+limit must be less than or equal to 10000.")
        total = request.query.get("total", "false").lower() == "true"
        since, until = _date_range(request, sim.clock.now())
        return pd_response(pd.list_incidents(statuses=_list_param(request, "statuses"),
                                             urgencies=_list_param(request, "urgencies"),
                                             service_ids=_list_param(request, "service_ids"),
                                             offset=offset, limit=limit, total=total,
                                             since=since, until=until))

    async def get_incident(request: web.Request) -> web.StreamResponse:
        inc = pd.get(request.match_info["id"])
        return pd_response({"incident": pd.incident_json(inc, full=True)})

    async def put_incidents(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        if not isinstance(body, dict) or "incidents" not in body:
            raise invalid("Incidents must be a non-empty array of incident references.")
        user = pd.user_for(request.headers["From"].strip())
        return pd_response({"incidents": pd.update(body["incidents"], user)})

    async def put_incident(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        item = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(item, dict):
            raise invalid("Incident must be an object.")
        item = {**item, "id": request.match_info["id"], "type": item.get("type", "incident_reference")}
        user = pd.user_for(request.headers["From"].strip())
        return pd_response({"incident": pd.update([item], user)[0]})

    async def log_entries(request: web.Request) -> web.StreamResponse:
        inc = pd.get(request.match_info["id"])
        offset = _int_param(request, "offset", 0)
        limit = min(_int_param(request, "limit", 25), 100) or 25
        entries = list(inc.log)
        if request.query.get("since"):
            since = parse_iso(request.query["since"], "since")
            entries = [e for e in entries if e.at >= since]
        if request.query.get("until"):
            until = parse_iso(request.query["until"], "until")
            entries = [e for e in entries if e.at < until]
        if request.query.get("is_overview", "false").lower() == "true":
            entries = [e for e in entries if e.type != "annotate_log_entry"]
        rows = entries[offset:offset + limit]
        return pd_response({"log_entries": [pd.log_entry_json(inc, e) for e in rows],
                            "limit": limit, "offset": offset, "more": offset + limit < len(entries),
                            "total": len(entries) if request.query.get("total") == "true" else None})

    async def list_notes(request: web.Request) -> web.StreamResponse:
        inc = pd.get(request.match_info["id"])
        return pd_response({"notes": [pd.note_json(n) for n in inc.notes]})

    async def create_note(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        user = pd.user_for(request.headers["From"].strip())
        note = pd.add_note(request.match_info["id"], body, user)
        return pd_response({"note": note})

    async def oncalls(request: web.Request) -> web.StreamResponse:
        return pd_response({"oncalls": pd.oncalls(), "limit": 25, "offset": 0, "more": False,
                            "total": None})

    async def services(request: web.Request) -> web.StreamResponse:
        rows = [dict(ref.ref(), type="service", name=ref.name) for ref in pd.services.values()]
        return pd_response({"services": rows, "limit": 25, "offset": 0, "more": False, "total": None})

    async def abilities(request: web.Request) -> web.StreamResponse:
        return pd_response({"abilities": ["teams", "read_only_users", "urgencies"]})

    def paging(request: web.Request) -> tuple[str, int, int, bool]:
        offset = _int_param(request, "offset", 0)
        limit = min(_int_param(request, "limit", 25), 100) or 25
        return (request.query.get("query", ""), offset, limit,
                request.query.get("total", "false").lower() == "true")

    async def users(request: web.Request) -> web.StreamResponse:
        return pd_response(pd.ops.list_users(*paging(request)))

    async def policies(request: web.Request) -> web.StreamResponse:
        return pd_response(pd.ops.list_policies(*paging(request)))

    async def policy(request: web.Request) -> web.StreamResponse:
        return pd_response(pd.ops.get_policy(request.match_info["id"]))

    async def snooze(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        inc = pd.get(request.match_info["id"])
        pd.ops.snooze(inc, body, pd.user_for(request.headers["From"].strip()))
        return pd_response({"incident": pd.incident_json(inc)}, 201)

    async def status_update(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        inc = pd.get(request.match_info["id"])
        return pd_response(pd.ops.status_update(inc, body, pd.user_for(request.headers["From"].strip())))

    r = app.router
    r.add_get(f"{PD_PREFIX}/incidents", guarded(list_incidents))
    r.add_put(f"{PD_PREFIX}/incidents", guarded(put_incidents, needs_from=True))
    r.add_get(f"{PD_PREFIX}/incidents/{{id}}", guarded(get_incident))
    r.add_put(f"{PD_PREFIX}/incidents/{{id}}", guarded(put_incident, needs_from=True))
    r.add_get(f"{PD_PREFIX}/incidents/{{id}}/log_entries", guarded(log_entries))
    r.add_get(f"{PD_PREFIX}/incidents/{{id}}/notes", guarded(list_notes))
    r.add_post(f"{PD_PREFIX}/incidents/{{id}}/notes", guarded(create_note, needs_from=True))
    r.add_get(f"{PD_PREFIX}/oncalls", guarded(oncalls))
    r.add_get(f"{PD_PREFIX}/services", guarded(services))
    r.add_get(f"{PD_PREFIX}/abilities", guarded(abilities))
    r.add_get(f"{PD_PREFIX}/users", guarded(users))
    r.add_get(f"{PD_PREFIX}/escalation_policies", guarded(policies))
    r.add_get(f"{PD_PREFIX}/escalation_policies/{{id}}", guarded(policy))
    r.add_post(f"{PD_PREFIX}/incidents/{{id}}/snooze", guarded(snooze, needs_from=True))
    r.add_post(f"{PD_PREFIX}/incidents/{{id}}/status_updates",
               guarded(status_update, needs_from=True))
