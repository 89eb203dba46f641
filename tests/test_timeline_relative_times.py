"""The timeline's ``T±`` column through the real ``sre-cockpit`` on a pty (issue 12 item 20).

With no incident focused, ``T±`` was ``—`` on every row. Each event is now timed from the start of
the incident it belongs to (a PagerDuty trigger and an alert's start are ``T+0s``, the
acknowledgement and the silence after them count from there), ``—`` only for what belongs to no
incident (a deploy, an SLO change); with an incident focused, everything counts from its start.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from notes_helpers import Cockpit
from war_room_helpers import focus_incident, sim_cockpit

pytestmark = [pytest.mark.slow]

ROW = re.compile(r"[ ▶▲](\d\d:\d\d:\d\d)\s+(T[+-]\S+|—)\s+\S\s(\w+)\s")


def rows(text: str) -> list[tuple[str, str, str]]:
    """(time, T±, kind) of every timeline row on the screen."""
    return [(m.group(1), m.group(2), m.group(3)) for line in text.splitlines()
            if (m := ROW.search(line))]


def settled(app: Cockpit, quiet: float = 0.3, within: float = 5.0) -> str:
    """The screen once no byte has changed it for ``quiet`` seconds: the focus re-renders
    every row, and a read in the middle of that frame showed rows both where they were and
    where they moved to (two deploys, two triggers: 1 run in 4 at load 4)."""
    end = time.monotonic() + within
    text = app.text()
    while time.monotonic() < end:
        app.pump(quiet)
        now = app.text()
        if now == text:
            return now
        text = now
    return text


def ready(text: str) -> bool:
    return "triggered" in text and "● pd" in text.splitlines()[0]


def test_each_event_is_timed_from_its_own_incident_when_none_is_focused(
        tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, cols=160, rows=48) as (app, _sim):
        app.wait_for(ready, 40)
        app.write(b"4z")  # the timeline, zoomed; no incident focused
        text = app.wait_for(lambda t: "acknowledge" in t and "deploy" in t
                            and "silence" in t and "alert_start" in t, 30)
        shown = rows(text)
        by_kind: dict[str, list[str]] = {}
        for _at, rel, kind in shown:
            by_kind.setdefault(kind, []).append(rel)
        assert by_kind["trigger"] and set(by_kind["trigger"]) == {"T+0s"}, shown
        assert set(by_kind["alert_start"]) == {"T+0s"}, shown
        assert "T+4m" in by_kind["acknowledge"], shown  # the checkout page, 4 min after
        assert "—" not in by_kind["acknowledge"] and "—" not in by_kind["note"], shown
        assert by_kind["silence"] == ["T+5m"], shown  # 5 min after the alert it silences
        assert set(by_kind["deploy"]) == {"—"}, shown  # no incident's
        # with an incident focused, everything counts from its start (the deploy before it)
        app.write(b"z")
        key = focus_incident(app, "HighErrorRate", "pd")
        app.write(b"4z")
        app.wait_for(f"incident {key}", 20)
        text = settled(app)
        shown = rows(text)
        assert [rel for _at, rel, kind in shown if kind == "deploy"] == ["T-6m"], shown
        assert [rel for _at, rel, kind in shown if kind == "trigger"] == ["T+0s"], shown
