"""The timeline pane: every source's events in one ordered list, the incident clock, and notes.

- Newest at the bottom (``ui.timeline_order``), absolute time in UTC or local time and the time
  relative to the focused incident's start (``T+12m``), a colour and a symbol per kind.
- ``enter`` moves the whole cockpit to an event's moment (``MomentSelected``), ``[`` / ``]`` step
  through events, ``.`` (the app's key) returns to live.
- ``k`` cycles the kind filter, ``/`` filters by kind names or text (``kind:deploy,note``).
- ``n`` opens the note editor for the focused incident; notes are journalled (fsync) before the
  outbox sends them and their state is shown on their row; ``r`` retries a note that could not be
  saved or delivered.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from sre_cockpit.core.models import (
    HealthState,
    Incident,
    LogLine,
    ProviderHealth,
    SloStatus,
    TimelineEvent,
)
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.core.timeline import (
    FILTER_KINDS,
    KIND_COLOURS,
    KIND_SYMBOLS,
    RELATED_KINDS,
    filter_events,
    format_time,
    merge_events,
    neighbour,
    parse_kinds,
    relative_label,
)
from sre_cockpit.feeds.journal import Journal, JournalError, Outbox
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.signals import register_flusher
from sre_cockpit.feeds.timeline_sources import TimelineFetch, TimelineTracker, fetch_timeline_report
from sre_cockpit.providers.base import EventSource, IncidentActions, IncidentSource
from sre_cockpit.ui.notes_editor import NoteEditor
from sre_cockpit.ui.pane import Pane

COLOUR_FALLBACK = {"sev-critical": "#ff5555", "sev-high": "#ff9944", "sev-warning": "#e5c07b",
                   "sev-info": "#61afef", "slo-ok": "#98c379", "slo-warning": "#e5c07b",
                   "accent": "#c678dd", "stale": "#888888"}
STATE_COLOURS = {"delivered": "slo-ok", "pending": "sev-warning", "failed": "sev-critical",
                 "not saved": "sev-critical", "local only": "stale"}
TEXT_WIDTH = 160
MAX_ROWS = 2000


def pin_text(line: LogLine) -> str:
    """A log line as a note: quoted, with its timestamp and labels (sanitised)."""
    seconds, nanos = divmod(line.ts_ns, 1_000_000_000)
    when = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
    labels = " ".join(f"{sanitize_line(k)}={sanitize_line(v)}"
                      for k, v in sorted(line.labels.items()))
    quoted = "\n".join(f"> {row}" for row in sanitize(line.line).splitlines() or [""])
    return f"{quoted}\n— log line at {when}" + (f" {{{labels}}}" if labels else "")


def _export_paths(args: Sequence[str], name: str, journal_dir: str | None) -> list[Path]:
    from sre_cockpit.feeds.journal import default_journal_dir

    if args:
        return [Path(args[0]).expanduser()]
    return [Path.cwd() / name, default_journal_dir(journal_dir) / name]


def _cell_signature(cell: Text) -> tuple[object, ...]:
    """What a table cell looks like: its text, base style and spans (Text == ignores style)."""
    return (cell.plain, str(cell.style), tuple(cell.spans))


class TimelinePane(Pane):
    """Incident timeline, incident clock and durable notes."""

    PANE_TITLE = "Timeline"
    EMPTY_MESSAGE = "no timeline source configured"
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
        Binding("k", "cycle_kinds", "kinds", id="timeline.kinds"),
        Binding("n", "note", "note", id="timeline.note"),
        Binding("r", "retry", "retry note", id="timeline.retry"),
    ]

    class MomentSelected(Message):
        """The operator chose a moment (``at``) on the timeline, or live (``at=None``)."""

        def __init__(self, at: datetime | None, label: str) -> None:
            super().__init__()
            self.at = at
            self.label = label

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.incidents: tuple[Incident, ...] = ()
        self.focused: Incident | None = None
        self.fetched: list[TimelineEvent] = []
        self.shown_events: list[TimelineEvent] = []
        """Events shown, oldest first (whatever the display order)."""
        self.moment: datetime | None = None
        self.kind_index = 0
        self.kinds: frozenset[str] | None = None
        self.text_filter: str | None = None
        self.timezone = "utc"
        self.newest_first = False
        self.journal: Journal | None = None
        self.outbox: Outbox | None = None
        self.tracker = TimelineTracker()
        self.poller: Poller[TimelineFetch] | None = None
        self.source_errors: dict[str, str] = {}
        self.status_error: str | None = None
        self._unregister_flush: list[object] = []
        self._row_events: dict[str, TimelineEvent] = {}
        self._shown_signature: tuple[object, ...] | None = None
        self._shown_status: str | None = None
        self._journal_error: str | None = None

    # ----------------------------------------------------------------------------- compose

    def compose_body(self) -> Iterable[Widget]:
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=False,
                                           id="timeline-table")
        table.add_column(Text("time"), key="time")  # relabelled with the zone in attach
        table.add_column(Text("T±"), key="rel")
        table.add_column(Text("kind"), key="kind")
        table.add_column(Text("event"), key="event")
        yield table
        yield Static("", classes="timeline-status", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        """The event table."""
        return self.query_one("#timeline-table", DataTable)

    # ----------------------------------------------------------------------------- wiring

    def attach(self, runtime: Runtime, *, journal: Journal | None = None,
               start_polling: bool = True) -> None:
        """Open the journal, start the outbox and the timeline poll for ``runtime``.

        Args:
            runtime: the context's providers.
            journal: the journal to use (default: the configured directory, replayed).
            start_polling: False only builds the state (tests feed events by hand).
        """
        super().attach(runtime)
        self.timezone = runtime.config.ui.timezone
        self.newest_first = runtime.config.ui.timeline_order == "newest_first"
        zone = format_time(runtime.clock(), self.timezone).rsplit(" ", 1)[-1]
        with contextlib.suppress(Exception):
            self.table.columns[ColumnKey("time")].label = Text(f" time {zone}")
        self.journal = journal or Journal.for_config(runtime.config.journal_dir,
                                                     clock=runtime.clock)
        self.journal.subscribe(self._journal_changed)
        self._unregister_flush.append(register_flusher(self.journal.flush))
        events = runtime.of(EventSource)  # type: ignore[type-abstract]
        self.tracker = TimelineTracker(clock=runtime.clock, lifecycle_sources=events)
        self.outbox = Outbox(self.journal, runtime.of(IncidentActions),  # type: ignore[type-abstract]
                             context=runtime.context_name,
                             configured=set(runtime.context.providers), events=events,
                             read_only=runtime.read_only)
        if self.journal.last_error:
            self._show_journal_error(self.journal.last_error)
        has_source = bool(events or runtime.context.deploys or runtime.context.slos
                          or runtime.of(IncidentSource))  # type: ignore[type-abstract]
        self.render_events()
        if not has_source and not self.journal.records:
            ctx = runtime.context_name
            self.set_unconfigured(
                f"no timeline source configured — add an incident provider or deploys under "
                f"contexts.{ctx}")
            return
        if not start_polling:
            return
        self.run_worker(self.outbox.run(), exit_on_error=False, group="timeline-outbox")
        # other cockpits on the same store: their notes and delivery states appear here too
        self.run_worker(self.journal.watch(), exit_on_error=False, group="timeline-notes")
        interval = runtime.config.refresh.timeline
        self.health_fresh_s = 2 * float(interval)  # older data reads "stale 1m" (HealthLine)
        self.poller = Poller("timeline", self._fetch, interval=interval,
                             deadline=max(interval, 30.0), on_update=self._on_poll,
                             wall=runtime.clock)
        self.set_health(ProviderHealth(provider="timeline", state=HealthState.PENDING))
        self.run_worker(self.poller.run(), exit_on_error=False, group="timeline-poll")

    def on_unmount(self) -> None:
        for unregister in self._unregister_flush:
            if callable(unregister):
                unregister()
        self._unregister_flush.clear()

    async def _fetch(self) -> TimelineFetch:
        assert self.runtime is not None
        return await fetch_timeline_report(self.runtime, self.incidents, tracker=self.tracker,
                                           journal=self.journal)

    def _on_poll(self, update: PollUpdate[TimelineFetch]) -> None:
        if update.value is not None and update.fresh:
            self.source_errors = dict(update.value.errors)
            self.set_events(update.value.events)
        extra = "; ".join(self.source_errors.values())
        self.set_health(update.health, extra=extra)

    def _journal_changed(self) -> None:
        self.render_events()
        problems = self.journal.problems if self.journal is not None else []
        error = problems[-1] if problems else None
        if error and error != self._journal_error:  # e.g. a damaged store was moved aside
            self._show_journal_error(error)

    def _show_journal_error(self, error: str) -> None:
        """What the notes store skipped, refused or moved aside: the status line and a toast
        (the line is cut in a narrow pane; the toast wraps)."""
        self._journal_error = error
        self.show_status(error, error=True)
        with contextlib.suppress(Exception):
            self.app.notify(sanitize_line(error), title="Notes", severity="warning",
                            timeout=20, markup=False)

    # ----------------------------------------------------------------------------- public API

    def set_events(self, events: Sequence[TimelineEvent]) -> None:
        """Show a freshly fetched timeline (merged again with tracker and journal events)."""
        self.fetched = list(events)
        self.render_events()

    def set_incidents(self, incidents: Sequence[Incident]) -> None:
        """The incident list changed (feeds the tracker: alert starts and observed ends)."""
        changed = {i.key for i in incidents} != {i.key for i in self.incidents}
        self.incidents = tuple(incidents)
        if changed and self.poller is not None:
            self.poller.trigger()  # a new page: fetch its log entries now, not in 30 s
        now = self.runtime.clock() if self.runtime is not None else None
        new = self.tracker.observe_incidents(self.incidents, now)
        if self.focused is not None:
            for incident in self.incidents:
                if incident.key == self.focused.key:
                    self.focused = incident
        if new:
            self.render_events()

    def observe_slos(self, statuses: Sequence[SloStatus]) -> None:
        """SLO statuses were evaluated; a state change becomes an event."""
        now = self.runtime.clock() if self.runtime is not None else None
        if self.tracker.observe_slos(statuses, now):
            self.render_events()

    def focus_incident(self, incident: Incident | None) -> None:
        """Follow an incident (its events; times relative to its start), or all (None)."""
        self.focused = incident
        self.render_events()

    def apply_filter(self, text: str) -> None:
        """``/``: ``kind:deploy,note`` filters by kind; anything else is a text search."""
        text = text.strip()
        match = re.match(r"(?i)^kinds?:\s*(.*)$", text)
        if match:
            self.kinds = parse_kinds(match.group(1))
            self.text_filter = None
        else:
            self.text_filter = text or None
            if not text:
                self.kinds = None
                self.kind_index = 0
        self.render_events()

    @property
    def filter_hint(self) -> str:
        """What ``/`` filters here."""
        return "text, or kind:deploy,note (kinds: trigger acknowledge note pin deploy slo_state …)"

    def pending_notes(self) -> int:
        """Notes not delivered yet (or not even saved): ``q`` asks before quitting."""
        return self.journal.pending_count() if self.journal is not None else 0

    def open_note_editor(self, incidents: Sequence[Incident] = ()) -> None:
        """``n``: the multi-line note editor for ``incidents`` (default: the focused one)."""
        targets = tuple(incidents) or ((self.focused,) if self.focused is not None else ())
        if not targets:
            self.app.notify("choose an incident first (enter in the incidents pane)",
                            severity="warning")
            return
        if self.journal is None:
            self.app.notify("notes are not available: the timeline is not running",
                            severity="error")
            return
        clock = self.runtime.clock if self.runtime is not None else datetime.now
        editor = NoteEditor(self.journal, targets, clock=clock)
        self.app.push_screen(editor, lambda text: self._submit_note(text, targets))

    def _submit_note(self, text: str | None, incidents: Sequence[Incident]) -> None:
        if text is None or self.journal is None:
            return
        self.submit_note(text, incidents)

    def submit_note(self, text: str, incidents: Sequence[Incident], *,
                    kind: str = "note") -> bool:
        """Journal a note (fsync) and wake the outbox. Returns False when the disk refused it
        (it is then kept in memory, shown as "not saved", and ``r`` retries)."""
        if self.journal is None:
            return False
        assert self.runtime is not None
        # A typed note's draft is removed once it is stored, or replaced by the parked note
        # when the disk refuses it (it must not come back as the start of the next note).
        draft_keys = [i.key for i in incidents] if kind == "note" else None
        try:
            self.journal.add_note(text, incidents, kind=kind, author=self.runtime.env.user,
                                  context=self.runtime.context_name, draft_keys=draft_keys)
        except JournalError as exc:
            message = sanitize_line(f"{exc} — press r in the timeline to retry")
            self.show_status(message, error=True)
            # later: called from the note editor's dismiss, a toast raised now belongs to the
            # closing editor and was never seen
            self.call_later(self.app.notify, message, severity="error", timeout=15,
                            markup=False)
            return False
        if self.journal.unsaved:  # the disk takes notes again: save the ones it refused
            with contextlib.suppress(JournalError):
                self.journal.retry_unsaved()
        self.show_status("")
        if self.outbox is not None:
            self.outbox.wake()
        return True

    def pin_log_line(self, line: LogLine) -> None:
        """``p`` in the log pane: the line becomes a note on the focused incident."""
        targets = (self.focused,) if self.focused is not None else ()
        if self.submit_note(pin_text(line), targets, kind="pin"):
            where = self.focused.key if self.focused is not None else "the local journal only"
            self.app.notify(sanitize_line(f"pinned to {where}"), timeout=4)

    def return_to_live(self) -> None:
        """Leave the chosen moment (the app calls this on ``.``)."""
        if self.moment is None:
            return
        self.moment = None
        self.render_events()
        self.refresh_bindings()
        self.post_message(self.MomentSelected(None, ""))

    async def export_postmortem(self, *args: str) -> str:
        """``:export [FILE]``: write the focused incident's postmortem draft; returns the path.

        Raises:
            ValueError: no incident to export (one line for the command line).
        """
        from sre_cockpit.cli.postmortem import write_draft
        from sre_cockpit.reports.postmortem import build_postmortem

        incident = self.focused or (self.incidents[0] if len(self.incidents) == 1 else None)
        if incident is None or self.runtime is None:
            raise ValueError("choose an incident first (enter in the incidents pane)")
        text = await build_postmortem(self.runtime, incident.key, journal=self.journal)
        stamp = self.runtime.clock().strftime("%Y%m%d-%H%M")
        safe_id = re.sub(r"[^A-Za-z0-9._-]+", "_", incident.id)[:60] or "incident"
        name = f"postmortem-{safe_id}-{stamp}.md"
        candidates = _export_paths(args, name, self.runtime.config.journal_dir)
        last: Exception | None = None
        for path in candidates:
            try:
                written = write_draft(text, str(path))
            except Exception as exc:  # cwd read-only: fall back to the data dir
                last = exc
                continue
            return str(written or path)
        raise ValueError(str(last) if last else "cannot write the draft")

    # ----------------------------------------------------------------------------- rendering

    def _colour(self, variable: str) -> str:
        try:
            variables = self.app.theme_variables
        except Exception:
            variables = {}
        return variables.get(variable) or COLOUR_FALLBACK.get(variable, "#888888")

    def show_status(self, message: str, *, error: bool = False) -> None:
        """The line under the table: filter, focus, journal errors."""
        self.status_error = message if error and message else None
        self._render_status()

    def _render_status(self) -> None:
        with contextlib.suppress(Exception):
            status = self.query_one(".timeline-status", Static)
            parts: list[str] = []
            if self.status_error:
                parts.append(self.status_error)
            else:
                if self.focused is not None:
                    parts.append(f"incident {self.focused.key}")
                if self.kinds:
                    parts.append("kinds: " + ",".join(sorted(self.kinds)))
                if self.text_filter:
                    parts.append(f"filter: {self.text_filter}")
                if self.journal is not None and self.journal.unsaved:
                    parts.append(f"{len(self.journal.unsaved)} note(s) NOT SAVED — r retries")
                count = len(self.shown_events)
                parts.append(f"{count} event{'' if count == 1 else 's'}")
            line = sanitize_line("  ·  ".join(parts))
            if line != self._shown_status:  # Static.update lays out again: only on change
                self._shown_status = line
                status.update(Text(line))
            status.set_class(bool(self.status_error), "-error")

    def current_events(self) -> list[TimelineEvent]:
        """Every known event merged, filtered for the focused incident, kinds and text."""
        notes = self.journal.events() if self.journal is not None else []
        now = self.runtime.clock() if self.runtime is not None else None
        merged = merge_events(self.fetched, self.tracker.events(), notes, now=now)
        focused = self.focused
        related: set[str] = set()
        focused_id = focused.id if focused is not None else None
        if focused is not None and focused.service:
            related = {i.id for i in self.incidents
                       if i.service == focused.service and i.key != focused.key}
        events = filter_events(
            merged, kinds=self.kinds, text=self.text_filter,
            incident_ids={focused.id, *related} if focused is not None else None,
            service=focused.service if focused is not None else None)
        if related:  # other incidents of the service: their lifecycle only, not their notes
            events = [e for e in events if e.incident_id not in related or
                      (e.kind in RELATED_KINDS and e.incident_id != focused_id)]
        return events[-MAX_ROWS:]

    def render_events(self) -> None:
        """Re-render the table (keeps the cursor on the same event when it is still there)."""
        try:
            table = self.table
        except Exception:
            return
        self.shown_events = self.current_events()
        start = self.focused.started_at if self.focused is not None else None
        keep: str | None = None
        if table.row_count and table.cursor_row >= 0:
            with contextlib.suppress(Exception):
                keep = str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)
        rows = list(enumerate(self.shown_events))
        if self.newest_first:
            rows.reverse()
        built = [(f"{index}:{event.id or ''}:{event.kind}:{event.at.isoformat()}", event,
                  self._cells(event, start)) for index, event in rows]
        signature = tuple((key, tuple(_cell_signature(cell) for cell in cells))
                          for key, _, cells in built)
        if signature == self._shown_signature and table.row_count == len(built):
            # Nothing visible changed (an incidents/timeline/SLO update with the same events):
            # a rebuild would repaint the whole table (~1 KB on the wire) for nothing.
            self._row_events = {key: event for key, event, _ in built}
            self._render_status()
            return
        self._shown_signature = signature
        table.clear()
        self._row_events.clear()
        for key, event, cells in built:
            self._row_events[key] = event
            table.add_row(*cells, key=key)
        target = None
        if keep is not None and keep in self._row_events:
            target = list(self._row_events).index(keep)
        elif self.shown_events:
            target = 0 if self.newest_first else len(self.shown_events) - 1
        if target is not None:
            table.move_cursor(row=target, animate=False, scroll=True)
        self._render_status()

    def _cells(self, event: TimelineEvent, start: datetime | None) -> tuple[Text, ...]:
        colour = self._colour(KIND_COLOURS.get(event.kind, "sev-info"))
        marker = "▶" if self.moment is not None and event.at == self.moment else " "
        time_text = Text(marker + format_time(event.at, self.timezone).rsplit(" ", 1)[0])
        rel = Text(relative_label(event.at, start) or "—", style="dim" if start is None else "")
        kind = Text(f"{KIND_SYMBOLS.get(event.kind, '•')} {sanitize_line(event.kind)}",
                    style=colour)
        body = Text(no_wrap=True, overflow="ellipsis")
        if event.state:  # first, so a narrow pane still shows whether the note got through
            state = sanitize_line(event.state)
            head = next((k for k in STATE_COLOURS if state.startswith(k)), "pending")
            body.append(f"[{state}] ", style=f"bold {self._colour(STATE_COLOURS[head])}")
        text = sanitize_line(event.text)
        if len(text) > TEXT_WIDTH:
            text = text[:TEXT_WIDTH - 1] + "…"
        body.append(text)
        if event.source and event.source not in ("operator",):
            body.append(f"  [{sanitize_line(event.source)}]", style="dim")
        return (time_text, rel, kind, body)

    # ----------------------------------------------------------------------------- actions

    def _event_at_cursor(self) -> TimelineEvent | None:
        table = self.table
        if not table.row_count:
            return None
        with contextlib.suppress(Exception):
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
            return self._row_events.get(str(key))
        return None

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        event = self._row_events.get(str(message.row_key.value))
        if event is not None:
            self.select_moment(event)

    def label_for(self, at: datetime) -> str:
        """``14:03 UTC (T+12m)`` for the banner."""
        start = self.focused.started_at if self.focused is not None else None
        label = format_time(at, self.timezone, seconds=False)
        rel = relative_label(at, start)
        return f"{label} ({rel})" if rel else label

    def select_moment(self, event: TimelineEvent) -> None:
        """Move the cockpit to ``event``'s moment (posts ``MomentSelected``)."""
        self.moment = event.at
        self.post_message(self.MomentSelected(event.at, self.label_for(event.at)))
        self.render_events()
        self.refresh_bindings()

    def action_step(self, step: int) -> None:
        """``[`` / ``]``: the previous / next event becomes the moment."""
        if not self.shown_events:
            return
        current = self.moment
        if current is None:
            here = self._event_at_cursor()
            index: int | None = self.shown_events.index(here) if here in self.shown_events else None
            if index is None:
                index = neighbour(self.shown_events, None, step)
        else:
            index = neighbour(self.shown_events, current, step)
        if index is None:
            return
        event = self.shown_events[index]
        self.select_moment(event)
        row = (len(self.shown_events) - 1 - index) if self.newest_first else index
        self.table.move_cursor(row=row, animate=False, scroll=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``.`` is only offered while a moment is shown."""
        if action == "live":
            return self.moment is not None
        return True

    def action_live(self) -> None:
        """``.``: back to live data everywhere."""
        self.return_to_live()

    def action_cycle_kinds(self) -> None:
        """``k``: all kinds → incident lifecycle → alerts → deploys → SLOs → notes → all."""
        self.kind_index = (self.kind_index + 1) % len(FILTER_KINDS)
        self.kinds = parse_kinds(FILTER_KINDS[self.kind_index])
        self.render_events()

    def action_note(self) -> None:
        """``n``: a note for the focused incident."""
        self.open_note_editor(())

    def action_retry(self) -> None:
        """``r``: save notes the disk refused, or re-send the failed note under the cursor."""
        if self.journal is None:
            return
        if self.journal.unsaved:
            try:
                saved = self.journal.retry_unsaved()
            except JournalError as exc:
                self.show_status(f"{exc} — press r to retry", error=True)
                self.app.notify(str(exc), severity="error", timeout=10)
                return
            self.show_status("")
            self.app.notify(f"{len(saved)} note(s) saved to the journal", timeout=4)
        event = self._event_at_cursor()
        if event is not None and event.source == "operator" and event.id and \
                (event.state or "").startswith("failed"):
            try:
                self.journal.requeue(event.id.split(":", 1)[0])
            except JournalError as exc:
                self.show_status(str(exc), error=True)
                return
        if self.outbox is not None:
            self.outbox.wake()
