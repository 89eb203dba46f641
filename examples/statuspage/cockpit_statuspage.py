"""An sre-cockpit provider plugin for Atlassian Statuspage (Manage API v1).

A worked example of a third-party provider: one module, one entry point (see this folder's
``pyproject.toml``), nothing changed in ``sre_cockpit/``. It declares three capabilities:

- incidents (``IncidentSource``): ``GET /pages/{page_id}/incidents/unresolved``, paged with
  ``page``/``per_page`` (at most 100 a page). ``investigating`` is triggered, ``identified`` and
  ``monitoring`` are acknowledged; the impact (or ``impact_override``) gives the severity.
- actions (``IncidentActions``): acknowledge sets the status to ``identified`` (or
  ``ack_status``), resolve to ``resolved``, each with ``PATCH /pages/{page_id}/incidents/{id}``.
  Notes are not offered: every Statuspage update is public, so an operator's working note does
  not belong there, and the cockpit greys the key out with that reason.
- timeline events (``EventSource``): the incident updates (``incident_updates``) of the open
  incidents and of the most recent ones (``GET /pages/{page_id}/incidents``), resolved included.

Every request goes through the cockpit's shared HTTP layer (deadline, retries, bounded answers,
credentials only to the configured origin, secrets redacted from every error). Statuspage
authenticates with ``Authorization: OAuth <api key>`` and answers a rate limit with 420 (older
accounts) or 429, both with ``Retry-After``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
from pydantic import Field, field_validator, model_validator

from sre_cockpit.core.models import (
    Incident,
    IncidentStatus,
    ProbeResult,
    Severity,
    TimelineEvent,
    utcnow,
)
from sre_cockpit.providers.base import (
    ONCALL_ACTIONS,
    ActionArgs,
    ActionPreview,
    ActionResult,
    Capability,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
    SilenceRequest,
)
from sre_cockpit.providers.bodies import MIB, ByteSize
from sre_cockpit.providers.http import (
    HeaderSecret,
    HttpClient,
    HttpOptions,
    HttpProvider,
    build_client,
)
from sre_cockpit.providers.incident_util import (
    detail_map,
    error_text,
    parse_time,
    rate_limit_wait,
    raw_json,
)

PER_PAGE = 100
"""Statuspage's largest page."""

STATUS: Mapping[str, IncidentStatus] = {
    "investigating": IncidentStatus.TRIGGERED,
    "identified": IncidentStatus.ACKNOWLEDGED,
    "monitoring": IncidentStatus.ACKNOWLEDGED,
    "resolved": IncidentStatus.RESOLVED,
    "postmortem": IncidentStatus.RESOLVED,
}
"""Statuspage's realtime incident states; scheduled maintenances are not incidents."""

IMPACT: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL,
    "major": Severity.HIGH,
    "minor": Severity.WARNING,
    "none": Severity.INFO,
    "maintenance": Severity.INFO,
}

EVENT_KINDS: Mapping[str, str] = {
    "investigating": "trigger",
    "identified": "acknowledge",
    "resolved": "resolve",
}
"""Timeline kind of an update by its status (others are ``status_update``)."""

RATE_LIMITED = (420, 429)


class StatuspageOptions(HttpOptions):
    """``type: statuspage`` options: the shared HTTP options plus these (strict: an unknown key
    is a config error with its line and column)."""

    type: str = "statuspage"
    url: str = "https://api.statuspage.io/v1"
    max_body: ByteSize = 4 * MIB
    """Largest answer accepted (a page of 100 incidents with their updates is ~0.5 MB)."""
    api_key: HeaderSecret
    """Sent as ``Authorization: OAuth <api_key>``; redacted from every error."""
    page_id: str
    """The page whose incidents are shown (Statuspage's page code, e.g. ``kctbh9vrtdwd``)."""
    components: list[str] = Field(default_factory=list)
    """Only incidents affecting one of these component names (empty: every incident)."""
    ack_status: Literal["identified", "monitoring"] = "identified"
    """The status acknowledging an incident sets."""
    deliver_notifications: bool = False
    """Whether a status change from the cockpit notifies the page's subscribers."""
    max_pages: int = Field(default=10, gt=0, le=100)
    """Pages of 100 unresolved incidents read per poll; more are announced, not read."""
    recent_incidents: int = Field(default=25, gt=0, le=PER_PAGE)
    """Most recent incidents (resolved too) whose updates the timeline shows."""

    @field_validator("page_id")
    @classmethod
    def _page_id(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError("a Statuspage page id has only letters, digits, '-' and '_' "
                             "(e.g. kctbh9vrtdwd)")
        return value

    @model_validator(mode="after")
    def _no_other_auth(self) -> StatuspageOptions:
        if self.auth is not None:
            raise ValueError("Statuspage authenticates with api_key; remove auth")
        return self


class StatuspageProvider(HttpProvider):
    """Incidents, acknowledge/resolve and incident updates from one Statuspage page."""

    TYPE: ClassVar[str] = "statuspage"
    Options: ClassVar[type[StatuspageOptions]] = StatuspageOptions
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INCIDENTS, Capability.INCIDENT_ACTIONS, Capability.EVENTS})

    options: StatuspageOptions

    def __init__(self, name: str, options: StatuspageOptions, env: ProviderEnv | None = None,
                 *, client: HttpClient | None = None) -> None:
        super().__init__(name, options, env)
        self.client = client or build_client(options, provider=name)
        self.client.client.headers["Authorization"] = f"OAuth {options.api_key.get_secret_value()}"
        self.notice: str | None = None
        """One line about the last listing (more pages than ``max_pages``), else None."""
        self._open: list[dict[str, Any]] | None = None
        """The raw unresolved incidents of the last listing (None: not listed yet)."""
        self._rate_limited = 0

    # -- HTTP ------------------------------------------------------------------------------

    def _path(self, suffix: str = "") -> str:
        return f"/pages/{quote(self.options.page_id, safe='')}{suffix}"

    async def _call(self, method: str, path: str, *, params: Any = None,
                    json: Any = None) -> Any:
        """One request; the decoded JSON answer.

        Raises:
            RateLimitedError: 420 or 429, with Statuspage's ``Retry-After``.
            ProviderError: any other failure, one redacted line.
        """
        resp = await self.client.request(method, path, params=params, json=json)
        self._raise_for(resp, method, path)
        try:
            return resp.json()
        except ValueError as exc:
            raise ProviderError(f"{self.name}: {self.client.endpoint(path)} did not answer JSON "
                                f"(HTTP {resp.status_code})") from exc

    def _raise_for(self, resp: httpx.Response, method: str, path: str) -> None:
        status = resp.status_code
        if status < 400:
            self._rate_limited = 0
            return
        if status in RATE_LIMITED:
            self._rate_limited += 1
            wait = rate_limit_wait(resp, self._rate_limited, default=60.0)
            raise RateLimitedError(f"{self.name}: rate limited by Statuspage ({status}) for "
                                   f"{wait:.0f}s", status=status, retry_after=wait)
        hint = {401: " (check api_key)", 404: " (check page_id)",
                403: " (the API key's user lacks a role on this page)"}.get(status, "")
        message = self.client.redact(error_text(resp))
        raise ProviderError(f"{self.name}: HTTP {status} for {method} "
                            f"{self.client.endpoint(path)}: {message}{hint}",
                            status=status, retryable=status >= 500)

    # -- incidents -------------------------------------------------------------------------

    async def list_incidents(self) -> list[Incident]:
        """The page's unresolved incidents (every page up to ``max_pages``)."""
        items: list[dict[str, Any]] = []
        self.notice = None
        for page in range(1, self.options.max_pages + 1):
            got = await self._call("GET", self._path("/incidents/unresolved"),
                                   params={"page": page, "per_page": PER_PAGE})
            if not isinstance(got, list):
                raise ProviderError(f"{self.name}: unresolved incidents: expected a JSON list")
            items.extend(i for i in got if isinstance(i, dict))
            if len(got) < PER_PAGE:
                break
        else:
            self.notice = (f"read the first {self.options.max_pages * PER_PAGE} unresolved "
                           "incidents (max_pages); there may be more")
        self._open = items
        seen: set[str] = set()
        incidents: list[Incident] = []
        for item in items:
            incident = self.to_incident(item)
            if incident is not None and incident.id not in seen and self._wanted(item):
                seen.add(incident.id)
                incidents.append(incident)
        return incidents

    def _wanted(self, item: Mapping[str, Any]) -> bool:
        if not self.options.components:
            return True
        return bool(set(self.options.components) & set(_component_names(item)))

    def to_incident(self, item: Mapping[str, Any]) -> Incident | None:
        """Map one Statuspage incident (None for a scheduled maintenance or without an id)."""
        ident = str(item.get("id") or "")
        raw_status = str(item.get("status") or "")
        if not ident or raw_status not in STATUS:
            return None
        impact = str(item.get("impact_override") or item.get("impact") or "none")
        components = _component_names(item)
        updates = _updates(item)
        latest = updates[-1][1] if updates else {}
        return Incident(
            id=ident,
            provider=self.name,
            title=str(item.get("name") or ident),
            status=STATUS[raw_status],
            severity=IMPACT.get(impact, Severity.UNKNOWN),
            service=components[0] if components else None,
            started_at=(parse_time(item.get("started_at")) or parse_time(item.get("created_at"))
                        or utcnow()),
            url=str(item["shortlink"]) if item.get("shortlink") else None,
            labels=MappingProxyType({"impact": impact, "status": raw_status}),
            detail=f"{raw_status}, impact {impact}",
            updated_at=parse_time(item.get("updated_at")),
            details=detail_map([("status", raw_status), ("impact", impact),
                                ("components", ", ".join(components)),
                                ("latest update", latest.get("body")),
                                ("shortlink", item.get("shortlink"))]),
            raw=raw_json(item),
        )

    # -- timeline --------------------------------------------------------------------------

    async def list_events(self, since: datetime,
                          until: datetime | None = None) -> list[TimelineEvent]:
        """The updates of the open incidents and of the ``recent_incidents`` latest ones
        between ``since`` and ``until`` (None: up to now), oldest first."""
        if self._open is None:
            await self.list_incidents()
        recent = await self._call("GET", self._path("/incidents"),
                                  params={"page": 1, "per_page": self.options.recent_incidents})
        by_id: dict[str, Mapping[str, Any]] = {}
        for item in [*(self._open or []), *(recent if isinstance(recent, list) else [])]:
            if isinstance(item, dict) and item.get("status") in STATUS and self._wanted(item):
                by_id.setdefault(str(item.get("id")), item)
        events = [event for item in by_id.values() for event in self.update_events(item)
                  if since <= event.at and (until is None or event.at <= until)]
        return sorted(events, key=lambda e: e.at)

    def update_events(self, item: Mapping[str, Any]) -> list[TimelineEvent]:
        """One timeline event per incident update."""
        components = _component_names(item)
        events = []
        for at, update in _updates(item):
            status = str(update.get("status") or "update")
            body = " ".join(str(update.get("body") or "").split())
            events.append(TimelineEvent(
                at=at, kind=EVENT_KINDS.get(status, "status_update"), source=self.name,
                text=f"{status}: {body}" if body else status, incident_id=str(item.get("id")),
                id=str(update.get("id") or "") or None,
                service=components[0] if components else None))
        return events

    # -- actions ---------------------------------------------------------------------------

    def supported_actions(self) -> Mapping[str, str | None]:
        """Acknowledge and resolve; everything else greyed out with the reason."""
        return {"ack": None, "resolve": None,
                "note": "Statuspage updates are public: write them in Statuspage",
                "silence": "Statuspage has no silences",
                "expire_silence": "Statuspage has no silences",
                **dict.fromkeys(ONCALL_ACTIONS, "Statuspage has no on-call")}

    def _body(self, action: str) -> dict[str, Any]:
        status = self.options.ack_status if action == "ack" else "resolved"
        return {"incident": {"status": status,
                             "deliver_notifications": self.options.deliver_notifications}}

    def _refused(self, action: str) -> str | None:
        return self.supported_actions().get(action, f"unknown action {action!r}")

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None,
                args: ActionArgs | None = None) -> ActionPreview:
        """The PATCH ``perform`` sends for each incident."""
        reason = self._refused(action)
        if reason is not None:
            raise ProviderError(f"{self.name}: {reason}", retryable=False)
        endpoints = ", ".join(self.client.endpoint(self._path(f"/incidents/{quote(i.id, safe='')}"))
                              for i in incidents)
        return ActionPreview(self.name, action, "PATCH", endpoints, self._body(action))

    async def perform(self, action: str, incidents: Sequence[Incident], *,
                      text: str | None = None, silence: SilenceRequest | None = None,
                      idempotency_key: str | None = None,
                      args: ActionArgs | None = None) -> ActionResult:
        """One PATCH per incident, stopping at the first failure (the message says how many
        were done); the rows done show their new status at once."""
        reason = self._refused(action)
        if reason is not None:
            return ActionResult(False, f"{self.name}: {reason}")
        if self.env.read_only:
            return ActionResult(False, f"{self.name}: context {self.env.context} is read-only")
        if not incidents:
            return ActionResult(False, f"{self.name}: no incident selected")
        new_status = IncidentStatus.ACKNOWLEDGED if action == "ack" else IncidentStatus.RESOLVED
        done: list[Incident] = []
        for incident in incidents:
            path = self._path(f"/incidents/{quote(incident.id, safe='')}")
            try:
                await self._call("PATCH", path, json=self._body(action))
            except ProviderError as exc:
                return ActionResult(False, f"{exc} ({len(done)} of {len(incidents)} done)",
                                    tuple(done), retry_after=exc.retry_after)
            done.append(replace(incident, status=new_status))
        verb = "acknowledged" if action == "ack" else "resolved"
        plural = "s" if len(done) != 1 else ""
        return ActionResult(True, f"{verb} {len(done)} incident{plural} on {self.name}",
                            tuple(done))

    # -- lifecycle -------------------------------------------------------------------------

    async def probe(self) -> ProbeResult:
        """Read the page itself (checks the key and the page id)."""
        start = time.perf_counter()
        try:
            page = await self._call("GET", self._path())
        except ProviderError as exc:
            return ProbeResult(self.name, self.TYPE, False, None, str(exc))
        name = page.get("name") if isinstance(page, dict) else None
        return ProbeResult(self.name, self.TYPE, True, (time.perf_counter() - start) * 1000,
                           detail=f"page {name}" if name else None)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


def _component_names(item: Mapping[str, Any]) -> list[str]:
    components = item.get("components")
    if not isinstance(components, list):
        return []
    return [str(c["name"]) for c in components if isinstance(c, dict) and c.get("name")]


def _update_at(update: Mapping[str, Any]) -> datetime | None:
    """When an update happened: ``display_at`` (which an author may backdate), else
    ``created_at``."""
    return parse_time(update.get("display_at")) or parse_time(update.get("created_at"))


def _updates(item: Mapping[str, Any]) -> list[tuple[datetime, Mapping[str, Any]]]:
    """The incident's updates with their time, oldest first (Statuspage lists the newest
    first); updates without a time are left out."""
    updates = item.get("incident_updates")
    timed = [(at, u) for u in (updates if isinstance(updates, list) else [])
             if isinstance(u, dict) and (at := _update_at(u)) is not None]
    return sorted(timed, key=lambda pair: pair[0])
