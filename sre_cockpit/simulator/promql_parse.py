"""The PromQL parser: tokens to the syntax tree of :mod:`sre_cockpit.simulator.promql_ast`.

Recursive descent with precedence climbing for binary operators. It type-checks like Prometheus
(function arguments, aggregation operands, scalar comparisons) and answers Prometheus 2.42's
error text and 1-based column where the simulator has been compared with it. Syntax outside the
simulator's subset (``offset``, ``@``, subqueries, ``group_left``, ``topk``…) is
refused as "not supported by the sre-cockpit simulator".
"""

from __future__ import annotations

import math
import re

from sre_cockpit.simulator.promql_ast import (
    AGGREGATIONS,
    COMPARISONS,
    SET_OPERATORS,
    Agg,
    Binary,
    Call,
    Expr,
    Matcher,
    MatrixSel,
    Neg,
    NumberLit,
    ParseError,
    StringLit,
    VectorSel,
    type_of,
)
from sre_cockpit.simulator.promql_lexer import Token, lex, parse_duration_ms

KNOWN_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max",
    "clamp_min", "count_over_time", "day_of_month", "day_of_week", "days_in_month", "delta",
    "deriv", "exp", "floor", "histogram_quantile", "holt_winters", "hour", "idelta", "increase",
    "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
    "max_over_time", "min_over_time", "minute", "month", "predict_linear", "quantile_over_time",
    "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "stddev_over_time",
    "stdvar_over_time", "sum_over_time", "time", "timestamp", "vector", "year",
}
KNOWN_AGGREGATIONS = AGGREGATIONS | {"stddev", "stdvar", "topk", "bottomk", "quantile",
                                     "count_values", "group"}

_KEYWORDS = ("by", "without", "on", "ignoring", "bool", "offset", "group_left", "group_right")
"""Words that cannot start an expression (Prometheus reports them as ``<word>``)."""

_PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "==": 3, "!=": 3, "<=": 3, "<": 3, ">=": 3,
               ">": 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}


class Parser:
    """Recursive-descent parser with precedence climbing for binary operators."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = lex(src)
        self.pos = 0

    def peek(self) -> Token:
        """The next token, not consumed; reading the lexer's error raises it."""
        tok = self.toks[self.pos]
        if tok.kind == "err":
            raise ParseError(tok.col, tok.text)
        return tok

    def next(self) -> Token:
        """Consume and return the next token; reading the lexer's error raises it."""
        tok = self.peek()
        self.pos += 1
        return tok

    def at(self, kind: str, *texts: str) -> bool:
        """Whether the next token is of ``kind`` and, when given, one of ``texts``."""
        tok = self.peek()
        return tok.kind == kind and (not texts or tok.text in texts)

    def expect(self, text: str, what: str) -> Token:
        """Consume ``text`` or raise a parse error ending in ``what``."""
        tok = self.next()
        if tok.text != text or tok.kind not in ("op", "ident"):
            raise ParseError(tok.col, f"unexpected {_describe(tok)} {what}")
        return tok

    def parse(self) -> Expr:
        """The whole input as one expression."""
        if self.peek().kind == "eof":
            raise ParseError(1, "no expression found in input")
        e = self.parse_binary(0)
        tok = self.peek()
        if tok.kind == "ident" and tok.text in _KEYWORDS:
            raise ParseError(tok.col, f"unexpected <{tok.text}>")
        if tok.kind != "eof":
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
        """A binary expression whose operators bind at least as tightly as ``min_prec``."""
        lhs_col = self.peek().col
        lhs = self.parse_unary()
        while True:
            op = self._binop()
            if op is None or _PRECEDENCE[op] < min_prec:
                return lhs
            tok = self.next()
            if op == "atan2":
                raise ParseError(tok.col, f'binary operator "{op}" is not supported by the sre-cockpit simulator')
            node = Binary(op, lhs, NumberLit(0.0))
            if self.at("ident", "bool"):
                if op not in COMPARISONS:
                    raise ParseError(tok.col, "bool modifier can only be used on comparison operators")
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
            rhs_col = self.peek().col
            node.rhs = self.parse_binary(next_min)
            lt, rt = type_of(node.lhs), type_of(node.rhs)
            for side, col in ((lt, lhs_col), (rt, rhs_col)):
                if side not in ("scalar", "instant vector"):
                    raise ParseError(col, "binary expression must contain only scalar and instant vector types")
            if op in COMPARISONS and lt == rt == "scalar" and not node.bool_mod:
                raise ParseError(tok.col, "comparisons between scalars must use BOOL modifier")
            if node.has_matching and "scalar" in (lt, rt):
                raise ParseError(lhs_col, "vector matching only allowed between instant vectors")
            if op in SET_OPERATORS and "scalar" in (lt, rt):
                raise ParseError(lhs_col, f'set operator "{op}" not allowed in binary scalar expression')
            lhs = node

    def parse_unary(self) -> Expr:
        """A unary ``-``/``+`` expression, or a primary with its range suffix."""
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("-", "+"):
            self.next()
            inner = self.parse_binary(_PRECEDENCE["^"])  # unary binds looser than ^
            kind = type_of(inner)
            if kind not in ("scalar", "instant vector"):
                raise ParseError(tok.col, "unary expression only allowed on expressions of type scalar "
                                 f'or instant vector, got "{kind}"')
            if tok.text == "+":
                return inner
            if isinstance(inner, NumberLit):
                return NumberLit(-inner.value)
            return Neg(inner)
        parenthesised = self.at("op", "(")
        return self.parse_postfix(self.parse_primary(), parenthesised)

    def parse_postfix(self, e: Expr, parenthesised: bool = False) -> Expr:
        """``e`` with an optional ``[range]``; subqueries, ``offset`` and ``@`` are refused.

        Args:
            e: the expression just parsed.
            parenthesised: ``e`` was written in parentheses, which a range cannot follow.
        """
        tok = self.peek()
        if tok.kind == "op" and tok.text == "[":
            ahead = self.toks[self.pos + 2] if self.pos + 2 < len(self.toks) else tok
            if ahead.kind == "op" and ahead.text == ":":
                raise ParseError(ahead.col, "subqueries are not supported by the sre-cockpit simulator")
            if parenthesised or not isinstance(e, VectorSel):
                raise ParseError(tok.col, "ranges only allowed for vector selectors")
            self.next()
            dur = self.next()
            if dur.kind == "op" and dur.text == "]":
                raise ParseError(dur.col, "unexpected \"]\" in subquery selector, expected number or duration")
            if dur.kind != "dur":
                raise ParseError(dur.col, f"unexpected {_describe(dur)} in range selector, expected duration")
            try:
                rng = parse_duration_ms(dur.text)
            except ValueError as exc:
                raise ParseError(dur.col, str(exc)) from exc
            close = self.next()
            if close.text != "]":
                raise ParseError(close.col, f"unexpected {_describe(close)} in range selector, expected \"]\"")
            e = MatrixSel(e, rng)
            tok = self.peek()
            if tok.kind == "op" and tok.text == "[":
                raise ParseError(tok.col, "ranges only allowed for vector selectors")
        if (tok.kind == "ident" and tok.text == "offset") or (tok.kind == "op" and tok.text == "@"):
            raise ParseError(tok.col, f'"{tok.text}" modifier is not supported by the sre-cockpit simulator')
        return e

    def parse_primary(self) -> Expr:
        """A literal, parenthesised expression, selector, call or aggregation."""
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
                raise ParseError(close.col, f"unexpected {_describe(close)}")
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
            if word in _KEYWORDS:
                raise ParseError(tok.col, f"unexpected <{word}>")
            return self.parse_selector(word, tok.col)
        raise ParseError(tok.col, f"unexpected {_describe(tok)}")

    def parse_label_list(self) -> list[str]:
        """A ``(label, ...)`` list after ``by``/``without``/``on``/``ignoring``."""
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
        """An aggregation whose operator is ``tok``, with ``by``/``without`` before or after."""
        op = tok.text
        if op not in AGGREGATIONS:
            raise ParseError(tok.col, f'aggregation "{op}" is not supported by the sre-cockpit simulator')
        node = Agg(op, NumberLit(0.0))
        if self.peek().kind == "ident" and self.peek().text in ("by", "without"):
            node.without = self.next().text == "without"
            node.grouping = self.parse_label_list()
        open_tok = self.next()
        if open_tok.kind != "op" or open_tok.text != "(":
            raise ParseError(open_tok.col, f"unexpected {_describe(open_tok)} in aggregation")
        args = self.parse_args(where=" in aggregation")
        if len(args) != 1:
            raise ParseError(tok.col, "wrong number of arguments for aggregate expression provided, "
                             f"expected 1, got {len(args)}")
        node.expr = args[0]
        if self.at("ident", "by", "without"):
            if node.grouping:
                raise ParseError(self.peek().col, f"unexpected <{self.peek().text}>")
            node.without = self.next().text == "without"
            node.grouping = self.parse_label_list()
        if type_of(node.expr) != "instant vector":
            raise ParseError(open_tok.col + 1, f'expected type instant vector in aggregation expression, got {type_of(node.expr)}')
        return node

    def parse_call(self, tok: Token) -> Expr:
        """A call of the function named by ``tok``, type-checked."""
        name = tok.text
        if name not in KNOWN_FUNCTIONS:
            raise ParseError(tok.col, f'unknown function with name "{name}"')
        self.next()  # (
        cols: list[int] = []
        args = self.parse_args(cols)
        sig = {
            "rate": ["range vector"], "increase": ["range vector"], "irate": ["range vector"],
            "changes": ["range vector"], "delta": ["range vector"], "vector": ["scalar"],
            "scalar": ["instant vector"], "time": [], "abs": ["instant vector"],
            "histogram_quantile": ["scalar", "instant vector"],
            "label_replace": ["instant vector", "string", "string", "string", "string"],
        }
        if name not in sig:
            raise ParseError(tok.col, f'function "{name}" is not supported by the sre-cockpit simulator')
        want = sig[name]
        if len(args) != len(want):
            raise ParseError(tok.col, f'expected {len(want)} argument(s) in call to "{name}", got {len(args)}')
        for arg, col, typ in zip(args, cols, want, strict=True):
            got = type_of(arg)
            if got != typ:
                raise ParseError(col, f'expected type {typ} in call to function "{name}", got {got}')
        return Call(name, args)

    def parse_args(self, cols: list[int] | None = None, where: str = "") -> list[Expr]:
        """Comma-separated expressions up to the ``)`` closing an already consumed ``(``.

        Args:
            cols: when given, receives each argument's starting column (for type errors).
            where: appended to "unexpected ..." errors (Prometheus says " in aggregation").
        """
        args: list[Expr] = []
        if self.at("op", ")"):
            self.next()
            return args
        while True:
            if cols is not None:
                cols.append(self.peek().col)
            args.append(self.parse_binary(0))
            sep = self.next()
            if sep.kind == "op" and sep.text == ")":
                return args
            if sep.kind != "op" or sep.text != ",":
                raise ParseError(sep.col, f"unexpected {_describe(sep)}{where}")
            if self.at("op", ")"):
                raise ParseError(sep.col, "trailing commas not allowed in function call args")

    def parse_selector(self, name: str | None, col: int) -> VectorSel:
        """A vector selector (``name{...}`` or ``{...}``) starting at ``col``."""
        matchers: list[Matcher] = []
        if self.peek().kind == "op" and self.peek().text == "{":
            self.next()
            while True:
                tok = self.next()
                if tok.kind == "op" and tok.text == "}":
                    break
                if tok.kind != "ident":
                    raise ParseError(tok.col, f"unexpected {_describe(tok)} in label matching, "
                                     "expected identifier or \"}\"")
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
    """A token as Prometheus names it in "unexpected ..." errors."""
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
