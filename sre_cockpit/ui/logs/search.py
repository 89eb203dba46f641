"""Search in the log view: which rows of the view match, kept in step with the ring buffer.

``/`` searches (every match in view highlighted, ``n``/``N`` jump, the count in the status line);
``f`` filters (hides the rest, with the pane base's counts). Both take the same grammar as every
other pane's filter (:class:`~sre_cockpit.core.loglines.LineFilter`: words with smart case,
``/regex/``, ``!`` inverts). An inverted search matches the lines *without* the text (nothing is
highlighted in them, ``n``/``N`` visit them).

The matching rows are kept as a sorted list of row ids: a new batch adds its matches at the end
(O(batch)), evicted rows leave from the front (a bisect), a new filter or buffer recomputes the
list once (O(view)). Nothing here draws.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from sre_cockpit.core.loglines import LineFilter, Row
from sre_cockpit.core.logring import Entry, RowView

__all__ = ["SearchState", "row_index"]


def row_index(view: Sequence[Row], row_id: int) -> int:
    """Index of the first row in ``view`` (sorted by id) whose id is ``row_id`` or more."""
    if isinstance(view, RowView):
        return view.index_of(row_id)
    return bisect.bisect_left(view, row_id, key=lambda row: row.id)


class SearchState:
    """The current search and the ids of the view rows that match it."""

    def __init__(self) -> None:
        self.search: LineFilter | None = None
        """The search (None: no search)."""
        self.ids: list[int] = []
        """Ids of the matching rows of the view, oldest first."""

    @property
    def active(self) -> bool:
        """Whether a search is on."""
        return self.search is not None

    def set(self, search: LineFilter | None, view: Iterable[Row]) -> None:
        """Search ``view`` for ``search`` (None clears)."""
        self.search = search
        self.recompute(view)

    def recompute(self, view: Iterable[Row]) -> None:
        """The view was rebuilt (filter, buffer, moment): find the matches again."""
        search = self.search
        self.ids = [] if search is None else [r.id for r in view if search.matches(r.text)]

    def extend(self, rows: Iterable[Row]) -> None:
        """Rows were appended to the view."""
        search = self.search
        if search is not None:
            self.ids.extend(r.id for r in rows if search.matches(r.text))

    def recompute_entries(self, entries: Iterable[Entry]) -> None:
        """As :meth:`recompute`, from the view's entries (no row is built)."""
        self.ids = []
        self.extend_entries(entries)

    def extend_entries(self, entries: Iterable[Entry]) -> None:
        """As :meth:`extend`, from entries."""
        search = self.search
        if search is not None:
            self.ids.extend(e[0] for e in entries if search.matches(e[1]))

    def drop_before(self, first_id: int) -> None:
        """Rows older than ``first_id`` left the view."""
        if self.ids and self.ids[0] < first_id:
            del self.ids[:bisect.bisect_left(self.ids, first_id)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Ranges of ``text`` to highlight."""
        return self.search.spans(text) if self.search is not None else []

    def next_id(self, after: int | None, step: int) -> int | None:
        """The id of the next (``step`` 1) or previous (-1) match from row id ``after``
        (None: from the newest end, so both directions find the newest match)."""
        ids = self.ids
        if not ids:
            return None
        if after is None:
            return ids[-1]
        if step > 0:
            pos = bisect.bisect_right(ids, after)
            return ids[pos] if pos < len(ids) else None
        pos = bisect.bisect_left(ids, after) - 1
        return ids[pos] if pos >= 0 else None

    def ordinal(self, row_id: int | None) -> int:
        """1-based position of the match ``row_id`` among all matches (0: not a match)."""
        if row_id is None:
            return 0
        pos = bisect.bisect_left(self.ids, row_id)
        return pos + 1 if pos < len(self.ids) and self.ids[pos] == row_id else 0
