"""Describe an incident (``d``, as in k9s): everything its provider said, scrollable, copyable.

The fields come from :func:`describe_fields`: first what every provider has (id in full, title,
status, severity, service, start, assignees, links), then the provider's own ``details`` in its
order and words (Alertmanager: fingerprint, generatorURL, receivers, silences, inhibitions,
every label and annotation; PagerDuty: service, escalation policy, urgency, priority,
assignees, acknowledgers, alert counts, conference bridge, html_url; a ``type: http`` API: every
mapped field), then the raw object as indented JSON. Links are shown in full (values wrap,
nothing is cut). Every value is sanitised (escape sequences, bidi and zero-width characters
made visible) and put in ``Text`` as plain text: a label cannot write the clipboard or become
markup. ``c``/enter copies the highlighted field (a link is also shown as a hyperlink), ``C``
copies them all, ``b`` the runbook, ``f`` focuses the incident, escape closes. At 80×24 the
view fills the screen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from sre_cockpit.core.durations import humanize_age
from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.feeds.arrange import Group, Row
from sre_cockpit.ui.dialogs import pretty_json
from sre_cockpit.ui.incidents.links import copy_link, copy_value
from sre_cockpit.ui.incidents.table import status_label
from sre_cockpit.ui.toast import toast

MAX_VALUE_BYTES = 64 * 1024
"""A value longer than this is shown cut with the number of bytes left (the raw object is
already bounded at 16 KiB by the providers)."""
NAME_WIDTH = 22


@dataclass(frozen=True, slots=True)
class Field:
    """One line of the describe view.

    Attributes:
        section: the heading it sits under (``incident``, ``labels``, ``annotations``…).
        name: the field's name in the provider's words.
        value: the provider's text, unsanitised (sanitised when shown and copied).
    """

    section: str
    name: str
    value: str

    @property
    def is_link(self) -> bool:
        """Whether the value is a web link (copied as one, shown as a hyperlink)."""
        return self.value.startswith(("http://", "https://")) and "\n" not in self.value


def _when(at: datetime | None, now: datetime) -> str | None:
    if at is None:
        return None
    age = humanize_age(max(0.0, (now - at).total_seconds()))
    return f"{at.isoformat()} ({age} ago)"


def describe_fields(incident: Incident, now: datetime) -> list[Field]:
    """Every field of ``incident`` in display order (empty values left out)."""
    status = status_label(incident)
    common: list[tuple[str, str | None]] = [
        ("id", incident.id), ("provider", incident.provider), ("title", incident.title),
        ("status", status), ("severity", incident.severity.value),
        ("service", incident.service), ("started", _when(incident.started_at, now)),
        ("updated", _when(incident.updated_at, now)),
        ("assignees", ", ".join(incident.assignees) or None), ("url", incident.url),
        ("runbook", incident.runbook_url), ("detail", incident.detail),
    ]
    fields = [Field("incident", name, value) for name, value in common if value]
    for key, value in incident.details.items():
        if value == "" or value is None:
            continue
        section, dot, name = key.partition(".")
        fields.append(Field(section, name, str(value)) if dot
                      else Field("details", key, str(value)))
    if incident.raw:
        fields.append(Field("raw", "object", raw_text(incident.raw)))
    return fields


def raw_text(raw: str) -> str:
    """The provider's object indented (as given when it is not whole JSON, e.g. cut)."""
    try:
        return pretty_json(json.loads(raw), width=76)
    except ValueError:
        return raw


def field_value(field: Field) -> Text:
    """A field's value as shown: sanitised, plain text (links underlined)."""
    value = sanitize(field.value, max_bytes=MAX_VALUE_BYTES)
    return Text(value, style="underline" if field.is_link else "", overflow="fold")


class FieldPrompt:
    """One option: the name in its column, the value beside it, wrapped (long links fold
    inside their column, never cut). Drawn as ``Table.grid`` drew it (name column, one space,
    value column padded to the width) at a tenth of its cost: every option of the list is
    rendered each time the screen opens."""

    def __init__(self, name: Text, value: Text, name_width: int) -> None:
        self.name = name
        self.value = value
        self.name_width = name_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.name_width
        value_width = max(1, options.max_width - width - 1)
        name = console.render_lines(self.name, options.update(
            width=width, no_wrap=True, overflow="ellipsis", height=None), pad=True)[0]
        blank = Segment(" " * width)
        gap = Segment(" ")
        lines = console.render_lines(self.value, options.update(width=value_width, height=None),
                                     pad=True)
        for n, line in enumerate(lines):
            if n:
                yield blank
            else:
                yield from name
            yield gap
            yield from line
            yield Segment.line()


def field_prompt(field: Field, name_width: int = NAME_WIDTH) -> FieldPrompt:
    """One option: the field's name and its value (:class:`FieldPrompt`)."""
    return FieldPrompt(Text(sanitize_line(field.name), style="bold"), field_value(field),
                       name_width)


class DescribeScreen(ModalScreen["str | None"]):
    """Every field of one incident. Dismissed with ``"focus"`` when ``f`` asked to focus it."""

    DEFAULT_CSS = """
    DescribeScreen { align: center middle; }
    DescribeScreen > Vertical {
        width: 100%; max-width: 140; height: 100%; border: thick $accent;
        background: $surface; padding: 0 1;
    }
    DescribeScreen .describe-title { text-style: bold; height: auto; max-height: 3; }
    DescribeScreen OptionList, DescribeScreen OptionList:focus {
        height: 1fr; border: none; padding: 0;
    }
    DescribeScreen .describe-hint { color: $text-muted; height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="describe.close"),
        Binding("c", "copy", "Copy field", id="describe.copy"),
        Binding("C", "copy_all", "Copy all", id="describe.copy_all"),
        Binding("b", "runbook", "Runbook", id="describe.runbook"),
        Binding("f", "focus_incident", "Focus", id="describe.focus"),
    ]

    def __init__(self, incident: Incident, *, now: datetime) -> None:
        super().__init__()
        self.incident = incident
        self.fields = describe_fields(incident, now)
        self.name_width = min(NAME_WIDTH, max((len(f.name) for f in self.fields), default=8))

    def compose(self) -> ComposeResult:
        incident = self.incident
        with Vertical():
            yield Static(Text(f"{sanitize_line(incident.provider)}:{sanitize_line(incident.id)}"
                              f"  {sanitize_line(incident.title)}"), classes="describe-title")
            options: list[Option | None] = []
            section = None
            for n, field in enumerate(self.fields):
                if field.section != section:
                    section = field.section
                    options.append(Option(Text(f"── {sanitize_line(section)} ──", style="dim"),
                                          disabled=True))
                options.append(Option(field_prompt(field, self.name_width), id=str(n)))
            yield OptionList(*options, id="describe-fields")
            yield Static(Text("c/enter copy · C copy all · b runbook · f focus · esc close"),
                         classes="describe-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        options.action_first()

    def highlighted(self) -> Field | None:
        """The field under the cursor."""
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        return self.fields[int(option.id)] if option.id is not None else None

    def _copy(self, field: Field) -> None:
        if field.is_link:
            copy_link(self, field.value, what=field.name, missing="")
        else:
            copy_value(self, field.name, field.value)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._copy(self.fields[int(event.option.id)])

    def action_copy(self) -> None:
        """Copy the highlighted field's value."""
        field = self.highlighted()
        if field is not None:
            self._copy(field)

    def action_copy_all(self) -> None:
        """Copy every field as ``section.name: value`` lines."""
        lines = [f"{f.section}.{f.name}: {f.value}" for f in self.fields if f.section != "raw"]
        copy_value(self, "every field", "\n".join(lines))

    def action_runbook(self) -> None:
        """Copy the runbook link and show it as a hyperlink."""
        copy_link(self, self.incident.runbook_url, what="runbook",
                  missing="this incident has no runbook link")

    def action_focus_incident(self) -> None:
        """Close and focus the incident (the other panes follow it)."""
        self.dismiss("focus")

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)


def open_describe(where: Widget, row: Row | None, *, now: datetime,
                  on_focus: Callable[[Incident], None]) -> None:
    """``d`` in the incidents pane: describe the highlighted incident (a group row or nothing
    highlighted: say so); ``f`` inside calls ``on_focus``."""
    if not isinstance(row, Incident):
        toast(where, "a group row: enter expands it, then d describes an incident"
              if isinstance(row, Group) else "no incident under the cursor",
              title="Describe", severity="warning")
        return
    incident = row

    def done(result: str | None) -> None:
        if result == "focus":
            on_focus(incident)

    where.app.push_screen(DescribeScreen(incident, now=now), done)
