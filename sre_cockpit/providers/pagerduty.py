"""PagerDuty REST API v2: incidents, on-call, log entries as timeline events, ack/resolve/notes,
and the on-call actions reassign, escalate, snooze and status update (:mod:`.pagerduty_oncall`).

Listing pages with ``limit=100`` and ``offset`` while ``more`` is true, up to PagerDuty's
offset+limit ≤ 10,000 cap (``notice`` then says the list is truncated). Incidents and log
entries become the cockpit's values in :mod:`.pagerduty_mapping`: severity comes from the
priority name (P1…P5) when the account uses priorities, else from the urgency; both are
configurable through ``severity_map``.

Notes are delivered exactly once across retries and restarts although PagerDuty has no
idempotency header for them: ``perform("note", ..., idempotency_key=K)`` appends an invisible
marker (zero-width characters encoding 48 bits of SHA-256(K), see
:func:`~sre_cockpit.providers.incident_util.idempotency_marker`) to the content and, before
posting, lists the incident's notes and skips the POST when a note with the same text and marker
is already there. Calling it twice with the same key therefore posts one note.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
from pydantic import Field

from sre_cockpit.core.models import (
    Incident,
    IncidentStatus,
    ProbeResult,
    Severity,
    TimelineEvent,
    utcnow,
)
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers import pagerduty_oncall as oncall
from sre_cockpit.providers.base import (
    ONCALL_ACTIONS,
    ActionArgs,
    ActionPreview,
    ActionResult,
    Assignee,
    Capability,
    EscalationLevel,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
    SilenceRequest,
)
from sre_cockpit.providers.bodies import MIB, ByteSize
from sre_cockpit.providers.http import (
    HeaderSecret,
    HeaderValue,
    HttpClient,
    HttpOptions,
    HttpProvider,
    build_client,
)
from sre_cockpit.providers.incident_util import (
    SameAnswers,
    error_text,
    format_time,
    has_marker,
    idempotency_marker,
    json_object_with_items,
    note_marker_key,
    rate_limit_wait,
)
from sre_cockpit.providers.pagerduty_mapping import (
    DEFAULT_SEVERITY_MAP,
    log_entry_to_event,
    to_incident,
)

PAGE_LIMIT = 100
OFFSET_CAP = 10_000
LIVE_SLACK = timedelta(minutes=5)
"""A live timeline (``until`` None) asks for entries up to this far past our clock, so an entry
PagerDuty stamped with a clock running ahead of ours (a note just posted) is not left out."""
ACCEPT = "application/vnd.pagerduty+json;version=2"

class PagerDutyOptions(HttpOptions):
    """``type: pagerduty`` options."""

    type: str = "pagerduty"
    url: str = "https://api.pagerduty.com"
    max_body: ByteSize = 4 * MIB
    """Largest answer accepted: pages hold at most 100 incidents or log entries (~0.5 MB)."""
    token: HeaderSecret
    """REST API key, sent as ``Authorization: Token token=…``."""
    from_email: HeaderValue | None = None
    """Email of a PagerDuty user: required to acknowledge, resolve or add notes."""
    service_ids: list[str] = Field(default_factory=list)
    team_ids: list[str] = Field(default_factory=list)
    urgencies: list[Literal["high", "low"]] = Field(default_factory=list)
    include_resolved_hours: float = Field(default=0.0, ge=0)
    """Also list incidents resolved in the last N hours (0 = only open ones)."""
    severity_map: dict[str, Severity] = Field(default_factory=dict)
    """Priority names or urgencies → severity, over the defaults P1 critical … P4/P5 info,
    urgency high → high, low → info."""
    max_incidents: int = Field(default=OFFSET_CAP, gt=0, le=OFFSET_CAP)
    oncall_escalation_policy_ids: list[str] = Field(default_factory=list)
    oncall_schedule_ids: list[str] = Field(default_factory=list)
    event_incident_limit: int = Field(default=50, gt=0)
    """At most this many incidents have their log entries read per timeline refresh."""


class PagerDutyProvider(HttpProvider):
    """Incidents, on-call and log entries from PagerDuty; ack, resolve, notes, reassign,
    escalate, snooze and status updates; a directory of users and escalation policies."""

    TYPE: ClassVar[str] = "pagerduty"
    Options: ClassVar[type[PagerDutyOptions]] = PagerDutyOptions
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INCIDENTS, Capability.INCIDENT_ACTIONS, Capability.EVENTS})

    options: PagerDutyOptions

    def __init__(self, name: str, options: PagerDutyOptions, env: ProviderEnv | None = None,
                 *, client: HttpClient | None = None) -> None:
        super().__init__(name, options, env)
        self.client = client or build_client(options, provider=name)
        self.client.client.headers["Authorization"] = f"Token token={options.token.get_secret_value()}"
        self.client.client.headers["Accept"] = ACCEPT
        self.clock: Callable[[], datetime] = utcnow
        self.notice: str | None = None
        """One line about the last listing (e.g. truncated at the 10,000 cap), else None."""
        self._rate_limited = 0
        self._known: dict[str, Incident] = {}
        self._converted: dict[str, Incident] = {}
        """Last listing's incidents by their JSON text: an incident PagerDuty sends again
        byte for byte is not converted again (2,000 of them cost ~0.1 s a poll)."""
        self._pages: SameAnswers[tuple[dict[str, Any], list[tuple[Any, str]]]] = SameAnswers()
        """Last listing's pages, decoded: a page sent again byte for byte is not decoded
        again (20 pages a poll for 2,000 incidents)."""
        self._listing = asyncio.Lock()
        """Held while listing: the timeline's first ``list_events`` waits for the incident
        feed's listing in progress instead of listing every incident a second time."""
        self._severity_map = {**DEFAULT_SEVERITY_MAP, **options.severity_map}

    # -- HTTP ------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, *, params: Any = None, json: Any = None,
                    headers: Mapping[str, str] | None = None,
                    texts: tuple[str, list[str]] | None = None) -> Any:
        """One call's JSON answer. With ``texts`` (a list member's name, a list), the JSON
        text of each element of that member is appended to the list, in order."""
        resp = await self.client.request(method, path, params=params, json=json, headers=headers)
        self._raise_for(resp, method, path)
        if not resp.content.strip():
            return None
        try:
            if texts is None:
                return resp.json()
            request = (path, tuple(params or ()))
            known = self._pages.get(request, resp.content)
            if known is None:  # not the same bytes as last listing's page
                known = json_object_with_items(resp.text, texts[0])
                self._pages.keep(request, resp.content, known)
            page, items = known
            texts[1].extend(text for _, text in items)
            return page
        except ValueError as exc:
            raise ProviderError(f"{self.name}: {self.client.endpoint(path)} did not answer JSON "
                                f"(HTTP {resp.status_code})") from exc

    def _raise_for(self, resp: httpx.Response, method: str, path: str) -> None:
        status = resp.status_code
        if status < 400:
            self._rate_limited = 0
            return
        if status == 429:
            self._rate_limited += 1
            wait = rate_limit_wait(resp, self._rate_limited)
            until = self.clock() + timedelta(seconds=wait)
            raise RateLimitedError(
                f"{self.name}: rate limited by PagerDuty (429) until {until:%H:%M:%S} UTC",
                status=429, retry_after=wait)
        message = self.client.redact(error_text(resp))
        hint = ""
        if status == 401:
            hint = " (check the API token)"
        elif status == 403:
            hint = " (the token or the From user lacks permission)"
        elif status == 400 and method != "GET" and "from" in message.lower():
            hint = " (set from_email to a PagerDuty user's email)"
        raise ProviderError(f"{self.name}: HTTP {status} for {method} {path}: {message}{hint}",
                            status=status, retryable=status >= 500 or status == 408)

    def _from_headers(self) -> dict[str, str]:
        return {"From": self.options.from_email or "", "Content-Type": "application/json"}

    async def _paged(self, path: str, key: str, params: list[tuple[str, str]],
                     cap: int = OFFSET_CAP,
                     texts: list[str] | None = None) -> tuple[list[dict[str, Any]], bool]:
        """All items of a paged list; returns (items, truncated). ``texts`` receives each
        item's JSON text (items that are not objects are left out of both)."""
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            limit = min(PAGE_LIMIT, cap - offset)
            page_texts: list[str] = []
            page = await self._call("GET", path, params=[*params, ("limit", str(limit)),
                                                         ("offset", str(offset))],
                                    texts=(key, page_texts) if texts is not None else None)
            listed = (page or {}).get(key) or []
            got = [i for i in listed if isinstance(i, dict)]
            if texts is not None:
                texts.extend(t for i, t in zip(listed, page_texts, strict=True)
                             if isinstance(i, dict))
            items.extend(got)
            more = bool((page or {}).get("more"))
            offset += len(got)
            if not more or not got:
                return items, False
            if offset >= cap:
                return items, True

    # -- incidents -------------------------------------------------------------------------

    def _filters(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("service_ids[]", s) for s in self.options.service_ids]
        params += [("team_ids[]", t) for t in self.options.team_ids]
        params += [("urgencies[]", u) for u in self.options.urgencies]
        params += [("time_zone", "UTC")]
        return params

    async def list_incidents(self) -> list[Incident]:
        """Triggered and acknowledged incidents (plus recently resolved ones if configured)."""
        async with self._listing:
            return await self._list_incidents()

    async def _list_incidents(self) -> list[Incident]:
        cap = self.options.max_incidents
        params = [("statuses[]", "triggered"), ("statuses[]", "acknowledged"),
                  ("date_range", "all"), *self._filters()]
        texts: list[str] = []
        self._pages.begin()
        raw, truncated = await self._paged("/incidents", "incidents", params, cap, texts)
        if self.options.include_resolved_hours > 0:
            now = self.clock()
            since = now - timedelta(hours=self.options.include_resolved_hours)
            resolved_params = [("statuses[]", "resolved"), ("since", format_time(since)),
                               ("until", format_time(now)), *self._filters()]
            more, more_truncated = await self._paged("/incidents", "incidents", resolved_params,
                                                     cap, texts)
            raw += more
            truncated = truncated or more_truncated
        self.notice = (f"showing the first {cap:,} incidents (PagerDuty lists at most "
                       f"{OFFSET_CAP:,}): narrow with service_ids, team_ids or urgencies"
                       if truncated else None)
        seen: set[str] = set()
        incidents = []
        previous, converted = self._converted, {}
        for item, text in zip(raw, texts, strict=True):
            inc = previous.get(text) or self.to_incident(item, text=text)
            converted[text] = inc
            if inc.id not in seen:
                seen.add(inc.id)
                incidents.append(inc)
        self._converted = converted
        self._pages.done()
        self._known = {i.id: i for i in incidents}
        return incidents

    def to_incident(self, item: Mapping[str, Any], *, text: str | None = None) -> Incident:
        """Map one PagerDuty incident object to an Incident (``text``: its JSON as PagerDuty
        wrote it, kept as ``raw``; see :func:`~.pagerduty_mapping.to_incident`)."""
        return to_incident(item, text=text, provider=self.name,
                           severity_map=self._severity_map, now=self.clock)

    async def get_incident(self, incident_id: str) -> Incident | None:
        """One incident by id, whatever its status (``GET /incidents/{id}``); None when
        PagerDuty does not know it (404) or the id is blank.

        Raises:
            ProviderError: any other failure (network, 401, 5xx, 429 as RateLimitedError).
        """
        ident = incident_id.strip()
        if not ident:
            return None
        path = f"/incidents/{quote(ident, safe='')}"
        try:
            answer = await self._call("GET", path)
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        item = answer.get("incident") if isinstance(answer, dict) else None
        if not isinstance(item, dict) or not item.get("id"):
            raise ProviderError(sanitize_line(f"{self.name}: {self.client.endpoint(path)} "
                                              "answered without an incident"), retryable=False)
        return self.to_incident(item)

    # -- on-call and timeline ---------------------------------------------------------------

    async def oncall(self) -> list[str]:
        """Who is on call now (earliest per policy/level), lowest escalation level first:
        ``["Tim Wright (L1 Engineering)", …]``."""
        params: list[tuple[str, str]] = [("earliest", "true"), ("time_zone", "UTC")]
        params += [("escalation_policy_ids[]", e) for e in self.options.oncall_escalation_policy_ids]
        params += [("schedule_ids[]", s) for s in self.options.oncall_schedule_ids]
        items, _ = await self._paged("/oncalls", "oncalls", params, 1000)
        rows: list[tuple[int, str]] = []
        for item in items:
            user = (item.get("user") or {}).get("summary")
            if not user:
                continue
            level = int(item.get("escalation_level") or 0)
            policy = (item.get("escalation_policy") or {}).get("summary")
            text = f"{user} (L{level}{' ' + str(policy) if policy else ''})"
            rows.append((level, text))
        out: list[str] = []
        for _, text in sorted(rows, key=lambda r: r[0]):
            if text not in out:
                out.append(text)
        return out

    async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]:
        """Log entries between ``since`` and ``until`` of the open incidents and of those created
        in that window (resolved ones too, for postmortems), at most ``event_incident_limit``
        incidents, as timeline events sorted by time. ``until`` None means up to now (with
        ``LIVE_SLACK`` for PagerDuty's clock)."""
        end = until if until is not None else self.clock() + LIVE_SLACK
        if not self._known:
            async with self._listing:  # the incident feed may be listing them right now
                if not self._known:
                    await self._list_incidents()
        candidates = dict(self._known)
        window, _ = await self._paged(
            "/incidents", "incidents",
            [("since", format_time(since)), ("until", format_time(end)), *self._filters()],
            self.options.event_incident_limit)
        for item in window:
            inc = self.to_incident(item)
            candidates.setdefault(inc.id, inc)
        incidents = list(candidates.values())[: self.options.event_incident_limit]
        params = [("since", format_time(since)), ("until", format_time(end)),
                  ("time_zone", "UTC"), ("is_overview", "false")]
        gate = asyncio.Semaphore(4)

        async def one(inc: Incident) -> list[dict[str, Any]]:
            async with gate:
                items, _ = await self._paged(f"/incidents/{quote(inc.id, safe='')}/log_entries",
                                             "log_entries", params, 1000)
                return items

        results = await asyncio.gather(*(one(i) for i in incidents))
        events: list[TimelineEvent] = []
        for inc, entries in zip(incidents, results, strict=True):
            for entry in entries:
                event = self.log_entry_to_event(entry, inc)
                if event is not None:
                    events.append(event)
        events.sort(key=lambda e: e.at)
        return events

    def log_entry_to_event(self, entry: Mapping[str, Any],
                           incident: Incident | None = None) -> TimelineEvent | None:
        """Map one log entry to a TimelineEvent (None when it has no time; see
        :func:`~.pagerduty_mapping.log_entry_to_event`)."""
        return log_entry_to_event(entry, incident, source=self.name)

    # -- actions ---------------------------------------------------------------------------

    def supported_actions(self) -> Mapping[str, str | None]:
        """Every action but silences needs ``from_email``; silences are Alertmanager's."""
        need_from = oncall.need_from_reason(self)
        return {"ack": need_from, "resolve": need_from, "note": need_from,
                "silence": "PagerDuty has no silences: acknowledge instead (a)",
                "expire_silence": "PagerDuty has no silences",
                **dict.fromkeys(ONCALL_ACTIONS, need_from)}

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None,
                args: ActionArgs | None = None) -> ActionPreview:
        """What ``perform`` will send (bulk updates go in calls of at most 250)."""
        reason = self.supported_actions().get(action, f"unknown action {action!r}")
        if reason is not None:
            raise ProviderError(f"{self.name}: {reason}", retryable=False)
        if action != "note":
            return oncall.preview(self, action, incidents, args)
        endpoints = ", ".join(self.client.endpoint(f"/incidents/{quote(i.id, safe='')}/notes")
                              for i in incidents)
        return ActionPreview(self.name, action, "POST", endpoints,
                             {"headers": {"From": self.options.from_email},
                              "note": {"content": text or ""}})

    async def perform(self, action: str, incidents: Sequence[Incident], *,
                      text: str | None = None, silence: SilenceRequest | None = None,
                      idempotency_key: str | None = None,
                      args: ActionArgs | None = None) -> ActionResult:
        """Acknowledge/resolve in bulk, reassign, escalate, snooze, send a status update
        (``args`` carries their parameters) or add a note (exactly once per
        ``idempotency_key``).

        All but notes are interactive: every failure comes back as a not-ok result (with how
        many incidents were done, and ``retry_after`` after a 429) for the pane's toast. Notes
        are delivered by the outbox, which must tell a temporary failure from a permanent one:

        Raises:
            RateLimitedError: a note hit PagerDuty's rate limit (429); ``retry_after`` says when.
            ProviderError: a note could not be delivered for a temporary reason (network error,
                deadline, HTTP 408 or 5xx), always ``retryable=True``; delivering again with the
                same ``idempotency_key`` never posts a note twice. Permanent refusals (400
                invalid input, 401, 403, 404) return a not-ok result instead.
        """
        reason = self.supported_actions().get(action, f"unknown action {action!r}")
        if reason is not None:
            return ActionResult(False, f"{self.name}: {reason}")
        if self.env.read_only:
            return ActionResult(False, f"{self.name}: context {self.env.context} is read-only")
        if not incidents:
            return ActionResult(False, f"{self.name}: no incident selected")
        if action in ONCALL_ACTIONS:
            return await oncall.perform(self, action, incidents, args)
        if action in ("ack", "resolve"):
            new_status = IncidentStatus.ACKNOWLEDGED if action == "ack" else IncidentStatus.RESOLVED
            return await oncall.bulk_put(self, action, incidents, None,
                                         lambda i: replace(i, status=new_status))
        if not (text or "").strip():
            return ActionResult(False, f"{self.name}: a note needs some text")
        return await self._notes(incidents, text or "", idempotency_key)

    async def _notes(self, incidents: Sequence[Incident], text: str,
                     key: str | None) -> ActionResult:
        posted = skipped = 0
        for done, inc in enumerate(incidents):
            path = f"/incidents/{quote(inc.id, safe='')}/notes"
            content = text
            try:
                if key:
                    marker_key = note_marker_key(key, inc.id)
                    existing = await self._call("GET", path)
                    if any(has_marker(str(n.get("content") or ""), text, marker_key)
                           for n in (existing or {}).get("notes") or [] if isinstance(n, dict)):
                        skipped += 1
                        continue
                    content = text + idempotency_marker(marker_key)
                await self._call("POST", path, json={"note": {"content": content}},
                                 headers=self._from_headers())
            except ProviderError as exc:
                if exc.retryable:
                    raise
                progress = f" ({done} of {len(incidents)} done)" if len(incidents) > 1 else ""
                return ActionResult(False, f"{exc}{progress}")
            posted += 1
        message = f"note added to {posted} incident{'s' if posted != 1 else ''} on {self.name}"
        if skipped:
            message += f" ({skipped} already had it)"
        return ActionResult(True, message)

    # -- directory -------------------------------------------------------------------------

    async def search_assignees(self, query: str) -> list[Assignee]:
        """Users, then escalation policies, matching ``query`` (see
        :func:`~sre_cockpit.providers.pagerduty_oncall.search_assignees`)."""
        return await oncall.search_assignees(self, query)

    async def escalation_levels(self, incident: Incident) -> list[EscalationLevel]:
        """The levels of ``incident``'s escalation policy (``GET /escalation_policies/{id}``)."""
        return await oncall.escalation_levels(self, incident)

    # -- lifecycle -------------------------------------------------------------------------

    async def probe(self) -> ProbeResult:
        """One small incidents query (needs a valid token)."""
        start = time.perf_counter()
        try:
            await self._call("GET", "/incidents", params=[("limit", "1"), ("statuses[]", "triggered")])
        except ProviderError as exc:
            return ProbeResult(self.name, self.TYPE, False, None, str(exc))
        detail = None if self.options.from_email else "read-only: no from_email set"
        return ProbeResult(self.name, self.TYPE, True, (time.perf_counter() - start) * 1000,
                           detail=detail)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
