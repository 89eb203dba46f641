"""A small, real PromQL engine for the subset the cockpit uses: the simulator's ``/api/v1/query``
and ``/api/v1/query_range`` answers.

Supported: number and string literals, vector selectors with ``= != =~ !~`` matchers, range
selectors, ``rate``/``increase``/``irate``/``changes``/``delta``, ``vector``/``scalar``/``time``/
``abs``/``histogram_quantile``, aggregations ``sum min max avg count`` with ``by``/``without``,
binary ``+ - * / % ^`` and comparisons (with ``bool``), ``on``/``ignoring`` one-to-one matching,
unary minus and parentheses. Anything else is refused with a Prometheus-like ``bad_data``.

The work is split by stage: :mod:`~sre_cockpit.simulator.promql_lexer` (tokens, durations),
:mod:`~sre_cockpit.simulator.promql_parse` (syntax and type checks),
:mod:`~sre_cockpit.simulator.promql_ast` (node types, errors) and
:mod:`~sre_cockpit.simulator.promql_eval` (evaluation). This module is the public face: the two
query functions, Prometheus' JSON number formatting, and the names the API handlers use.
``benchmarks/PROMQL_PARSER.md`` records why the lexer and parser are ours rather than the
``promql-parser`` binding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

from sre_cockpit.simulator.promql_ast import (
    Expr,
    MatrixSel,
    ParseError,
    PromQLError,
    StringLit,
    VectorSel,
    type_of,
)
from sre_cockpit.simulator.promql_eval import (
    Evaluator,
    Labels,
    as_vector,
    drop_name,
    label_key,
)
from sre_cockpit.simulator.promql_lexer import parse_duration_ms
from sre_cockpit.simulator.promql_parse import parse
from sre_cockpit.simulator.story import Series

__all__ = [
    "MAX_POINTS",
    "Evaluator",
    "Expr",
    "ParseError",
    "PromQLError",
    "VectorSel",
    "format_ts",
    "format_value",
    "instant_query",
    "parse",
    "parse_duration_ms",
    "range_query",
]

MAX_POINTS = 11_000
"""Prometheus' limit on points per series in a range query."""


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
            for lbl, pts in sorted(mat, key=lambda x: label_key(x[0]))]}
    vec = sorted(as_vector(value), key=lambda x: label_key(x[0]))
    return {"resultType": "vector", "result": [
        {"metric": lbl, "value": [ts, format_value(v)]} for lbl, v in vec]}


def range_query(query: str, start_ms: int, end_ms: int, step_ms: int, series: Sequence[Series],
                now_ms: int | None = None) -> dict[str, object]:
    """The ``data`` object of ``/api/v1/query_range``."""
    expr = parse(query)
    kind = type_of(expr)
    if kind not in ("scalar", "instant vector"):
        raise PromQLError(f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector')
    ev = Evaluator(series, now_ms)
    acc: dict[tuple[tuple[str, str], ...], tuple[Labels, list[list[object]]]] = {}
    t = start_ms
    while t <= end_ms:
        value = ev.eval(expr, t)
        samples = [({}, value)] if isinstance(value, float) else as_vector(value)
        for lbl, v in samples:
            lbl = drop_name(lbl) if isinstance(value, float) else lbl
            acc.setdefault(label_key(lbl), (lbl, []))[1].append([format_ts(t), format_value(v)])
        t += step_ms
    return {"resultType": "matrix", "result": [
        {"metric": lbl, "values": pts} for _k, (lbl, pts) in sorted(acc.items())]}
