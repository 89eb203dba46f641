"""The incident feed's on-call actions, headless: plan, exact previews with ActionArgs,
optimistic rows reconciled by the next poll, a 429 shown on the source line, read-only, and
the directory and escalation levels (sanitised, errors as one line)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from incidents_helpers import FROZEN, MemoryIncidents, OnCallMemory, incident, runtime_with

from sre_cockpit.core.actions import ActionArgs, Assignee, AssigneeKind
from sre_cockpit.core.models import IncidentStatus
from sre_cockpit.feeds.incidents import ActionError, IncidentFeed


async def feed_with(*providers: MemoryIncidents, read_only: bool = False) -> IncidentFeed:
    feed = IncidentFeed(runtime_with(list(providers), read_only=read_only))
    await feed.refresh()
    return feed


async def test_reassign_previews_exactly_and_reconciles() -> None:
    pd = OnCallMemory("pd", [incident(1), incident(2, status=IncidentStatus.RESOLVED)])
    feed = await feed_with(pd)
    targets = [i for i in feed.snapshot.incidents]
    plan = feed.plan("reassign", targets)
    assert [s.reason for s in plan.skipped] == []  # resolved ones are not listed by the source
    dana = OnCallMemory.DIRECTORY[0]
    args = {"pd": ActionArgs(assignee=dana)}
    (preview,) = feed.previews(plan, args=args)
    assert preview.payload["assignee"] == "PUSER1" and preview.endpoint == "memory://pd/reassign"
    results = await feed.perform(plan, args=args)
    assert results[0].ok and pd.args == [ActionArgs(assignee=dana)]
    # optimistic at once, then the poll says the same
    assert feed.snapshot.incidents[0].assignees == ("Dana Whitfield",)
    await feed.refresh()
    assert feed.snapshot.incidents[0].assignees == ("Dana Whitfield",) and not feed._overrides


async def test_missing_args_and_resolved_targets_are_refused_with_reasons() -> None:
    pd = OnCallMemory("pd", [incident(1)])
    feed = await feed_with(pd)
    plan = feed.plan("escalate", feed.snapshot.incidents)
    with pytest.raises(ActionError, match="nothing chosen for pd"):
        feed.previews(plan)
    resolved = replace(feed.snapshot.incidents[0], status=IncidentStatus.RESOLVED)
    skipped = feed.plan("snooze", [resolved]).skipped
    assert [s.reason for s in skipped] == ["already resolved"]
    assert feed.plan("status_update", [resolved]).skipped == ()  # stakeholders still hear


async def test_read_only_context_skips_every_on_call_action() -> None:
    pd = OnCallMemory("pd", [incident(1)])
    feed = await feed_with(pd, read_only=True)
    for action in ("reassign", "escalate", "snooze", "status_update"):
        plan = feed.plan(action, feed.snapshot.incidents)
        assert plan.groups == () and "read-only" in plan.skipped[0].reason
        assert "read-only" in (feed.snapshot.disabled_reason(action, feed.snapshot.incidents)
                               or "")


async def test_a_429_is_a_result_and_marks_the_source_rate_limited() -> None:
    pd = OnCallMemory("pd", [incident(1, status=IncidentStatus.ACKNOWLEDGED)])
    feed = await feed_with(pd)
    plan = feed.plan("snooze", feed.snapshot.incidents)
    pd.rate_limit = 42.0
    (result,) = await feed.perform(plan, args={"pd": ActionArgs(duration_s=3600)})
    assert not result.ok and result.retry_after == 42.0 and "429" in result.message
    health = feed.snapshot.source("pd")
    assert health is not None and health.rate_limited_until is not None
    assert (health.rate_limited_until - FROZEN).total_seconds() == 42.0
    assert pd.performed == []


async def test_directory_search_through_the_feed() -> None:
    pd = OnCallMemory("pd", [incident(1)])
    pd.DIRECTORY = (*OnCallMemory.DIRECTORY,  # type: ignore[misc]
                    Assignee("PEVIL", AssigneeKind.USER, "Eve \x1b]52;c;aGk=\x07", "e\u202ev"))
    feed = await feed_with(pd)
    assert feed.can_search_assignees("pd")
    found = await feed.search_assignees("pd", "")
    assert [a.id for a in found] == ["PUSER1", "PUSER2", "PPOL1", "PEVIL"]
    assert "\x1b" not in found[-1].name and "␛]52" in found[-1].name
    assert "\u202e" not in (found[-1].detail or "")
    assert [a.name for a in await feed.search_assignees("pd", "ravi")] == ["Ravi Menon"]
    pd.rate_limit = 30.0
    with pytest.raises(ActionError, match="429"):
        await feed.search_assignees("pd", "d")
    assert feed.snapshot.source("pd").rate_limited_until is not None  # type: ignore[union-attr]
    plain = MemoryIncidents("mem", [incident(2)])
    feed = await feed_with(plain)
    assert not feed.can_search_assignees("mem")
    with pytest.raises(ActionError, match="type an id"):
        await feed.search_assignees("mem", "x")


async def test_escalation_levels_through_the_feed() -> None:
    pd = OnCallMemory("pd", [incident(1)])
    feed = await feed_with(pd)
    levels = await feed.escalation_levels(feed.snapshot.incidents[0])
    assert [(lv.level, lv.targets) for lv in levels] == [(1, ("Dana Whitfield",)),
                                                          (2, ("Ravi Menon",))]
    plain = MemoryIncidents("mem", [incident(2)])
    feed = await feed_with(plain)
    with pytest.raises(ActionError, match="cannot list escalation levels"):
        await feed.escalation_levels(feed.snapshot.incidents[0])


async def test_providers_without_on_call_actions_are_called_as_before() -> None:
    """A provider written before ``args`` existed (no such keyword) still acks and resolves."""
    old = MemoryIncidents("mem", [incident(1)])
    feed = await feed_with(old)
    plan = feed.plan("ack", feed.snapshot.incidents)
    assert feed.previews(plan)[0].method == "PUT"
    (result,) = await feed.perform(plan)
    assert result.ok and old.performed == [("ack", ("INC001",))]
    assert "mem does not support reassign" in (
        feed.snapshot.disabled_reason("reassign", feed.snapshot.incidents) or "")
    assert feed.snapshot.user == "tester"
