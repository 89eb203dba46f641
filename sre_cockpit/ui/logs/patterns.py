"""The patterns panel of the log pane: the buffer's lines grouped by pattern.

``a`` (aggregate) shows it above the lines: one row per pattern (variable parts masked as
``<_>``) with its count and first/last seen, the patterns that first appeared in the newest part of the buffer
first and marked ``✱ new``, then the rest by count; the header says where the patterns came from
(Loki's pattern endpoint, or mined locally and why). ``a`` again closes it. The patterns come from
:meth:`~sre_cockpit.feeds.logs.LogFeed.patterns`; every template and example is sanitised, and
rows are built from plain strings (never markup).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual.widget import Widget

from sre_cockpit.core.loglines import LEVEL_NAMES
from sre_cockpit.core.logpatterns import Pattern, PatternReport
from sre_cockpit.core.sanitize import sanitize_line

MAX_ROWS = 12
"""Pattern rows shown (the rest are counted in the header)."""
NEW = "✱ new"

PatternLoader = Callable[[Sequence[tuple[int, str]]], Awaitable[tuple[PatternReport, str]]]
"""The feed's patterns: the buffer's ``(ts_ns, line)`` → the report and where it came from."""

__all__ = ["MAX_ROWS", "NEW", "LogPatterns", "PatternLoader", "ordered", "pattern_rows"]


def ordered(report: PatternReport) -> list[Pattern]:
    """New patterns first (newest first), then the others by count."""
    new = list(report.new)
    rest = sorted((p for p in report.patterns if not p.new), key=lambda p: (-p.count, p.first_ns))
    return new + rest


def _clock(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%H:%M:%S") if ns else "--:--:--"


def pattern_rows(report: PatternReport | str | None, origin: str,
                 colour: Callable[[str], str], rows: int = MAX_ROWS) -> Text:
    """The panel's text: a header and up to ``rows`` pattern rows.

    Args:
        report: the patterns, why there are none, or None while they are computed.
        origin: where they came from (``loki`` or ``local (…)``).
        colour: a theme colour by name.
        rows: pattern rows at most.
    """
    if report is None:
        return Text("patterns: grouping the buffer…", style="dim")
    if isinstance(report, str):
        return Text(f"patterns: {sanitize_line(report)}", style=colour("log-warn"))
    shown = ordered(report)[:rows]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"patterns ({sanitize_line(origin)}): {len(report.patterns):,} over "
                f"{report.lines:,} lines, {len(report.new):,} new", style="bold")
    hidden = len(report.patterns) - len(shown)
    if hidden > 0:
        text.append(f" · {hidden:,} more not shown", style="dim")
    text.append(" · a closes", style="dim")
    for pattern in shown:
        text.append("\n")
        text.append(f"{NEW if pattern.new else '     '} ",
                    style=f"bold {colour('log-error')}" if pattern.new else "")
        text.append(f"{pattern.count:>8,}  {_clock(pattern.first_ns)}–{_clock(pattern.last_ns)}  ",
                    style="dim")
        level = LEVEL_NAMES.get(pattern.level)
        text.append(pattern.shown, style=colour(f"log-{level}") if level else "")
    return text


class LogPatterns(Widget):
    """The patterns panel (hidden until ``a``)."""

    DEFAULT_CSS = f"""
    LogPatterns {{ height: auto; max-height: {MAX_ROWS + 1}; width: 1fr; display: none;
                   border-bottom: solid $primary 30%; text-wrap: nowrap;
                   text-overflow: ellipsis; }}
    LogPatterns.-on {{ display: block; }}
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.report: PatternReport | str | None = None
        self.origin = ""
        self.colour: Callable[[str], str] = lambda name: "default"
        self.loader: PatternLoader | None = None
        """Computes the patterns (the log feed's); None: no log provider."""

    def toggle(self, lines: Sequence[tuple[int, str]]) -> None:
        """Show the patterns of ``lines`` (computed in a worker: keys are never blocked), or
        close the panel."""
        on = not self.has_class("-on")
        self.set_class(on, "-on")
        if on and self.loader is not None:
            self.show(None)
            self.run_worker(self._load(lines), exit_on_error=False, group="logs-patterns",
                            exclusive=True)

    async def _load(self, lines: Sequence[tuple[int, str]]) -> None:
        assert self.loader is not None
        report, origin = await self.loader(lines)
        self.show(report, origin)

    def show(self, report: PatternReport | str | None, origin: str = "") -> None:
        """Show a report (or why there is none; None while computing)."""
        self.report = report
        self.origin = origin
        self.refresh(layout=True)

    def render(self) -> Text:
        return pattern_rows(self.report, self.origin, self.colour)
