"""Durations as people write them: parsing, formatting, ages."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from config_helpers import write
from pydantic import BaseModel, ValidationError

from sre_cockpit.config.model import ConfigError, load_config
from sre_cockpit.core.durations import (
    MAX_DURATION_S,
    Duration,
    format_duration,
    humanize_age,
    parse_duration,
)


@pytest.mark.parametrize(("text", "seconds"), [
    ("500ms", 0.5), ("15s", 15.0), ("5m", 300.0), ("1h30m", 5400.0), ("30d", 2592000.0),
    ("1w", 604800.0), ("1y", 31536000.0), ("1.5h", 5400.0), (" 2m ", 120.0), ("0s", 0.0),
    ("1m30s500ms", 90.5), (15, 15.0), (0.25, 0.25),
])
def test_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("value", "message"), [
    ("15", "invalid duration '15': use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s, "
           "5m, 30d"),
    ("", "invalid duration '': use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s, 5m, 30d"),
    ("5 m", "invalid duration '5 m': use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s, "
            "5m, 30d"),
    ("-5s", "invalid duration '-5s': use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s, "
            "5m, 30d"),
    ("5M", "invalid duration '5M': use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s, "
           "5m, 30d"),
    ("1h30", "invalid duration '1h30': use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s, "
             "5m, 30d"),
    (-1, "a duration cannot be negative"),
    (math.inf, "a duration must be a finite number"),
    (math.nan, "a duration must be a finite number"),
    (True, "expected a duration like 15s, 5m, 30d, got True"),
    ([1], "expected a duration like 15s, 5m, 30d, got list"),
])
def test_parse_errors(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == message


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.5, "500ms"), (1.5, "1s500ms"), (59.9996, "1m"), (300, "5m"), (5400, "1h30m"),
    (86400 * 30, "30d"), (604800 * 2, "2w"), (86400 * 9, "9d"), (3661, "1h1m1s"),
    (-90, "-1m30s"), (math.inf, "∞"),
])
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["500ms", "15s", "5m", "1h30m", "30d", "2w", "1d1h1m1s"])
def test_round_trip(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (0, "0s"), (4.9, "4s"), (-3, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"),
    (7200, "2h"), (86400 * 5, "5d"), (math.nan, "—"),
])
def test_humanize_age(seconds: float | None, text: str) -> None:
    assert humanize_age(seconds) == text


def test_pydantic_type() -> None:
    class M(BaseModel):
        d: Duration

    assert M(d="1m").d == 60.0  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        M(d="soon")  # type: ignore[arg-type]


# ----------------------------------------------------------------------- the 10-year bound

TOO_LONG = ("is too long: at most 10y (3650d); no window, interval or timeout needs more, and "
            "far longer spans overflow date arithmetic")


@pytest.mark.parametrize("text", ["10y", "3650d", "520w", "87600h"])
def test_up_to_ten_years_is_accepted(text: str) -> None:
    assert parse_duration(text) <= MAX_DURATION_S == 10 * 365 * 86400


@pytest.mark.parametrize(("value", "message"), [
    ("999999999999w", f"duration '999999999999w' {TOO_LONG}"),
    ("3651d", f"duration '3651d' {TOO_LONG}"),
    ("10y1s", f"duration '10y1s' {TOO_LONG}"),
    (MAX_DURATION_S + 1, f"duration 315360001.0 seconds {TOO_LONG}"),
    (10 ** 400, f"duration {repr(10 ** 400)[:39]}… seconds {TOO_LONG}"),  # no OverflowError
    ("1" * 5000 + "s", f"duration '{'1' * 38}… {TOO_LONG}"),  # the digits parse to inf
])
def test_longer_than_ten_years_is_refused_with_the_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == message


def test_a_window_beyond_the_bound_would_have_crashed_date_arithmetic() -> None:
    """Why the bound exists: the issue's value overflows ``timedelta`` (which the SLO and log
    code use to step back from now)."""
    from datetime import timedelta

    with pytest.raises(OverflowError):
        timedelta(weeks=999999999999)
    assert timedelta(seconds=MAX_DURATION_S).days == 3650


@pytest.mark.parametrize(("yaml_text", "where"), [
    ("contexts:\n  prod:\n    providers:\n      prom: {type: prometheus, url: 'http://h', "
     "timeout: 11y}\n", "4:58: contexts.prod.providers.prom.timeout: duration '11y'"),
    ("contexts: {prod: {}}\nrefresh: {slos: 999999999999w}\n",
     "2:17: refresh.slos: duration '999999999999w'"),
    ("contexts:\n  prod:\n    slos:\n      - {name: a, provider: p, objective: 99, "
     "error_query: e, total_query: t, burn_windows: [5m, 11y]}\n",
     "4:93: contexts.prod.slos[0].burn_windows: duration '11y'"),
    ("contexts:\n  prod:\n    slos:\n      - {name: a, provider: p, objective: 99, "
     "error_query: e, total_query: t, alerting: [{long: 11y, short: 5m, burn_rate: 1, "
     "severity: warning}]}\n", "4:97: contexts.prod.slos[0].alerting[0].long: duration '11y'"),
])
def test_every_duration_field_of_the_config_is_bounded(tmp_path: Path, yaml_text: str,
                                                       where: str) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:{where} {TOO_LONG}"
