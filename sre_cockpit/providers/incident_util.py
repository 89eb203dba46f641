"""Helpers shared by the incident providers (Alertmanager, PagerDuty, generic HTTP).

Time parsing, severity/status normalisation, error-body extraction, rate-limit waits, the
invisible idempotency marker for notes and the describe data (``Incident.details``/``raw``).
Nothing here imports Textual.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import httpx

from sre_cockpit.core.models import IncidentStatus, Severity
from sre_cockpit.providers.http import retry_after_seconds

T = TypeVar("T")

DEFAULT_SEVERITY_WORDS: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL, "crit": Severity.CRITICAL, "page": Severity.CRITICAL,
    "emergency": Severity.CRITICAL, "fatal": Severity.CRITICAL, "disaster": Severity.CRITICAL,
    "sev1": Severity.CRITICAL, "p1": Severity.CRITICAL, "blocker": Severity.CRITICAL,
    "high": Severity.HIGH, "error": Severity.HIGH, "err": Severity.HIGH, "major": Severity.HIGH,
    "sev2": Severity.HIGH, "p2": Severity.HIGH, "alert": Severity.HIGH,
    "warning": Severity.WARNING, "warn": Severity.WARNING, "minor": Severity.WARNING,
    "medium": Severity.WARNING, "sev3": Severity.WARNING, "p3": Severity.WARNING,
    "info": Severity.INFO, "informational": Severity.INFO, "notice": Severity.INFO,
    "low": Severity.INFO, "none": Severity.INFO, "sev4": Severity.INFO, "sev5": Severity.INFO,
    "p4": Severity.INFO, "p5": Severity.INFO, "debug": Severity.INFO, "ok": Severity.INFO,
}
"""Words every incident system uses for severity (case-insensitive), before user overrides."""

DEFAULT_STATUS_WORDS: Mapping[str, IncidentStatus] = {
    "triggered": IncidentStatus.TRIGGERED, "open": IncidentStatus.TRIGGERED,
    "firing": IncidentStatus.TRIGGERED, "active": IncidentStatus.TRIGGERED,
    "new": IncidentStatus.TRIGGERED, "investigating": IncidentStatus.TRIGGERED,
    "acknowledged": IncidentStatus.ACKNOWLEDGED, "ack": IncidentStatus.ACKNOWLEDGED,
    "acked": IncidentStatus.ACKNOWLEDGED, "in_progress": IncidentStatus.ACKNOWLEDGED,
    "suppressed": IncidentStatus.ACKNOWLEDGED, "silenced": IncidentStatus.ACKNOWLEDGED,
    "resolved": IncidentStatus.RESOLVED, "closed": IncidentStatus.RESOLVED,
    "ok": IncidentStatus.RESOLVED, "fixed": IncidentStatus.RESOLVED, "done": IncidentStatus.RESOLVED,
}
"""Status words mapped to the three normalised states (case-insensitive)."""

_SEVERITY_LOOKUP: dict[str, Severity] = {  # reversed: the first spelling of a word wins
    key.strip().lower(): Severity(sev) for key, sev in reversed(list(DEFAULT_SEVERITY_WORDS.items()))}
"""The built-in severity words, normalised once (an alert flood asks 5,000 times a poll)."""


def severity_of(value: object, overrides: Mapping[str, Severity] | None = None) -> Severity:
    """Normalise a raw severity value; user ``overrides`` win over the built-in words."""
    if value is None:
        return Severity.UNKNOWN
    word = str(value).strip().lower()
    for key, sev in (overrides or {}).items():
        if key.strip().lower() == word:
            return Severity(sev)
    return _SEVERITY_LOOKUP.get(word, Severity.UNKNOWN)


def status_of(value: object, overrides: Mapping[str, IncidentStatus] | None = None) -> IncidentStatus:
    """Normalise a raw status value (unknown words count as triggered: better shown than hidden)."""
    word = "" if value is None else str(value).strip().lower()
    for table in (overrides or {}, DEFAULT_STATUS_WORDS):
        for key, status in table.items():
            if key.strip().lower() == word:
                return IncidentStatus(status)
    return IncidentStatus.TRIGGERED


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from RFC 3339 text (any precision, ``Z`` or offset) or Unix
    seconds/milliseconds/nanoseconds; None when absent or unparseable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        if number > 1e17:
            number /= 1e9
        elif number > 1e14:
            number /= 1e6
        elif number > 1e11:
            number /= 1e3
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return _parse_time_text(str(value).strip())


@functools.lru_cache(maxsize=65_536)
def _parse_time_text(text: str) -> datetime | None:
    """:func:`parse_time` of a string, remembered: every poll of an alert flood brings the same
    ten thousand timestamps again (``startsAt``, ``updatedAt``), parsed once, not per poll."""
    if len(text) >= 20 and text[10:11] == "T" and text[-1:] in "zZ":
        try:  # the common case (Alertmanager, PagerDuty): RFC 3339 in UTC, ≤ 6 decimals
            return datetime.fromisoformat(text[:-1] + "+00:00")
        except ValueError:
            pass  # more decimals (Go writes nanoseconds) or not RFC 3339: the general path
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_time(float(text))
    text = re.sub(r"[zZ]$", "+00:00", text)
    # Go writes nanoseconds; Python accepts at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z`` (what Alertmanager and PagerDuty accept)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def first_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of ``text``, capped at ``limit`` characters."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def error_text(resp: httpx.Response) -> str:
    """The human part of an error body: a JSON string (Alertmanager handlers), ``message`` /
    ``error.message`` + ``error.errors`` (go-swagger, PagerDuty), ``error`` (Prometheus), or the
    first line of a text/HTML body."""
    raw = resp.text
    try:
        body: Any = json.loads(raw) if raw.strip() else None
    except ValueError:
        body = None
    if isinstance(body, str):
        return first_line(body)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            parts = [str(err.get("message") or "")]
            extra = err.get("errors")
            if isinstance(extra, list) and extra:
                parts.append("; ".join(str(e) for e in extra))
            return first_line(": ".join(p for p in parts if p))
        for key in ("message", "error", "detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return first_line(body[key])
    if "<html" in raw[:500].lower():
        title = re.search(r"<title>(.*?)</title>", raw, re.I | re.S)
        return first_line(title.group(1)) if title else "an HTML page (a proxy in front?)"
    return first_line(raw) or resp.reason_phrase


DEFAULT_RATE_LIMIT_WAIT = 30.0
RATE_LIMIT_CAP = 300.0


def rate_limit_wait(resp: httpx.Response, consecutive: int = 1, *,
                    default: float = DEFAULT_RATE_LIMIT_WAIT, cap: float = RATE_LIMIT_CAP) -> float:
    """Seconds to wait after a 429: ``Retry-After`` (seconds or HTTP date) or ``ratelimit-reset``
    (seconds, or an epoch), else ``default`` doubled per consecutive 429; always capped."""
    told = retry_after_seconds(resp, cap=cap)
    if told is not None:
        return max(1.0, told)
    return float(min(cap, default * (2 ** max(0, consecutive - 1))))


# ---------------------------------------------------------------------------------------------
# Describe data: Incident.details and Incident.raw
# ---------------------------------------------------------------------------------------------

RAW_LIMIT = 16_384
"""Characters of a provider object's JSON kept in ``Incident.raw``."""
RAW_CUT = "…[cut]"
"""How a ``raw`` longer than ``RAW_LIMIT`` ends."""


def value_text(value: object) -> str | None:
    """A JSON value as one string for ``Incident.details``: strings unchanged (never
    truncated), numbers and booleans as JSON writes them, lists/objects as compact JSON; None
    for null, "" and empty lists/objects (nothing to show)."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def detail_map(pairs: Iterable[tuple[str, object]]) -> Mapping[str, str]:
    """An ordered, read-only ``Incident.details`` from ``(key, value)`` pairs, skipping empty
    values (see :func:`value_text`); a repeated key keeps its first value."""
    out: dict[str, str] = {}
    for key, value in pairs:
        text = value_text(value)
        if text is not None and key not in out:
            out[key] = text
    return MappingProxyType(out)


class LazyDetails(Mapping[str, str]):
    """An ``Incident.details`` built on its first read (the describe view reads one incident's;
    an alert flood would build 5,000 a poll for nobody)."""

    __slots__ = ("_build", "_data")

    def __init__(self, build: Callable[[], Mapping[str, str]]) -> None:
        self._build: Callable[[], Mapping[str, str]] | None = build
        self._data: Mapping[str, str] | None = None

    def _mapping(self) -> Mapping[str, str]:
        if self._data is None:
            assert self._build is not None
            self._data, self._build = self._build(), None
        return self._data

    def __getitem__(self, key: str) -> str:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __repr__(self) -> str:
        return f"LazyDetails({dict(self._mapping())!r})"


def raw_json(obj: object, limit: int = RAW_LIMIT) -> str | None:
    """``obj`` as compact JSON text for ``Incident.raw``, cut to ``limit`` characters (ending
    with ``RAW_CUT``) when longer; None when ``obj`` is None."""
    if obj is None:
        return None
    return cut_raw(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str),
                   limit)


def cut_raw(text: str, limit: int = RAW_LIMIT) -> str:
    """A provider object's JSON text bounded for ``Incident.raw`` (see :func:`raw_json`)."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(RAW_CUT))] + RAW_CUT


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class SameAnswers(Generic[T]):
    """What was decoded from each answer of the last listing, by request: an answer the
    backend sends again byte for byte is not decoded again (an alert flood brings the same
    megabytes every poll). Call :meth:`begin` before a listing and :meth:`done` after it; a
    failed listing keeps the last good one's answers, and requests not made again are
    forgotten (PagerDuty's resolved listing changes its ``since`` every poll)."""

    def __init__(self) -> None:
        self._last: dict[Hashable, tuple[bytes, T]] = {}
        self._now: dict[Hashable, tuple[bytes, T]] = {}

    def begin(self) -> None:
        """A listing starts."""
        self._now = {}

    def get(self, request: Hashable, body: bytes) -> T | None:
        """Last listing's value when ``request`` brought these same bytes then (it is kept
        for the next listing too), else None."""
        known = self._now.get(request) or self._last.get(request)
        if known is None or known[0] != body:
            return None
        self._now[request] = known
        return known[1]

    def keep(self, request: Hashable, body: bytes, value: T) -> None:
        """What ``body`` decoded to, for the next listing."""
        self._now[request] = (body, value)

    def done(self) -> None:
        """The listing succeeded: its answers are the ones the next listing compares with."""
        self._last, self._now = self._now, {}


def _space(text: str, at: int) -> int:
    """The index of the first non-blank character at or after ``at``."""
    found = _JSON_SPACE.match(text, at)
    return found.end() if found is not None else at


def _elements(text: str, pos: int, end: list[int]) -> Iterator[tuple[Any, str]]:
    """The elements of the JSON array opening at ``text[pos]`` with their text; once
    exhausted, ``end[0]`` is the index after its ``]``.

    Raises:
        ValueError: malformed JSON.
    """
    pos = _space(text, pos + 1)
    if text[pos:pos + 1] == "]":
        end[0] = pos + 1
        return
    while True:
        obj, stop = _DECODER.raw_decode(text, pos)
        yield obj, text[pos:stop]
        pos = _space(text, stop)
        mark = text[pos:pos + 1]
        if mark == ",":
            pos = _space(text, pos + 1)
            continue
        if mark != "]":
            raise ValueError(f"expected ',' or ']' at character {pos}")
        end[0] = pos + 1
        return


def _no_more(text: str, at: int) -> None:
    if _space(text, at) != len(text):
        raise ValueError(f"extra data after the JSON value at character {at}")


def iter_json_array(text: str) -> Iterator[tuple[Any, str]]:
    """Each element of a JSON array with its own text, as the server wrote it.

    Decoding element by element lets a caller yield to the event loop between elements (one
    ``json.loads`` of an alert flood's 3 MB holds it ~60 ms), and the element's text is its
    ``Incident.raw`` without encoding it again (which cost as much as the decoding).

    Raises:
        ValueError: not one JSON array (a message for the error line).
    """
    pos = _space(text, 0)
    if text[pos:pos + 1] != "[":
        raise ValueError("not a JSON array")
    end = [len(text)]
    yield from _elements(text, pos, end)
    _no_more(text, end[0])


def json_object_with_items(text: str, member: str) -> tuple[dict[str, Any],
                                                              list[tuple[Any, str]]]:
    """A JSON object decoded, and the elements of its array ``member`` each with its own text
    (a PagerDuty page: ``{"incidents": [...], "more": true, ...}``). The object's ``member``
    holds the decoded elements as usual.

    Raises:
        ValueError: not one JSON object.
    """
    pos = _space(text, 0)
    if text[pos:pos + 1] != "{":
        raise ValueError("not a JSON object")
    out: dict[str, Any] = {}
    items: list[tuple[Any, str]] = []
    pos = _space(text, pos + 1)
    if text[pos:pos + 1] == "}":
        _no_more(text, pos + 1)
        return out, items
    while True:
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _space(text, pos)
        if not isinstance(key, str) or text[pos:pos + 1] != ":":
            raise ValueError(f"expected a member name and ':' at character {pos}")
        pos = _space(text, pos + 1)
        if key == member and text[pos:pos + 1] == "[":
            end = [pos]
            items = list(_elements(text, pos, end))
            out[key], pos = [obj for obj, _ in items], end[0]
        else:
            out[key], pos = _DECODER.raw_decode(text, pos)
        pos = _space(text, pos)
        mark = text[pos:pos + 1]
        if mark == ",":
            pos = _space(text, pos + 1)
            continue
        if mark != "}":
            raise ValueError(f"expected ',' or '}}' at character {pos}")
        _no_more(text, pos + 1)
        return out, items


# ---------------------------------------------------------------------------------------------
# Invisible idempotency marker for notes
# ---------------------------------------------------------------------------------------------

_MARK_START = "\u2063"  # INVISIBLE SEPARATOR
_DIGITS = ("\u200b", "\u200c", "\u200d", "\u2060")  # ZWSP, ZWNJ, ZWJ, WORD JOINER = base 4
_MARK_RE = re.compile(_MARK_START + "[" + "".join(_DIGITS) + "]{24}")


def idempotency_marker(key: str) -> str:
    """An invisible suffix that encodes 48 bits of SHA-256(``key``) as zero-width characters.

    Appended to a note's content so a retried delivery can recognise the note it already
    posted (PagerDuty has no idempotency header for notes). Nothing visible is added.
    """
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:6], "big")
    chars = []
    for _ in range(24):
        chars.append(_DIGITS[digest & 3])
        digest >>= 2
    return _MARK_START + "".join(reversed(chars))


def marker_id(key: str) -> str:
    """The 48-bit digest :func:`idempotency_marker` encodes for ``key``, as 12 hex digits.

    The journal gives its copy of a note this id, so the timeline can recognise the provider's
    copy of the same note by its marker (see :func:`find_marker`).
    """
    return hashlib.sha256(key.encode()).digest()[:6].hex()


def note_marker_key(idempotency_key: str, incident_id: str) -> str:
    """The marker key of one note delivery: the note's idempotency key for one incident (a note
    sent to several incidents gets one marker per incident)."""
    return f"{idempotency_key}:{incident_id}"


def note_ref(idempotency_key: str, incident_id: str) -> str:
    """The marker digest a provider's copy of this note delivery carries (see
    :func:`find_marker`); the journal stamps it on its own copy of the note."""
    return marker_id(note_marker_key(idempotency_key, incident_id))


def find_marker(text: str) -> str | None:
    """The digest (12 hex digits, as :func:`marker_id`) of the last idempotency marker in
    ``text``, or None when the text carries none."""
    found = _MARK_RE.findall(text)
    if not found:
        return None
    value = 0
    for char in found[-1][len(_MARK_START):]:
        value = value * 4 + _DIGITS.index(char)
    return f"{value:012x}"


def strip_marker(text: str) -> str:
    """``text`` without any idempotency marker (for display)."""
    return _MARK_RE.sub("", text)


def has_marker(content: str, text: str, key: str) -> bool:
    """True when ``content`` is ``text`` delivered with the marker of ``key``."""
    marker = idempotency_marker(key)
    return marker in content and strip_marker(content).strip() == text.strip()
