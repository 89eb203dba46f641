"""How the log view draws one row: Rich segments built directly (no Rich ``Text`` layout).

:class:`RowPainter` holds the styles of the current theme (level colours, the cursor, the
marker of a neutralised escape, filter/search matches) and builds a row's :class:`Strip`: an
optional ``HH:MM:SS.mmm`` stamp, an optional ``{labels}`` prefix, then the text cut into one
segment per style run. Structured rows (``s``) are laid out by
:class:`~sre_cockpit.ui.logs.structured.StructuredRows`. The painter reads the view's switches
(timestamps, labels, structured, UTC, focus) at each call; it keeps no row.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.color import Color, ColorParseError
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from sre_cockpit.core.loglines import (
    COLOUR_FALLBACK,
    LEVEL_NAMES,
    NONE,
    Row,
    format_labels,
    format_ts,
    row_level,
)
from sre_cockpit.ui.logs.structured import StructuredRows, continuation_indent
from sre_cockpit.ui.themes import theme_colour

if TYPE_CHECKING:
    from sre_cockpit.ui.logs.logview import LogView

__all__ = ["MARK_STYLE", "MATCH_STYLE", "RowPainter"]

MARK_STYLE = Style(dim=True, italic=True)
"""A neutralised escape sequence (``␛[31m``) in a line."""
MATCH_STYLE = Style(reverse=True, bold=True)
"""A filter or search match."""
_TS_STYLE = Style(dim=True)


class RowPainter:
    """Builds the strips of the rows of one :class:`LogView` (styles cached per theme)."""

    def __init__(self, view: LogView) -> None:
        self.view = view
        self.structured = StructuredRows()
        """``s``: logfmt/JSON lines laid out message-first (parsed only when drawn)."""
        self._styles: dict[str, Style] = {}
        self._styles_theme: str | None = None
        self._combo_cache: dict[tuple[Style, int, bool, bool, bool, bool], Style] = {}
        self.base_style: Style | None = None
        """The view's own style (``rich_style`` walks the DOM on every call: cached until the
        view's styles change)."""

    def base(self) -> Style:
        """The view's base style (cached)."""
        style = self.base_style
        if style is None:
            style = self.base_style = self.view.rich_style
        return style

    def style(self, name: str) -> Style:
        """A theme colour (``log-error``, ``accent``…) as a foreground style."""
        app = self.view.app
        theme = getattr(app, "theme", None)
        if theme != self._styles_theme:
            self._styles = {}
            self._combo_cache = {}
            self._styles_theme = theme
        style = self._styles.get(name)
        if style is None:
            variables: dict[str, str] = getattr(app, "theme_variables", {}) or {}
            colour = variables.get(name) or COLOUR_FALLBACK.get(name, "default")
            try:
                style = Style(color=Color.parse(colour))
            except ColorParseError:
                style = Style(color=Color.parse(COLOUR_FALLBACK.get(name, "default")))
            self._styles[name] = style
        return style

    def combined(self, base: Style, level: int, mark: bool, match: bool,
                 selected: bool) -> Style:
        """Base + level colour + marker/match/selection emphasis (cached per theme)."""
        view = self.view
        key = (base, level, mark, match, selected, view.has_focus)
        style = self._combo_cache.get(key)
        if style is None:
            level_name = LEVEL_NAMES.get(level)
            style = base + (self.style(f"log-{level_name}") if level_name else Style())
            if mark:
                style += MARK_STYLE
            if match:
                style += MATCH_STYLE
            if selected:  # the theme's table cursor (readable in every theme; not grey23)
                cursor = "block-cursor" if view.has_focus else "block-cursor-blurred"
                style += Style(color=theme_colour(view.app, f"{cursor}-foreground"),
                               bgcolor=theme_colour(view.app, f"{cursor}-background"),
                               bold=True)
            if len(self._combo_cache) > 256:
                self._combo_cache.clear()
            self._combo_cache[key] = style
        return style

    def matches(self, text: str) -> list[tuple[int, int]]:
        """Ranges of ``text`` the filter and the search highlight."""
        view = self.view
        found = view.line_filter.spans(text) if view.line_filter is not None else []
        if view.searcher.search is not None:
            found = [*found, *view.searcher.spans(text)]
        return found

    def structured_strip(self, row: Row, selected: bool) -> Strip | None:
        """A logfmt/JSON row laid out message-first (None: a plain line, drawn raw)."""
        parsed = self.structured.parsed(row.id, row.raw)
        if parsed is None:
            return None
        view = self.view
        base = self.combined(self.base(), NONE, False, False, selected)
        segments: list[Segment] = []
        cells = 0
        if view.show_labels and row.labels:
            labels = format_labels(row.labels) + " "
            segments.append(Segment(labels, base + self.style("accent")))
            cells += cell_len(labels)
        level_name = LEVEL_NAMES.get(parsed.level_class) or LEVEL_NAMES.get(row_level(row))
        level_style = self.style(f"log-{level_name}") if level_name else Style()
        body, body_cells = self.structured.segments(
            parsed, format_ts(row.ts_ns, utc=view.utc), base, level_style, self.matches,
            MATCH_STYLE)
        segments.extend(body)
        return Strip(segments, cells + body_cells)

    def strip(self, row: Row, selected: bool) -> Strip:
        """The whole row (uncropped): one segment per style run."""
        view = self.view
        if view.structured:
            strip = self.structured_strip(row, selected)
            if strip is not None:
                return strip
        base = self.base()
        segments: list[Segment] = []
        cells = 0
        if view.show_ts or view.structured:
            stamp = format_ts(row.ts_ns, utc=view.utc) + " "
            segments.append(Segment(stamp, base + _TS_STYLE))
            cells += len(stamp)
        if view.show_labels and row.labels:
            labels = format_labels(row.labels) + " "
            segments.append(Segment(labels, base + self.style("accent")))
            cells += cell_len(labels)
        text = row.text
        matches = self.matches(text)
        if not row.marks and not matches:
            segments.append(Segment(text, self.combined(base, row_level(row), False, False,
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
                segments.append(Segment(text[start:end], self.combined(
                    base, level, in_mark, in_match, selected)))
        return Strip(segments, cells + row.cells)

    def line(self, y: int) -> Strip:
        """Screen row ``y`` of the view, cropped to its width (``render_line``)."""
        view = self.view
        scroll_x = view.scroll_offset.x
        width = view.scrollable_content_region.width
        absolute = (view._follow_top() if view.follow else view._top) + y
        base = self.base()
        if absolute >= view._total_rows() or not view.view:
            return Strip.blank(width, base)
        index = view._entry_at_row(absolute)
        if index is None:
            return Strip.blank(width, base)
        row = view.view[index]
        selected = not view.follow and view.cursor == index
        strip = self.strip(row, selected)
        if view.wrap:
            sub = absolute - view._first_row_of(index)
            if view.structured and sub:  # continuations indented under the message
                indent = continuation_indent(width)
                start = width + (sub - 1) * (width - indent)
                return Strip.join([Strip.blank(indent, base),
                                   strip.crop_extend(start, start + width - indent, base)])
            start = sub * width
            return strip.crop_extend(start, start + width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
