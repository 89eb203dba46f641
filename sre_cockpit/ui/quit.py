"""Asks before quitting while operator notes are still waiting to be delivered."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from sre_cockpit.ui.plain import plain


class QuitScreen(ModalScreen[bool]):
    """``y`` quits, ``n`` / ``escape`` stays. Dismisses with True to quit."""

    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical { width: 64; max-width: 100%; height: auto; border: thick $warning;
                            background: $surface; padding: 1 2; }
    QuitScreen .quit-keys { margin-top: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "quit", id="quit.confirm"),
        Binding("n,escape", "answer(False)", "stay", id="quit.cancel"),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Quit?"
            yield Static(plain(self.message), id="quit-message")
            yield Static(Text("y quit anyway · n / esc stay"), classes="quit-keys")

    def action_answer(self, quit_: bool) -> None:
        """Close the dialog with the answer."""
        self.dismiss(quit_)
