"""PagerDuty on-call actions end to end: the provider against the simulator's PagerDuty (a
separate process on loopback) for reassign, escalate, snooze and status update, including a 429
and a read-only context; the simulator's new endpoints against the reference payloads; and the
real ``sre-cockpit snapshot`` showing the resulting timeline."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
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
    structure_diff,
)

from sre_cockpit.core.models import Incident, IncidentStatus
from sre_cockpit.providers.base import ActionArgs, AssigneeKind, ProviderEnv
from sre_cockpit.providers.http import RetryPolicy, build_client
from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider

pytestmark = pytest.mark.integration
REFERENCE = Path(__file__).resolve().parent / "reference"
FROM = "oncall@example.com"


def ref(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=11, log_rate=1, pd_extra_incidents=30)
    try:
        yield handle
    finally:
        handle.stop()


def provider(sim: SimHandle, *, read_only: bool = False) -> PagerDutyProvider:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "url": sim.pd_url,
                                               "token": PD_TOKEN, "from_email": FROM})
    client = build_client(options, provider="pd", retry=RetryPolicy(attempts=1))
    return PagerDutyProvider("pd", options, ProviderEnv(context="prod", user="oncall",
                                                        read_only=read_only), client=client)


def get(sim: SimHandle, path: str) -> Any:
    status, _, raw = http("GET", sim.pd_url + path, headers=pd_headers())
    assert status == 200, raw
    return json.loads(raw)


def log_types(sim: SimHandle, iid: str) -> list[str]:
    return [e["type"] for e in get(sim, f"/incidents/{iid}/log_entries?limit=100")["log_entries"]]


async def pick(pd: PagerDutyProvider, status: IncidentStatus, urgency: str | None = "high",
               taken: set[str] | None = None) -> Incident:
    """An open incident of this status (and urgency, None: any) not used by another test."""
    for inc in await pd.list_incidents():
        if (inc.status is status and urgency in (None, inc.labels.get("urgency"))
                and inc.id not in (taken if taken is not None else TAKEN)):
            TAKEN.add(inc.id)
            return inc
    raise AssertionError(f"no {status} {urgency} incident left")


TAKEN: set[str] = set()


def test_new_endpoints_match_the_reference_shapes(sim: SimHandle) -> None:
    users = get(sim, "/users?query=a")
    assert users["users"] and structure_diff(ref("pagerduty_list_users.json"), users) == []
    policies = get(sim, "/escalation_policies")
    assert structure_diff(ref("pagerduty_list_escalation_policies.json"), policies,
                          extra_ok={"description"}) == []  # in the schema; the list example omits it
    pid = policies["escalation_policies"][0]["id"]
    assert structure_diff(ref("pagerduty_get_escalation_policy.json"),
                          get(sim, f"/escalation_policies/{pid}")) == []
    iid = next(i["id"] for i in get(sim, "/incidents?statuses[]=acknowledged")["incidents"])
    TAKEN.add(iid)
    status, _, raw = http("POST", f"{sim.pd_url}/incidents/{iid}/snooze",
                          ref("pagerduty_snooze_request.json"), pd_headers(FROM))
    assert status == 201
    assert structure_diff(ref("pagerduty_snooze_response.json"), json.loads(raw), extra_ok={
        "is_mergeable", "incidents_responders", "conference_bridge", "resolve_reason", "priority",
        "alert_grouping", "responder_requests", "alert_counts", "title"}) == []
    status, _, raw = http("POST", f"{sim.pd_url}/incidents/{iid}/status_updates",
                          ref("pagerduty_status_update_request.json"), pd_headers(FROM))
    assert status == 200
    assert structure_diff(ref("pagerduty_status_update_response.json"), json.loads(raw)) == []


def test_server_rules_answer_in_pagerduty_envelope(sim: SimHandle) -> None:
    incidents = get(sim, "/incidents?statuses[]=triggered&limit=100")["incidents"]
    triggered = next(i for i in incidents if i["id"] not in TAKEN)
    low = next(i for i in incidents if i["urgency"] == "low")
    cases = [
        (f"/incidents/{triggered['id']}/snooze", {"duration": 60}, "acknowledged"),
        (f"/incidents/{triggered['id']}/snooze", {"duration": 604_801}, "between 1 and 604800"),
        (f"/incidents/{triggered['id']}/status_updates", {"message": " "}, "blank"),
    ]
    for path, body, needle in cases:
        status, _, raw = http("POST", sim.pd_url + path, body, pd_headers(FROM))
        err = json.loads(raw)["error"]
        assert status == 400 and err["code"] == 2001 and needle in err["errors"][0], raw
    status, _, raw = http("POST", f"{sim.pd_url}/incidents/{triggered['id']}/snooze",
                          {"duration": 60}, pd_headers())  # no From
    assert status == 400 and "From" in json.loads(raw)["error"]["errors"][0]
    status, _, raw = http("PUT", f"{sim.pd_url}/incidents", {"incidents": [
        {"id": low["id"], "type": "incident_reference", "escalation_level": 2}]}, pd_headers(FROM))
    assert status == 400 and "Low-urgency" in json.loads(raw)["error"]["errors"][0]


async def test_directory_and_escalation_levels(sim: SimHandle) -> None:
    pd = provider(sim)
    try:
        everyone = await pd.search_assignees("")
        kinds = {a.kind for a in everyone}
        assert kinds == {AssigneeKind.USER, AssigneeKind.ESCALATION_POLICY}
        (priya,) = await pd.search_assignees("priya")
        assert (priya.name, priya.detail) == ("Priya Natarajan", "priya.natarajan@example.com")
        (payments,) = [a for a in await pd.search_assignees("payments")
                       if a.kind is AssigneeKind.ESCALATION_POLICY]
        assert payments.levels == 3
        inc = await pick(pd, IncidentStatus.TRIGGERED, urgency=None)
        levels = await pd.escalation_levels(inc)
        assert [(lv.level, lv.targets) for lv in levels] == [(1, ("Shop On-Call",)),
                                                              (2, ("Ravi Menon",))]
    finally:
        await pd.aclose()


async def test_reassign_to_a_user_and_to_a_policy(sim: SimHandle) -> None:
    pd = provider(sim)
    try:
        inc = await pick(pd, IncidentStatus.ACKNOWLEDGED)
        (priya,) = await pd.search_assignees("priya")
        result = await pd.perform("reassign", [inc], args=ActionArgs(assignee=priya))
        assert result.ok, result.message
        (now,) = result.updated
        assert now.status is IncidentStatus.TRIGGERED and now.assignees == ("Priya Natarajan",)
        listed = {i.id: i for i in await pd.list_incidents()}[inc.id]
        assert listed.assignees == ("Priya Natarajan",) and listed.status is IncidentStatus.TRIGGERED
        assert log_types(sim, inc.id)[-1] == "assign_log_entry"
        (policy,) = [a for a in await pd.search_assignees("Payments Escalation")
                     if a.kind is AssigneeKind.ESCALATION_POLICY]
        result = await pd.perform("reassign", [listed], args=ActionArgs(assignee=policy))
        assert result.ok, result.message
        assert result.updated[0].details["escalation_policy"] == "Payments Escalation"
        assert result.updated[0].assignees == ("Priya Natarajan",)  # the policy's first level
        assert log_types(sim, inc.id)[-1] == "delegate_log_entry"
    finally:
        await pd.aclose()


async def test_escalate_to_a_level(sim: SimHandle) -> None:
    pd = provider(sim)
    try:
        inc = await pick(pd, IncidentStatus.ACKNOWLEDGED)
        result = await pd.perform("escalate", [inc], args=ActionArgs(level=2))
        assert result.ok, result.message
        assert result.updated[0].assignees == ("Ravi Menon",)
        assert result.updated[0].status is IncidentStatus.TRIGGERED
        entries = get(sim, f"/incidents/{inc.id}/log_entries?limit=100")["log_entries"]
        assert entries[-1]["type"] == "escalate_log_entry"
        assert [a["summary"] for a in entries[-1]["assignees"]] == ["Ravi Menon"]
        beyond = await pd.perform("escalate", [result.updated[0]], args=ActionArgs(level=5))
        assert not beyond.ok and "HTTP 400" in beyond.message
        assert "Escalation level must be between 1 and 2" in beyond.message
        events = await pd.list_events(inc.started_at)
        assert "escalate" in {e.kind for e in events if e.incident_id == inc.id}
    finally:
        await pd.aclose()


async def test_snooze_then_back_to_triggered_on_the_simulator_clock(sim: SimHandle) -> None:
    pd = provider(sim)
    try:
        inc = await pick(pd, IncidentStatus.TRIGGERED, urgency=None)
        acked = await pd.perform("ack", [inc])
        assert acked.ok, acked.message
        result = await pd.perform("snooze", list(acked.updated), args=ActionArgs(duration_s=2))
        assert result.ok, result.message
        (snoozed,) = result.updated
        assert snoozed.status is IncidentStatus.ACKNOWLEDGED
        assert snoozed.details["pending_actions"].startswith("unacknowledge at ")
        await asyncio.sleep(2.6)
        after = {i.id: i for i in await pd.list_incidents()}[inc.id]
        assert after.status is IncidentStatus.TRIGGERED
        assert "unacknowledge" not in after.details.get("pending_actions", "")
        assert log_types(sim, inc.id)[-2:] == ["snooze_log_entry", "unacknowledge_log_entry"]
    finally:
        await pd.aclose()


async def test_status_update_is_listed_on_the_log_entries(sim: SimHandle) -> None:
    pd = provider(sim)
    try:
        inc = await pick(pd, IncidentStatus.ACKNOWLEDGED)
        text = "Checkout degraded for EU card payments; rollback in progress."
        result = await pd.perform("status_update", [inc], args=ActionArgs(message=text))
        assert result.ok, result.message
        entry = get(sim, f"/incidents/{inc.id}/log_entries?limit=100")["log_entries"][-1]
        assert (entry["type"], entry["message"]) == ("status_update_log_entry", text)
        events = [e for e in await pd.list_events(inc.started_at) if e.incident_id == inc.id]
        assert events[-1].kind == "status_update"
        assert events[-1].text == f"status update by oncall: {text}"
    finally:
        await pd.aclose()


@pytest.mark.parametrize(("mode", "wait"), [("error429", None), ("error429_noheaders", 30.0)])
async def test_rate_limited_action_reports_when_to_retry(sim: SimHandle, mode: str,
                                                         wait: float | None) -> None:
    pd = provider(sim)
    try:
        inc = await pick(pd, IncidentStatus.ACKNOWLEDGED)
        before = log_types(sim, inc.id)
        set_fault(sim.url, "pagerduty", mode)
        try:
            result = await pd.perform("snooze", [inc], args=ActionArgs(duration_s=600))
        finally:
            clear_faults(sim.url)
        assert not result.ok and "rate limited by PagerDuty (429) until" in result.message
        assert result.retry_after is not None and 1.0 <= result.retry_after <= 300.0
        if wait is not None:
            assert result.retry_after == wait
        assert log_types(sim, inc.id) == before  # nothing happened
    finally:
        await pd.aclose()


@pytest.mark.parametrize("action", ["reassign", "escalate", "snooze", "status_update"])
async def test_read_only_context_changes_nothing(sim: SimHandle, action: str) -> None:
    pd = provider(sim, read_only=True)
    try:
        inc = await pick(pd, IncidentStatus.ACKNOWLEDGED, taken=set())
        (ravi,) = await pd.search_assignees("ravi")
        before = get(sim, f"/incidents/{inc.id}")["incident"]
        args = ActionArgs(assignee=ravi, level=2, duration_s=600, message="x")
        result = await pd.perform(action, [inc], args=args)
        assert not result.ok and result.message == "pd: context prod is read-only"
        assert get(sim, f"/incidents/{inc.id}")["incident"] == before
    finally:
        await pd.aclose()


@pytest.mark.slow
def test_snapshot_cli_shows_the_status_update_and_snooze(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    handle = launch_simulator(seed=12, write_config=config)
    try:
        incidents = get(handle, "/incidents?statuses[]=acknowledged")["incidents"]
        iid = incidents[0]["id"]
        text = "EU checkout recovering; next update in 30 minutes"
        status, _, _ = http("POST", f"{handle.pd_url}/incidents/{iid}/status_updates",
                            {"message": text}, pd_headers("lead@example.com"))
        assert status == 200
        status, _, _ = http("POST", f"{handle.pd_url}/incidents/{iid}/snooze",
                            {"duration": 3600}, pd_headers("lead@example.com"))
        assert status == 201
        proc = subprocess.run([sys.executable, "-m", "sre_cockpit", "snapshot", "--config",
                               str(config), "--format", "json"], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "NO_COLOR": "1",
                                                "SRE_COCKPIT_DATA_DIR": str(tmp_path / "data")})
        assert proc.returncode == 0, proc.stderr
        timeline = [e for e in json.loads(proc.stdout)["timeline"] if e["incident_id"] == iid]
        assert {"kind": "status_update", "text": f"status update by lead: {text}"} in [
            {"kind": e["kind"], "text": e["text"]} for e in timeline]
        assert "snooze" in {e["kind"] for e in timeline}
    finally:
        handle.stop()
