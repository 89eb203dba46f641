"""The PromQL evaluator: a parsed expression over the story's series at an instant.

``rate``/``increase``/``delta`` follow Prometheus 2.x ``extrapolatedRate`` exactly (range
``[t-W, t]`` inclusive, counter-reset correction, zero-point and half-interval extrapolation);
aggregation, arithmetic, comparison and one-to-one vector matching follow its float semantics
(NaN, ±Inf, division by zero) so the simulator's numbers equal a real Prometheus fed the same
samples (``tests/test_sim_promql_vs_prometheus.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Union

from sre_cockpit.simulator.promql_ast import (
    COMPARISONS,
    SET_OPERATORS,
    Agg,
    Binary,
    Call,
    Expr,
    MatrixSel,
    Neg,
    NumberLit,
    PromQLError,
    StringLit,
    VectorSel,
)
from sre_cockpit.simulator.story import Series

Labels = dict[str, str]
"""A series' label set."""
Sample = tuple[Labels, float]
"""One element of an instant vector."""
Value = Union[float, list[Sample], str, list[tuple[Labels, list[tuple[int, float]]]]]  # noqa: UP007
"""What an expression evaluates to: scalar, instant vector, string or range vector."""


def label_key(labels: Labels) -> tuple[tuple[str, str], ...]:
    """A hashable, sorted form of a label set (grouping, matching and result order)."""
    return tuple(sorted(labels.items()))


def drop_name(labels: Labels) -> Labels:
    """The labels without ``__name__`` (what functions and arithmetic return)."""
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
        """The series whose labels satisfy every matcher of ``sel``."""
        return [s for s in self.series if all(m.matches(s.labels) for m in sel.matchers)]

    def eval(self, e: Expr, t_ms: int) -> Value:
        """The value of ``e`` at ``t_ms`` (samples after ``now_ms`` are not visible yet)."""
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
            return [(drop_name(lbl), -x) for lbl, x in as_vector(v)]
        if isinstance(e, Call):
            return self.call(e, t_ms)
        if isinstance(e, Agg):
            return self.aggregate(e, as_vector(self.eval(e.expr, t_ms)))
        if isinstance(e, Binary):
            return self.binary(e, self.eval(e.lhs, t_ms), self.eval(e.rhs, t_ms))
        raise PromQLError("unsupported expression")

    def call(self, e: Call, t_ms: int) -> Value:
        """A function call at ``t_ms``."""
        f = e.func
        if f in ("rate", "increase", "delta", "irate", "changes"):
            arg = e.args[0]
            assert isinstance(arg, MatrixSel)
            out: list[Sample] = []
            for s in self.select(arg.vector):
                val = self._range_fn(f, s, t_ms, arg.range_ms)
                if val is not None:
                    out.append((drop_name(s.labels), val))
            return out
        if f == "vector":
            single: list[Sample] = [({}, _num(self.eval(e.args[0], t_ms)))]
            return single
        if f == "time":
            return t_ms / 1000
        if f == "scalar":
            vec = as_vector(self.eval(e.args[0], t_ms))
            return vec[0][1] if len(vec) == 1 else math.nan
        if f == "abs":
            return [(drop_name(lbl), abs(v)) for lbl, v in as_vector(self.eval(e.args[0], t_ms))]
        if f == "histogram_quantile":
            q = _num(self.eval(e.args[0], t_ms))
            groups: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
            keep: dict[tuple[tuple[str, str], ...], Labels] = {}
            for lbl, v in as_vector(self.eval(e.args[1], t_ms)):
                if "le" not in lbl:
                    continue
                try:
                    ub = float(lbl["le"])
                except ValueError:
                    continue
                rest = {k: x for k, x in lbl.items() if k not in ("le", "__name__")}
                groups.setdefault(label_key(rest), []).append((ub, v))
                keep[label_key(rest)] = rest
            return [(keep[k], _bucket_quantile(q, b)) for k, b in groups.items()]
        if f == "label_replace":
            return _label_replace(as_vector(self.eval(e.args[0], t_ms)),
                                  *(str(self.eval(a, t_ms)) for a in e.args[1:]))
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
        """``e``'s aggregation over ``vec``, one sample per group."""
        groups: dict[tuple[tuple[str, str], ...], tuple[Labels, list[float]]] = {}
        for lbl, v in vec:
            if e.without:
                g = {k: x for k, x in lbl.items() if k not in e.grouping and k != "__name__"}
            else:
                g = {k: lbl[k] for k in e.grouping if k in lbl}
            groups.setdefault(label_key(g), (g, []))[1].append(v)
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
        """``e``'s operator on already evaluated operands (scalar/vector in any combination)."""
        cmp = e.op in COMPARISONS
        if isinstance(lv, float) and isinstance(rv, float):
            if cmp:
                return 1.0 if _compare(e.op, lv, rv) else 0.0
            return _arith(e.op, lv, rv)
        if isinstance(lv, float) or isinstance(rv, float):
            vec = as_vector(rv if isinstance(lv, float) else lv)
            scalar = lv if isinstance(lv, float) else rv
            assert isinstance(scalar, float)
            out: list[Sample] = []
            for lbl, v in vec:
                a, b = (scalar, v) if isinstance(lv, float) else (v, scalar)
                if cmp:
                    hit = _compare(e.op, a, b)
                    if e.bool_mod:
                        out.append((drop_name(lbl), 1.0 if hit else 0.0))
                    elif hit:
                        out.append((lbl, v))
                else:
                    out.append((drop_name(lbl), _arith(e.op, a, b)))
            return out
        if e.op in SET_OPERATORS:
            return self._set_operation(e, as_vector(lv), as_vector(rv))
        return self._vector_binary(e, as_vector(lv), as_vector(rv))

    def _set_operation(self, e: Binary, lhs: list[Sample], rhs: list[Sample]) -> list[Sample]:
        """``and``, ``or``, ``unless``: many-to-many on the matching labels, every sample
        keeping its own labels (metric name included)."""
        if e.op == "or":
            left = {self._signature(e, lbl) for lbl, _v in lhs}
            return lhs + [(lbl, v) for lbl, v in rhs if self._signature(e, lbl) not in left]
        right = {self._signature(e, lbl) for lbl, _v in rhs}
        keep = e.op == "and"
        return [(lbl, v) for lbl, v in lhs if (self._signature(e, lbl) in right) == keep]

    def _signature(self, e: Binary, lbl: Labels) -> tuple[tuple[str, str], ...]:
        if e.on:
            return label_key({k: v for k, v in lbl.items() if k in e.matching})
        return label_key({k: v for k, v in lbl.items() if k not in e.matching and k != "__name__"})

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
                    out.append((drop_name(metric), 1.0 if hit else 0.0))
                elif hit:
                    out.append((metric, v))
            else:
                out.append((drop_name(metric), _arith(e.op, v, rv)))
        return out


_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_GO_TEMPLATE_REF = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")


def _label_replace(vector: list[Sample], dst: str, replacement: str, src: str,
                   regex: str) -> list[Sample]:
    """Prometheus' ``label_replace``: where ``regex`` matches the whole of label ``src``, label
    ``dst`` becomes ``replacement`` with ``$1``/``${name}`` expanded (removed when empty);
    samples that do not match are kept unchanged."""
    try:
        rx = re.compile(f"(?:{regex})")
    except re.error:
        raise PromQLError(f"invalid regular expression in label_replace(): {regex}",
                          "execution") from None
    if not _LABEL_NAME.fullmatch(dst):
        raise PromQLError(f"invalid destination label name in label_replace(): {dst}", "execution")
    out: list[Sample] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for lbl, v in vector:
        match = rx.fullmatch(lbl.get(src, ""))
        metric = dict(lbl)
        if match is not None:
            metric.pop(dst, None)
            value = _expand(match, replacement)
            if value:
                metric[dst] = value
        key = label_key(metric)
        if key in seen:
            raise PromQLError("vector cannot contain metrics with the same labelset", "execution")
        seen.add(key)
        out.append((metric, v))
    return out


def _expand(match: re.Match[str], template: str) -> str:
    """Go's ``Regexp.ExpandString``: ``$$`` is ``$``; ``$1``, ``${1}``, ``$name``, ``${name}``
    are the group's text, empty when there is no such group."""
    def one(ref: re.Match[str]) -> str:
        name = ref.group(1) or ref.group(2)
        if name is None:
            return "$"
        try:
            return match.group(int(name) if name.isdigit() else name) or ""
        except IndexError:  # no such group
            return ""
    return _GO_TEMPLATE_REF.sub(one, template)


def _fmt_labels(lbl: Labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(lbl.items())) + "}"


def as_vector(v: Value) -> list[Sample]:
    """``v`` as an instant vector, or a :class:`PromQLError` when it is another type."""
    if isinstance(v, list) and (not v or isinstance(v[0][1], float)):
        return v  # type: ignore[return-value]
    raise PromQLError("expected an instant vector")


def _num(v: Value) -> float:
    if isinstance(v, float):
        return v
    raise PromQLError("expected a scalar")

