"""Unit tests of the pure SLO maths (``sre_cockpit.core.slo``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from sre_cockpit.config.model import AlertingRule
from sre_cockpit.core import slo as slo
from sre_cockpit.core.models import SloState, SloStatus

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = 86400.0


def test_render_query_replaces_every_placeholder_spelling() -> None:
    q = "sum(rate(a[{{.window}}])) / sum(rate(b[{{ .window }}]))"
    assert slo.render_query(q, "5m") == "sum(rate(a[5m])) / sum(rate(b[5m]))"
    assert slo.has_placeholder(q) and not slo.has_placeholder("up")


def test_objective_fraction_is_clean() -> None:
    assert slo.objective_fraction(99.9) == 0.999
    assert slo.objective_fraction(99.95) == 0.9995


def test_window_label_prefers_days() -> None:
    assert slo.window_label(30 * DAY) == "30d"
    assert slo.window_label(7 * DAY) == "7d"
    assert slo.window_label(12 * 3600) == "12h"


def test_ratio_burn_budget_sli() -> None:
    ratio = slo.window_ratio(3.0, 100.0)
    assert ratio.ratio == pytest.approx(0.03)
    assert slo.burn_rate(ratio, 0.999) == pytest.approx(30.0)
    assert slo.budget_remaining(0.0005, 0.999) == pytest.approx(0.5)
    assert slo.sli(0.0005) == pytest.approx(0.9995)


def test_good_based_ratio() -> None:
    ratio = slo.window_ratio(None, 200.0, good=199.0, good_based=True)
    assert ratio.ratio == pytest.approx(0.005)
    # no good series while there is traffic: everything failed
    assert slo.window_ratio(None, 10.0, good=None, good_based=True).ratio == 1.0


def test_negative_budget_when_overspent() -> None:
    assert slo.budget_remaining(0.003, 0.999) == pytest.approx(-2.0)
    figures = slo.evaluate(0.999, 30 * DAY, slo.WindowRatio(0.003),
                           {"1h": slo.WindowRatio(0.003)}, slo.default_rules(30 * DAY), AT)
    assert figures.budget_remaining == pytest.approx(-2.0)
    assert figures.exhausted_at is None  # already gone: the pane says "exhausted"


def test_zero_traffic_is_not_no_data() -> None:
    assert slo.window_ratio(0.0, 0.0) == slo.NO_TRAFFIC
    assert slo.burn_rate(slo.NO_TRAFFIC, 0.999) == 0.0
    assert slo.burn_rate(slo.NO_DATA, 0.999) is None
    figures = slo.evaluate(0.999, 30 * DAY, slo.NO_TRAFFIC, {"5m": slo.NO_TRAFFIC},
                           slo.default_rules(30 * DAY), AT)
    assert figures.state is SloState.NO_DATA
    assert figures.sli is None and figures.budget_remaining is None
    assert figures.burn_rates["5m"] == 0.0
    assert "no traffic in the 30d window" in figures.notes[0]


def test_missing_series_means_no_data_but_missing_errors_mean_zero() -> None:
    assert slo.window_ratio(1.0, None) == slo.NO_DATA
    assert slo.window_ratio(None, 5.0).ratio == 0.0


def test_nan_and_inf_are_no_data() -> None:
    assert slo.window_ratio(math.nan, 10.0) == slo.NO_DATA
    assert slo.window_ratio(1.0, math.nan) == slo.NO_DATA
    assert slo.window_ratio(math.inf, 10.0) == slo.NO_DATA
    assert slo.window_ratio(1.0, math.inf).ratio is None
    assert slo.firing_rules({"1h": math.nan, "5m": 100.0}, slo.default_rules(30 * DAY)) == []
    assert slo.window_severity("5m", math.nan, slo.default_rules(30 * DAY)) is SloState.NO_DATA


def test_default_rules_are_the_workbook_values_for_30_days() -> None:
    rules = slo.default_rules(30 * DAY)
    assert [(r.long, r.short, r.burn_rate, r.severity) for r in rules] == [
        ("1h", "5m", 14.4, SloState.CRITICAL), ("6h", "30m", 6.0, SloState.CRITICAL),
        ("1d", "2h", 3.0, SloState.WARNING), ("3d", "6h", 1.0, SloState.WARNING)]


def test_thresholds_scale_with_the_slo_window() -> None:
    week = {(r.long, r.short): r.burn_rate for r in slo.default_rules(7 * DAY)}
    assert week[("1h", "5m")] == pytest.approx(3.36)
    assert week[("6h", "30m")] == pytest.approx(1.4)
    assert week[("1d", "2h")] == pytest.approx(0.7)
    four_weeks = {(r.long, r.short): r.burn_rate for r in slo.default_rules(28 * DAY)}
    assert four_weeks[("1h", "5m")] == pytest.approx(13.44)
    assert slo.scaled_threshold(0.02, 90 * DAY, 3600) == pytest.approx(43.2)


@pytest.mark.parametrize("burns,expected", [
    ({"1h": 15, "5m": 15}, SloState.CRITICAL),
    ({"1h": 15, "5m": 14}, SloState.OK),  # both windows must burn
    ({"6h": 6, "30m": 6.5}, SloState.CRITICAL),
    ({"1d": 3, "2h": 3}, SloState.WARNING),
    ({"3d": 1, "6h": 1.2}, SloState.WARNING),
    ({"3d": 0.99, "6h": 5}, SloState.OK),
    ({"1h": 20, "5m": None}, SloState.OK),  # a window without data never fires
    ({}, SloState.OK),  # missing windows entirely
    ({"1h": 20, "5m": 20, "1d": 4, "2h": 4}, SloState.CRITICAL),  # worst wins
])
def test_state_rules(burns: dict[str, float | None], expected: SloState) -> None:
    assert slo.state_of(burns, slo.default_rules(30 * DAY)) is expected


def test_rules_match_windows_by_duration_not_spelling() -> None:
    assert slo.state_of({"60m": 20, "300s": 20}, slo.default_rules(30 * DAY)) is SloState.CRITICAL
    assert slo.state_of({"24h": 3, "120m": 3}, slo.default_rules(30 * DAY)) is SloState.WARNING


def test_per_slo_overrides_replace_the_defaults() -> None:
    rules = slo.rules_for(30 * DAY, [AlertingRule(long="1h", short="5m", burn_rate=2,
                                                  severity="warning")])
    assert len(rules) == 1
    assert slo.state_of({"1h": 2.5, "5m": 2.5}, rules) is SloState.WARNING
    assert slo.state_of({"1h": 20, "5m": 20, "6h": 20, "30m": 20}, rules) is SloState.WARNING
    assert slo.rules_for(30 * DAY, []) == ()
    assert slo.state_of({"1h": 99, "5m": 99}, ()) is SloState.OK


def test_windows_to_query_covers_rules_and_exhaustion() -> None:
    rules = slo.rules_for(30 * DAY, [AlertingRule(long="4h", short="15m", burn_rate=5,
                                                  severity="critical")])
    assert slo.windows_to_query(["5m", "60m"], rules) == ["5m", "15m", "60m", "4h"]
    assert slo.windows_to_query(None, slo.default_rules(30 * DAY)) == list(slo.DEFAULT_BURN_WINDOWS)


def test_window_severity_uses_the_rules_of_that_window() -> None:
    rules = slo.default_rules(30 * DAY)
    assert slo.window_severity("5m", 15, rules) is SloState.CRITICAL
    assert slo.window_severity("5m", 10, rules) is SloState.OK
    assert slo.window_severity("6h", 2, rules) is SloState.WARNING  # 3d/6h ticket rule at 1
    assert slo.window_severity("6h", 6, rules) is SloState.CRITICAL
    assert slo.window_severity("1d", 3.2, rules) is SloState.WARNING
    assert slo.window_severity("1d", None, rules) is SloState.NO_DATA


def test_exhaustion_at_the_1h_burn_rate() -> None:
    # half the budget left, burning 10x: 0.5 * 30d / 10 = 1.5 days
    assert slo.exhausted_at(AT, 0.5, 30 * DAY, 10.0) == AT + timedelta(days=1.5)
    assert slo.exhausted_at(AT, 0.5, 30 * DAY, 0.0) is None
    assert slo.exhausted_at(AT, 0.5, 30 * DAY, None) is None
    assert slo.exhausted_at(AT, 0.0, 30 * DAY, 5.0) is None
    assert slo.exhausted_at(AT, -0.2, 30 * DAY, 5.0) is None
    assert slo.exhausted_at(AT, None, 30 * DAY, 5.0) is None


def test_budget_trend_is_bounded_and_ordered() -> None:
    totals = [(float(t), 100.0) for t in range(0, 3600 * 30, 3600)]
    errors = [(t, 0.05 if t < 3600 * 28 else 0.2) for t, _ in totals]
    trend = slo.budget_trend(errors, totals, 0.999, max_points=24)
    assert len(trend) == 24
    assert trend[0] == pytest.approx(0.5) and trend[-1] == pytest.approx(-1.0)
    assert slo.budget_trend([], [(0.0, 100.0)], 0.999) == (1.0,)  # no error series: no errors
    assert slo.budget_trend([], [(0.0, 0.0)], 0.999) == ()  # no traffic: undefined


def test_evaluate_combines_everything() -> None:
    ratios = {w: slo.WindowRatio(0.03) for w in slo.DEFAULT_BURN_WINDOWS}
    figures = slo.evaluate(0.999, 30 * DAY, slo.WindowRatio(0.0005), ratios,
                           slo.default_rules(30 * DAY), AT)
    assert figures.state is SloState.CRITICAL
    assert figures.sli == pytest.approx(0.9995)
    assert figures.budget_remaining == pytest.approx(0.5)
    assert figures.burn_rates["1h"] == pytest.approx(30.0)
    assert figures.exhausted_at == AT + timedelta(seconds=0.5 * 30 * DAY / 30.0)


def test_worst_first() -> None:
    def status(name: str, state: SloState, budget: float | None) -> SloStatus:
        return SloStatus(name=name, objective=0.999, window="30d", sli=None,
                         error_budget_remaining=budget, burn_rates={}, state=state,
                         exhausted_at=None, evaluated_at=AT)

    ordered = slo.worst_first([status("a", SloState.OK, 0.9), status("b", SloState.NO_DATA, None),
                               status("c", SloState.CRITICAL, 0.5), status("d", SloState.OK, 0.1),
                               status("e", SloState.WARNING, 0.7)])
    assert [s.name for s in ordered] == ["c", "e", "b", "d", "a"]


def test_a_firing_rule_is_not_hidden_by_a_missing_window() -> None:
    ratios = {"1h": slo.WindowRatio(0.03), "5m": slo.WindowRatio(0.03)}
    figures = slo.evaluate(0.999, 30 * DAY, slo.NO_DATA, ratios, slo.default_rules(30 * DAY), AT)
    assert figures.state is SloState.CRITICAL
    assert figures.budget_remaining is None and figures.exhausted_at is None
    quiet = {"1h": slo.WindowRatio(0.0), "5m": slo.WindowRatio(0.0)}
    assert slo.evaluate(0.999, 30 * DAY, slo.NO_DATA, quiet, slo.default_rules(30 * DAY),
                        AT).state is SloState.NO_DATA


def test_a_failed_query_is_not_reported_as_an_empty_answer() -> None:
    figures = slo.evaluate(0.999, 30 * DAY, slo.QUERY_FAILED, {"1h": slo.QUERY_FAILED},
                           slo.default_rules(30 * DAY), AT)
    assert figures.state is SloState.NO_DATA and figures.burn_rates["1h"] is None
    assert figures.notes[0] == "no figure for the 30d window: its query failed (see the error)"
    empty = slo.evaluate(0.999, 30 * DAY, slo.NO_DATA, {}, slo.default_rules(30 * DAY), AT)
    assert "returned nothing" in empty.notes[0]
