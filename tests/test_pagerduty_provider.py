"""PagerDuty provider: wire behaviour against recorded payloads and an in-test fake PagerDuty
(httpx.MockTransport) that enforces the documented rules (From header, paging cap, 429)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sre_cockpit.core.models import IncidentStatus, Severity
from sre_cockpit.providers.base import (
    EventSource,
    IncidentActions,
    IncidentSource,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
)
from sre_cockpit.providers.http import RetryPolicy, build_client
from sre_cockpit.providers.incident_util import idempotency_marker, strip_marker
from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider

FROZEN = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
TOKEN = "u+SECRETtoken123"


@dataclass
class FakePD:
    """The subset of PagerDuty's REST API the provider uses, with its rules."""

    incidents: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    fail_429: int = 0
    ratelimit_headers: bool = True

    def add(self, n: int, status: str = "triggered", urgency: str = "high") -> None:
        for _ in range(n):
            i = len(self.incidents)
            self.incidents.append({
                "id": f"P{i:06d}", "type": "incident", "title": f"incident {i}",
                "incident_number": i, "status": status, "urgency": urgency,
                "created_at": "2026-11-26T04:00:00Z", "html_url": f"https://pd.example/incidents/P{i:06d}",
                "service": {"id": "PSVC", "summary": "checkout"},
                "assignments": [{"assignee": {"id": "PU1", "summary": "Tim Wright"}}],
            })

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Token token={TOKEN}":
            return httpx.Response(401, json={"error": {"message": "Authentication Required", "code": 2006}})
        if self.fail_429:
            self.fail_429 -= 1
            headers = {"ratelimit-limit": "960", "ratelimit-remaining": "0",
                       "ratelimit-reset": "20"} if self.ratelimit_headers else {}
            return httpx.Response(429, headers=headers,
                                  json={"error": {"message": "Rate Limit Exceeded", "code": 2020}})
        path = request.url.path
        params = request.url.params
        if path == "/incidents" and request.method == "GET":
            limit = int(params.get("limit", "25"))
            offset = int(params.get("offset", "0"))
            if limit > 100 or offset + limit > 10_000:
                return httpx.Response(400, json={"error": {"message": "Invalid Input Provided",
                                                           "code": 2001, "errors": ["Offset must be less than 10000."]}})
            statuses = params.get_list("statuses[]")
            items = [i for i in self.incidents if not statuses or i["status"] in statuses]
            page = items[offset:offset + limit]
            return httpx.Response(200, json={"incidents": page, "limit": limit, "offset": offset,
                                             "more": offset + limit < len(items), "total": None})
        if path == "/incidents" and request.method == "PUT":
            if not request.headers.get("from"):
                return httpx.Response(400, json={"error": {"message": "Invalid Input Provided", "code": 2001,
                                                           "errors": ["You must specify a user's email address in the \"From\" header to perform this action"]}})
            body = json.loads(request.content)
            assert len(body["incidents"]) <= 250
            out = []
            for ref in body["incidents"]:
                inc = next(i for i in self.incidents if i["id"] == ref["id"])
                inc["status"] = ref["status"]
                out.append(inc)
            return httpx.Response(200, json={"incidents": out})
        if path.endswith("/notes"):
            inc_id = path.split("/")[2]
            if request.method == "GET":
                return httpx.Response(200, json={"notes": self.notes.get(inc_id, [])})
            if not request.headers.get("from"):
                return httpx.Response(400, json={"error": {"message": "Invalid Input Provided", "code": 2001,
                                                           "errors": ["From header is required"]}})
            note = {"id": f"N{len(self.notes.get(inc_id, []))}", "content": json.loads(request.content)["note"]["content"],
                    "created_at": "2026-11-26T05:00:00Z"}
            self.notes.setdefault(inc_id, []).append(note)
            return httpx.Response(200, json={"note": note})
        return httpx.Response(404, json={"error": {"message": "Not Found", "code": 2100}})


def make(fake: Any, token: str = TOKEN, **opts: Any) -> PagerDutyProvider:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "token": token,
                                               "from_email": "oncall@example.com", **opts})
    client = build_client(options, provider="pd", transport=httpx.MockTransport(fake),
                          retry=RetryPolicy(attempts=1))
    provider = PagerDutyProvider("pd", options, ProviderEnv(user="alice"), client=client)
    provider.clock = lambda: FROZEN
    return provider


async def test_fixture_incident_maps(fixtures_dir: Path) -> None:
    body = json.loads((fixtures_dir / "pagerduty_get_incident.json").read_text())["incident"]
    provider = make(FakePD())
    assert isinstance(provider, IncidentSource) and isinstance(provider, IncidentActions)
    assert isinstance(provider, EventSource)
    inc = provider.to_incident(body)
    assert inc.id == "PT4KHLK" and inc.title == "The server is on fire."
    assert inc.status is IncidentStatus.ACKNOWLEDGED
    assert inc.service == "My Mail Service"
    assert inc.assignees == ("Earline Greenholt",)
    assert inc.url == "https://subdomain.pagerduty.com/incidents/PT4KHLK"
    assert inc.started_at == datetime(2015, 10, 6, 21, 30, 42, tzinfo=UTC)


async def test_list_fixture_and_severity(fixtures_dir: Path) -> None:
    body = json.loads((fixtures_dir / "pagerduty_list_incidents.json").read_text())
    body["more"] = False
    provider = make(lambda r: httpx.Response(200, json=body))
    incidents = await provider.list_incidents()
    assert incidents[0].severity is Severity.HIGH  # priority P2
    p = make(FakePD(), severity_map={"P2": "critical", "low": "warning"})
    assert p.to_incident(body["incidents"][0]).severity is Severity.CRITICAL
    assert p.to_incident({"id": "x", "urgency": "low", "status": "triggered"}).severity is Severity.WARNING
    assert make(FakePD()).to_incident({"id": "x", "urgency": "high"}).severity is Severity.HIGH


async def test_paging_beyond_100_and_the_cap() -> None:
    fake = FakePD()
    fake.add(250)
    fake.add(3, status="resolved")
    provider = make(fake)
    incidents = await provider.list_incidents()
    assert len(incidents) == 250 and provider.notice is None
    offsets = [r.url.params["offset"] for r in fake.requests]
    assert offsets == ["0", "100", "200"]
    assert all(r.url.params["limit"] == "100" for r in fake.requests)
    assert fake.requests[0].url.params.get_list("statuses[]") == ["triggered", "acknowledged"]
    assert fake.requests[0].headers["accept"] == "application/vnd.pagerduty+json;version=2"

    big = FakePD()
    big.add(10_050)
    capped = make(big)
    got = await capped.list_incidents()
    assert len(got) == 10_000
    assert capped.notice and "10,000" in capped.notice
    small_cap = make(big, max_incidents=150)
    assert len(await small_cap.list_incidents()) == 150


async def test_401_is_one_redacted_line() -> None:
    provider = make(FakePD(), token="wrong-token-value")
    with pytest.raises(ProviderError) as err:
        await provider.list_incidents()
    assert "HTTP 401" in str(err.value) and "Authentication Required" in str(err.value)
    assert "wrong-token-value" not in str(err.value)


async def test_ack_resolve_round_trip_bulk() -> None:
    fake = FakePD()
    fake.add(300)
    provider = make(fake)
    incidents = await provider.list_incidents()
    preview = provider.preview("ack", incidents)
    assert preview.method == "PUT" and "2 calls" in preview.endpoint
    assert preview.payload["incidents"][0] == {"id": "P000000", "type": "incident_reference",
                                               "status": "acknowledged"}
    result = await provider.perform("ack", incidents)
    assert result.ok, result.message
    puts = [r for r in fake.requests if r.method == "PUT"]
    assert [len(json.loads(r.content)["incidents"]) for r in puts] == [250, 50]
    assert all(r.headers["from"] == "oncall@example.com" for r in puts)
    assert {u.status for u in result.updated} == {IncidentStatus.ACKNOWLEDGED}
    assert {i.status for i in await provider.list_incidents()} == {IncidentStatus.ACKNOWLEDGED}
    result = await provider.perform("resolve", incidents[:2])
    assert result.ok and len(await provider.list_incidents()) == 298


async def test_400_without_from() -> None:
    fake = FakePD()
    fake.add(1)
    provider = make(fake, from_email=None)
    incidents = await provider.list_incidents()
    assert provider.supported_actions()["ack"] is not None
    result = await provider.perform("ack", incidents)
    assert not result.ok and "from_email" in result.message
    # A From the server refuses (empty) is reported with the server's reason.
    provider.options = provider.options.model_copy(update={"from_email": ""})
    provider.supported_actions = lambda: {"ack": None, "resolve": None, "note": None}  # type: ignore[method-assign]
    result = await provider.perform("ack", incidents)
    assert not result.ok and "HTTP 400" in result.message and "From" in result.message


async def test_note_exactly_once_with_key() -> None:
    fake = FakePD()
    fake.add(1)
    provider = make(fake)
    incidents = await provider.list_incidents()
    preview = provider.preview("note", incidents, text="db failover started")
    assert preview.payload["note"] == {"content": "db failover started"}
    for _ in range(2):
        result = await provider.perform("note", incidents, text="db failover started",
                                        idempotency_key="k-1")
        assert result.ok, result.message
    notes = fake.notes["P000000"]
    assert len(notes) == 1
    assert strip_marker(notes[0]["content"]) == "db failover started"
    assert notes[0]["content"].endswith(idempotency_marker("k-1:P000000"))
    assert "already had it" in result.message
    # A different key is a different note, even with the same text.
    await provider.perform("note", incidents, text="db failover started", idempotency_key="k-2")
    assert len(fake.notes["P000000"]) == 2
    posts = [r for r in fake.requests if r.method == "POST"]
    assert all(r.headers["from"] == "oncall@example.com" for r in posts)


@pytest.mark.parametrize("with_headers", [True, False])
async def test_429_with_and_without_headers(with_headers: bool) -> None:
    fake = FakePD(fail_429=5, ratelimit_headers=with_headers)
    provider = make(fake)
    with pytest.raises(RateLimitedError) as err:
        await provider.list_incidents()
    assert err.value.retry_after == (20.0 if with_headers else 30.0)
    assert "rate limited" in str(err.value) and ("05:00:" in str(err.value))
    if not with_headers:  # consecutive 429s without headers back off, capped
        waits = []
        for _ in range(4):
            with pytest.raises(RateLimitedError) as err:
                await provider.list_incidents()
            waits.append(err.value.retry_after)
        assert waits == [60.0, 120.0, 240.0, 300.0]


async def test_oncall_and_log_entries(fixtures_dir: Path) -> None:
    oncalls = json.loads((fixtures_dir / "pagerduty_list_oncalls.json").read_text())
    entries = json.loads((fixtures_dir / "pagerduty_incident_log_entries.json").read_text())
    note_entry = {"id": "R1", "type": "annotate_log_entry", "created_at": "2015-11-07T00:20:00Z",
                  "summary": "Note added", "agent": {"summary": "Tim"},
                  "channel": {"type": "note", "summary": "checking db" + idempotency_marker("k")},
                  "incident": {"id": "PT4KHLK"}}
    entries["log_entries"].append(note_entry)
    incident = json.loads((fixtures_dir / "pagerduty_get_incident.json").read_text())["incident"]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oncalls":
            return httpx.Response(200, json=oncalls)
        if request.url.path == "/incidents/PT4KHLK/log_entries":
            return httpx.Response(200, json={**entries, "more": False})
        if request.url.path == "/incidents":
            return httpx.Response(200, json={"incidents": [incident], "more": False})
        return httpx.Response(404)

    provider = make(handler)
    assert await provider.oncall() == ["Tim Wright (L2 Engineering Escalation Policy)"]
    events = await provider.list_events(datetime(2015, 11, 1, tzinfo=UTC))
    assert [e.kind for e in events] == ["trigger", "note"]
    assert events[0].incident_id == "PT4KHLK" and events[0].id == "Q02JTSNZWHSEKV"
    assert events[0].source == "pd" and events[0].service == "My Mail Service"
    assert events[1].text == "note by Tim: checking db"


async def test_events_include_incidents_resolved_in_the_window() -> None:
    resolved = {"id": "PRES", "status": "resolved", "title": "old fire", "created_at": "2026-11-26T01:00:00Z"}
    entries = {"PRES": [{"id": "L1", "type": "resolve_log_entry", "created_at": "2026-11-26T02:00:00Z",
                         "summary": "Resolved by Tim", "incident": {"id": "PRES"}}]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/incidents":
            windowed = "since" in request.url.params
            return httpx.Response(200, json={"incidents": [resolved] if windowed else [], "more": False})
        if request.url.path.endswith("/log_entries"):
            assert request.url.params["since"] == "2026-11-26T00:00:00.000Z"
            return httpx.Response(200, json={"log_entries": entries[request.url.path.split("/")[2]],
                                             "more": False})
        return httpx.Response(404)

    provider = make(handler)
    events = await provider.list_events(datetime(2026, 11, 26, tzinfo=UTC))
    assert [(e.kind, e.incident_id, e.text) for e in events] == [("resolve", "PRES", "Resolved by Tim")]


async def test_bulk_partial_failure_reports_what_was_done() -> None:
    fake = FakePD()
    fake.add(260)
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            calls["n"] += 1
            if calls["n"] == 2:
                return httpx.Response(500, json={"error": {"message": "Internal Error", "code": 2001}})
        return fake(request)

    provider = make(handler)
    incidents = await provider.list_incidents()
    result = await provider.perform("resolve", incidents)
    assert not result.ok and "250 of 260 done" in result.message and "HTTP 500" in result.message
    assert len(result.updated) == 250
