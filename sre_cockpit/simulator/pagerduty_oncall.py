"""The simulated PagerDuty account's directory and on-call operations.

Follows the REST API v2 reference (PagerDuty/api-schema) and PagerDuty's documentation:

* ``GET /users?query=`` and ``GET /escalation_policies?query=`` filter by name (here: a
  case-insensitive substring of the name, or of a user's email), paged like every list;
  ``GET /escalation_policies/{id}`` gives a policy with its ``escalation_rules`` (levels).
* ``PUT /incidents`` items may carry ``assignments`` (reassign to users: ``assign_log_entry``),
  ``escalation_policy`` (delegate: ``delegate_log_entry``) or ``escalation_level``
  (``escalate_log_entry``). Each puts the incident back to triggered for its new assignees
  and cancels a snooze. Low-urgency incidents cannot be escalated to a level.
* ``POST /incidents/{id}/snooze`` ``{"duration": 1…604800}`` answers 201 with the incident;
  only acknowledged incidents can be snoozed. The snooze shows as a pending ``unacknowledge``
  action; when it ends on the simulator clock the incident is triggered again
  (``unacknowledge_log_entry``). Another acknowledgement or a resolve cancels it.
* ``POST /incidents/{id}/status_updates`` ``{"message", "subject"?, "html_message"?}`` answers
  200 with the ``status_update``; it is listed on the incident's log entries as a
  ``status_update_log_entry`` carrying the text in ``message`` (as PagerDuty's own
  integrations read it).

The 400 texts for the rules PagerDuty documents without a recorded error body are this
simulator's wording, in PagerDuty's envelope (``Invalid Input Provided``, code 2001).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sre_cockpit.simulator.clock import SimClock
from sre_cockpit.simulator.pagerduty_types import (
    API,
    Incident,
    LogEntry,
    PagerDutyError,
    Ref,
    User,
    invalid,
    iso,
    pd_id,
)


class Account(Protocol):
    """What the operations use of the account's state (:class:`.pagerduty.PagerDutyState`)."""

    @property
    def seed(self) -> int: ...

    @property
    def clock(self) -> SimClock: ...

    @property
    def users(self) -> dict[str, User]: ...

    @property
    def incidents(self) -> dict[str, Incident]: ...

    @property
    def services(self) -> dict[str, Ref]: ...

    @property
    def oncall(self) -> User: ...

    @property
    def secondary(self) -> User: ...

    @property
    def policy(self) -> Ref: ...

    @property
    def schedule(self) -> Ref: ...

    @property
    def team(self) -> Ref: ...


SNOOZE_MAX = 604_800
EXTRA_USERS = (("Priya Natarajan", "priya.natarajan@example.com"),
               ("Tomás Ortega", "tomas.ortega@example.com"),
               ("Li Wei", "li.wei@example.com"),
               ("Amara Okafor", "amara.okafor@example.com"))


@dataclass
class Policy:
    """An escalation policy: levels of targets (users or schedules)."""

    ref: Ref
    description: str
    rules: list[tuple[int, list[User | Ref]]]  # (escalation delay in minutes, targets)
    num_loops: int = 0

    def json(self, team: Ref, services: list[Ref]) -> dict[str, Any]:
        """The ``escalation_policy`` object of the reference."""
        rules = [{"id": pd_id(0, 30, *self.ref.id.encode(), n),
                  "escalation_delay_in_minutes": delay, "targets": [t.ref() for t in targets]}
                 for n, (delay, targets) in enumerate(self.rules)]
        return {**self.ref.ref(), "type": "escalation_policy", "name": self.ref.name,
                "on_call_handoff_notifications": "if_has_services", "escalation_rules": rules,
                "services": [s.ref() for s in services], "num_loops": self.num_loops,
                "teams": [team.ref()], "description": self.description}


@dataclass
class StatusUpdate:
    id: str
    user: User
    message: str
    at: float
    subject: str | None = None
    html_message: str | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "message": self.message, "sender": self.user.ref(),
                               "created_at": iso(self.at)}
        if self.html_message is not None:
            out["html_message"] = self.html_message
        if self.subject is not None:
            out["subject"] = self.subject
        return out


def user_json(user: User, team: Ref) -> dict[str, Any]:
    """A ``users[]`` element in the reference's shape."""
    return {**user.ref(), "type": "user", "name": user.name, "email": user.email,
            "time_zone": "Etc/UTC", "color": "green", "role": "user",
            "avatar_url": "https://pd-static-assets.pagerduty.com/users/blank-avatar.png",
            "description": "", "invitation_sent": False, "created_via_sso": False,
            "contact_methods": [{"id": pd_id(0, 31, *user.id.encode()),
                                 "type": "email_contact_method_reference", "summary": "Default",
                                 "self": f"{API}/users/{user.id}/contact_methods/"
                                         f"{pd_id(0, 31, *user.id.encode())}"}],
            "notification_rules": [{"id": pd_id(0, 32, *user.id.encode()),
                                    "type": "assignment_notification_rule_reference",
                                    "summary": "Default",
                                    "self": f"{API}/users/{user.id}/notification_rules/"
                                            f"{pd_id(0, 32, *user.id.encode())}",
                                    "html_url": None}],
            "job_title": "Site Reliability Engineer", "teams": [team.ref()]}


def _page(rows: list[dict[str, Any]], key: str, offset: int, limit: int,
          total: bool) -> dict[str, Any]:
    return {key: rows[offset:offset + limit], "limit": limit, "offset": offset,
            "more": offset + limit < len(rows), "total": len(rows) if total else None}


@dataclass
class OnCall:
    """Directory and on-call operations of one :class:`PagerDutyState`."""

    pd: Account
    policies: dict[str, Policy] = field(default_factory=dict)
    snoozed: dict[str, float] = field(default_factory=dict)  # incident id -> snooze end
    updates: dict[str, list[StatusUpdate]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pd, seed = self.pd, self.pd.seed
        for n, (name, email) in enumerate(EXTRA_USERS):
            user = User(pd_id(seed, 1, 10 + n), name, email)
            pd.users[email] = user
        priya, tomas = pd.users["priya.natarajan@example.com"], pd.users["tomas.ortega@example.com"]
        self.add(Policy(pd.policy, "Shop on-call, then the secondary",
                        [(30, [pd.schedule]), (30, [pd.secondary])]))
        self.add(Policy(Ref(pd_id(seed, 3, 2), "escalation_policy", "Payments Escalation"),
                        "Payments team, then the shop's secondary",
                        [(15, [priya]), (15, [tomas]), (30, [pd.secondary])], num_loops=1))

    def add(self, policy: Policy) -> None:
        self.policies[policy.ref.id] = policy

    # ------------------------------------------------------------------ directory
    def list_users(self, query: str, offset: int, limit: int, total: bool) -> dict[str, Any]:
        q = query.strip().lower()
        users = sorted(self.pd.users.values(), key=lambda u: u.name.lower())
        rows = [user_json(u, self.pd.team) for u in users
                if not q or q in u.name.lower() or q in u.email.lower()]
        return _page(rows, "users", offset, limit, total)

    def policy_json(self, policy: Policy) -> dict[str, Any]:
        services = (list(self.pd.services.values()) if policy.ref.id == self.pd.policy.id
                    else [self.pd.services["payments"]])
        return policy.json(self.pd.team, services)

    def list_policies(self, query: str, offset: int, limit: int, total: bool) -> dict[str, Any]:
        q = query.strip().lower()
        rows = [self.policy_json(p) for p in sorted(self.policies.values(), key=lambda p: p.ref.name)
                if not q or q in p.ref.name.lower()]
        return _page(rows, "escalation_policies", offset, limit, total)

    def get_policy(self, pid: str) -> dict[str, Any]:
        policy = self.policies.get(pid)
        if policy is None:
            raise PagerDutyError(404, "Not Found", 2100)
        return {"escalation_policy": self.policy_json(policy)}

    def level_users(self, policy: Policy, level: int) -> list[User]:
        """Who a level notifies: its users, and the on-call user of its schedules."""
        users: list[User] = []
        for target in policy.rules[level - 1][1]:
            user = self.pd.oncall if isinstance(target, Ref) else target
            if user not in users:
                users.append(user)
        return users

    # ------------------------------------------------------------------ PUT /incidents items
    def check_item(self, inc: Incident, item: dict[str, Any]) -> None:
        """Validate an item's assignments / escalation_policy / escalation_level (400/404)."""
        keys = [k for k in ("assignments", "escalation_policy", "escalation_level") if k in item]
        if not keys:
            return
        if inc.status == "resolved":
            raise PagerDutyError(400, "Incident Already Resolved", 1001,
                                 [f"Incident {inc.id} is already resolved."])
        if "assignments" in item:
            self._assignees(item["assignments"])
        policy = self._policy_of(inc, item)
        if "escalation_level" in item:
            level = item["escalation_level"]
            if isinstance(level, bool) or not isinstance(level, int):
                raise invalid("Escalation level must be an integer.")
            if not 1 <= level <= len(policy.rules):
                raise invalid(f"Escalation level must be between 1 and {len(policy.rules)}.")
            if inc.urgency == "low":
                raise invalid("Low-urgency incidents cannot be escalated to a level.")

    def _assignees(self, raw: Any) -> list[User]:
        if not isinstance(raw, list) or not raw:
            raise invalid("Assignments must be a non-empty array.")
        by_id = {u.id: u for u in self.pd.users.values()}
        users = []
        for entry in raw:
            ref = entry.get("assignee") if isinstance(entry, dict) else None
            if not isinstance(ref, dict) or ref.get("type") != "user_reference":
                raise invalid("Assignee must be a user_reference.")
            user = by_id.get(str(ref.get("id")))
            if user is None:
                raise invalid(f"Assignee {ref.get('id')} is not a user of this account.")
            users.append(user)
        return users

    def _policy_of(self, inc: Incident, item: dict[str, Any]) -> Policy:
        ref = item.get("escalation_policy")
        if ref is None:
            return self.policies[inc.policy_id]
        if not isinstance(ref, dict) or ref.get("type") != "escalation_policy_reference":
            raise invalid("Escalation policy must be an escalation_policy_reference.")
        policy = self.policies.get(str(ref.get("id")))
        if policy is None:
            raise invalid(f"Escalation policy {ref.get('id')} does not exist.")
        return policy

    def apply_item(self, inc: Incident, item: dict[str, Any], user: User, now: float) -> None:
        """Reassign, delegate or escalate (after :meth:`check_item`)."""
        if not any(k in item for k in ("assignments", "escalation_policy", "escalation_level")):
            return
        policy = self._policy_of(inc, item)
        if "escalation_policy" in item:
            inc.policy_id, inc.level = policy.ref.id, 1
            self._retrigger(inc, self.level_users(policy, 1), now)
            self._log(inc, "delegate_log_entry", f"Reassigned to {policy.ref.name} by {user.name}",
                      now, user, assignees=inc.assignees)
        if "escalation_level" in item:
            inc.level = int(item["escalation_level"])
            self._retrigger(inc, self.level_users(policy, inc.level), now)
            self._log(inc, "escalate_log_entry",
                      f"Escalated to level {inc.level} by {user.name}", now, user,
                      assignees=inc.assignees)
        if "assignments" in item:
            self._retrigger(inc, self._assignees(item["assignments"]), now)
            self._log(inc, "assign_log_entry",
                      f"Assigned to {', '.join(u.name for u in inc.assignees)} by {user.name}",
                      now, user, assignees=inc.assignees)
        inc.last_change_by = user.ref()

    def _retrigger(self, inc: Incident, users: list[User], now: float) -> None:
        inc.assignees, inc.assigned_at = list(users), now
        inc.status, inc.updated_at = "triggered", now
        inc.acknowledgements.clear()
        self.cancel_snooze(inc)

    def _log(self, inc: Incident, kind: str, summary: str, at: float, user: User, *,
             assignees: list[User] | None = None, message: str | None = None) -> None:
        inc.log.append(LogEntry(pd_id(self.pd.seed, 12, inc.number, len(inc.log)), kind, summary,
                                at, user.ref(), "", assignees=list(assignees or []),
                                message=message))

    # ------------------------------------------------------------------ snooze
    def snooze(self, inc: Incident, body: Any, user: User) -> None:
        duration = body.get("duration") if isinstance(body, dict) else None
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise invalid("Duration must be an integer number of seconds.")
        if not 1 <= duration <= SNOOZE_MAX:
            raise invalid(f"Duration must be between 1 and {SNOOZE_MAX} seconds.")
        if inc.status != "acknowledged":
            raise invalid("Only acknowledged incidents can be snoozed.")
        now = self.pd.clock.now()
        self.snoozed[inc.id] = inc.snoozed_until = now + duration
        inc.updated_at = now
        self._log(inc, "snooze_log_entry", f"Snoozed for {duration}s by {user.name}", now, user)

    def cancel_snooze(self, inc: Incident) -> None:
        inc.snoozed_until = None
        self.snoozed.pop(inc.id, None)

    def next_wake(self) -> float | None:
        """When the earliest snooze ends (None without one)."""
        return min(self.snoozed.values(), default=None)

    def wake(self, at: float) -> None:
        """End every snooze due by ``at``: back to triggered for the same assignees."""
        for iid, until in sorted(self.snoozed.items(), key=lambda kv: kv[1]):
            if until > at:
                continue
            inc = self.pd.incidents[iid]
            self.cancel_snooze(inc)
            inc.status, inc.updated_at = "triggered", until
            inc.acknowledgements.clear()
            inc.log.append(LogEntry(pd_id(self.pd.seed, 12, inc.number, len(inc.log)),
                                    "unacknowledge_log_entry", "Unacknowledged due to snooze timeout",
                                    until, inc.service.ref(), ""))

    # ------------------------------------------------------------------ status updates
    def status_update(self, inc: Incident, body: Any, user: User) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("Message can't be blank.")
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            raise invalid("Message can't be blank.")
        for key in ("subject", "html_message"):
            if key in body and not isinstance(body[key], str):
                raise invalid(f"{key.capitalize()} must be a string.")
        if ("subject" in body) != ("html_message" in body):
            raise invalid("Subject and html_message must be given together.")
        now = self.pd.clock.now()
        updates = self.updates.setdefault(inc.id, [])
        update = StatusUpdate(pd_id(self.pd.seed, 14, inc.number, len(updates)), user, message, now,
                              body.get("subject"), body.get("html_message"))
        updates.append(update)
        inc.updated_at = now
        self._log(inc, "status_update_log_entry", f"Status update sent by {user.name}", now, user,
                  message=message)
        return {"status_update": update.json()}

