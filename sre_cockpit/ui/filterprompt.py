"""The ``/`` prompt: filter the focused pane (enter applies, empty clears, escape keeps the old)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import Input

from sre_cockpit.ui.commandline import BottomPrompt


class FilterPrompt(BottomPrompt):
    """Asks for a filter and posts ``FilterPrompt.Submitted`` for the pane it was opened for."""

    LABEL = "/"

    class Submitted(Message):
        """The filter text for pane ``pane_id`` ("" clears the filter)."""

        def __init__(self, pane_id: str, text: str) -> None:
            super().__init__()
            self.pane_id = pane_id
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, placeholder="enter applies · empty clears · esc cancels")
        self.pane_id = ""

    def open_for(self, pane_id: str, title: str, hint: str, current: str = "") -> None:
        """Open the prompt for one pane, pre-filled with its current filter."""
        self.pane_id = pane_id
        label = Text("/ ")
        label.append(title, style="bold")
        label.append(f" ({hint}): ")
        self.open(current)
        self.label.update(label)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        self.input.remember(text)
        self.close()
        self.post_message(self.Submitted(self.pane_id, text))
