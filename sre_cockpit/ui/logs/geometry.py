"""The log view's geometry: how wide its rows are and, when wrapping, how many screen rows each.

:class:`RowGeometry` keeps an upper bound of the widest row (for sideways scrolling) and, in wrap
mode, the cumulative screen rows through each view entry (``cum[i]``, absolute: rows evicted from
the front move ``base`` instead of rewriting the list), so that the entry drawn at screen row
``y`` is one bisect away. It reads the view's switches (timestamps, labels, structured) and is
fed :data:`~sre_cockpit.core.logring.Entry` tuples, never rows: a rebuild over 100,000 buffered
lines makes no :class:`~sre_cockpit.core.loglines.Row`.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len

from sre_cockpit.core.loglines import format_labels
from sre_cockpit.core.logring import Entry
from sre_cockpit.ui.logs.structured import TIME_CELLS, continuation_indent

if TYPE_CHECKING:
    from sre_cockpit.ui.logs.logview import LogView

__all__ = ["RowGeometry"]


class RowGeometry:
    """Widths and wrapped heights of the entries of one :class:`LogView`'s view."""

    def __init__(self, view: LogView) -> None:
        self.view = view
        self.max_text = 0
        """Widest text (cells) in the view."""
        self.max_label = 0
        """Widest ``{labels} `` prefix seen (while labels are shown)."""
        self.cum: list[int] = []
        """Wrap mode: cumulative screen rows through view entry ``i`` (absolute)."""
        self.base = 0
        """Screen rows of the entries that left the front of the view."""
        self._label_widths: dict[int, tuple[Mapping[str, str], int]] = {}

    def reset(self) -> None:
        """The view is rebuilt: forget every entry."""
        self.max_text = self.max_label = 0
        self.cum = []
        self.base = 0

    def prefix(self) -> int:
        """Cells of the time stamp in front of every row (0 when not shown)."""
        view = self.view
        return TIME_CELLS if view.show_ts or view.structured else 0

    def label_cells(self, labels: Mapping[str, str]) -> int:
        """Width of a label set's ``{…} `` prefix (label sets are shared objects: cached)."""
        key = id(labels)
        found = self._label_widths.get(key)
        if found is None or found[0] is not labels:
            if len(self._label_widths) > 4096:
                self._label_widths.clear()
            found = (labels, cell_len(format_labels(labels)) + 1)
            self._label_widths[key] = found
        return found[1]

    def note_labels(self, label_sets: Sequence[Mapping[str, str]]) -> None:
        """Widen the label bound for these label sets (labels were just switched on)."""
        widths = [self.label_cells(lb) for lb in label_sets if lb]
        self.max_label = max([self.max_label, *widths])

    @property
    def max_cells(self) -> int:
        """Widest row: an upper bound from the widest text and the widest prefix seen."""
        return self.prefix() + (self.max_label if self.view.show_labels else 0) + self.max_text

    def rows_for(self, cells: int, labels: Mapping[str, str], width: int) -> int:
        """Screen rows of a row of ``cells`` text cells when wrapped at ``width``."""
        cells += self.prefix()
        if self.view.show_labels and labels:
            cells += self.label_cells(labels)
        if self.view.structured:  # continuation rows indented under the message
            rest = max(0, cells - width)
            return 1 + -(-rest // max(1, width - continuation_indent(width)))
        return max(1, -(-cells // max(1, width)))

    def add(self, entries: Sequence[Entry], wrap_width: int | None) -> None:
        """Entries were appended to the view (``wrap_width``: the width when wrapping)."""
        if not entries:
            return
        self.max_text = max(self.max_text, max(e[2] for e in entries))
        if self.view.show_labels:
            self.note_labels(list({id(e[3]): e[3] for e in entries}.values()))
        if wrap_width is not None:
            cum = self.cum
            total = cum[-1] if cum else self.base
            for entry in entries:
                total += self.rows_for(entry[2], entry[3], wrap_width)
                cum.append(total)

    def drop(self, count: int) -> int:
        """The ``count`` first entries left the view; returns the screen rows they took."""
        if not self.cum:
            return count
        new_base = self.cum[count - 1]
        screen_rows = new_base - self.base
        self.base = new_base
        del self.cum[:count]
        return screen_rows

    def total_rows(self, entries: int, wrap: bool) -> int:
        """Screen rows of the whole view (``entries`` of them)."""
        if wrap:
            return (self.cum[-1] - self.base) if self.cum else 0
        return entries

    def entry_at_row(self, y: int, entries: int, wrap: bool) -> int | None:
        """Index of the view entry drawn at screen row ``y`` (None: an empty view)."""
        if not entries:
            return None
        if not wrap:
            return min(max(0, y), entries - 1)
        return min(bisect.bisect_right(self.cum, y + self.base), entries - 1)

    def first_row_of(self, index: int, wrap: bool) -> int:
        """Screen row of the first row of view entry ``index``."""
        if not wrap:
            return index
        return (self.cum[index - 1] if index > 0 else self.base) - self.base
