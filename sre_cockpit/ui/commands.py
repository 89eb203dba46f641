"""The ``:`` commands, shared by the command line and the command palette.

:meth:`CommandRunner.run` returns an error line for the command line to show, or None when the
command worked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.ui.app import CockpitApp

COMMAND_HELP = {
    "ctx": ":ctx NAME — switch to another context",
    "theme": ":theme NAME — switch the colour theme",
    "export": ":export [FILE] — write the focused incident's postmortem draft",
    "help": ":help — every key",
    "q": ":q — quit (asks while notes are undelivered)",
    "q!": ":q! — quit at once",
}


class CommandRunner:
    """Runs ``:ctx``, ``:theme``, ``:export``, ``:help``, ``:q`` and ``:q!`` on the app."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app

    def names_for(self, verb: str) -> list[str]:
        """Completions for a command's argument (contexts, themes)."""
        if verb == "ctx":
            return self.app.context_names()
        if verb == "theme":
            return self.app.cockpit_theme_names()
        return []

    async def run(self, name: str, args: Sequence[str]) -> str | None:
        """Run one command. Returns an error line, or None when it worked."""
        app = self.app
        if name == "ctx":
            if len(args) != 1:
                return f"usage: :ctx NAME (contexts: {', '.join(app.context_names())})"
            return await app.switch_context(args[0])
        if name == "theme":
            if len(args) != 1:
                return f"usage: :theme NAME (themes: {', '.join(app.cockpit_theme_names())})"
            return app.set_theme(args[0])
        if name == "export":
            return await self._export(args)
        if name == "help":
            app.action_help()
            return None
        if name == "q!":
            app.exit(0)
            return None
        if name == "q":
            app.action_request_quit()
            return None
        return f"unknown command :{sanitize_line(name)}"

    async def _export(self, args: Sequence[str]) -> str | None:
        app = self.app
        cockpit = app.cockpit
        if cockpit is None:
            return "still starting — try again in a moment"
        incident = app.focused_incident
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
        toast(app, f"exported: {path}", timeout=6)
        return None
