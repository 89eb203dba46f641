"""PagerDuty REST API v2 state: incidents from the story, log entries, notes and on-calls
(reassign, escalate, snooze, status updates and the directory: :mod:`.pagerduty_oncall`).

Story actions (trigger, acknowledge by the on-call user, notes, resolve) are scheduled and
applied lazily, in order, whenever the state is read: a request at time ``t`` sees exactly the
actions due by ``t`` plus whatever clients wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sre_cockpit.simulator.clock import SimClock
from sre_cockpit.simulator.pagerduty_oncall import OnCall
from sre_cockpit.simulator.pagerduty_types import (
    API,
    STATUSES,
    WEB,
    Incident,
    LogEntry,
    Note,
    PagerDutyError,
    Ref,
    User,
    invalid,
    iso,
    pd_id,
)
from sre_cockpit.simulator.story import Story, hash_keys


@dataclass
class _Action:
    at: float
    incident: str
    kind: str  # ack | note | resolve
    user: User
    text: str = ""


class PagerDutyState:
    """Incidents, log entries, notes and on-calls of the simulated PagerDuty account."""

    def __init__(self, story: Story, clock: SimClock, *, extra_incidents: int = 0) -> None:
        self.story = story
        self.clock = clock
        seed = story.seed
        self.seed = seed
        self._n = 0
        self.oncall = User(pd_id(seed, 1, 1), "Dana Whitfield", "dana.whitfield@example.com")
        self.secondary = User(pd_id(seed, 1, 2), "Ravi Menon", "ravi.menon@example.com")
        self.users = {u.email: u for u in (self.oncall, self.secondary)}
        self.services = {name: Ref(pd_id(seed, 2, i), "service", name)
                         for i, name in enumerate(("checkout", "payments", "search", "gateway"))}
        self.policy = Ref(pd_id(seed, 3, 1), "escalation_policy", "Shop Primary")
        self.team = Ref(pd_id(seed, 4, 1), "team", "Shop")
        self.schedule = Ref(pd_id(seed, 5, 1), "schedule", "Shop On-Call")
        self.priority_p1 = Ref(pd_id(seed, 6, 1), "priority", "P1")
        self.priority_p3 = Ref(pd_id(seed, 6, 3), "priority", "P3")
        self.ops = OnCall(self)
        self.incidents: dict[str, Incident] = {}
        self.order: list[str] = []
        self.actions: list[_Action] = []
        st = story
        hist = [
            (st.start - 30 * 3600, st.start - 29 * 3600 + 600, "search", "low",
             "Elevated 404 rate on /api/search"),
            (st.start - 20 * 3600, st.start - 19 * 3600, "payments", "high",
             "Ledger replication lag above 30s"),
            (st.start - 9 * 3600, st.start - 8.5 * 3600, "checkout", "high",
             "checkout pods restarting (OOMKilled)"),
        ]
        for created, resolved, svc, urg, title in hist:
            inc = self._create(created, svc, urg, title)
            self.actions.append(_Action(created + 240, inc.id, "ack", self.oncall))
            self.actions.append(_Action(resolved, inc.id, "resolve", self.oncall))
        tls = self._create(st.start - 3 * 3600, "gateway", "low",
                           "TLS certificate for shop.example.com expires in 7 days")
        self.actions.append(_Action(st.start - 3 * 3600 + 900, tls.id, "ack", self.secondary))
        main = self._create(st.t_pd_trigger, "checkout", "high",
                            "CheckoutHighErrorRate: checkout 5xx ratio above 1%")
        self.main_id = main.id
        self.actions += [
            _Action(st.t_pd_ack, main.id, "ack", self.oncall),
            _Action(st.t_note1, main.id, "note", self.oncall,
                    "Errors started right after checkout v2.3.1 rolled out. Logs show "
                    "payments.Authorize timing out at 800ms (was 5s in 2.3.0)."),
            _Action(st.t_note2, main.id, "note", self.oncall,
                    "Retries (3x) are hammering payments; payments p99 is up too. Rollback of "
                    "2.3.1 prepared, waiting for release manager approval."),
            _Action(st.t_note3, main.id, "note", self.oncall, "Rolling back checkout to v2.3.0."),
            _Action(st.t_pd_resolve, main.id, "note", self.oncall,
                    "Rollback complete; 5xx ratio back to baseline. Postmortem to follow."),
            _Action(st.t_pd_resolve, main.id, "resolve", self.oncall),
        ]
        pay = self._create(st.t_pay_pd, "payments", "low",
                           "PaymentsLatencyHigh: payments p99 latency above 1s")
        self.payments_id = pay.id
        self.actions.append(_Action(st.t_pd_resolve + 60, pay.id, "resolve", self.oncall))
        self.add_extra(extra_incidents)
        self.actions.sort(key=lambda a: a.at)
        self._applied = 0

    # ------------------------------------------------------------------ building
    def _create(self, at: float, service: str, urgency: str, title: str) -> Incident:
        self._n += 1
        number = 1038 + self._n - 1
        iid = pd_id(self.seed, 10, number)
        inc = Incident(iid, number, title, self.services[service], urgency, at,
                       f"{hash_keys(self.seed, 11, number):032x}"[:32], updated_at=at,
                       assignees=[self.oncall], assigned_at=at, policy_id=self.policy.id)
        inc.log.append(LogEntry(pd_id(self.seed, 12, number, 0), "trigger_log_entry",
                                "Triggered through the API", at,
                                inc.service.ref(), title))
        self.incidents[iid] = inc
        self.order.append(iid)
        return inc

    def add_extra(self, count: int) -> list[str]:
        """Add ``count`` synthetic incidents (for paging beyond 100); returns their ids."""
        ids = []
        base = self.story.start - 3 * 86400
        names = list(self.services)
        for k in range(count):
            svc = names[k % len(names)]
            inc = self._create(base + k * 37.0, svc, "high" if k % 3 else "low",
                               f"Synthetic incident {k + 1} on {svc}")
            if k % 3 == 1:
                self._apply(_Action(inc.created_at + 30, inc.id, "ack", self.secondary))
            elif k % 3 == 2:
                self._apply(_Action(inc.created_at + 60, inc.id, "resolve", self.secondary))
            ids.append(inc.id)
        return ids

    def sync(self) -> None:
        """Apply every scheduled story action and every snooze end that is due, in time order."""
        now = self.clock.now()
        while True:
            story = self.actions[self._applied].at if self._applied < len(self.actions) else None
            wake = self.ops.next_wake()
            if wake is not None and wake <= now and (story is None or wake <= story):
                self.ops.wake(wake)
            elif story is not None and story <= now:
                self._apply(self.actions[self._applied])
                self._applied += 1
            else:
                return

    def _entry(self, inc: Incident, kind: str, summary: str, at: float, user: User,
               description: str = "") -> None:
        inc.log.append(LogEntry(pd_id(self.seed, 12, inc.number, len(inc.log)), kind, summary, at,
                                user.ref(), description))

    def _apply(self, a: _Action) -> None:
        inc = self.incidents[a.incident]
        if a.kind == "ack":
            if inc.status != "triggered":
                return
            inc.status = "acknowledged"
            self.ops.cancel_snooze(inc)
            inc.acknowledgements.append((a.at, a.user))
            inc.last_change_by = a.user.ref()
            inc.updated_at = a.at
            self._entry(inc, "acknowledge_log_entry", f"Acknowledged by {a.user.name}", a.at, a.user)
        elif a.kind == "resolve":
            if inc.status == "resolved":
                return
            inc.status = "resolved"
            self.ops.cancel_snooze(inc)
            inc.resolved_at = a.at
            inc.last_change_by = a.user.ref()
            inc.updated_at = a.at
            self._entry(inc, "resolve_log_entry", f"Resolved by {a.user.name}", a.at, a.user)
        elif a.kind == "note":
            inc.notes.append(Note(pd_id(self.seed, 13, inc.number, len(inc.notes)), a.user, a.text, a.at))
            inc.updated_at = a.at
            self._entry(inc, "annotate_log_entry", f"Note added by {a.user.name}", a.at, a.user, a.text)

    def user_for(self, email: str) -> User:
        """The user a ``From`` header names (created on first use)."""
        user = self.users.get(email.lower())
        if user is None:
            user = User(pd_id(self.seed, 1, hash_keys(0, *email.encode())), email.split("@")[0], email)
            self.users[email.lower()] = user
        return user

    # ------------------------------------------------------------------ JSON
    def incident_json(self, inc: Incident, *, full: bool = False) -> dict[str, Any]:
        first = inc.log[0]
        status_change = max([inc.created_at, *(e.at for e in inc.log if e.type != "annotate_log_entry")])
        out: dict[str, Any] = {
            "id": inc.id, "type": "incident", "summary": f"[#{inc.number}] {inc.title}",
            "self": f"{API}/incidents/{inc.id}", "html_url": f"{WEB}/incidents/{inc.id}",
            "incident_number": inc.number, "title": inc.title, "created_at": iso(inc.created_at),
            "updated_at": iso(inc.updated_at), "status": inc.status, "incident_key": inc.incident_key,
            "service": inc.service.ref(),
            "assignments": [] if inc.status == "resolved" else [
                {"at": iso(inc.assigned_at), "assignee": u.ref()} for u in inc.assignees],
            "assigned_via": "escalation_policy", "last_status_change_at": iso(status_change),
            "resolved_at": iso(inc.resolved_at) if inc.resolved_at is not None else None,
            "first_trigger_log_entry": {
                "id": first.id, "type": "trigger_log_entry_reference", "summary": first.summary,
                "self": f"{API}/log_entries/{first.id}?incident_id={inc.id}",
                "html_url": f"{WEB}/incidents/{inc.id}/log_entries/{first.id}"},
            "alert_counts": {"all": 1, "triggered": 0 if inc.status == "resolved" else 1,
                             "resolved": 1 if inc.status == "resolved" else 0},
            "is_mergeable": True, "incident_type": {"name": "incident_default"},
            "escalation_policy": self.ops.policies[inc.policy_id].ref.ref(),
            "teams": [self.team.ref()],
            "pending_actions": [] if inc.status == "resolved" else [
                *([{"type": "unacknowledge", "at": iso(inc.snoozed_until)}]
                  if inc.snoozed_until is not None else []),
                {"type": "resolve", "at": iso(inc.created_at + 4 * 3600)}],
            "acknowledgements": [] if inc.status != "acknowledged" else [
                {"at": iso(at), "acknowledger": u.ref()} for at, u in inc.acknowledgements],
            "alert_grouping": {"grouping_type": "intelligent", "started_at": iso(inc.created_at),
                               "ended_at": None, "alert_grouping_active": True},
            "last_status_change_by": inc.last_change_by or inc.service.ref(),
            "priority": (self.priority_p1 if inc.urgency == "high" else self.priority_p3).ref(),
            "resolve_reason": None,
            "conference_bridge": {"conference_number": "+1-415-555-0100,,,,4242#",
                                  "conference_url": "https://meet.example.com/shop-incident"},
            "incidents_responders": [], "responder_requests": [], "urgency": inc.urgency,
        }
        if full:
            out["custom_fields"] = [{
                "id": pd_id(self.seed, 7, 1), "type": "field_value", "name": "environment",
                "display_name": "Runtime Environment",
                "description": "environment where incident occurred", "data_type": "string",
                "field_type": "single_value_fixed", "value": "production"}]
        return out

    def log_entry_json(self, inc: Incident, e: LogEntry) -> dict[str, Any]:
        """One log entry in the fixture's structure; an ``annotate_log_entry`` carries the
        note's content in ``channel.summary`` (channel type ``note``) like PagerDuty's."""
        if e.type == "annotate_log_entry":
            channel = {"type": "note", "summary": e.description}
        else:
            channel = {"type": "api" if e.type == "trigger_log_entry" else "web_ui"}
        return {
            "id": e.id, "type": e.type, "summary": e.summary,
            "self": f"{API}/log_entries/{e.id}?incident_id={inc.id}",
            "html_url": f"{WEB}/incidents/{inc.id}/log_entries/{e.id}",
            "created_at": iso(e.at), "agent": e.agent,
            "channel": channel,
            "incident": {"id": inc.id, "type": "incident_reference",
                         "summary": f"[#{inc.number}] {inc.title}",
                         "self": f"{API}/incidents/{inc.id}", "html_url": f"{WEB}/incidents/{inc.id}"},
            "teams": [self.team.ref()], "contexts": [],
            "event_details": {"description": (e.summary if e.type == "annotate_log_entry"
                                              else e.description or e.summary)},
            **({"assignees": [u.ref() for u in e.assignees]} if e.assignees else {}),
            **({"message": e.message} if e.message is not None else {})}

    def note_json(self, n: Note) -> dict[str, Any]:
        return {"id": n.id, "user": n.user.ref(),
                "channel": {"summary": "The PagerDuty website or APIs"}, "content": n.content,
                "created_at": iso(n.at), "updated_at": iso(n.at)}

    # ------------------------------------------------------------------ API operations
    def get(self, iid: str) -> Incident:
        self.sync()
        inc = self.incidents.get(iid)
        if inc is None:
            raise PagerDutyError(404, "Not Found", 2100)
        return inc

    def list_incidents(self, *, statuses: list[str], urgencies: list[str], service_ids: list[str],
                       offset: int, limit: int, total: bool, since: float | None = None,
                       until: float | None = None) -> dict[str, Any]:
        """One page of incidents; ``since``/``until`` bound ``created_at`` (None = unbounded)."""
        self.sync()
        for s in statuses:
            if s not in STATUSES:
                raise invalid("Status must be a list of triggered, acknowledged, or resolved.")
        for u in urgencies:
            if u not in ("high", "low"):
                raise invalid("Urgencies must be a list of high or low.")
        rows = [self.incidents[i] for i in self.order]
        rows.sort(key=lambda i: (i.created_at, i.number))
        if statuses:
            rows = [i for i in rows if i.status in statuses]
        if urgencies:
            rows = [i for i in rows if i.urgency in urgencies]
        if service_ids:
            rows = [i for i in rows if i.service.id in service_ids]
        if since is not None:
            rows = [i for i in rows if i.created_at >= since]
        if until is not None:
            rows = [i for i in rows if i.created_at < until]
        page = rows[offset:offset + limit]
        return {"incidents": [self.incident_json(i) for i in page], "limit": limit,
                "offset": offset, "more": offset + limit < len(rows),
                "total": len(rows) if total else None}

    def update(self, items: Any, user: User) -> list[dict[str, Any]]:
        self.sync()
        if not isinstance(items, list) or not items:
            raise invalid("Incidents must be a non-empty array of incident references.")
        if len(items) > 250:
            raise invalid("You may update at most 250 incidents at once.")
        todo = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise invalid("Each incident must have an id.")
            if item.get("type") not in ("incident_reference", "incident"):
                raise invalid("Type must be incident_reference.")
            status = item.get("status")
            if status is not None and status not in ("acknowledged", "resolved"):
                raise invalid("Status must be one of acknowledged, resolved.")
            inc = self.incidents.get(item["id"])
            if inc is None:
                raise PagerDutyError(404, "Incident Not Found", 5001)
            if status == "acknowledged" and inc.status == "resolved":
                raise PagerDutyError(400, "Incident Already Resolved", 1001,
                                     [f"Incident {inc.id} is already resolved."])
            self.ops.check_item(inc, item)
            todo.append((inc, status, item))
        now = self.clock.now()
        for inc, status, item in todo:
            self.ops.apply_item(inc, item, user, now)
            if status == "acknowledged":
                if inc.status == "acknowledged":
                    self.ops.cancel_snooze(inc)
                    inc.acknowledgements.append((now, user))
                    inc.updated_at = now
                    self._entry(inc, "acknowledge_log_entry", f"Acknowledged by {user.name}", now, user)
                else:
                    self._apply(_Action(now, inc.id, "ack", user))
            elif status == "resolved":
                self._apply(_Action(now, inc.id, "resolve", user))
        return [self.incident_json(inc) for inc, _, _ in todo]

    def add_note(self, iid: str, body: Any, user: User) -> dict[str, Any]:
        inc = self.get(iid)
        note = body.get("note") if isinstance(body, dict) else None
        content = note.get("content") if isinstance(note, dict) else None
        if not isinstance(content, str) or not content.strip():
            raise invalid("Note content can't be blank.")
        if len(content) > 25_000:
            raise invalid("Note content is too long (maximum is 25000 characters).")
        self._apply(_Action(self.clock.now(), inc.id, "note", user, content))
        return self.note_json(inc.notes[-1])

    def oncalls(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        day = 86400
        start = now - now % (7 * day) - 3 * day
        out = []
        for level, user in ((1, self.oncall), (2, self.secondary)):
            out.append({"user": user.ref(), "schedule": self.schedule.ref(),
                        "escalation_policy": self.policy.ref(), "escalation_level": level,
                        "start": iso(start), "end": iso(start + 7 * day)})
        return out
