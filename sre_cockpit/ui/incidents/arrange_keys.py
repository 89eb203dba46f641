"""The incidents pane's arrangement keys: sort (``t``/``T``), group (``v``/``V``), mine (``m``).

A base of :class:`~sre_cockpit.ui.incidents.view.IncidentsPane` (its bindings live there): each
key changes the pane's :class:`~sre_cockpit.feeds.arrange.Arrangement`, which the pane's next
render applies to the same snapshot.
"""

from __future__ import annotations

from dataclasses import replace

from textual.widget import Widget

from sre_cockpit.feeds.arrange import Arranged, Arrangement
from sre_cockpit.ui.toast import toast


class ArrangementKeys(Widget):
    """Actions that change how the incidents are arranged (listed after ``Pane`` in the
    pane's bases: a ``Widget`` subclass pins ``can_focus``, and the pane's must win)."""

    arrangement: Arrangement
    """Sort, groups and "mine" (the pane's)."""
    arranged: Arranged
    """What the table shows now (the pane's)."""

    def _show_arrangement(self) -> None:
        """Show the arrangement (the pane draws the header and the border)."""
        raise NotImplementedError

    def _render_rows(self) -> None:
        """Arrange the snapshot and show it (the pane's)."""
        raise NotImplementedError

    def _set_arrangement(self, how: Arrangement) -> None:
        self.arrangement = how
        self._show_arrangement()
        self._render_rows()

    def action_sort(self) -> None:
        """``t``: sort by the next key (triage → severity → age → service → status →
        provider)."""
        self._set_arrangement(replace(self.arrangement, sort=self.arrangement.sort.next()))

    def action_reverse_sort(self) -> None:
        """``T``: reverse the order."""
        self._set_arrangement(replace(self.arrangement,
                                      descending=not self.arrangement.descending))

    def action_group(self) -> None:
        """``v``: group by the configured labels, or stop grouping."""
        self._set_arrangement(replace(self.arrangement, grouped=not self.arrangement.grouped))

    def action_collapse_all(self) -> None:
        """``V``: collapse every group (or expand them all when they are all collapsed)."""
        how = self.arrangement
        if not how.grouped:
            how = replace(how, grouped=True)
        groups = self.arranged.groups if self.arrangement.grouped else ()
        all_collapsed = bool(groups) and all(g.collapsed for g in groups)
        self._set_arrangement(replace(how, collapse_all=not all_collapsed, toggled=frozenset()))

    def action_mine(self) -> None:
        """``m``: incidents assigned to you first, then only those, then as the others."""
        how = self.arrangement
        if not how.user:
            toast(self, "set user: in the config to the name your incident system gives you",
                  title="Mine", severity="warning")
            return
        self._set_arrangement(replace(how, mine=how.mine.next()))
