"""Prometheus HTTP API v1 provider (also Thanos, Mimir, Cortex and VictoriaMetrics).

Only ``/api/v1/query`` and ``/api/v1/query_range`` are used for data (the endpoints every
Prometheus-compatible engine serves) and ``/api/v1/status/buildinfo`` for the probe. Queries go
out as GET, or as a POST form when they are long (a proxy or an engine may cap the URL length).
Every request of one provider holds one of its HTTP client's ``max_in_flight`` slots, so a refresh
of many SLOs never has more than that many requests open against the backend. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar

import httpx
from pydantic import Field

from sre_cockpit.core.durations import Duration, align_range, format_duration
from sre_cockpit.core.models import MetricSample, MetricSeries, ProbeResult, TimelineEvent
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.base import (
    Capability,
    MetricResult,
    ProviderEnv,
    ProviderError,
    QueryError,
    RateLimitedError,
)
from sre_cockpit.providers.bodies import MIB, ByteSize
from sre_cockpit.providers.http import (
    HttpClient,
    HttpOptions,
    HttpProvider,
    build_client,
    retry_after_seconds,
)

"""Prometheus refuses range queries with more points per series than this (400 bad_data)."""

_ERROR_STATUS = {"bad_data": 400, "execution": 422, "canceled": 503, "timeout": 503,
                 "internal": 500, "unavailable": 503, "not_found": 404}
_RETRYABLE_TYPES = frozenset({"timeout", "canceled", "internal", "unavailable"})
_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")


class PrometheusOptions(HttpOptions):
    """Options of a ``type: prometheus`` provider (on top of the shared HTTP options)."""

    max_in_flight: int = Field(default=8, ge=1, le=256)
    """Most requests this provider has open at once (one refresh of many SLOs shares it)."""
    max_body: ByteSize = 16 * MIB
    """Largest answer accepted. The cockpit asks for SLO ratios and deploy markers: answers of a
    few KB; a range query at the 11,000-point limit is ~0.4 MB per series, so 16 MiB is some
    forty such series. With ``max_in_flight`` 8 a flood of huge answers holds at most 128 MiB."""
    step_align: bool = True
    """Align range-query start/end to a multiple of step so query-frontend caches hit."""
    query_timeout: Duration | None = None
    """Server-side evaluation timeout sent as ``timeout=`` (default: the server's own)."""
    post_over: int = Field(default=1500, ge=0)
    """Queries longer than this many characters are sent as a POST form instead of GET."""


class PromQLError(QueryError):
    """The engine answered with an error envelope (``errorType``/``error``).

    ``str(err)`` is ``"PromQL error: <error>"`` with the engine's message verbatim (sanitised).
    """

    def __init__(self, error: str, *, error_type: str, status: int | None) -> None:
        super().__init__(f"PromQL error: {error}", retryable=error_type in _RETRYABLE_TYPES,
                         status=status)
        self.error_type = error_type
        self.error = error


PromResult = MetricResult
"""One decoded answer of ``/api/v1/query`` or ``/api/v1/query_range``."""


def parse_value(raw: Any) -> float:
    """A Prometheus sample value: a string such as ``"1.5"``, ``"NaN"``, ``"+Inf"``, ``"-Inf"``.

    Raises:
        ValueError: when the value is not a number.
    """
    if isinstance(raw, bool):
        raise ValueError(f"not a sample value: {raw!r}")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        text = raw.strip()
        lowered = text.lower()
        if lowered in ("+inf", "inf"):
            return math.inf
        if lowered == "-inf":
            return -math.inf
        if lowered == "nan":
            return math.nan
        return float(text)
    raise ValueError(f"not a sample value: {raw!r}")


def _labels(raw: Any) -> Mapping[str, str]:
    if not isinstance(raw, dict):
        return MappingProxyType({})
    return MappingProxyType({str(k): str(v) for k, v in raw.items()})


def _pair(raw: Any) -> tuple[float, Any]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise ValueError(f"expected [timestamp, value], got {str(raw)[:80]}")
    return float(raw[0]), raw[1]


def parse_data(data: Any, *, warnings: tuple[str, ...] = (),
               sent: Mapping[str, str] | None = None) -> PromResult:
    """Decode the ``data`` member of a success envelope.

    Raises:
        ValueError: when the shape is not one Prometheus produces.
    """
    if not isinstance(data, dict):
        raise ValueError("'data' is not an object")
    rtype = data.get("resultType")
    result = data.get("result")
    frozen_sent = MappingProxyType(dict(sent or {}))
    if rtype == "vector":
        if not isinstance(result, list):
            raise ValueError("vector result is not a list")
        samples = []
        for item in result:
            ts, value = _pair(item.get("value") if isinstance(item, dict) else None)
            samples.append(MetricSample(labels=_labels(item.get("metric")), value=parse_value(value),
                                        ts=ts))
        return PromResult("vector", samples=tuple(samples), warnings=warnings, sent=frozen_sent)
    if rtype == "matrix":
        if not isinstance(result, list):
            raise ValueError("matrix result is not a list")
        series = []
        for item in result:
            if not isinstance(item, dict):
                raise ValueError("matrix item is not an object")
            points = tuple((ts, parse_value(v)) for ts, v in map(_pair, item.get("values") or []))
            series.append(MetricSeries(labels=_labels(item.get("metric")), points=points))
        return PromResult("matrix", series=tuple(series), warnings=warnings, sent=frozen_sent)
    if rtype == "scalar":
        ts, value = _pair(result)
        sample = MetricSample(labels=MappingProxyType({}), value=parse_value(value), ts=ts)
        return PromResult("scalar", samples=(sample,), warnings=warnings, sent=frozen_sent)
    if rtype == "string":
        ts, value = _pair(result)
        return PromResult("string", string=str(value), warnings=warnings, sent=frozen_sent)
    raise ValueError(f"unknown resultType {str(rtype)[:40]!r}")


def _first_line(text: str, limit: int = 200) -> str:
    """The first meaningful line of a (possibly HTML) body, as one sanitised line."""
    title = _TITLE.search(text)
    if title and title.group(1).strip():
        candidate = title.group(1)
    else:
        candidate = ""
        for line in _TAG.sub("\n", text).splitlines():
            if line.strip():
                candidate = line
                break
    candidate = " ".join(html.unescape(candidate).split())
    if len(candidate) > limit:
        candidate = candidate[: limit - 1] + "…"
    return sanitize_line(candidate) or "(empty body)"


def decode_response(status: int, content_type: str, body: bytes, *,
                    sent: Mapping[str, str] | None = None) -> PromResult:
    """Turn one HTTP answer into a :class:`PromResult` or a typed :class:`ProviderError`.

    Raises:
        PromQLError: for the JSON error envelope (message ``"PromQL error: <error>"``).
        ProviderError: for an HTML/plain-text answer (a proxy, an auth gateway) or garbage.
    """
    text = body.decode("utf-8", "replace")
    envelope: Any = None
    if "json" in content_type.lower() or text.lstrip().startswith("{"):
        try:
            envelope = json.loads(text)
        except ValueError:
            envelope = None
    if not isinstance(envelope, dict) or "status" not in envelope:
        looks_html = "html" in content_type.lower() or text.lstrip()[:1] == "<"
        origin = " from proxy" if looks_html else ""
        if 200 <= status < 300:
            raise ProviderError(f"HTTP {status}{origin}: not a Prometheus API answer: "
                                f"{_first_line(text)}", retryable=True, status=status)
        raise ProviderError(f"HTTP {status}{origin}: {_first_line(text)}",
                            retryable=status >= 500 or status == 429, status=status)
    raw_warnings = envelope.get("warnings") or []
    warnings = tuple(sanitize_line(str(w)) for w in raw_warnings) if isinstance(raw_warnings, list) else ()
    if envelope.get("status") != "success":
        error_type = str(envelope.get("errorType") or "unknown")
        error = sanitize_line(str(envelope.get("error") or f"HTTP {status} ({error_type})"))
        raise PromQLError(error, error_type=error_type,
                          status=status if status >= 400 else _ERROR_STATUS.get(error_type))
    if status >= 400:
        raise ProviderError(f"HTTP {status}: success envelope with an error status",
                            retryable=status >= 500, status=status)
    try:
        return parse_data(envelope.get("data"), warnings=warnings, sent=sent)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ProviderError(f"malformed Prometheus answer: {sanitize_line(str(exc))}",
                            status=status) from exc


def _fmt_ts(ts: float) -> str:
    """Unix seconds for a query parameter (millisecond precision, no exponent)."""
    text = f"{ts:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _fmt_step(step: float) -> str:
    return _fmt_ts(step)


def _unix(at: datetime) -> float:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp()


class PrometheusProvider(HttpProvider):
    """MetricSource over the Prometheus HTTP API v1."""

    TYPE: ClassVar[str] = "prometheus"
    Options: ClassVar[type[PrometheusOptions]] = PrometheusOptions
    CAPABILITIES = frozenset({Capability.METRICS})

    options: PrometheusOptions

    def __init__(self, name: str, options: PrometheusOptions, env: ProviderEnv | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(name, options, env)
        self.client: HttpClient = build_client(options, provider=name, transport=transport)
        self._down: tuple[float, str, int | None] | None = None  # (loop time, error, status)
        self.requests = 0
        """Requests sent since construction (the benchmark reports it)."""

    @property
    def in_flight(self) -> int:
        """Requests open right now (the client's in-flight bound; tests and the benchmark)."""
        return self.client.in_flight

    @property
    def peak_in_flight(self) -> int:
        """Most requests that were open at once."""
        return self.client.peak_in_flight

    # -- plumbing ------------------------------------------------------------------------------

    async def _call(self, path: str, params: dict[str, str]) -> PromResult:
        """One API call under the in-flight bound: GET, or POST form for a long query.

        A request that waited for a slot while another one found the backend unreachable fails
        at once with that error instead of trying again: when the backend is down, a refresh of
        hundreds of queries costs one round of retries, not hundreds.
        """
        use_post = len(params.get("query", "")) > self.options.post_over
        loop = asyncio.get_running_loop()
        queued_at = loop.time()
        # The client's in-flight slot (max_in_flight), held around the request so that the
        # "is the backend down" check below happens once this query's turn has come.
        async with self.client.slot(path, float(self.options.timeout)):
            down = self._down
            if down is not None and down[0] >= queued_at:
                raise ProviderError(down[1], retryable=True, status=down[2])
            self.requests += 1
            try:
                if use_post:
                    resp = await self.client.request("POST", path, data=params, idempotent=True)
                else:
                    resp = await self.client.request("GET", path, params=params)
            except ProviderError as exc:
                # unreachable (refused, reset, DNS, TLS) or an answer over max_body: the same
                # for everyone queued. One slow query overrunning its deadline says nothing
                # about the others.
                if "no complete answer" not in str(exc):
                    self._down = (loop.time(), str(exc), exc.status)
                raise
        if resp.status_code == 429:
            told = retry_after_seconds(resp)
            wait = 30.0 if told is None else told
            message = self.client.redact(f"{self.name}: rate limited (HTTP 429)")
            self._down = (loop.time(), message, 429)
            raise RateLimitedError(message, status=429, retry_after=wait)
        try:
            result = decode_response(resp.status_code, resp.headers.get("content-type", ""),
                                     resp.content, sent=params)
        except PromQLError:
            self._down = None
            raise
        except ProviderError as exc:
            message = self.client.redact(f"{self.name}: {exc}")
            if resp.status_code >= 500 or resp.status_code in (401, 403, 407, 429):
                self._down = (loop.time(), message, resp.status_code)
            raise ProviderError(message, retryable=exc.retryable, status=exc.status) from exc
        self._down = None
        return result

    def _base_params(self, query: str) -> dict[str, str]:
        params = {"query": query}
        if self.options.query_timeout is not None:
            params["timeout"] = format_duration(self.options.query_timeout)
        return params

    # -- MetricSource --------------------------------------------------------------------------

    async def query(self, query: str, at: datetime | None = None) -> PromResult:
        """Instant query with everything the engine said (warnings, result type, params sent)."""
        params = self._base_params(query)
        if at is not None:
            params["time"] = _fmt_ts(_unix(at))
        return await self._call("/api/v1/query", params)

    async def query_range(self, query: str, start: datetime, end: datetime,
                          step_s: float) -> PromResult:
        """Range query with aligned start/end (see :func:`align_range`)."""
        s, e, step = align_range(_unix(start), _unix(end), step_s, align=self.options.step_align)
        params = self._base_params(query)
        params.update(start=_fmt_ts(s), end=_fmt_ts(e), step=_fmt_step(step))
        return await self._call("/api/v1/query_range", params)

    async def instant(self, query: str, at: datetime | None = None) -> list[MetricSample]:
        """Instant vector at ``at`` (default: the server's now). A scalar comes back as one
        sample without labels; a string as one sample labelled ``__string__`` (value NaN unless
        the string is a number)."""
        result = await self.query(query, at)
        if result.result_type == "string":
            text = result.string or ""
            try:
                value = parse_value(text)
            except ValueError:
                value = math.nan
            ts = _unix(at) if at is not None else time.time()
            return [MetricSample(labels=MappingProxyType({"__string__": text}), value=value, ts=ts)]
        if result.result_type == "matrix":
            raise ProviderError(f"{self.name}: an instant query returned a range vector "
                                "(the query selects a range; wrap it in a function)", retryable=False)
        return list(result.samples)

    async def range(self, query: str, start: datetime, end: datetime,
                    step_s: float) -> list[MetricSeries]:
        """Range query; ``start``/``end`` aligned to ``step_s`` when ``step_align`` is on."""
        result = await self.query_range(query, start, end, step_s)
        if result.result_type != "matrix":
            raise ProviderError(f"{self.name}: query_range returned {result.result_type}, "
                                "not a matrix", retryable=False)
        return list(result.series)

    # -- probe ---------------------------------------------------------------------------------

    @property
    def step_align(self) -> bool:
        """Whether range queries are aligned to their step (the ``step_align`` option)."""
        return bool(self.options.step_align)

    async def probe(self) -> ProbeResult:
        """GET ``/api/v1/status/buildinfo``. Engines that do not serve it (some Thanos/VM
        setups) are probed with the instant query ``vector(1)`` instead."""
        started = time.perf_counter()
        try:
            resp = await self.client.request("GET", "/api/v1/status/buildinfo")
            detail: str | None = None
            if resp.status_code in (404, 405):
                await self.query("vector(1)")
                detail = "Prometheus-compatible (no buildinfo endpoint)"
            else:
                decoded = resp.content.decode("utf-8", "replace")
                try:
                    envelope = json.loads(decoded)
                except ValueError:
                    envelope = None
                if resp.status_code >= 400 or not isinstance(envelope, dict):
                    decode_response(resp.status_code, resp.headers.get("content-type", ""),
                                    resp.content)
                    raise ProviderError(f"HTTP {resp.status_code}: unexpected buildinfo answer")
                if envelope.get("status") != "success":
                    decode_response(resp.status_code, "application/json", resp.content)
                data = envelope.get("data") or {}
                version = sanitize_line(str(data.get("version") or "unknown version"))
                detail = f"Prometheus {version}"
        except ProviderError as exc:
            return ProbeResult(self.name, self.TYPE, False,
                               round((time.perf_counter() - started) * 1000, 1),
                               error=self.client.redact(str(exc)))
        return ProbeResult(self.name, self.TYPE, True, round((time.perf_counter() - started) * 1000, 1),
                           detail=detail)

    # -- deploy events (timeline) --------------------------------------------------------------

    async def deploy_events(self, query: str, version_label: str, since: datetime,
                            until: datetime, service: str | None = None, *,
                            service_label: str | None = None) -> list[TimelineEvent]:
        """Deploy events from a range query of a deploy expression.

        Each series is one version (``version_label``); every run of non-zero samples (gaps
        under five minutes do not split a run) starts one deploy at its first sample. The query
        starts one step before ``since`` so that a series already present then (the version that
        was running) is not taken for a deploy. This fits both forms: a marker such as
        ``changes(app_build_info[1m]) > 0`` and an info metric such as ``app_build_info`` whose
        new version series appears at the deploy.

        Args:
            query: the PromQL deploy expression.
            version_label: label holding the version (e.g. ``version``).
            since: start of the window.
            until: end of the window.
            service: service name put on every event (else taken from ``service_label``).
            service_label: label carrying the service when ``service`` is not given.
        """
        start, end = _unix(since), _unix(until)
        if end <= start:
            return []
        step = max(30.0, float(math.ceil((end - start) / 5000)))
        gap = max(step * 1.5, 300.0)  # a scrape or two missing does not make a new deploy
        s, e, step = align_range(start, end, step, align=self.options.step_align)
        if e < end:
            e += step  # include the last partial step so a deploy at ``until`` is seen
        before = s - step  # the step that tells "already running" from "appeared"
        params = self._base_params(query)
        params.update(start=_fmt_ts(before), end=_fmt_ts(e), step=_fmt_step(step))
        result = await self._call("/api/v1/query_range", params)
        events: list[TimelineEvent] = []
        for series in result.series:
            version = sanitize_line(series.labels.get(version_label, "")) or "unknown version"
            svc = service or (sanitize_line(series.labels[service_label])
                              if service_label and service_label in series.labels else None)
            previous: float | None = None
            for ts, value in series.points:
                if not math.isfinite(value) or value == 0:
                    continue
                run_start = previous is None or ts - previous > gap
                previous = ts
                if not run_start or ts <= before + step / 2 or ts > end + step:
                    continue
                at = datetime.fromtimestamp(ts, UTC)
                text = f"deploy {svc + ' ' if svc else ''}{version}"
                events.append(TimelineEvent(
                    at=at, kind="deploy", source=self.name, text=text, service=svc,
                    id=f"deploy:{self.name}:{svc or ''}:{version}:{int(ts)}"))
        events.sort(key=lambda ev: (ev.at, ev.text))
        return events

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self.client.aclose()
