"""PagerDuty provider against the simulator's PagerDuty (a separate process on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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

from sre_cockpit.core.models import IncidentStatus
from sre_cockpit.providers.base import ProviderEnv, ProviderError, RateLimitedError
from sre_cockpit.providers.http import RetryPolicy, build_client
from sre_cockpit.providers.incident_util import strip_marker
from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=7, log_rate=1, pd_extra_incidents=240)
    try:
        yield handle
    finally:
        handle.stop()


def provider(sim: SimHandle, **opts: Any) -> PagerDutyProvider:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "url": sim.pd_url,
                                               "token": PD_TOKEN,
                                               "from_email": "oncall@example.com", **opts})
    client = build_client(options, provider="pd", retry=RetryPolicy(attempts=1))
    return PagerDutyProvider("pd", options, ProviderEnv(user="oncall"), client=client)


def open_ids_from_server(sim: SimHandle) -> set[str]:
    ids: set[str] = set()
    offset = 0
    while True:
        status, _, raw = http("GET", f"{sim.pd_url}/incidents?statuses[]=triggered&statuses[]=acknowledged"
                                     f"&limit=100&offset={offset}", headers=pd_headers())
        assert status == 200
        page = json.loads(raw)
        ids |= {i["id"] for i in page["incidents"]}
        if not page["more"]:
            return ids
        offset += 100


async def test_paging_beyond_100(sim: SimHandle) -> None:
    pd = provider(sim)
    try:
        incidents = await pd.list_incidents()
        expected = open_ids_from_server(sim)
        assert len(expected) > 100
        assert {i.id for i in incidents} == expected
        assert pd.notice is None
        assert all(i.url and i.service for i in incidents)
        assert {i.status for i in incidents} <= {IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED}
    finally:
        await pd.aclose()


async def test_ack_resolve_note_round_trips(sim: SimHandle) -> None:
    pd = provider(sim)
    try:
        triggered = [i for i in await pd.list_incidents() if i.status is IncidentStatus.TRIGGERED]
        first, second = triggered[0], triggered[1]
        result = await pd.perform("ack", [first, second])
        assert result.ok, result.message
        after = {i.id: i for i in await pd.list_incidents()}
        assert after[first.id].status is IncidentStatus.ACKNOWLEDGED
        assert after[second.id].status is IncidentStatus.ACKNOWLEDGED
        result = await pd.perform("resolve", [after[second.id]])
        assert result.ok, result.message
        assert second.id not in {i.id for i in await pd.list_incidents()}
        for _ in range(2):  # the same key twice: one note
            result = await pd.perform("note", [first], text="rolling back 1.4.2",
                                      idempotency_key="note-abc")
            assert result.ok, result.message
        status, _, raw = http("GET", f"{sim.pd_url}/incidents/{first.id}/notes", headers=pd_headers())
        assert status == 200
        notes = [n for n in json.loads(raw)["notes"] if strip_marker(n["content"]) == "rolling back 1.4.2"]
        assert len(notes) == 1
        events = await pd.list_events(datetime.now(UTC) - timedelta(days=2))
        mine = [e for e in events if e.incident_id == first.id]
        assert "acknowledge" in {e.kind for e in mine}
        assert all("\u2063" not in e.text for e in events)
        oncall = await pd.oncall()
        assert oncall and all(isinstance(n, str) and n for n in oncall)
    finally:
        await pd.aclose()


async def test_401_wrong_token(sim: SimHandle) -> None:
    pd = provider(sim, token="not-the-token")
    try:
        with pytest.raises(ProviderError) as err:
            await pd.list_incidents()
        assert err.value.status == 401 and "not-the-token" not in str(err.value)
        assert "check the API token" in str(err.value)
    finally:
        await pd.aclose()


async def test_400_without_from(sim: SimHandle) -> None:
    pd = provider(sim, from_email=None)
    try:
        incidents = await pd.list_incidents()
        result = await pd.perform("ack", incidents[:1])
        assert not result.ok and "from_email" in result.message
        # what the server says when the header is missing
        with pytest.raises(ProviderError) as err:
            await pd._call("PUT", "/incidents", json={"incidents": [
                {"id": incidents[0].id, "type": "incident_reference", "status": "acknowledged"}]})
        assert err.value.status == 400 and "From" in str(err.value)
        assert "set from_email" in str(err.value)
    finally:
        await pd.aclose()


@pytest.mark.parametrize(("mode", "expected"), [("error429", None), ("error429_noheaders", 30.0)])
async def test_429_with_and_without_headers(sim: SimHandle, mode: str, expected: float | None) -> None:
    pd = provider(sim)
    set_fault(sim.url, "pagerduty", mode)
    try:
        with pytest.raises(RateLimitedError) as err:
            await pd.list_incidents()
        wait = err.value.retry_after
        assert wait is not None and 1.0 <= wait <= 300.0
        if expected is not None:
            assert wait == expected
        assert "rate limited" in str(err.value) and "until" in str(err.value)
    finally:
        clear_faults(sim.url)
        await pd.aclose()
