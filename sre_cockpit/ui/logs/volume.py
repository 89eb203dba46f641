"""The log volume strip above the lines: how many lines per column of time, and how severe.

``v`` in the log pane shows it: a row of bars for every line (``▁``…``█``, the height is the
column's line count against the busiest column, warn-coloured where warnings are), a row for the
errors alone (scaled to the busiest error column, so *when errors started* shows even in a
flood of info lines) and an axis row (the strip's start time, ``▲`` under the focused incident's
start, ``now``, and the totals). The counts come from the log feed (:meth:`~sre_cockpit.feeds.logs.LogFeed.volume`, a
Loki metric query); a failure is said in place of the bars. Plain characters and theme colours:
works at 80 columns and in ``ansi-16``. Rendering is pure (:func:`volume_rows`); the widget only
holds the last strip and repaints when it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual.widget import Widget

from sre_cockpit.core.logvolume import VolumeStrip
from sre_cockpit.core.sanitize import sanitize_line

BARS = " ▁▂▃▄▅▆▇█"
"""Bar heights, empty to full."""
MARK = "▲"
"""Under the column of the focused incident's start."""

__all__ = ["BARS", "MARK", "LogVolume", "volume_rows"]


def _bar(total: int, peak: int) -> str:
    if total <= 0 or peak <= 0:
        return BARS[0]
    return BARS[max(1, min(8, round(total / peak * 8)))]


def volume_rows(strip: VolumeStrip | str | None, width: int, colour: Callable[[str], str],
                since: datetime | None = None) -> tuple[Text, Text, Text]:
    """The rows of every line, of the errors and the axis for ``strip`` (a reason string: why there is none; None:
    loading), ``width`` cells wide.

    Args:
        strip: the volume, why there is none, or None while it loads.
        width: cells available (one per column of the strip).
        colour: a theme colour by name (``log-error``, ``log-warn``, ``log-info``).
        since: the focused incident's start, marked under its column.
    """
    if strip is None:
        return Text("volume: loading…", style="dim"), Text(), Text()
    if isinstance(strip, str):
        return (Text(f"volume: {sanitize_line(strip)}", style=colour("log-warn"),
                     no_wrap=True, overflow="ellipsis"), Text(), Text())
    bars = Text(no_wrap=True, overflow="crop")
    error_bars = Text(no_wrap=True, overflow="crop")
    error_peak = max((c.count("error") for c in strip.columns), default=0)
    for column in strip.columns[:width]:
        name = "log-warn" if column.count("warn") else "log-info"
        bars.append(_bar(column.total, strip.peak), style=colour(name))
        error_bars.append(_bar(column.count("error"), error_peak), style=colour("log-error"))
    cells = [" "] * min(width, len(strip.columns))
    if strip.columns:
        start = datetime.fromtimestamp(strip.columns[0].start_s, UTC).strftime("%H:%M")
        errors = sum(c.count("error") for c in strip.columns)
        warns = sum(c.count("warn") for c in strip.columns)
        summary = f" {start} UTC · {strip.total:,} lines · {errors:,} errors · {warns:,} warn "
        if len(summary) + 4 > len(cells):
            summary = f" {start} "
        cells[:len(summary)] = list(summary)[:len(cells)]
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


class LogVolume(Widget):
    """Three fixed rows above the log lines (hidden until ``v``)."""

    DEFAULT_CSS = """
    LogVolume { height: 3; width: 1fr; display: none; }
    LogVolume.-on { display: block; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.strip: VolumeStrip | str | None = None
        """The last volume (or why there is none; None while loading)."""
        self.since: datetime | None = None
        """The focused incident's start (marked)."""
        self.colour: Callable[[str], str] = lambda name: "default"

    def show(self, strip: VolumeStrip | str | None, since: datetime | None) -> None:
        """Show a new strip (repaints only when it changed)."""
        if strip == self.strip and since == self.since:
            return
        self.strip = strip
        self.since = since
        self.refresh()

    def render(self) -> Text:
        rows = volume_rows(self.strip, self.size.width or 80, self.colour, self.since)
        return Text("\n").join(rows)
