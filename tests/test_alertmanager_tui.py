"""Done-when for Alertmanager: a REAL Alertmanager holding three alerts, one silenced, shows
exactly those three in ``sre-cockpit snapshot --format json`` and in the pane; a silence made
from the pane with the keyboard turns the alert acknowledged and expiring it turns it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from am_helpers import create_silence, post_alerts, start_alertmanager, wait_states
from textual.pilot import Pilot

from sre_cockpit.config.model import Config
from sre_cockpit.ui.app import make_app
from sre_cockpit.ui.dialogs import ConfirmActionDialog, SilenceDialog
from sre_cockpit.ui.incidents.grid import IncidentTable
from sre_cockpit.ui.incidents.view import IncidentsPane

pytestmark = pytest.mark.integration

ALERTS = [
    {"labels": {"alertname": "CheckoutErrors", "severity": "page", "service": "checkout"},
     "annotations": {"summary": "checkout 5xx above 2%"}},
    {"labels": {"alertname": "SearchSlow", "severity": "warning", "job": "search"}},
    {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
     "annotations": {"summary": "db-1 disk full"}},
]
EXPECTED = {
    "checkout 5xx above 2%": ("triggered", "critical", "checkout"),
    "SearchSlow": ("triggered", "warning", "search"),
    "db-1 disk full": ("acknowledged", "critical", None),
}


@pytest.fixture
def am(tmp_path: Path) -> Iterator[str]:
    url, stop = start_alertmanager(tmp_path / "am")
    try:
        post_alerts(url, ALERTS)
        create_silence(url, {"alertname": "DiskFull"}, created_by="carol", comment="disk swap")
        assert wait_states(url, {"DiskFull": "suppressed", "SearchSlow": "active"})
        yield url
    finally:
        stop()


def config_for(url: str) -> dict[str, Any]:
    return {"default_context": "test", "user": "oncall-bob",
            "refresh": {"incidents": "1s"},
            "contexts": {"test": {"providers": {"am": {
                "type": "alertmanager", "url": url,
                "severity_map": {"page": "critical"}}}}}}


def test_snapshot_json_shows_exactly_the_three(am: str, tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config_for(am)))
    cfg.chmod(0o600)
    proc = subprocess.run([sys.executable, "-m", "sre_cockpit", "snapshot", "--config", str(cfg),
                           "--format", "json"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    got = {i["title"]: (i["status"], i["severity"], i["service"]) for i in data["incidents"]}
    assert got == EXPECTED
    assert all(i["provider"] == "am" and len(i["id"]) == 16 for i in data["incidents"])
    suppressed = {i["title"]: i["suppressed"] for i in data["incidents"]}
    assert suppressed == {"checkout 5xx above 2%": None, "SearchSlow": None,
                          "db-1 disk full": "silenced"}


async def wait_until(pilot: Pilot[Any], predicate: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


def rows(pane: IncidentsPane) -> dict[str, tuple[str, str, str | None]]:
    return {i.title: (i.status.value, i.severity.value, i.service) for i in pane.snapshot.incidents}


async def test_cockpit_pane_shows_exactly_the_three(am: str) -> None:
    app = make_app(Config.model_validate(config_for(am)), start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(IncidentsPane)
        await wait_until(pilot, lambda: rows(pane) == EXPECTED)
        table = pane.query_one(IncidentTable)
        assert table.row_count == 3
        statuses = sorted(pane.cells(i.key)["status"] for i in pane.snapshot.incidents)
        # a silence is not a person's acknowledgement: the row says which it is
        assert statuses == ["silenced", "triggered", "triggered"]


@pytest.mark.slow
async def test_pane_shows_three_then_silence_and_expire_from_keyboard(am: str) -> None:
    app = make_app(Config.model_validate(config_for(am)), start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(IncidentsPane)
        await wait_until(pilot, lambda: rows(pane) == EXPECTED)
        table = pane.query_one(IncidentTable)
        assert table.row_count == 3
        table.focus()
        # put the cursor on SearchSlow (triggered warning: 2nd row)
        keys = table.row_keys()
        target = next(i for i in pane.snapshot.incidents if i.title == "SearchSlow")
        table.move_cursor(row=keys.index(target.key))
        await pilot.pause()
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SilenceDialog))
        dialog = app.screen
        assert isinstance(dialog, SilenceDialog)
        matchers = dialog.query_one("#silence-matchers").text  # type: ignore[attr-defined]
        assert 'alertname="SearchSlow"' in matchers and 'job="search"' in matchers
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        confirm = app.screen
        assert isinstance(confirm, ConfirmActionDialog)
        assert confirm.previews[0].payload["createdBy"] == "oncall-bob"
        await pilot.press("y")
        await wait_until(pilot, lambda: rows(pane)["SearchSlow"][0] == "acknowledged")
        # and the server agrees (the next poll, not only the optimistic row)
        assert wait_states(am, {"SearchSlow": "suppressed"})
        await wait_until(pilot, lambda: "silenced by" in (next(
            i for i in pane.snapshot.incidents if i.title == "SearchSlow").detail or ""))
        await pilot.press("S")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: rows(pane)["SearchSlow"][0] == "triggered")
        assert wait_states(am, {"SearchSlow": "active"})
        assert rows(pane) == EXPECTED
