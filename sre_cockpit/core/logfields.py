"""Structured log lines: logfmt and JSON parsed with a bounded cost, shown message-first.

:func:`parse_line` turns one raw line into a frozen :class:`Structured` value: its time, level and
message (found under the usual key aliases, case-insensitively) and the other fields in the order
they came. It is meant to run lazily, only for the rows on screen: :class:`FieldCache` keeps the
last few hundred results keyed by row id. :func:`render` lays a value out as plain segments for a
chosen set of columns (time, level, message, then ``k=v`` fields), which the log view styles.

Bounded cost: a line is parsed as JSON only up to :data:`MAX_PARSE_BYTES` (longer JSON is shown as
a plain line) and only when its bracket nesting is at most :data:`MAX_JSON_NESTING` (checked with a
linear scan before decoding, so a hostile ``[[[[…`` never reaches a recursive decoder); nested
objects are flattened to ``a.b.c`` keys down to :data:`MAX_FLATTEN_DEPTH` and shown as compact
JSON below that; a logfmt line is read up to the same byte cap; at most :data:`MAX_FIELDS` fields
are kept and the rest counted. Nothing here raises on any input.

Terminal safety: every key, value, time, level and message is passed through
:mod:`sre_cockpit.core.sanitize` before it is stored, after unquoting and JSON unescaping, so an escape
sequence hidden as ``\\u001b`` in a JSON string or ``\\x1b`` bytes in a logfmt value is shown as
``␛``, never sent. Nothing here imports Textual.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sre_cockpit.core.loglines import NONE, level_of_word
from sre_cockpit.core.sanitize import sanitize_line

MAX_PARSE_BYTES = 16 * 1024
"""Lines longer than this are parsed only up to here (logfmt) or shown plain (JSON)."""
MAX_FIELDS = 64
"""Fields kept per line (after the time, level and message); the rest are counted."""
MAX_JSON_NESTING = 64
"""JSON nested deeper than this is not decoded (shown as a plain line)."""
MAX_FLATTEN_DEPTH = 3
"""Nested JSON objects become ``a.b.c`` keys down to this depth, compact JSON below it."""
MAX_VALUE_BYTES = 1024
"""Bytes of one field value shown (the sanitiser marks the cut with ``…+N bytes``)."""
MAX_KEY_BYTES = 128
MAX_MSG_BYTES = 4096

TS_KEYS = ("ts", "time", "timestamp", "@t", "@timestamp")
LEVEL_KEYS = ("level", "lvl", "severity", "@l", "log.level")
MSG_KEYS = ("msg", "message", "@m", "log")

TS, LEVEL, MSG = "ts", "level", "msg"
OTHERS = "*"
"""Column name standing for every field not named by another column."""
DEFAULT_COLUMNS: tuple[str, ...] = (TS, LEVEL, MSG, OTHERS)

JSON, LOGFMT, PLAIN = "json", "logfmt", "plain"


@dataclass(frozen=True, slots=True)
class Structured:
    """One log line as fields, every string already sanitised (one line, terminal-safe).

    Attributes:
        kind: ``"json"``, ``"logfmt"`` or ``"plain"`` (not structured: ``msg`` is the line).
        ts: The line's own time field as written, if any.
        level: The level field as written, if any.
        msg: The message field (the whole line for a plain line), if any.
        fields: The other fields in line order; a value of ``None`` is a bare logfmt key.
            Duplicate keys are all kept.
        dropped: Fields not kept because of :data:`MAX_FIELDS`.
        truncated_bytes: Bytes of the line not parsed because of :data:`MAX_PARSE_BYTES`.
    """

    kind: str
    ts: str | None = None
    level: str | None = None
    msg: str | None = None
    fields: tuple[tuple[str, str | None], ...] = ()
    dropped: int = 0
    truncated_bytes: int = 0

    @property
    def level_class(self) -> int:
        """The level as a :mod:`sre_cockpit.core.loglines` class (``ERROR`` … ``NONE``)."""
        return level_of_word(self.level) if self.level else NONE

    def field(self, name: str) -> str | None:
        """The first value of field ``name`` (``ts``/``level``/``msg`` included), else None."""
        if name == TS:
            return self.ts
        if name == LEVEL:
            return self.level
        if name == MSG:
            return self.msg
        for key, value in self.fields:
            if key == name:
                return value if value is not None else ""
        return None


class Segment(NamedTuple):
    """A piece of a rendered line: ``role`` is ts, level, msg, key, value, space or more (a
    tuple: a repaint builds hundreds of them)."""

    text: str
    role: str


# ------------------------------------------------------------------------------------ parsing

_BRACKETS = re.compile(r"[\[\]{}]")
_JSON_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LOGFMT = re.compile(r'([^\s="]+)(?:=("(?:[^"\\]|\\.)*"?|[^\s"]*))?|(\S)', re.DOTALL)


class _Pairs(list[tuple[str, Any]]):
    """A decoded JSON object as its (key, value) pairs in order, duplicates kept."""


def _nesting_ok(text: str) -> bool:
    """Whether the JSON text nests at most :data:`MAX_JSON_NESTING` deep (linear, no recursion)."""
    if text.count("[") + text.count("{") <= MAX_JSON_NESTING:
        return True
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRINGS.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_NESTING:
                return False
        else:
            depth -= 1
    return True


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (ValueError, TypeError, RecursionError):
        return repr(value)


def _compact(value: Any) -> str:
    """Compact JSON text of a nested value (objects as their pairs, in order)."""
    if isinstance(value, _Pairs):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_compact(v)}"
                              for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return _scalar(value)


def _flatten(pairs: _Pairs, prefix: str, depth: int, out: list[tuple[str, str]],
             limit: int) -> int:
    """Append ``(dotted key, text)`` for ``pairs``; returns how many were beyond ``limit``."""
    over = 0
    for key, value in pairs:
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, _Pairs) and value and depth < MAX_FLATTEN_DEPTH:
            over += _flatten(value, name, depth + 1, out, limit)
            continue
        if len(out) >= limit:
            over += 1
            continue
        text = _compact(value) if isinstance(value, _Pairs | list) else _scalar(value)
        out.append((name, text))
    return over


def _parse_json(text: str) -> tuple[list[tuple[str, str]], int] | None:
    if not _nesting_ok(text):
        return None
    try:
        value = json.loads(text, object_pairs_hook=_Pairs, strict=False)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, _Pairs):
        return None
    out: list[tuple[str, str]] = []
    over = _flatten(value, "", 1, out, MAX_FIELDS + len(TS_KEYS) + len(LEVEL_KEYS) + len(MSG_KEYS))
    return out, over


def _unquote(value: str) -> str:
    """A logfmt quoted value: JSON-style escapes, or the body as written if they are invalid."""
    closed = len(value) >= 2 and value.endswith('"') and \
        (len(value) - 1 - len(value[:-1].rstrip("\\"))) % 2 == 0
    if closed:
        try:
            decoded = json.loads(value)
            if isinstance(decoded, str):
                return decoded
        except ValueError:
            pass
    body = value[1:-1] if closed else value[1:]
    return body.replace('\\"', '"').replace("\\\\", "\\")


def _parse_logfmt(text: str) -> list[tuple[str, str | None]] | None:
    pairs: list[tuple[str, str | None]] = []
    with_value = 0
    for match in _LOGFMT.finditer(text):
        key, value, junk = match.group(1), match.group(2), match.group(3)
        if junk is not None:
            return None  # a stray quote or '=' where a key should start: not logfmt
        if value is None:
            pairs.append((key, None))
            continue
        with_value += 1
        pairs.append((key, _unquote(value) if value.startswith('"') else value))
    bare = len(pairs) - with_value
    if with_value < 2 or bare > with_value:
        return None
    return pairs


def _pick(pairs: list[tuple[str, Any]], aliases: Sequence[str]) -> int | None:
    """Index of the first pair whose key is the earliest alias (case-insensitive)."""
    lowered = [key.lower() for key, _ in pairs]
    for alias in aliases:
        for index, key in enumerate(lowered):
            if key == alias:
                return index
    return None


def _one_line(text: str, max_bytes: int) -> str:
    return sanitize_line(text.rstrip("\r\n"), max_bytes=max_bytes)


def _structure(kind: str, pairs: Sequence[tuple[str, str | None]], over: int,
               truncated: int) -> Structured:
    items = list(pairs)
    picked: dict[str, str | None] = {}
    for name, aliases in ((TS, TS_KEYS), (LEVEL, LEVEL_KEYS), (MSG, MSG_KEYS)):
        index = _pick(items, aliases)
        if index is not None:
            picked[name] = items.pop(index)[1]
    kept = items[:MAX_FIELDS]
    dropped = over + len(items) - len(kept)
    fields = tuple((_one_line(key, MAX_KEY_BYTES),
                    None if value is None else _one_line(value, MAX_VALUE_BYTES))
                   for key, value in kept)

    def shown(name: str, cap: int) -> str | None:
        value = picked.get(name)
        return None if value is None else _one_line(value, cap)

    return Structured(kind, shown(TS, MAX_KEY_BYTES), shown(LEVEL, MAX_KEY_BYTES),
                      shown(MSG, MAX_MSG_BYTES), fields, dropped, truncated)


def parse_line(line: str | bytes) -> Structured:
    """Parse one log line as JSON, logfmt or plain text (never raises).

    Args:
        line: The raw line (bytes are decoded as UTF-8, invalid sequences → U+FFFD).

    Returns:
        The line's time, level, message and other fields, every string sanitised.
    """
    try:
        return _parse(line)
    except Exception:  # a parser defect must never take the log view down: show it plain
        return Structured(PLAIN, msg=_one_line(str(line)[:MAX_PARSE_BYTES], MAX_MSG_BYTES))


def _parse(line: str | bytes) -> Structured:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes | bytearray) else str(line)
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_PARSE_BYTES \
        else len(text)
    head = text
    truncated = 0
    if size > MAX_PARSE_BYTES:
        data = text.encode("utf-8", "surrogatepass")[:MAX_PARSE_BYTES]
        head = data.decode("utf-8", "ignore")
        truncated = size - len(head.encode("utf-8", "surrogatepass"))
    stripped = head.strip()
    if stripped.startswith("{") and not truncated:
        parsed = _parse_json(stripped)
        if parsed is not None:
            pairs, over = parsed
            return _structure(JSON, pairs, over, 0)
    if "=" in head:
        logfmt = _parse_logfmt(head)
        if logfmt is not None:
            return _structure(LOGFMT, logfmt, 0, truncated)
    return Structured(PLAIN, msg=_one_line(text, MAX_MSG_BYTES))


class FieldCache:
    """Parsed lines by row id, least recently used dropped first (only rows on screen pay)."""

    def __init__(self, size: int = 512) -> None:
        self.size = max(1, size)
        self._items: OrderedDict[int, Structured] = OrderedDict()
        self.misses = 0
        """Lines parsed so far (for tests and benchmarks)."""

    def get(self, row_id: int, line: str | bytes) -> Structured:
        """The parsed form of ``line``, whose row id is ``row_id`` (ids are never reused)."""
        found = self._items.get(row_id)
        if found is not None:
            self._items.move_to_end(row_id)
            return found
        self.misses += 1
        found = parse_line(line)
        self._items[row_id] = found
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return found

    def clear(self) -> None:
        """Forget every parsed line."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# ---------------------------------------------------------------------------------- rendering

_NEEDS_QUOTES = re.compile(r'[\s="]')


def format_value(value: str) -> str:
    """A field value as it is shown after ``key=``: quoted (logfmt style) when it has spaces,
    ``=`` or quotes, or is empty."""
    if value and _NEEDS_QUOTES.search(value) is None:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(line: Structured, columns: Sequence[str] = DEFAULT_COLUMNS, *,
           fallback_ts: str | None = None) -> tuple[Segment, ...]:
    """Message-first segments of a parsed line for the chosen columns.

    Args:
        line: The parsed line.
        columns: Column names in display order: ``ts``, ``level``, ``msg``, any field name, and
            ``*`` for every field not named otherwise. A column the line lacks is skipped.
        fallback_ts: Shown as the time when the line has no time field (e.g. Loki's timestamp).

    Returns:
        Segments separated by ``space`` segments; join their texts for the plain line.
    """
    named = {c for c in columns if c not in (TS, LEVEL, MSG, OTHERS)}
    out: list[Segment] = []

    def add(*parts: Segment) -> None:
        if out:
            out.append(Segment(" ", "space"))
        out.extend(parts)

    def add_field(key: str, value: str | None) -> None:
        if value is None:
            add(Segment(key, "key"))
        else:
            add(Segment(key + "=", "key"), Segment(format_value(value), "value"))

    for column in columns:
        if column == TS:
            ts = line.ts if line.ts is not None else fallback_ts
            if ts is not None:
                add(Segment(ts, "ts"))
        elif column == LEVEL:
            if line.level is not None:
                add(Segment(line.level, "level"))
        elif column == MSG:
            if line.msg is not None:
                add(Segment(line.msg, "msg"))
        elif column == OTHERS:
            for key, value in line.fields:
                if key not in named:
                    add_field(key, value)
        else:
            for key, value in line.fields:
                if key == column:
                    add_field(key, value)
    more = []
    if line.dropped:
        more.append(f"+{line.dropped} fields")
    if line.truncated_bytes:
        more.append(f"…+{line.truncated_bytes} bytes")
    if more:
        add(Segment(" ".join(more), "more"))
    return tuple(out)


def render_text(line: Structured, columns: Sequence[str] = DEFAULT_COLUMNS, *,
                fallback_ts: str | None = None) -> str:
    """:func:`render` joined into one plain line."""
    return "".join(s.text for s in render(line, columns, fallback_ts=fallback_ts))


def field_names(lines: Iterable[Structured], *, limit: int = 200) -> list[str]:
    """Field names seen in ``lines``, most frequent first (ties: first seen), for a field picker;
    ``ts``/``level``/``msg`` lead when any line has them."""
    counts: dict[str, int] = {}
    special = {TS: 0, LEVEL: 0, MSG: 0}
    for line in lines:
        for name, value in ((TS, line.ts), (LEVEL, line.level), (MSG, line.msg)):
            if value is not None:
                special[name] += 1
        for key, _value in line.fields:
            counts[key] = counts.get(key, 0) + 1
    order = sorted(counts, key=lambda k: -counts[k])
    head = [name for name in (TS, LEVEL, MSG) if special[name]]
    return (head + order)[:limit]
