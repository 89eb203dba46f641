"""Metric queries of the simulated Loki: ``count_over_time`` and ``rate`` over a log query,
optionally under ``sum``, ``sum by (…)`` or ``sum without (…)`` (either position of the clause).

Each simulated entry carries its stream labels plus the line's level as ``level`` and
``detected_level``, as if pushed with a ``level`` structured-metadata field to a Loki 3 that
discovers log levels: so ``sum by (level) (count_over_time({…}[1m]))`` (what the cockpit's volume
strip sends, with ``detected_level``) answers with one series per level.

Like Loki, a step at ``T`` counts the entries in ``(T - range, T]``, steps run from ``start`` to
``end`` inclusive, and a step with no entries has no point. Counting walks the story's lines, so
the cost is bounded: a window with more lines than its share of 150,000 lines per query (at most
10,000 per window) is estimated from every k-th line and scaled, which at the default 20
lines/s only happens for windows longer than 8 minutes or queries of more than 125 steps;
windows wholly in the past are cached.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sre_cockpit.core.loglines import LEVEL_NAMES, detect_level
from sre_cockpit.simulator import promql
from sre_cockpit.simulator.logs import LogQLError, LogQuery, parse_logql

if TYPE_CHECKING:
    from sre_cockpit.simulator.logs import LogGenerator

SUPPORTED = ("count_over_time({…}[range]) or rate({…}[range]), optionally inside sum, "
             "sum by (…) or sum without (…)")
MAX_WINDOW_LINES = 10_000
MAX_QUERY_LINES = 150_000
CACHE_WINDOWS = 20_000
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_LEADING_IDENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")
LOGQL_FUNCTIONS = frozenset((
    "rate", "count_over_time", "bytes_rate", "bytes_over_time", "avg_over_time",
    "sum_over_time", "min_over_time", "max_over_time", "stdvar_over_time", "stddev_over_time",
    "quantile_over_time", "first_over_time", "last_over_time", "absent_over_time",
    "rate_counter", "sum", "avg", "min", "max", "stddev", "stdvar", "count", "topk", "bottomk",
    "sort", "sort_desc", "label_replace", "vector", "approx_topk"))
_AGG = re.compile(r"sum\s*(?:(by|without)\s*\(([^()]*)\)\s*)?\((.*?)\)\s*"
                  r"(?:(by|without)\s*\(([^()]*)\)\s*)?\Z", re.DOTALL)
_RANGE_FN = re.compile(r"(count_over_time|rate)\s*\((.*)\[\s*([^\]\s]+)\s*\]\s*\)\Z", re.DOTALL)

Key = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetricQuery:
    """A parsed metric query."""

    fn: str  # count_over_time | rate
    log: LogQuery
    log_text: str
    range_ns: int
    aggregate: bool
    by: tuple[str, ...] | None = None
    without: tuple[str, ...] | None = None

    def series_key(self, labels: tuple[tuple[str, str], ...], level: str) -> Key:
        """The output series of one entry."""
        full = dict(labels)
        full["level"] = full["detected_level"] = level
        if not self.aggregate:
            return tuple(sorted(full.items()))
        if self.by is not None:
            return tuple(sorted((k, full[k]) for k in self.by if full.get(k)))
        if self.without is not None:
            return tuple(sorted((k, v) for k, v in full.items() if k not in self.without))
        return ()


def is_metric(query: str) -> bool:
    """Whether ``query`` is a metric query (it does not start with a stream selector)."""
    return not query.lstrip().startswith("{")


def _labels(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if _LABEL.match(name) is None:
            raise LogQLError(f"parse error: invalid label name {name!r} in grouping")
    return names


def parse_metric(src: str) -> MetricQuery:
    """Parse a supported metric query.

    Raises:
        LogQLError: with a Loki-like message (HTTP 400) for anything else.
    """
    text = src.strip()
    ident = _LEADING_IDENT.match(text)
    if ident is None or ident.group(1) not in LOGQL_FUNCTIONS:
        kind = "IDENTIFIER" if ident is not None else repr(text[:1])
        raise LogQLError(f"parse error at line 1, col 1: syntax error: unexpected {kind}")
    aggregate = False
    by = without = None
    agg = _AGG.match(text)
    if agg is not None:
        aggregate = True
        kind, names = (agg.group(1), agg.group(2)) if agg.group(1) else (agg.group(4), agg.group(5))
        if agg.group(1) and agg.group(4):
            raise LogQLError("parse error: a grouping clause may come before or after the "
                             "aggregated expression, not both")
        if kind == "by":
            by = _labels(names or "")
        elif kind == "without":
            without = _labels(names or "")
        text = agg.group(3).strip()
    inner = _RANGE_FN.match(text)
    if inner is None:
        raise LogQLError(f"the sre-cockpit simulator supports these metric queries: {SUPPORTED}")
    fn, log_text, range_text = inner.group(1), inner.group(2).strip(), inner.group(3)
    try:
        range_ns = int(promql.parse_duration_ms(range_text) * 1_000_000)
    except ValueError as exc:
        raise LogQLError(f"parse error: invalid range {range_text!r}: {exc}") from exc
    if range_ns <= 0:
        raise LogQLError("parse error: the range must be positive")
    return MetricQuery(fn, parse_logql(log_text), log_text, range_ns, aggregate, by, without)


def level_name(line: str) -> str:
    """The line's level as Loki's ``detected_level`` names it."""
    return LEVEL_NAMES.get(detect_level(line), "unknown")


def format_value(value: float) -> str:
    """A sample value as Loki writes it (shortest form, no exponent for counts)."""
    return str(int(value)) if value == int(value) else repr(value)


class MetricEngine:
    """Evaluates metric queries over a :class:`LogGenerator` (thread-safe; run it off the loop)."""

    def __init__(self, gen: LogGenerator) -> None:
        self.gen = gen
        self._cache: OrderedDict[tuple[str, int, int, int], Counter[Key]] = OrderedDict()
        self._lock = threading.Lock()
        self.lines_scanned = 0

    def _window(self, query: MetricQuery, lo: int, hi: int, cap: int, complete: bool) -> Counter[Key]:
        key = (query.log_text + "\x00" + repr((query.by, query.without, query.aggregate)),
               lo, hi, cap)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        stride = max(1, math.ceil((hi - lo) / cap))
        looked = len(range(lo, hi, stride))
        counts: Counter[Key] = Counter()
        for entry in self.gen.iter_range(query.log, lo, hi, stride):
            counts[query.series_key(entry.labels, level_name(entry.line))] += 1
        self.lines_scanned += looked
        if stride > 1:
            scale = (hi - lo) / looked
            counts = Counter({k: round(v * scale) for k, v in counts.items()})
        if complete:
            with self._lock:
                self._cache[key] = counts
                if len(self._cache) > CACHE_WINDOWS:
                    self._cache.popitem(last=False)
        return counts

    def evaluate(self, query: MetricQuery, start_ns: int, end_ns: int, step_ns: int,
                 now_ns: int) -> dict[Key, list[tuple[int, float]]]:
        """Points ``(T ns, value)`` per series for ``T = start, start + step, … <= end``."""
        steps = range(start_ns, end_ns + 1, max(1, step_ns))
        cap = max(20, min(MAX_WINDOW_LINES, MAX_QUERY_LINES // max(1, len(steps))))
        existing = self.gen.first_at_or_after(now_ns + 1)
        out: dict[Key, list[tuple[int, float]]] = {}
        range_s = query.range_ns / 1e9
        for t in steps:
            lo = self.gen.first_at_or_after(t - query.range_ns + 1)
            hi = min(self.gen.first_at_or_after(t + 1), existing)
            if hi <= lo:
                continue
            counts = self._window(query, lo, hi, cap, complete=t <= now_ns)
            for series, n in counts.items():
                if n > 0:
                    value = n / range_s if query.fn == "rate" else float(n)
                    out.setdefault(series, []).append((t, value))
        return out


def matrix_json(points: Mapping[Key, list[tuple[int, float]]]) -> list[dict[str, object]]:
    """The ``result`` of a ``matrix`` answer, series sorted by labels."""
    return [{"metric": dict(key), "values": [[round(t / 1e9, 3), format_value(v)] for t, v in pts]}
            for key, pts in sorted(points.items())]


def vector_json(points: Mapping[Key, list[tuple[int, float]]]) -> list[dict[str, object]]:
    """The ``result`` of a ``vector`` answer (the one point of each series)."""
    return [{"metric": dict(key), "value": [round(pts[-1][0] / 1e9, 3), format_value(pts[-1][1])]}
            for key, pts in sorted(points.items()) if pts]
