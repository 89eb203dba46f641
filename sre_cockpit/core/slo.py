"""SLO maths: error ratio, SLI, error budget, burn rates, multi-window multi-burn-rate state,
time to exhaustion and the budget trend. Pure functions over numbers; no I/O, no Textual.

Definitions (``objective`` is a fraction, e.g. 0.999; ``window`` is the SLO window, e.g. 30d):

- error ratio over a window ``w``: ``errors(w) / total(w)`` (or ``1 − good(w) / total(w)``);
- SLI: ``1 − error_ratio(window)``;
- error budget remaining: ``1 − error_ratio(window) / (1 − objective)`` — 1 is untouched, 0 is
  spent, negative is overspent;
- burn rate over ``w``: ``error_ratio(w) / (1 − objective)`` — 1 spends the budget in exactly one
  SLO window;
- time to exhaustion: ``budget_remaining × window / burn_rate(1h)``.

No data and zero traffic are different things. A query that returns no series is *no data* (the
burn rate is ``None``; the window cannot fire a rule). A window whose total is 0 had *no traffic*:
the SLI is undefined but nothing burnt, so its burn rate is 0. An error query that returns no
series while the total has traffic means "no errors" (many exporters create the 5xx series only
on the first error), so the error count is taken as 0. When the SLO-window figure is missing the
SLO is ``no_data`` — unless a burn-rate rule fires, which is never hidden.

Alerting rules (Google SRE workbook, "Alerting on SLOs", for a 30-day window): critical when the
1h and 5m burn rates are both ≥ 14.4 or the 6h and 30m both ≥ 6; warning when the 1d and 2h are
both ≥ 3 or the 3d and 6h both ≥ 1. Those thresholds are budget fractions consumed over the long
window — 2 % in 1h, 5 % in 6h, 10 % in 1d, 10 % in 3d — so for another SLO window they are scaled
as ``burn = fraction × slo_window / long_window`` (the same rule Sloth applies): a 28-day SLO
pages at 13.44 over 1h, a 7-day SLO at 3.36. Per-SLO ``alerting:`` rules replace the defaults and
their ``burn_rate`` is used as written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Protocol

from sre_cockpit.core.durations import format_duration, parse_duration
from sre_cockpit.core.models import SloState, SloStatus

DEFAULT_BURN_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
"""Burn-rate windows shown and evaluated when an SLO does not list its own."""

REFERENCE_WINDOW_S = 30 * 86400.0
"""The SLO window the workbook thresholds were written for."""

DEFAULT_RULE_SPECS: tuple[tuple[float, str, str, SloState], ...] = (
    (0.02, "1h", "5m", SloState.CRITICAL),
    (0.05, "6h", "30m", SloState.CRITICAL),
    (0.10, "1d", "2h", SloState.WARNING),
    (0.10, "3d", "6h", SloState.WARNING),
)
"""(budget fraction consumed over the long window, long window, short window, severity)."""

EXHAUSTION_WINDOW = "1h"
"""Time to exhaustion is projected at the burn rate of this window."""

_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")


class RuleLike(Protocol):
    """What :func:`rules_for` needs from a config ``AlertingRule``."""

    @property
    def long(self) -> str: ...
    @property
    def short(self) -> str: ...
    @property
    def burn_rate(self) -> float: ...
    @property
    def severity(self) -> str: ...


@dataclass(frozen=True, slots=True)
class BurnRule:
    """Fires when the burn rates over both ``long`` and ``short`` are ≥ ``burn_rate``."""

    long: str
    short: str
    burn_rate: float
    severity: SloState  # CRITICAL or WARNING
    budget_fraction: float | None = None  # set for the scaled defaults

    @property
    def long_s(self) -> float:
        """The long window in seconds."""
        return parse_duration(self.long)

    @property
    def short_s(self) -> float:
        """The short window in seconds."""
        return parse_duration(self.short)

    def describe(self) -> str:
        """One line, e.g. ``critical: 1h and 5m ≥ 14.4``."""
        return f"{self.severity.value}: {self.long} and {self.short} ≥ {self.burn_rate:g}"


@dataclass(frozen=True, slots=True)
class WindowRatio:
    """The error ratio of one window, with why it may be missing."""

    ratio: float | None
    reason: str | None = None  # "no data" | "no traffic" | "query failed" | None

    @property
    def no_traffic(self) -> bool:
        """True when the total was 0 over the window."""
        return self.reason == "no traffic"


NO_DATA = WindowRatio(None, "no data")
NO_TRAFFIC = WindowRatio(None, "no traffic")
QUERY_FAILED = WindowRatio(None, "query failed")


def render_query(template: str, window: str) -> str:
    """Replace ``{{.window}}`` (spaces inside the braces allowed) with ``window``."""
    return _PLACEHOLDER.sub(window, template)


def has_placeholder(template: str) -> bool:
    """True when the query contains ``{{.window}}``."""
    return bool(_PLACEHOLDER.search(template))


def window_label(seconds: float) -> str:
    """An SLO window as people write it: whole days as ``"7d"``/``"30d"`` (never ``"1w"``),
    anything else in Prometheus' shortest form (``"12h"``, ``"1h30m"``)."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)}d"
    return format_duration(seconds)


def objective_fraction(percent: float) -> float:
    """99.9 → 0.999 (rounded so 99.9 / 100 does not print as 0.9990000000000001)."""
    return round(percent / 100.0, 12)


def window_ratio(errors: float | None, total: float | None, *, good: float | None = None,
                 good_based: bool = False) -> WindowRatio:
    """Error ratio of one window from summed query values.

    Args:
        errors: value of the error query (None when it returned no series).
        total: value of the total query (None when it returned no series).
        good: value of the good query (None when it returned no series).
        good_based: the SLO counts good events instead of errors.
    """
    if total is None or math.isnan(total):
        return NO_DATA
    if total <= 0:
        return NO_TRAFFIC
    if math.isinf(total):
        return WindowRatio(None, "no data")
    if good_based:
        good_v = 0.0 if good is None else good
        if math.isnan(good_v) or math.isinf(good_v):
            return NO_DATA
        bad = total - good_v
    else:
        bad = 0.0 if errors is None else errors
        if math.isnan(bad) or math.isinf(bad):
            return NO_DATA
    return WindowRatio(max(0.0, bad / total))


def burn_rate(ratio: WindowRatio, objective: float) -> float | None:
    """``error_ratio / (1 − objective)``; 0 with no traffic; None with no data."""
    if ratio.ratio is None:
        return 0.0 if ratio.no_traffic else None
    return ratio.ratio / (1.0 - objective)


def budget_remaining(ratio: float | None, objective: float) -> float | None:
    """``1 − error_ratio / (1 − objective)`` (negative when overspent); None without a ratio."""
    if ratio is None:
        return None
    return 1.0 - ratio / (1.0 - objective)


def sli(ratio: float | None) -> float | None:
    """``1 − error_ratio``."""
    return None if ratio is None else 1.0 - ratio


def scaled_threshold(budget_fraction: float, slo_window_s: float, long_window_s: float) -> float:
    """Burn rate that consumes ``budget_fraction`` of the budget in ``long_window_s``:
    ``fraction × slo_window / long_window`` (14.4 for 2 % in 1h of 30d)."""
    return budget_fraction * slo_window_s / long_window_s


def default_rules(slo_window_s: float) -> tuple[BurnRule, ...]:
    """The workbook rules scaled to ``slo_window_s`` (unchanged for 30 days)."""
    rules = []
    for fraction, long, short, severity in DEFAULT_RULE_SPECS:
        threshold = round(scaled_threshold(fraction, slo_window_s, parse_duration(long)), 6)
        rules.append(BurnRule(long, short, threshold, severity, fraction))
    return tuple(rules)


def rules_for(slo_window_s: float, overrides: Sequence[RuleLike] | None) -> tuple[BurnRule, ...]:
    """Per-SLO rules when given (``[]`` means no alerting), else the scaled defaults."""
    if overrides is None:
        return default_rules(slo_window_s)
    return tuple(BurnRule(r.long, r.short, float(r.burn_rate), SloState(r.severity))
                 for r in overrides)


def windows_to_query(burn_windows: Sequence[str] | None, rules: Iterable[BurnRule]) -> list[str]:
    """Display windows, then every window a rule or the exhaustion projection needs, once each
    (compared by duration), sorted shortest first."""
    seen: dict[float, str] = {}
    for w in [*(burn_windows or DEFAULT_BURN_WINDOWS),
              *(x for r in rules for x in (r.short, r.long)), EXHAUSTION_WINDOW]:
        seconds = parse_duration(w)
        seen.setdefault(seconds, w)
    return [seen[s] for s in sorted(seen)]


def _by_seconds(burn_rates: Mapping[str, float | None]) -> dict[float, float | None]:
    out: dict[float, float | None] = {}
    for key, value in burn_rates.items():
        try:
            out.setdefault(parse_duration(key), value)
        except ValueError:
            continue
    return out


def firing_rules(burn_rates: Mapping[str, float | None], rules: Iterable[BurnRule]) -> list[BurnRule]:
    """Rules whose two windows both burn at or above the threshold. A window without data
    (None, or absent) never fires; NaN never fires."""
    by_s = _by_seconds(burn_rates)
    fired = []
    for rule in rules:
        long_b, short_b = by_s.get(rule.long_s), by_s.get(rule.short_s)
        if long_b is None or short_b is None or math.isnan(long_b) or math.isnan(short_b):
            continue
        if long_b >= rule.burn_rate and short_b >= rule.burn_rate:
            fired.append(rule)
    return fired


def state_of(burn_rates: Mapping[str, float | None], rules: Iterable[BurnRule]) -> SloState:
    """CRITICAL if a critical rule fires, else WARNING if a warning rule fires, else OK."""
    fired = firing_rules(burn_rates, rules)
    if any(r.severity is SloState.CRITICAL for r in fired):
        return SloState.CRITICAL
    if any(r.severity is SloState.WARNING for r in fired):
        return SloState.WARNING
    return SloState.OK


def window_severity(window: str, burn: float | None, rules: Sequence[BurnRule]) -> SloState:
    """Colour class of one burn-rate cell: the lowest threshold of the rules that use this
    window (either side) of each severity; windows no rule uses compare with the lowest
    threshold of each severity. NO_DATA for a missing value."""
    if burn is None or math.isnan(burn):
        return SloState.NO_DATA
    seconds = parse_duration(window)
    using = [r for r in rules if seconds in (r.long_s, r.short_s)] or list(rules)
    for severity in (SloState.CRITICAL, SloState.WARNING):
        thresholds = [r.burn_rate for r in using if r.severity is severity]
        if thresholds and burn >= min(thresholds):
            return severity
    return SloState.OK


def exhausted_at(at: datetime, budget: float | None, slo_window_s: float,
                 burn_1h: float | None) -> datetime | None:
    """When the remaining budget is gone at the current 1h burn rate; None when nothing burns,
    when the figures are missing, or when the budget is already gone (say "exhausted")."""
    if budget is None or burn_1h is None or math.isnan(burn_1h) or burn_1h <= 0 or budget <= 0:
        return None
    if math.isinf(burn_1h):
        return at
    return at + timedelta(seconds=budget * slo_window_s / burn_1h)


def budget_trend(errors: Sequence[tuple[float, float]], totals: Sequence[tuple[float, float]],
                 objective: float, *, good_based: bool = False,
                 max_points: int = 24) -> tuple[float, ...]:
    """Budget remaining at each timestamp both series have (oldest first), at most
    ``max_points`` of the newest. ``errors`` holds good counts when ``good_based``; a timestamp
    missing from ``errors`` counts as no errors (respectively no good events)."""
    err_at = {round(ts, 3): v for ts, v in errors}
    out: list[float] = []
    for ts, total in sorted(totals):
        value = err_at.get(round(ts, 3))
        ratio = window_ratio(None if good_based else value, total,
                             good=value if good_based else None, good_based=good_based)
        remaining = budget_remaining(ratio.ratio, objective)
        if remaining is not None:
            out.append(remaining)
    return tuple(out[-max_points:]) if max_points > 0 else ()


@dataclass(frozen=True, slots=True)
class SloFigures:
    """Every number of one evaluation, before it becomes an ``SloStatus``."""

    sli: float | None
    budget_remaining: float | None
    burn_rates: Mapping[str, float | None]
    state: SloState
    exhausted_at: datetime | None
    notes: tuple[str, ...]


def evaluate(objective: float, slo_window_s: float, window_ratio_: WindowRatio,
             burn_ratios: Mapping[str, WindowRatio], rules: Sequence[BurnRule],
             at: datetime) -> SloFigures:
    """Combine the ratios of one SLO into its figures and state.

    Args:
        objective: the objective as a fraction (0.999).
        slo_window_s: the SLO window in seconds.
        window_ratio_: error ratio over the whole SLO window.
        burn_ratios: error ratio per burn window (keys are window strings such as "5m").
        rules: the burn-rate rules (see :func:`rules_for`).
        at: evaluation time.
    """
    label = window_label(slo_window_s)
    notes: list[str] = []
    burns = {w: burn_rate(r, objective) for w, r in burn_ratios.items()}
    no_traffic = [w for w, r in burn_ratios.items() if r.no_traffic]
    if no_traffic:
        notes.append(f"no traffic in {', '.join(no_traffic)}: burn rate 0")
    remaining = budget_remaining(window_ratio_.ratio, objective)
    if window_ratio_.ratio is None:
        if window_ratio_.no_traffic:
            notes.insert(0, f"no traffic in the {label} window: SLI undefined, no budget burnt")
        elif window_ratio_.reason == QUERY_FAILED.reason:
            notes.insert(0, f"no figure for the {label} window: its query failed (see the error)")
        else:
            notes.insert(0, f"no data for the {label} window (the total query returned nothing)")
        # a firing rule is never hidden (the window query is the most expensive one and the
        # likeliest to fail); without one, the SLO has no data
        state = state_of(burns, rules)
        if state is SloState.OK:
            state = SloState.NO_DATA
        return SloFigures(None, None, MappingProxyType(burns), state, None, tuple(notes))
    one_hour = _by_seconds(burns).get(parse_duration(EXHAUSTION_WINDOW))
    return SloFigures(
        sli=sli(window_ratio_.ratio),
        budget_remaining=remaining,
        burn_rates=MappingProxyType(burns),
        state=state_of(burns, rules),
        exhausted_at=exhausted_at(at, remaining, slo_window_s, one_hour),
        notes=tuple(notes),
    )


def worst_first(statuses: Iterable[SloStatus]) -> list[SloStatus]:
    """Critical, warning, no data, ok; then least budget left; then name."""
    def key(s: SloStatus) -> tuple[int, float, str]:
        budget = s.error_budget_remaining
        return (s.state.rank, budget if budget is not None and not math.isnan(budget) else math.inf,
                s.name)
    return sorted(statuses, key=key)
