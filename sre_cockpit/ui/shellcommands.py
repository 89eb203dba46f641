"""The ``:`` commands and the quit confirmation (a base class of the cockpit app).

``run_command`` is shared by the command line and the command palette; it returns an error line
for the command line to show, or None when the command worked.
"""

from __future__ import annotations

import difflib
import inspect
from typing import TYPE_CHECKING

from textual import on

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.commandline import CommandLine
from sre_cockpit.ui.quit import QuitScreen
from sre_cockpit.ui.routing import PaneRouting

if TYPE_CHECKING:
    from sre_cockpit.config.model import Config


class ShellCommands(PaneRouting):
    """``:ctx``, ``:theme``, ``:export``, ``:help``, ``:q`` / ``:q!`` and ``q``."""

    config: Config | None
    _cockpit_themes: list[str]

    def default_context(self) -> str:
        """The context shown now (override)."""
        return ""

    async def switch_context(self, name: str) -> str | None:
        """Rebuild the providers for another context (override)."""
        return "switching contexts is not available"

    def action_help(self) -> None:
        """Show the key reference (override)."""

    def context_names(self) -> list[str]:
        """Contexts of the config (command palette, completion)."""
        return list(self.config.contexts) if self.config is not None else [self.default_context()]

    def cockpit_theme_names(self) -> list[str]:
        """The cockpit's own themes (Textual's built-in ones work too)."""
        return list(self._cockpit_themes)

    def _names_for(self, verb: str) -> list[str]:
        if verb == "ctx":
            return self.context_names()
        if verb == "theme":
            return self.cockpit_theme_names()
        return []

    @on(CommandLine.Command)
    async def _command(self, message: CommandLine.Command) -> None:
        line = self.query_one(CommandLine)
        error = await self.run_command(message.name, message.args)
        if error:
            line.show_error(error)
        else:
            line.close()

    async def run_command(self, name: str, args: tuple[str, ...]) -> str | None:
        """Run a ``:`` command. Returns an error line, or None when it worked."""
        if name == "ctx":
            if len(args) != 1:
                return f"usage: :ctx NAME (contexts: {', '.join(self.context_names())})"
            return await self.switch_context(args[0])
        if name == "theme":
            if len(args) != 1:
                return f"usage: :theme NAME (themes: {', '.join(self._cockpit_themes)})"
            return self.set_theme(args[0])
        if name == "export":
            return await self._export(args)
        if name == "help":
            self.action_help()
            return None
        if name == "q!":
            self.exit(0)
            return None
        if name == "q":
            self.action_request_quit()
            return None
        return f"unknown command :{name}"

    def set_theme(self, name: str) -> str | None:
        """Switch theme; returns an error line for an unknown name."""
        if name not in self.available_themes:
            hint = difflib.get_close_matches(name, self._cockpit_themes, n=1)
            did = f" — did you mean {hint[0]}?" if hint else ""
            return (f"unknown theme {sanitize_line(name)!r}{did} "
                    f"(themes: {', '.join(self._cockpit_themes)})")
        self.theme = name
        return None

    async def _export(self, args: tuple[str, ...]) -> str | None:
        timeline = self.pane("timeline")
        export = getattr(timeline, "export_postmortem", None)
        if not callable(export):
            return "export is not available: the timeline pane has no post-mortem export"
        try:
            result = export(*args)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            return sanitize_line(f"export failed: {exc}")
        if result:
            self.notify(sanitize_line(f"exported: {result}"), timeout=6)
        return None

    def action_request_quit(self) -> None:
        """``q``: quit, asking first while notes are still waiting to be delivered."""
        timeline = self.pane("timeline")
        pending = 0
        check = getattr(timeline, "pending_notes", None)
        if callable(check):
            try:
                pending = int(check())
            except Exception as exc:
                self.log.error(f"pending_notes failed: {exc}")
                pending = -1
        if pending == 0:
            self.exit(0)
            return
        if pending < 0:
            text = "Could not check for undelivered notes. Quit anyway?"
        else:
            noun = "note is" if pending == 1 else "notes are"
            text = (f"{pending} {noun} not delivered to the incident API yet. They stay in the "
                    f"local journal and are retried the next time the cockpit runs. Quit anyway?")
        self.push_screen(QuitScreen(text), self._quit_answer)

    def _quit_answer(self, answer: bool | None) -> None:
        if answer:
            self.exit(0)
