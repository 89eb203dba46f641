"""PromQL syntax tree of the simulator's subset: errors, node types and static types.

The node types are what :mod:`sre_cockpit.simulator.promql_parse` builds and
:mod:`sre_cockpit.simulator.promql_eval` walks. Static types use Prometheus' names ("scalar",
"instant vector", "range vector", "string") because they appear in its error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

AGGREGATIONS = {"sum", "min", "max", "avg", "count"}
"""The aggregation operators the simulator evaluates."""
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
"""Comparison operators (filtering, or 0/1 with ``bool``)."""
SET_OPERATORS = {"and", "or", "unless"}
"""Set operators between instant vectors (many-to-many on the matching labels)."""


class PromQLError(Exception):
    """A query error: ``error_type`` is Prometheus' errorType (bad_data, execution)."""

    def __init__(self, message: str, error_type: str = "bad_data") -> None:
        super().__init__(message)
        self.error_type = error_type


class ParseError(PromQLError):
    """A parse error at a 1-based column (formatted like Prometheus)."""

    def __init__(self, col: int, message: str) -> None:
        super().__init__(f"1:{col}: parse error: {message}")


@dataclass
class NumberLit:
    """A number literal (``1``, ``0x1F``, ``Inf``; a leading minus is folded in)."""

    value: float


@dataclass
class StringLit:
    """A string literal (escapes already resolved)."""

    value: str


@dataclass
class Matcher:
    """One label matcher; ``regex`` (for ``=~`` and ``!~``) must match the whole value."""

    name: str
    op: str
    value: str
    regex: re.Pattern[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether ``labels`` satisfy this matcher (a missing label is the empty string)."""
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
    """An instant vector selector; a metric name is also a ``__name__`` matcher."""

    name: str | None
    matchers: list[Matcher]


@dataclass
class MatrixSel:
    """A range vector selector: ``vector[range_ms]``."""

    vector: VectorSel
    range_ms: int


@dataclass
class Call:
    """A function call (arguments already type-checked)."""

    func: str
    args: list[Expr]


@dataclass
class Agg:
    """An aggregation; ``grouping`` lists the ``by`` labels, or the ``without`` ones."""

    op: str
    expr: Expr
    grouping: list[str] = field(default_factory=list)
    without: bool = False


@dataclass
class Binary:
    """A binary operation; ``on``/``matching`` hold ``on(...)``/``ignoring(...)`` when
    ``has_matching``, and ``bool_mod`` the ``bool`` modifier of a comparison."""

    op: str
    lhs: Expr
    rhs: Expr
    bool_mod: bool = False
    on: bool = False
    matching: list[str] = field(default_factory=list)
    has_matching: bool = False


@dataclass
class Neg:
    """Unary minus on a non-literal."""

    expr: Expr


Expr = Union[NumberLit, StringLit, VectorSel, MatrixSel, Call, Agg, Binary, Neg]  # noqa: UP007
"""Any node of the syntax tree."""


def type_of(e: Expr) -> str:
    """The static type of an expression, in Prometheus' words (``"instant vector"``…)."""
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
        return type_of(e.expr)
    if isinstance(e, Binary):
        if type_of(e.lhs) == "scalar" and type_of(e.rhs) == "scalar":
            return "scalar"
        return "instant vector"
    return "instant vector"
