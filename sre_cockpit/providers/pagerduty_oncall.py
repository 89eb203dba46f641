"""PagerDuty's on-call actions, following the REST API v2 reference (PagerDuty/api-schema):

* reassign to a user: ``PUT /incidents`` with ``assignments: [{assignee: user_reference}]``;
  to an escalation policy: ``escalation_policy: escalation_policy_reference``;
* escalate: ``PUT /incidents`` with ``escalation_level: N``;
* snooze: ``POST /incidents/{id}/snooze`` ``{"duration": seconds}`` (1 s … 7 days; answers 201
  with the incident);
* status update: ``POST /incidents/{id}/status_updates`` ``{"message": …}`` (answers 200 with
  the ``status_update``).

All need the ``From`` header (a PagerDuty user's email). Bulk updates go in calls of at most 250
incidents (the reference's limit); acknowledge and resolve use the same path. The assignee
directory is ``GET /users?query=`` and ``GET /escalation_policies?query=``; escalation levels
are the ``escalation_rules`` of ``GET /escalation_policies/{id}``.

Rules PagerDuty's documentation states and this module checks before sending anything: only
acknowledged incidents can be snoozed; low-urgency incidents cannot be escalated to a level;
resolved incidents take none of these actions except a status update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol
from urllib.parse import quote

from sre_cockpit.core.durations import format_duration
from sre_cockpit.core.models import Incident, IncidentStatus
from sre_cockpit.providers.base import (
    ONCALL_ACTIONS,
    ActionArgs,
    ActionPreview,
    ActionResult,
    Assignee,
    AssigneeKind,
    EscalationLevel,
    ProviderError,
    args_problem,
)
from sre_cockpit.providers.http import HttpClient

BULK_LIMIT = 250
PUT_ACTIONS = ("ack", "resolve", "reassign", "escalate")
"""Actions sent as ``PUT /incidents`` (the rest are one POST per incident)."""
SNOOZE_MIN_S = 1
SNOOZE_MAX_S = 604_800
"""``duration`` bounds of ``POST /incidents/{id}/snooze`` (1 second … 7 days)."""
DIRECTORY_LIMIT = 25
"""Users and escalation policies listed per search (one page each)."""
POLICY_LABEL = "escalation_policy_id"
"""The ``Incident.labels`` key holding the incident's escalation policy id."""

class _FromEmail(Protocol):
    @property
    def from_email(self) -> str | None: ...


class PagerDutyProvider(Protocol):
    """What these functions use of :class:`~sre_cockpit.providers.pagerduty.PagerDutyProvider`
    (a protocol, so this module does not import the provider that imports it)."""

    @property
    def name(self) -> str: ...

    @property
    def options(self) -> _FromEmail: ...

    @property
    def client(self) -> HttpClient: ...

    async def _call(self, method: str, path: str, *, params: Any = None, json: Any = None,
                    headers: Mapping[str, str] | None = None) -> Any: ...

    def _from_headers(self) -> dict[str, str]: ...

    def to_incident(self, item: Mapping[str, Any]) -> Incident: ...


VERBS: Mapping[str, str] = {"ack": "acknowledged", "resolve": "resolved", "reassign": "reassigned",
                            "escalate": "escalated", "snooze": "snoozed",
                            "status_update": "status update sent on"}


def need_from_reason(pd: PagerDutyProvider) -> str | None:
    """Why the provider cannot act (no ``from_email``), or None."""
    if pd.options.from_email:
        return None
    return "set from_email (a PagerDuty user's email) in this provider to act on incidents"


def _ids(incidents: Sequence[Incident]) -> str:
    return ", ".join(i.id for i in incidents[:5]) + ("…" if len(incidents) > 5 else "")


def _plural(n: int) -> str:
    return f"{n} incident{'s' if n != 1 else ''}"


def snooze_seconds(args: ActionArgs) -> int:
    """The whole seconds a snooze sends (PagerDuty's ``duration`` is an integer)."""
    return round(args.duration_s or 0)


def problem(action: str, incidents: Sequence[Incident], args: ActionArgs | None) -> str | None:
    """Why ``action`` cannot be sent for ``incidents`` with ``args`` (one line), or None."""
    found = args_problem(action, args)
    if found or action not in ONCALL_ACTIONS or args is None:
        return found
    if not incidents:
        return "no incident selected"
    if action != "status_update":
        done = [i for i in incidents if i.status is IncidentStatus.RESOLVED]
        if done:
            return f"already resolved: {_ids(done)}"
    if action == "snooze":
        seconds = snooze_seconds(args)
        if not SNOOZE_MIN_S <= seconds <= SNOOZE_MAX_S:
            return "PagerDuty snoozes for 1 second to 7 days"
        waiting = [i for i in incidents if i.status is not IncidentStatus.ACKNOWLEDGED]
        if waiting:
            return f"only acknowledged incidents can be snoozed (acknowledge first): {_ids(waiting)}"
    if action == "escalate":
        low = [i for i in incidents if i.labels.get("urgency") == "low"]
        if low:
            return ("PagerDuty does not escalate low-urgency incidents to a level "
                    f"(reassign instead): {_ids(low)}")
    return None


def bulk_item(action: str, inc: Incident, args: ActionArgs | None) -> dict[str, Any]:
    """One element of a ``PUT /incidents`` body for ack, resolve, reassign or escalate."""
    item: dict[str, Any] = {"id": inc.id, "type": "incident_reference"}
    if action in ("ack", "resolve"):
        item["status"] = "acknowledged" if action == "ack" else "resolved"
    elif action == "reassign" and args is not None and args.assignee is not None:
        if args.assignee.kind is AssigneeKind.USER:
            item["assignments"] = [{"assignee": {"id": args.assignee.id, "type": "user_reference"}}]
        else:
            item["escalation_policy"] = {"id": args.assignee.id,
                                         "type": "escalation_policy_reference"}
    elif action == "escalate" and args is not None:
        item["escalation_level"] = args.level
    return item


def _per_incident(action: str, inc: Incident, args: ActionArgs) -> tuple[str, dict[str, Any]]:
    """Path and body of a snooze or status update of one incident."""
    if action == "snooze":
        return f"/incidents/{quote(inc.id, safe='')}/snooze", {"duration": snooze_seconds(args)}
    return (f"/incidents/{quote(inc.id, safe='')}/status_updates",
            {"message": args.message or ""})


def preview(pd: PagerDutyProvider, action: str, incidents: Sequence[Incident],
            args: ActionArgs | None) -> ActionPreview:
    """Exactly what :func:`perform` (or :func:`bulk_put` for ack and resolve) sends.

    Raises:
        ProviderError: the action cannot be sent (missing arguments, rules above).
    """
    found = problem(action, incidents, args)
    if found:
        raise ProviderError(f"{pd.name}: {found}", retryable=False)
    headers = {"From": pd.options.from_email}
    if action in PUT_ACTIONS:
        calls = (len(incidents) + BULK_LIMIT - 1) // BULK_LIMIT
        endpoint = pd.client.endpoint("/incidents")
        if calls > 1:
            endpoint += f" ({calls} calls of ≤{BULK_LIMIT})"
        return ActionPreview(pd.name, action, "PUT", endpoint, {
            "headers": headers, "incidents": [bulk_item(action, i, args) for i in incidents]})
    calls_ = [_per_incident(action, i, args or ActionArgs()) for i in incidents]
    endpoints = ", ".join(pd.client.endpoint(path) for path, _ in calls_)
    return ActionPreview(pd.name, action, "POST", endpoints, {"headers": headers, **calls_[0][1]})


def _failed(exc: ProviderError, done: int, total: int,
            updated: Sequence[Incident] = ()) -> ActionResult:
    progress = f" ({done} of {total} done)" if done else ""
    return ActionResult(False, f"{exc}{progress}", tuple(updated), retry_after=exc.retry_after)


async def bulk_put(pd: PagerDutyProvider, action: str, incidents: Sequence[Incident],
                   args: ActionArgs | None, fallback: Callable[[Incident], Incident],
                   what: str = "") -> ActionResult:
    """``PUT /incidents`` in calls of at most 250; every failure is a not-ok result saying how
    many incidents were done. ``updated`` holds PagerDuty's answer for each incident, or
    ``fallback(incident)`` when the answer leaves one out."""
    updated: list[Incident] = []
    for start in range(0, len(incidents), BULK_LIMIT):
        chunk = incidents[start:start + BULK_LIMIT]
        body = {"incidents": [bulk_item(action, i, args) for i in chunk]}
        try:
            answer = await pd._call("PUT", "/incidents", json=body, headers=pd._from_headers())
        except ProviderError as exc:
            return _failed(exc, len(updated), len(incidents), updated)
        returned = {str(i.get("id")): i for i in (answer or {}).get("incidents") or []
                    if isinstance(i, dict)}
        updated += [pd.to_incident(returned[i.id]) if i.id in returned else fallback(i)
                    for i in chunk]
    return ActionResult(True, f"{VERBS[action]} {_plural(len(incidents))} on {pd.name}{what}: "
                              f"{_ids(incidents)}", tuple(updated))


async def _one_by_one(pd: PagerDutyProvider, action: str, incidents: Sequence[Incident],
                      args: ActionArgs, what: str) -> ActionResult:
    updated: list[Incident] = []
    for done, inc in enumerate(incidents):
        path, body = _per_incident(action, inc, args)
        try:
            answer = await pd._call("POST", path, json=body, headers=pd._from_headers())
        except ProviderError as exc:
            return _failed(exc, done, len(incidents), updated)
        item = (answer or {}).get("incident") if isinstance(answer, dict) else None
        if action == "snooze":
            updated.append(pd.to_incident(item) if isinstance(item, dict) and item.get("id")
                           else inc)
    return ActionResult(True, f"{VERBS[action]} {_plural(len(incidents))} on {pd.name}{what}: "
                              f"{_ids(incidents)}", tuple(updated))


async def perform(pd: PagerDutyProvider, action: str, incidents: Sequence[Incident],
                  args: ActionArgs | None) -> ActionResult:
    """Reassign, escalate, snooze or send a status update; every failure (including a 429,
    with ``retry_after``) comes back as a not-ok result for the toast."""
    found = problem(action, incidents, args)
    if found or args is None:
        return ActionResult(False, f"{pd.name}: {found}")
    if action == "reassign" and args.assignee is not None:
        target = args.assignee
        to_user = target.kind is AssigneeKind.USER
        return await bulk_put(pd, action, incidents, args, lambda i: replace(
            i, status=IncidentStatus.TRIGGERED, assignees=(target.name,) if to_user else ()),
            f" to {target.name}")
    if action == "escalate":
        return await bulk_put(pd, action, incidents, args,
                              lambda i: replace(i, status=IncidentStatus.TRIGGERED),
                              f" to level {args.level}")
    what = f" for {format_duration(snooze_seconds(args))}" if action == "snooze" else ""
    return await _one_by_one(pd, action, incidents, args, what)


# ---------------------------------------------------------------------------------------------
# Directory and escalation levels
# ---------------------------------------------------------------------------------------------

def user_to_assignee(user: Mapping[str, Any]) -> Assignee | None:
    """One ``users[]`` element as an Assignee (None without an id)."""
    if not user.get("id"):
        return None
    name = str(user.get("name") or user.get("summary") or user["id"])
    return Assignee(str(user["id"]), AssigneeKind.USER, name,
                    detail=str(user["email"]) if user.get("email") else None)


def policy_to_assignee(policy: Mapping[str, Any]) -> Assignee | None:
    """One ``escalation_policies[]`` element as an Assignee (None without an id)."""
    if not policy.get("id"):
        return None
    name = str(policy.get("name") or policy.get("summary") or policy["id"])
    rules = policy.get("escalation_rules")
    return Assignee(str(policy["id"]), AssigneeKind.ESCALATION_POLICY, name,
                    detail=str(policy["description"]) if policy.get("description") else None,
                    levels=len(rules) if isinstance(rules, list) else None)


async def search_assignees(pd: PagerDutyProvider, query: str) -> list[Assignee]:
    """Users, then escalation policies, whose name matches ``query`` (PagerDuty's ``query``
    filter; "" lists the first page of each), at most 25 of each.

    Raises:
        ProviderError: either list failed (``RateLimitedError`` on a 429).
    """
    params = [("query", query.strip()), ("limit", str(DIRECTORY_LIMIT))]
    users, policies = await asyncio.gather(pd._call("GET", "/users", params=params),
                                           pd._call("GET", "/escalation_policies", params=params))
    found: list[Assignee] = []
    for key, answer, convert in (("users", users, user_to_assignee),
                                 ("escalation_policies", policies, policy_to_assignee)):
        items = (answer or {}).get(key) if isinstance(answer, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and (one := convert(item)) is not None:
                found.append(one)
    return found


def rules_to_levels(policy: Mapping[str, Any]) -> list[EscalationLevel]:
    """The ``escalation_rules`` of an escalation policy object as levels 1…N."""
    levels = []
    for n, rule in enumerate(r for r in policy.get("escalation_rules") or [] if isinstance(r, dict)):
        targets = tuple(str(t.get("summary") or t.get("id")) for t in rule.get("targets") or []
                        if isinstance(t, dict) and (t.get("summary") or t.get("id")))
        delay = rule.get("escalation_delay_in_minutes")
        levels.append(EscalationLevel(n + 1, targets,
                                      int(delay) if isinstance(delay, int | float) else None))
    return levels


async def escalation_levels(pd: PagerDutyProvider, incident: Incident) -> list[EscalationLevel]:
    """The levels of ``incident``'s escalation policy.

    Raises:
        ProviderError: the incident names no policy, or PagerDuty did not answer with one.
    """
    policy_id = incident.labels.get(POLICY_LABEL)
    if not policy_id:
        raise ProviderError(f"{pd.name}: incident {incident.id} names no escalation policy",
                            retryable=False)
    path = f"/escalation_policies/{quote(policy_id, safe='')}"
    answer = await pd._call("GET", path)
    policy = answer.get("escalation_policy") if isinstance(answer, dict) else None
    if not isinstance(policy, dict):
        raise ProviderError(f"{pd.name}: {pd.client.endpoint(path)} answered without an "
                            "escalation policy", retryable=False)
    return rules_to_levels(policy)
