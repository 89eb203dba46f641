"""The truth contract, through the real ``sre-cockpit`` process on a pty against the simulator.

The screen is never greener or fuller than the truth: an active filter says what it hides and a
new incident it hides changes the count; esc clears it and the pane's keys still work; a
backend answering 500 keeps its last good events on the timeline, marked stale, and its header
badge says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from notes_helpers import Cockpit
from sim_helpers import SimHandle, http, launch_simulator, set_fault

pytestmark = [pytest.mark.slow]

FILTER_BAR = re.compile(r"/checkout — (\d+) of (\d+) incidents shown, (\d+) hidden · esc clears")


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path / "sim.yaml"
    handle = launch_simulator(seed=5, write_config=config)
    data = yaml.safe_load(config.read_text())
    data["refresh"] = {"incidents": "2s", "slos": "15s", "timeline": "2s"}
    config.write_text(yaml.safe_dump(data))
    config.chmod(0o600)
    try:
        yield handle, config
    finally:
        handle.stop()


@pytest.fixture
def cockpit(sim: tuple[SimHandle, Path], tmp_path: Path) -> Iterator[Cockpit]:
    app = Cockpit(sim[1], tmp_path / "data", cols=160, rows=48)
    try:
        app.wait_for(lambda text: "pd ok" in text and "alerts ok" in text)
        yield app
    finally:
        app.stop()


def _bar(text: str) -> tuple[int, int, int] | None:
    match = FILTER_BAR.search(text)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def test_a_filter_says_what_it_hides_and_a_new_hidden_incident_changes_the_count(
        cockpit: Cockpit, sim: tuple[SimHandle, Path]) -> None:
    cockpit.write(b"1/checkout\r")  # one read: pane, prompt, filter, enter
    text = cockpit.wait_for(lambda t: _bar(t) is not None)
    shown, total, hidden = _bar(text)  # type: ignore[misc]
    assert hidden > 0 and shown + hidden == total
    # a new alert the filter hides (about storage, not checkout) still counts
    status, _h, _b = http("POST", f"{sim[0].url}/api/v2/alerts", [{
        "labels": {"alertname": "StorageVolumeFull", "service": "storage",
                   "severity": "critical"},
        "annotations": {"summary": "storage volume data-7 is 99% full"}}])
    assert status == 200
    text = cockpit.wait_for(lambda t: (bar := _bar(t)) is not None and bar[1] == total + 1)
    assert _bar(text) == (shown, total + 1, hidden + 1)
    # the pane's keys still work over the filtered table: select a row, then esc clears
    # the filter first (the selection stays), and every incident is back
    cockpit.write(b"x")
    cockpit.wait_for("[1 selected]")
    cockpit.write(b"\x1b")
    text = cockpit.wait_for(lambda t: _bar(t) is None and "esc clears" not in t)
    assert "[1 selected]" in text


def test_a_filter_that_matches_nothing_says_so_and_keeps_the_keys(cockpit: Cockpit) -> None:
    cockpit.write(b"1/zzzz\r")
    text = cockpit.wait_for("no incident matches the filter 'zzzz'")
    assert "/zzzz — 0 of" in text
    cockpit.write(b"/\x15checkout\r")  # a second filter (ctrl+u clears the old): rows are back
    cockpit.wait_for(lambda t: _bar(t) is not None)
    cockpit.write(b"a")  # the key reaches the pane: a confirm dialog, or why it cannot ack
    text = cockpit.wait_for("Acknowledge")
    if "Send (y)" in text:
        cockpit.write(b"n")
        cockpit.wait_for("Acknowledge cancelled")


def test_pagerduty_at_500_keeps_its_timeline_events_marked_stale(
        cockpit: Cockpit, sim: tuple[SimHandle, Path]) -> None:
    text = cockpit.wait_for(lambda t: "pd events ok" in t and "Triggered through" in t)
    triggers = text.count("Triggered through")
    set_fault(sim[0].url, "pagerduty", "error500")
    text = cockpit.wait_for(lambda t: "▲ pd events stale" in t and "HTTP 500" in t, timeout=30)
    header = text.splitlines()[0]
    assert "▲ pd" in header and "● pd" not in header  # the badge is not greener than the pane
    # the last good events are still on the timeline, each marked as coming from a failing
    # source (▲ before its time)
    rows = [line for line in text.splitlines() if "Triggered through" in line]
    assert len(rows) == triggers
    assert all(re.search(r"▲\d\d:\d\d:\d\d", row) for row in rows), rows
    set_fault(sim[0].url, "pagerduty", "none")
    cockpit.wait_for(lambda t: "pd events ok" in t and not any(
        re.search(r"▲\d\d:\d\d:\d\d", line) for line in t.splitlines()
        if "Triggered through" in line), timeout=60)


SLO_BAR = re.compile(r"/pay — (\d+) of (\d+) SLOs shown")
TIMELINE_BAR = re.compile(r"/alert — (\d+) of (\d+) events shown")


def test_every_filter_outcome_gives_the_keys_back_to_the_slo_table(cockpit: Cockpit) -> None:
    """Issue 12 item 1 in the SLO pane: after no match, a match, an invalid regex and esc in
    the prompt, j moves the table's cursor and enter opens the detail of the SLO under it."""
    cockpit.wait_for("budget left", 30)
    cockpit.write(b"3/zzzz\r")
    cockpit.wait_for("no SLO matches the filter 'zzzz'", 10)
    cockpit.write(b"/\x15pay\r")  # a filter that matches: the rows are back
    cockpit.wait_for(lambda t: SLO_BAR.search(t) is not None, 10)
    cockpit.write(b"gj\r")  # the second row's detail: the keys reached the table
    cockpit.wait_for("SLO payments-availability", 10)
    cockpit.write(b"\x1b")
    cockpit.wait_for(lambda t: "SLO payments-availability" not in t, 10)
    cockpit.write(b"/\x15/[/\r")  # an invalid regex: said, and the old filter stays
    cockpit.wait_for("filter not applied", 10)
    assert SLO_BAR.search(cockpit.text()) is not None
    cockpit.write(b"gj\r")
    cockpit.wait_for("SLO payments-availability", 10)
    cockpit.write(b"\x1b")
    cockpit.wait_for(lambda t: "SLO payments-availability" not in t, 10)
    cockpit.write(b"/abc")  # esc in the prompt: nothing changes, the keys come back
    cockpit.wait_for("payabc", 10)  # (the prompt starts with the current filter)
    cockpit.write(b"\x1b")
    cockpit.pump(0.5)
    cockpit.write(b"g\r")
    cockpit.wait_for("SLO payments-latency", 10)
    cockpit.write(b"\x1b")
    cockpit.wait_for(lambda t: "SLO payments-latency" not in t, 10)
    cockpit.write(b"\x1b")  # esc in the pane clears its filter
    cockpit.wait_for(lambda t: SLO_BAR.search(t) is None and "checkout-availability" in t, 10)


def test_every_filter_outcome_gives_the_keys_back_to_the_timeline_table(
        cockpit: Cockpit) -> None:
    """Issue 12 item 1 in the timeline: after no match, a match, an invalid regex and esc in
    the prompt, j/g move the cursor and enter moves the cockpit to the event's moment."""
    cockpit.wait_for(lambda t: "alert_start" in t and "pd events ok" in t, 30)
    cockpit.write(b"4/zzzz\r")
    cockpit.wait_for(lambda t: re.search(r"/zzzz — 0 of \d+ events shown", t) is not None, 10)
    cockpit.write(b"/\x15alert\r")
    text = cockpit.wait_for(lambda t: TIMELINE_BAR.search(t) is not None, 10)
    bar = TIMELINE_BAR.search(text)
    assert bar is not None and int(bar.group(1)) >= 2

    def moment_then_live() -> None:
        cockpit.write(b"gj\r")  # the second event: the cockpit moves to its moment
        cockpit.wait_for(lambda t: "viewing " in t and ". returns to live" in t, 10)
        cockpit.write(b".")
        cockpit.wait_for(lambda t: "viewing " not in t, 10)

    moment_then_live()
    cockpit.write(b"/\x15/[/\r")
    cockpit.wait_for("filter not applied", 10)
    assert TIMELINE_BAR.search(cockpit.text()) is not None
    moment_then_live()
    cockpit.write(b"/abc")
    cockpit.wait_for("alertabc", 10)
    cockpit.write(b"\x1b")
    cockpit.pump(0.5)
    moment_then_live()
    cockpit.write(b"\x1b")
    cockpit.wait_for(lambda t: TIMELINE_BAR.search(t) is None, 10)
