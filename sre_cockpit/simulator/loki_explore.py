"""The simulated Loki's exploration answers: label names and values of the streams with lines
in a time range (optionally only those a selector matches), and log patterns.

Patterns follow Loki 3's ``/loki/api/v1/patterns``: ``{"status":"success","data":[{"pattern":
"…","level":"…","samples":[[unix_seconds, count], …]}]}`` with ``<_>`` for variable parts and
samples at step-aligned times; patterns exist only for the last three hours (Loki's pattern
ingesters keep no more). They are mined with :mod:`sre_cockpit.core.logpatterns` from at most
:data:`MAX_PATTERN_LINES` lines of the range (evenly spaced when there are more, counts scaled).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sre_cockpit.core.loglines import LEVEL_NAMES
from sre_cockpit.core.logpatterns import PatternMiner
from sre_cockpit.simulator.logs import LogQuery

if TYPE_CHECKING:
    from sre_cockpit.simulator.logs import LogGenerator

PATTERN_RETENTION_NS = 3 * 3600 * 1_000_000_000
MAX_PATTERN_LINES = 50_000
MAX_PATTERNS_SENT = 300


def label_names(gen: LogGenerator, query: LogQuery | None, start_ns: int, end_ns: int) -> list[str]:
    """Label names of the streams with lines in ``[start, end)`` matching ``query``."""
    names: set[str] = set()
    for labels in gen.streams_between(start_ns, end_ns):
        if query is None or query.match_labels(labels):
            names.update(k for k, _v in labels)
    return sorted(names)


def label_values(gen: LogGenerator, name: str, query: LogQuery | None, start_ns: int,
                 end_ns: int) -> list[str]:
    """Values of label ``name`` over the same streams."""
    values: set[str] = set()
    for labels in gen.streams_between(start_ns, end_ns):
        if query is None or query.match_labels(labels):
            values.update(v for k, v in labels if k == name)
    return sorted(values)


def patterns(gen: LogGenerator, query: LogQuery, start_ns: int, end_ns: int, step_ns: int,
             now_ns: int) -> list[dict[str, Any]]:
    """The ``data`` of a patterns answer, most lines first."""
    start_ns = max(start_ns, now_ns - PATTERN_RETENTION_NS)
    lo = gen.first_at_or_after(start_ns)
    hi = gen.first_at_or_after(min(end_ns, now_ns + 1))
    if hi <= lo:
        return []
    stride = max(1, math.ceil((hi - lo) / MAX_PATTERN_LINES))
    looked = len(range(lo, hi, stride))
    scale = (hi - lo) / looked
    miner = PatternMiner()
    buckets: dict[str, dict[int, int]] = {}
    for entry in gen.iter_range(query, lo, hi, stride):
        raw = miner.add(entry.ts_ns, entry.line)
        bucket = (entry.ts_ns - start_ns) // step_ns * step_ns + start_ns
        per = buckets.setdefault(raw, {})
        per[bucket] = per.get(bucket, 0) + 1
    report = miner.report(limit=MAX_PATTERNS_SENT)
    samples: dict[str, dict[int, int]] = {}
    for raw, per in buckets.items():
        merged = samples.setdefault(miner.fold(raw), {})
        for bucket, n in per.items():
            merged[bucket] = merged.get(bucket, 0) + n
    data = []
    for pattern in report.patterns:
        points = samples.get(pattern.template, {})
        data.append({
            "pattern": pattern.template,
            "level": LEVEL_NAMES.get(pattern.level, "unknown"),
            "samples": [[t // 1_000_000_000, max(1, round(n * scale))]
                        for t, n in sorted(points.items())],
        })
    return data
