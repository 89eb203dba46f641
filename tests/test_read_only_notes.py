"""Where a note goes is said before it is typed (issue 12 item 17), through the real
``sre-cockpit`` on a pty against the simulator.

In ``--read-only`` the note editor opened like any other and the note silently stayed local.
Now the editor says, under its title, that the note stays in the local journal and why (a
read-only context; a provider that cannot take notes), or that it is sent; the note is then
``[local only]`` on the timeline and PagerDuty never receives it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim_helpers import PD_TOKEN, http
from war_room_helpers import focus_incident, sim_cockpit

pytestmark = [pytest.mark.slow]

EDITOR = "Send (ctrl+s)"


def ready(text: str) -> bool:
    return "triggered" in text and "budget left" in text and "● pd" in text.splitlines()[0]


def pd_notes(url: str, incident_id: str) -> list[str]:
    status, _headers, body = http("GET", f"{url}/pagerduty/incidents/{incident_id}/notes",
                                  headers={"Authorization": f"Token token={PD_TOKEN}"})
    assert status == 200, body
    return [note["content"] for note in json.loads(body)["notes"]]


def test_read_only_says_before_typing_that_the_note_stays_local(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, args=["--read-only"]) as (app, sim):
        app.wait_for(lambda t: ready(t) and "READ-ONLY" in t.splitlines()[0], 40)
        key = focus_incident(app, "HighErrorRate", "pd")
        app.write(b"n")
        text = app.wait_for(EDITOR, 10)
        assert "stays in the local journal: read-only context (not sent to pd)" in text
        app.write(b"checked the dashboards" + b"\x13")
        app.wait_for(lambda t: EDITOR not in t, 10)
        app.write(b"4z")  # the timeline, zoomed: the note's state and its text
        app.wait_for("[local only] checked the dashboards", 20)
        incident_id = key.split(":", 1)[1]
        assert not any("checked the dashboards" in note for note in pd_notes(sim.url,
                                                                              incident_id))


def test_a_writable_context_says_where_each_note_goes(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path) as (app, _sim):
        app.wait_for(ready, 40)
        focus_incident(app, "HighErrorRate", "pd")
        app.write(b"n")
        text = app.wait_for(EDITOR, 10)
        assert "sent to pd (saved in the local journal first)" in text
        assert "stays in the local journal" not in text
        app.write(b"\x1b")
        app.wait_for(lambda t: EDITOR not in t, 10)
        # an Alertmanager alert cannot carry a note: said before typing
        focus_incident(app, "HighErrorRate", "alerts")
        app.write(b"n")
        text = app.wait_for(EDITOR, 10)
        assert ("stays in the local journal: Alertmanager alerts cannot carry notes "
                "(not sent to alerts)") in text, text
        app.write(b"\x1b")
        app.wait_for(lambda t: EDITOR not in t, 10)
