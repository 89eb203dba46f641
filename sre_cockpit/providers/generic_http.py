"""``type: http``: a team's own incident API, described in the config instead of coded.

``list_url`` answers JSON; ``items_path`` (``data.incidents``, ``$.data.incidents[*]``) finds the
list; ``fields`` maps each Incident field to a path inside one item; ``value_maps`` translate raw
values (``status: {open: triggered, ack: acknowledged}``); pagination follows a ``next_link``
(JSON path or ``header`` for an RFC 8288 ``Link: <…>; rel="next"``) or a ``next_token`` (JSON path
+ query parameter). ``actions`` describe ack/resolve/note and the on-call actions (reassign,
escalate, snooze, status_update): method, URL template and a JSON body template whose
placeholders (see :mod:`.action_templates`) are replaced inside strings. ``assignee_search``
describes the team's directory of people (and teams or policies) for reassign. Every mapped
field, any extra ``fields.details`` and the raw item (bounded) are kept for the describe view.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
from pydantic import Field, field_validator, model_validator

from sre_cockpit.core.models import Incident, IncidentStatus, ProbeResult, Severity, utcnow
from sre_cockpit.providers.action_templates import action_subs, fill_template, fill_url
from sre_cockpit.providers.base import (
    ONCALL_ACTIONS,
    ActionArgs,
    ActionPreview,
    ActionResult,
    Assignee,
    AssigneeKind,
    Capability,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
    SilenceRequest,
    StrictModel,
    args_problem,
)
from sre_cockpit.providers.credentials import origin_of, show_origin, split_userinfo
from sre_cockpit.providers.http import HttpClient, HttpOptions, HttpProvider, build_client
from sre_cockpit.providers.incident_util import (
    detail_map,
    error_text,
    parse_time,
    rate_limit_wait,
    raw_json,
    severity_of,
    status_of,
)

ACTION_NAMES = ("ack", "resolve", "note", *ONCALL_ACTIONS)
"""Every action ``actions:`` can map."""
ActionName = Literal["ack", "resolve", "note", "reassign", "escalate", "snooze", "status_update"]


class FieldMap(StrictModel):
    """Where each Incident field is inside one item (simple JSON paths)."""

    id: str = "id"
    title: str = "title"
    status: str | None = "status"
    severity: str | None = "severity"
    service: str | None = "service"
    started_at: str | None = "started_at"
    url: str | None = "url"
    assignee: str | None = None
    updated_at: str | None = None
    detail: str | None = None
    runbook_url: str | None = None
    details: dict[str, str] = Field(default_factory=dict)
    """More fields for the describe view: display name → path (``{impact: customer.impact}``)."""


class Pagination(StrictModel):
    """Either ``next_link`` or ``next_token`` (with ``token_param``)."""

    next_link: str | None = None
    """JSON path of the next page's URL, or ``header`` for the Link header."""
    next_token: str | None = None
    token_param: str | None = None
    max_pages: int = Field(default=50, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Pagination:
        if self.next_link and self.next_token:
            raise ValueError("use either next_link or next_token, not both")
        if self.next_token and not self.token_param:
            raise ValueError("next_token needs token_param (the query parameter to send it in)")
        return self


class ActionSpec(StrictModel):
    """One action endpoint. ``url`` and the strings of the JSON ``body`` may contain the
    placeholders of :mod:`.action_templates` (URL-encoded in ``url``)."""

    method: Literal["POST", "PUT", "PATCH", "DELETE", "GET"] = "POST"
    url: str
    body: Any = None

    @field_validator("url")
    @classmethod
    def _no_userinfo(cls, value: str) -> str:
        return _without_userinfo(value)


def _without_userinfo(value: str) -> str:
    """A configured URL without ``user:password@`` (credentials belong under ``auth:``).

    Raises:
        ValueError: the URL carries userinfo.
    """
    if value.lower().startswith(("http://", "https://")) and split_userinfo(value)[1] is not None:
        raise ValueError("must not contain user:password@: put the credentials under auth: "
                         "(they are sent to the configured origin only)")
    return value


class AssigneeSearch(StrictModel):
    """One directory endpoint for reassign. ``url`` and the values of ``params`` may contain
    ``{query}`` (what the operator typed); ``items_path`` finds the list; ``id``, ``name`` and
    ``detail`` are paths inside one item; every item is of ``kind``."""

    url: str
    params: dict[str, str] = Field(default_factory=dict)
    items_path: str = "$"
    id: str = "id"
    name: str = "name"
    detail: str | None = None
    kind: AssigneeKind = AssigneeKind.USER


class GenericHttpOptions(HttpOptions):
    """``type: http`` options."""

    type: str = "http"
    list_url: str
    """Relative to ``url`` or absolute."""
    list_params: dict[str, str] = Field(default_factory=dict)
    items_path: str = "$"
    fields: FieldMap = Field(default_factory=FieldMap)
    value_maps: dict[Literal["status", "severity"], dict[str, str]] = Field(default_factory=dict)
    pagination: Pagination | None = None
    actions: dict[ActionName, ActionSpec] = Field(default_factory=dict)
    assignee_search: list[AssigneeSearch] = Field(default_factory=list)
    """Where reassign finds people (and teams or policies): one search per kind."""
    include_resolved: bool = False

    @field_validator("list_url")
    @classmethod
    def _no_userinfo(cls, value: str) -> str:
        return _without_userinfo(value)

    @model_validator(mode="after")
    def _maps(self) -> GenericHttpOptions:
        for raw, target in (self.value_maps.get("status") or {}).items():
            if target not in {s.value for s in IncidentStatus}:
                raise ValueError(f"value_maps.status.{raw}: {target!r} is not one of "
                                 "triggered, acknowledged, resolved")
        for raw, target in (self.value_maps.get("severity") or {}).items():
            if target not in {s.value for s in Severity}:
                raise ValueError(f"value_maps.severity.{raw}: {target!r} is not one of "
                                 "critical, high, warning, info, unknown")
        return self


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")


def json_path(data: Any, path: str | None) -> Any:
    """Follow a simple path: ``a.b.c``, ``$.a.b[*]``, ``a[0].b``, ``$`` (the whole document).
    ``[*]`` is a no-op marker for "the list here". A key applied to a list is taken from each
    of its objects (``owners.name`` or ``owners[*].name`` on ``[{"name": "ann"}, …]`` gives
    ``["ann", …]``). Missing keys give None."""
    if path is None:
        return None
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    text = text.lstrip(".")
    current = data
    for match in _SEGMENT.finditer(text):
        key, index = match.group(1), match.group(2)
        if current is None:
            return None
        if key is not None:
            if isinstance(current, list):  # project the key over a list of objects
                picked = [x.get(key) for x in current if isinstance(x, dict)]
                current = [x for x in picked if x is not None] or None
            else:
                current = current.get(key) if isinstance(current, dict) else None
        elif index == "*":
            continue
        else:
            pos = int(index)
            current = current[pos] if isinstance(current, list) and -len(current) <= pos < len(current) else None
    return current


def _link_next(header: str | None) -> str | None:
    for part in (header or "").split(","):
        match = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
        if match and re.search(r'rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?', match.group(2)):
            return match.group(1)
    return None


class GenericHttpProvider(HttpProvider):
    """Incidents (and optional actions) from any JSON API described in the config."""

    TYPE: ClassVar[str] = "http"
    Options: ClassVar[type[GenericHttpOptions]] = GenericHttpOptions
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INCIDENTS, Capability.INCIDENT_ACTIONS})

    options: GenericHttpOptions

    def __init__(self, name: str, options: GenericHttpOptions, env: ProviderEnv | None = None,
                 *, client: HttpClient | None = None) -> None:
        super().__init__(name, options, env)
        self.client = client or build_client(options, provider=name)
        for configured in (options.list_url, *(a.url for a in options.actions.values())):
            if configured.lower().startswith(("http://", "https://")):
                self.client.allow_origin(configured)  # the operator wrote it: trusted
        self.notice: str | None = None
        self.clock: Callable[[], datetime] = utcnow
        """"now" for items without a start time (tests freeze it)."""
        self._rate_limited = 0

    async def _send(self, method: str, url: str, *, params: Any = None, json: Any = None,
                    headers: Mapping[str, str] | None = None,
                    idempotent: bool | None = None) -> httpx.Response:
        resp = await self.client.request(method, url, params=params, json=json, headers=headers,
                                         idempotent=idempotent)
        if resp.status_code == 429:
            self._rate_limited += 1
            wait = rate_limit_wait(resp, self._rate_limited)
            raise RateLimitedError(f"{self.name}: rate limited (429)", status=429, retry_after=wait)
        if resp.status_code >= 400:
            raise ProviderError(f"{self.name}: HTTP {resp.status_code} for {method} "
                                f"{self.client.endpoint(url)}: {self.client.redact(error_text(resp))}",
                                status=resp.status_code, retryable=resp.status_code >= 500)
        self._rate_limited = 0
        return resp

    async def list_incidents(self) -> list[Incident]:
        """Fetch every page and map each item."""
        opts = self.options
        url: str | None = opts.list_url
        params: dict[str, str] = dict(opts.list_params)
        pages = 0
        items: list[Any] = []
        seen_urls: set[str] = set()
        self.notice = None
        while url is not None:
            pages += 1
            resp = await self._send("GET", url, params=params or None)
            try:
                body = resp.json()
            except ValueError as exc:
                raise ProviderError(f"{self.name}: {self.client.endpoint(url)} did not answer JSON") from exc
            found = json_path(body, opts.items_path)
            if not isinstance(found, list):
                raise ProviderError(f"{self.name}: items_path {opts.items_path!r} is not a list "
                                    f"in the answer of {self.client.endpoint(url)}")
            items.extend(found)
            url = None
            pag = opts.pagination
            if pag is None:
                break
            if pages >= pag.max_pages:
                self.notice = f"stopped after {pag.max_pages} pages (pagination.max_pages)"
                break
            if pag.next_link:
                nxt = (_link_next(resp.headers.get("link")) if pag.next_link == "header"
                       else json_path(body, pag.next_link))
                if nxt and str(nxt) not in seen_urls:
                    seen_urls.add(str(nxt))
                    url = str(resp.request.url.join(str(nxt)))
                    self._check_next_link(url)
                    params = {}
            elif pag.next_token and pag.token_param:
                token = json_path(body, pag.next_token)
                if token not in (None, "") and str(token) not in seen_urls:
                    seen_urls.add(str(token))
                    url = opts.list_url
                    params = {**opts.list_params, pag.token_param: str(token)}
        incidents: list[Incident] = []
        ids: set[str] = set()
        for item in items:
            if not isinstance(item, dict):
                continue
            inc = self.to_incident(item)
            if inc is None or inc.id in ids:
                continue
            if inc.status is IncidentStatus.RESOLVED and not opts.include_resolved:
                continue
            ids.add(inc.id)
            incidents.append(inc)
        return incidents

    def _check_next_link(self, url: str) -> None:
        """Refuse a next page on another origin than the configured one.

        Following it without credentials was the alternative; refusing is safer: the link comes
        from the server, so following it would let whoever controls an answer make the cockpit
        fetch any URL from inside the operator's network and mix its items into the incident
        list, and an unauthenticated page would fail or come back partial anyway.

        Raises:
            ProviderError: the link's origin is not one the config names.
        """
        foreign = self.client.foreign_origin(url)
        if foreign is not None:
            raise ProviderError(
                f"{self.name}: pagination.next_link leads to {foreign}, another origin than the "
                f"configured {show_origin(origin_of(self.client.base_url))}; not followed (credentials "
                "go only to the configured origin)", retryable=False)

    def to_incident(self, item: Mapping[str, Any]) -> Incident | None:
        """Map one item through ``fields`` and ``value_maps`` (None without an id)."""
        f = self.options.fields
        raw_id = json_path(item, f.id)
        if raw_id is None or raw_id == "":
            return None

        def text(path: str | None) -> str | None:
            value = json_path(item, path)
            if value is None or value == "":
                return None
            return str(value)

        status_maps = {k: IncidentStatus(v) for k, v in (self.options.value_maps.get("status") or {}).items()}
        sev_maps = {k: Severity(v) for k, v in (self.options.value_maps.get("severity") or {}).items()}
        assignee = json_path(item, f.assignee)
        if isinstance(assignee, list):
            assignees = tuple(str(a.get("name") or a.get("summary") or a) if isinstance(a, dict) else str(a)
                              for a in assignee if a)
        elif isinstance(assignee, dict):
            assignees = (str(assignee.get("name") or assignee.get("summary") or assignee),)
        else:
            assignees = (str(assignee),) if assignee not in (None, "") else ()
        raw_status = json_path(item, f.status)
        raw_sev = json_path(item, f.severity)
        labels = {k: str(v) for k, v in (("status", raw_status), ("severity", raw_sev)) if v is not None}
        mapped = [(name, getattr(f, name)) for name in
                  ("id", "title", "status", "severity", "service", "started_at", "url", "assignee",
                   "updated_at", "detail", "runbook_url")]
        details = detail_map([(name, json_path(item, path)) for name, path in
                              [*mapped, *f.details.items()] if path])
        return Incident(
            id=str(raw_id),
            provider=self.name,
            title=text(f.title) or str(raw_id),
            status=status_of(raw_status, status_maps),
            severity=severity_of(raw_sev, sev_maps),
            service=text(f.service),
            started_at=parse_time(json_path(item, f.started_at)) or self.clock(),
            url=text(f.url),
            assignees=assignees,
            labels=MappingProxyType(labels),
            detail=text(f.detail),
            updated_at=parse_time(json_path(item, f.updated_at)),
            details=details,
            raw=raw_json(item),
            runbook_url=text(f.runbook_url),
        )

    # -- actions ---------------------------------------------------------------------------

    def supported_actions(self) -> Mapping[str, str | None]:
        """Only the actions with a configured endpoint."""
        out: dict[str, str | None] = {}
        for action in ACTION_NAMES:
            out[action] = (None if action in self.options.actions else
                           f"no actions.{action} endpoint configured for {self.name}")
        out["silence"] = f"{self.name} (type http) has no silences"
        out["expire_silence"] = f"{self.name} (type http) has no silences"
        return out

    def _calls(self, action: str, incidents: Sequence[Incident], text: str | None,
               args: ActionArgs | None = None) -> list[tuple[str, str, Any]]:
        spec = self.options.actions[action]  # type: ignore[index]
        calls: list[tuple[str, str, Any]] = []
        for inc in incidents:
            subs = action_subs(inc, self.env.user, text, args)
            calls.append((spec.method, fill_url(spec.url, subs), fill_template(spec.body, subs)))
        return calls

    def _reason(self, action: str, args: ActionArgs | None) -> str | None:
        return (self.supported_actions().get(action, f"unknown action {action!r}")
                or args_problem(action, args))

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None,
                args: ActionArgs | None = None) -> ActionPreview:
        """The first call (and how many) this action will make."""
        reason = self._reason(action, args)
        if reason is not None:
            raise ProviderError(f"{self.name}: {reason}", retryable=False)
        calls = self._calls(action, incidents, text, args)
        method, _url, body = calls[0] if calls else (self.options.actions[action].method, "", None)  # type: ignore[index]
        endpoint = ", ".join(self.client.endpoint(u) for _, u, _ in calls)
        payload = body if len(calls) <= 1 else [b for _, _, b in calls]
        return ActionPreview(self.name, action, method, endpoint, payload)

    async def perform(self, action: str, incidents: Sequence[Incident], *,
                      text: str | None = None, silence: SilenceRequest | None = None,
                      idempotency_key: str | None = None,
                      args: ActionArgs | None = None) -> ActionResult:
        """One call per incident; stops at the first error. Optimistic rows: ack and resolve
        set the status, reassign the assignee (the team's API decides the rest)."""
        reason = self._reason(action, args)
        if reason is not None:
            return ActionResult(False, f"{self.name}: {reason}")
        if self.env.read_only:
            return ActionResult(False, f"{self.name}: context {self.env.context} is read-only")
        done: list[Incident] = []
        new_status = {"ack": IncidentStatus.ACKNOWLEDGED, "resolve": IncidentStatus.RESOLVED}.get(action)
        assignee = args.assignee if args is not None and action == "reassign" else None
        calls = self._calls(action, incidents, text, args)
        for inc, (method, url, body) in zip(incidents, calls, strict=True):
            try:
                await self._send(method, url, json=body,
                                 idempotent=method in ("PUT", "DELETE", "GET"),
                                 headers={"Idempotency-Key": f"{idempotency_key}:{inc.id}"}
                                 if idempotency_key else None)
            except ProviderError as exc:
                if action == "note" and exc.retryable:
                    # The notes outbox retries temporary failures; the Idempotency-Key header
                    # lets the team's API ignore the copies already delivered.
                    raise
                return ActionResult(False, f"{exc} ({len(done)} of {len(incidents)} done)",
                                    tuple(done) if new_status or assignee else (),
                                    retry_after=exc.retry_after)
            if new_status:
                done.append(replace(inc, status=new_status))
            elif assignee is not None:
                done.append(replace(inc, assignees=(assignee.name,)))
            else:
                done.append(inc)
        verb = {"ack": "acknowledged", "resolve": "resolved", "note": "noted",
                "reassign": "reassigned", "escalate": "escalated", "snooze": "snoozed",
                "status_update": "status update sent on"}[action]
        return ActionResult(True, f"{verb} {len(done)} incident{'s' if len(done) != 1 else ''} on {self.name}",
                            tuple(done) if new_status or assignee else ())

    async def search_assignees(self, query: str) -> list[Assignee]:
        """Every ``assignee_search`` endpoint's items for ``query``, in config order.

        Raises:
            ProviderError: no ``assignee_search`` is configured, or an endpoint failed.
        """
        if not self.options.assignee_search:
            raise ProviderError(f"{self.name}: no assignee_search configured: type the assignee's "
                                "id", retryable=False)
        found: list[Assignee] = []
        subs = {"query": query.strip()}
        for search in self.options.assignee_search:
            url = re.sub(r"\{query\}", lambda _m: quote(subs["query"], safe=""), search.url)
            params = {k: v.replace("{query}", subs["query"]) for k, v in search.params.items()}
            resp = await self._send("GET", url, params=params or None)
            try:
                items = json_path(resp.json(), search.items_path)
            except ValueError as exc:
                raise ProviderError(f"{self.name}: {self.client.endpoint(url)} did not answer JSON") from exc
            if not isinstance(items, list):
                raise ProviderError(f"{self.name}: assignee_search items_path {search.items_path!r} "
                                    f"is not a list in the answer of {self.client.endpoint(url)}")
            for item in items:
                ident = json_path(item, search.id) if isinstance(item, dict) else None
                if ident in (None, ""):
                    continue
                name = json_path(item, search.name)
                detail = json_path(item, search.detail)
                found.append(Assignee(str(ident), search.kind, str(name or ident),
                                      detail=str(detail) if detail not in (None, "") else None))
        return found

    async def probe(self) -> ProbeResult:
        """List once."""
        start = time.perf_counter()
        try:
            incidents = await self.list_incidents()
        except ProviderError as exc:
            return ProbeResult(self.name, self.TYPE, False, None, str(exc))
        return ProbeResult(self.name, self.TYPE, True, (time.perf_counter() - start) * 1000,
                           detail=f"{len(incidents)} incidents")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
