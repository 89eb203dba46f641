"""The log volume picture: Loki's ``sum by (level) (count_over_time(…))`` as a strip of columns.

:func:`volume_logql` builds the metric query from the stream selector and line filters of the
query being tailed; :func:`strip_range` chooses an aligned start, end and step for a strip of N
columns (aligned to the step so query-frontend caches hit); :func:`volume_strip` turns the
matrix answer into per-column counts by level (error, warn, info, debug, other), reading the
level from a ``level`` label or Loki 3's ``detected_level``. Pure: no Textual, no provider.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sre_cockpit.core.loglines import DEBUG, ERROR, INFO, WARN, level_of_word
from sre_cockpit.core.logql_shape import LABEL_NAME, try_parse
from sre_cockpit.core.models import MetricSeries

DEFAULT_VOLUME_BY = ("level", "detected_level")
"""Grouping of the volume query: a ``level`` stream label or Loki 3's ``detected_level``."""
LEVELS = ("error", "warn", "info", "debug", "other")
"""Level rows of the strip, most severe first."""
_INDEX = {ERROR: 0, WARN: 1, INFO: 2, DEBUG: 3}
MAX_COLUMNS = 2000


def duration_text(seconds: float) -> str:
    """A LogQL duration (``1h``, ``5m``, ``90s``, ``250ms``) for a positive number of seconds.

    Raises:
        ValueError: for a non-positive or non-finite duration.
    """
    if not seconds > 0 or not math.isfinite(seconds):
        raise ValueError("a duration must be a positive number of seconds")
    ms = round(seconds * 1000)
    if ms % 1000:
        return f"{max(1, ms)}ms"
    whole = ms // 1000
    for unit, size in (("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def volume_logql(query: str, step_s: float, *, by: Iterable[str] = DEFAULT_VOLUME_BY) -> str:
    """``sum by (level, detected_level) (count_over_time(<selection> [step]))``.

    The selection is the stream selector and the line filters before the first ``|`` stage of
    ``query`` (parsers and label filters are left out: they only add ``__error__`` series). A
    query that cannot be shaped is counted whole (LogQL takes any log pipeline there).

    Raises:
        ValueError: for a bad step or grouping label name.
    """
    names = list(by)
    for name in names:
        if LABEL_NAME.match(name) is None:
            raise ValueError(f"invalid grouping label {name!r}")
    shaped = try_parse(query)
    selection = shaped.selection() if shaped is not None else query.strip()
    inner = f"count_over_time({selection} [{duration_text(step_s)}])"
    return f"sum by ({', '.join(names)}) ({inner})" if names else f"sum({inner})"


def strip_range(end_s: float, span_s: float, columns: int) -> tuple[float, float, float]:
    """``(start, end, step)`` for ``columns`` columns covering at least ``span_s`` up to
    ``end_s``: the step is a whole number of seconds, the end is rounded up to a multiple of it
    and ``start = end - columns * step``. Query Loki from ``start + step`` to ``end``: each
    point at ``T`` counts ``(T - step, T]``, the column that ends at ``T``.

    Raises:
        ValueError: for no columns or a non-positive span.
    """
    if columns < 1 or columns > MAX_COLUMNS:
        raise ValueError(f"columns must be between 1 and {MAX_COLUMNS}")
    if not span_s > 0 or not math.isfinite(span_s) or not math.isfinite(end_s):
        raise ValueError("the span must be a positive number of seconds")
    step = float(max(1, math.ceil(span_s / columns)))
    end = math.ceil(end_s / step) * step
    return end - columns * step, end, step


def level_index(labels: Mapping[str, str]) -> int:
    """Row of :data:`LEVELS` for one series: its ``level``, else its ``detected_level``."""
    for key in DEFAULT_VOLUME_BY:
        value = labels.get(key)
        if value:
            return _INDEX.get(level_of_word(value), len(LEVELS) - 1)
    return len(LEVELS) - 1


@dataclass(frozen=True, slots=True)
class VolumeColumn:
    """Log lines counted in ``(start_s, end_s]``, by level (in :data:`LEVELS` order)."""

    start_s: float
    end_s: float
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """Lines of every level."""
        return sum(self.counts)

    def count(self, level: str) -> int:
        """Lines of one level name of :data:`LEVELS`."""
        return self.counts[LEVELS.index(level)]


@dataclass(frozen=True, slots=True)
class VolumeStrip:
    """Columns oldest first; ``peak`` is the largest column total (the strip's scale)."""

    columns: tuple[VolumeColumn, ...]
    peak: int
    total: int
    levels: tuple[str, ...] = LEVELS

    def column_at(self, t_s: float) -> int | None:
        """The column whose span holds ``t_s`` (e.g. to mark an incident's start), if any."""
        if not self.columns or not self.columns[0].start_s < t_s <= self.columns[-1].end_s:
            return None
        step = self.columns[0].end_s - self.columns[0].start_s
        index = math.ceil((t_s - self.columns[0].start_s) / step - 1e-9) - 1
        return min(max(index, 0), len(self.columns) - 1)


def volume_strip(series: Sequence[MetricSeries], start_s: float, step_s: float,
                 columns: int) -> VolumeStrip:
    """Sum the matrix ``series`` into ``columns`` columns of ``step_s`` from ``start_s``.

    A point at ``T`` lands in the column that ends at or just after ``T`` (the column holding
    the instant before ``T``); points outside the strip, NaN and negative values are ignored.

    Raises:
        ValueError: for no columns or a non-positive step.
    """
    if columns < 1 or columns > MAX_COLUMNS or not step_s > 0:
        raise ValueError("need 1..2000 columns and a positive step")
    counts = [[0] * len(LEVELS) for _ in range(columns)]
    for one in series:
        row = level_index(one.labels)
        for t, value in one.points:
            if not math.isfinite(value) or value <= 0:
                continue
            index = math.ceil((t - start_s) / step_s - 1e-9) - 1
            if 0 <= index < columns:
                counts[index][row] += round(value)
    built = tuple(VolumeColumn(start_s + i * step_s, start_s + (i + 1) * step_s, tuple(c))
                  for i, c in enumerate(counts))
    totals = [c.total for c in built]
    return VolumeStrip(built, max(totals), sum(totals))
