"""The incidents table's rows for one snapshot and one width: columns measured, widths fitted.

The pane keeps one :class:`RowLayout`. A new snapshot is measured once (the id prefix that
tells its incidents apart, each flexible column's longest cell); a new width fits the columns
again (:func:`~sre_cockpit.ui.incidents.columns.column_widths`); a row is drawn with both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from rich.text import Text

from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.incidents import IncidentsSnapshot
from sre_cockpit.ui.incidents.columns import Measure, column_widths, measure
from sre_cockpit.ui.incidents.table import (
    assignee_cell,
    row_cells,
    service_cell,
    source_cell,
    stale_providers,
)


class RowLayout:
    """The columns of the incidents table: what the rows need and the widths they get."""

    def __init__(self) -> None:
        self.need = Measure()
        """What the rows need (id prefix, longest cells)."""
        self.width = 80
        """The table's width the columns were fitted to."""
        self.widths = column_widths(self.width, self.need)
        """Column → width (0: dropped)."""
        self.stale: frozenset[str] = frozenset()
        """Providers whose rows are last good data."""
        self._measured: tuple[object, frozenset[str]] | None = None

    @property
    def id_prefix(self) -> int:
        """Characters of an id the table shows before ``…``."""
        return self.need.id_prefix

    def measure(self, snapshot: IncidentsSnapshot) -> None:
        """Measure the snapshot's incidents (only when they or the stale sources changed)."""
        stale = stale_providers(snapshot)
        incidents = snapshot.incidents
        if self._measured is not None and self._measured[0] is incidents \
                and self._measured[1] == stale:
            return
        self._measured = (incidents, stale)
        self.stale = stale
        self.need = measure(
            (sanitize_line(i.id) for i in incidents),
            {"title": [("⚠ " if i.provider in stale else "") + sanitize_line(i.title)
                       for i in incidents],  # the mark moves to the title without a source
             "service": [service_cell(i) for i in incidents],
             "assignee": [assignee_cell(i) for i in incidents],
             "source": [source_cell(i, i.provider in stale) for i in incidents]})

    def fit(self, width: int) -> bool:
        """Fit the columns to ``width``; True when any width changed."""
        self.width = width
        widths = column_widths(width, self.need)
        if widths == self.widths:
            return False
        self.widths = widths
        return True

    @property
    def line_width(self) -> int:
        """Cells a row's columns take together."""
        return sum(self.widths.values())

    def cells(self, incident: Incident, *, now: datetime, colour: Callable[[str], str],
              focused: str | None, selected: Collection[str]) -> tuple[Text, ...]:
        """The cells of one incident's row."""
        return row_cells(incident, widths=self.widths, now=now, colour=colour, focused=focused,
                         selected=selected, stale=self.stale, id_prefix=self.need.id_prefix)
