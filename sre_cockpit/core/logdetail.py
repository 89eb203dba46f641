"""One log line in full, for the log pane's detail view: its time, stream labels, every parsed
field (a JSON line pretty-printed, nested objects indented) and the raw line.

:func:`detail_sections` returns plain, sanitised lines grouped under headings; the view styles
them and the copy keys copy them as text. Bounded like the structured parser
(:mod:`sre_cockpit.core.logfields`): a JSON line is decoded only up to
:data:`~sre_cockpit.core.logfields.MAX_PARSE_BYTES` and when it nests at most
:data:`~sre_cockpit.core.logfields.MAX_JSON_NESTING` deep (checked without recursion); the raw
line is shown up to :data:`MAX_RAW_BYTES`. Every line passes through the sanitiser after JSON
unescaping, so ``\\u001b`` in a value is shown as ``␛``. Nothing here imports Textual.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sre_cockpit.core.logfields import (
    JSON,
    MAX_JSON_NESTING,
    MAX_PARSE_BYTES,
    PLAIN,
    format_value,
    parse_line,
)
from sre_cockpit.core.sanitize import sanitize_line

MAX_RAW_BYTES = 64 * 1024
"""Bytes of the raw line shown (the sanitiser marks the cut)."""
MAX_DETAIL_LINES = 2000
"""Lines of pretty-printed fields shown at most (the rest counted)."""

__all__ = ["MAX_DETAIL_LINES", "MAX_RAW_BYTES", "detail_sections", "detail_text"]


def _nesting(text: str) -> int:
    """The deepest bracket nesting outside JSON strings (linear, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _pretty_json(raw: str) -> list[str] | None:
    text = raw.strip()
    if not text.startswith("{") or len(text.encode("utf-8", "surrogatepass")) > MAX_PARSE_BYTES:
        return None
    if _nesting(text) > MAX_JSON_NESTING:
        return None
    try:
        value: Any = json.loads(text, strict=False)
        pretty = json.dumps(value, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError, TypeError):
        return None
    return pretty.splitlines()


def detail_sections(ts_ns: int, labels: Mapping[str, str], raw: str, *,
                    metadata: Mapping[str, str] | None = None,
                    utc: bool = True) -> list[tuple[str, list[str]]]:
    """The detail of one line as (heading, lines) sections, every line sanitised.

    Args:
        ts_ns: Loki's timestamp of the line (Unix ns).
        labels: the stream's labels.
        raw: the line as received.
        metadata: Loki's structured metadata of the line, if any.
        utc: show the time in UTC (else local time).
    """
    at = datetime.fromtimestamp(ts_ns // 10**9, UTC)  # whole seconds: no float rounding
    if not utc:
        at = at.astimezone()
    time_line = f"{at:%Y-%m-%dT%H:%M:%S}.{ts_ns % 10**9:09d}{at:%z}  ({ts_ns} ns)"
    label_lines = [sanitize_line(f"{key}={format_value(value)}", max_bytes=4096)
                   for key, value in sorted(labels.items())] or ["(none)"]
    parsed = parse_line(raw)
    pretty = _pretty_json(raw) if parsed.kind == JSON else None
    if pretty is not None:
        field_lines = [sanitize_line(line, max_bytes=4096) for line in pretty]
        title = "fields (JSON)"
    elif parsed.kind == PLAIN:
        field_lines = ["(a plain line: no fields)"]
        title = "fields"
    else:
        field_lines = []
        for name, value in (("ts", parsed.ts), ("level", parsed.level), ("msg", parsed.msg)):
            if value is not None:
                field_lines.append(f"{name} = {value}")
        field_lines += [key if value is None else f"{key} = {value}"
                        for key, value in parsed.fields]
        if parsed.dropped:
            field_lines.append(f"(+{parsed.dropped} more fields not parsed)")
        if parsed.truncated_bytes:
            field_lines.append(f"(…+{parsed.truncated_bytes} bytes not parsed)")
        title = f"fields ({parsed.kind})"
    if len(field_lines) > MAX_DETAIL_LINES:
        hidden = len(field_lines) - MAX_DETAIL_LINES
        field_lines = [*field_lines[:MAX_DETAIL_LINES], f"(+{hidden} more lines)"]
    raw_line = sanitize_line(raw.rstrip("\r\n"), max_bytes=MAX_RAW_BYTES)
    sections = [("time", [time_line]), ("labels", label_lines)]
    if metadata:
        sections.append(("structured metadata", [
            sanitize_line(f"{key}={format_value(value)}", max_bytes=4096)
            for key, value in sorted(metadata.items())]))
    return [*sections, (title, field_lines), ("raw line", [raw_line])]


def detail_text(sections: list[tuple[str, list[str]]]) -> str:
    """The sections as plain text (what the copy key copies)."""
    return "\n".join(f"{title}:\n" + "\n".join(f"  {line}" for line in lines)
                     for title, lines in sections)
