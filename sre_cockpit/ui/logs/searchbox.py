"""The ``/`` search editor of the log pane: applies the search as it is typed, once keys pause.

Each change restarts a :data:`DEBOUNCE_S` timer; when it fires, ``on_search`` (the pane's
``set_search``) gets the text. ``enter`` and ``esc`` are the pane's (they close the editor); a
search applied by either cancels the pending one (:meth:`SearchEditor.cancel`).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.timer import Timer
from textual.widgets import Input

DEBOUNCE_S = 0.15
"""The search is applied this long after the last key typed."""

__all__ = ["DEBOUNCE_S", "SearchEditor"]


class SearchEditor(Input):
    """The search input (debounced)."""

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.on_search: Callable[[str], object] | None = None
        """Called with the text once the keys pause."""
        self._timer: Timer | None = None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.cancel()
        value = event.value
        if self.on_search is not None:
            search = self.on_search
            self._timer = self.set_timer(DEBOUNCE_S, lambda: search(value))

    def cancel(self) -> None:
        """Forget the search not yet applied."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
