"""The incidents pane: shows the incident feed's snapshot; acts through the feed.

Rows are keyed by ``Incident.key`` and updated in place (changed cells only, added/removed rows
only), so the cursor and scroll position survive every poll. The order is the feed's
(:func:`~sre_cockpit.feeds.incidents.incident_order`).

Keys (pane-local, remappable by id ``incidents.<name>``): ``a`` ack, ``r`` resolve, ``n`` note
(posts :class:`IncidentsPane.NoteRequested`), ``s`` silence, ``S``/``X`` expire silence, ``o`` copy
the URL (OSC 52, also through tmux) and show it as a link, ``x``/space select rows for a bulk
action, ``enter`` focus the incident (:class:`IncidentsPane.IncidentFocused`), ``escape`` clears
the filter, then the selection, then the focus. An action the target's provider lacks is greyed
out and pressing its key says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Static

from sre_cockpit.core.actions import ACTION_NAMES, ACTION_TITLES
from sre_cockpit.core.models import Incident, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.incidents import IncidentsSnapshot
from sre_cockpit.ui.clipboard import MAX_CLIPBOARD_BYTES, copy_text, safe_link
from sre_cockpit.ui.incidents.actions import run_action
from sre_cockpit.ui.incidents.table import (
    COLUMNS,
    KeyCell,
    column_widths,
    detail_text,
    empty_message,
    fit,
    oncall_text,
    row_cells,
    searchable,
    stale_providers,
)
from sre_cockpit.ui.messages import IncidentsChanged
from sre_cockpit.ui.pane import Pane, PaneTable
from sre_cockpit.ui.themes import theme_colour
from sre_cockpit.ui.toast import link, toast

if TYPE_CHECKING:
    from sre_cockpit.feeds.incidents import IncidentFeed


class IncidentsPane(Pane):
    """Merged incidents from every incident provider, with ack/resolve/note/silence actions."""

    PANE_TITLE: ClassVar[str] = "Incidents"
    EMPTY_MESSAGE: ClassVar[str] = "no incident provider configured"
    ITEM_NOUN: ClassVar[str] = "incidents"
    OPENS_DIALOG: ClassVar[frozenset[str]] = frozenset({"note"})
    """Run when the key is read; the keys read with it wait for the note editor (the app's
    key hold), so a note typed right after ``n`` lands in the editor."""

    DEFAULT_CSS = """
    IncidentsPane > DataTable { height: 1fr; }
    IncidentsPane > .incidents-empty { color: $text-muted; padding: 1 2; height: 1fr; }
    IncidentsPane > .incident-detail { height: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "ack", "Ack", id="incidents.ack"),
        Binding("r", "resolve", "Resolve", id="incidents.resolve"),
        Binding("n", "note", "Note", id="incidents.note"),
        Binding("s", "silence", "Silence", id="incidents.silence"),
        Binding("S,X", "expire_silence", "Unsilence", id="incidents.expire_silence"),
        Binding("o", "open_url", "Copy URL", id="incidents.open_url"),
        Binding("x,space", "toggle_select", "Select", id="incidents.select"),
        Binding("enter", "focus_incident", "Focus", id="incidents.focus"),
    ]

    IncidentFocused = Pane.FocusRequested
    """enter focuses an incident; escape leaves it (the app's state, see ``show_focus``)."""
    NoteRequested = Pane.NoteRequested
    """``n``: the note editor for the target incidents."""

    def __init__(self, *, name: str | None = None, id: str | None = "incidents",
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.feed: IncidentFeed | None = None
        self.snapshot = IncidentsSnapshot()
        """The last snapshot shown."""
        self.selected: set[str] = set()
        """Keys of rows selected for a bulk action."""
        self.focused_key: str | None = None
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._by_key: dict[str, Incident] = {}
        self._visible: list[Incident] = []
        self._widths = column_widths(80, 6)
        self._bindings_state: tuple[bool | None, ...] | None = None
        self._detail_shown: Text | None = None
        self.clock = utcnow

    # ------------------------------------------------------------------ composition

    def compose_body(self) -> Iterable[Widget]:
        yield PaneTable(id="incidents-table", cursor_type="row", zebra_stripes=False,
                        cell_padding=0)
        yield Static("", classes="incidents-empty")
        yield Static("", classes="incident-detail")

    @property
    def table(self) -> DataTable[Text]:
        """The incidents table."""
        return self.query_one("#incidents-table", DataTable)

    def on_mount(self) -> None:
        super().on_mount()
        for key, label in COLUMNS:
            self.table.add_column(fit(label, self._widths[key], "bold"), key=key,
                                  width=self._widths[key])
        self.query_one(".incidents-empty", Static).display = False

    # ------------------------------------------------------------------ feeding

    def bind(self, feed: IncidentFeed) -> None:
        """Show ``feed`` (its current snapshot now, every later one as it comes)."""
        self.feed = feed
        self.clock = feed.runtime.clock
        self.set_clock(feed.runtime.clock)
        self.show(feed.snapshot)

    def changed_message(self, snapshot: IncidentsSnapshot) -> IncidentsChanged:
        return IncidentsChanged(snapshot)

    def show_focus(self, incident: Incident | None) -> None:
        """Mark the cockpit's focused incident (``▶``)."""
        key = incident.key if incident is not None else None
        if key != self.focused_key:
            self.focused_key = key
            self._render_rows()

    def on_incidents_changed(self, message: IncidentsChanged) -> None:
        message.stop()
        self.show(message.snapshot)

    def show(self, snapshot: IncidentsSnapshot) -> None:
        """Render a snapshot."""
        self.snapshot = snapshot
        if snapshot.unconfigured and not snapshot.sources:
            self.set_unconfigured(snapshot.unconfigured)
            return
        self.show_sources(snapshot.sources, oncall_text(snapshot))
        self._render_rows()

    # ------------------------------------------------------------------ rendering

    def _colour(self, name: str) -> str:
        return theme_colour(self.app, name)

    def theme_changed(self) -> None:
        super().theme_changed()
        self._render_rows()  # the cells carry the old theme's severity colours

    def on_resize(self, event: events.Resize) -> None:
        self._layout_columns()

    def _layout_columns(self) -> bool:
        """Fit the columns to the pane's width; True when they changed."""
        ids = [len(sanitize_line(i.id)) for i in self.snapshot.incidents] or [6]
        widths = column_widths(self.size.width, max(ids))
        if widths == self._widths:
            return False
        self._widths = widths
        table = self.table
        labels = dict(COLUMNS)
        for key, column in table.columns.items():
            column.width = widths[str(key.value)]
            column.label = fit(labels[str(key.value)], column.width, "bold")
            column.auto_width = False
        self._cells.clear()
        table.clear()
        self._render_rows(relayout=False)
        table.refresh()
        return True

    def filter_changed(self) -> None:
        self._render_rows()

    def _render_rows(self, *, relayout: bool = True) -> None:
        """Update the table in place: remove gone rows, add new ones, change changed cells,
        re-order only if needed, and keep the cursor on the same incident."""
        if not self.is_mounted:
            return
        snapshot = self.snapshot
        if relayout and self.size.width and self._layout_columns():
            return  # _layout_columns rendered the rows
        incidents = snapshot.incidents
        self._by_key = {i.key: i for i in incidents}
        self.selected &= set(self._by_key)
        visible = [i for i in incidents if self.row_filter.matches(searchable(i))]
        self._visible = visible
        table = self.table
        current = self._cursor_key()
        now = self.clock()
        stale = stale_providers(snapshot)
        wanted = [i.key for i in visible]
        wanted_set = set(wanted)
        for key in list(self._cells):
            if key not in wanted_set:
                table.remove_row(key)
                del self._cells[key]
        col_keys = [c for c, _ in COLUMNS]
        for incident in visible:
            cells = row_cells(incident, widths=self._widths, now=now, colour=self._colour,
                              focused=self.focused_key, selected=self.selected, stale=stale)
            old = self._cells.get(incident.key)
            if old is None:
                table.add_row(*cells, key=incident.key)
            else:
                for col, new_cell, old_cell in zip(col_keys, cells, old, strict=True):
                    if new_cell != old_cell or new_cell.style != old_cell.style:
                        table.update_cell(incident.key, col, new_cell)
            self._cells[incident.key] = cells
        order = {key: n for n, key in enumerate(wanted)}
        if [str(r.key.value) for r in table.ordered_rows] != wanted:
            table.sort("id", key=lambda cell: order.get(
                cell.row_key if isinstance(cell, KeyCell) else "", 0))
        if current is not None and current in order:
            table.move_cursor(row=order[current], scroll=False)
        if self.filter_text:
            self.show_filter_counts(len(visible), len(incidents))
        self._render_empty(bool(visible))
        self._render_detail()
        self._refresh_bindings_if_changed()

    def _render_empty(self, any_visible: bool) -> None:
        empty = self.query_one(".incidents-empty", Static)
        table = self.table
        if any_visible:
            empty.display = False
            table.display = True
            if self.screen.focused is self:  # the pane held the keys over its empty state
                self.screen.set_focus(table)
            return
        empty.update(empty_message(self.snapshot, filtered=self.filter_text, now=self.clock()))
        empty.display = True
        if self.screen.focused is table:  # not has_focus: that is set by a later event
            self.screen.set_focus(self)  # the keys stay with the pane, not nowhere
        table.display = False

    def _render_detail(self) -> None:
        text = detail_text(self.cursor_incident(), len(self.selected))
        shown = self._detail_shown
        # Static.update lays out and repaints: only when the text changed
        if shown is not None and shown.plain == text.plain and shown.spans == text.spans:
            return
        self._detail_shown = text
        self.query_one(".incident-detail", Static).update(text)

    # ------------------------------------------------------------------ selection

    def _cursor_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:
            return None

    def cursor_incident(self) -> Incident | None:
        """The incident under the cursor (None when the table is empty or hidden)."""
        if not self.table.display:
            return None
        key = self._cursor_key()
        return self._by_key.get(key) if key is not None else None

    def target_incidents(self) -> tuple[Incident, ...]:
        """The selected rows that are shown (in table order), else the row under the cursor."""
        chosen = tuple(i for i in self._visible if i.key in self.selected)
        if chosen:
            return chosen
        incident = self.cursor_incident()
        return (incident,) if incident is not None else ()

    @property
    def filter_hint(self) -> str:
        return "words in id, title, service, assignee, labels; /regex/; ! inverts"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_detail()
        self._refresh_bindings_if_changed()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_focus_incident()

    # ------------------------------------------------------------------ action state

    def disabled_reason(self, action: str) -> str | None:
        """Why ``action`` cannot run on the current target (None when it can)."""
        return self.snapshot.disabled_reason(action, self.target_incidents())

    def _refresh_bindings_if_changed(self) -> None:
        """Rebuild the footer only when an action became (un)available: a footer rebuild costs
        ~30 ms, too much for every poll and every cursor move."""
        state = tuple(self.check_action(name, ()) for name in sorted(ACTION_NAMES))
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out (None) actions the current target's provider cannot do."""
        if action in ACTION_NAMES:
            try:
                return None if self.disabled_reason(action) else True
            except Exception:  # not mounted yet
                return True
        return True

    def on_key(self, event: events.Key) -> None:
        """A greyed-out action key says why it is disabled instead of doing nothing."""
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action not in ACTION_NAMES:
                continue
            keys = [k.strip() for k in binding.key.split(",")]
            if event.key in keys or (event.character is not None and event.character in keys):
                reason = self.disabled_reason(binding.action)
                if reason:
                    event.stop()
                    toast(self, reason, title=ACTION_TITLES[binding.action],
                          severity="warning")
                return

    # ------------------------------------------------------------------ actions

    def action_ack(self) -> None:
        """Acknowledge the target incidents."""
        self._start_action("ack")

    def action_resolve(self) -> None:
        """Resolve the target incidents."""
        self._start_action("resolve")

    def action_silence(self) -> None:
        """Silence the target alerts (a form for matchers and duration first)."""
        self._start_action("silence")

    def action_expire_silence(self) -> None:
        """Expire the silences of the target alerts."""
        self._start_action("expire_silence")

    def action_note(self) -> None:
        """Open the durable note editor for the target incidents (kept locally when their
        provider cannot take notes or the context is read-only)."""
        targets = self.target_incidents()
        if not targets:
            toast(self, "no incident under the cursor", title="Add note", severity="warning")
            return
        self.post_message(self.NoteRequested(targets))

    def _start_action(self, action: str) -> None:
        reason = self.disabled_reason(action)
        if reason or self.feed is None:
            toast(self, reason or "not connected to the incident feed",
                  title=ACTION_TITLES[action], severity="warning")
            return
        self.run_worker(self._act(action, self.target_incidents()), exclusive=True,
                        group="incidents-action", exit_on_error=False)

    async def _act(self, action: str, targets: Sequence[Incident]) -> None:
        assert self.feed is not None
        if await run_action(self.app, self.feed, action, targets):
            self.selected.clear()
            self._render_rows()

    def action_toggle_select(self) -> None:
        """Add/remove the cursor row to/from the bulk selection."""
        incident = self.cursor_incident()
        if incident is None:
            return
        self.selected.symmetric_difference_update({incident.key})
        self._render_rows()

    def action_focus_incident(self) -> None:
        """Focus the incident under the cursor: other panes narrow to it."""
        incident = self.cursor_incident()
        if incident is None:
            return
        self.post_message(self.IncidentFocused(incident))  # the app's state; see show_focus

    def escape_pressed(self) -> None:
        """``escape`` without a filter: clear the selection, else leave the focused incident."""
        if self.selected:
            self.selected.clear()
            self._render_rows()
            return
        if self.focused_key is None:
            return
        self.post_message(self.IncidentFocused(None))

    def action_open_url(self) -> None:
        """Copy the incident's URL to the clipboard (OSC 52; tmux passthrough when in tmux)
        and show it as a hyperlink."""
        incident = self.cursor_incident()
        if incident is None or not incident.url:
            toast(self, "this incident has no URL")
            return
        url = sanitize_line(incident.url)
        safe = safe_link(url)
        if safe is None:
            toast(self, f"not an http(s) URL, not copied: {url[:200]}", severity="warning")
            return
        if len(safe.encode()) > MAX_CLIPBOARD_BYTES:
            toast(self, f"URL longer than {MAX_CLIPBOARD_BYTES} bytes: not copied",
                  severity="warning")
            return
        copy_text(self.app, safe)
        toast(self, link("copied ", safe), title="URL")
