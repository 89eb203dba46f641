"""The ``:`` command line: ``:ctx NAME``, ``:theme NAME``, ``:export [PATH]``, ``:q``, ``:help``.

The line parses what was typed and posts ``CommandLine.Command``; the app runs it and closes
the line, or calls ``show_error``: as in vim, the line closes too and the reason stays where the
line was, so the next ``:`` starts empty (it used to stay open with the failed text, and the
next ``:`` gave ``:ctx:ctx prod``); up recalls the failed line to edit it. Up/down walk the
history of this session; ``tab`` (or right-arrow) accepts the greyed-out completion, so what the
line shows is what enter runs.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import ClassVar, Protocol, runtime_checkable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal
from textual.message import Message
from textual.suggester import Suggester
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from sre_cockpit.core.suggest import did_you_mean
from sre_cockpit.ui.plain import plain, plain_content, plain_highlight, plain_str
from sre_cockpit.ui.toast import toast

COMMANDS: dict[str, str] = {
    "ctx": "ctx NAME — switch to another context (panes restart on its providers)",
    "theme": "theme NAME — change the colour theme",
    "export": "export [PATH] — write the post-mortem timeline",
    "help": "help — list every key binding",
    "q": "q — quit (asks first when notes are not delivered yet); q! quits anyway",
}
"""Command words and their one-line help (also used by the command palette)."""
ALIASES: dict[str, str] = {"context": "ctx", "quit": "q", "q!": "q!", "wq": "q", "x": "q"}
TAKES_ARGUMENT = frozenset({"ctx", "theme", "export"})
"""Commands whose completion ends with a space, ready for the argument."""
HISTORY_LIMIT = 100
MESSAGE_S = 15.0
"""How long a failed command's reason stays where the closed line was."""


class PromptInput(Input):
    """A one-line input with history and escape-to-cancel (shared by ``:`` and ``/``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", show=False, id="prompt.cancel"),
        Binding("up", "history(-1)", "previous", show=False, id="prompt.history_previous"),
        Binding("down", "history(1)", "next", show=False, id="prompt.history_next"),
        Binding("tab", "complete", "complete", show=False, id="prompt.complete"),
    ]

    class Cancelled(Message):
        """Escape was pressed."""

    def __init__(self, *, placeholder: str = "", id: str | None = None,
                 suggester: Suggester | None = None,
                 completer: Callable[[str], str | None] | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, compact=True, suggester=suggester,
                         select_on_focus=False)
        self.completer = completer
        """The completion of a line as typed (None: none); ``tab`` puts it in the line."""
        self.history: list[str] = []
        self._history_pos = 0
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        """Run this input's own bindings (enter, ctrl+u, ctrl+w, escape, history…) when the key
        reaches it, in the order the keys were typed.

        Textual runs a focused widget's bindings only when the key has bubbled back up to the
        app, while printable keys are inserted as they arrive: with the keys of one read
        ("/" ctrl+u "checkout" enter, a paste, a coalesced SSH packet) ctrl+u ran after
        "checkout" was inserted and cleared it, and enter submitted an empty filter.
        """
        if not event.is_printable:
            found = self._bindings.key_to_bindings.get(event.key)
            if found:
                event.stop()
                event.prevent_default()
                await self.run_action(found[0].action)
                return
        await super()._on_key(event)

    def remember(self, text: str) -> None:
        """Add a submitted line to the history (no consecutive duplicates)."""
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-HISTORY_LIMIT]
        self._history_pos = len(self.history)

    def reset_history_position(self) -> None:
        """Start browsing from the newest entry again."""
        self._history_pos = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        """Show the previous (-1) or next (+1) history entry."""
        if not self.history:
            return
        if self._history_pos == len(self.history):
            self._draft = self.value
        pos = max(0, min(len(self.history), self._history_pos + step))
        self._history_pos = pos
        self.value = self.history[pos] if pos < len(self.history) else self._draft
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        """``tab``: put the completion in the line (computed now, not the suggester's greyed
        text, which arrives later: ``:th`` and tab in one read must complete too). Without one,
        tab does nothing: it never moves the focus out of a prompt being typed in."""
        completion = self.completer(self.value) if self.completer is not None else None
        if completion:
            self.value = completion
            self.cursor_position = len(completion)

    def action_cancel(self) -> None:
        """Close the prompt without running anything (at once, so that the key typed next goes
        where the focus returns, not into this prompt)."""
        for node in self.ancestors:
            if isinstance(node, BottomPrompt):
                node.close()
                return
        self.post_message(self.Cancelled())


class BottomPrompt(Widget):
    """A hidden one-line prompt above the footer; ``open()`` shows and focuses it."""

    DEFAULT_CSS = """
    BottomPrompt { height: 1; width: 1fr; display: none; background: $panel; }
    BottomPrompt.-open { display: block; }
    BottomPrompt > Horizontal { height: 1; width: 1fr; }
    BottomPrompt .prompt-label { width: auto; height: 1; color: $accent; text-style: bold; }
    BottomPrompt PromptInput { width: 1fr; height: 1; border: none; padding: 0; }
    BottomPrompt .prompt-message { width: auto; max-width: 70%; height: 1; padding: 0 1;
                                   color: $text-error; text-style: bold; display: none; }
    BottomPrompt .prompt-message.-shown { display: block; }
    BottomPrompt.-message { display: block; }
    BottomPrompt.-message .prompt-label, BottomPrompt.-message PromptInput { display: none; }
    BottomPrompt.-message .prompt-message { width: 1fr; max-width: 100%; padding: 0; }
    """

    LABEL = ":"

    def __init__(self, *, id: str | None = None, placeholder: str = "",
                 suggester: Suggester | None = None,
                 completer: Callable[[str], str | None] | None = None) -> None:
        super().__init__(id=id)
        self.input = PromptInput(placeholder=placeholder, suggester=suggester,
                                 completer=completer)
        self.label = Static(Text(self.LABEL), classes="prompt-label")
        self.message = Static("", classes="prompt-message", markup=False)
        self._return_focus: Widget | None = None
        self._message_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield self.label
            yield self.input
            yield self.message

    @property
    def is_open(self) -> bool:
        """Whether the prompt is showing."""
        return self.has_class("-open")

    def open(self, value: str = "", *, label: str | None = None) -> None:
        """Show the prompt with ``value`` pre-filled and focus it."""
        self._return_focus = self.screen.focused if self.is_attached else None
        if label is not None:
            self.label.update(Text(label))
        self.clear_error()
        self.input.value = value
        self.input.cursor_position = len(value)
        self.input.reset_history_position()
        self.add_class("-open")
        # Synchronously: what follows ":" in the same terminal read must land in the prompt.
        if self.is_attached:
            self.screen.set_focus(self.input)
        else:
            self.input.focus()

    def close(self) -> None:
        """Hide the prompt and give focus back to where it was."""
        self.remove_class("-open")
        self.clear_error()
        target = self._return_focus
        self._return_focus = None
        if target is not None and target.is_attached and target.focusable:
            self.screen.set_focus(target)  # at once: the next key typed goes there
        elif self.is_attached and self.screen.focused is self.input:  # not has_focus: late
            self.screen.set_focus(None)

    def show_error(self, message: str) -> None:
        """The command failed: close the prompt (the focus goes back, the next open starts
        empty) and leave ``message`` where the prompt was, until it opens again or
        :data:`MESSAGE_S` have passed. Up in the next prompt recalls the failed line."""
        self.close()
        self.message.update(plain(message))
        self.message.add_class("-shown")
        self.add_class("-message")
        if self.is_mounted:
            self._message_timer = self.set_timer(MESSAGE_S, self.clear_error,
                                                 name="prompt-message")

    def clear_error(self) -> None:
        """Hide the error message."""
        if self._message_timer is not None:
            self._message_timer.stop()
            self._message_timer = None
        self.message.update("")
        self.message.remove_class("-shown")
        self.remove_class("-message")

    @property
    def error(self) -> str:
        """The error currently shown ("" if none)."""
        return str(self.message.render()) if self.message.has_class("-shown") else ""

    @on(PromptInput.Cancelled)
    def _cancelled(self, event: PromptInput.Cancelled) -> None:
        event.stop()
        self.close()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.message.has_class("-shown"):
            self.clear_error()


class CommandSuggester(Suggester):
    """Completes command words and their argument (context and theme names); the greyed-out
    suggestion and ``tab`` give the same completion (:meth:`complete`)."""

    def __init__(self, names: Callable[[str], Iterable[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._names = names

    def complete(self, value: str) -> str | None:
        """The line completed: the first command word starting with what was typed (then a
        space when it takes an argument), or the first context / theme name starting with the
        argument; None when nothing completes it."""
        if " " not in value:
            if not value:
                return None
            for word in [*COMMANDS, *ALIASES]:
                if word.startswith(value) and word != value:
                    canonical = ALIASES.get(word, word)
                    return word + (" " if canonical in TAKES_ARGUMENT else "")
            return None
        verb, _, arg = value.partition(" ")
        for name in self._names(ALIASES.get(verb, verb)):
            # the suggestion is drawn in the input as it is: a name from the config that is
            # not plain text (escapes, bidi) is never offered (the palette lists it, sanitised)
            if name.startswith(arg) and name != arg and plain_str(name) == name:
                return f"{verb} {name}"
        return None

    async def get_suggestion(self, value: str) -> str | None:
        return self.complete(value)


class CommandLine(BottomPrompt):
    """The ``:`` line."""

    LABEL = ":"

    class Command(Message):
        """A parsed command for the app to run (``name`` is canonical, e.g. ``ctx``)."""

        def __init__(self, name: str, args: tuple[str, ...], text: str) -> None:
            super().__init__()
            self.name = name
            self.args = args
            self.text = text

    def __init__(self, *, id: str | None = None,
                 names: Callable[[str], Iterable[str]] | None = None) -> None:
        suggester = CommandSuggester(names or (lambda _verb: ()))
        super().__init__(id=id, placeholder="ctx NAME · theme NAME · export · help · q",
                         suggester=suggester, completer=suggester.complete)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip().lstrip(":").strip()
        self.input.remember(text)
        if not text:
            self.close()
            return
        try:
            words = shlex.split(text)
        except ValueError as exc:
            self.show_error(f"cannot parse: {exc}")
            return
        verb = ALIASES.get(words[0], words[0])
        if verb not in COMMANDS and verb != "q!":
            starting = [word for word in COMMANDS if word.startswith(verb)]
            suggestion = (f" (did you mean {starting[0]!r}? tab completes)"
                          if len(starting) == 1 else did_you_mean(verb, COMMANDS))
            self.show_error(f"unknown command :{words[0]}{suggestion} "
                            f"(commands: {', '.join(COMMANDS)})")
            return
        self.post_message(self.Command(verb, tuple(words[1:]), text))


def without_textual_theme_command(commands: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """Textual's system commands minus its "Theme" entry, which opened Textual's own theme
    picker (its 20 built-in themes half-apply: they lack the cockpit's colours). The cockpit's
    themes are offered as "Theme: NAME" by :class:`CockpitCommands`."""
    for command in commands:
        if command.title != "Theme":
            yield command


@runtime_checkable
class PaletteHost(Protocol):
    """What the palette's cockpit entries use of the app (a protocol, checked with
    ``isinstance``: this module does not import the app that lists it in ``COMMANDS``)."""

    PANE_TITLES: ClassVar[dict[str, str]]
    """Pane id → title, one "Show TITLE" entry each."""

    def context_names(self) -> list[str]: ...

    def cockpit_theme_names(self) -> list[str]: ...

    async def run_command(self, name: str, args: tuple[str, ...]) -> str | None: ...


class CockpitCommands(Provider):
    """Command-palette entries: panes, zoom, contexts, themes (the cockpit's own only), export,
    help. Panes, contexts, themes and export are offered only by a :class:`PaletteHost` app."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        entries: list[tuple[str, Callable[[], object], str]] = []
        host = app if isinstance(app, PaletteHost) else None
        for pane_id, title in (host.PANE_TITLES if host is not None else {}).items():
            entries.append((f"Show {title}", partial(app.run_action, f"show_pane('{pane_id}')"),
                            f"focus the {title} pane"))
        entries.append(("Zoom the focused pane", partial(app.run_action, "zoom"),
                        "maximise / restore (z)"))
        entries.append(("Keys: list every binding", partial(app.run_action, "help"), "?"))
        if host is not None:
            command = host.run_command

            async def runner(name: str, args: tuple[str, ...]) -> None:
                error = await command(name, args)
                if error:  # the palette is closed by now: say why nothing happened
                    toast(app, str(error), title=f":{name} failed", severity="error",
                          timeout=10)

            for name in host.context_names():
                entries.append((f"Context: {plain_str(name)}", partial(runner, "ctx", (name,)),
                                "rebuild the providers for this context"))
            for name in host.cockpit_theme_names():
                entries.append((f"Theme: {plain_str(name)}", partial(runner, "theme", (name,)),
                                "change the colour theme"))
            entries.append(("Export post-mortem timeline", partial(runner, "export", ()),
                            ":export"))
        return entries

    async def discover(self) -> Hits:
        # names are plain_str'd (context and theme names come from files); the help texts
        # are the cockpit's own constants (Textual parses a hit's help as markup)
        for name, callback, help_text in self._entries():
            yield DiscoveryHit(plain_content(name), callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, plain_highlight(matcher, name), callback, help=help_text)
