"""How the SLO table looks: figures, gauges, sparklines and which columns fit.

Pure functions (no widgets), tested without a terminal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from rich.text import Text

from sre_cockpit.core.durations import parse_duration
from sre_cockpit.core.models import SloState, SloStatus

SPARK = "▁▂▃▄▅▆▇█"
BADGES = {SloState.CRITICAL: "CRIT", SloState.WARNING: "WARN", SloState.OK: "OK",
          SloState.NO_DATA: "NODATA"}
STATE_VAR = {SloState.CRITICAL: "slo-critical", SloState.WARNING: "slo-warning",
             SloState.OK: "slo-ok", SloState.NO_DATA: "slo-nodata"}


# ---------------------------------------------------------------------------------- formatting


def fmt_burn(value: float | None) -> str:
    """``"0.04"``, ``"3.50"``, ``"14.4"``, ``"120"``; ``"—"`` without data."""
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def fmt_percent(value: float | None, digits: int = 1) -> str:
    """``0.721`` → ``"72.1%"``; ``"—"`` without data."""
    if value is None or math.isnan(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_objective(objective: float) -> str:
    """``0.999`` → ``"99.9%"``."""
    return f"{round(objective * 100, 6):g}%"


def fmt_remaining(seconds: float) -> str:
    """``11520`` → ``"3h12m"``; days above one day (``"2d4h"``)."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 10:
        return f"{days}d"
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{max(minutes, 1)}m"


def exhaustion_text(status: SloStatus, now: datetime) -> str:
    """``"in 3h12m"``, ``"exhausted"`` or ``"—"``."""
    budget = status.error_budget_remaining
    if budget is not None and budget <= 0:
        return "exhausted"
    if status.exhausted_at is None:
        return "—"
    return "in " + fmt_remaining((status.exhausted_at - now).total_seconds())


def sparkline(values: Sequence[float], width: int) -> str:
    """Unicode block sparkline of the newest ``width`` values (min span 5 % of budget so noise
    does not look like a cliff)."""
    points = [v for v in values if not math.isnan(v)][-width:] if width > 0 else []
    if not points:
        return ""
    lo, hi = min(points), max(points)
    if hi - lo < 0.05:
        mid = (hi + lo) / 2
        lo, hi = mid - 0.025, mid + 0.025
    scale = (len(SPARK) - 1) / (hi - lo)
    return "".join(SPARK[max(0, min(len(SPARK) - 1, round((v - lo) * scale)))] for v in points)


def gauge(budget: float | None, width: int) -> str:
    """``███████░░░`` for the remaining fraction (clamped to 0..1)."""
    if budget is None or math.isnan(budget):
        return "·" * width
    filled = round(max(0.0, min(1.0, budget)) * width)
    return "█" * filled + "░" * (width - filled)


# ---------------------------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: key, header, width (including one separator cell), drop priority
    (higher is dropped first)."""

    key: str
    label: str
    width: int
    priority: int


WINDOW_PRIORITY = {300.0: 2, 3600.0: 2, 21600.0: 3, 86400.0: 4, 1800.0: 6, 7200.0: 6,
                   259200.0: 7}


def layout_columns(width: int, windows: Sequence[str]) -> list[Column]:
    """The columns that fit in ``width`` cells, dropping the least important first (trend,
    target, the 3d/2h/30m burn rates, SLI, 1d …; the budget gauge shrinks before anything
    important goes). Left-over room widens the name (up to 32) and then the trend (up to 25)."""
    cols = [Column("name", "SLO", 20, 0), Column("objective", "target", 8, 8),
            Column("sli", "SLI", 9, 5), Column("budget", "budget left", 17, 1)]
    for w in windows:
        try:
            seconds = parse_duration(w)
        except ValueError:
            continue
        cols.append(Column(f"burn:{w}", w, 6, WINDOW_PRIORITY.get(seconds, 7)))
    cols += [Column("state", "state", 9, 0), Column("exhaust", "budget gone", 12, 3),
             Column("trend", "trend 24h", 14, 9)]
    avail = max(30, width - 2)
    while sum(c.width for c in cols) > avail:
        droppable = [c for c in cols if c.priority > 0]
        if not droppable:
            if cols[0].width > 12:  # last resort: a narrower name
                cols[0] = replace(cols[0], width=max(12, avail - sum(c.width for c in cols[1:])))
                continue
            break
        worst = max(droppable, key=lambda c: (c.priority, cols.index(c)))
        if worst.key == "budget" and worst.width > 12:
            cols[cols.index(worst)] = replace(worst, width=12, priority=10 + worst.priority)
            continue
        cols.remove(worst)
    spare = avail - sum(c.width for c in cols)
    grow = min(12, max(0, spare))
    cols[0] = replace(cols[0], width=cols[0].width + grow)
    spare -= grow
    for i, col in enumerate(cols):
        if col.key == "trend" and spare > 0:
            cols[i] = replace(col, width=min(25, col.width + spare))
    return cols


def cell(text: str, width: int, style: str = "", *, right: bool = False) -> Text:
    """One cell cut to ``width - 1`` cells (the last cell separates columns)."""
    out = Text(text, style=style, no_wrap=True, overflow="ellipsis",
               justify="right" if right else "left")
    out.truncate(max(1, width - 1), overflow="ellipsis")
    if right:
        out = Text(" " * max(0, width - 1 - out.cell_len)) + out
    return out


def burn_for(rates: Mapping[str, float | None], window: str) -> float | None:
    if window in rates:
        return rates[window]
    try:
        seconds = parse_duration(window)
    except ValueError:
        return None
    for key, value in rates.items():
        try:
            if parse_duration(key) == seconds:
                return value
        except ValueError:
            continue
    return None


def cell_key(text: Text) -> tuple[object, ...]:
    """What a cell looks like (Text == ignores the base style)."""
    return (text.plain, str(text.style), tuple(text.spans))


def fit_text(text: Text, width: int) -> Text:
    out = text.copy()
    out.no_wrap = True
    out.truncate(max(1, width - 1), overflow="ellipsis", pad=True)
    out.append(" ")
    return out
