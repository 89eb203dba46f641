"""Reviewer regression: an incidents pane whose every source fails says so, not "waiting"."""

from __future__ import annotations

from incidents_helpers import MemoryIncidents, PaneApp, incident, runtime_with
from textual.widgets import Static

from sre_cockpit.ui.incidents.view import IncidentsPane


async def test_every_source_failing_is_explained_not_waiting() -> None:
    # Seen with `simulate --fault alertmanager:garbage --fault pagerduty:error500`: both sources
    # had failed, yet the pane body read "waiting for alerts, pd…" for as long as it ran.
    alerts = MemoryIncidents("alerts", [incident(1)])
    pd = MemoryIncidents("pd", [incident(2)])
    alerts.fail = "alerts: http://x/api/v2/alerts did not answer JSON (HTTP 200)"
    pd.fail = "pd: HTTP 500 for GET /incidents: Internal Server Error"
    app = PaneApp(runtime_with([alerts, pd]), start_polling=True)
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(IncidentsPane)
        text = ""
        for _ in range(150):
            await pilot.pause(0.02)
            text = str(app.query_one(".incidents-empty", Static).render())
            if "pd failed" in text and "alerts failed" in text:
                break
        assert "every incident provider is failing" in text
        assert "Internal Server Error" in text and "did not answer JSON" in text
        assert "waiting for" not in text and "pd failed: HTTP 500" in text
        assert {h.provider for h in pane.snapshot.sources} == {"alerts", "pd"}


async def test_one_failed_one_answering_still_says_no_open_incidents() -> None:
    alerts = MemoryIncidents("alerts", [])
    alerts.fail = "alerts: connection refused"
    pd = MemoryIncidents("pd", [])
    app = PaneApp(runtime_with([alerts, pd]), start_polling=False)
    async with app.run_test(size=(160, 30)) as pilot:
        app.query_one(IncidentsPane)
        await app.poll_now()
        await pilot.pause()
        text = str(app.query_one(".incidents-empty", Static).render())
        # pd answered (no incidents): the pane says so; the failing one is named in the health line
        assert "no open incidents" in text
