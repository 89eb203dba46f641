"""The PromQL lexer: source text to tokens, and Prometheus durations.

A duration is only recognised inside ``[...]`` (the simulator has no ``offset``), like Prometheus'
lexer, so ``5m`` outside brackets lexes as a number then an identifier and fails in the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sre_cockpit.simulator.promql_ast import ParseError

_DURATION = re.compile(r"(\d+(?:ms|[smhdwy]))+")
_DUR_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_DUR_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
           "w": 604_800_000, "y": 31_536_000_000}
_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[Ii]nf|[Nn]a[Nn])")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OPS = ("=~", "!~", "!=", "==", ">=", "<=", "(", ")", "{", "}", "[", "]", ",", "=", "+", "-",
        "*", "/", "%", "^", ">", "<", "@", ":")


@dataclass
class Token:
    """One token: ``kind`` is num, str, ident, dur, op or eof; ``col`` is 1-based."""

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


def lex(src: str) -> list[Token]:
    """Tokens of ``src``, ending with an ``eof`` token at column ``len(src) + 1``.

    Raises:
        ParseError: an unterminated string or a character PromQL does not use.
    """
    out: list[Token] = []
    i = 0
    in_brackets = False
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
            j = i + 1
            buf = []
            while j < len(src) and src[j] != c:
                if src[j] == "\\" and c != "`" and j + 1 < len(src):
                    esc = src[j + 1]
                    buf.append({"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}.get(esc, "\\" + esc))
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            if j >= len(src):
                raise ParseError(col, "unterminated quoted string")
            out.append(Token("str", "".join(buf), col))
            i = j + 1
            continue
        if c.isdigit() or (c == "." and i + 1 < len(src) and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            assert m is not None
            end = m.end()
            # a duration outside brackets (e.g. offset 5m) is not supported
            out.append(Token("num", m.group(0), col))
            i = end
            continue
        m = _IDENT.match(src, i)
        if m:
            word = m.group(0)
            if word.lower() in ("inf", "nan"):
                out.append(Token("num", word, col))
            else:
                out.append(Token("ident", word, col))
            i = m.end()
            continue
        for op in _OPS:
            if src.startswith(op, i):
                out.append(Token("op", op, col))
                if op == "[":
                    in_brackets = True
                elif op == "]":
                    in_brackets = False
                i += len(op)
                break
        else:
            raise ParseError(col, f"unexpected character: {c!r}")
    out.append(Token("eof", "", len(src) + 1))
    return out

