"""Log lines as the log pane and the CLI show them (headless: no Textual).

A :class:`Row` is one buffered entry, sanitised once on arrival; :func:`detect_level` classifies
it (Loki labels, logfmt ``level=``, JSON ``"level"``, common upper-case words); :class:`LineFilter`
is the ``/`` filter (substring with smart case, ``/regex/``, ``!`` inverts);
:func:`clipboard_sequence` builds OSC 52, wrapped for tmux.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len

from sre_cockpit.core.models import LogLine
from sre_cockpit.core.sanitize import sanitize_line, scan

NS = 1_000_000_000

ERROR, WARN, INFO, DEBUG, NONE = 0, 1, 2, 3, 4
UNKNOWN = -1  # not detected yet (see row_level)
LEVEL_NAMES = {ERROR: "error", WARN: "warn", INFO: "info", DEBUG: "debug"}
_LEVEL_WORDS = {
    "fatal": ERROR, "panic": ERROR, "crit": ERROR, "critical": ERROR, "emerg": ERROR,
    "alert": ERROR, "error": ERROR, "err": ERROR, "eror": ERROR, "severe": ERROR,
    "warn": WARN, "warning": WARN, "wrn": WARN,
    "info": INFO, "information": INFO, "informational": INFO, "notice": INFO, "inf": INFO,
    "debug": DEBUG, "dbg": DEBUG, "trace": DEBUG, "verbose": DEBUG,
}
_KV_LEVEL = re.compile(r"""(?i)["']?\b(?:level|lvl|severity|loglevel|log_level)["']?\s*[=:]\s*["']?([A-Za-z]+)""")
_WORD_LEVEL = re.compile(r"\b(FATAL|PANIC|CRIT(?:ICAL)?|ERROR|ERR|WARN(?:ING)?|INFO|NOTICE|DEBUG|TRACE)\b")
_LEVEL_LABELS = ("level", "detected_level", "severity", "lvl")
COLOUR_FALLBACK = {"log-error": "#ff6b6b", "log-warn": "#ffd23f", "log-info": "#d8dee9",
                   "log-debug": "#7a8494", "accent": "#61afef", "stale": "#888888"}
TAB_SIZE = 4


def level_of_word(word: str) -> int:
    """The level class of one level word (``"WARNING"`` → :data:`WARN`, ``"fatal"`` →
    :data:`ERROR`); :data:`NONE` for a word that is not a level."""
    return _LEVEL_WORDS.get(word.strip().lower(), NONE)


def detect_level(line: str, labels: Any = None, metadata: Any = None) -> int:
    """The line's level: Loki labels/metadata first, then logfmt ``level=``, JSON ``"level"``,
    then common upper-case words (ERROR, WARN, …) near the start of the line."""
    for source in (metadata, labels):
        if source:
            for key in _LEVEL_LABELS:
                value = source.get(key)
                if value:
                    found = _LEVEL_WORDS.get(str(value).lower())
                    if found is not None:
                        return found
    head = line[:512]
    match = _KV_LEVEL.search(head)
    if match:
        found = _LEVEL_WORDS.get(match.group(1).lower())
        if found is not None:
            return found
    match = _WORD_LEVEL.search(head)
    if match:
        return _LEVEL_WORDS.get(match.group(1).lower(), NONE)
    return NONE


def clipboard_sequence(text: str, *, tmux: bool) -> str:
    """OSC 52 "set clipboard" for ``text``; inside tmux wrapped in a DCS passthrough
    (``ESC P tmux; … ESC \\`` with inner ESCs doubled)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    osc = f"\x1b]52;c;{payload}\x07"
    if not tmux:
        return osc
    return "\x1bPtmux;" + osc.replace("\x1b", "\x1b\x1b") + "\x1b\\"


@dataclass(slots=True)
class LineFilter:
    """``/`` filter: substring (smart case) or ``/regex/``; ``!`` in front inverts."""

    text: str
    pattern: re.Pattern[str] | None
    invert: bool

    @classmethod
    def parse(cls, text: str) -> LineFilter | None:
        """None for an empty filter.

        Raises:
            ValueError: for an invalid regular expression (message fit for a toast).
        """
        raw = text.strip()
        if not raw:
            return None
        invert = raw.startswith("!")
        body = raw[1:] if invert else raw
        if not body:
            return None
        if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
            try:
                pattern = re.compile(body[1:-1])
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        else:
            flags = 0 if any(ch.isupper() for ch in body) else re.IGNORECASE
            pattern = re.compile(re.escape(body), flags)
        return cls(raw, pattern, invert)

    def matches(self, text: str) -> bool:
        """Whether a (sanitised) line is shown."""
        assert self.pattern is not None
        found = self.pattern.search(text) is not None
        return found != self.invert

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Match ranges to highlight (none for an inverted filter)."""
        if self.invert or self.pattern is None:
            return []
        return [(m.start(), m.end()) for m in self.pattern.finditer(text) if m.end() > m.start()]


@dataclass(frozen=True, slots=True)
class RowFilter:
    """``/`` filter of a table pane: every word (case-insensitive), or a :class:`LineFilter`
    for ``/regex/`` and a leading ``!`` (invert)."""

    text: str = ""  # lower-cased filter as typed ("" = no filter)
    line: LineFilter | None = None

    @classmethod
    def parse(cls, text: str) -> RowFilter:
        """Parse what the operator typed.

        Raises:
            ValueError: for an invalid regular expression (message fit for a toast).
        """
        raw = text.strip()
        line = None
        if raw.startswith("!") or (len(raw) >= 2 and raw.startswith("/") and raw.endswith("/")):
            line = LineFilter.parse(raw)
        return cls(raw.lower() if line is not None or not raw.startswith("!") else "", line)

    def matches(self, hay: str) -> bool:
        """Whether a row whose searchable text is ``hay`` is shown."""
        if not self.text:
            return True
        if self.line is not None:
            return self.line.matches(hay)
        hay = hay.lower()
        return all(word in hay for word in self.text.split())


@dataclass(slots=True)
class Row:
    """One buffered entry, sanitised once (no LogLine kept: 100k rows must stay small)."""

    id: int
    ts_ns: int
    raw: str
    """The line as received, capped at the pane's max line bytes (a 1 MiB line is not kept)."""
    labels: Mapping[str, str]
    metadata: Mapping[str, str]
    text: str
    marks: tuple[tuple[int, int], ...]
    level: int
    cells: int

    @property
    def line(self) -> LogLine:
        """The entry as a :class:`LogLine` (for pins)."""
        return LogLine(self.ts_ns, self.raw, self.labels, self.metadata)


def make_row(row_id: int, line: LogLine, max_bytes: int) -> Row:
    """Sanitise and classify one line (tabs expanded so cells line up)."""
    raw = line.line
    if len(raw) * 4 > max_bytes:
        data = raw.encode("utf-8", "surrogatepass")
        if len(data) > max_bytes:
            raw = data[:max_bytes].decode("utf-8", "ignore")
    shown = raw.expandtabs(TAB_SIZE) if "\t" in raw else raw
    result = scan(shown, max_bytes=None)
    text = result.text
    marks = result.marks
    cut = len(line.line.encode("utf-8", "surrogatepass")) - len(raw.encode("utf-8", "surrogatepass")) \
        if raw is not line.line else 0
    if cut:
        suffix = f"…+{cut} bytes"
        marks = (*marks, (len(text), len(text) + len(suffix)))
        text += suffix
    return Row(row_id, line.ts_ns, raw, line.labels, line.metadata, text, marks, UNKNOWN,
               cell_len(text))


def row_level(row: Row) -> int:
    """The row's level, detected on first use (only rows drawn or searched pay for it)."""
    level = row.level
    if level == UNKNOWN:
        level = row.level = detect_level(row.raw, row.labels, row.metadata)
    return level


def format_ts(ts_ns: int, *, utc: bool) -> str:
    """``HH:MM:SS.mmm`` in UTC or local time."""
    moment = datetime.fromtimestamp(ts_ns / NS, tz=UTC)
    if not utc:
        moment = moment.astimezone()
    return moment.strftime("%H:%M:%S.") + f"{(ts_ns // 1_000_000) % 1000:03d}"


def zone_label(*, utc: bool, at: datetime | None = None) -> str:
    """The zone :func:`format_ts` writes in: ``UTC``, or ``local (CET, UTC+01:00)`` — the
    local zone's name (when it has one apart from its offset) and its offset at ``at``
    (default: now)."""
    if utc:
        return "UTC"
    moment = (at or datetime.now(UTC)).astimezone()
    offset = moment.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = moment.tzname() or ""
    if not name or name[0] in "+-" or name.upper() in ("UTC", offset):
        return f"local ({offset})"
    return f"local ({sanitize_line(name, max_bytes=32)}, {offset})"


def format_labels(labels: Any) -> str:
    """``{app=x,pod=y}`` (sanitised) or empty."""
    if not labels:
        return ""
    inner = ",".join(f"{sanitize_line(k, max_bytes=64)}={sanitize_line(v, max_bytes=128)}"
                     for k, v in sorted(labels.items()))
    return "{" + inner + "}"
