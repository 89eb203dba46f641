"""Alertmanager (API v2) as an incident source: alerts become incidents, silences are actions.

Mapping (:mod:`.alertmanager_mapping`): id = fingerprint; title = ``annotations.summary`` else
``alertname``; severity from the ``severity`` label (configurable label and word map); service
from the first present label of ``service_labels``; ``active``/``unprocessed`` → triggered,
``suppressed`` → acknowledged with ``suppressed`` saying ``silenced`` (who and why, the end and
the silence's id in ``detail``) or ``inhibited`` (the inhibiting alerts in ``detail``).
Alertmanager has no acknowledge, resolve or notes: ``supported_actions`` says so and points at
silences. As an ``EventSource`` it puts the silences (created, expired) on the timeline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field, field_validator

from sre_cockpit.core.durations import Duration, format_duration
from sre_cockpit.core.models import (
    Incident,
    IncidentStatus,
    ProbeResult,
    Severity,
    Suppression,
    TimelineEvent,
    utcnow,
)
from sre_cockpit.providers.alertmanager_mapping import alert_to_incident
from sre_cockpit.providers.alertmanager_silences import (
    SILENCE_KINDS,
    KnownAlert,
    describe_silence,
    matches,
    silence_events,
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
from sre_cockpit.providers.credentials import split_userinfo
from sre_cockpit.providers.http import HttpClient, HttpOptions, HttpProvider, build_client
from sre_cockpit.providers.incident_util import (
    SameAnswers,
    error_text,
    format_time,
    iter_json_array,
    rate_limit_wait,
)

ACTIONS = ("ack", "resolve", "note", "silence", "expire_silence", *ONCALL_ACTIONS)
YIELD_EVERY_S = 0.004
"""Longest stretch of decoding or converting alerts before yielding to the event loop: 5,000
alerts take ~0.3 s, which would otherwise hold every key press that long."""


class AlertmanagerOptions(HttpOptions):
    """``type: alertmanager`` options."""

    type: str = "alertmanager"
    filter: list[str] = Field(default_factory=list)
    """Matchers passed as ``filter=`` (e.g. ``team="payments"``), all must match."""
    receiver: str | None = None
    """Only alerts routed to receivers matching this regex."""
    severity_label: str = "severity"
    severity_map: dict[str, Severity] = Field(default_factory=dict)
    """Extra label values → severity, e.g. ``{page: critical, error: high, warn: warning}``."""
    service_labels: list[str] = Field(default_factory=lambda: ["service", "job"])
    silence_default_duration: Duration = 7200.0
    silence_matcher_labels: list[str] | None = None
    """Labels the silence dialog proposes as matchers (default: all the alert's labels)."""
    include_silenced: bool = True
    include_inhibited: bool = True
    external_url: str | None = None
    """Alertmanager's public URL for links (default: ``url``)."""
    max_body: ByteSize = 16 * MIB
    """Largest answer accepted: ``/api/v2/alerts`` lists every alert at once (no paging), about
    1–2 KB each, so 16 MiB holds an alert storm of ~10,000 alerts."""

    @field_validator("external_url")
    @classmethod
    def _no_credentials_in_links(cls, value: str | None) -> str | None:
        # Links are shown, copied (OSC 52), journaled and exported: never with a password.
        if value is not None and split_userinfo(value)[1] is not None:
            raise ValueError("must not contain user:password@ (links are shown, copied and "
                             "exported); put the credentials of url under auth:")
        return value


class AlertmanagerProvider(HttpProvider):
    """Alerts from an Alertmanager, silences as actions."""

    TYPE: ClassVar[str] = "alertmanager"
    Options: ClassVar[type[AlertmanagerOptions]] = AlertmanagerOptions
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INCIDENTS, Capability.INCIDENT_ACTIONS, Capability.EVENTS})

    options: AlertmanagerOptions

    def __init__(self, name: str, options: AlertmanagerOptions, env: ProviderEnv | None = None,
                 *, client: HttpClient | None = None) -> None:
        super().__init__(name, options, env)
        self.client = client or build_client(options, provider=name)
        self.clock: Callable[[], datetime] = utcnow
        """Where "now" comes from for silence start/end (tests freeze it)."""
        self._silenced_by: dict[str, tuple[str, ...]] = {}
        self._converted: dict[str, Incident] = {}
        """Last poll's incidents by their alert's JSON text: an alert the server sends again
        byte for byte (with the same silences) is the same incident, not converted again."""
        self._converted_silences: object = None
        self._answers: SameAnswers[tuple[list[dict[str, Any]], list[str]]] = SameAnswers()
        """Last poll's ``/api/v2/alerts`` answer, decoded (the same bytes are not decoded
        again: 5,000 alerts are ~3 MB of JSON)."""
        self._alerts: dict[str, KnownAlert] = {}
        """The last listing's alerts by id: which alert a silence on the timeline is about."""
        self._rate_limited = 0

    # -- reading ---------------------------------------------------------------------------

    async def _get_json(self, path: str, params: Any = None) -> Any:
        resp = await self.client.request("GET", path, params=params)
        self._raise_for(resp, path)
        try:
            return resp.json()
        except ValueError as exc:
            raise ProviderError(f"{self.name}: {self.client.endpoint(path)} did not answer JSON "
                                f"(HTTP {resp.status_code})") from exc

    def _raise_for(self, resp: Any, path: str) -> None:
        status = resp.status_code
        if status < 400:
            self._rate_limited = 0
            return
        if status == 429:
            self._rate_limited += 1
            wait = rate_limit_wait(resp, self._rate_limited)
            raise RateLimitedError(f"{self.name}: rate limited (429)", status=429, retry_after=wait)
        message = self.client.redact(error_text(resp))
        hint = ""
        if status in (401, 403):
            hint = " (check auth for this Alertmanager)"
        elif status == 404:
            hint = " (is this an Alertmanager with API v2?)"
        raise ProviderError(f"{self.name}: HTTP {status} from {self.client.endpoint(path)}: "
                            f"{message}{hint}", status=status,
                            retryable=status >= 500 or status == 408)

    async def list_incidents(self) -> list[Incident]:
        """Current alerts (Alertmanager never lists resolved ones) as incidents."""
        params: list[tuple[str, str]] = [("filter", m) for m in self.options.filter]
        params += [("silenced", str(self.options.include_silenced).lower()),
                   ("inhibited", str(self.options.include_inhibited).lower())]
        if self.options.receiver:
            params.append(("receiver", self.options.receiver))
        alerts, raws = await self._get_alerts(params)
        silences: dict[str, Mapping[str, Any]] = {}
        if any((a.get("status") or {}).get("silencedBy") for a in alerts if isinstance(a, dict)):
            try:
                for sil in await self._get_json("/api/v2/silences") or []:
                    if isinstance(sil, dict) and sil.get("id"):
                        silences[str(sil["id"])] = sil
            except ProviderError:
                silences = {}  # the detail is a nicety; the alerts are what matter
        incidents = []
        silenced_by: dict[str, tuple[str, ...]] = {}
        silences_now = sorted((sid, json.dumps(s, sort_keys=True, default=str))
                              for sid, s in silences.items())
        previous = self._converted if silences_now == self._converted_silences else {}
        converted: dict[str, Incident] = {}
        last = time.perf_counter()
        for alert, raw in zip(alerts, raws, strict=True):
            if time.perf_counter() - last > YIELD_EVERY_S:
                await asyncio.sleep(0)  # a flood of alerts: let keys through
                last = time.perf_counter()
            incident = previous.get(raw)
            if incident is None:
                incident = self.alert_to_incident(alert, silences, raw=raw)
            converted[raw] = incident
            incidents.append(incident)
            silenced_by[incident.id] = self._silences_of(alert)
        self._silenced_by = silenced_by
        self._alerts = {i.id: KnownAlert(i.labels, i.service) for i in incidents}
        self._converted, self._converted_silences = converted, silences_now
        return incidents

    async def _get_alerts(self, params: Any) -> tuple[list[dict[str, Any]], list[str]]:
        """``GET /api/v2/alerts``: the alert objects and each one's JSON text, decoded one by
        one with yields to the event loop (see :func:`iter_json_array`)."""
        path = "/api/v2/alerts"
        resp = await self.client.request("GET", path, params=params)
        self._raise_for(resp, path)
        self._answers.begin()
        known = self._answers.get(path, resp.content)
        if known is not None:  # the same bytes as last poll: the same alerts, not decoded
            self._answers.done()
            return known
        alerts: list[dict[str, Any]] = []
        raws: list[str] = []
        last = time.perf_counter()
        try:
            for item, raw in iter_json_array(resp.text):
                if isinstance(item, dict):
                    alerts.append(item)
                    raws.append(raw)
                if time.perf_counter() - last > YIELD_EVERY_S:
                    await asyncio.sleep(0)
                    last = time.perf_counter()
        except ValueError as exc:
            what = ("not a list" if str(exc) == "not a JSON array"
                    else f"not JSON: {exc}")
            raise ProviderError(f"{self.name}: unexpected answer from {path} ({what}, "
                                f"HTTP {resp.status_code})") from exc
        self._answers.keep(path, resp.content, (alerts, raws))
        self._answers.done()
        return alerts, raws

    @property
    def event_kinds(self) -> frozenset[str]:
        """Its timeline events are silences only: the cockpit records its alerts' starts and
        ends itself (``EventKinds``)."""
        return SILENCE_KINDS

    async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]:
        """Silences created and expired between ``since`` and ``until`` (None: now), from
        ``GET /api/v2/silences`` (Alertmanager keeps expired ones for its retention, 5 days by
        default), each tied to the alert it silences when it silences exactly one."""
        answer = await self._get_json("/api/v2/silences")
        if not isinstance(answer, list):
            raise ProviderError(f"{self.name}: unexpected answer from /api/v2/silences (not a list)")
        return silence_events(answer, source=self.name, since=since,
                              until=until if until is not None else self.clock(),
                              alerts=self._alerts, service_labels=self.options.service_labels)

    @staticmethod
    def _silences_of(alert: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(str(s) for s in (alert.get("status") or {}).get("silencedBy") or ())

    def alert_to_incident(self, alert: Mapping[str, Any],
                          silences: Mapping[str, Mapping[str, Any]] | None = None, *,
                          raw: str | None = None) -> Incident:
        """Map one v2 alert (and the silences it refers to) to an Incident (see
        :func:`~sre_cockpit.providers.alertmanager_mapping.alert_to_incident`)."""
        opts = self.options
        return alert_to_incident(alert, silences, raw=raw, provider=self.name,
                                 severity_label=opts.severity_label,
                                 severity_map=opts.severity_map,
                                 service_labels=opts.service_labels,
                                 link_base=opts.external_url or opts.url, now=self.clock)

    # -- actions ---------------------------------------------------------------------------

    def supported_actions(self) -> Mapping[str, str | None]:
        """Silence and expire silence; the rest is explained."""
        return {
            "ack": "Alertmanager has no acknowledge: silence instead (s)",
            "resolve": "Alertmanager alerts resolve when their source stops firing: silence instead (s)",
            "note": "Alertmanager alerts cannot carry notes",
            "silence": None,
            "expire_silence": None,
            "reassign": "Alertmanager alerts have no assignee: its routes decide who is notified",
            "escalate": "Alertmanager has no escalation levels",
            "snooze": "Alertmanager has no snooze: silence instead (s)",
            "status_update": "Alertmanager has no status updates",
        }

    def default_silence(self, incidents: Sequence[Incident], *, comment: str = "") -> SilenceRequest:
        """The silence the dialog proposes: equality matchers on the labels the selected alerts
        share (all of a single alert's labels, or ``silence_matcher_labels``)."""
        common: dict[str, str] | None = None
        for inc in incidents:
            labels = dict(inc.labels)
            if self.options.silence_matcher_labels is not None:
                labels = {k: v for k, v in labels.items() if k in self.options.silence_matcher_labels}
            common = labels if common is None else {k: v for k, v in common.items()
                                                    if labels.get(k) == v}
        matchers = tuple((k, v, False, True) for k, v in sorted((common or {}).items()))
        return SilenceRequest(matchers=matchers, duration_s=self.options.silence_default_duration,
                              comment=comment, created_by=self.env.user)

    def silence_body(self, silence: SilenceRequest) -> dict[str, Any]:
        """The POST /api/v2/silences body for ``silence`` starting now."""
        start = self.clock()
        return {
            "matchers": [{"name": n, "value": v, "isRegex": r, "isEqual": e}
                         for n, v, r, e in silence.matchers],
            "startsAt": format_time(start),
            "endsAt": format_time(start + timedelta(seconds=silence.duration_s)),
            "createdBy": silence.created_by or self.env.user,
            "comment": silence.comment or f"silenced from sre-cockpit for {format_duration(silence.duration_s)}",
        }

    def _silence_ids(self, incidents: Sequence[Incident]) -> list[str]:
        ids: list[str] = []
        for inc in incidents:
            for sid in self._silenced_by.get(inc.id, ()):
                if sid not in ids:
                    ids.append(sid)
        return ids

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None,
                args: ActionArgs | None = None) -> ActionPreview:
        """What ``perform`` will send."""
        self._check_supported(action)
        if action == "silence":
            req = silence or self.default_silence(incidents)
            return ActionPreview(self.name, action, "POST", self.client.endpoint("/api/v2/silences"),
                                 self.silence_body(req))
        ids = self._silence_ids(incidents)
        endpoint = ", ".join(self.client.endpoint(f"/api/v2/silence/{quote(i, safe='')}")
                             for i in ids) or "(no silence on the selected alerts)"
        return ActionPreview(self.name, action, "DELETE", endpoint, None)

    def _check_supported(self, action: str) -> None:
        reason = self.supported_actions().get(action, f"unknown action {action!r}")
        if reason is not None:
            raise ProviderError(f"{self.name}: {reason}", retryable=False)

    async def perform(self, action: str, incidents: Sequence[Incident], *,
                      text: str | None = None, silence: SilenceRequest | None = None,
                      idempotency_key: str | None = None,
                      args: ActionArgs | None = None) -> ActionResult:
        """Create or expire silences. Errors come back as ``ActionResult(ok=False)``."""
        reason = self.supported_actions().get(action, f"unknown action {action!r}")
        if reason is not None:
            return ActionResult(False, f"{self.name}: {reason}")
        if self.env.read_only:
            return ActionResult(False, f"{self.name}: context {self.env.context} is read-only")
        try:
            if action == "silence":
                return await self._silence(incidents, silence or self.default_silence(incidents))
            return await self._expire(incidents)
        except ProviderError as exc:
            return ActionResult(False, str(exc))

    async def _silence(self, incidents: Sequence[Incident], req: SilenceRequest) -> ActionResult:
        if not req.matchers:
            return ActionResult(False, f"{self.name}: a silence needs at least one matcher")
        if req.duration_s <= 0:
            return ActionResult(False, f"{self.name}: a silence needs a positive duration")
        body = self.silence_body(req)
        resp = await self.client.request("POST", "/api/v2/silences", json=body)
        self._raise_for(resp, "/api/v2/silences")
        try:
            sid = str(resp.json().get("silenceID") or "")
        except (ValueError, AttributeError):
            sid = ""
        updated = []
        for inc in incidents:
            if matches(inc.labels, req.matchers):
                self._silenced_by[inc.id] = (*self._silenced_by.get(inc.id, ()), sid)
                updated.append(replace(inc, status=IncidentStatus.ACKNOWLEDGED,
                                       suppressed=Suppression.SILENCED,
                                       detail=describe_silence(sid, body)))
        return ActionResult(True, f"silence {sid} created for {format_duration(req.duration_s)} "
                                  f"({len(req.matchers)} matchers)", tuple(updated))

    async def _expire(self, incidents: Sequence[Incident]) -> ActionResult:
        ids = self._silence_ids(incidents)
        if not ids:
            return ActionResult(False, f"{self.name}: the selected alerts are not silenced")

        async def expire(sid: str) -> None:
            path = f"/api/v2/silence/{quote(sid, safe='')}"
            resp = await self.client.request("DELETE", path)
            if resp.status_code == 404 or (resp.status_code == 500
                                           and "not found" in error_text(resp).lower()):
                return  # already gone (Alertmanager 0.25 answers 500 "silence not found")
            self._raise_for(resp, path)

        await asyncio.gather(*(expire(s) for s in ids))
        updated = []
        for inc in incidents:
            if self._silenced_by.pop(inc.id, None):
                inhibited = bool(inc.detail and "inhibited by" in inc.detail)
                updated.append(replace(
                    inc, status=IncidentStatus.ACKNOWLEDGED if inhibited else IncidentStatus.TRIGGERED,
                    suppressed=Suppression.INHIBITED if inhibited else None,
                    detail=inc.detail.split("; ")[-1] if inhibited and inc.detail else None))
        return ActionResult(True, f"expired {len(ids)} silence{'s' if len(ids) != 1 else ''}: "
                                  + ", ".join(ids), tuple(updated))

    # -- lifecycle -------------------------------------------------------------------------

    async def probe(self) -> ProbeResult:
        """GET /api/v2/status: version and cluster state."""
        start = time.perf_counter()
        try:
            status = await self._get_json("/api/v2/status")
        except ProviderError as exc:
            return ProbeResult(self.name, self.TYPE, False, None, str(exc))
        latency = (time.perf_counter() - start) * 1000
        version = ((status or {}).get("versionInfo") or {}).get("version", "?")
        return ProbeResult(self.name, self.TYPE, True, latency, detail=f"Alertmanager {version}")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
