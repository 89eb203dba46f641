"""The log pane: shows the log feed's lines and state; acts through the feed.

- :class:`~sre_cockpit.ui.logs.logview.LogView` is a line-API widget (``ScrollView`` +
  ``render_line``) over a bounded ring buffer (``ui.log_buffer_lines``). It is *not*
  ``Log(max_lines=…)``, which stops repainting once full (Textual 8.2.8), nor ``RichLog`` (far
  too slow at 1k lines/s).
- Lines arrive from the :class:`~sre_cockpit.feeds.logs.LogFeed` in batches
  (:class:`~sre_cockpit.ui.messages.LogLinesArrived`) at ``ui.log_repaint_hz`` (≤ 4 Hz, ≤ 1 Hz
  with ``--low-bandwidth``), so the bytes written to the terminal follow the repaint rate, not
  the line rate. The stream's state comes in :class:`~sre_cockpit.ui.messages.LogsChanged`.
  Idle is idle: nothing is repainted when nothing changed.
- Every line is sanitised once on arrival (:func:`sre_cockpit.core.sanitize.scan`); neutralised
  sequences are dimmed; nothing external is ever parsed as markup.
- The truth contract comes from the pane base: the source line (``✖ loki error: never
  connected: …``), the filter bar (``/error — 3 of 40 lines shown, 37 hidden · esc clears``).
  Under the status line the reason of a failure is shown whole; ``i`` shows every detail.
- ``/`` searches as you type (debounced): every match in view is highlighted, ``n``/``N`` jump
  to the next/previous matching line (pausing and scrolling to it), the status line counts the
  matches; ``f`` opens the filter prompt (hides the other lines, with the pane base's counts).
  Both take words (smart case), ``/regex/`` and ``!`` (invert); ``esc`` clears the search first,
  then the filter.
- The border shows the LogQL query (shortened to fit; ``l`` and ``i`` show it whole) and, under
  the lines, the time range (``live, from 5m back`` or the moment's window).
- Each tool lives in its module: ``v`` the volume strip (:mod:`~sre_cockpit.ui.logs.volume`; a
  bar chosen moves the app's incident clock), ``a`` patterns (:mod:`~sre_cockpit.ui.logs.patterns`),
  ``b`` the label browser (:mod:`~sre_cockpit.ui.logs.labels`), ``F`` the structured columns
  (:mod:`~sre_cockpit.ui.logs.fields`, remembered per query), ``enter`` a line's detail
  (:mod:`~sre_cockpit.ui.logs.detail`), the LogQL editor's history
  (:mod:`~sre_cockpit.ui.logs.history`).
- Every key is in the README's key table (``s`` structured rows:
  :mod:`~sre_cockpit.ui.logs.structured`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input

from sre_cockpit.core.logfields import DEFAULT_COLUMNS
from sre_cockpit.core.loglines import (
    DEBUG,
    ERROR,
    INFO,
    NONE,
    WARN,
    LineFilter,
    Row,
    RowFilter,
    clipboard_sequence,
    detect_level,
    format_labels,
    format_ts,
    make_row,
    row_level,
)
from sre_cockpit.feeds.logprefs import LogPrefs
from sre_cockpit.feeds.logs import LogBatch, LogsSnapshot
from sre_cockpit.ui.clipboard import copy_text
from sre_cockpit.ui.logs.history import QueryEditor
from sre_cockpit.ui.logs.logview import LogView
from sre_cockpit.ui.logs.patterns import LogPatterns
from sre_cockpit.ui.logs.searchbox import SearchEditor
from sre_cockpit.ui.logs.status import (
    LogReason,
    LogStatus,
    ViewState,
    border_texts,
    explain_text,
    shown_zone,
    status_text,
)
from sre_cockpit.ui.logs.volume import LogVolume
from sre_cockpit.ui.messages import LogLinesArrived, LogsChanged
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.themes import theme_colour
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.core.models import Incident
    from sre_cockpit.feeds.logs import LogFeed

__all__ = ["DEBUG", "ERROR", "INFO", "NONE", "WARN", "LineFilter", "LogPane", "LogStatus",
           "LogView", "Row", "clipboard_sequence", "copy_text", "detect_level", "format_labels",
           "format_ts", "make_row", "row_level"]


class LogPane(Pane):
    """Live logs of the context's log provider (the log feed's view)."""

    PANE_TITLE: ClassVar[str] = "Logs"
    EMPTY_MESSAGE: ClassVar[str] = "no log provider configured"
    ITEM_NOUN: ClassVar[str] = "lines"

    DEFAULT_CSS = """
    LogPane > #log-query, LogPane > #log-search { display: none; height: 3; }
    LogPane > #log-query.-open, LogPane > #log-search.-open { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("F", "fields", "fields", id="logs.fields"),
        Binding("enter", "detail", "detail", id="logs.detail"),
    ]

    PinRequested = Pane.PinRequested
    """``p``: pin this line to the focused incident (the app stores it as a note)."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.view = LogView(id="log-view")
        self.view.on_state_change = self._render_status
        self.view.on_edit_query = self.open_query_editor
        self.view.on_search = self.open_search
        self.view.on_volume = self.toggle_volume
        self.view.on_patterns = self.toggle_patterns
        self.view.on_labels = self.open_label_browser
        self.patterns = LogPatterns(id="log-patterns")
        self.patterns.colour = self._colour
        self.volume = LogVolume(id="log-volume")
        self.volume.colour = self._colour
        self.prefs = LogPrefs(None)
        """The context's query history and chosen columns (set by :meth:`bind`)."""
        self.search_text = ""
        """The ``/`` search applied now ("" when none)."""
        self._search_error = ""
        self._border: tuple[str, str] = (self.PANE_TITLE, "")
        self.status_line = LogStatus(id="log-status")
        self.reason_line = LogReason(id="log-reason")
        self.feed: LogFeed | None = None
        self.snapshot = LogsSnapshot()
        """The last snapshot shown."""
        self._generation = 0
        self._moment: datetime | None = None
        self._toasted_moment_error: str | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield self.volume
        yield self.patterns
        yield self.view
        yield self.status_line
        yield self.reason_line
        yield QueryEditor(placeholder="LogQL, e.g. {app=\"checkout\"} |= \"error\" · ↑↓ history",
                          id="log-query")
        search = SearchEditor(
            placeholder="search: words, /regex/, ! inverts · enter jumps · esc clears",
            id="log-search")
        search.on_search = self.set_search
        yield search

    # ------------------------------------------------------------------------ feeding

    def bind(self, feed: LogFeed) -> None:
        """Show ``feed`` (its current snapshot now, every later one and its lines as they
        come)."""
        self.feed = feed
        display = feed.display
        self.view.max_lines = display.buffer_lines
        self.view.max_line_bytes = display.max_line_bytes
        self.view.utc = display.utc
        self.view.show_labels = display.show_labels
        self.prefs = LogPrefs.for_context(feed.runtime.config.journal_dir,
                                          feed.runtime.context_name)
        self.volume.loader = lambda columns, since: feed.volume(columns, since=since)
        self.patterns.loader = feed.patterns
        self.set_clock(feed.runtime.clock)
        self.show(feed.snapshot)

    def changed_message(self, snapshot: LogsSnapshot) -> LogsChanged:
        return LogsChanged(snapshot)

    def batch_message(self, batch: LogBatch) -> LogLinesArrived:
        return LogLinesArrived(batch)

    @property
    def repaint_hz(self) -> float:
        """Batches (and so repaints) per second at most."""
        return self.feed.display.repaint_hz if self.feed is not None else 4.0

    def on_logs_changed(self, message: LogsChanged) -> None:
        message.stop()
        self.show(message.snapshot)

    def on_log_lines_arrived(self, message: LogLinesArrived) -> None:
        message.stop()
        self.add_batch(message.batch)

    def show(self, snapshot: LogsSnapshot) -> None:
        """Render a snapshot: the sources, a new stream's empty buffer, the moment."""
        sources_changed = snapshot.sources != self.snapshot.sources
        if snapshot.query != self.snapshot.query or not self.snapshot.query:
            self.view._structured.columns = self.prefs.columns(snapshot.query) or DEFAULT_COLUMNS
            self.view.refresh()
        self.snapshot = snapshot
        if snapshot.unconfigured:
            self.set_unconfigured(snapshot.unconfigured)
            self.show_sources(snapshot.sources)
            return
        if snapshot.generation > self._generation:
            self._new_buffer(snapshot.generation)
        if snapshot.moment != self._moment:
            self._moment = snapshot.moment
            if snapshot.moment is None:
                self.view.moment_rows = None
                self.view.follow = True
                self.view.rebuild()
                self._update_filter_counts()
            else:
                self.view.set_follow(False)
        if snapshot.moment_error and snapshot.moment_error != self._toasted_moment_error:
            toast(self, snapshot.moment_error, title="moment", severity="error", timeout=6)
        self._toasted_moment_error = snapshot.moment_error
        if sources_changed:
            self.show_sources(snapshot.sources)
        self._render_border()
        self._render_status()

    def _render_border(self) -> None:
        """The query (shortened; ``l`` and ``i`` show it whole) in the border's title and the
        time range under it (plain text: never markup)."""
        texts = border_texts(self.snapshot, self.PANE_TITLE, self.size.width or 80,
                             shown_zone(utc=self.view.utc, timestamps=self.view.show_ts))
        if texts != self._border:
            self._border = texts
            self.border_title = Content(texts[0])
            self.border_subtitle = Content(texts[1])

    def on_resize(self, event: events.Resize) -> None:
        self._render_border()

    def add_batch(self, batch: LogBatch) -> None:
        """Append live lines to the buffer, or show a moment's lines."""
        if batch.generation < self._generation:
            return  # lines of a query no longer streamed
        if batch.generation > self._generation:
            self._new_buffer(batch.generation)
        view = self.view
        if batch.moment is not None:
            if batch.moment != self._moment:
                return
            rows = [make_row(i, line, view.max_line_bytes) for i, line in enumerate(batch.lines)]
            view.moment_rows = rows
            view.follow = False
            view.rebuild()
            view.cursor = max(0, min(batch.before - 1, len(view.view) - 1)) if view.view else None
            if view.cursor is not None:
                # the moment's line mid-view: lines before it above, lines after it below
                view.center_on(view.cursor)
        elif batch.lines:
            view.append(batch.lines)
            view.refresh()
        self._update_filter_counts()
        self._render_status()

    def _new_buffer(self, generation: int) -> None:
        """A new stream (another query): its lines start a new buffer."""
        self._generation = generation
        self.volume.load()
        view = self.view
        view.ring.clear()
        view.total_appended = 0
        view.rebuild()
        self._update_filter_counts()

    # ------------------------------------------------------------------------ status

    def _render_status(self) -> None:
        view = self.view
        state = ViewState(follow=view.follow, new_while_paused=view.new_while_paused,
                          position=view.position() if not view.follow else (0, 0),
                          buffered=len(view.ring), search=self.search_text,
                          search_hit=view.search_position() if self.search_text else (0, 0),
                          search_error=self._search_error)
        line, reason = status_text(self.snapshot, state, self._colour)
        self.status_line.set_text(line)
        self.reason_line.set_text(reason)
        self._render_border()  # `t` and `u` change the zone named on the border

    def _colour(self, name: str) -> str:
        return theme_colour(self.app, name)

    def theme_changed(self) -> None:
        """``:theme``: the status and reason lines carry the old theme's colours (a stream that
        never connected publishes nothing new to rebuild them)."""
        super().theme_changed()
        self._render_status()

    def on_log_view_explain_requested(self, message: LogView.ExplainRequested) -> None:
        """``i``: every fact about the stream in a toast (the whole reason, the query)."""
        message.stop()
        toast(self, explain_text(self.snapshot), title="Logs", timeout=15)

    # ------------------------------------------------------------------------ filter

    @property
    def filter_hint(self) -> str:
        return "substring (smart case), /regex/, ! to invert"

    def parse_filter(self, text: str) -> RowFilter:
        """Check a log filter (substring with smart case, ``/regex/``, ``!`` inverts).

        Raises:
            ValueError: an invalid regular expression.
        """
        LineFilter.parse(text)
        return RowFilter()

    def filter_changed(self) -> None:
        self.view.line_filter = LineFilter.parse(self.filter_text)
        self.view.rebuild()
        self._update_filter_counts()
        self._render_status()

    def _update_filter_counts(self) -> None:
        if self.filter_text:
            view = self.view
            total = len(view.moment_rows) if view.moment_rows is not None else len(view.ring)
            self.show_filter_counts(len(view.view), total)

    # ------------------------------------------------------------------------ volume

    def toggle_volume(self) -> None:
        """``v``: show the volume strip and give it the focus (a bar chooses a moment), or
        hide it."""
        if self.volume.toggle():
            self.screen.set_focus(self.volume)

    def on_log_volume_moment_chosen(self, message: LogVolume.MomentChosen) -> None:
        """A bar was chosen: the app's incident clock moves there (the log feed loads the
        lines around it; the other panes follow), follow off."""
        message.stop()
        self.view.set_follow(False)
        label = f"{message.at:%H:%M:%S} UTC (log volume)"
        self.post_message(self.MomentRequested(message.at, label))
        toast(self, f"logs at {message.at:%H:%M:%S} UTC, follow off — . returns to live",
              title="volume", timeout=4)
        self.screen.set_focus(self.view)

    def on_log_volume_closed(self, message: LogVolume.Closed) -> None:
        message.stop()
        self.screen.set_focus(self.view)

    def show_focus(self, incident: Incident | None) -> None:
        """The focused incident's start is marked on the volume strip (its span shown)."""
        self.volume.set_since(incident.started_at if incident is not None else None)

    # ------------------------------------------------------------------------ labels

    def open_label_browser(self) -> None:
        """``b``: the label browser over the query being tailed (its labels fetched first)."""
        from sre_cockpit.ui.logs.labels import browse_labels  # a dialog: loaded when first used

        if self.feed is None or self.feed.source is None:
            toast(self, "no log provider to query", severity="warning")
            return
        browse_labels(self, self.snapshot.query, self.feed.labels, self._label_query_chosen)

    def _label_query_chosen(self, query: str | None) -> None:
        if query and self.feed is not None and query != self.snapshot.query:
            self.run_worker(self._try_query(query), exit_on_error=False, group="logs-query",
                            exclusive=True)

    # ------------------------------------------------------------------------ patterns

    def toggle_patterns(self) -> None:
        """``a``: group the buffer's lines into patterns (Loki's, else mined here), or close."""
        view = self.view
        on = not self.patterns.has_class("-on")
        lines = [] if not on else [(row.ts_ns, row.raw) for row in view.moment_rows] \
            if view.moment_rows is not None else list(view.ring.lines())
        self.patterns.toggle(lines)

    # ------------------------------------------------------------------------ search

    def open_search(self) -> None:
        """``/``: the search editor, pre-filled with the current search."""
        editor = self.query_one("#log-search", Input)
        editor.value = self.search_text
        editor.add_class("-open")
        self.screen.set_focus(editor)  # at once: the keys typed next go here

    def _close_editor(self, selector: str) -> None:
        """Hide the query or search editor; the keys go to the lines again."""
        self.query_one(selector, Input).remove_class("-open")
        self.screen.set_focus(self.view)

    def set_search(self, text: str) -> bool:
        """Search the view for ``text`` ("" clears). An invalid regex is said in the status
        line and the previous search stays. Returns whether it was applied."""
        self.query_one("#log-search", SearchEditor).cancel()
        text = text.strip()
        try:
            search = LineFilter.parse(text)
        except ValueError as exc:
            self._search_error = str(exc)
            self.search_text = text
            self._render_status()
            return False
        self._search_error = ""
        self.search_text = text if search is not None else ""
        self.view.set_search(search)
        self._render_status()
        return True

    def action_escape(self) -> None:
        """``escape``: clear the search first, then the filter, then the pane's own."""
        if self.search_text or self._search_error:
            self.set_search("")
            return
        super().action_escape()

    # ------------------------------------------------------------------------ pins, query

    def on_log_view_pin_requested(self, message: LogView.PinRequested) -> None:
        message.stop()
        self.post_message(self.PinRequested(message.line))

    def open_query_editor(self) -> None:
        """``l``: edit the LogQL query (``up``/``down`` walk the context's history)."""
        if self.feed is None or self.feed.source is None:
            toast(self, "no log provider to query", severity="warning")
            return
        editor = self.query_one("#log-query", QueryEditor)
        editor.start(self.snapshot.query, self.prefs.history)
        editor.add_class("-open")
        self.screen.set_focus(editor)  # at once (focus() defers): keys typed next go here

    def on_key(self, event: events.Key) -> None:
        if event.key != "escape":
            return
        if self.query_one("#log-query", Input).has_focus:
            event.stop()
            self._close_editor("#log-query")
        elif self.query_one("#log-search", Input).has_focus:
            event.stop()
            self.set_search("")
            self._close_editor("#log-search")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "log-search":
            event.stop()
            self.set_search(event.value)
            self._close_editor("#log-search")
            if self.search_text and self.view.searcher.ids:
                self.view.action_search_next(-1)  # the newest match, paused there
            return
        if event.input.id != "log-query":
            return
        event.stop()
        query = event.value.strip()
        self._close_editor("#log-query")
        if not query or query == self.snapshot.query or self.feed is None:
            return
        self.run_worker(self._try_query(query), exit_on_error=False, group="logs-query",
                        exclusive=True)

    async def _try_query(self, query: str) -> None:
        """Loki checks the query first; on an error the previous query keeps streaming."""
        assert self.feed is not None
        error = await self.feed.try_query(query)
        if error is not None:
            toast(self, f"{error} — keeping the previous query", title="LogQL",
                  severity="error", timeout=8)
            return
        problem = self.prefs.remember_query(query)
        if problem is not None:
            toast(self, f"query history not saved: {problem}", title="LogQL",
                  severity="warning", timeout=6)

    # ------------------------------------------------------------------------ fields, detail

    async def action_fields(self) -> None:
        """``F``: pick the columns of structured rows (fields seen in the newest lines),
        remembered for this query; structured mode is turned on to show them."""
        from sre_cockpit.ui.logs.fields import apply_columns, pick_columns  # loaded when used

        view = self.view
        await pick_columns(self, view.moment_rows, view.ring, view._structured.columns,
                           lambda columns: apply_columns(self, view, self.prefs,
                                                         self.snapshot.query, columns))

    def action_detail(self) -> None:
        """``enter``: the selected line (the newest while following) in full."""
        from sre_cockpit.ui.logs.detail import show_line_detail  # loaded when first used

        show_line_detail(self, self.view.current_row(), utc=self.view.utc)
