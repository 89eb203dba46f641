"""The log pane: a live Loki tail that neither freezes nor lies, and that no log line can use to
drive the operator's terminal.

- :class:`LogView` is a line-API widget (``ScrollView`` + ``render_line``) over a bounded ring
  buffer (``ui.log_buffer_lines``). It is *not* ``Log(max_lines=…)``, which stops repainting once
  full (Textual 8.2.8), nor ``RichLog`` (far too slow at 1k lines/s).
- Lines arrive through :class:`~sre_cockpit.logstream.LogStream` in a worker; a timer drains them
  in batches at ``ui.log_repaint_hz`` (≤ 4 Hz, ≤ 1 Hz with ``--low-bandwidth``) so the bytes
  written to the terminal follow the repaint rate, not the line rate. Idle is idle: nothing is
  repainted when nothing changed.
- Every line is sanitised once on arrival (:func:`sre_cockpit.sanitize.scan`); neutralised
  sequences are dimmed; nothing external is ever parsed as markup.
- Keys (on the log view): ``space`` follow/pause (scrolling up pauses), ``w`` wrap, ``t``
  timestamps, ``u`` UTC/local, ``L`` labels, ``e``/``E`` next/previous error, ``l`` edit the
  LogQL query, ``c`` copy the line (OSC 52, wrapped for tmux), ``p`` pin it to the timeline.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.color import Color, ColorParseError
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from sre_cockpit.logstream import NS, LogStream, StreamMode, StreamStatus
from sre_cockpit.models import HealthState, LogLine, ProviderHealth
from sre_cockpit.providers.base import LogSource, ProviderError
from sre_cockpit.sanitize import sanitize_line, scan
from sre_cockpit.widgets.pane import Pane

if TYPE_CHECKING:
    from sre_cockpit.runtime import Runtime

ERROR, WARN, INFO, DEBUG, NONE = 0, 1, 2, 3, 4
_MARK_STYLE = Style(dim=True, italic=True)
_MATCH_STYLE = Style(reverse=True, bold=True)
_SELECTED_STYLE = Style(bgcolor="grey23", bold=True)
_TS_STYLE = Style(dim=True)
LEVEL_NAMES = {ERROR: "error", WARN: "warn", INFO: "info", DEBUG: "debug"}
_LEVEL_WORDS = {
    "fatal": ERROR, "panic": ERROR, "crit": ERROR, "critical": ERROR, "emerg": ERROR,
    "alert": ERROR, "error": ERROR, "err": ERROR, "eror": ERROR, "severe": ERROR,
    "warn": WARN, "warning": WARN, "wrn": WARN,
    "info": INFO, "information": INFO, "informational": INFO, "notice": INFO, "inf": INFO,
    "debug": DEBUG, "dbg": DEBUG, "trace": DEBUG, "verbose": DEBUG,
}
_KV_LEVEL = re.compile(r"""(?i)["']?\b(?:level|lvl|severity|loglevel|log_level)["']?\s*[=:]\s*["']?([A-Za-z]+)""")
_WORD_LEVEL = re.compile(r"\b(FATAL|PANIC|CRIT(?:ICAL)?|ERROR|ERR|WARN(?:ING)?|INFO|NOTICE|DEBUG|TRACE)\b")
_LEVEL_LABELS = ("level", "detected_level", "severity", "lvl")
COLOUR_FALLBACK = {"log-error": "#ff6b6b", "log-warn": "#ffd23f", "log-info": "#d8dee9",
                   "log-debug": "#7a8494", "accent": "#61afef", "stale": "#888888"}
TAB_SIZE = 4


def detect_level(line: str, labels: Any = None, metadata: Any = None) -> int:
    """The line's level: Loki labels/metadata first, then logfmt ``level=``, JSON ``"level"``,
    then common upper-case words (ERROR, WARN, …) near the start of the line."""
    for source in (metadata, labels):
        if source:
            for key in _LEVEL_LABELS:
                value = source.get(key)
                if value:
                    found = _LEVEL_WORDS.get(str(value).lower())
                    if found is not None:
                        return found
    head = line[:512]
    match = _KV_LEVEL.search(head)
    if match:
        found = _LEVEL_WORDS.get(match.group(1).lower())
        if found is not None:
            return found
    match = _WORD_LEVEL.search(head)
    if match:
        return _LEVEL_WORDS.get(match.group(1).lower(), NONE)
    return NONE


def clipboard_sequence(text: str, *, tmux: bool) -> str:
    """OSC 52 "set clipboard" for ``text``; inside tmux wrapped in a DCS passthrough
    (``ESC P tmux; … ESC \\`` with inner ESCs doubled)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    osc = f"\x1b]52;c;{payload}\x07"
    if not tmux:
        return osc
    return "\x1bPtmux;" + osc.replace("\x1b", "\x1b\x1b") + "\x1b\\"


@dataclass(slots=True)
class LineFilter:
    """``/`` filter: substring (smart case) or ``/regex/``; ``!`` in front inverts."""

    text: str
    pattern: re.Pattern[str] | None
    invert: bool

    @classmethod
    def parse(cls, text: str) -> LineFilter | None:
        """None for an empty filter.

        Raises:
            ValueError: for an invalid regular expression (message fit for a toast).
        """
        raw = text.strip()
        if not raw:
            return None
        invert = raw.startswith("!")
        body = raw[1:] if invert else raw
        if not body:
            return None
        if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
            try:
                pattern = re.compile(body[1:-1])
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        else:
            flags = 0 if any(ch.isupper() for ch in body) else re.IGNORECASE
            pattern = re.compile(re.escape(body), flags)
        return cls(raw, pattern, invert)

    def matches(self, text: str) -> bool:
        """Whether a (sanitised) line is shown."""
        assert self.pattern is not None
        found = self.pattern.search(text) is not None
        return found != self.invert

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Match ranges to highlight (none for an inverted filter)."""
        if self.invert or self.pattern is None:
            return []
        return [(m.start(), m.end()) for m in self.pattern.finditer(text) if m.end() > m.start()]


@dataclass(slots=True)
class Row:
    """One buffered entry, sanitised once (no LogLine kept: 100k rows must stay small)."""

    id: int
    ts_ns: int
    raw: str
    """The line as received, capped at the pane's max line bytes (a 1 MiB line is not kept)."""
    labels: Mapping[str, str]
    metadata: Mapping[str, str]
    text: str
    marks: tuple[tuple[int, int], ...]
    level: int
    cells: int

    @property
    def line(self) -> LogLine:
        """The entry as a :class:`LogLine` (for pins)."""
        return LogLine(self.ts_ns, self.raw, self.labels, self.metadata)


def make_row(row_id: int, line: LogLine, max_bytes: int) -> Row:
    """Sanitise and classify one line (tabs expanded so cells line up)."""
    raw = line.line
    if len(raw) * 4 > max_bytes:
        data = raw.encode("utf-8", "surrogatepass")
        if len(data) > max_bytes:
            raw = data[:max_bytes].decode("utf-8", "ignore")
    shown = raw.expandtabs(TAB_SIZE) if "\t" in raw else raw
    result = scan(shown, max_bytes=None)
    text = result.text
    marks = result.marks
    cut = len(line.line.encode("utf-8", "surrogatepass")) - len(raw.encode("utf-8", "surrogatepass")) \
        if raw is not line.line else 0
    if cut:
        suffix = f"…+{cut} bytes"
        marks = (*marks, (len(text), len(text) + len(suffix)))
        text += suffix
    return Row(row_id, line.ts_ns, raw, line.labels, line.metadata, text, marks,
               detect_level(raw, line.labels, line.metadata), cell_len(text))


def format_ts(ts_ns: int, *, utc: bool) -> str:
    """``HH:MM:SS.mmm`` in UTC or local time."""
    moment = datetime.fromtimestamp(ts_ns / NS, tz=UTC)
    if not utc:
        moment = moment.astimezone()
    return moment.strftime("%H:%M:%S.") + f"{(ts_ns // 1_000_000) % 1000:03d}"


def format_labels(labels: Any) -> str:
    """``{app=x,pod=y}`` (sanitised) or empty."""
    if not labels:
        return ""
    inner = ",".join(f"{sanitize_line(k, max_bytes=64)}={sanitize_line(v, max_bytes=128)}"
                     for k, v in sorted(labels.items()))
    return "{" + inner + "}"


class LogView(ScrollView, can_focus=True):
    """Line-API view over a bounded ring buffer of :class:`Row`."""

    DEFAULT_CSS = """
    LogView { height: 1fr; width: 1fr; background: $surface; overflow-x: hidden;
              overflow-y: hidden; scrollbar-size-vertical: 1; }
    LogView.-paused { overflow-y: scroll; }
    LogView:focus { background-tint: $foreground 4%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_follow", "follow/pause", id="logs.follow"),
        Binding("w", "toggle_wrap", "wrap", id="logs.wrap"),
        Binding("t", "toggle_timestamps", "timestamps", id="logs.timestamps"),
        Binding("u", "toggle_utc", "UTC/local", id="logs.utc"),
        Binding("L", "toggle_labels", "labels", id="logs.labels"),
        Binding("e", "next_error", "next error", id="logs.next_error"),
        Binding("E", "previous_error", "previous error", id="logs.previous_error"),
        Binding("l", "edit_query", "LogQL", id="logs.query"),
        Binding("c", "copy_line", "copy", id="logs.copy"),
        Binding("p", "pin_line", "pin", id="logs.pin"),
        Binding("up", "cursor(-1)", "up", show=False, id="logs.up"),
        Binding("down", "cursor(1)", "down", show=False, id="logs.down"),
        Binding("pageup", "page(-1)", "page up", show=False, id="logs.page_up"),
        Binding("pagedown", "page(1)", "page down", show=False, id="logs.page_down"),
        Binding("home", "home", "oldest", show=False, id="logs.home"),
        Binding("left", "sideways(-8)", "left", show=False, id="logs.left"),
        Binding("right", "sideways(8)", "right", show=False, id="logs.right"),
        Binding("end", "end", "newest", show=False, id="logs.end"),
    ]

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
        self.cursor: int | None = None  # index into view when paused
        self.new_while_paused = 0
        self.total_appended = 0
        self._next_id = 0
        self._max_cells = 0
        self._cum: list[int] = []  # wrap mode: cumulative rows through view[i] (absolute)
        self._cum_base = 0
        self._programmatic = 0
        self._synced_at = 0.0
        self._styles: dict[str, Style] = {}
        self._styles_theme: str | None = None
        self._combo_cache: dict[tuple[Style, int, bool, bool, bool], Style] = {}
        self.on_state_change: Callable[[], None] | None = None

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
        screen_rows = lo
        if self.wrap and self._cum:
            new_base = self._cum[lo - 1]
            screen_rows = new_base - self._cum_base
            self._cum_base = new_base
            del self._cum[:lo]
        return lo, screen_rows

    def _row_width(self, row: Row) -> int:
        return self._prefix_cells(row) + row.cells

    def _rows_for(self, row: Row, width: int) -> int:
        return max(1, -(-self._row_width(row) // max(1, width)))

    def _extend_view(self, rows: list[Row]) -> None:
        if not rows:
            return
        self.view.extend(rows)
        for row in rows:
            self._max_cells = max(self._max_cells, self._row_width(row))
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
        self.view = [r for r in source if self._visible(r)]
        self._max_cells = max((self._row_width(r) for r in self.view), default=0)
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
        """Keep the scroll geometry in step with the rows.

        ``virtual_size`` is a layout reactive in Textual: every change re-lays out the screen
        and repaints far more than this widget. While following, rows are drawn from the end
        and the scrollbar is hidden, so the geometry is only touched when the width grows past
        a 256-column step. While paused, it is synced at most once a second (and on pause).
        """
        rows = self._total_rows()
        height = self.scrollable_content_region.height
        width = self._wrap_width() if self.wrap else -(-max(1, self._max_cells) // 256) * 256
        self._programmatic += 1
        try:
            if self.follow:
                if force or width != self.virtual_size.width:
                    self.virtual_size = Size(width, max(rows, height))
                return
            now = time.monotonic()
            if force or now - self._synced_at >= 1.0:
                self._synced_at = now
                if self.virtual_size != Size(width, rows):
                    self.virtual_size = Size(width, rows)
            if keep_anchor_rows:
                self.scroll_to(y=max(0, self.scroll_y - keep_anchor_rows), animate=False,
                               immediate=True, force=True)
        finally:
            self._programmatic -= 1

    @property
    def allow_vertical_scroll(self) -> bool:
        """Scrolling stays possible while the scrollbar is hidden (follow mode)."""
        return not self._check_disabled()

    @property
    def allow_horizontal_scroll(self) -> bool:
        """Long lines scroll sideways with ←/→ even though no scrollbar is drawn."""
        return not self._check_disabled() and not self.wrap

    def _follow_top(self) -> int:
        """First row drawn while following: the newest rows fill the view."""
        return max(0, self._total_rows() - self.scrollable_content_region.height)

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap:
            self.rebuild()
        else:
            self._update_virtual_size()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # the user scrolled up (a resize clamping the offset to the new bottom is not that)
        if (not self._programmatic and self.follow and new_value < old_value - 0.5
                and new_value < self.max_scroll_y - 0.5):
            self.set_follow(False)

    def set_follow(self, follow: bool) -> None:
        """Follow the newest line, or pause (the view stays where it is)."""
        if follow == self.follow:
            return
        top = self._follow_top() if self.follow else int(self.scroll_y)
        self.follow = follow
        self.set_class(not follow, "-paused")
        self.new_while_paused = 0
        if follow:
            self.cursor = None
            self._update_virtual_size(force=True)
        else:
            self._update_virtual_size(force=True)
            self._programmatic += 1
            try:
                self.scroll_to(y=top, animate=False, immediate=True, force=True)
            finally:
                self._programmatic -= 1
            if self.cursor is None and self.view:
                height = self.scrollable_content_region.height
                self.cursor = self._entry_at_row(top + max(0, height - 1))
        self.refresh()
        if self.on_state_change is not None:
            self.on_state_change()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.follow:
            self.set_follow(False)

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
        cells = 13 if self.show_ts else 0
        if self.show_labels and row.labels:
            cells += cell_len(format_labels(row.labels)) + 1
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

    def _combined(self, base: Style, level: int, mark: bool, match: bool,
                  selected: bool) -> Style:
        """Base + level colour + marker/match/selection emphasis (cached per theme)."""
        key = (base, level, mark, match, selected)
        style = self._combo_cache.get(key)
        if style is None:
            level_name = LEVEL_NAMES.get(level)
            style = base + (self._style(f"log-{level_name}") if level_name else Style())
            if mark:
                style += _MARK_STYLE
            if match:
                style += _MATCH_STYLE
            if selected:
                style += _SELECTED_STYLE
            if len(self._combo_cache) > 256:
                self._combo_cache.clear()
            self._combo_cache[key] = style
        return style

    def _row_strip(self, row: Row, selected: bool) -> Strip:
        """Segments built directly (no Rich Text layout): one per style run."""
        base = self.rich_style
        segments: list[Segment] = []
        cells = 0
        if self.show_ts:
            stamp = format_ts(row.ts_ns, utc=self.utc) + " "
            segments.append(Segment(stamp, base + _TS_STYLE))
            cells += len(stamp)
        if self.show_labels and row.labels:
            labels = format_labels(row.labels) + " "
            segments.append(Segment(labels, base + self._style("accent")))
            cells += cell_len(labels)
        text = row.text
        matches = self.line_filter.spans(text) if self.line_filter is not None else []
        if not row.marks and not matches:
            segments.append(Segment(text, self._combined(base, row.level, False, False,
                                                         selected)))
        else:
            cuts = {0, len(text)}
            for start, end in (*row.marks, *matches):
                cuts.add(start)
                cuts.add(end)
            points = sorted(c for c in cuts if 0 <= c <= len(text))
            for start, end in itertools.pairwise(points):
                if end <= start:
                    continue
                in_mark = any(a <= start < b for a, b in row.marks)
                in_match = any(a <= start < b for a, b in matches)
                segments.append(Segment(text[start:end], self._combined(
                    base, row.level, in_mark, in_match, selected)))
        return Strip(segments, cells + row.cells)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        absolute = (self._follow_top() if self.follow else scroll_y) + y
        base = self.rich_style
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

    def _scroll_to_entry(self, index: int) -> None:
        first = self._first_row_of(index)
        height = self.scrollable_content_region.height or 1
        if not self.follow:
            self._update_virtual_size(force=True)
        self._programmatic += 1
        try:
            if first < self.scroll_y:
                self.scroll_to(y=first, animate=False, immediate=True, force=True)
            elif first >= self.scroll_y + height:
                self.scroll_to(y=first - height + 1, animate=False, immediate=True, force=True)
        finally:
            self._programmatic -= 1

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
            if self.view[index].level == ERROR:
                self._move_cursor(index)
                return
            index += step
        self.app.notify("no more errors in the buffer", timeout=2)

    def action_next_error(self) -> None:
        self._find_error(1)

    def action_previous_error(self) -> None:
        self._find_error(-1)

    def _toggle(self, attr: str) -> None:
        setattr(self, attr, not getattr(self, attr))
        self.rebuild()
        if self.on_state_change is not None:
            self.on_state_change()

    def action_toggle_wrap(self) -> None:
        self._toggle("wrap")

    def action_toggle_timestamps(self) -> None:
        self._toggle("show_ts")

    def action_toggle_labels(self) -> None:
        self._toggle("show_labels")

    def action_toggle_utc(self) -> None:
        self.utc = not self.utc
        self.refresh()
        if self.on_state_change is not None:
            self.on_state_change()

    def action_edit_query(self) -> None:
        pane = self._pane()
        if pane is not None:
            pane.open_query_editor()

    def action_copy_line(self) -> None:
        row = self.current_row()
        if row is None:
            return
        copy_text(self.app, row.text)
        self.app.notify("line copied to the clipboard (OSC 52)", timeout=2)

    def action_pin_line(self) -> None:
        row = self.current_row()
        pane = self._pane()
        if row is None or pane is None:
            return
        pane.post_message(LogPane.PinRequested(row.line))
        self.app.notify("line pinned to the timeline", timeout=2)

    def _pane(self) -> LogPane | None:
        for node in self.ancestors:
            if isinstance(node, LogPane):
                return node
        return None


def copy_text(app: Any, text: str) -> None:
    """Copy to the system clipboard with OSC 52 through Textual's driver; inside tmux also the
    passthrough-wrapped form (Textual's ``copy_to_clipboard`` does not wrap for tmux)."""
    app.copy_to_clipboard(text)
    if os.environ.get("TMUX"):
        driver = getattr(app, "_driver", None)  # no public accessor in Textual 8.2.8
        if driver is not None:
            driver.write(clipboard_sequence(text, tmux=True))


class LogStatus(Widget):
    """One line: mode, lines/s, buffered, drops, last reconnect (re-rendered only on change)."""

    DEFAULT_CSS = """
    LogStatus { height: 1; width: 1fr; color: $text-muted; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.content = Text("connecting…")

    def set_text(self, text: Text) -> None:
        """Repaint only if the text changed (no layout pass: fixed height)."""
        if text.plain != self.content.plain or text.spans != self.content.spans:
            self.content = text
            self.refresh()

    def render(self) -> Text:
        return self.content


class LogPane(Pane):
    """Live logs of the context's Loki provider."""

    PANE_TITLE = "Logs"
    EMPTY_MESSAGE = "no log provider configured — add one (type: loki) under contexts.<ctx>.providers"

    DEFAULT_CSS = """
    LogPane > LogStatus { dock: bottom; }
    LogPane > #log-query { dock: bottom; display: none; height: 3; }
    LogPane > #log-query.-open { display: block; }
    """

    class PinRequested(Message):
        """``p``: pin this line to the timeline."""

        def __init__(self, line: LogLine) -> None:
            super().__init__()
            self.line = line

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.view = LogView(id="log-view")
        self.view.on_state_change = self._render_status
        self.status_line = LogStatus(id="log-status")
        self.source: LogSource | None = None
        self.source_name = ""
        self.stream: LogStream | None = None
        self.logql = ""
        self.base_query = ""
        self.repaint_hz = 4.0
        self._timer: Timer | None = None
        self._moment: datetime | None = None
        self._query_error: str | None = None
        self._last_health: tuple[Any, ...] | None = None
        self._generation = 0

    def compose_body(self) -> Iterable[Widget]:
        yield self.view
        yield self.status_line
        yield Input(placeholder="LogQL, e.g. {app=\"checkout\"} |= \"error\"", id="log-query")

    @property
    def filter_hint(self) -> str:
        return "substring, /regex/, ! to invert"

    # ------------------------------------------------------------------------ attach

    def attach(self, runtime: Runtime) -> None:
        """Start streaming from the context's first log provider."""
        super().attach(runtime)
        ui = runtime.config.ui
        self.view.max_lines = ui.log_buffer_lines
        self.view.max_line_bytes = ui.log_max_line_bytes
        self.view.utc = ui.timezone == "utc"
        self.view.show_labels = ui.show_labels
        low = bool(getattr(self.app, "low_bandwidth", False)) or ui.low_bandwidth
        self.repaint_hz = min(ui.log_repaint_hz, 1.0 if low else 4.0)
        sources = runtime.of(LogSource)  # type: ignore[type-abstract]
        if not sources:
            broken = [n for n, t in runtime.types.items() if t == "loki" and n in runtime.build_errors]
            if broken:
                self.set_unconfigured(f"log provider {broken[0]!r} could not be built: "
                                      f"{runtime.build_errors[broken[0]]}")
            else:
                self.set_unconfigured(self.EMPTY_MESSAGE.replace("<ctx>", runtime.context_name))
            return
        self.source_name, self.source = next(iter(sources.items()))
        self.base_query = self.source.default_query
        self._start(self.base_query)
        self._timer = self.set_interval(1.0 / self.repaint_hz, self._tick)

    def _start(self, query: str, *, backfill: bool = True) -> None:
        """(Re)start the stream for ``query``; the buffer restarts with it."""
        assert self.source is not None
        self._generation += 1
        self.workers.cancel_group(self, "logs-stream")
        self.logql = query
        self._query_error = None
        self.stream = LogStream.for_provider(
            self.source, query, since_s=300 if backfill else 0,
            backfill_limit=min(1000, self.view.max_lines) if backfill else 0,
            wall=self.runtime.clock if self.runtime is not None else _utcnow)
        self.view.ring.clear()
        self.view.rebuild()
        stream, generation = self.stream, self._generation

        async def job() -> None:
            await self._run_stream(stream, generation)

        self.run_worker(job, exit_on_error=False, group="logs-stream")  # type: ignore[arg-type]
        self._render_status()

    async def _run_stream(self, stream: LogStream, generation: int) -> None:
        try:
            await stream.run()
        except ProviderError as exc:
            if generation == self._generation:
                self._query_error = str(exc)
                self._render_status()

    # -------------------------------------------------------------------------- tick

    def _tick(self) -> None:
        stream = self.stream
        if stream is not None:
            lines = stream.drain()
            if lines:
                self.view.append(lines)
                self.view.refresh()
        self._render_status()

    def _render_status(self) -> None:
        stream = self.stream
        view = self.view
        status: StreamStatus | None = stream.status if stream is not None else None
        text = Text(no_wrap=True, overflow="ellipsis")
        if self._query_error:
            text.append("✖ error ", style=self._colour("log-error"))
            text.append(sanitize_line(self._query_error))
            self.status_line.set_text(text)
            if status is not None:
                self._report_health(status)
            return
        if self._moment is not None:
            text.append(f"◆ moment {self._moment:%H:%M:%S} UTC", style="bold")
        elif not view.follow:
            text.append("‖ paused", style=self._colour("log-warn"))
            if view.new_while_paused:
                text.append(f" — {view.new_while_paused:,} new lines ↓ (space)")
        elif status is None:
            text.append("○ idle")
        else:
            mode = status.mode
            style = {StreamMode.LIVE: "green", StreamMode.POLLING: "yellow",
                     StreamMode.RECONNECTING: "yellow", StreamMode.ERROR: "red"}.get(mode, "")
            text.append(f"● {mode.value}", style=style)
            if mode is StreamMode.POLLING and status.detail:
                text.append(f" ({sanitize_line(status.detail)})")
        if status is not None:
            text.append(f"  {status.lines_per_s:,.0f}/s  buffered {len(view.ring):,}")
            text.append(f"  dropped {status.dropped_server:,} server / "
                        f"{status.dropped_client:,} client")
            if status.last_reconnect is not None:
                text.append(f"  reconnected {status.last_reconnect:%H:%M:%S}")
        else:
            text.append(f"  buffered {len(view.ring):,}")
        if view.line_filter is not None:
            text.append(f"  filter {sanitize_line(view.line_filter.text)}")
        self.status_line.set_text(text)
        if status is not None:
            self._report_health(status)

    def _report_health(self, status: StreamStatus) -> None:
        key = (status.mode, status.last_error, self._query_error)
        if key == self._last_health:
            return
        self._last_health = key
        state = {StreamMode.LIVE: HealthState.OK, StreamMode.POLLING: HealthState.OK,
                 StreamMode.CONNECTING: HealthState.PENDING,
                 StreamMode.RECONNECTING: HealthState.STALE}.get(status.mode, HealthState.ERROR)
        clock = self.runtime.clock if self.runtime is not None else _utcnow
        self.set_health(ProviderHealth(
            provider=self.source_name or "logs", state=state,
            last_ok_at=clock() if state is HealthState.OK else None,
            checked_at=clock(), error=self._query_error or status.last_error,
            mode=status.mode.value))

    def _colour(self, name: str) -> Style:
        return self.view._style(name)

    # ------------------------------------------------------------------------ public

    def apply_filter(self, text: str) -> None:
        """``/``: substring (smart case), ``/regex/``, ``!`` inverts; empty clears."""
        try:
            self.view.line_filter = LineFilter.parse(text)
        except ValueError as exc:
            self.app.notify(sanitize_line(str(exc)), severity="error", timeout=5)
            return
        self.view.rebuild()
        self._render_status()

    def focus_service(self, service: str | None, selector: str | None) -> None:
        """Show the service's logs (its ``logs`` selector), or the default query for None."""
        if self.source is None:
            return
        query = selector if (service is not None and selector) else self.base_query
        if query != self.logql:
            self._start(query)

    def show_moment(self, at: datetime | None) -> None:
        """Pause and show the lines around ``at`` (range query); None returns to live."""
        self._moment = at
        if at is None:
            self.view.moment_rows = None
            self.view.follow = True
            self.view.rebuild()
            self._render_status()
            return
        self.view.set_follow(False)
        self._render_status()
        if self.source is not None:
            self.run_worker(self._load_moment(at), exit_on_error=False, group="logs-moment",
                            exclusive=True)

    async def _load_moment(self, at: datetime) -> None:
        assert self.source is not None
        centre = int(at.timestamp() * NS)
        window = 15 * 60 * NS
        try:
            before = await self.source.query_range(self.logql, centre - window, centre + 1,
                                                   limit=200, direction="backward")
            after = await self.source.query_range(self.logql, centre + 1, centre + window,
                                                  limit=200, direction="forward")
        except ProviderError as exc:
            self.app.notify(sanitize_line(str(exc)), severity="error", timeout=6)
            return
        if self._moment != at:
            return
        rows = [make_row(i, line, self.view.max_line_bytes)
                for i, line in enumerate(before + after)]
        self.view.moment_rows = rows
        self.view.follow = False
        self.view.rebuild()
        self.view.cursor = max(0, min(len(before) - 1, len(rows) - 1)) if rows else None
        if self.view.cursor is not None:
            self.view._scroll_to_entry(self.view.cursor)
        self._render_status()

    # ----------------------------------------------------------------------- query

    def open_query_editor(self) -> None:
        """``l``: edit the LogQL query."""
        editor = self.query_one("#log-query", Input)
        editor.value = self.logql
        editor.add_class("-open")
        editor.focus()

    def _close_query_editor(self) -> None:
        editor = self.query_one("#log-query", Input)
        editor.remove_class("-open")
        self.view.focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.query_one("#log-query", Input).has_focus:
            event.stop()
            self._close_query_editor()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "log-query":
            return
        event.stop()
        query = event.value.strip()
        self._close_query_editor()
        if not query or query == self.logql or self.source is None:
            return
        self.run_worker(self._try_query(query), exit_on_error=False, group="logs-query",
                        exclusive=True)

    async def _try_query(self, query: str) -> None:
        """Validate with a tiny range query; on a Loki error keep the old query."""
        assert self.source is not None
        now = _now_ns()
        try:
            await self.source.query_range(query, now - 300 * NS, now, limit=1)
        except ProviderError as exc:
            message = sanitize_line(str(exc))
            self.app.notify(f"{message} — keeping the previous query", severity="error",
                            timeout=8)
            return
        self._start(query)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _now_ns() -> int:
    import time

    return time.time_ns()
