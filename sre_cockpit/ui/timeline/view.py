"""The timeline pane: shows the timeline feed's events; the incident clock; notes.

- Newest at the bottom (``ui.timeline_order``), absolute time in UTC or local time and ``T±``
  relative to the focused incident's start (else to the start of the incident the event belongs
  to), a colour and a symbol per kind. Events of a failing source stay, dimmed and marked
  ``▲ stale``; the source line says why.
- ``enter`` moves the whole cockpit to an event's moment (:class:`TimelinePane.MomentSelected`),
  ``[`` / ``]`` step through events, ``.`` returns to live.
- ``K`` cycles the kind filter (``k`` moves up, as in every table); ``/`` filters by text, ``/regex/``, ``!`` inverts, or by kinds
  with ``kind:deploy,note``.
- ``n`` asks for the note editor on the focused incident (:class:`TimelinePane.NoteRequested`);
  a note's delivery state is shown on its row; ``r`` saves notes the disk refused and re-sends
  the failed note under the cursor.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from sre_cockpit.core.loglines import RowFilter
from sre_cockpit.core.models import Incident, TimelineEvent, utcnow
from sre_cockpit.core.timeline import (
    FILTER_KINDS,
    format_time,
    neighbour,
    parse_kinds,
    relative_label,
)
from sre_cockpit.feeds.notes import NotesError
from sre_cockpit.feeds.timeline import TimelineSnapshot
from sre_cockpit.ui.messages import TimelineChanged
from sre_cockpit.ui.pane import Pane, PaneTable
from sre_cockpit.ui.plain import plain
from sre_cockpit.ui.themes import theme_colour
from sre_cockpit.ui.timeline.rows import (
    cells,
    incident_starts,
    shown_events,
    signature,
    start_of,
)
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.feeds.timeline import TimelineFeed

_KINDS_FILTER = re.compile(r"(?i)^kinds?:\s*(.*)$")


def column_widths(rows: Iterable[tuple[Text, ...]]) -> list[int]:
    """The widest cell of each column over ``rows`` (terminal cells)."""
    widths: list[int] = []
    for row in rows:
        for index, cell in enumerate(row):
            if index == len(widths):
                widths.append(0)
            widths[index] = max(widths[index], cell.cell_len)
    return widths


class TimelinePane(Pane):
    """Incident timeline, incident clock and durable notes."""

    PANE_TITLE = "Timeline"
    EMPTY_MESSAGE = "no timeline source configured"
    ITEM_NOUN: ClassVar[str] = "events"
    OPENS_DIALOG: ClassVar[frozenset[str]] = frozenset({"note"})
    """Run when the key is read; the keys read with it wait for the note editor."""

    DEFAULT_CSS = """
    TimelinePane > DataTable { height: 1fr; scrollbar-size-horizontal: 0; }
    TimelinePane > .timeline-status { height: 1; color: $text-muted; }
    TimelinePane > .timeline-status.-error { color: $error; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "step(-1)", "earlier event", id="timeline.previous"),
        Binding("right_square_bracket", "step(1)", "later event", id="timeline.next"),
        Binding("full_stop", "live", "back to live", id="timeline.live"),
        Binding("K", "cycle_kinds", "kinds", id="timeline.kinds"),
        Binding("n", "note", "note", id="timeline.note"),
        Binding("r", "retry", "retry note", id="timeline.retry"),
    ]

    MomentSelected = Pane.MomentRequested
    """enter / ``[`` / ``]`` choose a moment, ``.`` goes back to live (the app's state)."""
    NoteRequested = Pane.NoteRequested
    """``n``: a note on the focused incident."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.feed: TimelineFeed | None = None
        self.snapshot = TimelineSnapshot()
        self.focused: Incident | None = None
        """The focused incident (app-level state, see :meth:`show_focus`)."""
        self.moment: datetime | None = None
        """The moment the cockpit shows (app-level state, see :meth:`show_moment`)."""
        self.kind_index = 0
        self.kinds: frozenset[str] | None = None
        self.shown_events: list[TimelineEvent] = []
        """Events shown, oldest first (whatever the display order)."""
        self.status_error: str | None = None
        self._row_events: dict[str, TimelineEvent] = {}
        self._shown_signature: tuple[object, ...] | None = None
        self._shown_status: str | None = None
        self._problem_shown: str | None = None
        self._clock = utcnow

    # ----------------------------------------------------------------------------- compose

    def compose_body(self) -> Iterable[Widget]:
        table = PaneTable(cursor_type="row", zebra_stripes=False, id="timeline-table")
        table.add_column(Text("time"), key="time")
        table.add_column(Text("T±"), key="rel")
        table.add_column(Text("kind"), key="kind")
        table.add_column(Text("event"), key="event")
        yield table
        yield Static("", classes="timeline-status", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        """The event table."""
        return self.query_one("#timeline-table", DataTable)

    # ----------------------------------------------------------------------------- feeding

    def bind(self, feed: TimelineFeed) -> None:
        """Show ``feed`` (its current snapshot now, every later one as it comes)."""
        self.feed = feed
        self._clock = feed.runtime.clock
        self.set_clock(feed.runtime.clock)
        zone = format_time(self._clock(), feed.snapshot.timezone).rsplit(" ", 1)[-1]
        with contextlib.suppress(Exception):
            self.table.columns[ColumnKey("time")].label = Text(f" time {zone}")
        self.show(feed.snapshot)

    def changed_message(self, snapshot: TimelineSnapshot) -> TimelineChanged:
        return TimelineChanged(snapshot)

    def on_timeline_changed(self, message: TimelineChanged) -> None:
        message.stop()
        self.show(message.snapshot)

    def show(self, snapshot: TimelineSnapshot) -> None:
        """Render a snapshot."""
        self.snapshot = snapshot
        if snapshot.unconfigured:
            self.set_unconfigured(snapshot.unconfigured)
            return
        if self.focused is not None:  # the focused incident's latest version
            self.focused = next((i for i in snapshot.incidents if i.key == self.focused.key),
                                self.focused)
        self.show_sources(snapshot.sources)
        problem = snapshot.notes.problem
        if problem and problem != self._problem_shown:
            self._problem_shown = problem  # e.g. a damaged store was moved aside
            self.status_error = problem
            toast(self, problem, title="Notes", severity="warning", timeout=20)
        self.render_events()

    def show_focus(self, incident: Incident | None) -> None:
        """Follow an incident (its events; ``T±`` from its start), or every event (None)."""
        self.focused = incident
        self.render_events()

    def show_moment(self, at: datetime | None) -> None:
        """The cockpit shows ``at`` (marked ``▶``), or live (None)."""
        if at == self.moment:
            return
        self.moment = at
        self.render_events()
        self.refresh_bindings()

    # ----------------------------------------------------------------------------- filter

    @property
    def filter_hint(self) -> str:
        return "words, /regex/, ! inverts, or kind:deploy,note (kinds: trigger note deploy …)"

    def parse_filter(self, text: str) -> RowFilter:
        if _KINDS_FILTER.match(text.strip()):
            return RowFilter()  # kinds: applied in filter_changed
        return RowFilter.parse(text)

    def filter_changed(self) -> None:
        match = _KINDS_FILTER.match(self.filter_text)
        if match:
            self.kinds = parse_kinds(match.group(1))
        elif not self.filter_text:
            self.kinds = None
            self.kind_index = 0
        self.render_events()

    # ----------------------------------------------------------------------------- rendering

    def theme_changed(self) -> None:
        super().theme_changed()
        self.render_events()  # markers and note states carry the old theme's colours

    def _colour(self, name: str) -> str:
        return theme_colour(self.app, name)

    def current_events(self) -> list[TimelineEvent]:
        """The events shown now (focus, kinds and filter applied), oldest first."""
        events = shown_events(self.snapshot.events, self.snapshot.incidents,
                              focused=self.focused, kinds=self.kinds, text=None)
        if self.row_filter.text:
            events = [e for e in events
                      if self.row_filter.matches(f"{e.kind} {e.source} {e.text}")]
        return events

    def render_events(self) -> None:
        """Re-render the table (keeps the cursor on the same event when it is still there)."""
        if not self.is_mounted:
            return
        table = self.table
        self.shown_events = self.current_events()
        keep: str | None = None
        if table.row_count and table.cursor_row >= 0:
            with contextlib.suppress(Exception):
                keep = str(table.coordinate_to_cell_key(
                    Coordinate(table.cursor_row, 0)).row_key.value)
        rows = list(enumerate(self.shown_events))
        if self.snapshot.newest_first:
            rows.reverse()
        starts = incident_starts(self.snapshot.incidents) if self.focused is None else {}
        built = [(f"{index}:{event.id or ''}:{event.kind}:{event.at.isoformat()}", event,
                  cells(event, start=start_of(event, starts, self.focused),
                        timezone=self.snapshot.timezone,
                        moment=self.moment is not None and event.at == self.moment,
                        stale=event.source in self.snapshot.stale, colour=self._colour))
                 for index, event in rows]
        shown = tuple((key, signature(row)) for key, _, row in built)
        if self.filter_text:
            total = len(shown_events(self.snapshot.events, self.snapshot.incidents,
                                     focused=self.focused, kinds=None, text=None))
            self.show_filter_counts(len(self.shown_events), total)
        if shown == self._shown_signature and table.row_count == len(built):
            # nothing visible changed: a rebuild would repaint the whole table for nothing
            self._row_events = {key: event for key, event, _ in built}
            self._render_status()
            return
        self._shown_signature = shown
        table.clear()
        self._row_events.clear()
        for key, event, row in built:
            self._row_events[key] = event
            table.add_row(*row, key=key)
        # DataTable widens its columns to the new rows only when its own message queue goes
        # idle; once (a CI run, two workers) that never came and every column stayed as wide as
        # its label ("tim", "[fai…") for 20 s. The cells are measured here instead.
        for column, width in zip(table.ordered_columns, column_widths(row for _, _, row in built),
                                 strict=False):
            column.content_width = max(column.content_width, width)
        target = None
        if keep is not None and keep in self._row_events:
            target = list(self._row_events).index(keep)
        elif self.shown_events:
            target = 0 if self.snapshot.newest_first else len(self.shown_events) - 1
        if target is not None:
            table.move_cursor(row=target, animate=False, scroll=True)
        self._render_status()

    def show_status(self, message: str, *, error: bool = False) -> None:
        """The line under the table: focus, filter, notes problems."""
        self.status_error = message if error and message else None
        self._render_status()

    def _render_status(self) -> None:
        status = self.query_one(".timeline-status", Static)
        parts: list[str] = []
        here = self._event_at_cursor() if self.is_mounted else None
        if self.status_error:
            parts.append(self.status_error)
        elif here is not None and here.state and ":" in here.state:
            parts.append(f"note {here.state}")  # why it is pending / failed, whole
        else:
            if self.focused is not None:
                parts.append(f"incident {self.focused.key}")
            if self.kinds:
                parts.append("kinds: " + ",".join(sorted(self.kinds)))
            unsaved = self.snapshot.notes.unsaved
            if unsaved:
                parts.append(f"{unsaved} note(s) NOT SAVED — r retries")
            count = len(self.shown_events)
            parts.append(f"{count} event{'' if count == 1 else 's'}")
        line = "  ·  ".join(parts)
        if line != self._shown_status:  # Static.update lays out again: only on change
            self._shown_status = line
            status.update(plain(line))
        status.set_class(bool(self.status_error), "-error")

    # ----------------------------------------------------------------------------- actions

    def _event_at_cursor(self) -> TimelineEvent | None:
        table = self.table
        if not table.row_count:
            return None
        with contextlib.suppress(Exception):
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
            return self._row_events.get(str(key))
        return None

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        self._render_status()

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        event = self._row_events.get(str(message.row_key.value))
        if event is not None:
            self.select_moment(event)

    def label_for(self, at: datetime) -> str:
        """``14:03 UTC (T+12m)`` for the banner."""
        start = self.focused.started_at if self.focused is not None else None
        label = format_time(at, self.snapshot.timezone, seconds=False)
        rel = relative_label(at, start)
        return f"{label} ({rel})" if rel else label

    def select_moment(self, event: TimelineEvent) -> None:
        """Move the cockpit to ``event``'s moment."""
        self.post_message(self.MomentSelected(event.at, self.label_for(event.at)))
        self.show_moment(event.at)

    def action_step(self, step: int) -> None:
        """``[`` / ``]``: the previous / next event becomes the moment."""
        if not self.shown_events:
            return
        if self.moment is None:
            here = self._event_at_cursor()
            index: int | None = (self.shown_events.index(here) if here in self.shown_events
                                 else neighbour(self.shown_events, None, step))
        else:
            index = neighbour(self.shown_events, self.moment, step)
        if index is None:
            return
        event = self.shown_events[index]
        self.select_moment(event)
        row = (len(self.shown_events) - 1 - index) if self.snapshot.newest_first else index
        self.table.move_cursor(row=row, animate=False, scroll=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``.`` is only offered while a moment is shown."""
        if action == "live":
            return self.moment is not None
        return True

    def action_live(self) -> None:
        """``.``: back to live data everywhere."""
        if self.moment is not None:
            self.post_message(self.MomentSelected(None, ""))
            self.show_moment(None)

    def action_cycle_kinds(self) -> None:
        """``k``: all kinds → incident lifecycle → alerts → deploys → SLOs → notes → all."""
        self.kind_index = (self.kind_index + 1) % len(FILTER_KINDS)
        self.kinds = parse_kinds(FILTER_KINDS[self.kind_index])
        self.render_events()

    def action_note(self) -> None:
        """``n``: a note for the focused incident."""
        self.post_message(self.NoteRequested())

    def action_retry(self) -> None:
        """``r``: save the notes the disk refused, or re-send the failed note under the cursor."""
        if self.feed is None:
            return
        event = self._event_at_cursor()
        note_id = None
        if event is not None and event.source == "operator" and event.id and \
                (event.state or "").startswith("failed"):
            note_id = event.id.split(":", 1)[0]
        try:
            saved = self.feed.notes.retry(note_id)
        except NotesError as exc:
            self.show_status(f"{exc} — press r to retry", error=True)
            toast(self, str(exc), severity="error", timeout=10)
            return
        self.show_status("")
        if saved:
            toast(self, f"{saved} note(s) saved to the journal", timeout=4)
