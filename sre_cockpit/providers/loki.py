"""Loki provider: range queries and one live-tail WebSocket connection per ``tail()`` call.

``query_range`` returns :class:`LogLine` values oldest first (``direction`` only chooses which end
``limit`` keeps). Both forms of ``values`` are parsed: ``[ts, line]`` and ``[ts, line, meta]``
where ``meta`` is either Loki's categorised ``{"structuredMetadata": …, "parsed": …}`` or the flat
push form. Loki answers errors in plain text; they are surfaced verbatim (sanitised, one line) as
``LogQL error: …`` for 400s. ``tail`` opens one WebSocket (httpx-ws) and yields raw messages; the
reliability (reconnect, resume, de-duplication, gap fill, polling fallback) lives in
:mod:`sre_cockpit.feeds.logstream`. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import httpx
from httpx_ws import (
    WebSocketDisconnect,
    WebSocketNetworkError,
    WebSocketUpgradeError,
    aconnect_ws,
)
from pydantic import Field

from sre_cockpit.core.durations import Duration
from sre_cockpit.core.models import LogLine, ProbeResult
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.base import (
    Capability,
    ProviderEnv,
    ProviderError,
    QueryError,
    RateLimitedError,
    TailClosed,
    TailMessage,
    TailRefused,
    TailSettings,
)
from sre_cockpit.providers.bodies import MIB, ByteSize
from sre_cockpit.providers.http import (
    HeaderValue,
    HttpClient,
    HttpOptions,
    HttpProvider,
    build_client,
    retry_after_seconds,
)
from sre_cockpit.providers.loki_explore import LokiExplore, parse_label_list
from sre_cockpit.providers.loki_ws import READ_SIZE, TailMessageTooLarge, TailSession, session_class

QUERY_RANGE = "/loki/api/v1/query_range"
TAIL = "/loki/api/v1/tail"
READY = "/ready"
MAX_ERROR_CHARS = 300


class LokiOptions(HttpOptions):
    """Options of a ``type: loki`` provider (on top of the shared HTTP options)."""

    query: str = '{job=~".+"}'
    """Default LogQL selector for the log pane and ``sre-cockpit logs``."""
    tenant: HeaderValue | None = None
    """Sent as ``X-Scope-OrgID`` (multi-tenant Loki / Grafana Enterprise Logs)."""
    max_body: ByteSize = 32 * MIB
    """Largest range-query answer accepted: ``limit`` entries (1,000 by default) of lines that
    the pane cuts at 4 KB anyway; 32 MiB holds 1,000 lines of 32 KB or 100,000 of 300 B."""
    max_message: ByteSize = 8 * MIB
    """Largest tail WebSocket message accepted (one batch of new lines, normally KBs; a larger
    one drops the connection, which reconnects with backoff)."""
    limit: int = Field(default=1000, ge=1, le=100_000)
    """Entries per range query / page and the tail's ``limit``."""
    tail: Literal["auto", "websocket", "poll"] = "auto"
    """``auto``: WebSocket, fall back to polling when the upgrade is refused."""
    max_tail_duration: Duration = Field(default=55 * 60.0, gt=0)
    """Reconnect proactively after this long (Loki ends tails at ``tail_max_duration``, 1h)."""
    poll_interval: Duration = Field(default=2.0, gt=0)
    """Polling mode: seconds between range queries."""
    delay_for: int = Field(default=0, ge=0, le=5)
    """Tail ``delay_for`` (seconds Loki waits to sort late entries; at most 5)."""
    silence_timeout: Duration = Field(default=15.0, gt=0)
    """Reconnect when nothing (no message, ping or pong) arrived for this long."""
    ping_interval: Duration = Field(default=5.0, gt=0)
    """Client keepalive ping interval on the tail WebSocket."""
    resume_overlap: Duration = Field(default=1.0, ge=0)
    """On reconnect, re-read this much before the last entry (late entries of other streams);
    the overlap is de-duplicated."""
    websocket_retry: Duration = Field(default=300.0, gt=0)
    """In polling fallback (``tail: auto``), the longest wait before trying the WebSocket again
    (first after 15 s, doubling up to this; at once when a poll succeeds after failed ones)."""


class LogQLError(QueryError):
    """Loki refused the query (HTTP 400): ``str()`` is ``"LogQL error: <Loki's message>"``."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(f"LogQL error: {message}", retryable=False, status=status)
        self.detail = message


# ------------------------------------------------------------------------------------ parsing

_LABEL_CACHE: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
_LABEL_CACHE_MAX = 4096
_EMPTY: Mapping[str, str] = MappingProxyType({})


def intern_labels(raw: Any) -> Mapping[str, str]:
    """A shared read-only mapping for a label set (100k buffered lines share a few objects)."""
    if not isinstance(raw, dict) or not raw:
        return _EMPTY
    key = tuple(sorted((str(k), str(v)) for k, v in raw.items()))
    found = _LABEL_CACHE.get(key)
    if found is None:
        if len(_LABEL_CACHE) >= _LABEL_CACHE_MAX:
            _LABEL_CACHE.clear()
        found = MappingProxyType(dict(key))
        _LABEL_CACHE[key] = found
    return found


def _metadata(raw: Any) -> Mapping[str, str]:
    """The third element of a value: categorised (structuredMetadata/parsed) or flat."""
    if not isinstance(raw, dict) or not raw:
        return _EMPTY
    if "structuredMetadata" in raw or "parsed" in raw:
        merged: dict[str, Any] = {}
        for part in ("structuredMetadata", "parsed"):
            value = raw.get(part)
            if isinstance(value, dict):
                merged.update(value)
        return intern_labels(merged)
    return intern_labels({k: v for k, v in raw.items() if isinstance(v, str | int | float)})


def parse_ns(raw: Any) -> int:
    """A Loki timestamp: ns integer string, an integer, or RFC 3339 with up to 9 fraction digits.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(raw, bool):
        raise ValueError(f"not a timestamp: {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if text.isdigit():
            return int(text)
        return parse_rfc3339_ns(text)
    raise ValueError(f"not a timestamp: {str(raw)[:40]!r}")


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$")


def parse_rfc3339_ns(text: str) -> int:
    """Unix nanoseconds from RFC 3339 with nanosecond precision (``2019-09-13T18:32:22.380001319Z``).

    Raises:
        ValueError: when the text is not RFC 3339.
    """
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text[:40]!r}")
    zone = match.group(3).upper().replace("Z", "+00:00")
    base = datetime.fromisoformat(match.group(1).replace(" ", "T") + zone)
    fraction = (match.group(2) or "").ljust(9, "0")
    return int(base.timestamp()) * 1_000_000_000 + int(fraction or 0)


def _parse_label_string(text: str) -> Mapping[str, str]:
    """``{a="1", b="x\\"y"}`` (legacy API) to a mapping."""
    out: dict[str, str] = {}
    for match in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"', text):
        out[match.group(1)] = json.loads(f'"{match.group(2)}"') if "\\" in match.group(2) \
            else match.group(2)
    return intern_labels(out)


def parse_streams(result: Any) -> list[LogLine]:
    """Lines of a ``streams`` result, a tail message's ``streams`` or a push body's ``streams``,
    oldest first (stable for equal timestamps). Also reads the legacy ``entries`` form.

    Raises:
        ValueError: when the shape is not one Loki produces.
    """
    if result is None:
        return []
    if not isinstance(result, list):
        raise ValueError("'streams' is not a list")
    lines: list[LogLine] = []
    for stream in result:
        if not isinstance(stream, dict):
            raise ValueError("stream is not an object")
        if "entries" in stream:  # legacy /api/prom/query shape
            labels = _parse_label_string(str(stream.get("labels", "")))
            for entry in stream.get("entries") or []:
                if not isinstance(entry, dict):
                    raise ValueError("entry is not an object")
                lines.append(LogLine(parse_ns(entry.get("ts")), str(entry.get("line", "")), labels))
            continue
        labels = intern_labels(stream.get("stream"))
        values = stream.get("values") or []
        if not isinstance(values, list):
            raise ValueError("'values' is not a list")
        for value in values:
            if not isinstance(value, list | tuple) or len(value) < 2:
                raise ValueError("value is not [ts, line] or [ts, line, metadata]")
            line = value[1]
            if not isinstance(line, str):
                raise ValueError("log line is not a string")
            meta = _metadata(value[2]) if len(value) > 2 else _EMPTY
            lines.append(LogLine(parse_ns(value[0]), line, labels, meta))
    lines.sort(key=lambda ln: ln.ts_ns)
    return lines


def parse_tail_message(text: str | bytes) -> TailMessage:
    """One WebSocket text message of ``/loki/api/v1/tail``.

    Raises:
        ValueError: when the message is not JSON of the tail shape.
    """
    body = json.loads(text)
    if not isinstance(body, dict):
        raise ValueError("tail message is not an object")
    dropped = body.get("dropped_entries") or []
    if not isinstance(dropped, list):
        raise ValueError("'dropped_entries' is not a list")
    return TailMessage(lines=tuple(parse_streams(body.get("streams"))), dropped=len(dropped))


def parse_query_response(body: Any) -> list[LogLine]:
    """Lines of a ``query_range`` success body (``resultType: streams``).

    Raises:
        ProviderError: for a metric (matrix/vector) result — the log pane needs a log query.
        ValueError: for a malformed body.
    """
    if not isinstance(body, dict):
        raise ValueError("answer is not a JSON object")
    if "streams" in body and "data" not in body:  # legacy shape
        return parse_streams(body.get("streams"))
    data = body.get("data")
    if not isinstance(data, dict):
        raise ValueError("'data' is not an object")
    rtype = data.get("resultType")
    if rtype in ("matrix", "vector", "scalar"):
        raise ProviderError(f"this is a metric query ({rtype}); the log view needs a log query "
                            "such as {app=\"x\"} |= \"error\"", retryable=False, status=200)
    if rtype != "streams":
        raise ValueError(f"unknown resultType {str(rtype)[:40]!r}")
    return parse_streams(data.get("result"))


parse_labels = parse_label_list
"""``/loki/api/v1/labels`` (``data`` is omitted entirely when there are none)."""


def error_text(body: bytes | str) -> str:
    """Loki's plain-text error body as one sanitised, bounded line (HTML reduced to its text)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if text.lstrip()[:1] == "<":
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", text)
        text = title.group(1) if title else re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    return sanitize_line(text) or "(empty body)"


def status_error(status: int, body: bytes | str, *, what: str,
                 retry_after: float | None = None) -> ProviderError:
    """Map a non-2xx Loki answer to a typed error with Loki's message verbatim."""
    message = error_text(body)
    if status == 400:
        return LogQLError(message)
    if status == 429:
        return RateLimitedError(f"{what}: rate limited (429): {message}", status=429,
                                retry_after=retry_after if retry_after is not None else 10.0)
    if status in (401, 403):
        return ProviderError(f"{what}: HTTP {status}: {message} (check auth / tenant)",
                             retryable=False, status=status)
    return ProviderError(f"{what}: HTTP {status}: {message}", retryable=status >= 500,
                         status=status)


# ----------------------------------------------------------------------------------- provider


class LokiProvider(LokiExplore, HttpProvider):
    """Grafana Loki: ``query_range``, the ``/tail`` WebSocket, and (from :class:`LokiExplore`)
    labels, label values, metric range queries, log volume and patterns."""

    TYPE: ClassVar[str] = "loki"
    Options: ClassVar[type[LokiOptions]] = LokiOptions
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset({Capability.LOGS})

    def __init__(self, name: str, options: LokiOptions, env: ProviderEnv | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(name, options, env)
        self.options: LokiOptions = options
        opts = options
        if options.tenant:
            opts = options.model_copy(update={"headers": {**options.headers,
                                                          "X-Scope-OrgID": options.tenant}})
        self.http: HttpClient = build_client(opts, provider=name, transport=transport)

    @property
    def default_query(self) -> str:
        """The configured LogQL selector."""
        return self.options.query

    async def _get(self, path: str, params: dict[str, str], *, what: str) -> Any:
        long_query = len(params.get("query", "")) > 1500
        if long_query:
            resp = await self.http.request("POST", path, data=params, idempotent=True)
        else:
            resp = await self.http.request("GET", path, params=params)
        if resp.status_code != 200:
            raise status_error(resp.status_code, resp.content, what=f"{self.name}: {what}",
                               retry_after=retry_after_seconds(resp))
        try:
            return resp.json()
        except ValueError as exc:
            raise ProviderError(f"{self.name}: {what}: not JSON: {error_text(resp.content)}",
                                status=200) from exc

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        """Lines in ``[start_ns, end_ns)``, oldest first; ``direction`` picks which end the
        ``limit`` keeps (``backward``: the newest).

        Raises:
            LogQLError: Loki refused the query (400), message verbatim.
            ProviderError: any other failure (one redacted line).
        """
        params = {"query": query, "start": str(int(start_ns)), "end": str(int(end_ns)),
                  "limit": str(int(limit)), "direction": direction}
        body = await self._get(QUERY_RANGE, params, what="query_range")
        try:
            return parse_query_response(body)
        except ValueError as exc:
            raise ProviderError(f"{self.name}: query_range: unexpected answer: {exc}",
                                status=200) from exc

    def tail_settings(self) -> TailSettings:
        """The tail as configured (``tail``, ``max_tail_duration``, ``poll_interval``…)."""
        o = self.options
        return TailSettings(tail_mode=o.tail, max_tail_duration=o.max_tail_duration,
                            poll_interval=o.poll_interval, resume_overlap=o.resume_overlap,
                            websocket_retry=o.websocket_retry, page_limit=o.limit)

    async def probe(self) -> ProbeResult:
        """``/loki/api/v1/labels`` (proves auth and tenant), else ``/ready``."""
        start = time.monotonic()
        try:
            names = await self.labels()
            detail = f"{len(names)} labels in the last 5m"
        except ProviderError as exc:
            if exc.status != 404:
                return ProbeResult(self.name, self.TYPE, False,
                                   (time.monotonic() - start) * 1000, error=str(exc))
            try:
                resp = await self.http.request("GET", READY)
            except ProviderError as exc2:
                return ProbeResult(self.name, self.TYPE, False, None, error=str(exc2))
            if resp.status_code != 200:
                return ProbeResult(self.name, self.TYPE, False,
                                   (time.monotonic() - start) * 1000,
                                   error=f"/ready: HTTP {resp.status_code}: {error_text(resp.content)}")
            detail = f"ready: {error_text(resp.content)}"
        return ProbeResult(self.name, self.TYPE, True, (time.monotonic() - start) * 1000,
                           detail=detail)

    def tail_params(self, query: str, start_ns: int | None) -> dict[str, str]:
        """Query parameters of the tail (``start`` always explicit: Loki's default is 1h ago)."""
        return {"query": query, "limit": str(self.options.limit),
                "delay_for": str(self.options.delay_for),
                "start": str(start_ns if start_ns is not None else time.time_ns())}

    async def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
        """One tail connection: first an empty message with ``info={"event": "open"}`` once the
        upgrade succeeded, then one :class:`TailMessage` per WebSocket message.

        Raises:
            TailRefused: the upgrade got a plain HTTP answer (status in ``.status``).
            TailClosed: the connection ended (close code/reason, network error, silence).
        """
        queue: asyncio.Queue[TailMessage | BaseException] = asyncio.Queue(maxsize=64)
        reader = asyncio.create_task(self._tail_reader(query, start_ns, queue))
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _tail_reader(self, query: str, start_ns: int | None,
                           queue: asyncio.Queue[TailMessage | BaseException]) -> None:
        opts = self.options
        try:
            async with aconnect_ws(
                    TAIL, self.http.client, params=self.tail_params(query, start_ns),
                    max_message_size_bytes=READ_SIZE, queue_size=64,
                    keepalive_ping_interval_seconds=opts.ping_interval,
                    keepalive_ping_timeout_seconds=opts.silence_timeout,
                    session_class=session_class(int(opts.max_message))) as ws:
                ws.last_rx = time.monotonic()
                await queue.put(TailMessage(lines=(), info=MappingProxyType({"event": "open"})))
                await self._read_loop(ws, queue)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # httpx-ws wraps errors in (nested) exception groups
            leaf = _leaf(exc)
            if isinstance(leaf, asyncio.CancelledError):
                raise leaf from None
            await queue.put(self._tail_error(leaf))
        else:
            await queue.put(TailClosed(f"{self.name}: tail ended", code=1000))

    def _tail_error(self, exc: BaseException) -> ProviderError:
        """Map whatever ended one tail connection to TailRefused / TailClosed."""
        endpoint = self.http.endpoint(TAIL)
        if isinstance(exc, TailMessageTooLarge):
            return TailClosed(f"{self.name}: {exc}: {endpoint}", code=exc.code)
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, WebSocketUpgradeError):
            status = exc.response.status_code
            return TailRefused(f"{self.name}: WebSocket upgrade refused by {endpoint}: "
                               f"HTTP {status}", retryable=True, status=status)
        if isinstance(exc, WebSocketDisconnect):
            reason = sanitize_line(exc.reason or "")
            return TailClosed(f"{self.name}: tail closed by server ({exc.code}"
                              f"{': ' + reason if reason else ''})", code=exc.code, reason=reason)
        if isinstance(exc, WebSocketNetworkError):
            return TailClosed(f"{self.name}: tail connection lost (network error or no answer "
                              "to pings)", code=1006)
        text = self.http.redact(f"{type(exc).__name__} for {endpoint}: {exc}").rstrip(": ")
        return TailClosed(f"{self.name}: tail: {sanitize_line(text)}", code=1006)

    async def _read_loop(self, ws: TailSession,
                         queue: asyncio.Queue[TailMessage | BaseException]) -> None:
        silence = self.options.silence_timeout
        tick = min(1.0, silence / 4)
        while True:
            try:
                text = await ws.receive_text(timeout=tick)
            except TimeoutError:
                if time.monotonic() - ws.last_rx > silence:
                    raise TailClosed(f"{self.name}: tail silent for {silence:g}s (no data, ping "
                                     "or pong)", code=1006) from None
                continue
            try:
                message = parse_tail_message(text)
            except ValueError as exc:
                raise TailClosed(f"{self.name}: tail: malformed message: "
                                 f"{sanitize_line(str(exc))}", code=1007) from exc
            await queue.put(message)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self.http.aclose()



def _leaf(exc: BaseException) -> BaseException:
    """The first non-group exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def now_ns() -> int:
    """Wall-clock Unix nanoseconds."""
    return time.time_ns()


def ns_to_datetime(ts_ns: int) -> datetime:
    """Aware UTC datetime of a nanosecond timestamp (microsecond precision)."""
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
