"""Loki calls for exploring logs rather than reading them: label names and values (the label
browser), metric range queries (the volume strip) and log patterns.

:class:`LokiExplore` is mixed into :class:`~sre_cockpit.providers.loki.LokiProvider`, which
supplies ``_get`` (GET, or POST for long queries; Loki's plain-text errors mapped to typed
:class:`ProviderError` values). Wire facts (PROTOCOLS.md, recorded fixtures, Loki's source):

- ``/loki/api/v1/labels`` and ``/loki/api/v1/label/<name>/values`` take ``start``, ``end`` and
  an optional ``query`` selector, and omit ``data`` entirely when there is nothing;
- a metric ``query_range`` answers ``resultType: matrix`` like Prometheus (values are strings,
  timestamps float seconds; a step with no entries has no point);
- ``/loki/api/v1/patterns`` (Loki 3, pattern ingesters) takes ``query``, ``start``, ``end``,
  ``step`` and answers ``{"status":"success","data":[{"pattern":"…","level":"…","samples":
  [[unix_seconds, count], …]}]}`` (``level`` since 3.3; ``data`` is ``[]`` when none); without
  pattern ingesters the querier answers 404, which :meth:`LokiExplore.patterns` reports as
  ``None`` so the caller mines locally.

Label names and values, series labels and pattern text are returned as Loki sent them (they may
be used to build queries); whoever shows them sanitises them. Nothing here imports Textual.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from typing import Any

from sre_cockpit.core.loglines import NONE, level_of_word
from sre_cockpit.core.logpatterns import Pattern, PatternReport, new_since
from sre_cockpit.core.logvolume import DEFAULT_VOLUME_BY, volume_logql
from sre_cockpit.core.models import MetricSeries
from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.prometheus import parse_data

QUERY_RANGE = "/loki/api/v1/query_range"
LABELS = "/loki/api/v1/labels"
LABEL_VALUES = "/loki/api/v1/label/{name}/values"
PATTERNS = "/loki/api/v1/patterns"
MAX_POINTS = 11_000
DEFAULT_LABEL_WINDOW_NS = 300 * 1_000_000_000
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
NS = 1_000_000_000


def parse_label_list(body: Any) -> list[str]:
    """``/labels`` or ``/label/<name>/values`` (``data`` is omitted entirely when empty).

    Raises:
        ValueError: for a shape Loki does not produce.
    """
    if not isinstance(body, dict):
        raise ValueError("answer is not a JSON object")
    data = body.get("data") or []
    if not isinstance(data, list):
        raise ValueError("'data' is not a list")
    return [str(x) for x in data]


def parse_matrix(body: Any) -> list[MetricSeries]:
    """The series of a metric ``query_range`` answer.

    Raises:
        ValueError: for a shape Loki does not produce, or a result that is not a matrix.
    """
    if not isinstance(body, dict):
        raise ValueError("answer is not a JSON object")
    data = body.get("data")
    if isinstance(data, dict) and data.get("resultType") == "streams":
        raise ValueError("the answer holds log lines (resultType streams), not a matrix")
    try:
        result = parse_data(data)
    except (TypeError, AttributeError) as exc:
        raise ValueError(f"malformed matrix: {exc}") from exc
    if result.result_type != "matrix":
        raise ValueError(f"expected a matrix, got {result.result_type}")
    return list(result.series)


def parse_patterns(body: Any, start_ns: int, end_ns: int) -> PatternReport:
    """The patterns of a ``/loki/api/v1/patterns`` answer, most lines first; a pattern is new
    when its first sample is in the newest part of ``[start_ns, end_ns]``.

    Raises:
        ValueError: for a shape Loki does not produce.
    """
    if not isinstance(body, dict):
        raise ValueError("answer is not a JSON object")
    data = body.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ValueError("'data' is not a list")
    since = new_since(start_ns, end_ns)
    found = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("pattern"), str):
            raise ValueError("pattern is not an object with a 'pattern' string")
        samples = item.get("samples") or []
        if not isinstance(samples, list):
            raise ValueError("'samples' is not a list")
        points = []
        for sample in samples:
            if not isinstance(sample, list | tuple) or len(sample) != 2:
                raise ValueError("sample is not [timestamp, count]")
            try:
                ts, count = float(sample[0]), float(sample[1])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"sample is not [timestamp, count]: {exc}") from exc
            if math.isfinite(ts) and math.isfinite(count) and count > 0:
                points.append((int(ts * NS), int(count)))
        level = item.get("level")
        level_class = level_of_word(level) if isinstance(level, str) and level else NONE
        if not points:
            found.append(Pattern(item["pattern"], 0, 0, 0, "", level_class, False))
            continue
        first = min(t for t, _n in points)
        found.append(Pattern(item["pattern"], sum(n for _t, n in points), first,
                             max(t for t, _n in points), "", level_class,
                             since > start_ns and first >= since))
    found.sort(key=lambda p: (-p.count, p.first_ns))
    return PatternReport(tuple(found), sum(p.count for p in found), 0, since)


def _seconds(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


class LokiExplore:
    """Label, metric and pattern calls of a Loki provider (see the module docstring)."""

    name: str

    async def _get(self, path: str, params: dict[str, str], *, what: str) -> Any:
        raise NotImplementedError

    def _window(self, start_ns: int | None, end_ns: int | None) -> dict[str, str]:
        end = end_ns if end_ns is not None else time.time_ns()
        start = start_ns if start_ns is not None else end - DEFAULT_LABEL_WINDOW_NS
        return {"start": str(int(start)), "end": str(int(end))}

    async def labels(self, start_ns: int | None = None, end_ns: int | None = None, *,
                     query: str | None = None) -> list[str]:
        """Label names of the streams with lines in ``[start, end)`` (default: the last five
        minutes), only those ``query`` selects when given.

        Raises:
            ProviderError: the call failed (LogQLError for a refused selector).
        """
        params = self._window(start_ns, end_ns)
        if query:
            params["query"] = query
        body = await self._get(LABELS, params, what="labels")
        try:
            return parse_label_list(body)
        except ValueError as exc:
            raise ProviderError(f"{self.name}: labels: unexpected answer: {exc}",
                                status=200) from exc

    async def label_values(self, name: str, start_ns: int | None = None,
                           end_ns: int | None = None, *, query: str | None = None) -> list[str]:
        """Values of label ``name`` over the same streams as :meth:`labels`.

        Raises:
            ProviderError: an invalid label name (not sent) or a failed call.
        """
        if _LABEL_NAME.match(name) is None:
            raise ProviderError(f"{self.name}: invalid label name {name[:40]!r}",
                                retryable=False)
        params = self._window(start_ns, end_ns)
        if query:
            params["query"] = query
        body = await self._get(LABEL_VALUES.format(name=name), params, what="label values")
        try:
            return parse_label_list(body)
        except ValueError as exc:
            raise ProviderError(f"{self.name}: label values: unexpected answer: {exc}",
                                status=200) from exc

    async def metric_range(self, query: str, start_ns: int, end_ns: int,
                           step_s: float) -> list[MetricSeries]:
        """A LogQL metric query over ``[start, end]`` every ``step_s`` seconds.

        Raises:
            ProviderError: a bad range or step (not sent), a refused query (LogQLError) or a
                failed call.
        """
        if not step_s > 0 or not math.isfinite(step_s):
            raise ProviderError(f"{self.name}: the step must be a positive number of seconds",
                                retryable=False)
        if end_ns < start_ns:
            raise ProviderError(f"{self.name}: the range ends before it starts", retryable=False)
        if (end_ns - start_ns) / NS / step_s > MAX_POINTS:
            raise ProviderError(f"{self.name}: more than {MAX_POINTS:,} points per series; use a "
                                "larger step", retryable=False)
        params = {"query": query, "start": str(int(start_ns)), "end": str(int(end_ns)),
                  "step": _seconds(step_s)}
        body = await self._get(QUERY_RANGE, params, what="metric query")
        try:
            return parse_matrix(body)
        except ValueError as exc:
            raise ProviderError(f"{self.name}: metric query: unexpected answer: {exc}",
                                status=200) from exc

    async def volume(self, query: str, start_ns: int, end_ns: int, step_s: float, *,
                     by: Iterable[str] = DEFAULT_VOLUME_BY) -> list[MetricSeries]:
        """Log lines per ``step_s`` by level for the selector and line filters of ``query``
        (``sum by (level, detected_level) (count_over_time(… [step]))``).

        Raises:
            ProviderError: as :meth:`metric_range`.
        """
        try:
            logql = volume_logql(query, step_s, by=by)
        except ValueError as exc:
            raise ProviderError(f"{self.name}: volume: {exc}", retryable=False) from exc
        return await self.metric_range(logql, start_ns, end_ns, step_s)

    async def patterns(self, query: str, start_ns: int, end_ns: int,
                       step_s: float | None = None) -> PatternReport | None:
        """Loki's patterns for the streams of ``query`` in ``[start, end]``; ``None`` when this
        Loki has no pattern endpoint (404: no pattern ingesters, or older than 3.0).

        Raises:
            ProviderError: any other failure.
        """
        params = {"query": query, "start": str(int(start_ns)), "end": str(int(end_ns))}
        if step_s is not None:
            params["step"] = _seconds(step_s)
        try:
            body = await self._get(PATTERNS, params, what="patterns")
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        try:
            return parse_patterns(body, start_ns, end_ns)
        except ValueError as exc:
            raise ProviderError(f"{self.name}: patterns: unexpected answer: {exc}",
                                status=200) from exc
