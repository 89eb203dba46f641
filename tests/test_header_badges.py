"""Issue 12 item 4: the header's provider badges fit the width without hiding failures.

At 80x24 the header showed ``● p`` (a badge cut by the edge) and no timeline badge; at 60x20
``✖ loki error`` disappeared while ``● prom ok`` stayed. Badges are now shortened before any is
hidden, hidden best-first (errors last), and the count of hidden ones is always shown.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from war_room_helpers import resize, sim_cockpit

from sre_cockpit.core.models import HealthState
from sre_cockpit.ui.badges import Badge, fit_badges, hide_order

OK, STALE, ERROR, PENDING = (HealthState.OK, HealthState.STALE, HealthState.ERROR,
                             HealthState.PENDING)
NAMES = ("prom", "loki", "alerts", "pd", "timeline")
"""Five badges for the fitting rules (a name per state mix)."""
SIM_NAMES = ("prom", "loki", "alerts", "pd")
"""The simulator's providers: the header has one badge per provider (the panes' own sources
are on their source lines, not in the header)."""


def plain(badges: list[Badge], width: int | None) -> str:
    return fit_badges(badges, width, lambda state: "").plain


def shown_and_hidden(line: str) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(symbol, name) of each badge on a header line, and the hidden counts by state."""
    badges = re.findall(r"([●▲✖○]) (\S+)", line)
    hidden = {word: int(n) for n, word in re.findall(r"\+(\d+) (ok|waiting|stale|error)", line)}
    return badges, hidden


def test_everything_fits_in_full_when_there_is_room() -> None:
    badges = [Badge(n, OK) for n in NAMES]
    assert plain(badges, 200).split() == [
        "●", "prom", "ok", "●", "loki", "ok", "●", "alerts", "ok", "●", "pd", "ok", "●",
        "timeline", "ok"]
    assert plain(badges, None).startswith("● prom ok")


def test_shortened_before_anything_is_hidden() -> None:
    badges = [Badge(n, OK) for n in NAMES]
    line = plain(badges, 42)
    assert line == "● prom  ● loki  ● alerts  ● pd  ● timeline"  # no "ok" words, none hidden
    line = plain(badges, 34)
    assert line == "● prom ● loki ● aler… ● pd ● time…"  # names cut, still none hidden


MIXED = [Badge("prom", OK), Badge("loki", ERROR), Badge("alerts", OK), Badge("pd", STALE, "3m"),
         Badge("timeline", PENDING)]


@pytest.mark.parametrize(("width", "line"), [
    (70, "● prom ok  ✖ loki error  ● alerts ok  ▲ pd 3m  ○ timeline …"),
    (50, "● prom ✖ loki err ● aler… ▲ pd 3m ○ time…"),
    (40, "● prom ✖ loki err ▲ pd 3m ○ time… +1 ok"),
    (38, "✖ loki err ▲ pd 3m ○ time… +2 ok"),
    (31, "✖ loki error  ▲ pd 3m  +3 more"),
    (20, "✖ loki err +4 more"),
])
def test_ok_goes_first_then_waiting_then_stale_and_the_hidden_are_counted(
        width: int, line: str) -> None:
    assert plain(MIXED, width) == line


def test_at_every_width_each_provider_is_shown_or_counted_and_the_error_goes_last() -> None:
    for width in range(80, 2, -1):
        line = plain(MIXED, width)
        assert cell_len(line) <= width
        shown, hidden = shown_and_hidden(line)
        more = re.search(r"\+(\d+)(?: more)?$", line) if not hidden else None
        counted = sum(hidden.values()) + (int(more.group(1)) if more else 0)
        if width >= 2:
            assert len(shown) + counted == len(MIXED), (width, line)
        if width >= len("✖ loki err +4 more"):
            assert ("✖", "loki") in shown, (width, line)
        if any(symbol == "●" for symbol, _ in shown):  # an ok badge stays only if all else does
            assert set(hidden) <= {"ok"} and not more, (width, line)


def test_hide_order_is_best_first_and_keeps_the_first_configured() -> None:
    badges = [Badge("a", ERROR), Badge("b", OK), Badge("c", STALE), Badge("d", OK),
              Badge("e", PENDING)]
    assert [b.name for b in hide_order(badges)] == ["d", "b", "e", "c", "a"]


def test_a_width_too_small_for_anything_still_counts() -> None:
    badges = [Badge(n, OK) for n in NAMES]
    assert plain(badges, 5) == "+5 ok"
    assert plain(MIXED, 7) == "+5 more"
    assert plain(MIXED, 3) == "+5"
    assert plain(MIXED, 1) == "…"


# ----------------------------------------------------------------------------- real terminal


def header(app: object) -> str:
    return app.screen.display[0]  # type: ignore[attr-defined, no-any-return]


@pytest.mark.slow
def test_at_80x24_every_provider_is_shown_or_counted(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, cols=80, rows=24) as (app, _sim):
        app.wait_for(lambda text: all(f"● {name}" in text.splitlines()[0]
                                      for name in SIM_NAMES), 30)
        line = header(app)
        shown, hidden = shown_and_hidden(line)
        assert [name for _s, name in shown] == list(SIM_NAMES), line  # none cut, none missing
        assert not hidden


@pytest.mark.slow
def test_a_failing_provider_stays_on_screen_as_the_terminal_narrows(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, cols=120, rows=40, faults=["loki:refuse"]) as (app, _sim):
        app.wait_for(lambda text: "✖ loki error" in text.splitlines()[0]
                     and "● pd ok" in text.splitlines()[0], 30)
        shown, hidden = shown_and_hidden(header(app))
        assert [name for _s, name in shown] == list(SIM_NAMES) and not hidden
        for cols, rows in ((80, 24), (60, 20)):
            resize(app, cols, rows)
            app.wait_for(lambda text, c=cols: len(text.splitlines()[0]) == c
                         and "╭" in text.splitlines()[1]
                         and text.splitlines()[1].rstrip().endswith("╮"), 10)
            app.pump(0.5)
            line = header(app)
            shown, hidden = shown_and_hidden(line)
            assert ("✖", "loki") in shown, f"{cols}x{rows}: the error is gone: {line!r}"
            assert len(shown) + sum(hidden.values()) == len(SIM_NAMES), line
            for symbol, name in shown:  # a badge is whole or visibly shortened, never cut
                assert name in SIM_NAMES or (name.endswith("…") and any(
                    n.startswith(name[:-1]) for n in SIM_NAMES)), line
                assert symbol in "●✖○", line  # nothing stale in this run
            if cols == 60:
                assert hidden.get("ok", 0) >= 1 and "error" not in hidden, line
