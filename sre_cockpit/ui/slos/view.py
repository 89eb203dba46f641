"""The SLO pane: shows the SLO feed's snapshot, worst first; enter opens the detail view.

Row: name, objective, SLI, a budget gauge with percent, one burn-rate cell per window coloured by
the SLO's own thresholds, the state badge, when the budget is gone at the current 1h burn rate,
and a sparkline of the budget over the last day. Columns are dropped by priority when the pane is
narrow (at 80 columns: name, budget, 5m/1h/6h/1d burn, state, budget gone). The SLOs of the
focused incident's service come first. An SLO whose latest evaluation failed keeps its last good
figures, dimmed and marked ``stale <age>``; one that never evaluated says ``ERROR`` (not
``NODATA``: a PromQL error is not an absence of data).

The state badge keeps its colour on the cursor row (the cursor starts on the worst SLO, so a
cursor colour over the badge hid ``CRIT`` where it mattered most): the table lets the cells'
own foreground colours through, and the cursor row's other cells are drawn without theirs,
in the cursor's colours (coloured text on the cursor background is not readable in every
theme).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Span, Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Static

from sre_cockpit.core import slo as maths
from sre_cockpit.core.durations import humanize_age
from sre_cockpit.core.models import HealthState, Incident, SloState, SloStatus, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.slos import SloEntry, SlosSnapshot
from sre_cockpit.ui.messages import SlosChanged
from sre_cockpit.ui.pane import Pane, PaneTable
from sre_cockpit.ui.plain import plain
from sre_cockpit.ui.slos.detail import SloDetailScreen, describe, window_seconds
from sre_cockpit.ui.slos.format import (
    BADGES,
    STATE_VAR,
    Column,
    burn_for,
    cell,
    cell_key,
    exhaustion_text,
    fit_text,
    fmt_burn,
    fmt_objective,
    fmt_percent,
    gauge,
    layout_columns,
    sparkline,
)
from sre_cockpit.ui.themes import theme_colour

if TYPE_CHECKING:
    from sre_cockpit.feeds.slos import SloFeed


class SloPane(Pane):
    """SLO status with burn rates, budget and trend, worst first."""

    PANE_TITLE: ClassVar[str] = "SLOs"
    EMPTY_MESSAGE: ClassVar[str] = "no SLOs configured"
    ITEM_NOUN: ClassVar[str] = "SLOs"

    DEFAULT_CSS = """
    SloPane > DataTable { height: 1fr; }
    SloPane > .slo-waiting { color: $text-muted; padding: 1 2; height: auto; }
    SloPane > .slo-cursor-error { height: 1; }
    SloPane.-moment { border: round $slo-warning; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_detail", "Detail", id="slos.detail"),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = "slos",
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.feed: SloFeed | None = None
        self.snapshot = SlosSnapshot()
        """The last snapshot shown."""
        self.focused_service: str | None = None
        self._columns: list[Column] = []
        self._order: list[str] = []
        self._shown_cells: dict[str, list[Text]] = {}
        self._cursor_row: str | None = None
        """The SLO whose row was last drawn as the cursor row."""
        self._clock = utcnow

    # ------------------------------------------------------------------ composition

    def compose_body(self) -> Iterable[Widget]:
        # the cells' colours win on the cursor row: the state badge stays red/amber/green
        yield PaneTable(id="slo-table", cursor_type="row", zebra_stripes=False, cell_padding=0,
                        cursor_foreground_priority="renderable")
        yield Static("", classes="slo-waiting", markup=False)
        yield Static("", classes="slo-cursor-error", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        """The SLO table."""
        return self.query_one("#slo-table", DataTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(".slo-waiting", Static).display = False
        self.query_one(".slo-cursor-error", Static).display = False

    # ------------------------------------------------------------------ feeding

    def bind(self, feed: SloFeed) -> None:
        """Show ``feed`` (its current snapshot now, every later one as it comes)."""
        self.feed = feed
        self._clock = feed.runtime.clock
        self.set_clock(feed.runtime.clock)
        self.show(feed.snapshot)

    def changed_message(self, snapshot: SlosSnapshot) -> SlosChanged:
        return SlosChanged(snapshot)

    def show_focus(self, incident: Incident | None) -> None:
        """The focused incident's service's SLOs come first."""
        self.focus_service(incident.service if incident is not None else None)

    def on_slos_changed(self, message: SlosChanged) -> None:
        message.stop()
        self.show(message.snapshot)

    def show(self, snapshot: SlosSnapshot) -> None:
        """Render a snapshot."""
        self.snapshot = snapshot
        if snapshot.unconfigured and not snapshot.sources:
            self.set_unconfigured(snapshot.unconfigured)
            return
        self.set_class(snapshot.moment is not None, "-moment")
        self.show_sources(snapshot.sources, self._extra())
        self._refresh_rows()

    def focus_service(self, service: str | None) -> None:
        """Put that service's SLOs first (the app calls this when an incident is focused)."""
        self.focused_service = service
        self.show_sources(self.snapshot.sources, self._extra())
        self._refresh_rows()
        if self.table.row_count:
            self.table.move_cursor(row=0)

    def _extra(self) -> str:
        parts = []
        if self.snapshot.moment is not None:
            parts.append(f"as of {self.snapshot.moment.astimezone(UTC):%H:%M} UTC")
        if self.focused_service:
            parts.append(f"focus: {sanitize_line(self.focused_service)}")
        if self.snapshot.config_error:
            parts.append(f"slos_from: {self.snapshot.config_error}")
        return "  ".join(parts)

    # ------------------------------------------------------------------ rendering

    def colour(self, name: str) -> str:
        """A theme colour as a Rich colour."""
        return theme_colour(self.app, name)

    def theme_changed(self) -> None:
        super().theme_changed()
        self._refresh_rows()  # the cells carry the old theme's state colours

    def on_resize(self, event: events.Resize) -> None:
        self._refresh_rows()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._redraw_cursor_rows()
        self._render_cursor_error()

    def filter_changed(self) -> None:
        self._refresh_rows()

    @property
    def filter_hint(self) -> str:
        return "words in SLO name, service, state; /regex/; ! inverts"

    def _focused_names(self) -> frozenset[str]:
        if not self.focused_service:
            return frozenset()
        return self.snapshot.service_slos.get(self.focused_service, frozenset())

    def _sorted_entries(self) -> list[SloEntry]:
        focused = self._focused_names()
        entries = list(self.snapshot.entries)
        return ([e for e in entries if e.status.name in focused]
                + [e for e in entries if e.status.name not in focused])

    def _matches(self, status: SloStatus) -> bool:
        return self.row_filter.matches(
            f"{status.name} {status.service or ''} {status.state.value}")

    def _windows(self) -> list[str]:
        seen: dict[float, str] = {}
        sources = [e.status.burn_rates for e in self.snapshot.entries]
        sources += [dict.fromkeys(s.burn_windows) for s in self.snapshot.specs.values()]
        for rates in sources:
            for window in rates:
                try:
                    seen.setdefault(window_seconds(window, strict=True), window)
                except ValueError:
                    continue
        windows = [seen[k] for k in sorted(seen)]
        return windows or list(maths.DEFAULT_BURN_WINDOWS)

    def _refresh_rows(self) -> None:
        if not self.is_mounted:
            return
        table = self.table
        width = self.size.width or 80
        columns = layout_columns(width, self._windows())
        if columns != self._columns:
            self._columns = columns
            self._shown_cells = {}
            table.clear(columns=True)
            for col in columns:
                table.add_column(col.label, key=col.key, width=col.width)
        ordered = self._sorted_entries()
        entries = [e for e in ordered if self._matches(e.status)]
        current = self._cursor_name()
        now = self._clock()
        focused = self._focused_names()
        built = [(e.status.name, self._cells(e, now, e.status.name in focused,
                                             cursor=e.status.name == current))
                 for e in entries]
        self._cursor_row = current
        order = [name for name, _ in built]
        if order == self._order and table.row_count == len(built) and self._shown_cells:
            # same rows in the same order (every poll of an idle cockpit): change only the cells
            # that differ; clear() + add_row repainted the whole table on every poll
            for name, cells in built:
                old = self._shown_cells.get(name, [])
                for col, new_cell, old_cell in zip(self._columns, cells, old, strict=False):
                    if cell_key(new_cell) != cell_key(old_cell):
                        table.update_cell(name, col.key, new_cell)
        else:
            table.clear()
            for name, cells in built:
                table.add_row(*cells, key=name)
        self._shown_cells = dict(built)
        self._order = order
        if current in self._order:
            table.move_cursor(row=self._order.index(current), scroll=False)
        if self.filter_text:
            self.show_filter_counts(len(entries), len(ordered))
        self._render_waiting(bool(entries), bool(ordered))
        self._render_cursor_error()

    def _redraw_cursor_rows(self) -> None:
        """The cursor moved: draw the row it left with its colours, the row it is on without
        (but for the state badge)."""
        current = self._cursor_name()
        if current == self._cursor_row:
            return
        now = self._clock()
        focused = self._focused_names()
        for name in (self._cursor_row, current):
            entry = self.snapshot.entry(name) if name else None
            if entry is None or name not in self._shown_cells:
                continue
            cells = self._cells(entry, now, name in focused, cursor=name == current)
            for col, new_cell, old_cell in zip(self._columns, cells, self._shown_cells[name],
                                               strict=False):
                if cell_key(new_cell) != cell_key(old_cell):
                    self.table.update_cell(name, col.key, new_cell)
            self._shown_cells[name] = cells
        self._cursor_row = current

    def _render_waiting(self, any_shown: bool, any_entries: bool) -> None:
        table = self.table
        waiting = self.query_one(".slo-waiting", Static)
        if any_shown:
            waiting.display = False
            table.display = True
            if self.screen.focused is self:  # the pane held the keys over its empty state
                self.screen.set_focus(table)
            return
        if any_entries and self.filter_text:
            message = Text(f"no SLO matches the filter {sanitize_line(self.filter_text)!r} "
                           "— esc clears it")
        else:
            count = len(self.snapshot.specs)
            when = (f" as of {self.snapshot.moment.astimezone(UTC):%H:%M} UTC"
                    if self.snapshot.moment is not None else "")
            message = Text(f"evaluating {count} SLO{'s' if count != 1 else ''}{when}…")
            for source in self.snapshot.sources:
                if source.error and source.state is not HealthState.OK:
                    message.append(f"\n{sanitize_line(source.provider)}: "
                                   f"{sanitize_line(source.error)}",
                                   style=self.colour("slo-critical"))
        waiting.update(message)
        waiting.display = True
        if self.screen.focused is table:  # not has_focus: that is set by a later event
            self.screen.set_focus(self)  # the keys stay with the pane
        table.display = False

    def _render_cursor_error(self) -> None:
        """The highlighted SLO's error ("PromQL error: …", verbatim) on one line under the
        table, so it is read without opening the detail view; hidden for a healthy SLO."""
        line = self.query_one(".slo-cursor-error", Static)
        name = self._cursor_name()
        entry = self.snapshot.entry(name) if name else None
        error = None
        if entry is not None and self.table.display:
            error = entry.row.stale_error or entry.status.error
        if error:
            line.update(plain(error, self.colour("slo-critical"), no_wrap=True,
                              overflow="ellipsis"))
        line.display = bool(error)

    def _stale(self, entry: SloEntry) -> bool:
        source = next((s for s in self.snapshot.sources if s.provider == entry.provider), None)
        failing = source is not None and source.state in (HealthState.STALE, HealthState.ERROR)
        return entry.row.stale or (failing and entry.fetched_at is not None)

    def _cells(self, entry: SloEntry, now: datetime, focused: bool, *,
               cursor: bool = False) -> list[Text]:
        """The row of one SLO; on the cursor row (``cursor``) only the state badge keeps its
        colour."""
        cells = self._coloured_cells(entry, now, focused)
        if not cursor:
            return cells
        return [self._cursor_badge(text) if col.key == "state" else _colourless(text)
                for col, text in zip(self._columns, cells, strict=True)]

    def _cursor_badge(self, badge: Text) -> Text:
        """The state badge on the cursor row: drawn as on every other row (reversed: the
        state's colour behind text in the table's colour), its background given explicitly,
        since the cursor's would otherwise become the badge's text colour."""
        out = badge.copy()
        out.stylize(Style(bgcolor=self.colour("surface")))
        return out

    def _coloured_cells(self, entry: SloEntry, now: datetime, focused: bool) -> list[Text]:
        s = entry.status
        spec = self.snapshot.specs.get(s.name)
        rules = spec.rules if spec is not None else maths.default_rules(window_seconds(s.window))
        stale = self._stale(entry)
        errored = s.error is not None and s.sli is None and not stale
        dim = "dim" if stale else ""
        cells: list[Text] = []
        for col in self._columns:
            w = col.width
            if col.key == "name":
                suffix = ""
                if stale and entry.fetched_at is not None:
                    suffix = f" stale {humanize_age((now - entry.fetched_at).total_seconds())}"
                elif s.error:
                    suffix = " error"
                elif s.warnings:
                    suffix = " ⚠"  # engine warnings or notes: enter shows them
                room = max(1, w - 1 - len(suffix))
                text = Text(("▶ " if focused else "") + sanitize_line(s.name),
                            style="bold" if focused else "", no_wrap=True)
                text.truncate(room, overflow="ellipsis")
                if suffix:
                    text.append(suffix, style=self.colour("stale") if stale or not s.error
                                else self.colour("slo-critical"))
                cells.append(fit_text(text, w))
            elif col.key == "objective":
                cells.append(cell(fmt_objective(s.objective), w, dim, right=True))
            elif col.key == "sli":
                cells.append(cell(fmt_percent(s.sli, 3), w, dim, right=True))
            elif col.key == "budget":
                cells.append(self._budget_cell(s.error_budget_remaining, w, dim))
            elif col.key.startswith("burn:"):
                window = col.key[5:]
                value = burn_for(s.burn_rates, window)
                sev = maths.window_severity(window, value, rules)
                style = dim
                if sev in (SloState.CRITICAL, SloState.WARNING):
                    style = f"bold {self.colour(STATE_VAR[sev])} {dim}".strip()
                elif sev is SloState.NO_DATA:
                    style = self.colour("slo-nodata")
                cells.append(cell(fmt_burn(value), w, style, right=True))
            elif col.key == "state":
                cells.append(self._state_cell(s, w, stale=stale, errored=errored))
            elif col.key == "exhaust":
                gone = exhaustion_text(s, now)
                style = self.colour("slo-critical") if gone == "exhausted" else dim
                cells.append(cell(gone, w, style))
            elif col.key == "trend":
                cells.append(cell(sparkline(s.trend, w - 1), w, dim))
            else:  # pragma: no cover - every key above
                cells.append(cell("", w))
        return cells

    def _state_cell(self, s: SloStatus, width: int, *, stale: bool, errored: bool) -> Text:
        colour = self.colour("slo-critical" if errored else STATE_VAR[s.state])
        label = "ERROR" if errored else BADGES[s.state]
        label = f" {label} " if len(label) + 2 <= width - 1 else label
        badge = Text(label.ljust(width - 1)[: width - 1],
                     style=f"bold reverse {colour}" if not stale else f"reverse {colour} dim")
        badge.append(" ")
        return badge

    def _budget_cell(self, budget: float | None, width: int, dim: str) -> Text:
        # an overspent budget reads "-200.0%" (7 cells) or more: the gauge gives way to the
        # figure, which is never cut (it is the number the operator acts on)
        pct = fmt_percent(budget, 1 if budget is None or math.isnan(budget) or abs(budget) < 10
                          else 0)
        if budget is None or math.isnan(budget):
            colour = self.colour("slo-nodata")
        elif budget <= 0:
            colour = self.colour("slo-critical")
        elif budget < 0.25:
            colour = self.colour("slo-warning")
        else:
            colour = self.colour("slo-ok")
        figure = max(6, len(pct))
        bar_width = max(0, width - 2 - figure)
        text = Text(no_wrap=True)
        if bar_width >= 3:
            text.append(gauge(budget, bar_width), style=f"{colour} {dim}".strip())
            text.append(" ")
        text.append(pct.rjust(figure), style=f"{colour} {dim}".strip()
                    if budget is not None and budget <= 0 else dim)
        return fit_text(text, width)

    # ------------------------------------------------------------------ detail

    def _cursor_name(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:
            return None

    def cursor_status(self) -> SloStatus | None:
        """The SLO under the cursor."""
        name = self._cursor_name()
        entry = self.snapshot.entry(name) if name else None
        return entry.status if entry else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_detail()

    def action_open_detail(self) -> None:
        """Open the detail view of the SLO under the cursor."""
        name = self._cursor_name()
        entry = self.snapshot.entry(name) if name else None
        if entry is None or isinstance(self.app.screen, SloDetailScreen):
            return
        body = describe(entry.row, self.snapshot.specs.get(entry.status.name), self._clock(),
                        entry.fetched_at, self.colour)
        self.app.push_screen(SloDetailScreen(body, f"SLO {sanitize_line(entry.status.name)}"))


def _colourless(text: Text) -> Text:
    """``text`` with its colours taken out (bold, dim and the rest kept): on the cursor row it
    is drawn in the cursor's colours."""
    def plain_style(style: str | Style) -> Style:
        parsed = Style.parse(style) if isinstance(style, str) else style
        return parsed.without_color

    out = text.copy()
    out.style = plain_style(text.style)
    out.spans = [Span(span.start, span.end, plain_style(span.style)) for span in text.spans]
    return out
