"""The incidents table: a line-API widget that draws only the rows on screen.

A ``DataTable`` holds a widget row per incident and costs work per row on every poll (an alert
flood of 7,000 rows took 1.3 s to fill and 250 ms per unchanged poll). This table keeps the
arranged rows as a tuple and draws a row only when its line is on screen: a poll that brings the
same rows repaints nothing, a poll that changes a row off screen repaints nothing, and a cursor
move repaints two lines. The header row stays on top while the rows scroll under it.

The pane gives the rows (:meth:`IncidentTable.set_rows`), how one row reads
(``render_row``, a function of the row returning plain-text ``Text``) and the header. After any
change of what a row shows (selection, focus, ages) the pane calls :meth:`IncidentTable.redraw`,
which re-reads only the rows on screen and repaints the lines whose text changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from sre_cockpit.feeds.arrange import Row

CACHE_LIMIT = 4096
"""Rows whose drawn line is kept (a flood scrolled end to end does not keep 7,000 lines)."""
MIN_TICK_S = 1.0


def row_key(row: Row) -> str:
    """The key of a row: an incident's ``provider:id`` or a group's ``group:…``."""
    return row.key


class IncidentTable(ScrollView, can_focus=True):
    """Rows of incidents and groups under a fixed header, with a row cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"incident-table--header", "incident-table--cursor"}

    DEFAULT_CSS = """
    IncidentTable { height: 1fr; width: 1fr; background: $surface; overflow-x: hidden;
                    overflow-y: auto; }
    IncidentTable:focus { background-tint: $foreground 5%; }
    IncidentTable > .incident-table--header { text-style: bold; background: $panel;
                                              color: $foreground; }
    IncidentTable > .incident-table--cursor { background: $block-cursor-blurred-background;
                                              color: $block-cursor-blurred-foreground; }
    IncidentTable:focus > .incident-table--cursor { background: $block-cursor-background;
                                                    color: $block-cursor-foreground;
                                                    text-style: $block-cursor-text-style; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "up", show=False, id="incidents.up"),
        Binding("down", "move(1)", "down", show=False, id="incidents.down"),
        Binding("pageup", "page(-1)", "page up", show=False, id="incidents.page_up"),
        Binding("pagedown", "page(1)", "page down", show=False, id="incidents.page_down"),
        Binding("j", "cursor_down", "down", show=False, id="table.down"),
        Binding("k", "cursor_up", "up", show=False, id="table.up"),
        Binding("home,g", "first_row", "first row", show=False, id="table.first"),
        Binding("end,G", "last_row", "last row", show=False, id="table.last"),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.rows: tuple[Row, ...] = ()
        """The rows in order (what the pane arranged)."""
        self.cursor_row = 0
        """Index of the row under the cursor."""
        self.render_row: Callable[[Row], Text] = lambda row: Text(row.key)
        """How one row reads (set by the pane)."""
        self.header = Text()
        self.highlighted: Callable[[str | None], None] = lambda key: None
        """Called at once when the cursor lands on another row (``None``: no rows), so what
        the pane shows about that row is painted in the same frame as the cursor (a message
        would arrive a frame later: ~17 ms more per key)."""
        self.next_change: Callable[[Sequence[Row]], float | None] = lambda rows: None
        """Seconds until any of these rows reads differently by itself (ages; set by the
        pane). The table wakes up then, and only then, to repaint what changed."""
        self._tick: Timer | None = None
        self._index: dict[str, int] = {}
        self._lines: dict[str, tuple[Row, Text, Strip]] = {}
        self._styles: tuple[Style, Style, Style] | None = None
        self.repaints = 0
        """Lines repainted because their content changed (tests and benchmarks read it)."""

    # ------------------------------------------------------------------------- data

    @property
    def row_count(self) -> int:
        """Rows in the table (groups included)."""
        return len(self.rows)

    def row_keys(self) -> list[str]:
        """Every row's key, in order."""
        return [row_key(r) for r in self.rows]

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None when empty)."""
        if not self.rows:
            return None
        return row_key(self.rows[min(self.cursor_row, len(self.rows) - 1)])

    def row(self, key: str) -> Row | None:
        """The row with this key, if shown."""
        index = self._index.get(key)
        return self.rows[index] if index is not None else None

    def line_text(self, key: str) -> Text | None:
        """How a row reads now (tests read cells through this)."""
        row = self.row(key)
        return self.render_row(row) if row is not None else None

    def set_header(self, header: Text) -> None:
        """The header line (column names, the sort arrow)."""
        if header.plain == self.header.plain and header.spans == self.header.spans:
            return
        self.header = header
        self.refresh(Region(0, 0, self.size.width, 1))

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``; the cursor stays on its row (by key) and only lines on screen whose
        row changed are repainted."""
        rows = tuple(rows)
        if rows == self.rows:
            self.redraw()  # same rows: only what depends on the clock or the view state
            return
        current = self.cursor_key
        old_top = self._top_keys()
        self.rows = rows
        self._index = {row_key(r): n for n, r in enumerate(rows)}
        if len(self._lines) > CACHE_LIMIT:
            self._lines.clear()
        if current is not None and current in self._index:
            self.cursor_row = self._index[current]
        else:
            self.cursor_row = max(0, min(self.cursor_row, len(rows) - 1))
        height = len(rows) + 1
        if self.virtual_size.height != height or self.virtual_size.width != self.size.width:
            self.virtual_size = Size(self.size.width, height)
        self._keep_cursor_visible()
        self._repaint_changed(old_top)
        if self.cursor_key != current:
            self.highlighted(self.cursor_key)

    def redraw(self) -> None:
        """Re-read the rows on screen and repaint the lines whose text changed."""
        self._repaint_changed(self._top_keys())

    def clear_cache(self) -> None:
        """Forget every drawn line (the columns or the theme changed) and repaint."""
        self._lines.clear()
        self._styles = None
        self.refresh()

    # ------------------------------------------------------------------------- geometry

    @property
    def _page(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    @property
    def _top(self) -> int:
        return int(self.scroll_offset.y)

    def _top_keys(self) -> list[str | None]:
        """The key drawn on each row line of the screen now."""
        top, page = self._top, self._page
        return [row_key(self.rows[n]) if n < len(self.rows) else None
                for n in range(top, top + page)]

    def _keep_cursor_visible(self) -> None:
        top, page = self._top, self._page
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def _repaint_changed(self, before: list[str | None]) -> None:
        """Repaint each screen line whose key or text changed since it was drawn."""
        top = self._top
        width = self.size.width
        for offset in range(self._page):
            index = top + offset
            key = row_key(self.rows[index]) if index < len(self.rows) else None
            old = before[offset] if offset < len(before) else None
            if key is None:
                if old is not None:
                    self._refresh_line(offset, width)
                continue
            row = self.rows[index]
            cached = self._lines.get(key)
            if cached is not None and cached[0] == row:
                text = self.render_row(row)
                if text.plain == cached[1].plain and text.spans == cached[1].spans:
                    if old != key:
                        self._refresh_line(offset, width)
                    continue
            self._lines.pop(key, None)
            self._refresh_line(offset, width)
        self._schedule_tick()

    def _schedule_tick(self) -> None:
        """One timer for the next moment a row on screen reads differently (none when no row
        on screen will): ages stay true without a poll, and an idle table sleeps."""
        if self._tick is not None:
            self._tick.stop()
            self._tick = None
        if not self.is_mounted:
            return
        top = self._top
        wait = self.next_change(self.rows[top:top + self._page])
        if wait is not None:
            self._tick = self.set_timer(max(MIN_TICK_S, wait + 0.05), self.redraw,
                                        name="incident-table-tick")

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._schedule_tick()  # other rows on screen: other ages

    def _refresh_line(self, offset: int, width: int) -> None:
        self.repaints += 1
        self.refresh(Region(0, offset + 1, width, 1))

    # ------------------------------------------------------------------------- drawing

    def _base_styles(self) -> tuple[Style, Style, Style]:
        if self._styles is None:
            self._styles = (self.rich_style,
                            self.get_component_rich_style("incident-table--header"),
                            self.get_component_rich_style("incident-table--cursor"))
        return self._styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._lines.clear()

    def on_focus(self, event: events.Focus) -> None:
        self._styles = None
        self._refresh_cursor_line()

    def on_blur(self, event: events.Blur) -> None:
        self._styles = None
        self._refresh_cursor_line()

    def _strip(self, text: Text, base: Style, post: Style | None, width: int) -> Strip:
        segments = list(text.render(self.app.console))
        return Strip(list(Segment.apply_style(segments, base, post))).crop_extend(
            0, width, base + post if post is not None else base)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base, header, cursor = self._base_styles()
        if y == 0:
            return self._strip(self.header, base + header, None, width)
        index = self._top + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        key = row_key(row)
        cached = self._lines.get(key)
        if cached is None or cached[0] != row or cached[2].cell_length != width:
            text = self.render_row(row)
            cached = (row, text, self._strip(text, base, None, width))
            self._lines[key] = cached
        if index == self.cursor_row:
            return self._strip(cached[1], base, cursor, width)
        return cached[2]

    # ------------------------------------------------------------------------- cursor

    def _refresh_cursor_line(self) -> None:
        offset = self.cursor_row - self._top
        if 0 <= offset < self._page:
            self.refresh(Region(0, offset + 1, self.size.width, 1))

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row ``row`` (clamped) and scroll it into view."""
        if not self.rows:
            return
        row = max(0, min(row, len(self.rows) - 1))
        if row == self.cursor_row:
            return
        self._refresh_cursor_line()
        self.cursor_row = row
        self._keep_cursor_visible()
        self._refresh_cursor_line()
        self.highlighted(self.cursor_key)

    def move_to_key(self, key: str) -> bool:
        """Put the cursor on the row with this key; False when it is not shown."""
        index = self._index.get(key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def action_move(self, step: int) -> None:
        """``up`` / ``down``."""
        self.move_cursor(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        """``pageup`` / ``pagedown``."""
        self.move_cursor(self.cursor_row + step * self._page)

    def action_cursor_down(self) -> None:
        """``j`` (as in k9s and lnav; the same ids as the other tables' ``table.*``)."""
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        """``k``."""
        self.move_cursor(self.cursor_row - 1)

    def action_first_row(self) -> None:
        """``home`` / ``g``."""
        self.move_cursor(0)

    def action_last_row(self) -> None:
        """``end`` / ``G``."""
        self.move_cursor(len(self.rows) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        self.focus()
        self.move_cursor(self._top + offset.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.rows) + 1)
        self._lines.clear()
        self._keep_cursor_visible()


class LineWidget(Widget):
    """One line of text that repaints without a layout pass (``Static.update`` lays out the
    whole screen: with four panes that cost more than the key press it answered)."""

    DEFAULT_CSS = """
    LineWidget { height: 1; width: 1fr; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.text = Text()
        """What the line says (plain text, never markup)."""

    def show(self, text: Text) -> bool:
        """Say ``text``; repaint only when it differs. True when it did."""
        if text.plain == self.text.plain and text.spans == self.text.spans:
            return False
        self.text = text
        self.refresh()
        return True

    def render(self) -> Text:
        return self.text
