"""Done-when for PagerDuty: acknowledging a simulated incident from the TUI (select the row,
``a``, confirm) shows it acknowledged after the next poll."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sim_helpers import PD_TOKEN, SimHandle, launch_simulator
from textual.pilot import Pilot

from sre_cockpit.config.model import Config
from sre_cockpit.core.models import IncidentStatus
from sre_cockpit.ui.app import make_app
from sre_cockpit.ui.dialogs import ConfirmActionDialog
from sre_cockpit.ui.incidents.grid import IncidentTable
from sre_cockpit.ui.incidents.view import IncidentsPane

pytestmark = pytest.mark.integration


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=11, log_rate=1)
    try:
        yield handle
    finally:
        handle.stop()


async def wait_until(pilot: Pilot[Any], predicate: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def test_ack_from_tui_shows_acknowledged_after_next_poll(sim: SimHandle) -> None:
    config = Config.model_validate({
        "default_context": "sim", "user": "oncall", "refresh": {"incidents": "30s"},
        "contexts": {"sim": {"providers": {"pd": {
            "type": "pagerduty", "url": sim.pd_url, "token": PD_TOKEN,
            "from_email": "oncall@example.com"}}}}})
    app = make_app(config, start_polling=True)  # the real cockpit, all four panes
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(IncidentsPane)
        await wait_until(pilot, lambda: any(i.status is IncidentStatus.TRIGGERED for i in pane.snapshot.incidents))
        target = next(i for i in pane.snapshot.incidents if i.status is IncidentStatus.TRIGGERED)
        table = pane.query_one(IncidentTable)
        table.focus()
        table.move_cursor(row=table.row_keys().index(target.key))
        await pilot.press("x")  # select the row, then act on the selection
        assert pane.selected == {target.key}
        polls_before = pane.feed.pollers["pd"].polls
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmActionDialog)
        preview = dialog.previews[0]
        assert preview.method == "PUT" and preview.endpoint.endswith("/pagerduty/incidents")
        assert preview.payload["incidents"] == [{"id": target.id, "type": "incident_reference",
                                                 "status": "acknowledged"}]
        await pilot.press("y")
        # the action triggers the poller at once (the interval is 30 s): the next poll reconciles
        await wait_until(pilot, lambda: pane.feed.pollers["pd"].polls > polls_before and not pane.feed._overrides)
        now = {i.key: i for i in pane.snapshot.incidents}
        assert now[target.key].status is IncidentStatus.ACKNOWLEDGED
        assert pane.cells(target.key)["status"] == "acked"
        assert pane.selected == set()
