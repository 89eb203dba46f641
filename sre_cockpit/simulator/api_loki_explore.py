"""Loki handlers beyond reading lines: metric queries (``query_range`` → ``matrix``, ``query`` →
``vector``), label names and values for a time range and selector, and log patterns.

Parameters are read as Loki reads them: ``start``/``end``/``since`` (default: the last hour),
``step`` as seconds or a duration (default ``max(1s, range / 250)``, at most 11,000 points),
``query`` a selector for the label endpoints. The label endpoints omit ``data`` when empty; the
patterns endpoint always sends a ``data`` list, and answers 404 with an empty body when the
simulator runs with ``--loki-no-patterns`` (a Loki without pattern ingesters).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sre_cockpit.simulator import loki_explore, loki_metrics, promql
from sre_cockpit.simulator.logs import LogQLError, parse_logql, parse_loki_time

if TYPE_CHECKING:
    from sre_cockpit.simulator.state import SimState

NS = 1_000_000_000
MAX_POINTS = 11_000
ERR_END_BEFORE_START = "end timestamp must not be before or equal to start time"
ERR_STEP = ("exceeded maximum resolution of 11,000 points per time series. Try increasing the "
            "value of the step parameter")
ERR_STEP_SIGN = ("zero or negative query resolution step widths are not accepted. Try a "
                 "positive integer")


def plain(status: int, text: str) -> web.Response:
    """A Loki plain-text error."""
    return web.Response(status=status, text=text, content_type="text/plain",
                        headers={"X-Content-Type-Options": "nosniff"})


def bounds(p: dict[str, str], now_ns: int) -> tuple[int, int]:
    """``(start, end)`` in ns from ``start``/``end``/``since`` (default: the last hour).

    Raises:
        LogQLError: for an unreadable time or duration.
    """
    end = parse_loki_time(p.get("end", ""), now_ns)
    since = 3600 * NS
    if p.get("since"):
        try:
            since = int(promql.parse_duration_ms(p["since"]) * 1_000_000)
        except ValueError as exc:
            raise LogQLError(f"invalid since: {exc}") from exc
    return parse_loki_time(p.get("start", ""), end - since), end


def step_ns(p: dict[str, str], start_ns: int, end_ns: int) -> int:
    """The ``step`` parameter (seconds or a duration) or Loki's default for the range.

    Raises:
        LogQLError: for an unreadable, non-positive or too small step.
    """
    text = p.get("step", "")
    if not text:
        step = max(1, (end_ns - start_ns) // NS // 250) * NS
    else:
        try:
            step = int(float(text) * NS)
        except ValueError:
            try:
                step = int(promql.parse_duration_ms(text) * 1_000_000)
            except ValueError as exc:
                raise LogQLError(f'invalid step: cannot parse "{text}" to a valid duration') \
                    from exc
    if step <= 0:
        raise LogQLError(ERR_STEP_SIGN)
    if (end_ns - start_ns) / step > MAX_POINTS:
        raise LogQLError(ERR_STEP)
    return step


def _success(data: Any) -> web.Response:
    return web.json_response({"status": "success", "data": data})


async def metric_range(sim: SimState, engine: loki_metrics.MetricEngine, p: dict[str, str],
                       stats: Any) -> web.Response:
    """``query_range`` of a metric query: a ``matrix``."""
    t0 = time.monotonic()
    now = sim.clock.now_ns()
    try:
        query = loki_metrics.parse_metric(p.get("query", ""))
        start, end = bounds(p, now)
        if end < start:
            return plain(400, ERR_END_BEFORE_START)
        step = step_ns(p, start, end)
    except LogQLError as exc:
        return plain(400, str(exc))
    points = await asyncio.to_thread(engine.evaluate, query, start, end, step, now)
    result = loki_metrics.matrix_json(points)
    return _success({"resultType": "matrix", "result": result,
                     "stats": stats(sum(len(v) for v in points.values()), time.monotonic() - t0)})


async def metric_instant(sim: SimState, engine: loki_metrics.MetricEngine, p: dict[str, str],
                         stats: Any) -> web.Response:
    """``query`` of a metric query: a ``vector`` at ``time`` (default now)."""
    t0 = time.monotonic()
    now = sim.clock.now_ns()
    try:
        query = loki_metrics.parse_metric(p.get("query", ""))
        at = parse_loki_time(p.get("time", ""), now)
    except LogQLError as exc:
        return plain(400, str(exc))
    points = await asyncio.to_thread(engine.evaluate, query, at, at, NS, now)
    result = loki_metrics.vector_json(points)
    return _success({"resultType": "vector", "result": result,
                     "stats": stats(len(result), time.monotonic() - t0)})


async def _form(request: web.Request) -> dict[str, str]:
    out = dict(request.query)
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        for k, v in (await request.post()).items():
            out[k] = str(v)
    return out


def add_routes(app: web.Application, sim: SimState) -> None:
    """Register the label and pattern endpoints."""
    gen = sim.logs

    def selection(p: dict[str, str]) -> tuple[Any, int, int]:
        query = parse_logql(p["query"]) if p.get("query") else None
        start, end = bounds(p, sim.clock.now_ns())
        if end < start:
            raise LogQLError(ERR_END_BEFORE_START)
        return query, start, end

    async def labels(request: web.Request) -> web.Response:
        try:
            query, start, end = selection(await _form(request))
        except LogQLError as exc:
            return plain(400, str(exc))
        names = loki_explore.label_names(gen, query, start, end)
        return web.json_response({"status": "success", **({"data": names} if names else {})})

    async def label_values(request: web.Request) -> web.Response:
        try:
            query, start, end = selection(await _form(request))
        except LogQLError as exc:
            return plain(400, str(exc))
        values = loki_explore.label_values(gen, request.match_info["name"], query, start, end)
        return web.json_response({"status": "success", **({"data": values} if values else {})})

    async def patterns(request: web.Request) -> web.Response:
        if not sim.opts.loki_patterns:
            return web.Response(status=404, text="", content_type="text/plain")
        p = await _form(request)
        now = sim.clock.now_ns()
        try:
            query = parse_logql(p.get("query", ""))
            start, end = bounds(p, now)
            if end < start:
                return plain(400, ERR_END_BEFORE_START)
            step = step_ns(p, start, end)
        except LogQLError as exc:
            return plain(400, str(exc))
        data = await asyncio.to_thread(loki_explore.patterns, gen, query, start, end, step, now)
        return web.json_response({"status": "success", "data": data})

    for method in ("GET", "POST"):
        app.router.add_route(method, "/loki/api/v1/labels", labels)
        app.router.add_route(method, "/loki/api/v1/label/{name}/values", label_values)
        app.router.add_route(method, "/loki/api/v1/patterns", patterns)
