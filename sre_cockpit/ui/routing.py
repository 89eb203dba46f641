"""Routing of the cross-pane messages of the TUI contract (a base class of the cockpit app).

Panes never call each other: each posts a message, the app forwards it to the public method of
the pane that owns the behaviour, or to the feed that owns the data (the log feed streams the
focused service and loads the moment's lines; its view follows its snapshots). A pane without
that method (a stand-in, an older pane) is skipped; a method that raises is logged and recorded
in ``pane_errors``, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import App
from textual.widget import Widget
from textual.widgets import Static

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.slots import PANES, PaneSlot

if TYPE_CHECKING:
    from sre_cockpit.config.model import ServiceConfig
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.feeds.logs import LogFeed


class PaneRouting(App[int]):
    """Message handlers named after the panes' messages (``on_<pane>_<message>``)."""

    pane_errors: dict[str, str]
    """Pane id (or ``id.method``) → why it is unavailable or failed."""
    _moment: datetime | None
    cockpit: Cockpit | None

    def services(self) -> Mapping[str, ServiceConfig]:
        """Service → log selector mapping of the current context (override)."""
        return {}

    def panes(self) -> list[Pane]:
        """The four panes in key order (1-4)."""
        found = {slot.pane_id: slot.pane for slot in self.query(PaneSlot)}
        return [found[spec.id] for spec in PANES if spec.id in found]

    def pane(self, pane_id: str) -> Pane | None:
        """One pane by id (``incidents``, ``logs``, ``slos``, ``timeline``)."""
        for slot in self.query(PaneSlot):
            if slot.pane_id == pane_id:
                return slot.pane
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "live":
            return self._moment is not None
        return True

    def action_live(self) -> None:
        """``.``: leave the moment chosen on the timeline and return to live data."""
        self._show_moment(None, "")
        timeline = self.pane("timeline")
        if timeline is not None and callable(getattr(timeline, "return_to_live", None)):
            self._call(timeline, "return_to_live")

    def _call(self, pane: Widget | None, method: str, *args: Any) -> None:
        """Call a pane's public method if it has it; a failure is logged, never fatal."""
        target = getattr(pane, method, None)
        if pane is None or not callable(target):
            return
        try:
            target(*args)
        except Exception as exc:
            reason = sanitize_line(f"{type(exc).__name__}: {exc}".splitlines()[0])
            self.pane_errors[f"{pane.id}.{method}"] = reason
            self.log.error(f"{pane.id}.{method} failed: {reason}")

    def _to_log_feed(self, method: str, call: Callable[[LogFeed], None]) -> None:
        """Act on the log feed (when there is one); a failure is logged, never fatal."""
        if self.cockpit is None:
            return
        try:
            call(self.cockpit.logs)
        except Exception as exc:
            reason = sanitize_line(f"{type(exc).__name__}: {exc}".splitlines()[0])
            self.pane_errors[f"logs.{method}"] = reason
            self.log.error(f"logs.{method} failed: {reason}")

    def on_incidents_pane_incident_focused(self, message: Any) -> None:
        incident = message.incident
        service = getattr(incident, "service", None) if incident is not None else None
        selector = None
        services = self.services()
        if service is not None and service in services:
            selector = services[service].logs
        self._to_log_feed("focus_service", lambda feed: feed.focus_service(service, selector))
        self._call(self.pane("slos"), "focus_service", service)
        self._call(self.pane("timeline"), "focus_incident", incident)

    def on_incidents_pane_note_requested(self, message: Any) -> None:
        self._call(self.pane("timeline"), "open_note_editor", message.incidents)

    def on_log_pane_pin_requested(self, message: Any) -> None:
        self._call(self.pane("timeline"), "pin_log_line", message.line)

    def on_timeline_pane_moment_selected(self, message: Any) -> None:
        self._show_moment(message.at, str(message.label or ""))

    def _show_moment(self, at: datetime | None, label: str) -> None:
        changed = at != self._moment
        self._moment = at
        banner = self.query_one("#moment-banner", Static)
        if at is None:
            banner.display = False
        else:
            shown = sanitize_line(label) if label else f"{at:%H:%M} UTC"
            banner.update(Text(f"viewing {shown} — . returns to live"))
            banner.display = True
        if changed:
            self._to_log_feed("show_moment", lambda feed: feed.show_moment(at))
            if self.cockpit is not None:
                self.cockpit.slos.show_moment(at)
            self.refresh_bindings()
