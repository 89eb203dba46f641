"""PagerDuty's on-call actions from the cockpit against the simulator (a separate process on
loopback), end to end: the key, the form, the confirm dialog with the exact request, the
simulator's state afterwards, the row reconciled by the next poll; a 429 during the directory
search and during the action; a read-only context that sends nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sim_helpers import (
    PD_TOKEN,
    SimHandle,
    clear_faults,
    http,
    launch_simulator,
    pd_headers,
    set_fault,
)
from textual.pilot import Pilot
from textual.widgets import Input, Static

from sre_cockpit.config.model import Config
from sre_cockpit.core.models import Incident, IncidentStatus
from sre_cockpit.ui.app import CockpitApp, make_app
from sre_cockpit.ui.dialogs import ConfirmActionDialog
from sre_cockpit.ui.incidents.view import IncidentsPane
from sre_cockpit.ui.oncall_dialogs import (
    EscalateDialog,
    ReassignDialog,
    SnoozeDialog,
    StatusUpdateDialog,
)

pytestmark = pytest.mark.integration
TAKEN: set[str] = set()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=13, log_rate=1, pd_extra_incidents=24)
    try:
        yield handle
    finally:
        handle.stop()


def config(sim: SimHandle) -> Config:
    return Config.model_validate({
        "default_context": "sim", "user": "Dana Whitfield", "refresh": {"incidents": "30s"},
        "contexts": {"sim": {"providers": {"pd": {
            "type": "pagerduty", "url": sim.pd_url, "token": PD_TOKEN,
            "from_email": "dana.whitfield@example.com"}}}}})


def log_types(sim: SimHandle, iid: str) -> list[str]:
    status, _, raw = http("GET", f"{sim.pd_url}/incidents/{iid}/log_entries?limit=100",
                          headers=pd_headers())
    assert status == 200, raw
    return [e["type"] for e in json.loads(raw)["log_entries"]]


def pd_incident(sim: SimHandle, iid: str) -> dict[str, Any]:
    status, _, raw = http("GET", f"{sim.pd_url}/incidents/{iid}", headers=pd_headers())
    assert status == 200, raw
    return dict(json.loads(raw)["incident"])


async def until(pilot: Pilot[Any], predicate: Any, seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def ready(app: CockpitApp, pilot: Pilot[Any]) -> IncidentsPane:
    pane = app.query_one(IncidentsPane)
    await until(pilot, lambda: len(pane.snapshot.incidents) > 10)
    return pane


async def target(pilot: Pilot[Any], pane: IncidentsPane, status: IncidentStatus,
                 urgency: str = "high") -> Incident:
    for inc in pane.snapshot.incidents:
        if (inc.status is status and inc.labels.get("urgency") == urgency
                and inc.id not in TAKEN):
            TAKEN.add(inc.id)
            pane.table.focus()
            assert pane.table.move_to_key(inc.key)
            await pilot.pause()
            return inc
    raise AssertionError(f"no {status} {urgency} incident left")


async def confirm(app: CockpitApp, pilot: Pilot[Any]) -> ConfirmActionDialog:
    await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
    dialog = app.screen
    assert isinstance(dialog, ConfirmActionDialog)
    return dialog


def toasts(app: CockpitApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_reassign_escalate_snooze_and_status_update(sim: SimHandle) -> None:
    app = make_app(config(sim), start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = await ready(app, pilot)
        feed = pane.feed
        assert feed is not None

        # reassign: search the directory, pick Ravi, confirm; the row shows him at once and
        # after the next poll (no optimistic override left)
        inc = await target(pilot, pane, IncidentStatus.TRIGGERED, "low")
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ReassignDialog))
        dialog = app.screen
        assert isinstance(dialog, ReassignDialog)
        await until(pilot, lambda: len(dialog.found) >= 3)  # users and escalation policies
        await pilot.press(*"ravi")
        await until(pilot, lambda: [a.name for a in dialog.found] == ["Ravi Menon"])
        await pilot.press("enter")
        preview = (await confirm(app, pilot)).previews[0]
        assert preview.method == "PUT" and preview.endpoint.endswith("/pagerduty/incidents")
        item = preview.payload["incidents"][0]
        assert item["id"] == inc.id and item["assignments"][0]["assignee"]["type"] == \
            "user_reference"
        await pilot.press("y")

        def assignees() -> tuple[str, ...]:
            return next(i.assignees for i in pane.snapshot.incidents if i.key == inc.key)

        await until(pilot, lambda: assignees() == ("Ravi Menon",))
        # the assignee column shrinks before the title does (issue 12, item 10)
        assert pane.cells(inc.key)["assignee"].startswith("Ravi ")
        await until(pilot, lambda: not feed._overrides)
        assert "assign_log_entry" in log_types(sim, inc.id)
        assert [a["assignee"]["summary"] for a in pd_incident(sim, inc.id)["assignments"]] == \
            ["Ravi Menon"]

        # escalate (PagerDuty escalates high-urgency incidents only): the levels of the
        # incident's policy, the next level highlighted
        inc = await target(pilot, pane, IncidentStatus.ACKNOWLEDGED)
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, EscalateDialog))
        escalate = app.screen
        assert isinstance(escalate, EscalateDialog)
        await until(pilot, lambda: len(escalate.levels) >= 2)
        await pilot.press("enter")
        preview = (await confirm(app, pilot)).previews[0]
        assert preview.payload["incidents"][0]["escalation_level"] == 2
        await pilot.press("y")
        await until(pilot, lambda: "escalate_log_entry" in log_types(sim, inc.id))
        await until(pilot, lambda: any("to level 2" in m for m in toasts(app)))

        # snooze an acknowledged incident for 2h
        inc = await target(pilot, pane, IncidentStatus.ACKNOWLEDGED)
        await pilot.press("Z")
        await until(pilot, lambda: isinstance(app.screen, SnoozeDialog))
        app.screen.query_one(Input).value = "2h"
        await pilot.press("enter")
        preview = (await confirm(app, pilot)).previews[0]
        assert preview.method == "POST" and preview.endpoint.endswith(f"/incidents/{inc.id}/snooze")
        assert preview.payload["duration"] == 7200
        await pilot.press("y")
        await until(pilot, lambda: "snooze_log_entry" in log_types(sim, inc.id))
        pending = [a["type"] for a in pd_incident(sim, inc.id)["pending_actions"]]
        assert "unacknowledge" in pending
        await until(pilot, lambda: any("snoozed 1 incident on pd for 2h" in m
                                       for m in toasts(app)))

        # a status update for stakeholders
        inc = await target(pilot, pane, IncidentStatus.TRIGGERED, "low")
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, StatusUpdateDialog))
        await pilot.press(*"Mitigated; watching error rates")
        await pilot.press("ctrl+s")
        preview = (await confirm(app, pilot)).previews[0]
        assert preview.endpoint.endswith(f"/incidents/{inc.id}/status_updates")
        assert preview.payload["message"] == "Mitigated; watching error rates"
        await pilot.press("y")
        await until(pilot, lambda: "status_update_log_entry" in log_types(sim, inc.id))


async def test_a_429_in_the_directory_and_in_the_action_is_shown(sim: SimHandle) -> None:
    app = make_app(config(sim), start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = await ready(app, pilot)
        inc = await target(pilot, pane, IncidentStatus.TRIGGERED, "low")
        set_fault(sim.url, "pagerduty", "error429", seconds=20)
        try:
            await pilot.press("A")
            await until(pilot, lambda: isinstance(app.screen, ReassignDialog))
            dialog = app.screen
            assert isinstance(dialog, ReassignDialog)
            await until(pilot, lambda: dialog.failed is not None)
            status = str(dialog.query_one(".dialog-status", Static).render())
            assert "rate limited by PagerDuty (429) until" in status
            await until(pilot, lambda: "rate limited until" in str(
                pane.query_one(".pane-health").render()))
            # a typed id is still taken; the PUT itself is refused with 429 too
            dialog.query_one(Input).value = "PUSERXYZ"
            await pilot.press("enter")
            await confirm(app, pilot)
            await pilot.press("y")
            await until(pilot, lambda: any("rate limited by PagerDuty (429)" in m
                                           for m in toasts(app)))
        finally:
            clear_faults(sim.url)
        assert "assign_log_entry" not in log_types(sim, inc.id)
        assert [e for e in app._notifications if e.severity == "error"]


async def test_read_only_context_sends_nothing(sim: SimHandle) -> None:
    app = make_app(config(sim), read_only=True, start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = await ready(app, pilot)
        inc = await target(pilot, pane, IncidentStatus.ACKNOWLEDGED)
        before = log_types(sim, inc.id)
        for key in ("A", "E", "Z", "U"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0]
        assert sum("read-only" in m for m in toasts(app)) >= 4
        assert log_types(sim, inc.id) == before
