"""Every key the cockpit answers, for the help screen and for the checks of ``keys:``.

:class:`KeyHelp` is owned by the app (``app.keyhelp``): it lists every binding with its id and
current key, grouped by scope (global, each pane, the prompts, the dialogs), shows them on the
help screen (built on the first ``?`` and kept), and warns about remapped binding ids that do
not exist and keys a remapping took from another binding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.suggest import did_you_mean
from sre_cockpit.ui.commandline import CommandLine
from sre_cockpit.ui.layout import PaneLayout
from sre_cockpit.ui.panes import cockpit_dialogs
from sre_cockpit.ui.quit import QuitScreen
from sre_cockpit.ui.startup import preload_dialogs
from sre_cockpit.ui.toast import toast

HELP_SCREEN = "cockpit-help"
"""Name of the installed help screen."""


class KeyHelp:
    """The help screen's rows and the keymap's warnings.

    Args:
        app: the app whose bindings are listed.
        layout: where the panes are (each pane's keys are a scope).
        keymap: the ``keys:`` remappings in force (binding id → keys).
        warnings: the app's start-up warnings, which the keymap's join.
    """

    def __init__(self, app: App[Any], layout: PaneLayout, keymap: Callable[[], dict[str, str]],
                 warnings: list[str]) -> None:
        self.app = app
        self.layout = layout
        self.keymap = keymap
        self.warnings = warnings
        self._warned_clashes: set[str] = set()

    def hint(self) -> str:
        """The header's hint: the help key as the footer shows it (``? help``)."""
        keys = self.keymap().get("cockpit.help", "question_mark").split(",")[0].strip()
        return f"{self.app.get_key_display(Binding(keys, 'help'))} help"

    def rows(self) -> list[Any]:
        """Every binding with its id and current key, grouped by scope."""
        from sre_cockpit.ui.help import HelpScreen, binding_rows  # DataTable: not at start

        app = self.app
        preload_dialogs()  # every dialog's keys, whichever were opened so far
        main = app.screen_stack[0]
        scopes: list[tuple[str, Iterable[DOMNode | type[DOMNode]]]] = [("global", [app, main])]
        for pane in self.layout.panes():
            title = pane.PANE_TITLE or str(pane.id)
            scopes.append((title, [pane, *pane.walk_children()]))
        prompt = app.query_one(CommandLine)
        scopes.append(("prompts", [prompt, *prompt.walk_children()]))
        scopes.append(("dialogs", [HelpScreen, QuitScreen,
                                   *cockpit_dialogs(exclude=(HelpScreen, QuitScreen))]))
        active = [b.binding.id or b.binding.action for b in main.active_bindings.values()]
        return binding_rows(app, scopes, self.keymap(), active)

    def show(self) -> None:
        """Push the help screen (built on the first call and kept: later ones only update
        it)."""
        from sre_cockpit.ui.help import HelpScreen

        app = self.app
        if isinstance(app.screen, HelpScreen):
            return
        rows = self.rows()
        if not app.is_screen_installed(HELP_SCREEN):
            app.install_screen(HelpScreen(rows), HELP_SCREEN)
        else:
            screen = app.get_screen(HELP_SCREEN)
            if isinstance(screen, HelpScreen):
                screen.show_rows(rows)
        app.push_screen(HELP_SCREEN)

    def check_keymap(self) -> None:
        """Warn (a toast, and in ``warnings``) about each remapped id no binding has."""
        known = {row.id for row in self.rows()}
        for binding_id in self.keymap():
            if binding_id not in known:
                did = did_you_mean(binding_id, sorted(known))
                self._warn(f"keys: unknown binding id {sanitize_line(binding_id)!r}{did}")

    def clashed(self, clashed_bindings: set[Binding]) -> None:
        """Warn once per binding whose key a remapped binding took."""
        for binding in clashed_bindings:
            ident = binding.id or binding.action
            if ident in self._warned_clashes:
                continue
            self._warned_clashes.add(ident)
            self._warn(f"keys: {binding.key!r} of {ident} is now taken by a remapped binding")

    def _warn(self, warning: str) -> None:
        self.warnings.append(warning)
        toast(self.app, warning, severity="warning", timeout=10)
