"""The PromQL lexer: source text to tokens, and Prometheus durations.

A duration is only recognised inside ``[...]`` (the simulator has no ``offset``), like Prometheus'
lexer, so ``5m`` outside brackets lexes as a number then an identifier and fails in the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DURATION = re.compile(r"(\d+(?:ms|[smhdwy]))+")
_DUR_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_DUR_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
           "w": 604_800_000, "y": 31_536_000_000}
_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[Ii]nf|[Nn]a[Nn])")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OPS = ("=~", "!~", "!=", "==", ">=", "<=", "(", ")", "{", "}", "[", "]", ",", "=", "+", "-",
        "*", "/", "%", "^", ">", "<", "@", ":")
_OP = re.compile("|".join(re.escape(op) for op in _OPS))  # two-character operators first


@dataclass
class Token:
    """One token: ``kind`` is num, str, ident, dur, op, eof or err (``text`` is then the
    error message); ``col`` is 1-based."""

    kind: str
    text: str
    col: int


def parse_duration_ms(text: str) -> int:
    """Milliseconds from a Prometheus duration ("5m", "1h30m"); ValueError when invalid."""
    if not _DURATION.fullmatch(text):
        raise ValueError(f'not a valid duration string: "{text}"')
    total = sum(int(n) * _DUR_MS[u] for n, u in _DUR_PART.findall(text))
    if total == 0:
        raise ValueError("duration must be greater than 0")
    return total


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\"}
_NUMERIC_ESCAPES = {"x": (2, 16, 0xFF), "u": (4, 16, 0x10FFFF), "U": (8, 16, 0x10FFFF)}


def _rune(ch: str) -> str:
    """Go's ``%#U`` of a character, as Prometheus quotes it in escape errors."""
    return f"U+{ord(ch):04X} '{ch}'"


def _string(src: str, i: int) -> tuple[str, int]:
    """The value of the quoted string opening at ``src[i]`` and the index after it.

    Escapes follow Go's (and Prometheus'): ``\\a \\b \\f \\n \\r \\t \\v \\\\``, the
    opening quote, octal ``\\NNN``, ``\\xNN``, ``\\uNNNN``, ``\\UNNNNNNNN``; raw (backquoted)
    strings have none.

    Raises:
        ValueError: the message Prometheus gives (the caller adds the string's column).
    """
    quote = src[i]
    j = i + 1
    buf: list[str] = []
    while j < len(src) and src[j] != quote:
        if quote != "`" and src[j] == "\n":
            break
        if src[j] != "\\" or quote == "`":
            buf.append(src[j])
            j += 1
            continue
        if j + 1 >= len(src):
            raise ValueError("escape sequence not terminated")
        esc = src[j + 1]
        if esc in _SIMPLE_ESCAPES or esc == quote:
            buf.append(_SIMPLE_ESCAPES.get(esc, esc))
            j += 2
            continue
        if esc in "01234567":
            digits, base, top, j = 3, 8, 0xFF, j + 1
        elif esc in _NUMERIC_ESCAPES:
            (digits, base, top), j = _NUMERIC_ESCAPES[esc], j + 2
        else:
            raise ValueError(f"unknown escape sequence {_rune(esc)}")
        value = 0
        for k in range(j, j + digits):
            if k >= len(src):
                raise ValueError("escape sequence not terminated")
            try:
                value = value * base + int(src[k], base)
            except ValueError:
                raise ValueError(f"illegal character {_rune(src[k])} in escape sequence") from None
        if value > top or 0xD800 <= value < 0xE000:
            raise ValueError("escape sequence is an invalid Unicode code point")
        buf.append(chr(value))
        j += digits
    if j >= len(src) or src[j] != quote:
        raise ValueError("unterminated raw string" if quote == "`" else "unterminated quoted string")
    return "".join(buf), j + 1


def lex(src: str) -> list[Token]:
    """Tokens of ``src``, ending with an ``eof`` token at column ``len(src) + 1``.

    Like Prometheus' lexer, an error does not raise here: it ends the stream with an ``err``
    token (``text`` is the message) so that the parser reports it only when it reads that far,
    after any syntax error earlier in the query. Unbalanced brackets are such errors: an
    unclosed ``(``, ``[`` or ``{`` at the end of input, and a ``)``, ``]`` or ``}`` that closes
    nothing.
    """
    out: list[Token] = []
    depth = 0
    in_brackets = in_braces = False

    def fail(col: int, message: str) -> list[Token]:
        out.append(Token("err", message, col))
        return out

    i = 0
    while i < len(src):
        c = src[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            while i < len(src) and src[i] != "\n":
                i += 1
            continue
        col = i + 1
        if in_brackets and c.isdigit():
            m = _DURATION.match(src, i)
            if m:
                out.append(Token("dur", m.group(0), col))
                i = m.end()
                continue
        if c in "\"'`":
            try:
                text, i = _string(src, i)
            except ValueError as exc:
                return fail(col, str(exc))
            out.append(Token("str", text, col))
            continue
        if c.isdigit() or (c == "." and i + 1 < len(src) and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            assert m is not None
            out.append(Token("num", m.group(0), col))
            i = m.end()
            continue
        m = None if in_brackets else _IDENT.match(src, i)
        if m:
            word = m.group(0)
            out.append(Token("num" if word.lower() in ("inf", "nan") else "ident", word, col))
            i = m.end()
            continue
        m = _OP.match(src, i)
        if m is None:
            return fail(col, f"unexpected character: {c!r}")
        op = m.group(0)
        if op == ")" and depth == 0:
            return fail(col + 1, "unexpected right parenthesis ')'")
        if op == "]" and not in_brackets:
            return fail(col, "unexpected right bracket ']'")
        if op == "}" and not in_braces:
            return fail(col, "unexpected character: '}'")
        depth += {"(": 1, ")": -1}.get(op, 0)
        in_brackets = op == "[" or (in_brackets and op != "]")
        in_braces = op == "{" or (in_braces and op != "}")
        out.append(Token("op", op, col))
        i += len(op)
    end = len(src) + 1
    if in_braces:
        return fail(end, "unexpected end of input inside braces")
    if depth:
        return fail(end, "unclosed left parenthesis")
    if in_brackets:
        return fail(end, "unclosed left bracket")
    out.append(Token("eof", "", end))
    return out
