"""Asks before quitting while operator notes are still waiting to be delivered: the guard every
way out goes through (:func:`request_quit`) and its dialog (:class:`QuitScreen`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.actions import SkipAction
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from sre_cockpit.ui.keyrouting import takes_text
from sre_cockpit.ui.plain import plain

if TYPE_CHECKING:
    from sre_cockpit.feeds.notes import NotesFeed


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


def request_quit(app: App[Any], notes: NotesFeed | None) -> None:
    """Quit, asking first while ``notes`` still has notes waiting to be delivered (every way
    out — ``q``, ``ctrl+q``, ``ctrl+c``, ``:q``, the palette — goes through here)."""
    pending = 0
    if notes is not None:
        try:
            pending = notes.pending_count()
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


def interrupt(app: App[Any], notes: NotesFeed | None) -> None:
    """``ctrl+c``: quit through the same guard as ``q``; in an input or the note editor with
    text selected, copy it instead (their own ``ctrl+c``).

    A priority binding, so it answers on every screen: in a prompt, a dialog, the note editor,
    the help or the palette it used to do nothing and say nothing (a modal screen ends the
    binding chain, and the inputs took the key to copy an empty selection).

    Raises:
        SkipAction: text is selected: the input copies it.
    """
    focused = app.screen.focused
    selected: object = getattr(focused, "selected_text", None) if takes_text(focused) else None
    if isinstance(selected, str) and selected:
        raise SkipAction()  # the input copies its selection
    request_quit(app, notes)
