"""Prometheus HTTP API v1 handlers (``/api/v1/...``)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sre_cockpit.simulator import promql
from sre_cockpit.simulator.alertmanager import iso_ms

if TYPE_CHECKING:
    from sre_cockpit.simulator.state import SimState

ERROR_STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "canceled": 503, "internal": 500}


class ApiError(Exception):
    """A Prometheus API error (errorType + message)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def envelope_error(error_type: str, message: str) -> web.Response:
    """A Prometheus error envelope with the matching HTTP status."""
    return web.json_response({"status": "error", "errorType": error_type, "error": message},
                             status=ERROR_STATUS.get(error_type, 500))


def success(data: Any) -> web.Response:
    return web.json_response({"status": "success", "data": data})


async def params_of(request: web.Request) -> dict[str, list[str]]:
    """Query-string and form parameters merged (Prometheus accepts both)."""
    out: dict[str, list[str]] = {}
    for k, qv in request.query.items():
        out.setdefault(k, []).append(qv)
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        for k, v in form.items():
            out.setdefault(k, []).append(str(v))
    return out


def parse_time_ms(name: str, value: str) -> int:
    """Prometheus ``parseTime``: float seconds (rounded to ms) or RFC3339."""
    try:
        t = float(value)
    except ValueError:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ApiError("bad_data", f'invalid parameter "{name}": cannot parse "{value}" to a valid timestamp') from exc
        return int(dt.timestamp()) * 1000 + dt.microsecond // 1000
    if math.isnan(t) or math.isinf(t):
        raise ApiError("bad_data", f'invalid parameter "{name}": cannot parse "{value}" to a valid timestamp')
    sec = math.floor(t)
    return int(sec) * 1000 + round((t - sec) * 1000)


def parse_step_ms(value: str) -> int:
    """A step/timeout: float seconds or a Prometheus duration."""
    try:
        f = float(value)
    except ValueError:
        try:
            return promql.parse_duration_ms(value)
        except ValueError as exc:
            raise ApiError("bad_data", f'invalid parameter "step": cannot parse "{value}" to a valid duration') from exc
    if math.isnan(f) or math.isinf(f):
        raise ApiError("bad_data", f'invalid parameter "step": cannot parse "{value}" to a valid duration')
    return round(f * 1000)


def add_routes(app: web.Application, sim: SimState) -> None:
    """Register the Prometheus endpoints."""

    async def query(request: web.Request) -> web.Response:
        try:
            p = await params_of(request)
            q = (p.get("query") or [""])[0]
            now = sim.clock.now_ms()
            t = parse_time_ms("time", p["time"][0]) if p.get("time") and p["time"][0] else now
            if p.get("timeout") and p["timeout"][0]:
                parse_step_ms(p["timeout"][0])
            data = promql.instant_query(q, t, sim.story.series(), now)
            return success(data)
        except promql.PromQLError as exc:
            msg = f'invalid parameter "query": {exc}' if isinstance(exc, promql.ParseError) else str(exc)
            return envelope_error(exc.error_type, msg)
        except ApiError as exc:
            return envelope_error(exc.error_type, str(exc))

    async def query_range(request: web.Request) -> web.Response:
        try:
            p = await params_of(request)
            q = (p.get("query") or [""])[0]
            for name in ("start", "end", "step"):
                if not p.get(name) or not p[name][0]:
                    raise ApiError("bad_data", f'invalid parameter "{name}": cannot parse "" to a valid '
                                   + ("duration" if name == "step" else "timestamp"))
            start = parse_time_ms("start", p["start"][0])
            end = parse_time_ms("end", p["end"][0])
            if end < start:
                raise ApiError("bad_data", 'invalid parameter "end": end timestamp must not be before start time')
            step = parse_step_ms(p["step"][0])
            if step <= 0:
                raise ApiError("bad_data", 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer')
            if (end - start) // step > promql.MAX_POINTS:
                raise ApiError("bad_data", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
            data = promql.range_query(q, start, end, step, sim.story.series(), sim.clock.now_ms())
            return success(data)
        except promql.PromQLError as exc:
            msg = f'invalid parameter "query": {exc}' if isinstance(exc, promql.ParseError) else str(exc)
            return envelope_error(exc.error_type, msg)
        except ApiError as exc:
            return envelope_error(exc.error_type, str(exc))

    async def alerts(request: web.Request) -> web.Response:
        now = sim.clock.now()
        out = []
        for a in sim.am.story_alerts(now):
            out.append({"labels": a.labels, "annotations": a.annotations, "state": "firing",
                        "activeAt": iso_ms(a.starts_at - 120), "value": "1e+00"})
        return success({"alerts": out})

    async def buildinfo(request: web.Request) -> web.Response:
        return success({"version": "2.42.0", "revision": "sre-cockpit-simulator",
                        "branch": "HEAD", "buildUser": "sre-cockpit",
                        "buildDate": "20260101-00:00:00", "goVersion": "go1.19.8"})

    async def labels(request: web.Request) -> web.Response:
        names = sorted({k for s in sim.story.series() for k in s.labels})
        return success(names)

    async def label_values(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return success(sorted({s.labels[name] for s in sim.story.series() if name in s.labels}))

    async def series(request: web.Request) -> web.Response:
        p = await params_of(request)
        matches = p.get("match[]") or []
        if not matches:
            return envelope_error("bad_data", "no match[] parameter provided")
        out: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        try:
            for m in matches:
                expr = promql.parse(m)
                if not isinstance(expr, promql.VectorSel):
                    return envelope_error("bad_data", f'invalid parameter "match[]": 1:1: parse error: expected type instant vector in selector, got {type(expr).__name__}')
                for s in promql.Evaluator(sim.story.series()).select(expr):
                    out[tuple(sorted(s.labels.items()))] = s.labels
        except promql.PromQLError as exc:
            return envelope_error("bad_data", f'invalid parameter "match[]": {exc}')
        return success([out[k] for k in sorted(out)])

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="Prometheus Server is Ready.\n")

    app.router.add_route("GET", "/api/v1/query", query)
    app.router.add_route("POST", "/api/v1/query", query)
    app.router.add_route("GET", "/api/v1/query_range", query_range)
    app.router.add_route("POST", "/api/v1/query_range", query_range)
    app.router.add_get("/api/v1/alerts", alerts)
    app.router.add_get("/api/v1/status/buildinfo", buildinfo)
    app.router.add_get("/api/v1/labels", labels)
    app.router.add_get("/api/v1/label/{name}/values", label_values)
    app.router.add_route("GET", "/api/v1/series", series)
    app.router.add_route("POST", "/api/v1/series", series)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/-/healthy", ready)
