"""The LogQL editor of the log pane (``l``) and its per-context query history.

The editor is a one-line input pre-filled with the query being tailed; ``up`` shows the previous
query of the context's history (:class:`~sre_cockpit.feeds.logprefs.LogPrefs`, kept in the data
dir across runs), ``down`` the next one and, past the newest, what was being typed. ``enter``
hands the query to the pane (Loki checks it; only accepted queries join the history), ``esc``
closes the editor without running anything. Queries are shown as plain text (a query from the
config or the history may hold escapes: :func:`~sre_cockpit.ui.plain.plain_str`).
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from sre_cockpit.ui.plain import plain_str

__all__ = ["QueryEditor"]


class QueryEditor(Input):
    """The LogQL input with ``up``/``down`` through the context's query history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "older query", show=False, id="logs.query_older"),
        Binding("down", "history(1)", "newer query", show=False, id="logs.query_newer"),
    ]

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.history: list[str] = []
        """The context's queries, oldest first (set when the editor opens)."""
        self.position = 0
        """Index into :attr:`history` shown now (``len(history)``: the line being typed)."""
        self.draft = ""

    def start(self, query: str, history: list[str]) -> None:
        """Open on ``query`` with ``history`` to walk (newest last)."""
        self.history = [plain_str(q) for q in history]
        self.position = len(self.history)
        self.draft = plain_str(query)
        self.value = self.draft
        self.cursor_position = len(self.value)

    def action_history(self, step: int) -> None:
        """``up`` (-1) an older query, ``down`` (+1) a newer one, then the line typed."""
        if not self.history:
            return
        if self.position == len(self.history):
            self.draft = self.value
        position = max(0, min(len(self.history), self.position + step))
        while 0 < position < len(self.history) and self.history[position] == self.value:
            position += step  # the query on the line already: one step further
        position = max(0, min(len(self.history), position))
        if position == self.position:
            return
        self.position = position
        self.value = self.history[position] if position < len(self.history) else self.draft
        self.cursor_position = len(self.value)
