"""The incidents pane: shows the incident feed's snapshot; acts through the feed.

The snapshot is arranged (:func:`~sre_cockpit.feeds.arrange.arrange`: sort, groups, "mine",
the ``/`` filter) and handed to an :class:`~sre_cockpit.ui.incidents.grid.IncidentTable`, which
draws only the rows on screen: an alert flood of thousands of rows costs one sort per poll, a
poll that brings the same data repaints nothing, and the cursor stays on its incident.

Keys (pane-local, remappable by id ``incidents.<name>``): ``a`` ack, ``r`` resolve, ``n`` note
(posts :class:`IncidentsPane.NoteRequested`), ``s`` silence, ``S``/``X`` expire silence, ``A``
reassign, ``E`` escalate, ``Z`` snooze, ``U`` status update, ``d`` describe (every field;
copy any of them), ``b`` runbook (copy the link, shown as a hyperlink), ``o`` copy the URL,
``x``/space select rows for a bulk action (on a group row: the whole group), ``enter`` focus
the incident (:class:`IncidentsPane.IncidentFocused`; like k9s, enter drills in and ``d``
describes) or, on a group row, collapse/expand it, ``t``/``T`` sort by the next key / reverse,
``v`` group, ``V`` collapse/expand every group, ``m`` mine first → only → off. ``escape``
clears the filter, then "mine only", then the selection, then the focus. An action the target's
provider lacks is greyed out and pressing its key says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from sre_cockpit.core.actions import ACTION_NAMES, ACTION_TITLES
from sre_cockpit.core.models import Incident, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.arrange import (
    Arranged,
    Arrangement,
    Group,
    MineMode,
    Row,
    SortKey,
    arrange,
)
from sre_cockpit.feeds.incidents import IncidentsSnapshot
from sre_cockpit.ui.incidents.actions import run_action
from sre_cockpit.ui.incidents.arrange_keys import ArrangementKeys
from sre_cockpit.ui.incidents.grid import IncidentTable, LineWidget
from sre_cockpit.ui.incidents.links import copy_runbook, copy_url
from sre_cockpit.ui.incidents.rows import RowLayout
from sre_cockpit.ui.incidents.table import (
    cell_texts,
    detail_text,
    empty_message,
    group_detail,
    group_text,
    header_text,
    join_cells,
    next_row_change,
    oncall_text,
    searchable,
)
from sre_cockpit.ui.messages import IncidentsChanged
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.themes import theme_colour
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.feeds.incidents import IncidentFeed


class IncidentsPane(Pane, ArrangementKeys):
    """Merged incidents from every incident provider, with their actions."""

    PANE_TITLE: ClassVar[str] = "Incidents"
    EMPTY_MESSAGE: ClassVar[str] = "no incident provider configured"
    ITEM_NOUN: ClassVar[str] = "incidents"
    OPENS_DIALOG: ClassVar[frozenset[str]] = frozenset({"note"})
    """Run when the key is read; the keys read with it wait for the note editor (the app's
    key hold), so a note typed right after ``n`` lands in the editor."""

    DEFAULT_CSS = """
    IncidentsPane > IncidentTable { height: 1fr; }
    IncidentsPane > .incidents-empty { color: $text-muted; padding: 1 2; height: 1fr; }
    IncidentsPane > .incident-detail { height: 1; color: $text-muted; text-wrap: nowrap;
                                       text-overflow: ellipsis; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "ack", "Ack", id="incidents.ack"),
        Binding("r", "resolve", "Resolve", id="incidents.resolve"),
        Binding("n", "note", "Note", id="incidents.note"),
        Binding("d", "describe", "Describe", id="incidents.describe"),
        Binding("s", "silence", "Silence", id="incidents.silence"),
        Binding("S,X", "expire_silence", "Unsilence", id="incidents.expire_silence"),
        Binding("A", "reassign", "Reassign", id="incidents.reassign"),
        Binding("E", "escalate", "Escalate", id="incidents.escalate"),
        Binding("Z", "snooze", "Snooze", id="incidents.snooze"),
        Binding("U", "status_update", "Status update", id="incidents.status_update"),
        Binding("b", "runbook", "Runbook", id="incidents.runbook"),
        Binding("o", "open_url", "Copy URL", id="incidents.open_url"),
        Binding("x,space", "toggle_select", "Select", id="incidents.select"),
        Binding("enter", "focus_incident", "Focus", id="incidents.focus"),
        Binding("t", "sort", "Sort", id="incidents.sort"),
        Binding("T", "reverse_sort", "Reverse", id="incidents.sort_reverse"),
        Binding("v", "group", "Group", id="incidents.group"),
        Binding("V", "collapse_all", "Collapse all", id="incidents.collapse_all"),
        Binding("m", "mine", "Mine", id="incidents.mine"),
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
        """Keys of incidents selected for a bulk action."""
        self.focused_key: str | None = None
        self.arrangement = Arrangement()
        """Sort, groups and "mine", kept across polls."""
        self.arranged = Arranged()
        """What the table shows now."""
        self.columns = RowLayout()
        """The table's columns: measured per snapshot, fitted per width."""
        self._bindings_state: tuple[bool | None, ...] | None = None
        self._subtitle_shown: str | None = None
        self._arranged_from: tuple[object, ...] | None = None
        self.clock = utcnow

    # ------------------------------------------------------------------ composition

    def compose_body(self) -> Iterable[Widget]:
        yield IncidentTable(id="incidents-table")
        yield Static("", classes="incidents-empty")
        yield LineWidget(classes="incident-detail")

    @property
    def table(self) -> IncidentTable:
        """The incidents table."""
        return self.query_one("#incidents-table", IncidentTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.render_row = self._render_row
        self.table.highlighted = self._highlighted
        self.table.next_change = lambda rows: next_row_change(rows, self.clock())
        self.query_one(".incidents-empty", Static).display = False
        self._show_arrangement()

    # ------------------------------------------------------------------ feeding

    def bind(self, feed: IncidentFeed) -> None:
        """Show ``feed`` (its current snapshot now, every later one as it comes); the sort,
        groups and "mine" start as the config's ``ui.incident_*`` say."""
        self.feed = feed
        self.clock = feed.runtime.clock
        self.set_clock(feed.runtime.clock)
        ui = feed.runtime.config.ui
        self.arrangement = replace(
            self.arrangement, sort=SortKey(ui.incident_sort),
            group_by=tuple(ui.incident_group_by), grouped=ui.incident_grouped,
            mine=MineMode(ui.incident_mine), user=feed.snapshot.user)
        self.show(feed.snapshot)

    def changed_message(self, snapshot: IncidentsSnapshot) -> IncidentsChanged:
        return IncidentsChanged(snapshot)

    def show_focus(self, incident: Incident | None) -> None:
        """Mark the cockpit's focused incident (``▶``)."""
        key = incident.key if incident is not None else None
        if key != self.focused_key:
            self.focused_key = key
            if self.is_mounted:
                self.table.redraw()  # the marker only: the rows and their order are the same

    def on_incidents_changed(self, message: IncidentsChanged) -> None:
        message.stop()
        self.show(message.snapshot)

    def show(self, snapshot: IncidentsSnapshot) -> None:
        """Render a snapshot."""
        self.snapshot = snapshot
        self.columns.measure(snapshot)
        if snapshot.user != self.arrangement.user:
            self.arrangement = replace(self.arrangement, user=snapshot.user)
        if snapshot.unconfigured and not snapshot.sources:
            self.border_subtitle = self._subtitle_shown = None  # nothing to sort: no sort
            self.set_unconfigured(snapshot.unconfigured)
            return
        self.show_sources(snapshot.sources, oncall_text(snapshot))
        self._render_rows()

    # ------------------------------------------------------------------ rendering

    def _colour(self, name: str) -> str:
        return theme_colour(self.app, name)

    def theme_changed(self) -> None:
        super().theme_changed()
        if self.is_mounted:
            self.table.clear_cache()  # the drawn lines carry the old theme's severity colours
        self._render_rows()

    def on_resize(self, event: events.Resize) -> None:
        self._render_rows()  # fit the new width; before the feed is bound: the first render

    def _layout_columns(self) -> bool:
        """Fit the columns to the width inside the border; True when they changed."""
        if not self.columns.fit(self.content_size.width):
            return False
        self.table.clear_cache()  # called only once mounted (by _render_rows)
        self._show_arrangement()
        return True

    def _render_row(self, row: Row) -> Text:
        """How one row reads (the table asks only for rows on screen)."""
        now = self.clock()
        if isinstance(row, Group):
            return group_text(row, width=self.columns.line_width, now=now,
                              colour=self._colour, user=self.arrangement.user,
                              selected=self.selected)
        return join_cells(self.columns.cells(row, now=now, colour=self._colour,
                                             focused=self.focused_key, selected=self.selected))

    def cells(self, key: str) -> dict[str, str]:
        """The text of each cell of an incident's row (tests, and what a person reads)."""
        row = self.table.row(key)
        if not isinstance(row, Incident):
            return {}
        return cell_texts(self.columns.cells(row, now=self.clock(), colour=self._colour,
                                             focused=self.focused_key, selected=self.selected))

    def filter_changed(self) -> None:
        self._render_rows()

    def _render_rows(self) -> None:
        """Arrange the snapshot and show it: the table repaints only lines that changed."""
        if not self.is_mounted or (self.snapshot.unconfigured and not self.snapshot.sources):
            return  # not mounted yet, or set_unconfigured says why there is nothing to show
        if self.content_size.width:
            self._layout_columns()
        basis = (self.snapshot.incidents, self.arrangement, self.filter_text)
        if basis != self._arranged_from:  # the same incidents, choices and filter: the same rows
            matches = ((lambda i: self.row_filter.matches(searchable(i)))
                       if self.filter_text else None)
            self.arranged = arrange(self.snapshot.incidents, self.arrangement, matches=matches)
            self._arranged_from = basis
        arranged = self.arranged
        if self.selected:
            self.selected &= {i.key for i in arranged.matched}
        self.table.set_rows(arranged.rows)
        self._show_arrangement()
        self._show_counts()
        self._render_empty(bool(arranged.rows))
        self._render_detail()
        self._refresh_bindings_if_changed()

    def _show_counts(self) -> None:
        arranged = self.arranged
        mine_only = self.arrangement.mine is MineMode.ONLY
        self.filter_extra = (f"mine only ({sanitize_line(self.arrangement.user) or 'no user'})"
                             if mine_only else "")
        if self.filter_text or mine_only:
            self.show_filter_counts(len(arranged.matched), arranged.total,
                                    arranged.collapsed_note())
        else:
            self._render_filter_bar()

    def _show_arrangement(self) -> None:
        """The sort arrow in the header and the arrangement on the pane's bottom border (once
        there is something to arrange)."""
        how = self.arrangement
        self.table.set_header(header_text(self.columns.widths, how.sort, how.descending))
        if not self.snapshot.sources:
            return
        summary = how.summary()
        if summary != self._subtitle_shown:  # setting it repaints the whole pane, always
            self._subtitle_shown = summary
            self.border_subtitle = Text(summary)

    def _render_empty(self, any_visible: bool) -> None:
        empty = self.query_one(".incidents-empty", Static)
        table = self.table
        if any_visible:
            empty.display = False
            table.display = True
            if self.screen.focused is self:  # the pane held the keys over its empty state
                self.screen.set_focus(table)
            return
        empty.update(empty_message(self.snapshot, filtered=self.filter_text, now=self.clock(),
                                   mine_only=self.arrangement.mine is MineMode.ONLY))
        empty.display = True
        if self.screen.focused is table:  # not has_focus: that is set by a later event
            self.screen.set_focus(self)  # the keys stay with the pane, not nowhere
        table.display = False

    def _render_detail(self) -> None:
        row = self.cursor_row()
        text = (group_detail(row, len(self.selected)) if isinstance(row, Group)
                else detail_text(row, len(self.selected), self.columns.id_prefix))
        self.query_one(".incident-detail", LineWidget).show(text)

    # ------------------------------------------------------------------ cursor, selection

    def cursor_row(self) -> Row | None:
        """The row under the cursor (an incident or a group; None when none is shown)."""
        table = self.table
        if not table.display:
            return None
        key = table.cursor_key
        return table.row(key) if key is not None else None

    def cursor_incident(self) -> Incident | None:
        """The incident under the cursor (None on a group row or when nothing is shown)."""
        row = self.cursor_row()
        return row if isinstance(row, Incident) else None

    def target_incidents(self) -> tuple[Incident, ...]:
        """The selected incidents the filter lets through (in table order), else the row under
        the cursor (a group row: every incident in it)."""
        if self.selected:
            chosen = tuple(i for i in self.arranged.matched if i.key in self.selected)
            if chosen:
                return chosen
        row = self.cursor_row()
        if isinstance(row, Group):
            return row.incidents
        return (row,) if row is not None else ()

    @property
    def filter_hint(self) -> str:
        return "words in id, title, service, assignee, labels; /regex/; ! inverts"

    def _highlighted(self, key: str | None) -> None:
        """The table's cursor moved: the line under it and the footer's greyed-out keys."""
        self._render_detail()
        self._refresh_bindings_if_changed()

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

    def action_reassign(self) -> None:
        """Reassign the target incidents to someone chosen from the provider's directory."""
        self._start_action("reassign")

    def action_escalate(self) -> None:
        """Escalate the target incidents to a level of their escalation policy."""
        self._start_action("escalate")

    def action_snooze(self) -> None:
        """Snooze the target incidents for a duration."""
        self._start_action("snooze")

    def action_status_update(self) -> None:
        """Send a status update to the target incidents' stakeholders."""
        self._start_action("status_update")

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
        """Add/remove the cursor row to/from the bulk selection (a group: all of it)."""
        row = self.cursor_row()
        if isinstance(row, Group):
            keys = {i.key for i in row.incidents}
            if keys <= self.selected:
                self.selected -= keys
            else:
                self.selected |= keys
        elif row is not None:
            self.selected.symmetric_difference_update({row.key})
        else:
            return
        self.table.redraw()
        self._render_detail()
        self._refresh_bindings_if_changed()

    def action_focus_incident(self) -> None:
        """Focus the incident under the cursor (other panes narrow to it); on a group row,
        collapse or expand the group."""
        row = self.cursor_row()
        if isinstance(row, Group):
            self._set_arrangement(self.arrangement.toggle_group(row.key))
            return
        if row is not None:
            self.focus_on(row)

    def focus_on(self, incident: Incident) -> None:
        """Focus ``incident`` (the describe view's ``f`` too): the app's state, it answers
        with :meth:`show_focus`."""
        self.post_message(self.IncidentFocused(incident))

    def escape_pressed(self) -> None:
        """``escape`` without a filter: leave "mine only", else clear the selection, else
        leave the focused incident."""
        if self.arrangement.mine is MineMode.ONLY:
            self._set_arrangement(replace(self.arrangement, mine=MineMode.OFF))
            return
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
        copy_url(self, self.cursor_incident())

    def action_runbook(self) -> None:
        """Open the incident's runbook: copy its link (OSC 52) and show it as a hyperlink."""
        copy_runbook(self, self.cursor_incident())

    def action_describe(self) -> None:
        """Everything the provider said about the highlighted incident, in a scrollable view
        (``f`` there focuses it)."""
        from sre_cockpit.ui.incidents.describe import open_describe

        open_describe(self, self.cursor_row(), now=self.clock(), on_focus=self.focus_on)
