"""The log view: a line-API widget (``ScrollView`` + ``render_line``) over a bounded ring buffer.

The buffer is :class:`~sre_cockpit.core.logring.RowStore` (rows packed in compressed blocks),
the view's widths and wrapped heights :class:`~sre_cockpit.ui.logs.geometry.RowGeometry`, the
drawing :class:`~sre_cockpit.ui.logs.paint.RowPainter`.

Not ``Log(max_lines=…)``, which stops repainting once full (Textual 8.2.8), nor ``RichLog`` (far
too slow at 1k lines/s). Rows are drawn from the end while following, so new lines never cost a
layout pass; the scroll geometry (a layout reactive in Textual) is only synced when paused.

The view knows nothing of its pane: ``p`` and ``i`` post :class:`LogView.PinRequested` and
:class:`LogView.ExplainRequested`; the pane sets ``on_state_change`` to hear of follow/pause and
cursor moves and ``on_edit_query`` to open its query editor at once (``l`` is routed when its key
is read, so the keys typed next must already find the editor: a message would come too late).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sre_cockpit.core.loglines import ERROR, LineFilter, Row, row_level
from sre_cockpit.core.logring import Entry, RowStore, RowView, chunks, entries_of
from sre_cockpit.core.models import LogLine
from sre_cockpit.ui.clipboard import copy_text
from sre_cockpit.ui.logs.geometry import RowGeometry
from sre_cockpit.ui.logs.paint import RowPainter
from sre_cockpit.ui.logs.search import SearchState, row_index
from sre_cockpit.ui.logs.structured import StructuredRows
from sre_cockpit.ui.toast import toast


class LogView(ScrollView, can_focus=True):
    """Line-API view over a bounded ring buffer of :class:`Row`."""

    DEFAULT_CSS = """
    LogView { height: 1fr; width: 1fr; background: $surface; overflow-x: hidden;
              overflow-y: hidden; }
    LogView:focus { background-tint: $foreground 4%; }
    """

    ROUTE_AT_ONCE: ClassVar[frozenset[str]] = frozenset({"edit_query", "search", "filter"})
    """Run when the key is read (the app's key routing): the query, search or filter typed next
    goes to its editor."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_follow", "follow/pause", id="logs.follow"),
        Binding("w", "toggle_wrap", "wrap", id="logs.wrap"),
        Binding("t", "toggle_timestamps", "timestamps", id="logs.timestamps"),
        Binding("u", "toggle_utc", "UTC/local", id="logs.utc"),
        Binding("L", "toggle_labels", "labels", id="logs.labels"),
        Binding("s", "toggle_structured", "structured/raw", id="logs.structured"),
        Binding("v", "toggle_volume", "volume", id="logs.volume"),
        Binding("a", "toggle_patterns", "patterns", id="logs.patterns"),
        Binding("b", "labels", "labels browser", id="logs.label_browser"),
        Binding("e", "next_error", "next error", id="logs.next_error"),
        Binding("E", "previous_error", "previous error", id="logs.previous_error"),
        Binding("l", "edit_query", "LogQL", id="logs.query"),
        Binding("slash", "search", "search", id="logs.search"),
        Binding("n", "search_next(1)", "next match", id="logs.search_next"),
        Binding("N", "search_next(-1)", "previous match", id="logs.search_previous"),
        Binding("f", "filter", "filter", id="logs.filter"),
        Binding("i", "explain", "why", id="logs.explain"),
        Binding("c", "copy_line", "copy", id="logs.copy"),
        Binding("p", "pin_line", "pin", id="logs.pin"),
        Binding("up,k", "cursor(-1)", "up", show=False, id="logs.up"),
        Binding("down,j", "cursor(1)", "down", show=False, id="logs.down"),
        Binding("pageup", "page(-1)", "page up", show=False, id="logs.page_up"),
        Binding("pagedown", "page(1)", "page down", show=False, id="logs.page_down"),
        Binding("home,g", "home", "oldest", show=False, id="logs.home"),
        Binding("left", "sideways(-8)", "left", show=False, id="logs.left"),
        Binding("right", "sideways(8)", "right", show=False, id="logs.right"),
        Binding("end,G", "end", "newest", show=False, id="logs.end"),
    ]

    class PinRequested(Message):
        """``p``: the line under the cursor (or the newest) should be pinned."""

        def __init__(self, line: LogLine) -> None:
            super().__init__()
            self.line = line

    class ExplainRequested(Message):
        """``i``: say why the stream is in its state."""

    def __init__(self, max_lines: int = 50_000, *, max_line_bytes: int = 4096,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max(1, max_lines)
        self.max_line_bytes = max_line_bytes
        self.ring = RowStore()
        """The buffered rows (compressed blocks; :mod:`sre_cockpit.core.logring`)."""
        self.moment_rows: list[Row] | None = None
        self.view = RowView(self.ring.get)
        """The rows the filter lets through (ids; rows looked up when read)."""
        self.line_filter: LineFilter | None = None
        self.follow = True
        self.wrap = False
        self.show_ts = False
        self.utc = True
        self.show_labels = False
        self.structured = False
        """``s``: logfmt/JSON lines laid out message-first (parsed only when drawn)."""
        self.painter = RowPainter(self)
        self.cursor: int | None = None  # index into view when paused
        self.new_while_paused = 0
        self.total_appended = 0
        self.geometry = RowGeometry(self)
        self._top = 0  # first row drawn while paused (own offset: no layout passes)
        self.on_state_change: Callable[[], None] | None = None
        self.on_edit_query: Callable[[], None] | None = None
        self.on_search: Callable[[], None] | None = None
        self.on_volume: Callable[[], None] | None = None
        self.on_patterns: Callable[[], None] | None = None
        self.on_labels: Callable[[], None] | None = None
        self.searcher = SearchState()
        """``/``: the search and the view rows that match it."""

    # ------------------------------------------------------------------------- data

    def append(self, lines: Sequence[LogLine]) -> int:
        """Add lines (oldest first); returns how many old rows were evicted."""
        if not lines:
            return 0
        self.total_appended += len(lines)
        ring = self.ring
        rows, evicted = ring.add_lines(lines, self.max_line_bytes, self.max_lines)
        if self.moment_rows is not None:
            return evicted
        first_id = ring.first_id
        assert first_id is not None
        removed_rows = self._drop_view_before(first_id)
        shown = [e for e in entries_of(rows) if e[0] >= first_id and self._visible(e[1])]
        self._extend_view(shown)
        if not self.follow:
            self.new_while_paused += len(shown)
            if self.cursor is not None:
                self.cursor = max(0, self.cursor - removed_rows[0])
        self._update_virtual_size(keep_anchor_rows=removed_rows[1])
        return evicted

    def _visible(self, text: str) -> bool:
        return self.line_filter is None or self.line_filter.matches(text)

    def _drop_view_before(self, first_id: int) -> tuple[int, int]:
        """Remove evicted rows from the front of the view; (entries, screen rows) removed."""
        view = self.view
        lo = view.index_of(first_id)
        if not lo:
            return 0, 0
        view.drop_front(lo)
        self.searcher.drop_before(first_id)
        return lo, self.geometry.drop(lo) if self.wrap else lo

    def _extend_view(self, entries: list[Entry], *, rebuilt: bool = False) -> None:
        """Add entries to the view (``rebuilt``: the searcher has seen them already)."""
        if not entries:
            return
        self.view.extend_ids(e[0] for e in entries)
        if not rebuilt:
            self.searcher.extend_entries(entries)
        self.geometry.add(entries, self._wrap_width() if self.wrap else None)

    def rebuild(self) -> None:
        """Recompute the view (filter, wrap, prefixes changed): one pass over the buffer's
        texts, in chunks (a sealed row is not made a :class:`Row` for this)."""
        moment = self.moment_rows
        anchor = self._anchor_id()
        self.view = RowView(moment.__getitem__ if moment is not None else self.ring.get)
        self.searcher.recompute_entries(())
        self.painter.structured.clear()  # a moment's rows reuse ids: parse again what is drawn
        self.geometry.reset()
        for chunk in chunks(self._view_entries(), 4096):
            self.searcher.extend_entries(chunk)
            self._extend_view(chunk, rebuilt=True)
        self.cursor = None
        if anchor is not None and not self.follow and self.view:
            self.cursor = min(self.view.index_of(anchor), len(self.view) - 1)
        self._update_virtual_size(force=True)
        self._top = min(self._top, self._follow_top())
        if self.cursor is not None:
            self._scroll_to_entry(self.cursor)
        self.refresh()

    def _view_entries(self) -> Iterator[Entry]:
        """The entries the filter lets through, oldest first (what the view holds)."""
        moment = self.moment_rows
        source = entries_of(moment) if moment is not None else self.ring.entries()
        line_filter = self.line_filter
        if line_filter is None:
            return source
        return (e for e in source if line_filter.matches(e[1]))

    def _anchor_id(self) -> int | None:
        if self.cursor is not None and 0 <= self.cursor < len(self.view):
            return self.view.ids[self.cursor]
        return None

    # ------------------------------------------------------------------------- layout

    def _wrap_width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 80)

    def _total_rows(self) -> int:
        return self.geometry.total_rows(len(self.view), self.wrap)

    def _update_virtual_size(self, keep_anchor_rows: int = 0, *, force: bool = False) -> None:
        """Keep the geometry in step with the rows without layout passes.

        ``virtual_size`` is a layout reactive in Textual: every change re-lays out the whole
        screen. The vertical position is therefore this widget's own (``_top``, rows drawn from
        the end while following) and only the width is published, in 256-column steps, for
        sideways scrolling of long lines.
        """
        width = self._wrap_width() if self.wrap else -(-max(1, self.geometry.max_cells) // 256) * 256
        if force or width != self.virtual_size.width:
            self.virtual_size = Size(width, 0)
        if keep_anchor_rows and not self.follow:
            self._top = max(0, self._top - keep_anchor_rows)

    @property
    def allow_horizontal_scroll(self) -> bool:
        """Long lines scroll sideways with ←/→ even though no scrollbar is drawn."""
        return not self._check_disabled() and not self.wrap

    def _view_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _follow_top(self) -> int:
        """First row drawn while following: the newest rows fill the view."""
        return max(0, self._total_rows() - self._view_height())

    def _set_top(self, top: int) -> None:
        top = max(0, min(top, self._follow_top()))
        if top != self._top:
            self._top = top
            self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap:
            self.rebuild()
        else:
            self._update_virtual_size()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """The wheel scrolls this view's own offset; scrolling up pauses."""
        event.stop()
        if self.follow:
            self.set_follow(False)
        self._set_top(self._top - 3)
        self._notify()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        if not self.follow:
            self._set_top(self._top + 3)
            self._notify()

    def _notify(self) -> None:
        if self.on_state_change is not None:
            self.on_state_change()

    def position(self) -> tuple[int, int]:
        """(last visible row, total rows) for the status line while paused."""
        top = self._follow_top() if self.follow else self._top
        total = self._total_rows()
        return min(total, top + self._view_height()), total

    def set_follow(self, follow: bool) -> None:
        """Follow the newest line, or pause (the view stays where it is)."""
        if follow == self.follow:
            return
        top = self._follow_top()
        self.follow = follow
        self.new_while_paused = 0
        if follow:
            self.cursor = None
        else:
            self._top = top
            if self.cursor is None and self.view:
                self.cursor = self._entry_at_row(top + self._view_height() - 1)
        self.refresh()
        self._notify()

    # ------------------------------------------------------------------------ render

    def _entry_at_row(self, y: int) -> int | None:
        return self.geometry.entry_at_row(y, len(self.view), self.wrap)

    def _first_row_of(self, index: int) -> int:
        return self.geometry.first_row_of(index, self.wrap)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.painter.base_style = None

    @property
    def _structured(self) -> StructuredRows:
        """The structured layout's parse cache (the painter's)."""
        return self.painter.structured

    def _row_strip(self, row: Row, selected: bool) -> Strip:
        """The whole row, uncropped (:class:`~sre_cockpit.ui.logs.paint.RowPainter`)."""
        return self.painter.strip(row, selected)

    def render_line(self, y: int) -> Strip:
        return self.painter.line(y)

    # ---------------------------------------------------------------------- actions

    def current_row(self) -> Row | None:
        """The selected row when paused, else the newest one."""
        if not self.view:
            return None
        if self.cursor is not None and 0 <= self.cursor < len(self.view):
            return self.view[self.cursor]
        return self.view[-1]

    def center_on(self, index: int) -> None:
        """Scroll so that entry ``index`` is in the middle of the view (a moment's line: lines
        before it above, lines after it below)."""
        self._set_top(self._first_row_of(index) - self._view_height() // 2)
        self.refresh()

    def _scroll_to_entry(self, index: int) -> None:
        first = self._first_row_of(index)
        height = self._view_height()
        if first < self._top:
            self._set_top(first)
        elif first >= self._top + height:
            self._set_top(first - height + 1)

    def _move_cursor(self, index: int) -> None:
        if not self.view:
            return
        if self.follow:
            self.set_follow(False)
        self.cursor = max(0, min(index, len(self.view) - 1))
        self._scroll_to_entry(self.cursor)
        self.refresh()
        if self.on_state_change is not None:
            self.on_state_change()

    def action_toggle_follow(self) -> None:
        self.set_follow(not self.follow)

    def action_cursor(self, step: int) -> None:
        if self.follow and step > 0:
            return
        start = self.cursor if self.cursor is not None else len(self.view) - 1
        if not self.follow and step > 0 and start >= len(self.view) - 1:
            self.set_follow(True)
            return
        self._move_cursor(start + step)

    def action_page(self, step: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self.action_cursor(step * height)

    def action_sideways(self, step: int) -> None:
        self.scroll_to(x=max(0, self.scroll_x + step), animate=False, force=True)

    def action_home(self) -> None:
        self._move_cursor(0)

    def action_end(self) -> None:
        self.set_follow(True)

    def _find_error(self, step: int) -> None:
        if not self.view:
            return
        start = self.cursor if self.cursor is not None else len(self.view)
        index = start + step
        while 0 <= index < len(self.view):
            if row_level(self.view[index]) == ERROR:
                self._move_cursor(index)
                return
            index += step
        toast(self, "no more errors in the buffer", timeout=2)

    def action_next_error(self) -> None:
        self._find_error(1)

    def action_previous_error(self) -> None:
        self._find_error(-1)

    def _toggle(self, attr: str) -> None:
        setattr(self, attr, not getattr(self, attr))
        if self.wrap or attr == "wrap":
            self.rebuild()  # row heights change: O(buffer), only with wrap
        else:
            # same rows, different prefix: no O(buffer) rebuild on a key press
            if attr == "show_labels" and self.show_labels:
                seen = {id(r.labels): r.labels for r in self.view[-2000:] if r.labels}
                self.geometry.note_labels(list(seen.values()))
            self._update_virtual_size(force=True)
            self.refresh()
        if self.on_state_change is not None:
            self.on_state_change()

    def action_toggle_wrap(self) -> None:
        self._toggle("wrap")

    def action_toggle_timestamps(self) -> None:
        self._toggle("show_ts")

    def action_toggle_structured(self) -> None:
        self._toggle("structured")

    def action_toggle_volume(self) -> None:
        if self.on_volume is not None:
            self.on_volume()

    def action_toggle_patterns(self) -> None:
        if self.on_patterns is not None:
            self.on_patterns()

    def action_labels(self) -> None:
        if self.on_labels is not None:
            self.on_labels()

    def action_toggle_labels(self) -> None:
        self._toggle("show_labels")

    def action_toggle_utc(self) -> None:
        self.utc = not self.utc
        self.refresh()
        if self.on_state_change is not None:
            self.on_state_change()

    def action_edit_query(self) -> None:
        if self.on_edit_query is not None:
            self.on_edit_query()

    def action_search(self) -> None:
        """``/``: open the search (the pane's editor)."""
        if self.on_search is not None:
            self.on_search()

    async def action_filter(self) -> None:
        """``f``: the app's filter prompt for this pane (hides the lines that do not match,
        with the pane base's counts)."""
        await self.app.run_action("app.filter")

    def set_search(self, search: LineFilter | None) -> None:
        """Search the view for ``search`` (None clears); the matches are highlighted."""
        self.searcher.search = search
        self.searcher.recompute_entries(self._view_entries())
        self.refresh()
        self._notify()

    def search_position(self) -> tuple[int, int]:
        """(ordinal of the selected row among the matches or 0, number of matches)."""
        anchor = self._anchor_id() if not self.follow else None
        return self.searcher.ordinal(anchor), len(self.searcher.ids)

    def action_search_next(self, step: int) -> None:
        """``n`` / ``N``: the next / previous matching line (pauses and scrolls to it); from
        the live end both find the newest match."""
        if not self.searcher.active:
            toast(self, "no search: / searches", timeout=2)
            return
        after = self._anchor_id() if not self.follow else None
        found = self.searcher.next_id(after, step)
        if found is None:
            where = "below" if step > 0 else "above"
            toast(self, f"no more matches {where}" if self.searcher.ids else "no matches",
                  timeout=2)
            return
        self._move_cursor(row_index(self.view, found))

    def action_explain(self) -> None:
        self.post_message(self.ExplainRequested())

    def action_copy_line(self) -> None:
        row = self.current_row()
        if row is None:
            return
        copy_text(self.app, row.text)
        toast(self, "line copied to the clipboard (OSC 52)", timeout=2)

    def action_pin_line(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.post_message(self.PinRequested(row.line))
        toast(self, "line pinned to the timeline", timeout=2)
