"""The ``:`` commands, shared by the command line and the command palette.

:meth:`CommandRunner.run` returns an error line for the command line to show, or None when the
command worked. The commands act through :class:`CommandHost`, what they use of the cockpit
app (a protocol: this module does not import the app that owns the runner).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from textual.app import App

from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.layout import PaneLayout
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.ui.commandline import CommandLine

COMMAND_HELP = {
    "ctx": ":ctx NAME — switch to another context",
    "theme": ":theme NAME — switch the colour theme",
    "export": ":export [FILE] — write the focused incident's postmortem draft",
    "help": ":help — every key",
    "q": ":q — quit (asks while notes are undelivered)",
    "q!": ":q! — quit at once",
}


class CommandHost(Protocol):
    """What the commands use of the cockpit app."""

    @property
    def cockpit(self) -> Cockpit | None: ...

    @property
    def focused_incident(self) -> Incident | None: ...

    @property
    def pane_layout(self) -> PaneLayout: ...

    def context_names(self) -> list[str]: ...

    def cockpit_theme_names(self) -> list[str]: ...

    async def switch_context(self, name: str) -> str | None: ...

    def set_theme(self, name: str) -> str | None: ...

    def action_help(self) -> None: ...

    def action_request_quit(self) -> None: ...


class CommandRunner:
    """Runs ``:ctx``, ``:theme``, ``:export``, ``:help``, ``:q`` and ``:q!`` on the app.

    Args:
        app: the Textual app (toasts, exit, the screens).
        host: the same app, as what the commands use of the cockpit's state.
    """

    def __init__(self, app: App[Any], host: CommandHost) -> None:
        self.app = app
        self.host = host

    def names_for(self, verb: str) -> list[str]:
        """Completions for a command's argument (contexts, themes)."""
        if verb == "ctx":
            return self.host.context_names()
        if verb == "theme":
            return self.host.cockpit_theme_names()
        return []

    async def run_line(self, line: CommandLine, name: str, args: Sequence[str]) -> None:
        """Run what the command line sent: its error shows on the line (closing it, so the
        next ``:`` starts empty), else the line closes; the active pane gets the keys back
        when ``:ctx`` rebuilt the pane the line came from."""
        error = await self.run(name, args)
        if error:
            line.show_error(error)
        else:
            line.close()
        layout = self.host.pane_layout
        pane = layout.pane(layout.active)
        main = self.app.screen_stack[0]
        if pane is not None and self.app.screen is main and main.focused is None:
            layout.focus_pane(pane)

    async def run(self, name: str, args: Sequence[str]) -> str | None:
        """Run one command. Returns an error line, or None when it worked."""
        host = self.host
        if name == "ctx":
            if len(args) != 1:
                return f"usage: :ctx NAME (contexts: {', '.join(host.context_names())})"
            return await host.switch_context(args[0])
        if name == "theme":
            if len(args) != 1:
                return f"usage: :theme NAME (themes: {', '.join(host.cockpit_theme_names())})"
            return host.set_theme(args[0])
        if name == "export":
            return await self._export(args)
        if name == "help":
            host.action_help()
            return None
        if name == "q!":
            self.app.exit(0)
            return None
        if name == "q":
            host.action_request_quit()
            return None
        return f"unknown command :{sanitize_line(name)}"

    async def _export(self, args: Sequence[str]) -> str | None:
        cockpit = self.host.cockpit
        if cockpit is None:
            return "still starting — try again in a moment"
        incident = self.host.focused_incident
        if incident is None:
            incidents = cockpit.incidents.snapshot.incidents
            incident = incidents[0] if len(incidents) == 1 else None
        if incident is None:
            return "choose an incident first (enter in the incidents pane)"
        # Not at the top: the postmortem pulls in the notes store, the providers' HTTP layer,
        # httpx and pydantic (~0.25 s of imports), which the first frame does not need.
        from sre_cockpit.reports.export import ExportError, export_postmortem

        try:
            path = await export_postmortem(cockpit, incident, args[0] if args else None)
        except ExportError as exc:
            return sanitize_line(f"export failed: {exc}")
        toast(self.app, f"exported: {path}", timeout=6)
        return None
