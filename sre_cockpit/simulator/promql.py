"""A small, real PromQL parser and evaluator for the subset the cockpit uses.

Supported: number and string literals, vector selectors with ``= != =~ !~`` matchers, range
selectors, ``rate``/``increase``/``irate``/``changes``/``delta``, ``vector``/``scalar``/``time``/
``abs``/``histogram_quantile``, aggregations ``sum min max avg count`` with ``by``/``without``,
binary ``+ - * / % ^`` and comparisons (with ``bool``), ``on``/``ignoring`` one-to-one matching,
unary minus and parentheses. Anything else is refused with a Prometheus-like ``bad_data``.

``rate``/``increase`` follow Prometheus 2.x ``extrapolatedRate`` exactly (range ``[t-W, t]``
inclusive, counter-reset correction, zero-point and half-interval extrapolation).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union, cast

from sre_cockpit.simulator.story import Series

MAX_POINTS = 11_000


class PromQLError(Exception):
    """A query error: ``error_type`` is Prometheus' errorType (bad_data, execution)."""

    def __init__(self, message: str, error_type: str = "bad_data") -> None:
        super().__init__(message)
        self.error_type = error_type


class ParseError(PromQLError):
    """A parse error at a 1-based column (formatted like Prometheus)."""

    def __init__(self, col: int, message: str) -> None:
        super().__init__(f"1:{col}: parse error: {message}")


# ---------------------------------------------------------------- lexer
_DURATION = re.compile(r"(\d+(?:ms|[smhdwy]))+")
_DUR_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_DUR_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
           "w": 604_800_000, "y": 31_536_000_000}
_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[Ii]nf|[Nn]a[Nn])")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OPS = ("=~", "!~", "!=", "==", ">=", "<=", "(", ")", "{", "}", "[", "]", ",", "=", "+", "-",
        "*", "/", "%", "^", ">", "<", "@", ":")
KNOWN_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max",
    "clamp_min", "count_over_time", "day_of_month", "day_of_week", "days_in_month", "delta",
    "deriv", "exp", "floor", "histogram_quantile", "holt_winters", "hour", "idelta", "increase",
    "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
    "max_over_time", "min_over_time", "minute", "month", "predict_linear", "quantile_over_time",
    "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "stddev_over_time",
    "stdvar_over_time", "sum_over_time", "time", "timestamp", "vector", "year",
}
AGGREGATIONS = {"sum", "min", "max", "avg", "count"}
KNOWN_AGGREGATIONS = AGGREGATIONS | {"stddev", "stdvar", "topk", "bottomk", "quantile",
                                     "count_values", "group"}
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}


@dataclass
class Token:
    kind: str  # num, str, ident, dur, op, eof
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


def _lex(src: str) -> list[Token]:
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


# ---------------------------------------------------------------- AST
@dataclass
class NumberLit:
    value: float


@dataclass
class StringLit:
    value: str


@dataclass
class Matcher:
    name: str
    op: str
    value: str
    regex: re.Pattern[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        v = labels.get(self.name, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        assert self.regex is not None
        hit = self.regex.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit


@dataclass
class VectorSel:
    name: str | None
    matchers: list[Matcher]


@dataclass
class MatrixSel:
    vector: VectorSel
    range_ms: int


@dataclass
class Call:
    func: str
    args: list[Expr]


@dataclass
class Agg:
    op: str
    expr: Expr
    grouping: list[str] = field(default_factory=list)
    without: bool = False


@dataclass
class Binary:
    op: str
    lhs: Expr
    rhs: Expr
    bool_mod: bool = False
    on: bool = False
    matching: list[str] = field(default_factory=list)
    has_matching: bool = False


@dataclass
class Neg:
    expr: Expr


Expr = Union[NumberLit, StringLit, VectorSel, MatrixSel, Call, Agg, Binary, Neg]  # noqa: UP007

_PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "==": 3, "!=": 3, "<=": 3, "<": 3, ">=": 3,
               ">": 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}


def _type_of(e: Expr) -> str:
    if isinstance(e, NumberLit):
        return "scalar"
    if isinstance(e, StringLit):
        return "string"
    if isinstance(e, MatrixSel):
        return "range vector"
    if isinstance(e, Call):
        return {"vector": "instant vector", "scalar": "scalar", "time": "scalar"}.get(
            e.func, "instant vector")
    if isinstance(e, Neg):
        return _type_of(e.expr)
    if isinstance(e, Binary):
        if _type_of(e.lhs) == "scalar" and _type_of(e.rhs) == "scalar":
            return "scalar"
        return "instant vector"
    return "instant vector"


class Parser:
    """Recursive-descent parser with precedence climbing for binary operators."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _lex(src)
        self.pos = 0

    def peek(self) -> Token:
        return self.toks[self.pos]

    def next(self) -> Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def expect(self, text: str, what: str) -> Token:
        tok = self.next()
        if tok.text != text or tok.kind not in ("op", "ident"):
            raise ParseError(tok.col, f"unexpected {_describe(tok)} {what}")
        return tok

    def parse(self) -> Expr:
        if self.peek().kind == "eof":
            raise ParseError(1, "no expression found in input")
        e = self.parse_binary(0)
        tok = self.peek()
        if tok.kind != "eof":
            if tok.text == ")":
                raise ParseError(tok.col, "unexpected right parenthesis ')'")
            raise ParseError(tok.col, f"unexpected {_describe(tok)}")
        return e

    def _binop(self) -> str | None:
        tok = self.peek()
        if tok.kind == "op" and tok.text in _PRECEDENCE:
            return tok.text
        if tok.kind == "ident" and tok.text in ("and", "or", "unless", "atan2"):
            return tok.text
        return None

    def parse_binary(self, min_prec: int) -> Expr:
        lhs = self.parse_unary()
        while True:
            op = self._binop()
            if op is None or _PRECEDENCE[op] < min_prec:
                return lhs
            tok = self.next()
            if op in ("and", "or", "unless", "atan2"):
                raise ParseError(tok.col, f'binary operator "{op}" is not supported by the sre-cockpit simulator')
            node = Binary(op, lhs, NumberLit(0.0))
            if self.peek().kind == "ident" and self.peek().text == "bool":
                if op not in COMPARISONS:
                    raise ParseError(self.peek().col, "bool modifier can only be used on comparison operators")
                self.next()
                node.bool_mod = True
            if self.peek().kind == "ident" and self.peek().text in ("on", "ignoring"):
                node.on = self.next().text == "on"
                node.has_matching = True
                node.matching = self.parse_label_list()
                if self.peek().kind == "ident" and self.peek().text in ("group_left", "group_right"):
                    t = self.peek()
                    raise ParseError(t.col, f"{t.text} is not supported by the sre-cockpit simulator")
            next_min = _PRECEDENCE[op] + (0 if op == "^" else 1)
            node.rhs = self.parse_binary(next_min)
            lt, rt = _type_of(node.lhs), _type_of(node.rhs)
            for side in (lt, rt):
                if side not in ("scalar", "instant vector"):
                    raise ParseError(tok.col, "binary expression must contain only scalar and instant vector types")
            if op in COMPARISONS and lt == rt == "scalar" and not node.bool_mod:
                raise ParseError(tok.col, "comparisons between scalars must use BOOL modifier")
            if node.has_matching and "scalar" in (lt, rt):
                raise ParseError(tok.col, "vector matching only allowed between instant vectors")
            lhs = node

    def parse_unary(self) -> Expr:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("-", "+"):
            self.next()
            inner = self.parse_binary(_PRECEDENCE["^"])  # unary binds looser than ^
            if tok.text == "+":
                return inner
            if isinstance(inner, NumberLit):
                return NumberLit(-inner.value)
            return Neg(inner)
        return self.parse_postfix(self.parse_primary())

    def parse_postfix(self, e: Expr) -> Expr:
        tok = self.peek()
        if tok.kind == "op" and tok.text == "[":
            if not isinstance(e, VectorSel):
                raise ParseError(tok.col, "ranges only allowed for vector selectors")
            self.next()
            dur = self.next()
            if dur.kind == "op" and dur.text == "]":
                raise ParseError(dur.col, "unexpected \"]\" in subquery selector, expected number or duration")
            if dur.kind != "dur":
                raise ParseError(dur.col, f"unexpected {_describe(dur)} in range selector, expected duration")
            rng = parse_duration_ms(dur.text)
            close = self.next()
            if close.text == ":":
                raise ParseError(close.col, "subqueries are not supported by the sre-cockpit simulator")
            if close.text != "]":
                raise ParseError(close.col, f"unexpected {_describe(close)} in range selector, expected \"]\"")
            e = MatrixSel(e, rng)
            tok = self.peek()
        if (tok.kind == "ident" and tok.text == "offset") or (tok.kind == "op" and tok.text == "@"):
            raise ParseError(tok.col, f'"{tok.text}" modifier is not supported by the sre-cockpit simulator')
        return e

    def parse_primary(self) -> Expr:
        tok = self.next()
        if tok.kind == "num":
            text = tok.text.lower()
            if text == "inf":
                return NumberLit(math.inf)
            if text == "nan":
                return NumberLit(math.nan)
            return NumberLit(float(int(text, 16)) if text.startswith("0x") else float(text))
        if tok.kind == "str":
            return StringLit(tok.text)
        if tok.kind == "op" and tok.text == "(":
            inner = self.parse_binary(0)
            close = self.next()
            if close.text != ")":
                if close.kind == "eof":
                    raise ParseError(close.col, "unclosed left parenthesis")
                raise ParseError(close.col, f"unexpected {_describe(close)}, expected \")\"")
            return inner
        if tok.kind == "op" and tok.text == "{":
            self.pos -= 1
            return self.parse_selector(None, tok.col)
        if tok.kind == "ident":
            word = tok.text
            nxt = self.peek()
            if word in KNOWN_AGGREGATIONS:
                return self.parse_aggregation(tok)
            if nxt.kind == "op" and nxt.text == "(":
                return self.parse_call(tok)
            if word in ("by", "without", "on", "ignoring", "bool", "offset"):
                raise ParseError(tok.col, f'unexpected <{word}>')
            return self.parse_selector(word, tok.col)
        if tok.kind == "eof":
            raise ParseError(tok.col - 1 if tok.col > 1 else 1, "unexpected end of input")
        raise ParseError(tok.col, f"unexpected {_describe(tok)}")

    def parse_label_list(self) -> list[str]:
        self.expect("(", "in grouping opts, expected \"(\"")
        names: list[str] = []
        while True:
            tok = self.next()
            if tok.kind == "op" and tok.text == ")":
                return names
            if tok.kind != "ident":
                raise ParseError(tok.col, f"unexpected {_describe(tok)} in grouping opts, expected label")
            names.append(tok.text)
            sep = self.next()
            if sep.text == ")":
                return names
            if sep.text != ",":
                raise ParseError(sep.col, f"unexpected {_describe(sep)} in grouping opts, expected \")\" or \",\"")

    def parse_aggregation(self, tok: Token) -> Expr:
        op = tok.text
        if op not in AGGREGATIONS:
            raise ParseError(tok.col, f'aggregation "{op}" is not supported by the sre-cockpit simulator')
        node = Agg(op, NumberLit(0.0))
        if self.peek().kind == "ident" and self.peek().text in ("by", "without"):
            node.without = self.next().text == "without"
            node.grouping = self.parse_label_list()
        open_tok = self.next()
        if open_tok.text != "(":
            raise ParseError(open_tok.col, f"unexpected {_describe(open_tok)} in aggregation, expected \"(\"")
        node.expr = self.parse_binary(0)
        close = self.next()
        if close.text == ",":
            raise ParseError(close.col, f'aggregation "{op}" takes no parameter')
        if close.text != ")":
            if close.kind == "eof":
                raise ParseError(close.col, "unclosed left parenthesis")
            raise ParseError(close.col, f"unexpected {_describe(close)} in aggregation, expected \")\"")
        if self.peek().kind == "ident" and self.peek().text in ("by", "without"):
            if node.grouping:
                raise ParseError(self.peek().col, "aggregation must only contain one grouping clause")
            node.without = self.next().text == "without"
            node.grouping = self.parse_label_list()
        if _type_of(node.expr) != "instant vector":
            raise ParseError(open_tok.col + 1, f'expected type instant vector in aggregation expression, got {_type_of(node.expr)}')
        return node

    def parse_call(self, tok: Token) -> Expr:
        name = tok.text
        if name not in KNOWN_FUNCTIONS:
            raise ParseError(tok.col, f'unknown function with name "{name}"')
        self.next()  # (
        args: list[Expr] = []
        if self.peek().text == ")":
            self.next()
        else:
            while True:
                args.append(self.parse_binary(0))
                sep = self.next()
                if sep.text == ")":
                    break
                if sep.text != ",":
                    if sep.kind == "eof":
                        raise ParseError(sep.col, "unclosed left parenthesis")
                    raise ParseError(sep.col, f"unexpected {_describe(sep)} in call, expected \")\" or \",\"")
        sig = {
            "rate": ["range vector"], "increase": ["range vector"], "irate": ["range vector"],
            "changes": ["range vector"], "delta": ["range vector"], "vector": ["scalar"],
            "scalar": ["instant vector"], "time": [], "abs": ["instant vector"],
            "histogram_quantile": ["scalar", "instant vector"],
        }
        if name not in sig:
            raise ParseError(tok.col, f'function "{name}" is not supported by the sre-cockpit simulator')
        want = sig[name]
        if len(args) != len(want):
            raise ParseError(tok.col, f'expected {len(want)} argument(s) in call to "{name}", got {len(args)}')
        for arg, typ in zip(args, want, strict=True):
            got = _type_of(arg)
            if got != typ:
                raise ParseError(tok.col, f'expected type {typ} in call to function "{name}", got {got}')
        return Call(name, args)

    def parse_selector(self, name: str | None, col: int) -> VectorSel:
        matchers: list[Matcher] = []
        if self.peek().kind == "op" and self.peek().text == "{":
            self.next()
            while True:
                tok = self.next()
                if tok.kind == "op" and tok.text == "}":
                    break
                if tok.kind != "ident":
                    if tok.kind == "eof":
                        raise ParseError(tok.col, "unexpected end of input inside braces")
                    raise ParseError(tok.col, f"unexpected {_describe(tok)} in label matching, expected label")
                op = self.next()
                if op.kind != "op" or op.text not in ("=", "!=", "=~", "!~"):
                    raise ParseError(op.col, f"unexpected {_describe(op)} in label matching, expected label matching operator")
                val = self.next()
                if val.kind != "str":
                    raise ParseError(val.col, f"unexpected {_describe(val)} in label matching, expected string")
                rx = None
                if op.text in ("=~", "!~"):
                    try:
                        rx = re.compile(f"(?:{val.text})", re.DOTALL)
                    except re.error as exc:
                        raise ParseError(val.col, f"error parsing regexp: {exc}") from exc
                matchers.append(Matcher(tok.text, op.text, val.text, rx))
                sep = self.next()
                if sep.text == "}":
                    break
                if sep.text != ",":
                    raise ParseError(sep.col, f"unexpected {_describe(sep)} in label matching, expected \",\" or \"}}\"")
        if name is not None:
            matchers.insert(0, Matcher("__name__", "=", name))
        if not any(not m.matches({}) for m in matchers):
            raise ParseError(col, "vector selector must contain at least one non-empty matcher")
        return VectorSel(name, matchers)


def _describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "end of input"
    if tok.kind == "ident":
        return f"identifier \"{tok.text}\""
    if tok.kind == "num":
        return f"number \"{tok.text}\""
    if tok.kind == "str":
        return f"string \"{tok.text}\""
    if tok.kind == "dur":
        return f"duration \"{tok.text}\""
    return f"\"{tok.text}\""


def parse(src: str) -> Expr:
    """Parse a PromQL expression of the supported subset (raises :class:`ParseError`)."""
    return Parser(src).parse()


# ---------------------------------------------------------------- evaluation
Labels = dict[str, str]
Sample = tuple[Labels, float]
Value = Union[float, list[Sample], str, list[tuple[Labels, list[tuple[int, float]]]]]  # noqa: UP007


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _drop_name(labels: Labels) -> Labels:
    return {k: v for k, v in labels.items() if k != "__name__"}


def extrapolated_rate(series: Series, t_ms: int, range_ms: int, *, is_counter: bool,
                      is_rate: bool, visible_ms: int | None = None) -> float | None:
    """Prometheus 2.x ``extrapolatedRate`` over the samples in ``[t - range, t]``.

    ``visible_ms`` hides samples after it (the simulator's "now").
    """
    range_start = t_ms - range_ms
    w = series.window(range_start, t_ms if visible_ms is None else min(t_ms, visible_ms))
    if w is None or w.count < 2:
        return None
    result = w.last_v - w.first_v
    if is_counter:
        result += w.reset_correction
    duration_to_start = (w.first_t - range_start) / 1000
    duration_to_end = (t_ms - w.last_t) / 1000
    sampled_interval = (w.last_t - w.first_t) / 1000
    average = sampled_interval / float(w.count - 1)
    if is_counter and result > 0 and w.first_v >= 0:
        duration_to_zero = sampled_interval * (w.first_v / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    threshold = average * 1.1
    extrapolate_to = sampled_interval
    extrapolate_to += duration_to_start if duration_to_start < threshold else average / 2
    extrapolate_to += duration_to_end if duration_to_end < threshold else average / 2
    factor = extrapolate_to / sampled_interval
    if is_rate:
        factor /= range_ms / 1000
    return result * factor


def _arith(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                if a == 0 or math.isnan(a):
                    return math.nan
                return math.copysign(math.inf, a) * (1 if math.copysign(1, b) > 0 else -1)
            return a / b
        if op == "%":
            return math.fmod(a, b) if b != 0 else math.nan
        if op == "^":
            return math.pow(a, b)
    except (OverflowError, ValueError):
        return math.nan
    raise PromQLError(f"operator {op} not supported", "bad_data")


def _compare(op: str, a: float, b: float) -> bool:
    return {"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b,
            "<=": a <= b}[op]


def _bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets)
    if not buckets or not math.isinf(buckets[-1][0]):
        return math.nan
    merged: list[list[float]] = []
    for ub, count in buckets:
        if merged and merged[-1][0] == ub:
            merged[-1][1] += count
        else:
            merged.append([ub, count])
    peak = -math.inf
    for b in merged:  # ensureMonotonic
        if b[1] > peak:
            peak = b[1]
        elif b[1] < peak:
            b[1] = peak
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    idx = next((i for i in range(len(merged) - 1) if merged[i][1] >= rank), len(merged) - 1)
    if idx == len(merged) - 1:
        return merged[-2][0]
    if idx == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start = 0.0
    end = merged[idx][0]
    count = merged[idx][1]
    if idx > 0:
        start = merged[idx - 1][0]
        count -= merged[idx - 1][1]
        rank -= merged[idx - 1][1]
    return start + (end - start) * (rank / count)


class Evaluator:
    """Evaluates parsed expressions over a fixed list of series."""

    def __init__(self, series: Sequence[Series], now_ms: int | None = None) -> None:
        self.series = series
        self.now_ms = now_ms

    def _clip(self, t_ms: int) -> int:
        return t_ms if self.now_ms is None else min(t_ms, self.now_ms)

    def select(self, sel: VectorSel) -> list[Series]:
        return [s for s in self.series if all(m.matches(s.labels) for m in sel.matchers)]

    def eval(self, e: Expr, t_ms: int) -> Value:
        if isinstance(e, NumberLit):
            return e.value
        if isinstance(e, StringLit):
            return e.value
        if isinstance(e, VectorSel):
            out: list[Sample] = []
            for s in self.select(e):
                if self.now_ms is not None and t_ms > self.now_ms:
                    hit = s.latest(self.now_ms) if t_ms - self.now_ms < 300_000 else None
                    hit = hit if hit is None or hit[0] >= t_ms - 300_000 else None
                else:
                    hit = s.latest(t_ms)
                if hit is not None:
                    out.append((dict(s.labels), hit[1]))
            return out
        if isinstance(e, MatrixSel):
            mat = []
            for s in self.select(e.vector):
                pts = list(s.samples(t_ms - e.range_ms, self._clip(t_ms)))
                if pts:
                    mat.append((dict(s.labels), pts))
            return mat
        if isinstance(e, Neg):
            v = self.eval(e.expr, t_ms)
            if isinstance(v, float):
                return -v
            return [(_drop_name(lbl), -x) for lbl, x in _vec(v)]
        if isinstance(e, Call):
            return self.call(e, t_ms)
        if isinstance(e, Agg):
            return self.aggregate(e, _vec(self.eval(e.expr, t_ms)))
        if isinstance(e, Binary):
            return self.binary(e, self.eval(e.lhs, t_ms), self.eval(e.rhs, t_ms))
        raise PromQLError("unsupported expression")

    def call(self, e: Call, t_ms: int) -> Value:
        f = e.func
        if f in ("rate", "increase", "delta", "irate", "changes"):
            arg = e.args[0]
            assert isinstance(arg, MatrixSel)
            out: list[Sample] = []
            for s in self.select(arg.vector):
                val = self._range_fn(f, s, t_ms, arg.range_ms)
                if val is not None:
                    out.append((_drop_name(s.labels), val))
            return out
        if f == "vector":
            single: list[Sample] = [({}, _num(self.eval(e.args[0], t_ms)))]
            return single
        if f == "time":
            return t_ms / 1000
        if f == "scalar":
            vec = _vec(self.eval(e.args[0], t_ms))
            return vec[0][1] if len(vec) == 1 else math.nan
        if f == "abs":
            return [(_drop_name(lbl), abs(v)) for lbl, v in _vec(self.eval(e.args[0], t_ms))]
        if f == "histogram_quantile":
            q = _num(self.eval(e.args[0], t_ms))
            groups: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
            keep: dict[tuple[tuple[str, str], ...], Labels] = {}
            for lbl, v in _vec(self.eval(e.args[1], t_ms)):
                if "le" not in lbl:
                    continue
                try:
                    ub = float(lbl["le"])
                except ValueError:
                    continue
                rest = {k: x for k, x in lbl.items() if k not in ("le", "__name__")}
                groups.setdefault(_key(rest), []).append((ub, v))
                keep[_key(rest)] = rest
            return [(keep[k], _bucket_quantile(q, b)) for k, b in groups.items()]
        raise PromQLError(f'function "{f}" is not supported by the sre-cockpit simulator')

    def _range_fn(self, f: str, s: Series, t_ms: int, range_ms: int) -> float | None:
        tt = self._clip(t_ms)
        if f in ("rate", "increase", "delta"):
            return extrapolated_rate(s, t_ms, range_ms, is_counter=f != "delta",
                                     is_rate=f == "rate", visible_ms=tt)
        w = s.window(t_ms - range_ms, tt)
        if w is None:
            return None
        if f == "changes":
            return float(w.changes)
        # irate: last two samples
        if w.count < 2:
            return None
        prev_t = w.last_t - 15_000
        prev_v = s.value(prev_t)
        diff = w.last_v - prev_v if w.last_v >= prev_v else w.last_v
        return diff / ((w.last_t - prev_t) / 1000)

    def aggregate(self, e: Agg, vec: list[Sample]) -> list[Sample]:
        groups: dict[tuple[tuple[str, str], ...], tuple[Labels, list[float]]] = {}
        for lbl, v in vec:
            if e.without:
                g = {k: x for k, x in lbl.items() if k not in e.grouping and k != "__name__"}
            else:
                g = {k: lbl[k] for k in e.grouping if k in lbl}
            groups.setdefault(_key(g), (g, []))[1].append(v)
        out: list[Sample] = []
        for g, vals in groups.values():
            if e.op == "sum":
                total = 0.0
                for v in vals:
                    total += v
                out.append((g, total))
            elif e.op == "avg":
                mean = 0.0
                for i, v in enumerate(vals, 1):
                    mean += v / i - mean / i
                out.append((g, mean))
            elif e.op == "count":
                out.append((g, float(len(vals))))
            elif e.op == "min":
                out.append((g, min(vals, key=lambda x: (math.isnan(x), x))))
            else:
                out.append((g, max(vals, key=lambda x: (not math.isnan(x), x))))
        return out

    def binary(self, e: Binary, lv: Value, rv: Value) -> Value:
        cmp = e.op in COMPARISONS
        if isinstance(lv, float) and isinstance(rv, float):
            if cmp:
                return 1.0 if _compare(e.op, lv, rv) else 0.0
            return _arith(e.op, lv, rv)
        if isinstance(lv, float) or isinstance(rv, float):
            vec = _vec(rv if isinstance(lv, float) else lv)
            scalar = lv if isinstance(lv, float) else rv
            assert isinstance(scalar, float)
            out: list[Sample] = []
            for lbl, v in vec:
                a, b = (scalar, v) if isinstance(lv, float) else (v, scalar)
                if cmp:
                    hit = _compare(e.op, a, b)
                    if e.bool_mod:
                        out.append((_drop_name(lbl), 1.0 if hit else 0.0))
                    elif hit:
                        out.append((lbl, v))
                else:
                    out.append((_drop_name(lbl), _arith(e.op, a, b)))
            return out
        return self._vector_binary(e, _vec(lv), _vec(rv))

    def _signature(self, e: Binary, lbl: Labels) -> tuple[tuple[str, str], ...]:
        if e.on:
            return _key({k: v for k, v in lbl.items() if k in e.matching})
        return _key({k: v for k, v in lbl.items() if k not in e.matching and k != "__name__"})

    def _vector_binary(self, e: Binary, lhs: list[Sample], rhs: list[Sample]) -> list[Sample]:
        right: dict[tuple[tuple[str, str], ...], Sample] = {}
        for lbl, v in rhs:
            sig = self._signature(e, lbl)
            if sig in right:
                group = "{" + ", ".join(f'{k}="{x}"' for k, x in sig) + "}"
                series = ", ".join(_fmt_labels(x[0]) for x in (right[sig], (lbl, v)))
                raise PromQLError(
                    f"found duplicate series for the match group {group} on the right hand-side "
                    f"of the operation: [{series}];many-to-many matching not allowed: matching "
                    "labels must be unique on one side", "execution")
            right[sig] = (lbl, v)
        seen: set[tuple[tuple[str, str], ...]] = set()
        out: list[Sample] = []
        cmp = e.op in COMPARISONS
        for lbl, v in lhs:
            sig = self._signature(e, lbl)
            if sig not in right:
                continue
            if sig in seen:
                raise PromQLError("multiple matches for labels: many-to-one matching must be "
                                  "explicit (group_left/group_right)", "execution")
            seen.add(sig)
            rv = right[sig][1]
            metric = dict(lbl)
            if e.on:
                metric = {k: x for k, x in metric.items() if k in e.matching}
            elif e.matching:
                metric = {k: x for k, x in metric.items() if k not in e.matching}
            if cmp:
                hit = _compare(e.op, v, rv)
                if e.bool_mod:
                    out.append((_drop_name(metric), 1.0 if hit else 0.0))
                elif hit:
                    out.append((metric, v))
            else:
                out.append((_drop_name(metric), _arith(e.op, v, rv)))
        return out


def _fmt_labels(lbl: Labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(lbl.items())) + "}"


def _vec(v: Value) -> list[Sample]:
    if isinstance(v, list) and (not v or isinstance(v[0][1], float)):
        return v  # type: ignore[return-value]
    raise PromQLError("expected an instant vector")


def _num(v: Value) -> float:
    if isinstance(v, float):
        return v
    raise PromQLError("expected a scalar")


def format_value(v: float) -> str:
    """Prometheus' sample formatting (``strconv.FormatFloat(v, 'f', -1, 64)``)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = repr(v)
    if "e" in text or "E" in text:
        from decimal import Decimal

        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def format_ts(t_ms: int) -> float | int:
    """A JSON timestamp in seconds as Prometheus writes it."""
    if t_ms % 1000 == 0:
        return t_ms // 1000
    return t_ms / 1000


def instant_query(query: str, t_ms: int, series: Sequence[Series],
                  now_ms: int | None = None) -> dict[str, object]:
    """The ``data`` object of ``/api/v1/query``."""
    expr = parse(query)
    ev = Evaluator(series, now_ms)
    value = ev.eval(expr, t_ms)
    ts = format_ts(t_ms)
    if isinstance(expr, StringLit):
        return {"resultType": "string", "result": [ts, value]}
    if isinstance(value, float):
        return {"resultType": "scalar", "result": [ts, format_value(value)]}
    if isinstance(expr, MatrixSel):
        mat = cast("list[tuple[Labels, list[tuple[int, float]]]]", value)
        return {"resultType": "matrix", "result": [
            {"metric": lbl, "values": [[format_ts(t), format_value(v)] for t, v in pts]}
            for lbl, pts in sorted(mat, key=lambda x: _key(x[0]))]}
    vec = sorted(_vec(value), key=lambda x: _key(x[0]))
    return {"resultType": "vector", "result": [
        {"metric": lbl, "value": [ts, format_value(v)]} for lbl, v in vec]}


def range_query(query: str, start_ms: int, end_ms: int, step_ms: int, series: Sequence[Series],
                now_ms: int | None = None) -> dict[str, object]:
    """The ``data`` object of ``/api/v1/query_range``."""
    expr = parse(query)
    kind = _type_of(expr)
    if kind not in ("scalar", "instant vector"):
        raise PromQLError(f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector')
    ev = Evaluator(series, now_ms)
    acc: dict[tuple[tuple[str, str], ...], tuple[Labels, list[list[object]]]] = {}
    t = start_ms
    while t <= end_ms:
        value = ev.eval(expr, t)
        samples = [({}, value)] if isinstance(value, float) else _vec(value)
        for lbl, v in samples:
            lbl = _drop_name(lbl) if isinstance(value, float) else lbl
            acc.setdefault(_key(lbl), (lbl, []))[1].append([format_ts(t), format_value(v)])
        t += step_ms
    return {"resultType": "matrix", "result": [
        {"metric": lbl, "values": pts} for _k, (lbl, pts) in sorted(acc.items())]}
