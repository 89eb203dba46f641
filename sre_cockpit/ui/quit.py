"""Asks before quitting while operator notes are still waiting to be delivered: the guard every
way out goes through (:func:`request_quit`) and its dialog (:class:`QuitScreen`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from sre_cockpit.ui.plain import plain

if TYPE_CHECKING:
    from sre_cockpit.ui.app import CockpitApp


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


def request_quit(app: CockpitApp) -> None:
    """Quit, asking first while notes are still waiting to be delivered (every way out — ``q``,
    ``ctrl+q``, ``ctrl+c``, ``:q``, the palette — goes through here)."""
    pending = 0
    if app.cockpit is not None:
        try:
            pending = app.cockpit.notes.pending_count()
        except Exception as exc:
            app.log.error(f"pending notes: {exc}")
            pending = -1
    if pending == 0:
        app.exit(0)
        return
    if isinstance(app.screen, QuitScreen):
        return
    if pending < 0:
        text = "Could not check for undelivered notes. Quit anyway?"
    else:
        noun = "note is" if pending == 1 else "notes are"
        text = (f"{pending} {noun} not delivered to the incident API yet. They stay in the "
                f"local journal and are retried the next time the cockpit runs. Quit anyway?")

    def answered(answer: bool | None) -> None:
        if answer:
            app.exit(0)

    app.push_screen(QuitScreen(text), answered)
