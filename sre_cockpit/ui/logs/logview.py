"""The log view: a line-API widget (``ScrollView`` + ``render_line``) over a bounded ring buffer.

Not ``Log(max_lines=…)``, which stops repainting once full (Textual 8.2.8), nor ``RichLog`` (far
too slow at 1k lines/s). Rows are drawn from the end while following, so new lines never cost a
layout pass; the scroll geometry (a layout reactive in Textual) is only synced when paused.

The view knows nothing of its pane: ``p`` and ``i`` post :class:`LogView.PinRequested` and
:class:`LogView.ExplainRequested`; the pane sets ``on_state_change`` to hear of follow/pause and
cursor moves and ``on_edit_query`` to open its query editor at once (``l`` is routed when its key
is read, so the keys typed next must already find the editor: a message would come too late).
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.color import Color, ColorParseError
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sre_cockpit.core.loglines import (
    COLOUR_FALLBACK,
    ERROR,
    LEVEL_NAMES,
    NONE,
    LineFilter,
    Row,
    format_labels,
    format_ts,
    make_row,
    row_level,
)
from sre_cockpit.core.models import LogLine
from sre_cockpit.ui.clipboard import copy_text
from sre_cockpit.ui.logs.search import SearchState, row_index
from sre_cockpit.ui.logs.structured import StructuredRows, continuation_indent
from sre_cockpit.ui.themes import theme_colour
from sre_cockpit.ui.toast import toast

_MARK_STYLE = Style(dim=True, italic=True)
_MATCH_STYLE = Style(reverse=True, bold=True)
_TS_STYLE = Style(dim=True)


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
        self.ring: deque[Row] = deque()
        self.moment_rows: list[Row] | None = None
        self.view: list[Row] = []
        self.line_filter: LineFilter | None = None
        self.follow = True
        self.wrap = False
        self.show_ts = False
        self.utc = True
        self.show_labels = False
        self.structured = False
        """``s``: logfmt/JSON lines laid out message-first (parsed only when drawn)."""
        self._structured = StructuredRows()
        self.cursor: int | None = None  # index into view when paused
        self.new_while_paused = 0
        self.total_appended = 0
        self._next_id = 0
        self._max_text = 0
        self._max_label = 0
        self._label_widths: dict[int, tuple[Mapping[str, str], int]] = {}
        self._cum: list[int] = []  # wrap mode: cumulative rows through view[i] (absolute)
        self._cum_base = 0
        self._top = 0  # first row drawn while paused (own offset: no layout passes)
        self._styles: dict[str, Style] = {}
        self._styles_theme: str | None = None
        self._logview_base_style: Style | None = None
        self._combo_cache: dict[tuple[Style, int, bool, bool, bool, bool], Style] = {}
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
        skipped = 0
        if len(lines) > self.max_lines:
            skipped = len(lines) - self.max_lines
            self._next_id += skipped
            lines = lines[-self.max_lines:]
        rows = []
        for line in lines:
            rows.append(make_row(self._next_id, line, self.max_line_bytes))
            self._next_id += 1
        ring = self.ring
        ring.extend(rows)
        evicted = skipped
        while len(ring) > self.max_lines:
            ring.popleft()
            evicted += 1
        if self.moment_rows is not None:
            return evicted
        first_id = ring[0].id
        removed_rows = self._drop_view_before(first_id)
        shown = [r for r in rows if r.id >= first_id and self._visible(r)]
        self._extend_view(shown)
        if not self.follow:
            self.new_while_paused += len(shown)
            if self.cursor is not None:
                self.cursor = max(0, self.cursor - removed_rows[0])
        self._update_virtual_size(keep_anchor_rows=removed_rows[1])
        return evicted

    def _visible(self, row: Row) -> bool:
        return self.line_filter is None or self.line_filter.matches(row.text)

    def _drop_view_before(self, first_id: int) -> tuple[int, int]:
        """Remove evicted rows from the front of the view; (entries, screen rows) removed."""
        view = self.view
        if not view or view[0].id >= first_id:
            return 0, 0
        lo, hi = 0, len(view)
        while lo < hi:
            mid = (lo + hi) // 2
            if view[mid].id < first_id:
                lo = mid + 1
            else:
                hi = mid
        del view[:lo]
        self.searcher.drop_before(first_id)
        screen_rows = lo
        if self.wrap and self._cum:
            new_base = self._cum[lo - 1]
            screen_rows = new_base - self._cum_base
            self._cum_base = new_base
            del self._cum[:lo]
        return lo, screen_rows

    def _row_width(self, row: Row) -> int:
        return self._prefix_cells(row) + row.cells

    def _label_cells(self, labels: Mapping[str, str]) -> int:
        """Width of a label set's ``{…} `` prefix (label sets are shared objects: cached)."""
        key = id(labels)
        found = self._label_widths.get(key)
        if found is None or found[0] is not labels:
            if len(self._label_widths) > 4096:
                self._label_widths.clear()
            found = (labels, cell_len(format_labels(labels)) + 1)
            self._label_widths[key] = found
        return found[1]

    @property
    def _max_cells(self) -> int:
        """Widest row: an upper bound from the widest text and the widest prefix seen."""
        prefix = (13 if self.show_ts or self.structured else 0) + (
            self._max_label if self.show_labels else 0)
        return prefix + self._max_text

    def _rows_for(self, row: Row, width: int) -> int:
        cells = self._row_width(row)
        if self.structured:  # continuation rows indented under the message
            rest = max(0, cells - width)
            return 1 + -(-rest // max(1, width - continuation_indent(width)))
        return max(1, -(-cells // max(1, width)))

    def _extend_view(self, rows: list[Row]) -> None:
        if not rows:
            return
        self.view.extend(rows)
        self.searcher.extend(rows)
        self._max_text = max(self._max_text, max(row.cells for row in rows))
        if self.show_labels:
            self._max_label = max(self._max_label,
                                  max(self._label_cells(r.labels) if r.labels else 0 for r in rows))
        if self.wrap:
            width = self._wrap_width()
            total = self._cum[-1] if self._cum else self._cum_base
            for row in rows:
                total += self._rows_for(row, width)
                self._cum.append(total)

    def rebuild(self) -> None:
        """Recompute the view (filter, wrap, prefixes changed)."""
        source: Iterable[Row] = self.moment_rows if self.moment_rows is not None else self.ring
        anchor = self._anchor_id()
        line_filter = self.line_filter
        self.view = list(source) if line_filter is None else \
            [r for r in source if line_filter.matches(r.text)]
        self.searcher.recompute(self.view)
        self._structured.clear()  # a moment's rows reuse ids: parse again what is drawn
        self._max_text = max((r.cells for r in self.view), default=0)
        self._max_label = 0
        if self.show_labels:
            seen: dict[int, Mapping[str, str]] = {}
            for row in self.view:
                if row.labels:
                    seen.setdefault(id(row.labels), row.labels)
            self._max_label = max((self._label_cells(lb) for lb in seen.values()), default=0)
        self._cum = []
        self._cum_base = 0
        if self.wrap:
            width = self._wrap_width()
            total = 0
            for row in self.view:
                total += self._rows_for(row, width)
                self._cum.append(total)
        self.cursor = None
        if anchor is not None and not self.follow:
            ids = [r.id for r in self.view]
            pos = bisect.bisect_left(ids, anchor)
            self.cursor = min(pos, len(self.view) - 1) if self.view else None
        self._update_virtual_size(force=True)
        self._top = min(self._top, self._follow_top())
        if self.cursor is not None:
            self._scroll_to_entry(self.cursor)
        self.refresh()

    def _anchor_id(self) -> int | None:
        if self.cursor is not None and 0 <= self.cursor < len(self.view):
            return self.view[self.cursor].id
        return None

    # ------------------------------------------------------------------------- layout

    def _wrap_width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 80)

    def _total_rows(self) -> int:
        if self.wrap:
            return (self._cum[-1] - self._cum_base) if self._cum else 0
        return len(self.view)

    def _update_virtual_size(self, keep_anchor_rows: int = 0, *, force: bool = False) -> None:
        """Keep the geometry in step with the rows without layout passes.

        ``virtual_size`` is a layout reactive in Textual: every change re-lays out the whole
        screen. The vertical position is therefore this widget's own (``_top``, rows drawn from
        the end while following) and only the width is published, in 256-column steps, for
        sideways scrolling of long lines.
        """
        width = self._wrap_width() if self.wrap else -(-max(1, self._max_cells) // 256) * 256
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

    def _style(self, name: str) -> Style:
        theme = getattr(self.app, "theme", None)
        if theme != self._styles_theme:
            self._styles = {}
            self._combo_cache = {}
            self._styles_theme = theme
        style = self._styles.get(name)
        if style is None:
            variables: dict[str, str] = getattr(self.app, "theme_variables", {}) or {}
            colour = variables.get(name) or COLOUR_FALLBACK.get(name, "default")
            try:
                style = Style(color=Color.parse(colour))
            except ColorParseError:
                style = Style(color=Color.parse(COLOUR_FALLBACK.get(name, "default")))
            self._styles[name] = style
        return style

    def _prefix_cells(self, row: Row) -> int:
        cells = 13 if self.show_ts or self.structured else 0
        if self.show_labels and row.labels:
            cells += self._label_cells(row.labels)
        return cells

    def _entry_at_row(self, y: int) -> int | None:
        if not self.view:
            return None
        if not self.wrap:
            return min(max(0, y), len(self.view) - 1)
        index = bisect.bisect_right(self._cum, y + self._cum_base)
        return min(index, len(self.view) - 1)

    def _first_row_of(self, index: int) -> int:
        if not self.wrap:
            return index
        return (self._cum[index - 1] if index > 0 else self._cum_base) - self._cum_base

    def _base_style(self) -> Style:
        """``rich_style`` walks the DOM on every call (~0.3 ms): cache it until styles change."""
        style = self._logview_base_style
        if style is None:
            style = self._logview_base_style = self.rich_style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._logview_base_style = None

    def _combined(self, base: Style, level: int, mark: bool, match: bool,
                  selected: bool) -> Style:
        """Base + level colour + marker/match/selection emphasis (cached per theme)."""
        key = (base, level, mark, match, selected, self.has_focus)
        style = self._combo_cache.get(key)
        if style is None:
            level_name = LEVEL_NAMES.get(level)
            style = base + (self._style(f"log-{level_name}") if level_name else Style())
            if mark:
                style += _MARK_STYLE
            if match:
                style += _MATCH_STYLE
            if selected:  # the theme's table cursor (readable in every theme; not grey23)
                cursor = "block-cursor" if self.has_focus else "block-cursor-blurred"
                style += Style(color=theme_colour(self.app, f"{cursor}-foreground"),
                               bgcolor=theme_colour(self.app, f"{cursor}-background"),
                               bold=True)
            if len(self._combo_cache) > 256:
                self._combo_cache.clear()
            self._combo_cache[key] = style
        return style

    def _matches(self, text: str) -> list[tuple[int, int]]:
        """Ranges of ``text`` the filter and the search highlight."""
        found = self.line_filter.spans(text) if self.line_filter is not None else []
        if self.searcher.search is not None:
            found = [*found, *self.searcher.spans(text)]
        return found

    def _structured_strip(self, row: Row, selected: bool) -> Strip | None:
        """A logfmt/JSON row laid out message-first (None: a plain line, drawn raw)."""
        parsed = self._structured.parsed(row.id, row.raw)
        if parsed is None:
            return None
        base = self._combined(self._base_style(), NONE, False, False, selected)
        segments: list[Segment] = []
        cells = 0
        if self.show_labels and row.labels:
            labels = format_labels(row.labels) + " "
            segments.append(Segment(labels, base + self._style("accent")))
            cells += cell_len(labels)
        level_name = LEVEL_NAMES.get(parsed.level_class) or LEVEL_NAMES.get(row_level(row))
        level_style = self._style(f"log-{level_name}") if level_name else Style()
        body, body_cells = self._structured.segments(
            parsed, format_ts(row.ts_ns, utc=self.utc), base, level_style, self._matches,
            _MATCH_STYLE)
        segments.extend(body)
        return Strip(segments, cells + body_cells)

    def _row_strip(self, row: Row, selected: bool) -> Strip:
        """Segments built directly (no Rich Text layout): one per style run."""
        if self.structured:
            strip = self._structured_strip(row, selected)
            if strip is not None:
                return strip
        base = self._base_style()
        segments: list[Segment] = []
        cells = 0
        if self.show_ts or self.structured:
            stamp = format_ts(row.ts_ns, utc=self.utc) + " "
            segments.append(Segment(stamp, base + _TS_STYLE))
            cells += len(stamp)
        if self.show_labels and row.labels:
            labels = format_labels(row.labels) + " "
            segments.append(Segment(labels, base + self._style("accent")))
            cells += cell_len(labels)
        text = row.text
        matches = self._matches(text)
        if not row.marks and not matches:
            segments.append(Segment(text, self._combined(base, row_level(row), False, False,
                                                         selected)))
        else:
            cuts = {0, len(text)}
            for start, end in (*row.marks, *matches):
                cuts.add(start)
                cuts.add(end)
            points = sorted(c for c in cuts if 0 <= c <= len(text))
            level = row_level(row)
            for start, end in itertools.pairwise(points):
                if end <= start:
                    continue
                in_mark = any(a <= start < b for a, b in row.marks)
                in_match = any(a <= start < b for a, b in matches)
                segments.append(Segment(text[start:end], self._combined(
                    base, level, in_mark, in_match, selected)))
        return Strip(segments, cells + row.cells)

    def render_line(self, y: int) -> Strip:
        scroll_x = self.scroll_offset.x
        width = self.scrollable_content_region.width
        absolute = (self._follow_top() if self.follow else self._top) + y
        base = self._base_style()
        if absolute >= self._total_rows() or not self.view:
            return Strip.blank(width, base)
        index = self._entry_at_row(absolute)
        if index is None:
            return Strip.blank(width, base)
        row = self.view[index]
        selected = not self.follow and self.cursor == index
        strip = self._row_strip(row, selected)
        if self.wrap:
            sub = absolute - self._first_row_of(index)
            if self.structured and sub:  # continuations indented under the message
                indent = continuation_indent(width)
                start = width + (sub - 1) * (width - indent)
                return Strip.join([Strip.blank(indent, base),
                                   strip.crop_extend(start, start + width - indent, base)])
            start = sub * width
            return strip.crop_extend(start, start + width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

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
                self._max_label = max((self._label_cells(lb) for lb in seen.values()),
                                      default=self._max_label)
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
        self.searcher.set(search, self.view)
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
