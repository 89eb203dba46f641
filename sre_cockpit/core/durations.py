"""Durations as people write them: "500ms", "15s", "5m", "1h30m", "30d", "1w"."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Annotated, Any

if TYPE_CHECKING:
    from pydantic import BeforeValidator

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
MAX_DURATION_S = 10 * _UNITS["y"]
"""The longest duration accepted (10y): no SLO window, poll interval or timeout is anywhere near
it, and spans of a few thousand years overflow date arithmetic (``datetime`` ends in year 9999),
so a longer value is a typo (``999999999999w``) to refuse at load, not a crash later."""
_TOO_LONG = ("is too long: at most 10y (3650d); no window, interval or timeout needs more, "
             "and far longer spans overflow date arithmetic")


def parse_duration(value: Any) -> float:
    """Seconds from a duration string (or a bare number of seconds).

    Raises:
        ValueError: with a message fit for a config error line.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 15s, 5m, 30d, got {value!r}")
    if isinstance(value, int) and value > MAX_DURATION_S:  # before float(): 10**400 overflows
        raise ValueError(f"duration {_shown(value)} seconds {_TOO_LONG}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("a duration must be a finite number")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        if value > MAX_DURATION_S:
            raise ValueError(f"duration {_shown(value)} seconds {_TOO_LONG}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like 15s, 5m, 30d, got {type(value).__name__}")
    text = value.strip()
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(
            f"invalid duration {_shown(value)}: use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s, 5m, 30d")
    if total > MAX_DURATION_S:
        raise ValueError(f"duration {_shown(value)} {_TOO_LONG}")
    return total


def _shown(value: object) -> str:
    """``repr`` of a value for a message, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def format_duration(seconds: float) -> str:
    """Prometheus-style shortest form: 300 -> "5m", 5400 -> "1h30m", 0.5 -> "500ms"."""
    if not math.isfinite(seconds):
        return "∞" if seconds > 0 else "-∞"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    total_ms = round(seconds * 1000)
    if total_ms == 0:
        return "0s"
    if total_ms < 1000:
        return f"{total_ms}ms"
    rest, millis = divmod(total_ms, 1000)
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if unit == "w" and rest % 604800:  # prefer 30d to 4w2d
            continue
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    if millis:
        out.append(f"{millis}ms")
    return "".join(out) or "0s"


def humanize_age(seconds: float | None) -> str:
    """Compact age for badges: "4s", "3m", "2h", "5d", or "—" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


if TYPE_CHECKING:
    Duration = Annotated[float, BeforeValidator(parse_duration)]
    """A pydantic field type: accepts "15s"/"5m"/numbers, stores seconds as float."""
else:

    def __getattr__(name: str) -> Any:
        """``Duration`` is built on first use: pydantic takes ~0.1 s to import, and widgets that
        only need ``humanize_age`` (the TUI's first frame) should not wait for it."""
        if name == "Duration":
            from pydantic import BeforeValidator

            value = Annotated[float, BeforeValidator(parse_duration)]
            globals()["Duration"] = value
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MAX_POINTS = 11_000
"""Prometheus refuses a range query of more than 11,000 points per series."""


def align_range(start: float, end: float, step: float, *, align: bool = True) -> tuple[float, float, float]:
    """Start, end and step of a range query: step raised so at most ``MAX_POINTS`` points come
    back, start and end floored to a multiple of step (query-frontend caches key on that)."""
    if step <= 0 or not math.isfinite(step):
        raise ValueError("step must be a positive number of seconds")
    if end < start:
        raise ValueError("end is before start")
    span = end - start
    if span / step + 1 > MAX_POINTS:
        step = float(math.ceil(span / (MAX_POINTS - 1)))
    if align:
        start = math.floor(start / step) * step
        end = max(start, math.floor(end / step) * step)
    return start, end, step

