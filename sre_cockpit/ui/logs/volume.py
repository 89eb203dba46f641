"""The log volume strip above the lines: how many lines per column of time, and how severe.

``v`` in the log pane shows it: a row of bars for every line (``▁``…``█``, the height is the
column's line count against the busiest column, warn-coloured where warnings are), a row for the
errors alone (scaled to the busiest error column, so *when errors started* shows even in a
flood of info lines) and an axis row (the strip's start time, ``▲`` under the focused incident's
start, ``now``, and the totals). The counts come from the log feed (:meth:`~sre_cockpit.feeds.logs.LogFeed.volume`, a
Loki metric query); a failure is said in place of the bars. Plain characters and theme colours:
works at 80 columns and in ``ansi-16``. Rendering is pure (:func:`volume_rows`); the widget only
holds the last strip and repaints when it changes.

Choosing a moment: ``v`` gives the strip the focus; the first ``left``/``right`` selects the
newest bar (reversed), the next ones move the selection (the axis row names its time), ``enter``
or a click on a bar posts :class:`LogVolume.MomentChosen` with the middle of that column — the
pane moves the app's incident clock there, so the log view shows the lines around it (follow
off) and the other panes follow. ``esc`` gives the focus back to the lines, ``v`` hides the strip.
The widget fetches its own strip through ``loader`` (the feed's volume query), again every
:data:`REFRESH_S` while shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from sre_cockpit.core.logvolume import VolumeStrip
from sre_cockpit.core.sanitize import sanitize_line

VolumeLoader = Callable[[int, datetime | None], Awaitable[VolumeStrip | str]]
"""The feed's volume query: (columns, the focused incident's start) → the strip or why not."""
REFRESH_S = 30.0
"""The strip is fetched again this often while shown."""

BARS = " ▁▂▃▄▅▆▇█"
"""Bar heights, empty to full."""
MARK = "▲"
"""Under the column of the focused incident's start."""

__all__ = ["BARS", "MARK", "REFRESH_S", "LogVolume", "VolumeLoader", "column_moment",
           "volume_rows"]


def _bar(total: int, peak: int) -> str:
    if total <= 0 or peak <= 0:
        return BARS[0]
    return BARS[max(1, min(8, round(total / peak * 8)))]


def column_moment(strip: VolumeStrip, index: int) -> datetime:
    """The moment a column stands for: the middle of its span."""
    column = strip.columns[index]
    return datetime.fromtimestamp((column.start_s + column.end_s) / 2, UTC)


def _selected_caption(strip: VolumeStrip, index: int) -> str:
    column = strip.columns[index]
    at = column_moment(strip, index)
    return (f" ▸ {at:%H:%M:%S} UTC · {column.total:,} lines · {column.count('error'):,} errors"
            f" · enter ")


def volume_rows(strip: VolumeStrip | str | None, width: int, colour: Callable[[str], str],
                since: datetime | None = None,
                selected: int | None = None) -> tuple[Text, Text, Text]:
    """The rows of every line, of the errors and the axis for ``strip`` (a reason string: why there is none; None:
    loading), ``width`` cells wide.

    Args:
        strip: the volume, why there is none, or None while it loads.
        width: cells available (one per column of the strip).
        colour: a theme colour by name (``log-error``, ``log-warn``, ``log-info``).
        since: the focused incident's start, marked under its column.
        selected: the column chosen with left/right (reversed; the axis names its time).
    """
    if strip is None:
        return Text("volume: loading…", style="dim"), Text(), Text()
    if isinstance(strip, str):
        return (Text(f"volume: {sanitize_line(strip)}", style=colour("log-warn"),
                     no_wrap=True, overflow="ellipsis"), Text(), Text())
    bars = Text(no_wrap=True, overflow="crop")
    error_bars = Text(no_wrap=True, overflow="crop")
    error_peak = max((c.count("error") for c in strip.columns), default=0)
    for index, column in enumerate(strip.columns[:width]):
        name = "log-warn" if column.count("warn") else "log-info"
        chosen = " reverse" if index == selected else ""
        bars.append(_bar(column.total, strip.peak), style=colour(name) + chosen)
        error_bars.append(_bar(column.count("error"), error_peak),
                          style=colour("log-error") + chosen)
    cells = [" "] * min(width, len(strip.columns))
    if strip.columns:
        start = datetime.fromtimestamp(strip.columns[0].start_s, UTC).strftime("%H:%M")
        errors = sum(c.count("error") for c in strip.columns)
        warns = sum(c.count("warn") for c in strip.columns)
        summary = f" {start} UTC · {strip.total:,} lines · {errors:,} errors · {warns:,} warn "
        chosen = ""
        if selected is not None and 0 <= selected < len(strip.columns):
            chosen = _selected_caption(strip, selected)
            if len(summary) + len(chosen) + 4 > len(cells):  # the totals stay: its time only
                chosen = f" ▸ {column_moment(strip, selected):%H:%M:%S} UTC "
            if len(summary) + len(chosen) + 4 > len(cells):  # no room for both: the chosen bar
                summary, chosen = _selected_caption(strip, selected), ""
        if len(summary) + 4 > len(cells):
            summary = f" {start} " if not summary.startswith(" ▸") else \
                f" ▸ {summary.split()[1]} "
        cells[:len(summary)] = list(summary)[:len(cells)]
        if chosen:  # right-aligned before "now"
            cells[len(cells) - 4 - len(chosen):len(cells) - 4] = list(chosen)
        if len(cells) >= 4:
            cells[-4:] = list(" now")
    axis = Text("".join(cells), style="dim", no_wrap=True, overflow="crop")
    if since is not None:
        at = strip.column_at(since.timestamp())
        if at is not None and at < len(cells):
            axis = Text("".join(cells[:at]), style="dim")
            axis.append(MARK, style=f"bold {colour('log-error')}")
            axis.append("".join(cells[at + 1:]), style="dim")
    return bars, error_bars, axis


class LogVolume(Widget, can_focus=True):
    """Three fixed rows above the log lines (hidden until ``v``); a bar chooses a moment."""

    DEFAULT_CSS = """
    LogVolume { height: 3; width: 1fr; display: none; }
    LogVolume.-on { display: block; }
    LogVolume:focus { background-tint: $foreground 4%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "earlier", id="volume.earlier"),
        Binding("right", "move(1)", "later", id="volume.later"),
        Binding("enter", "choose", "logs there", id="volume.choose"),
        Binding("escape", "back", "back to lines", id="volume.back"),
        Binding("v", "hide", "hide", id="volume.hide"),
    ]

    class MomentChosen(Message):
        """A bar was chosen: show the logs (and every pane) at ``at``."""

        def __init__(self, at: datetime) -> None:
            super().__init__()
            self.at = at

    class Closed(Message):
        """The strip gave the focus back (``esc``) or was hidden (``v``)."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.strip: VolumeStrip | str | None = None
        """The last volume (or why there is none; None while loading)."""
        self.since: datetime | None = None
        """The focused incident's start (marked)."""
        self.selected: int | None = None
        """The column chosen with left/right (None until the strip has the focus)."""
        self.colour: Callable[[str], str] = lambda name: "default"
        self.loader: VolumeLoader | None = None
        """Fetches the strip (the log feed's volume query); None: no log provider."""
        self._timer: Timer | None = None

    @property
    def shown(self) -> bool:
        """Whether the strip is on screen."""
        return self.has_class("-on")

    def toggle(self) -> bool:
        """Show (and keep fetching) or hide the strip; returns whether it is shown now."""
        on = not self.shown
        self.set_class(on, "-on")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if on:
            self.show(None, self.since)
            self._timer = self.set_interval(REFRESH_S, self.load)
            self.call_after_refresh(self.load)  # once it has its width
        else:
            self.selected = None
        return on

    def set_since(self, since: datetime | None) -> None:
        """Mark the focused incident's start (and show its span: fetched again)."""
        if since != self.since:
            self.since = since
            self.load()

    def load(self) -> None:
        """Fetch the strip (only while it is shown)."""
        if self.loader is None or not self.shown:
            return
        self.run_worker(self._load(), exit_on_error=False, group="logs-volume", exclusive=True)

    async def _load(self) -> None:
        assert self.loader is not None
        since = self.since
        strip = await self.loader(max(10, self.size.width or 80), since)
        self.show(strip, since)

    def show(self, strip: VolumeStrip | str | None, since: datetime | None) -> None:
        """Show a new strip (repaints only when it changed)."""
        if strip == self.strip and since == self.since:
            return
        self.strip = strip
        self.since = since
        if isinstance(strip, VolumeStrip) and self.selected is not None:
            self.selected = min(self.selected, len(strip.columns) - 1) if strip.columns else None
        self.refresh()

    def _columns(self) -> int:
        if not isinstance(self.strip, VolumeStrip):
            return 0
        return min(len(self.strip.columns), self.size.width or 80)

    def on_blur(self) -> None:
        self.selected = None
        self.refresh()

    def action_move(self, step: int) -> None:
        """``left``/``right``: the previous/next bar (the first press: the newest)."""
        count = self._columns()
        if not count:
            return
        # the first key selects the newest bar, the next ones move
        self.selected = count - 1 if self.selected is None else \
            max(0, min(count - 1, self.selected + step))
        self.refresh()

    def action_choose(self) -> None:
        """``enter``: the logs (and the incident clock) at the selected bar's time."""
        if isinstance(self.strip, VolumeStrip) and self.selected is not None \
                and self.selected < len(self.strip.columns):
            self.post_message(self.MomentChosen(column_moment(self.strip, self.selected)))

    def on_click(self, event: events.Click) -> None:
        """A click on a bar chooses it."""
        if event.y < 2 and 0 <= event.x < self._columns():
            event.stop()
            self.selected = event.x
            self.refresh()
            self.action_choose()

    def action_back(self) -> None:
        self.post_message(self.Closed())

    def action_hide(self) -> None:
        self.toggle()
        self.post_message(self.Closed())

    def render(self) -> Text:
        rows = volume_rows(self.strip, self.size.width or 80, self.colour, self.since,
                           self.selected)
        return Text("\n").join(rows)
