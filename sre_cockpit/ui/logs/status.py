"""The log pane's status lines: what the stream is doing, its exact counters, and (while anything
fails) the whole reason on a line of its own, wrapped rather than cut.

The first line says the mode in the truth contract's words: ``● live``, ``● polling (…)``,
``✖ never connected — retrying (attempt 3)`` when Loki never answered (never "reconnecting"),
``▲ polling — last poll failed`` while polls fail, ``◆ moment 14:02:10 UTC`` on a moment,
``‖ paused`` while scrolled back; then lines/s, buffered, dropped server / client, the last
reconnect. Below it, only while something fails, ``why: <reason>`` wraps over up to three
lines (``i`` shows every detail). Built from plain strings: no backend text is parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from sre_cockpit.core.loglines import zone_label
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.logs import BACKFILL_S, MOMENT_WINDOW_S, LogsSnapshot
from sre_cockpit.feeds.streamstatus import StreamMode

REASON_LINES = 3
"""The reason wraps over at most this many lines under the status line."""


@dataclass(frozen=True, slots=True)
class ViewState:
    """What the status line needs from the log view (not from the feed).

    Attributes:
        follow: following the newest line (else paused).
        new_while_paused: lines that arrived while paused.
        position: (last visible row, total rows) while paused.
        buffered: lines in the ring buffer.
        search: the ``/`` search as typed ("" when none).
        search_hit: (ordinal of the selected match or 0, matches in view).
        search_error: why the search typed last was not applied (an invalid regex).
    """

    follow: bool = True
    new_while_paused: int = 0
    position: tuple[int, int] = (0, 0)
    buffered: int = 0
    search: str = ""
    search_hit: tuple[int, int] = (0, 0)
    search_error: str = ""


def status_text(snapshot: LogsSnapshot, view: ViewState,
                colour: Callable[[str], str]) -> tuple[Text, Text | None]:
    """The status line and the reason line (None when nothing fails).

    Args:
        snapshot: the feed's latest snapshot.
        view: the view's own state.
        colour: a theme colour by name (``success``, ``warning``, ``error``).
    """
    status = snapshot.stream
    text = Text(no_wrap=True, overflow="ellipsis")
    _search_text(text, view, colour)  # first: the count stays in sight at 80 columns
    problem = snapshot.problem
    if snapshot.query_error:
        text.append("✖ query refused by Loki — l edits the query", style=colour("error"))
    elif snapshot.moment is not None:
        text.append(f"◆ moment {snapshot.moment:%H:%M:%S} UTC", style="bold")
        if snapshot.moment_loading:
            text.append(" — loading…")
        elif snapshot.moment_error:
            text.append(" — could not load its lines", style=colour("error"))
            problem = snapshot.moment_error
    elif not view.follow:
        text.append("‖ paused", style=colour("warning"))
        if view.new_while_paused:
            text.append(f" — {view.new_while_paused:,} new lines ↓ (space)")
        shown, total = view.position
        text.append(f"  row {shown:,}/{total:,}")
    elif status is None:
        text.append("○ idle")
    elif snapshot.never_connected:
        text.append("✖ never connected", style=colour("error"))
        text.append(f" — retrying (attempt {status.attempts})")
    elif status.failing:
        text.append(f"▲ {status.mode.value}", style=colour("warning"))
        text.append(" — last poll failed" if status.mode is StreamMode.POLLING
                    else " — connection failed, retrying")
    elif status.mode is StreamMode.CONNECTING:
        text.append("○ connecting…")
    else:
        style = {StreamMode.LIVE: colour("success"), StreamMode.POLLING: colour("warning"),
                 StreamMode.RECONNECTING: colour("warning")}.get(status.mode, "")
        text.append(f"● {status.mode.value}", style=style)
        if status.mode is StreamMode.POLLING and status.detail:
            text.append(f" ({sanitize_line(status.detail)})")
    if status is not None:
        text.append(f"  {status.lines_per_s:,.0f}/s  buffered {view.buffered:,}")
        text.append(f"  dropped {status.dropped_server:,} server / "
                    f"{status.dropped_client:,} client")
        if status.last_reconnect is not None:
            text.append(f"  reconnected {status.last_reconnect:%H:%M:%S}")
    else:
        text.append(f"  buffered {view.buffered:,}")
    if not problem:
        return text, None
    reason = Text(overflow="fold", no_wrap=False)
    reason.append("why: ", style=colour("error") if snapshot.never_connected or
                  snapshot.query_error else colour("warning"))
    reason.append(sanitize_line(problem))
    reason.append("  (i: details)", style="dim")
    return text, reason


def _search_text(text: Text, view: ViewState, colour: Callable[[str], str]) -> None:
    """``/db down: 3/12 matches (n/N)  `` while a search is on (the typed text sanitised)."""
    if view.search_error:
        text.append(f"/{sanitize_line(view.search)}: {sanitize_line(view.search_error)}  ",
                    style=colour("error"))
        return
    if not view.search:
        return
    at, total = view.search_hit
    text.append(f"/{sanitize_line(view.search)}: ", style="bold")
    if not total:
        text.append("no matches", style=colour("warning"))
    elif at:
        text.append(f"{at:,}/{total:,} matches (n/N)")
    else:
        text.append(f"{total:,} match{'es' if total != 1 else ''} (n/N)")
    text.append("  ")


def shorten(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` cells with ``…`` at the cut (at least one cell)."""
    cells = max(1, cells)
    if cell_len(text) <= cells:
        return text
    out = []
    used = 0
    for char in text:
        width = cell_len(char)
        if used + width > cells - 1:
            break
        out.append(char)
        used += width
    return "".join(out) + "…"


def shown_zone(*, utc: bool, timestamps: bool) -> str:
    """The zone the border names: the lines' timestamps' zone once they are shown or are
    local (``u``); "" for the default (no timestamps, UTC)."""
    return zone_label(utc=utc) if timestamps or not utc else ""


def border_texts(snapshot: LogsSnapshot, title: str, width: int,
                 zone: str = "") -> tuple[str, str]:
    """The pane's border title (``Logs · <query, shortened to fit>``) and subtitle (the time
    range: ``live, from 5m back`` or the moment's window, then ``times <zone>`` when given),
    sanitised plain text.

    Args:
        snapshot: the feed's latest snapshot.
        title: the pane's own title.
        width: the pane's width in cells.
        zone: the zone the lines' timestamps are in (``UTC``, ``local (CET, UTC+01:00)``);
            "" when no timestamp is shown in a zone to name.
    """
    if snapshot.unconfigured or not snapshot.query:
        return title, ""
    if snapshot.moment is not None:
        half = MOMENT_WINDOW_S // 60
        span = f"◆ {snapshot.moment:%H:%M:%S} UTC ±{half}m"
    else:
        span = f"live, from {int(BACKFILL_S // 60)}m back"
    if zone:
        span += f" · times {zone}"
    room = width - cell_len(title) - 10  # corners, padding, " · "
    query = sanitize_line(snapshot.query)
    if room < 8:
        return title, span
    return f"{title} · {shorten(query, room)}", span


def explain_text(snapshot: LogsSnapshot) -> str:
    """Every fact about the stream, one per line, reasons whole (``i`` shows it)."""
    if snapshot.unconfigured:
        return snapshot.unconfigured
    status = snapshot.stream
    lines = [f"query: {snapshot.query}",
             "range: " + (f"{MOMENT_WINDOW_S // 60}m either side of the moment"
                          if snapshot.moment is not None
                          else f"live tail, from {int(BACKFILL_S // 60)}m back")]
    if snapshot.query != snapshot.base_query:
        lines.append(f"default query: {snapshot.base_query}")
    for health in snapshot.sources:
        state = health.state.value
        lines.append(f"{health.provider}: {state}" + (f" — {health.error}" if health.error else ""))
    if status is not None:
        lines.append(f"mode: {status.mode.value}" + (f" ({status.detail})" if status.detail
                                                     else ""))
        if status.last_error:
            lines.append(f"last error: {status.last_error}")
        if status.last_ok_at is not None:
            lines.append(f"last answer from Loki: {status.last_ok_at:%H:%M:%S} UTC")
        elif not status.connected:
            lines.append(f"Loki has not answered yet ({status.attempts} failed attempts)")
        if status.last_reconnect is not None:
            lines.append(f"last reconnect: {status.last_reconnect:%H:%M:%S} UTC — "
                         f"{status.last_reconnect_reason or ''}".rstrip(" —"))
        lines.append(f"received {status.received:,}, dropped {status.dropped_server:,} by the "
                     f"server / {status.dropped_client:,} by the client, {status.duplicates:,} "
                     f"duplicates removed, {status.gap_filled:,} gap-filled, "
                     f"{status.reconnects:,} reconnects")
    if snapshot.query_error:
        lines.append(f"query error: {snapshot.query_error}")
    if snapshot.moment is not None:
        lines.append(f"moment: {snapshot.moment:%Y-%m-%d %H:%M:%S} UTC"
                     + (f" — {snapshot.moment_error}" if snapshot.moment_error else ""))
    return "\n".join(lines)


class LogStatus(Widget):
    """The status line (one line, fixed height: repaints without a layout pass, only when its
    text changed)."""

    DEFAULT_CSS = """
    LogStatus { height: 1; width: 1fr; color: $text-muted; text-wrap: nowrap;
                text-overflow: ellipsis; }
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


class LogReason(Widget):
    """Why the stream fails, in full: wrapped over up to three lines under the status line, shown
    only while something fails (a layout pass only when it appears, goes or changes)."""

    DEFAULT_CSS = f"""
    LogReason {{ height: auto; max-height: {REASON_LINES}; width: 1fr; display: none;
                 color: $text-muted; }}
    LogReason.-on {{ display: block; }}
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.content: Text | None = None

    def set_text(self, text: Text | None) -> None:
        """Show ``text`` (None hides the line)."""
        old = self.content
        if (text is None and old is None) or (
                text is not None and old is not None and text.plain == old.plain
                and text.spans == old.spans):
            return
        self.content = text
        self.set_class(text is not None, "-on")
        self.refresh(layout=True)

    def render(self) -> Text:
        return self.content if self.content is not None else Text()
