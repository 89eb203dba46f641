"""PagerDuty on-call actions (reassign, escalate, snooze, status update) and the assignee
directory, against an in-test PagerDuty (httpx.MockTransport) that answers with the reference
payloads of tests/reference and enforces the documented rules (From header, ≤250 per PUT, 429)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sre_cockpit.core.models import Incident, IncidentStatus
from sre_cockpit.providers.base import (
    ONCALL_ACTIONS,
    ActionArgs,
    Assignee,
    AssigneeDirectory,
    AssigneeKind,
    EscalationLevel,
    EscalationPolicyReader,
    IncidentActions,
    ProviderEnv,
    ProviderError,
)
from sre_cockpit.providers.http import RetryPolicy, build_client
from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider

REFERENCE = Path(__file__).resolve().parent / "reference"
FROZEN = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
TOKEN = "u+SECRETtoken123"
FROM_MISSING = {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": [
    "You must specify a user's email address in the \"From\" header to perform this action"]}}
EARLINE = Assignee("PXPGF42", AssigneeKind.USER, "Earline Greenholt")
POLICY = Assignee("PANZZEQ", AssigneeKind.ESCALATION_POLICY, "Engineering Escalation Policy")


def ref(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


@dataclass
class FakePD:
    """The endpoints the on-call actions use, answering with the reference payloads."""

    incident: dict[str, Any]
    requests: list[httpx.Request] = field(default_factory=list)
    fail_429: int = 0
    ratelimit_headers: bool = True
    fail_ids: set[str] = field(default_factory=set)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Token token={TOKEN}"
        if self.fail_429:
            self.fail_429 -= 1
            headers = {"ratelimit-limit": "960", "ratelimit-remaining": "0",
                       "ratelimit-reset": "20"} if self.ratelimit_headers else {}
            return httpx.Response(429, headers=headers,
                                  json={"error": {"message": "Rate Limit Exceeded", "code": 2020}})
        path, method = request.url.path, request.method
        if method != "GET" and not request.headers.get("from"):
            return httpx.Response(400, json=FROM_MISSING)
        parts = path.strip("/").split("/")
        if len(parts) > 1 and parts[1] in self.fail_ids:
            return httpx.Response(404, json={"error": {"message": "Not Found", "code": 2100}})
        if path == "/users":
            return httpx.Response(200, json=ref("pagerduty_list_users.json"))
        if path == "/escalation_policies":
            return httpx.Response(200, json=ref("pagerduty_list_escalation_policies.json"))
        if path.startswith("/escalation_policies/"):
            return httpx.Response(200, json=ref("pagerduty_get_escalation_policy.json"))
        if path == "/incidents" and method == "PUT":
            items = json.loads(request.content)["incidents"]
            assert len(items) <= 250
            return httpx.Response(200, json={"incidents": [self.answer(i) for i in items]})
        if path.endswith("/snooze"):
            answer = ref("pagerduty_snooze_response.json")
            answer["incident"].update(id=parts[1], status="acknowledged")
            return httpx.Response(201, json=answer)
        if path.endswith("/status_updates"):
            return httpx.Response(200, json=ref("pagerduty_status_update_response.json"))
        return httpx.Response(404, json={"error": {"message": "Not Found", "code": 2100}})

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        out = {**self.incident, "id": item["id"], "status": "triggered"}
        if "assignments" in item:
            out["assignments"] = [{"at": "2026-11-26T05:00:00Z", "assignee": {
                **a["assignee"], "summary": "Earline Greenholt"}} for a in item["assignments"]]
        return out


def make(fake: FakePD, *, read_only: bool = False, **opts: Any) -> PagerDutyProvider:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "token": TOKEN,
                                               "from_email": "oncall@example.com", **opts})
    client = build_client(options, provider="pd", transport=httpx.MockTransport(fake),
                          retry=RetryPolicy(attempts=1))
    provider = PagerDutyProvider("pd", options, ProviderEnv(context="prod", user="alice",
                                                            read_only=read_only), client=client)
    provider.clock = lambda: FROZEN
    return provider


@pytest.fixture
def recorded(fixtures_dir: Path) -> dict[str, Any]:
    item: dict[str, Any] = json.loads((fixtures_dir / "pagerduty_get_incident.json").read_text())["incident"]
    return item


def incidents(provider: PagerDutyProvider, recorded: dict[str, Any], n: int = 1,
              status: str = "acknowledged", urgency: str = "high") -> list[Incident]:
    return [provider.to_incident({**recorded, "id": f"PINC{i:03d}", "status": status,
                                  "urgency": urgency}) for i in range(n)]


def sent(fake: FakePD, method: str) -> list[httpx.Request]:
    return [r for r in fake.requests if r.method == method]


def test_capabilities_and_supported_actions(recorded: dict[str, Any]) -> None:
    provider = make(FakePD(recorded))
    assert isinstance(provider, IncidentActions)
    assert isinstance(provider, AssigneeDirectory) and isinstance(provider, EscalationPolicyReader)
    assert all(provider.supported_actions()[a] is None for a in ONCALL_ACTIONS)
    without = make(FakePD(recorded), from_email=None).supported_actions()
    assert all("from_email" in (without[a] or "") for a in ONCALL_ACTIONS)


async def test_reassign_to_a_user_sends_exactly_the_preview(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    targets = incidents(provider, recorded, 2)
    args = ActionArgs(assignee=EARLINE)
    preview = provider.preview("reassign", targets, args=args)
    assert (preview.method, preview.endpoint) == ("PUT", "https://api.pagerduty.com/incidents")
    assert preview.payload == {"headers": {"From": "oncall@example.com"}, "incidents": [
        {"id": i.id, "type": "incident_reference",
         "assignments": [{"assignee": {"id": "PXPGF42", "type": "user_reference"}}]}
        for i in targets]}
    result = await provider.perform("reassign", targets, args=args)
    assert result.ok, result.message
    assert result.message == "reassigned 2 incidents on pd to Earline Greenholt: PINC000, PINC001"
    (put,) = sent(fake, "PUT")
    assert put.headers["from"] == "oncall@example.com"
    assert json.loads(put.content) == {"incidents": preview.payload["incidents"]}
    assert [(u.id, u.status, u.assignees) for u in result.updated] == [
        (i.id, IncidentStatus.TRIGGERED, ("Earline Greenholt",)) for i in targets]


async def test_reassign_to_an_escalation_policy(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    target = incidents(provider, recorded)
    result = await provider.perform("reassign", target, args=ActionArgs(assignee=POLICY))
    assert result.ok, result.message
    assert json.loads(sent(fake, "PUT")[0].content)["incidents"] == [
        {"id": "PINC000", "type": "incident_reference",
         "escalation_policy": {"id": "PANZZEQ", "type": "escalation_policy_reference"}}]


async def test_escalate_to_a_level_and_its_rules(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    target = incidents(provider, recorded)
    preview = provider.preview("escalate", target, args=ActionArgs(level=2))
    assert preview.payload["incidents"] == [{"id": "PINC000", "type": "incident_reference",
                                             "escalation_level": 2}]
    result = await provider.perform("escalate", target, args=ActionArgs(level=2))
    assert result.ok and result.message.startswith("escalated 1 incident on pd to level 2")
    assert json.loads(sent(fake, "PUT")[0].content) == {"incidents": preview.payload["incidents"]}
    low = incidents(provider, recorded, urgency="low")
    refused = await provider.perform("escalate", low, args=ActionArgs(level=2))
    assert not refused.ok and "low-urgency" in refused.message and "PINC000" in refused.message
    assert not (await provider.perform("escalate", target, args=ActionArgs(level=0))).ok
    assert not (await provider.perform("escalate", target)).ok  # no args at all
    assert len(sent(fake, "PUT")) == 1  # nothing sent for the refused ones
    with pytest.raises(ProviderError, match="escalation level"):
        provider.preview("escalate", target)


async def test_escalation_levels_from_the_policy(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    (inc,) = incidents(provider, recorded)
    levels = await provider.escalation_levels(inc)
    assert levels == [EscalationLevel(1, ("Kyler Kuhn", "Daily Engineering Rotation"), 30)]
    assert fake.requests[-1].url.path == "/escalation_policies/PT20YPA"
    orphan = replace(inc, labels={})
    with pytest.raises(ProviderError, match="names no escalation policy"):
        await provider.escalation_levels(orphan)


async def test_snooze_posts_the_duration_and_maps_the_answer(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    targets = incidents(provider, recorded, 2)
    args = ActionArgs(duration_s=3600)
    preview = provider.preview("snooze", targets, args=args)
    assert preview.method == "POST"
    assert preview.endpoint == ("https://api.pagerduty.com/incidents/PINC000/snooze, "
                                "https://api.pagerduty.com/incidents/PINC001/snooze")
    assert preview.payload == {"headers": {"From": "oncall@example.com"}, "duration": 3600}
    result = await provider.perform("snooze", targets, args=args)
    assert result.ok and result.message.startswith("snoozed 2 incidents on pd for 1h")
    posts = sent(fake, "POST")
    assert [(p.url.path, json.loads(p.content)) for p in posts] == [
        ("/incidents/PINC000/snooze", {"duration": 3600}),
        ("/incidents/PINC001/snooze", {"duration": 3600})]
    assert all(p.headers["from"] == "oncall@example.com" for p in posts)
    assert [u.id for u in result.updated] == ["PINC000", "PINC001"]
    assert "unacknowledge at" in result.updated[0].details["pending_actions"]


@pytest.mark.parametrize(("status", "seconds", "needle"), [
    ("triggered", 3600, "only acknowledged incidents can be snoozed"),
    ("resolved", 3600, "already resolved"),
    ("acknowledged", 0, "positive duration"),
    ("acknowledged", 8 * 86400, "1 second to 7 days"),
])
async def test_snooze_refusals_send_nothing(recorded: dict[str, Any], status: str, seconds: int,
                                            needle: str) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    target = incidents(provider, recorded, status=status)
    result = await provider.perform("snooze", target, args=ActionArgs(duration_s=seconds))
    assert not result.ok and needle in result.message
    assert fake.requests == []


async def test_status_update_posts_the_message(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    targets = incidents(provider, recorded, 1, status="resolved")  # allowed after resolve too
    args = ActionArgs(message="Checkout is back; postmortem Thursday.")
    preview = provider.preview("status_update", targets, args=args)
    assert preview.endpoint == "https://api.pagerduty.com/incidents/PINC000/status_updates"
    assert preview.payload == {"headers": {"From": "oncall@example.com"},
                               "message": "Checkout is back; postmortem Thursday."}
    result = await provider.perform("status_update", targets, args=args)
    assert result.ok and result.updated == ()
    assert result.message == "status update sent on 1 incident on pd: PINC000"
    assert json.loads(sent(fake, "POST")[0].content) == {"message": args.message}
    blank = await provider.perform("status_update", targets, args=ActionArgs(message="  "))
    assert not blank.ok and "needs a message" in blank.message


async def test_partial_failure_says_how_many_were_done(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded, fail_ids={"PINC001"})
    provider = make(fake)
    targets = incidents(provider, recorded, 3)
    result = await provider.perform("status_update", targets, args=ActionArgs(message="update"))
    assert not result.ok
    assert "HTTP 404" in result.message and "(1 of 3 done)" in result.message
    assert len(sent(fake, "POST")) == 2  # stopped at the failure
    snoozed = await make(FakePD(recorded, fail_ids={"PINC002"})).perform(
        "snooze", targets, args=ActionArgs(duration_s=60))
    assert not snoozed.ok and "(2 of 3 done)" in snoozed.message
    assert [u.id for u in snoozed.updated] == ["PINC000", "PINC001"]


async def test_bulk_reassign_goes_in_calls_of_250(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    targets = incidents(provider, recorded, 260)
    preview = provider.preview("reassign", targets, args=ActionArgs(assignee=EARLINE))
    assert preview.endpoint.endswith("/incidents (2 calls of ≤250)")
    result = await provider.perform("reassign", targets, args=ActionArgs(assignee=EARLINE))
    assert result.ok and len(result.updated) == 260
    assert [len(json.loads(r.content)["incidents"]) for r in sent(fake, "PUT")] == [250, 10]


@pytest.mark.parametrize(("with_headers", "wait"), [(True, 20.0), (False, 30.0)])
@pytest.mark.parametrize("action", ONCALL_ACTIONS)
async def test_429_is_a_not_ok_result_with_retry_after(recorded: dict[str, Any], action: str,
                                                       with_headers: bool, wait: float) -> None:
    fake = FakePD(recorded, fail_429=1, ratelimit_headers=with_headers)
    provider = make(fake)
    args = ActionArgs(assignee=EARLINE, level=2, duration_s=600, message="update")
    result = await provider.perform(action, incidents(provider, recorded), args=args)
    assert not result.ok
    assert result.retry_after == wait
    assert "rate limited by PagerDuty (429) until 05:00:" in result.message


@pytest.mark.parametrize("action", ONCALL_ACTIONS)
async def test_read_only_context_sends_nothing(recorded: dict[str, Any], action: str) -> None:
    fake = FakePD(recorded)
    provider = make(fake, read_only=True)
    args = ActionArgs(assignee=EARLINE, level=2, duration_s=600, message="update")
    result = await provider.perform(action, incidents(provider, recorded), args=args)
    assert not result.ok and result.message == "pd: context prod is read-only"
    assert fake.requests == []


async def test_missing_from_email_is_refused_before_sending(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake, from_email=None)
    result = await provider.perform("snooze", incidents(provider, recorded),
                                    args=ActionArgs(duration_s=60))
    assert not result.ok and "set from_email" in result.message
    assert fake.requests == []


async def test_search_assignees_lists_users_then_policies(recorded: dict[str, Any]) -> None:
    fake = FakePD(recorded)
    provider = make(fake)
    found = await provider.search_assignees(" earl ")
    assert found == [
        Assignee("PXPGF42", AssigneeKind.USER, "Earline Greenholt",
                 detail="125.greenholt.earline@graham.name"),
        Assignee("PAM4FGS", AssigneeKind.USER, "Kyler Kuhn", detail="126_dvm_kyler_kuhn@beahan.name"),
        Assignee("PANZZEQ", AssigneeKind.ESCALATION_POLICY, "Engineering Escalation Policy",
                 levels=1),
    ]
    assert {r.url.path: dict(r.url.params) for r in fake.requests} == {
        "/users": {"query": "earl", "limit": "25"},
        "/escalation_policies": {"query": "earl", "limit": "25"}}
    assert found[0].label == "Earline Greenholt <125.greenholt.earline@graham.name>"
    assert found[2].label == "Engineering Escalation Policy (escalation policy, 1 level)"


async def test_search_assignees_rate_limited_raises(recorded: dict[str, Any]) -> None:
    provider = make(FakePD(recorded, fail_429=2))
    with pytest.raises(ProviderError) as err:
        await provider.search_assignees("x")
    assert err.value.status == 429 and err.value.retry_after == 20.0


def test_status_update_log_entry_becomes_a_timeline_event(recorded: dict[str, Any]) -> None:
    provider = make(FakePD(recorded))
    entry = {"id": "R1", "type": "status_update_log_entry", "summary": "Status update sent",
             "created_at": "2026-11-26T04:10:00Z", "agent": {"summary": "Dana Whitfield"},
             "incident": {"id": "PINC000"}, "message": "Mitigated\x1b[2J; watching error rates"}
    event = provider.log_entry_to_event(entry)
    assert event is not None and event.kind == "status_update"
    assert event.text.startswith("status update by Dana Whitfield: Mitigated")
    assert "\x1b" not in event.text and "watching error rates" in event.text


def test_action_args_problems() -> None:
    assert ActionArgs().problem("reassign") is not None
    assert ActionArgs(assignee=Assignee(" ", AssigneeKind.USER, "x")).problem("reassign") is not None
    assert ActionArgs(assignee=EARLINE).problem("reassign") is None
    assert ActionArgs(level=1).problem("escalate") is None
    assert ActionArgs(duration_s=float("nan")).problem("snooze") is not None
    assert ActionArgs(duration_s=float("inf")).problem("snooze") is not None
    assert ActionArgs(duration_s=1).problem("snooze") is None
    assert ActionArgs(message="x").problem("status_update") is None
    assert ActionArgs().problem("ack") is None  # other actions take no args
