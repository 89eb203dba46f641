"""Postmortem of an Alertmanager alert and of a long-resolved page on the simulator's story.

An alert's draft carries the notes responders wrote on the page raised for the same service (the
"what we knew when" of the incident); a resolved page's draft holds no event of an unrelated
incident of the same service that started after it ended.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sim_helpers import SimHandle, http, launch_simulator, pd_headers
from test_postmortem import table_rows

from sre_cockpit.config.model import load_config
from sre_cockpit.core.models import IncidentStatus
from sre_cockpit.feeds.cockpit import Cockpit
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.providers.base import IncidentSource
from sre_cockpit.reports.postmortem import build_postmortem

SIM_START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    config = tmp_path_factory.mktemp("sim") / "config.yaml"
    handle = launch_simulator(seed=1, start_time=SIM_START.timestamp(), frozen=True,
                              write_config=config)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.mark.slow
async def test_alert_and_resolved_page_drafts(sim: SimHandle, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRE_COCKPIT_DATA_DIR", str(tmp_path / "data"))
    assert sim.config is not None
    runtime = Runtime(load_config(str(sim.config)), None, clock=lambda: SIM_START)
    try:
        sources = runtime.of(IncidentSource)  # type: ignore[type-abstract]
        alerts = [i for i in await sources["alerts"].list_incidents()
                  if i.service == "checkout" and i.status is not IncidentStatus.RESOLVED]
        assert len(alerts) == 1, alerts
        alert_draft = await build_postmortem(Cockpit(runtime.config, runtime=runtime),
                                           alerts[0].id)
    finally:
        await runtime.aclose()
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?statuses[]=resolved",
                           headers=pd_headers())
    assert status == 200, raw
    resolved = [i["id"] for i in json.loads(raw)["incidents"]
                if "search" in json.dumps(i.get("service", {}))]
    rows = table_rows(alert_draft, "Timeline")
    assert len(rows) >= 5, alert_draft
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert sum(1 for r in rows if r[2] == "note") >= 1, rows
    assert "## Impact" in alert_draft and "| checkout-availability | 99.9% |" in alert_draft
    if not resolved:
        return
    runtime = Runtime(load_config(str(sim.config)), None, clock=lambda: SIM_START)
    try:
        page_draft = await build_postmortem(Cockpit(runtime.config, runtime=runtime), resolved[0])
    finally:
        await runtime.aclose()
    rows = table_rows(page_draft, "Timeline")
    resolve_at = [r[0] for r in rows if r[2] == "resolve"]
    assert resolve_at, page_draft
    assert all(r[0] <= resolve_at[0] for r in rows), rows
