"""Column widths of the incidents table, given by importance (issue 12, item 10).

The title is what people read, so it comes first after the cells that say how bad and how old
an incident is (severity, status, the runbook mark, age). Ids are cut to the shortest prefix
that tells the rows apart (at least :data:`ID_MIN` characters; the detail line and the describe
view show the whole id). Service, assignee and source shrink, then drop, before the title does;
when there is room every column gets its longest cell, so nothing is cut.

Pure functions: tested over widths and ids without a terminal.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ID_MIN = 6
"""The shortest id prefix shown (a PagerDuty id is 7 characters, an Alertmanager fingerprint 16)."""
MARKER = 2
"""The ``▶ ``/``✓ `` marker before the id."""
FIXED = {"severity": 9, "status": 10, "runbook": 3, "age": 5}
"""Columns that keep their size: ``critical``, ``triggered``, ``↗``, ``23m`` and a space."""
TITLE_FIRST = 24
"""The title's width before any optional column is shown."""
TITLE_GOOD = 48
"""The title's width before the optional columns grow past their minimum."""
TITLE_MIN = 6
"""The narrowest title cell (a table narrower than its fixed columns is cropped)."""
OPTIONAL: tuple[tuple[str, int, int], ...] = (("service", 7, 25), ("assignee", 7, 25),
                                              ("source", 7, 17))
"""(column, narrowest, widest) of the columns that shrink and drop, most important first."""
HEADERS = {"title": "title", "service": "service", "assignee": "assignee", "source": "source"}


def unique_prefix(ids: Iterable[str], minimum: int = ID_MIN) -> int:
    """The shortest prefix length (at least ``minimum``) at which the distinct ``ids`` are all
    told apart: one more than the longest prefix two neighbours share once sorted."""
    ordered = sorted(set(ids))
    need = minimum
    for a, b in itertools.pairwise(ordered):
        shared = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            shared += 1
        need = max(need, shared + 1)
    return need


def short_id(full: str, prefix: int) -> str:
    """``full`` cut to ``prefix`` characters and ``…`` (whole when that saves nothing)."""
    return full if len(full) <= prefix + 1 else full[:prefix] + "…"


@dataclass(frozen=True)
class Measure:
    """What the rows need: the id prefix, and each flexible column's longest cell."""

    id_prefix: int = ID_MIN
    """Characters of an id shown before ``…``."""
    id_chars: int = ID_MIN
    """The widest id cell's characters (a cut id counts its ``…``)."""
    natural: Mapping[str, int] = field(default_factory=dict)
    """Column → characters of its longest cell (header included); missing: as wide as allowed."""


def measure(ids: Iterable[str], cells: Mapping[str, Iterable[str]]) -> Measure:
    """The :class:`Measure` of rows with these ids and these flexible cells."""
    ids = list(ids)
    prefix = unique_prefix(ids)
    id_chars = max((len(short_id(i, prefix)) for i in ids), default=ID_MIN)
    natural = {name: max([len(HEADERS.get(name, name)), *map(len, values)])
               for name, values in cells.items()}
    return Measure(prefix, id_chars, natural)


def column_widths(width: int, need: Measure | None = None) -> dict[str, int]:
    """Each column's width (one separating space included; 0: dropped) in a table ``width``
    cells wide.

    In order: the id, severity, status, runbook and age cells; the title up to
    :data:`TITLE_FIRST`; service, assignee and source at their narrowest (dropped, in reverse
    order, when they do not fit); the title up to :data:`TITLE_GOOD`; the optional columns up
    to their longest cell (at most their widest); the title up to its longest; the optional
    columns up to their longest cell; whatever is left to the title.
    """
    need = need or Measure()
    natural = need.natural
    avail = width - 2  # the vertical scrollbar
    widths = {"id": MARKER + need.id_chars + 1, **FIXED}
    left = avail - sum(widths.values())
    title_natural = natural.get("title", 10 * TITLE_GOOD) + 1

    def take(limit: int) -> int:
        nonlocal left
        got = max(0, min(left, limit))
        left -= got
        return got

    title = max(TITLE_MIN, take(min(TITLE_FIRST, title_natural)))
    for name, narrowest, widest in OPTIONAL:
        floor = min(narrowest, natural.get(name, widest) + 1)
        widths[name] = floor if left >= floor else 0
        left -= widths[name]
    title += take(min(TITLE_GOOD, title_natural) - title)
    for name, _narrowest, widest in OPTIONAL:
        if widths[name]:
            widths[name] += take(min(widest, natural.get(name, widest) + 1) - widths[name])
    title += take(title_natural - title)
    for name, _narrowest, widest in OPTIONAL:  # room for everything: no cell cut at all
        if widths[name]:
            widths[name] += take(natural.get(name, widest) + 1 - widths[name])
    widths["title"] = title + max(0, left)
    return widths
