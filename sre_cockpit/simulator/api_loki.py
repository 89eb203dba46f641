"""Loki HTTP API handlers (``/loki/api/v1/...``), including the tail WebSocket."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from sre_cockpit.simulator import api_loki_explore, loki_metrics, promql
from sre_cockpit.simulator.huge import MB, huge_tail_message
from sre_cockpit.simulator.logs import Entry, LogQLError, parse_logql, parse_loki_time

if TYPE_CHECKING:
    from sre_cockpit.simulator.state import SimState

CATEGORIZE = "categorize-labels"
MAX_LIMIT = 5000
TAIL_INTERVAL_S = 0.1
ERR_END_BEFORE_START = "end timestamp must not be before or equal to start time"
ERR_INSTANT_LOG = ("log queries are not supported as an instant query type, please change your "
                   "query to a range query type")
ERR_TIMEOUT = ("request timed out, decrease the duration of the request or add more label "
               "matchers (prefer exact match over regex match) to reduce the amount of data processed")
ERR_STEP = ("exceeded maximum resolution of 11,000 points per time series. Try increasing the "
            "value of the step parameter")


def _zeros(*names: str) -> dict[str, int]:
    return dict.fromkeys(names, 0)


def _store() -> dict[str, Any]:
    return {
        "chunksDownloadTime": 0, "congestionControlLatency": 0, "totalChunksRef": 0,
        "totalChunksDownloaded": 0, "chunkRefsFetchTime": 0,
        "queryReferencedStructuredMetadata": False, "queryUsedV2Engine": False,
        "pipelineWrapperFilteredLines": 0,
        "chunk": _zeros("compressedBytes", "decompressedBytes", "decompressedLines",
                        "decompressedStructuredMetadataBytes", "headChunkBytes", "headChunkLines",
                        "headChunkStructuredMetadataBytes", "postFilterLines", "totalDuplicates"),
        "dataobj": _zeros("pageBatches", "pagesDownloaded", "pagesDownloadedBytes", "pagesScanned",
                          "postFilterRows", "postPredicateRows", "postPredicateDecompressedBytes",
                          "postPredicateStructuredMetadataBytes", "prePredicateDecompressedRows",
                          "prePredicateDecompressedBytes",
                          "prePredicateDecompressedStructuredMetadataBytes",
                          "totalPageDownloadTime", "totalRowsAvailable"),
    }


def _cache() -> dict[str, int]:
    return _zeros("entriesFound", "entriesRequested", "entriesStored", "bytesReceived",
                  "bytesSent", "requests", "downloadTime", "queryLengthServed")


def empty_stats(lines: int = 0, exec_time: float = 0.0) -> dict[str, Any]:
    """Loki's query statistics object (shape of Loki 3.x ``emptyStats``)."""
    summary: dict[str, Any] = _zeros(
        "bytesProcessedPerSecond", "execTime", "linesProcessedPerSecond", "queueTime", "shards",
        "splits", "subqueries", "totalBytesProcessed", "totalEntriesReturned",
        "totalLinesProcessed", "totalStructuredMetadataBytesProcessed", "totalPostFilterLines")
    summary["totalEntriesReturned"] = lines
    summary["execTime"] = exec_time
    return {
        "index": {"bloomFilterTime": 0, "chunkRefsLookupTime": 0, "postFilterChunks": 0,
                  "totalChunks": 0, "totalStreams": 0, "usedBloomFilters": False,
                  "shardsDuration": 0},
        "ingester": {"store": _store(), "totalBatches": 0, "totalChunksMatched": 0,
                     "totalLinesSent": 0, "totalReached": 0},
        "querier": {"querierExecTime": 0, "store": _store()},
        "cache": {name: _cache() for name in (
            "chunk", "index", "statsResult", "seriesResult", "labelResult", "volumeResult",
            "instantMetricResult", "result")},
        "summary": summary,
    }


def plain(status: int, text: str) -> web.Response:
    """A Loki plain-text error."""
    return web.Response(status=status, text=text, content_type="text/plain",
                        headers={"X-Content-Type-Options": "nosniff"})


def streams_json(entries: list[Entry], categorize: bool) -> list[dict[str, Any]]:
    """Group entries into Loki streams (order of entries is kept inside each stream)."""
    streams: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for e in entries:
        if categorize:
            key = e.labels
            value: list[Any] = [str(e.ts_ns), e.line,
                                {"structuredMetadata": e.metadata} if e.metadata else {}]
        else:
            key = tuple(sorted(e.labels + tuple(e.metadata.items())))
            value = [str(e.ts_ns), e.line]
        s = streams.get(key)
        if s is None:
            s = streams[key] = {"stream": dict(key), "values": []}
        s["values"].append(value)
    return list(streams.values())


def _wants_categorize(request: web.Request) -> bool:
    flags = request.headers.get("X-Loki-Response-Encoding-Flags", "")
    return CATEGORIZE in [f.strip() for f in flags.split(",")]


async def _params(request: web.Request) -> dict[str, str]:
    out = dict(request.query)
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        for k, v in (await request.post()).items():
            out[k] = str(v)
    return out


def add_routes(app: web.Application, sim: SimState) -> None:
    """Register the Loki endpoints."""
    gen = sim.logs
    tails: set[int] = set()
    engine = loki_metrics.MetricEngine(gen)

    async def query_range(request: web.Request) -> web.Response:
        t0 = time.monotonic()
        p = await _params(request)
        if loki_metrics.is_metric(p.get("query", "")):
            return await api_loki_explore.metric_range(sim, engine, p, empty_stats)
        try:
            q = parse_logql(p.get("query", ""))
            now = sim.clock.now_ns()
            end = parse_loki_time(p.get("end", ""), now)
            since = 3600 * 1_000_000_000
            if p.get("since"):
                try:
                    since = int(promql.parse_duration_ms(p["since"]) * 1_000_000)
                except ValueError as exc:
                    raise LogQLError(f'invalid since: {exc}') from exc
            start = parse_loki_time(p.get("start", ""), end - since)
        except LogQLError as exc:
            return plain(400, str(exc))
        if end <= start:
            return plain(400, ERR_END_BEFORE_START)
        try:
            limit = int(p.get("limit", "100") or "100")
        except ValueError:
            return plain(400, f'invalid limit: strconv.Atoi: parsing "{p.get("limit")}": invalid syntax')
        if limit <= 0:
            return plain(400, "limit must be a positive value")
        if limit > MAX_LIMIT:
            return plain(400, f"max entries limit per query exceeded, limit > max_entries_limit ({limit} > {MAX_LIMIT})")
        direction = p.get("direction", "backward").lower() or "backward"
        if direction not in ("backward", "forward"):
            return plain(400, f"invalid direction '{p.get('direction')}'")
        if p.get("step"):
            try:
                step_s = float(p["step"])
            except ValueError:
                return plain(400, f'invalid step: cannot parse "{p["step"]}"')
            if step_s <= 0:
                return plain(400, "zero or negative query resolution step widths are not accepted. Try a positive integer")
            if (end - start) / 1e9 / step_s > 11_000:
                return plain(400, ERR_STEP)
        entries = gen.scan(q, start, min(end, now + 1), limit, forward=direction == "forward")
        categorize = _wants_categorize(request)
        data: dict[str, Any] = {"resultType": "streams"}
        if categorize:
            data["encodingFlags"] = [CATEGORIZE]
        data["result"] = streams_json(entries, categorize)
        data["stats"] = empty_stats(len(entries), time.monotonic() - t0)
        return web.json_response({"status": "success", "data": data})

    async def instant(request: web.Request) -> web.Response:
        p = await _params(request)
        if loki_metrics.is_metric(p.get("query", "")):
            return await api_loki_explore.metric_instant(sim, engine, p, empty_stats)
        try:
            parse_logql(p.get("query", ""))
        except LogQLError as exc:
            return plain(400, str(exc))
        return plain(400, ERR_INSTANT_LOG)

    async def series(request: web.Request) -> web.Response:
        matches = request.query.getall("match[]", []) or request.query.getall("match", [])
        if not matches:
            return plain(400, "at least one match[] argument required")
        try:
            queries = [parse_logql(m) for m in matches]
        except LogQLError as exc:
            return plain(400, str(exc))
        found = []
        for labels in gen.streams():
            if any(q.match_labels(labels) for q in queries):
                found.append(dict(labels))
        body: dict[str, Any] = {"status": "success"}
        if found:
            body["data"] = found
        return web.json_response(body)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ready\n")

    async def buildinfo(request: web.Request) -> web.Response:
        return web.json_response({"version": "3.7.6", "revision": "sre-cockpit-simulator",
                                  "branch": "HEAD", "buildUser": "sre-cockpit",
                                  "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0"})

    async def tail(request: web.Request) -> web.StreamResponse:
        p = dict(request.query)
        now = sim.clock.now_ns()
        try:
            q = parse_logql(p.get("query", ""))
            start = parse_loki_time(p.get("start", ""), now - 3600 * 1_000_000_000)
        except LogQLError as exc:
            return plain(400, str(exc))
        try:
            delay = int(p.get("delay_for", "0") or "0")
        except ValueError:
            return plain(400, f'strconv.Atoi: parsing "{p.get("delay_for")}": invalid syntax')
        if delay > 5:
            return plain(400, "delay_for can't be greater than 5")
        try:
            limit = int(p.get("limit", "100") or "100")
        except ValueError:
            return plain(400, f'invalid limit: strconv.Atoi: parsing "{p.get("limit")}": invalid syntax')
        if limit <= 0:
            return plain(400, "limit must be a positive value")
        if limit > MAX_LIMIT:
            return plain(400, f"max entries limit per query exceeded, limit > max_entries_limit ({limit} > {MAX_LIMIT})")
        if len(tails) >= sim.opts.max_tails:
            return plain(400, f"max concurrent tail requests limit exceeded, count > limit ({len(tails) + 1} > {sim.opts.max_tails})")
        categorize = _wants_categorize(request)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        token = id(ws)
        tails.add(token)
        sim.stats["tail_connections"] += 1
        sim.stats["tails_open"] = len(tails)
        reader = asyncio.create_task(_drain(ws))
        try:
            await _tail_loop(sim, request, ws, reader, q, start, delay, limit, categorize)
        except ConnectionError:
            pass  # the client went away mid-write: nothing left to tell it
        finally:
            tails.discard(token)
            sim.stats["tails_open"] = len(tails)
            reader.cancel()
            if not ws.closed:
                await ws.close()
        return ws

    app.router.add_route("GET", "/loki/api/v1/query_range", query_range)
    app.router.add_route("POST", "/loki/api/v1/query_range", query_range)
    app.router.add_route("GET", "/loki/api/v1/query", instant)
    app.router.add_route("POST", "/loki/api/v1/query", instant)
    app.router.add_get("/loki/api/v1/series", series)
    app.router.add_get("/loki/api/v1/tail", tail)
    app.router.add_get("/loki/api/v1/status/buildinfo", buildinfo)
    app.router.add_get("/ready", ready)
    api_loki_explore.add_routes(app, sim)


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) client frames so pings/pongs and close frames are processed."""
    async for msg in ws:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break


async def _tail_loop(sim: SimState, ws_request: web.Request, ws: web.WebSocketResponse,
                     reader: asyncio.Task[None],
                     q: Any, start: int, delay: int, limit: int, categorize: bool) -> None:
    gen = sim.logs
    delay_ns = delay * 1_000_000_000
    cut = sim.clock.now_ns() - delay_ns
    backlog = gen.scan(q, start, cut, limit, forward=False) if cut > start else []
    backlog.reverse()
    next_idx = gen.first_at_or_after(max(cut, start))
    opened = time.monotonic()
    last_ping = opened
    if backlog:
        await _send(sim, ws, backlog, [], categorize)
    max_batch = max(2_000, sim.logs.rate * 2)
    while not ws.closed and not reader.done():
        await asyncio.sleep(TAIL_INTERVAL_S)
        mono = time.monotonic()
        fault = sim.faults.active("loki")
        if fault is not None and fault.mode == "huge":
            await huge_tail_message(ws_request, ws, int(fault.argument() * MB))
            await asyncio.sleep(1.0)  # a client that survived it gets the next one in a second
            continue
        if fault is not None and fault.mode == "ws_close_every" and mono - opened >= fault.argument():
            await ws.close(code=1011, message=f"simulated fault: tail closed after {fault.argument():g}s".encode())
            return
        if mono - opened >= sim.opts.tail_max_duration:
            await ws.close(code=1011, message=b"reached tail max duration limit")
            return
        if mono - last_ping >= 1.0:
            await ws.ping()
            last_ping = mono
        hi = gen.first_at_or_after(sim.clock.now_ns() - delay_ns)
        if hi <= next_idx:
            continue
        lo = next_idx
        dropped_range = 0
        if hi - lo > max_batch:  # the client fell behind: drop the oldest like Loki's tailer
            dropped_range = hi - lo - max_batch
        entries = list(gen.iter_range(q, lo, hi))
        next_idx = hi
        dropped: list[Entry] = []
        if dropped_range:
            cutoff = lo + dropped_range
            dropped = [e for e in entries if e.seq < cutoff]
            entries = [e for e in entries if e.seq >= cutoff]
        if fault is not None and fault.mode == "tail_drop" and entries:
            n = int(fault.argument())
            dropped += entries[:n]
            entries = entries[n:]
        if entries or dropped:
            await _send(sim, ws, entries, dropped, categorize)


async def _send(sim: SimState, ws: web.WebSocketResponse, entries: list[Entry],
                dropped: list[Entry], categorize: bool) -> None:
    await ws.send_str(_message(entries, dropped, categorize))
    sim.stats["tail_messages_sent"] += 1
    sim.stats["tail_lines_sent"] += len(entries)
    sim.stats["tail_dropped_entries"] += len(dropped)


def _message(entries: list[Entry], dropped: list[Entry], categorize: bool) -> str:
    body: dict[str, Any] = {"streams": streams_json(entries, categorize),
                            "dropped_entries": [{"timestamp": str(e.ts_ns), "labels": dict(e.labels)}
                                                for e in dropped] or None}
    if categorize:
        body["encodingFlags"] = [CATEGORIZE]
    return json.dumps(body, separators=(",", ":"))
