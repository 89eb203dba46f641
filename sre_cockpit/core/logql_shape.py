"""Shape a LogQL log query without typing it: add or remove label matchers and line filters.

:func:`parse_query` reads the parts of a log query that the label browser edits: the stream
selector (``{app="x", level=~"error|warn"}``) and the line filters right after it (``|= "x"``,
``!= "x"``, ``|~ "re"``, ``!~ "re"``, ``|> "pattern"``, ``!> "pattern"``, each optionally with
``or "…"`` alternatives). Whatever follows (parsers, label filters, ``line_format`` …) is kept
verbatim as :attr:`ShapedQuery.rest`; new line filters go before it, so they filter the original
line exactly as the query's own leading filters do. :meth:`ShapedQuery.to_logql` prints the query
back in one canonical spelling, so printing a parsed query and parsing it again is stable.

What cannot be round-tripped is refused with :class:`QueryShapeError` (one line saying why) instead
of being mangled: metric queries, comments or unbalanced text before the pipeline, quoted label
names, escapes that Go's ``strconv.Unquote`` (Loki's reader) would not read back the same way.

Strings are read as Loki reads them (double quotes with Go escapes, or backticks as raw text) and
printed with Go-compatible escapes; any character the sanitiser would change (controls, bidi and
zero-width characters) is printed as an escape, so :meth:`ShapedQuery.to_logql` is always safe to
show. Nothing here imports Textual or a provider.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sre_cockpit.core.sanitize import sanitize_line

MATCHER_OPS = ("=", "!=", "=~", "!~")
FILTER_OPS = ("|=", "!=", "|~", "!~", "|>", "!>")
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class QueryShapeError(ValueError):
    """The query cannot be shaped (``str()`` is one line fit for a toast)."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher of the stream selector."""

    name: str
    op: str
    value: str
    quote: str = field(default='"', compare=False)
    """How the value was quoted (``"`` or a backtick); kept when printing if it can be."""

    def __post_init__(self) -> None:
        if LABEL_NAME.match(self.name) is None:
            raise QueryShapeError(f"invalid label name {sanitize_line(self.name[:40])!r}")
        if self.op not in MATCHER_OPS:
            raise QueryShapeError(f"invalid matcher operator {self.op!r}")

    def to_logql(self) -> str:
        """``name op "value"``."""
        return f"{self.name}{self.op}{quote(self.value, self.quote)}"


@dataclass(frozen=True, slots=True)
class TextFilter:
    """One line filter: ``op "value"`` or ``op "a" or "b"`` (any of the values)."""

    op: str
    values: tuple[str, ...]
    quotes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.op not in FILTER_OPS:
            raise QueryShapeError(f"invalid line filter operator {self.op!r}")
        if not self.values:
            raise QueryShapeError("a line filter needs a value")

    def to_logql(self) -> str:
        """``|= "a"`` or ``|= "a" or "b"``."""
        quotes = self.quotes if len(self.quotes) == len(self.values) else ('"',) * len(self.values)
        return f"{self.op} " + " or ".join(quote(v, q) for v, q in zip(self.values, quotes, strict=True))


@dataclass(frozen=True, slots=True)
class ShapedQuery:
    """A log query as matchers, leading line filters and the rest of its pipeline (verbatim)."""

    matchers: tuple[Matcher, ...]
    filters: tuple[TextFilter, ...] = ()
    rest: str = ""

    def to_logql(self) -> str:
        """The query in canonical spelling.

        Raises:
            QueryShapeError: when no matcher is left (Loki refuses ``{}``).
        """
        if not self.matchers:
            raise QueryShapeError("a query needs at least one label matcher, e.g. {app=\"x\"}")
        text = self.selector()
        for f in self.filters:
            text += " " + f.to_logql()
        if self.rest:
            text += " " + self.rest
        return text

    def selector(self) -> str:
        """``{a="1", b=~"x|y"}``."""
        return "{" + ", ".join(m.to_logql() for m in self.matchers) + "}"

    def selection(self) -> str:
        """The selector and every line filter before the first ``|`` stage, including those
        kept in :attr:`rest` such as ``|= ip("…")`` (what a volume query counts)."""
        parts = [self.selector(), *(f.to_logql() for f in self.filters)]
        more = _filter_prefix(self.rest)
        if more:
            parts.append(more)
        return " ".join(parts)

    def problem(self) -> str | None:
        """Loki's objection to this selector, if any: every matcher matches the empty value."""
        if not self.matchers:
            return "a query needs at least one label matcher"
        if all(_empty_compatible(m) for m in self.matchers):
            return ("queries require at least one regexp or equality matcher that does not "
                    "match the empty value, e.g. app=~\".+\" rather than app=~\".*\"")
        return None

    # ------------------------------------------------------------------- matchers
    def with_matcher(self, matcher: Matcher) -> ShapedQuery:
        """Add ``matcher`` unless an equal one is already there."""
        if matcher in self.matchers:
            return self
        return replace(self, matchers=(*self.matchers, matcher))

    def set_label(self, name: str, values: Sequence[str]) -> ShapedQuery:
        """Make ``name`` select exactly ``values`` (``=`` for one, ``=~"a|b"`` for several),
        replacing every matcher on ``name``; no values removes them (see :meth:`without_label`)."""
        if not values:
            return self.without_label(name)
        new = values_matcher(name, values)
        kept = []
        placed = False
        for m in self.matchers:
            if m.name != name:
                kept.append(m)
            elif not placed:
                kept.append(new)
                placed = True
        if not placed:
            kept.append(new)
        return replace(self, matchers=tuple(kept))

    def without_matcher(self, matcher: Matcher) -> ShapedQuery:
        """Remove ``matcher`` (an equal one).

        Raises:
            QueryShapeError: when it is not there, or it is the last matcher.
        """
        if matcher not in self.matchers:
            raise QueryShapeError(f"the query has no matcher {matcher.to_logql()}")
        return self._with_matchers(tuple(m for m in self.matchers if m != matcher))

    def without_label(self, name: str) -> ShapedQuery:
        """Remove every matcher on label ``name`` (no-op when there is none).

        Raises:
            QueryShapeError: when no matcher would be left.
        """
        return self._with_matchers(tuple(m for m in self.matchers if m.name != name))

    def _with_matchers(self, matchers: tuple[Matcher, ...]) -> ShapedQuery:
        if not matchers:
            raise QueryShapeError("cannot remove the last label matcher: a query needs one")
        return replace(self, matchers=matchers)

    def label_values(self, name: str) -> list[str] | None:
        """The values selected for ``name`` by one ``=`` or literal ``=~"a|b"`` matcher (what a
        browser ticks); ``None`` when ``name`` is matched in any other way or not at all."""
        found = [m for m in self.matchers if m.name == name]
        if len(found) != 1:
            return None
        return matcher_values(found[0])

    # ---------------------------------------------------------------- line filters
    def with_filter(self, op: str, value: str) -> ShapedQuery:
        """Add the line filter ``op "value"`` (after the existing leading filters) unless an
        equal one is already there."""
        new = TextFilter(op, (value,))
        if new in self.filters:
            return self
        return replace(self, filters=(*self.filters, new))

    def without_filter(self, op: str, value: str) -> ShapedQuery:
        """Remove the line filter ``op "value"``.

        Raises:
            QueryShapeError: when the query has no such filter before its other stages.
        """
        target = TextFilter(op, (value,))
        if target not in self.filters:
            raise QueryShapeError(f"the query has no line filter {target.to_logql()}")
        return replace(self, filters=tuple(f for f in self.filters if f != target))


# ------------------------------------------------------------------------------- strings

_GO_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
              "\\": "\\", '"': '"'}
_GO_ESCAPES = re.compile(r'\\(?:([abfnrtv\\"])|x([0-9A-Fa-f]{2})|([0-7]{3})|u([0-9A-Fa-f]{4})'
                         r'|U([0-9A-Fa-f]{8})|(.?))', re.DOTALL)
_PRINT_AS = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def go_unquote(body: str) -> str:
    """The value of a double-quoted Go string literal's body, as ``strconv.Unquote`` reads it.

    Raises:
        QueryShapeError: for an escape Go rejects, a raw newline, or a byte escape above 0x7f
            (a raw byte that no Python string can carry faithfully).
    """
    if "\n" in body:
        raise QueryShapeError("a newline inside a double-quoted string (Loki refuses it)")
    if "\\" not in body:
        return body

    def one(match: re.Match[str]) -> str:
        simple, hex2, octal, u4, u8, bad = match.groups()
        if simple is not None:
            return _GO_SIMPLE[simple]
        if bad is not None:
            raise QueryShapeError(f"invalid escape \\{bad} in a string")
        code = int(hex2, 16) if hex2 else int(octal, 8) if octal else int(u4 or u8, 16)
        if (hex2 or octal) and code > 0x7F:
            raise QueryShapeError("byte escapes above \\x7f cannot be shaped; use \\u escapes")
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise QueryShapeError(f"invalid unicode escape {match.group(0)}")
        return chr(code)

    return _GO_ESCAPES.sub(one, body)


@lru_cache(maxsize=4096)
def _escape_char(ch: str) -> str:
    if ch in _PRINT_AS:
        return _PRINT_AS[ch]
    if sanitize_line(ch, max_bytes=None) == ch:
        return ch
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        raise QueryShapeError("a lone surrogate cannot be written in a LogQL string")
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quote(value: str, style: str = '"') -> str:
    """``value`` as a LogQL string: in backticks when ``style`` asks for them and the value can
    be written raw and safely, else double-quoted with Go escapes (controls, bidi and zero-width
    characters escaped, so the result is always safe to show).

    Raises:
        QueryShapeError: for a lone surrogate (no Go string can hold it).
    """
    if style == "`" and "`" not in value and sanitize_line(value, max_bytes=None) == value \
            and "\r" not in value and "\n" not in value:
        return f"`{value}`"
    if sanitize_line(value, max_bytes=None) == value and "\\" not in value and '"' not in value \
            and "\t" not in value:
        return f'"{value}"'
    return '"' + "".join(_escape_char(ch) for ch in value) + '"'


_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def regex_escape(text: str) -> str:
    """Go's ``regexp.QuoteMeta``: the RE2 regular expression matching exactly ``text``."""
    return _META.sub(r"\\\1", text)


def values_matcher(name: str, values: Sequence[str]) -> Matcher:
    """``name="v"`` for one value, ``name=~"a|b"`` (escaped literals) for several.

    Raises:
        QueryShapeError: for no values or an invalid label name.
    """
    unique = list(dict.fromkeys(values))
    if not unique:
        raise QueryShapeError(f"no values chosen for {name}")
    if len(unique) == 1:
        return Matcher(name, "=", unique[0])
    regex = "|".join(regex_escape(v) for v in unique)
    # backticks keep an escaped regex readable (a\.b rather than a\\.b) where they can be used
    return Matcher(name, "=~", regex, "`" if "\\" in regex else '"')


_METACHARS = frozenset("\\.+*?()|[]{}^$")


def matcher_values(matcher: Matcher) -> list[str] | None:
    """The literal values an ``=`` or ``=~"a|b"`` matcher selects, else ``None``."""
    if matcher.op == "=":
        return [matcher.value]
    if matcher.op != "=~":
        return None
    values: list[str] = []
    current: list[str] = []
    chars = iter(matcher.value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in _METACHARS or not nxt:
                return None  # \d, \w …: a real regular expression
            current.append(nxt)
        elif ch == "|":
            values.append("".join(current))
            current = []
        elif ch in _METACHARS:
            return None
        else:
            current.append(ch)
    values.append("".join(current))
    return values


def _empty_compatible(m: Matcher) -> bool:
    if m.op == "=":
        return m.value == ""
    if m.op == "!=":
        return m.value != ""
    try:
        matches_empty = re.fullmatch(m.value, "") is not None
    except re.error:
        return False  # Loki will judge the regex itself
    return matches_empty == (m.op == "=~")


# ------------------------------------------------------------------------------- parsing

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<dq>"(?:[^"\\\n]|\\.)*")
  | (?P<bq>`[^`]*`)
  | (?P<op>=~|!~|!=|\|=|\|~|\|>|!>|==|>=|<=|=|\||\{|\}|,|\(|\)|\[|\]|>|<|\#)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<other>[^\s"`=!|{}(),\[\]<>\#]+)
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(src: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(src):
        match = _TOKEN.match(src, pos)
        if match is None:
            ch = src[pos]
            what = "an unterminated string" if ch in "\"`" else repr(sanitize_line(ch))
            raise QueryShapeError(f"cannot shape the query: {what} at column {pos + 1}")
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(_Tok(kind, match.group(), pos))
        pos = match.end()
    return out


def _string(tok: _Tok) -> tuple[str, str]:
    """(value, quote style) of a string token."""
    if tok.kind == "bq":
        return tok.text[1:-1], "`"
    return go_unquote(tok.text[1:-1]), '"'


def _fail(tok: _Tok | None, expected: str) -> QueryShapeError:
    if tok is None:
        return QueryShapeError(f"cannot shape the query: it ends where {expected} was expected")
    shown = sanitize_line(tok.text[:30])
    return QueryShapeError(f"cannot shape the query: unexpected {shown!r} at column "
                           f"{tok.pos + 1}, expected {expected}")


def parse_query(src: str) -> ShapedQuery:
    """Read a LogQL log query into matchers, leading line filters and the verbatim rest.

    Raises:
        QueryShapeError: for a metric query or anything that would not print back the same.
    """
    text = src.strip()
    toks = _tokens(text)
    if not toks:
        raise QueryShapeError("the query is empty")
    if toks[0].text != "{":
        if toks[0].kind == "ident":
            raise QueryShapeError("a metric query cannot be shaped; only log queries "
                                  "({…} |= \"…\") can")
        raise _fail(toks[0], "'{'")
    k = 1
    matchers: list[Matcher] = []

    def at(i: int) -> _Tok | None:
        return toks[i] if i < len(toks) else None

    while True:
        tok = at(k)
        if tok is not None and tok.text == "}" and (matchers or k == 1):
            k += 1
            break
        if tok is None or tok.kind != "ident" or "." in tok.text:
            raise _fail(tok, "a label name")
        op, val = at(k + 1), at(k + 2)
        if op is None or op.text not in MATCHER_OPS:
            raise _fail(op, "=, !=, =~ or !~")
        if val is None or val.kind not in ("dq", "bq"):
            raise _fail(val, "a quoted value")
        value, style = _string(val)
        matchers.append(Matcher(tok.text, op.text, value, style))
        k += 3
        sep = at(k)
        if sep is not None and sep.text == ",":
            k += 1
            nxt = at(k)
            if nxt is not None and nxt.text == "}":  # a trailing comma: dropped when printed
                k += 1
                break
            continue
        if sep is not None and sep.text == "}":
            k += 1
            break
        raise _fail(sep, "',' or '}'")
    if not matchers:
        raise QueryShapeError("a query needs at least one label matcher, e.g. {app=\"x\"}")
    filters: list[TextFilter] = []
    while (op := at(k)) is not None and op.text in FILTER_OPS:
        values: list[str] = []
        quotes: list[str] = []
        j = k + 1
        while (val := at(j)) is not None and val.kind in ("dq", "bq"):
            value, style = _string(val)
            values.append(value)
            quotes.append(style)
            nxt = at(j + 1)
            if nxt is not None and nxt.text == "or" and (after := at(j + 2)) is not None \
                    and after.kind in ("dq", "bq"):
                j += 2
                continue
            j += 1
            break
        if not values:  # e.g. |= ip("…"): not a plain filter; the rest is kept verbatim
            break
        filters.append(TextFilter(op.text, tuple(values), tuple(quotes)))
        k = j
    rest = ""
    if k < len(toks):
        _check_rest(toks[k:])
        rest = text[toks[k].pos:].strip()
    return ShapedQuery(tuple(matchers), tuple(filters), rest)


def _check_rest(toks: Sequence[_Tok]) -> None:
    """The rest of the pipeline is kept verbatim: it must start a stage and be balanced."""
    first = toks[0]
    if first.text not in ("|", *FILTER_OPS):
        raise _fail(first, "a pipeline stage such as | json or a line filter")
    depth = 0
    for tok in toks:
        if tok.text == "#":
            return  # a comment runs to the end of its line; Loki reads it, we keep it verbatim
        if tok.text in "([":
            depth += 1
        elif tok.text in ")]":
            depth -= 1
            if depth < 0:
                raise QueryShapeError(f"cannot shape the query: unbalanced {tok.text!r} at column "
                                      f"{tok.pos + 1} (is this part of a metric query?)")
    if depth:
        raise QueryShapeError("cannot shape the query: unbalanced brackets in its pipeline")


def try_parse(src: str) -> ShapedQuery | None:
    """:func:`parse_query`, or ``None`` when the query cannot be shaped."""
    try:
        return parse_query(src)
    except QueryShapeError:
        return None


def _filter_prefix(rest: str) -> str:
    """The line filters at the start of ``rest`` (such as ``|= ip("…")``), up to its first
    ``|`` stage or comment."""
    if not rest:
        return ""
    for tok in _tokens(rest):
        if tok.text in ("|", "#"):
            return rest[:tok.pos].strip()
    return rest
