"""The label browser of the log pane: shape the LogQL query without typing LogQL.

``b`` in the log pane opens it over the query being tailed. The list offers, first, removing
each matcher and line filter of the query (``− app="checkout"``, ``− |= "timeout"``), then the
stream labels that Loki's label API knows for the query (``app ▸``). Choosing a label lists its
values (``+ app="payments"``: the label then selects that value, or the values already ticked
plus it, through :meth:`~sre_cockpit.core.logql_shape.ShapedQuery.set_label`); escape goes back.
The input under the list adds a line filter (``text`` → ``|= "text"``, ``!text`` → ``!= "text"``,
``/re/`` → ``|~ "re"``). Every change closes the browser with the new query, which the pane
hands to :meth:`~sre_cockpit.feeds.logs.LogFeed.try_query` (Loki checks it first; a refused
query keeps the old one). Queries :mod:`~sre_cockpit.core.logql_shape` cannot round-trip are
said, not mangled. Labels and values are sanitised and shown as plain text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from sre_cockpit.core.logql_shape import (
    QueryShapeError,
    ShapedQuery,
    parse_query,
)
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.toast import toast

LabelLister = Callable[[str | None], Awaitable[list[str] | str]]
"""The feed's label API: names for None, else the values of that label (or why not)."""

__all__ = ["LabelBrowser", "LabelLister", "browse_labels", "filter_of"]


def filter_of(text: str) -> tuple[str, str] | None:
    """A line filter from what was typed: ``word`` → ``|=``, ``!word`` → ``!=``, ``/re/`` →
    ``|~``, ``!/re/`` → ``!~`` (None for nothing)."""
    text = text.strip()
    invert = text.startswith("!")
    body = text[1:] if invert else text
    if not body:
        return None
    if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
        return ("!~" if invert else "|~"), body[1:-1]
    return ("!=" if invert else "|="), body


class LabelBrowser(ModalScreen[str | None]):
    """Labels and values of the streams; dismisses with the new query (None: no change)."""

    DEFAULT_CSS = """
    LabelBrowser { align: center middle; }
    LabelBrowser > Vertical { width: 90%; max-width: 100; height: 80%; border: round $primary;
                              background: $surface; padding: 0 1; }
    LabelBrowser #labels-title { height: auto; }
    LabelBrowser OptionList { height: 1fr; }
    LabelBrowser #labels-filter { height: 3; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back/close", id="labels.close"),
    ]

    def __init__(self, query: str, names: list[str] | str, lister: LabelLister) -> None:
        super().__init__()
        self.logql = query
        self.names = names
        self.lister = lister
        self.shaped: ShapedQuery | None = None
        self.problem = ""
        try:
            self.shaped = parse_query(query)
        except QueryShapeError as exc:
            self.problem = str(exc)
        self.current_label: str | None = None
        """The label whose values are listed (None: the labels)."""
        self._values: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Labels"
            yield Static(self._title(), id="labels-title")
            yield OptionList(id="labels-list")
            yield Input(placeholder="add a line filter: text, !text, /regex/ · enter",
                        id="labels-filter")

    def _title(self) -> Text:
        text = Text(no_wrap=False)
        text.append("query: ", style="bold")
        text.append(sanitize_line(self.logql))
        if self.problem:
            text.append(f"\ncannot shape this query: {sanitize_line(self.problem)}",
                        style="bold")
        if self.current_label is not None:
            text.append(f"\nvalues of {sanitize_line(self.current_label)} (esc: back to the labels)",
                        style="dim")
        return text

    def on_mount(self) -> None:
        self._show_labels()
        self.query_one(OptionList).focus()

    def _show_labels(self) -> None:
        self.current_label = None
        self.query_one("#labels-title", Static).update(self._title())
        options = self.query_one(OptionList)
        options.clear_options()
        shaped = self.shaped
        if shaped is None:
            return
        for matcher in shaped.matchers:
            options.add_option(Option(Text(f"− {sanitize_line(matcher.to_logql())}"),
                                      id=f"rm-m:{shaped.matchers.index(matcher)}"))
        for index, line_filter in enumerate(shaped.filters):
            options.add_option(Option(Text(f"− {sanitize_line(line_filter.to_logql())}"),
                                      id=f"rm-f:{index}"))
        if isinstance(self.names, str):
            options.add_option(Option(Text(f"labels: {sanitize_line(self.names)}"),
                                      disabled=True))
            return
        for index, name in enumerate(self.names):
            options.add_option(Option(Text(f"{sanitize_line(name)} ▸"), id=f"label:{index}"))

    async def _show_values(self, name: str) -> None:
        self.current_label = name
        self.query_one("#labels-title", Static).update(self._title())
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_option(Option(Text("loading…"), disabled=True))
        values = await self.lister(name)
        if self.current_label != name:
            return
        options.clear_options()
        if isinstance(values, str):
            options.add_option(Option(Text(f"values: {sanitize_line(values)}"), disabled=True))
            return
        for index, value in enumerate(values):
            options.add_option(Option(Text(f"+ {sanitize_line(name)}=\"{sanitize_line(value)}\""),
                                      id=f"value:{index}"))
        self._values = values

    @on(OptionList.OptionSelected)
    async def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        shaped = self.shaped
        option_id = event.option.id or ""
        if shaped is None or ":" not in option_id:
            return
        kind, _, raw = option_id.partition(":")
        index = int(raw)
        try:
            if kind == "label" and not isinstance(self.names, str):
                await self._show_values(self.names[index])
                return
            if kind == "value" and self.current_label is not None:
                value = self._values[index]
                current = shaped.label_values(self.current_label) or []
                new = shaped.set_label(self.current_label, [*current, value] if value not in current
                                       and current else [value])
            elif kind == "rm-m":
                new = shaped.without_matcher(shaped.matchers[index])
            elif kind == "rm-f":
                line_filter = shaped.filters[index]
                new = shaped
                for value in line_filter.values:
                    new = new.without_filter(line_filter.op, value)
            else:
                return
            self.dismiss(new.to_logql())
        except QueryShapeError as exc:
            toast(self, str(exc), title="label browser", severity="error")

    @on(Input.Submitted, "#labels-filter")
    def _filter(self, event: Input.Submitted) -> None:
        event.stop()
        found = filter_of(event.value)
        if found is None or self.shaped is None:
            return
        try:
            self.dismiss(self.shaped.with_filter(*found).to_logql())
        except QueryShapeError as exc:
            toast(self, str(exc), title="label browser", severity="error")

    def action_back(self) -> None:
        """``escape``: from the values back to the labels, else close without a change."""
        if self.current_label is not None:
            self._show_labels()
            return
        self.dismiss(None)


def browse_labels(owner: Widget, query: str, lister: LabelLister,
                  chosen: Callable[[str | None], None]) -> None:
    """Open the browser over ``query`` once the label names are in (fetched in ``owner``'s
    worker); ``chosen`` gets the new query (None: no change)."""

    async def load() -> None:
        names = await lister(None)
        owner.app.push_screen(LabelBrowser(query, names, lister), callback=chosen)

    owner.run_worker(load(), exit_on_error=False, group="logs-labels", exclusive=True)
