"""The ``?`` screen: every binding of the cockpit with its id and current key.

Generated from the ``BINDINGS`` of the app, the main screen and every widget inside the panes
and prompts, with the config's ``keys:`` remapping applied, so it can never drift from what the
keys really do. Textual's own navigation keys (arrows, page up/down in tables and inputs) carry
no id and are summarised in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from sre_cockpit.ui.plain import plain


@dataclass(frozen=True, slots=True)
class BindingRow:
    """One line of the help table."""

    scope: str
    keys: str
    id: str
    description: str
    active: bool


def declared_bindings(node: DOMNode | type[DOMNode]) -> list[Binding]:
    """Bindings a node's class hierarchy declares (own ``BINDINGS``; Textual widgets excluded)."""
    found: list[Binding] = []
    node_cls = node if isinstance(node, type) else type(node)
    for cls in reversed(node_cls.__mro__):
        if cls.__module__.startswith("textual."):
            continue
        raw: Iterable[BindingType] | None = cls.__dict__.get("BINDINGS")
        if raw:
            found.extend(Binding.make_bindings(raw))
    return found


def _display(app: App[Any], binding: Binding, keymap: Mapping[str, str]) -> list[str]:
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    shown: list[str] = []
    for key in keys.split(","):
        key = key.strip()
        if not key:
            continue
        if key == binding.key and binding.key_display:
            shown.append(binding.key_display)
        else:
            shown.append(app.get_key_display(binding.with_key(key)))
    return shown


def binding_rows(app: App[Any], scopes: Iterable[tuple[str, Iterable[DOMNode | type[DOMNode]]]],
                 keymap: Mapping[str, str], active: Iterable[str] = ()) -> list[BindingRow]:
    """Help rows for named groups of nodes.

    Args:
        app: the app (for key display).
        scopes: (scope name, nodes) pairs, e.g. ("global", [app, screen]), ("Logs", pane.walk…).
        keymap: binding id → key string(s) from the config.
        active: ids (or actions, for bindings without id) active with the current focus.

    Returns:
        One row per binding id (or action) and scope, all its keys together, in declaration
        order.
    """
    active_set = set(active)
    rows: list[BindingRow] = []
    for scope, nodes in scopes:
        merged: dict[str, tuple[Binding, list[str]]] = {}
        for node in nodes:
            for binding in declared_bindings(node):
                ident = binding.id or binding.action
                keys = _display(app, binding, keymap)
                if ident in merged:
                    known = merged[ident][1]
                    known.extend(k for k in keys if k not in known)
                else:
                    merged[ident] = (binding, keys)
        for ident, (binding, keys) in merged.items():
            rows.append(BindingRow(
                scope=scope, keys=" ".join(keys), id=binding.id or "—",
                description=binding.description or binding.action,
                active=ident in active_set))
    return rows


class HelpScreen(ModalScreen[None]):
    """Modal key reference; ``?``, ``escape`` or ``q`` closes it.

    Built once and kept (the app installs it): opening it again only updates what changed —
    usually just the ``●`` of the bindings active with the current focus — instead of composing
    a screen and a table of every binding on each ``?``.
    """

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 100%; max-width: 110; height: 100%; margin: 1 2;
                            border: round $accent; background: $surface; padding: 0 1; }
    HelpScreen DataTable { height: 1fr; background: $surface; }
    HelpScreen .help-note { height: auto; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "close help", id="help.close"),
    ]

    def __init__(self, rows: list[BindingRow]) -> None:
        super().__init__()
        self.rows = rows
        self.builds = 0
        """How many times the table was filled from scratch (tests read it)."""
        self._styled_for: tuple[object, ...] | None = None

    def _style_key(self) -> tuple[object, ...]:
        """What the screen's CSS can depend on outside it: the theme and the app's classes."""
        app = self.app
        return (app.theme, app.ansi_color, app.app_focus, frozenset(app.classes),
                tuple(sorted(getattr(app, "theme_variables", {}).items())))

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Skip Textual's re-styling of the whole screen on an open when nothing it depends on
        changed since the last one: re-applying the CSS clears the table's render caches, and
        drawing its every row again was most of the CPU of opening ``?`` (Textual 8.2.8 runs
        this handler's base afterwards with the same event)."""
        key = self._style_key()
        if key == self._styled_for:
            event.refresh_styles = False
        self._styled_for = key

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Keys"
            box.border_subtitle = "? or esc closes"
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static(Text("● = active with the current focus. Remap any key under keys: in "
                              "the config, e.g. keys: {cockpit.zoom: f11}. Tables and the log "
                              "view also take arrows and page up/down; inputs take arrows, "
                              "home/end."),
                         classes="help-note")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="active", width=1)
        table.add_column("scope", key="scope")
        table.add_column("key", key="key")
        table.add_column("binding id", key="id")
        table.add_column("action", key="description")
        self._fill(self.rows)
        table.focus()

    def _fill(self, rows: list[BindingRow]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for n, row in enumerate(rows):
            # keys and scopes come from the config (keys:) and pane titles: never markup
            table.add_row(_active_mark(row.active), plain(row.scope), plain(row.keys, "bold"),
                          plain(row.id), plain(row.description), key=str(n))
        self.rows = rows
        self.builds += 1

    def show_rows(self, rows: list[BindingRow]) -> None:
        """Show ``rows`` (the bindings now), from the top: only the marks that changed are
        updated when the bindings are the same as last time, else the table is refilled."""
        table = self.query_one(DataTable)
        if [_shape(r) for r in rows] != [_shape(r) for r in self.rows]:
            self._fill(rows)
        else:
            for n, (old, new) in enumerate(zip(self.rows, rows, strict=True)):
                if old.active != new.active:
                    table.update_cell(str(n), "active", _active_mark(new.active))
            self.rows = rows
        table.move_cursor(row=0, column=0, animate=False)
        table.scroll_home(animate=False)
        table.focus()

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)


def _shape(row: BindingRow) -> tuple[str, str, str, str]:
    """A row without its active mark."""
    return row.scope, row.keys, row.id, row.description


def _active_mark(active: bool) -> Text:
    return Text("●" if active else " ")
