"""The log pane: a live Loki tail that neither freezes nor lies, and that no log line can use to
drive the operator's terminal.

- :class:`LogView` is a line-API widget (``ScrollView`` + ``render_line``) over a bounded ring
  buffer (``ui.log_buffer_lines``). It is *not* ``Log(max_lines=…)``, which stops repainting once
  full (Textual 8.2.8), nor ``RichLog`` (far too slow at 1k lines/s).
- Lines arrive through :class:`~sre_cockpit.feeds.logstream.LogStream` in a worker; a timer drains them
  in batches at ``ui.log_repaint_hz`` (≤ 4 Hz, ≤ 1 Hz with ``--low-bandwidth``) so the bytes
  written to the terminal follow the repaint rate, not the line rate. Idle is idle: nothing is
  repainted when nothing changed.
- Every line is sanitised once on arrival (:func:`sre_cockpit.core.sanitize.scan`); neutralised
  sequences are dimmed; nothing external is ever parsed as markup.
- Keys (on the log view): ``space`` follow/pause (scrolling up pauses), ``w`` wrap, ``t``
  timestamps, ``u`` UTC/local, ``L`` labels, ``e``/``E`` next/previous error, ``l`` edit the
  LogQL query, ``c`` copy the line (OSC 52, wrapped for tmux), ``p`` pin it to the timeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from sre_cockpit.core.loglines import (
    DEBUG,
    ERROR,
    INFO,
    NONE,
    WARN,
    LineFilter,
    Row,
    clipboard_sequence,
    detect_level,
    format_labels,
    format_ts,
    make_row,
    row_level,
)
from sre_cockpit.core.models import HealthState, ProviderHealth
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.logstream import NS, LogStream, StreamMode, StreamStatus
from sre_cockpit.providers.base import LogSource, ProviderError
from sre_cockpit.ui.logs.logview import LogView, copy_text
from sre_cockpit.ui.pane import Pane, theme_state_style
from sre_cockpit.ui.plain import plain_str
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

HEALTH_REFRESH_S = 5.0
"""While lines flow, the data age in the health line and header is renewed this often."""

__all__ = ["DEBUG", "ERROR", "INFO", "NONE", "WARN", "LineFilter", "LogPane", "LogStatus",
           "LogView", "Row", "clipboard_sequence", "copy_text", "detect_level", "format_labels",
           "format_ts", "make_row", "row_level"]


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

    PinRequested = Pane.PinRequested
    """``p``: pin this line to the focused incident (the app stores it as a note)."""

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
        self._health_at: datetime | None = None
        self._health_received = 0
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
        self.view.total_appended = 0
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
            shown, total = view.position()
            text.append(f"  row {shown:,}/{total:,}")
        elif status is None:
            text.append("○ idle")
        else:
            mode = status.mode
            health = {StreamMode.LIVE: HealthState.OK, StreamMode.POLLING: HealthState.STALE,
                      StreamMode.RECONNECTING: HealthState.STALE,
                      StreamMode.ERROR: HealthState.ERROR}.get(mode, HealthState.PENDING)
            text.append(f"● {mode.value}", style=theme_state_style(self.app, health))
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
        state = {StreamMode.LIVE: HealthState.OK, StreamMode.POLLING: HealthState.OK,
                 StreamMode.CONNECTING: HealthState.PENDING,
                 StreamMode.RECONNECTING: HealthState.STALE}.get(status.mode, HealthState.ERROR)
        if state is HealthState.STALE and status.received == 0 and status.last_error:
            state = HealthState.ERROR  # nothing shown yet: no data to be stale (was "loki stale")
        clock = self.runtime.clock if self.runtime is not None else _utcnow
        now = clock()
        # While lines keep arriving the data age is renewed (every few seconds, not per tick):
        # reported only on mode changes, a live stream's header badge aged without bound
        # ("loki 10m" on a tail delivering 50 lines/s).
        fresh = (state is HealthState.OK and self._health_at is not None
                 and status.received != self._health_received
                 and (now - self._health_at).total_seconds() >= HEALTH_REFRESH_S)
        if key == self._last_health and not fresh:
            return
        self._last_health = key
        self._health_at = now
        self._health_received = status.received
        self.set_health(ProviderHealth(
            provider=self.source_name or "logs", state=state,
            last_ok_at=now if state is HealthState.OK else None,
            checked_at=now, error=self._query_error or status.last_error,
            mode=status.mode.value,
            # a quiet tail is not stale data: the stream's own mode (live / polling /
            # reconnecting / error) says whether lines would reach us, so no age is shown
            fresh_for=math.inf))

    def _colour(self, name: str) -> Style:
        return self.view._style(name)

    # ------------------------------------------------------------------------ public

    def apply_filter(self, text: str) -> None:
        """``/``: substring (smart case), ``/regex/``, ``!`` inverts; empty clears."""
        try:
            self.view.line_filter = LineFilter.parse(text)
        except ValueError as exc:
            toast(self, str(exc), severity="error", timeout=5)
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
            toast(self, str(exc), severity="error", timeout=6)
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
            # the moment's line mid-view: lines before it above, lines after it below (scrolling
            # it into view put it on the top row, every earlier line off screen)
            first = self.view._first_row_of(self.view.cursor)
            self.view._set_top(first - self.view._view_height() // 2)
            self.view.refresh()
        self._render_status()

    # ----------------------------------------------------------------------- query

    def open_query_editor(self) -> None:
        """``l``: edit the LogQL query."""
        editor = self.query_one("#log-query", Input)
        editor.value = plain_str(self.logql)  # a query from the config may hold escapes
        editor.add_class("-open")
        self.screen.set_focus(editor)  # at once (focus() defers): keys typed next go here

    def _close_query_editor(self) -> None:
        editor = self.query_one("#log-query", Input)
        editor.remove_class("-open")
        self.screen.set_focus(self.view)

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
            toast(self, f"{exc} — keeping the previous query", severity="error", timeout=8)
            return
        self._start(query)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _now_ns() -> int:
    import time

    return time.time_ns()
