"""The field picker of the log pane (``F``): which columns structured rows show.

It lists ``ts`` (Loki's time), ``level``, ``msg``, every field seen in the buffer's structured
lines (most frequent first; the newest :data:`SCAN_ROWS` rows are read, and the title says so
when the buffer holds more), then ``*`` (every other field, dimmed after the named ones). ``space``
ticks or unticks a column, ``enter`` applies the choice, ``esc`` closes without a change. The
pane remembers the choice per query in the context's data dir
(:class:`~sre_cockpit.feeds.logprefs.LogPrefs`) and turns structured mode on to show it.
Field names come sanitised from :mod:`sre_cockpit.core.logfields` and are shown as plain
``Text`` (a hostile name is never markup).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from sre_cockpit.core.logfields import LEVEL, MSG, OTHERS, TS, field_names, parse_line
from sre_cockpit.core.loglines import Row
from sre_cockpit.core.logring import RowStore
from sre_cockpit.feeds.logprefs import LogPrefs
from sre_cockpit.ui.logs.logview import LogView
from sre_cockpit.ui.toast import toast

SCAN_ROWS = 5000
"""The newest rows read for field names (parsing a 100k-line buffer would stall a key)."""

__all__ = ["SCAN_ROWS", "FieldPicker", "apply_columns", "fields_seen", "ordered_columns",
           "pick_columns"]

_DESCRIPTIONS = {TS: "the line's time", MSG: "the message",
                 OTHERS: "every other field, dimmed"}


def fields_seen(raws: Iterable[str]) -> list[str]:
    """Field names of the structured lines among ``raws`` (``ts``/``level``/``msg`` excluded:
    they are always offered)."""
    names = field_names(parse_line(raw) for raw in raws)
    return [name for name in names if name not in (TS, LEVEL, MSG)]


def ordered_columns(chosen: Iterable[str], offered: Sequence[str]) -> tuple[str, ...]:
    """The chosen columns in the picker's order (``*`` last)."""
    picked = set(chosen)
    return tuple(name for name in offered if name in picked)


class FieldPicker(ModalScreen[tuple[str, ...] | None]):
    """Tick the columns of structured rows; dismisses with them (None: no change)."""

    DEFAULT_CSS = """
    FieldPicker { align: center middle; }
    FieldPicker > Vertical { width: 90%; max-width: 80; height: 90%; max-height: 30;
                             border: round $primary; background: $surface; padding: 0 1; }
    FieldPicker #fields-title { height: auto; }
    FieldPicker SelectionList { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "close", id="logs.fields_close"),
        Binding("enter", "apply", "apply", id="logs.fields_apply", priority=True),
    ]

    def __init__(self, current: Sequence[str], seen: Sequence[str], *, scanned: int,
                 buffered: int) -> None:
        """Args:
            current: the columns shown now.
            seen: field names seen in the buffer (most frequent first).
            scanned: rows read for ``seen``.
            buffered: rows in the buffer.
        """
        super().__init__()
        named = [c for c in current if c not in (TS, LEVEL, MSG, OTHERS) and c not in seen]
        self.offered: list[str] = [TS, LEVEL, MSG, *seen, *named, OTHERS]
        self.current = set(current)
        self.scanned = scanned
        self.buffered = buffered

    def compose(self) -> ComposeResult:
        title = Text("columns of structured rows · space ticks · enter applies · esc closes",
                     style="bold")
        where = (f"fields seen in the newest {self.scanned:,} of {self.buffered:,} lines"
                 if self.buffered > self.scanned else f"fields seen in {self.buffered:,} lines")
        if len(self.offered) == 4:
            where += " (no structured lines: only ts, level, msg)"
        title.append(f"\n{where}", style="dim")
        options = []
        for name in self.offered:
            prompt = Text(name)
            if name in _DESCRIPTIONS:
                prompt.append(f"  {_DESCRIPTIONS[name]}", style="dim")
            options.append(Selection(prompt, name, name in self.current))
        with Vertical():
            yield Static(title, id="fields-title")
            yield SelectionList[str](*options, id="fields-list")

    def on_mount(self) -> None:
        self.query_one("#fields-list", SelectionList).focus()

    def action_apply(self) -> None:
        """Close with the ticked columns (at least one: none would show nothing, so the
        picker stays open and says so)."""
        picked = self.query_one("#fields-list", SelectionList).selected
        chosen = ordered_columns(picked, self.offered)
        if not chosen:
            toast(self, "no column ticked: tick one with space (esc keeps the columns)",
                  title="fields", severity="warning", timeout=4)
            return
        self.dismiss(chosen)

    def action_close(self) -> None:
        self.dismiss(None)


async def pick_columns(owner: Widget, moment_rows: Sequence[Row] | None, ring: RowStore,
                       current: Sequence[str],
                       chosen: Callable[[tuple[str, ...] | None], None]) -> None:
    """Open the picker over the buffer (a moment's rows, else the ring) with ``current``
    ticked: the newest :data:`SCAN_ROWS` lines are read for field names in a thread;
    ``chosen`` gets the new columns (None: no change)."""

    def newest() -> tuple[list[str], int]:
        if moment_rows is not None:
            return [row.raw for row in moment_rows[-SCAN_ROWS:]], len(moment_rows)
        return [raw for _ts, raw in ring.newest_lines(SCAN_ROWS)], len(ring)

    raws, buffered = newest()
    seen = await asyncio.to_thread(fields_seen, raws)
    owner.app.push_screen(FieldPicker(current, seen, scanned=len(raws), buffered=buffered),
                          callback=chosen)


def apply_columns(owner: Widget, view: LogView, prefs: LogPrefs, query: str,
                  columns: tuple[str, ...] | None) -> None:
    """Show ``columns`` in ``view`` (structured rows turned on) and remember them for
    ``query``; a toast says which, and whether they could be saved (None: no change)."""
    if not columns:
        return
    view._structured.columns = columns
    if not view.structured:
        view.action_toggle_structured()
    view.refresh()
    problem = prefs.set_columns(query, columns)
    toast(owner, f"columns: {' '.join(columns)}" + (
        f" (not saved: {problem})" if problem else " (remembered for this query)"),
          title="fields", severity="warning" if problem else "information", timeout=4)
