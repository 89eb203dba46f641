"""The forms of the on-call actions: reassign, escalate, snooze and a status update.

Each returns what the operator chose (an :class:`~sre_cockpit.core.actions.Assignee`, a level,
a duration, a message) or None when cancelled; the confirm dialog then shows the exact request.
The directory search and the escalation levels come through the incident feed (the form is
given a coroutine function, never a provider). When the backend cannot answer (no directory,
an error, a 429) the form says why in one line and still takes a typed id or level.

Everything from a backend is sanitised and built as ``Text``; nothing is parsed as markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from sre_cockpit.core.actions import Assignee, AssigneeKind, EscalationLevel
from sre_cockpit.core.durations import format_duration, parse_duration
from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.incidents import ActionError

SEARCH_DELAY_S = 0.3
"""Typing pauses this long before the directory is asked (one request per pause, not per key)."""
STATUS_UPDATE_MAX = 5000
"""Longest status update accepted (characters)."""

_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{
    width: 90%; max-width: 100; height: auto; max-height: 95%;
    border: thick $accent; background: $surface; padding: 0 1;
}}
{cls} .dialog-title {{ text-style: bold; }}
{cls} .dialog-status {{ color: $text-muted; height: auto; }}
{cls} .dialog-error {{ color: $error; height: auto; }}
{cls} OptionList {{ height: auto; max-height: 12; }}
{cls} .dialog-hint {{ color: $text-muted; }}
"""


def targets_title(verb: str, incidents: Sequence[Incident]) -> Text:
    """``Reassign "Checkout 5xx above 2%"`` or ``Reassign 3 incidents`` (sanitised)."""
    if len(incidents) == 1:
        return Text(f"{verb} {incidents[0].id}: {sanitize_line(incidents[0].title)}")
    return Text(f"{verb} {len(incidents)} incidents")


class ReassignDialog(ModalScreen["Assignee | None"]):
    """Search the provider's directory (users and escalation policies) and pick one; without
    a directory, type the backend's id of a user."""

    DEFAULT_CSS = _CSS.format(cls="ReassignDialog")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("down", "choices", "Choices", show=False, id="dialog.choices"),
    ]

    def __init__(self, provider: str, incidents: Sequence[Incident],
                 search: Callable[[str], Awaitable[list[Assignee]]] | None) -> None:
        super().__init__()
        self.provider = provider
        self.incidents = tuple(incidents)
        self.search = search
        self.found: list[Assignee] = []
        """What the last search answered, in the list's order."""
        self.failed: str | None = None
        """Why the directory could not answer (then a typed id is taken)."""
        self.searches = 0
        """Searches sent (tests: typing fast sends one)."""
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(targets_title("Reassign", self.incidents), classes="dialog-title")
            yield Label(Text(f"Search {sanitize_line(self.provider)}'s people and escalation "
                             "policies (enter picks; ↓ to the list)"))
            yield Input(id="reassign-query", placeholder="name or email")
            yield Static("", classes="dialog-status")
            yield OptionList(id="reassign-choices")
            yield Static(Text("enter picks · esc cancels"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.search is None:
            self._no_directory(f"{self.provider} has no directory to search")
        else:
            self._search_now("")

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one(".dialog-status", Static)
        status.set_class(error, "dialog-error")
        status.update(Text(sanitize_line(text)))

    def _no_directory(self, why: str) -> None:
        self.failed = why
        self._status(f"{why} — type the id of a user and press enter", error=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.search is None:
            return
        if self._timer is not None:
            self._timer.stop()
        value = event.value
        self._timer = self.set_timer(SEARCH_DELAY_S, lambda: self._search_now(value))

    def _search_now(self, query: str) -> None:
        self._status("searching…")
        self.run_worker(self._run_search(query), exclusive=True, group="assignee-search",
                        exit_on_error=False)

    async def _run_search(self, query: str) -> None:
        assert self.search is not None
        self.searches += 1
        try:
            found = await self.search(query)
        except ActionError as exc:
            self.found = []
            self.query_one(OptionList).clear_options()
            self._no_directory(str(exc))
            return
        self.failed = None
        self.found = list(found)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(Text(sanitize_line(a.label)), id=str(n))
                             for n, a in enumerate(self.found)])
        if self.found:
            options.highlighted = 0
        self._status(f"{len(self.found)} found" if self.found else
                     f"nobody matches {query!r}" if query else "the directory is empty")

    def action_choices(self) -> None:
        """``down`` in the search box: move to the list."""
        if self.found:
            self.query_one(OptionList).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if self.found:
            index = options.highlighted if options.highlighted is not None else 0
            self.dismiss(self.found[index])
            return
        typed = event.value.strip()
        if self.failed is not None and typed:
            self.dismiss(Assignee(typed, AssigneeKind.USER, typed))
            return
        self._status("nobody to pick: type a name" if self.failed is None
                     else "type an id first", error=True)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.found[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        """Return None."""
        self.dismiss(None)


class EscalateDialog(ModalScreen["int | None"]):
    """Pick a level of the incident's escalation policy (listed when the provider can say),
    or type one."""

    DEFAULT_CSS = _CSS.format(cls="EscalateDialog")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, incidents: Sequence[Incident],
                 levels: Callable[[], Awaitable[list[EscalationLevel]]] | None) -> None:
        super().__init__()
        self.incidents = tuple(incidents)
        self.levels_of = levels
        self.levels: list[EscalationLevel] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(targets_title("Escalate", self.incidents), classes="dialog-title")
            yield Static("", classes="dialog-status")
            yield OptionList(id="escalate-levels")
            yield Label("Level (1 is the first)")
            yield Input(id="escalate-level", placeholder="e.g. 2", type="integer")
            yield Static(Text("enter picks · esc cancels"), classes="dialog-hint")

    def on_mount(self) -> None:
        if self.levels_of is None:
            self._status("the provider cannot list levels: type one", error=True)
            self.query_one(Input).focus()
            return
        self._status("reading the escalation policy…")
        self.query_one(OptionList).focus()
        self.run_worker(self._load(), exclusive=True, exit_on_error=False)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one(".dialog-status", Static)
        status.set_class(error, "dialog-error")
        status.update(Text(sanitize_line(text)))

    async def _load(self) -> None:
        assert self.levels_of is not None
        try:
            self.levels = await self.levels_of()
        except ActionError as exc:
            self._status(f"{exc} — type a level", error=True)
            self.query_one(Input).focus()
            return
        options = self.query_one(OptionList)
        for level in self.levels:
            who = ", ".join(level.targets) or "nobody"
            after = (f" (escalates after {level.delay_minutes} min)"
                     if level.delay_minutes is not None else "")
            options.add_option(Option(Text(f"level {level.level}: {who}{after}"),
                                      id=str(level.level)))
        if self.levels:
            options.highlighted = min(1, len(self.levels) - 1)  # the next level up
            self._status(f"{len(self.levels)} level{'s' if len(self.levels) != 1 else ''}")
        else:
            self._status("the policy lists no levels: type one", error=True)
            self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 1))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            level = int(event.value.strip())
        except ValueError:
            self._status("type a whole number, 1 or more", error=True)
            return
        if level < 1:
            self._status("the first level is 1", error=True)
            return
        self.dismiss(level)

    def action_cancel(self) -> None:
        """Return None."""
        self.dismiss(None)


class SnoozeDialog(ModalScreen["float | None"]):
    """How long to snooze (PagerDuty: acknowledged incidents, 1 s to 7 days)."""

    DEFAULT_CSS = _CSS.format(cls="SnoozeDialog")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]
    DEFAULT_S = 3600.0

    def __init__(self, incidents: Sequence[Incident]) -> None:
        super().__init__()
        self.incidents = tuple(incidents)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(targets_title("Snooze", self.incidents), classes="dialog-title")
            yield Label("For how long (e.g. 30m, 2h, 1d)")
            yield Input(format_duration(self.DEFAULT_S), id="snooze-duration")
            yield Static("", classes="dialog-status")
            yield Static(Text("enter continues · esc cancels"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            seconds = parse_duration(event.value)
        except ValueError as exc:
            self._error(str(exc))
            return
        if seconds < 1:
            self._error("snooze for at least 1s")
            return
        self.dismiss(seconds)

    def _error(self, text: str) -> None:
        status = self.query_one(".dialog-status", Static)
        status.set_class(True, "dialog-error")
        status.update(Text(sanitize_line(text)))

    def action_cancel(self) -> None:
        """Return None."""
        self.dismiss(None)


class StatusUpdateDialog(ModalScreen["str | None"]):
    """The text of a status update for the incidents' stakeholders."""

    DEFAULT_CSS = _CSS.format(cls="StatusUpdateDialog") + """
    StatusUpdateDialog TextArea { height: 8; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "submit", "Continue", id="dialog.submit"),
    ]

    def __init__(self, incidents: Sequence[Incident]) -> None:
        super().__init__()
        self.incidents = tuple(incidents)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(targets_title("Status update for", self.incidents),
                         classes="dialog-title")
            yield Label("What stakeholders should know (sent as written)")
            yield TextArea(id="status-message", soft_wrap=True, show_line_numbers=False)
            yield Static("", classes="dialog-status")
            yield Static(Text("ctrl+s continues · esc cancels"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_submit(self) -> None:
        """Validate and return the message."""
        message = self.query_one(TextArea).text.strip()
        status = self.query_one(".dialog-status", Static)
        if not message:
            status.set_class(True, "dialog-error")
            status.update(Text("write the update first"))
            return
        if len(message) > STATUS_UPDATE_MAX:
            status.set_class(True, "dialog-error")
            status.update(Text(f"{len(message):,} characters: at most {STATUS_UPDATE_MAX:,}"))
            return
        self.dismiss(message)

    def action_cancel(self) -> None:
        """Return None."""
        self.dismiss(None)


__all__ = ["EscalateDialog", "ReassignDialog", "SnoozeDialog", "StatusUpdateDialog",
           "targets_title"]
