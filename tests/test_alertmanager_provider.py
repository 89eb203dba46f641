"""Alertmanager provider against the recorded payloads (httpx.MockTransport)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sre_cockpit.core.models import IncidentStatus, Severity
from sre_cockpit.providers.alertmanager import AlertmanagerOptions, AlertmanagerProvider
from sre_cockpit.providers.base import (
    ONCALL_ACTIONS,
    ActionArgs,
    IncidentActions,
    IncidentSource,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
    SilenceRequest,
)
from sre_cockpit.providers.http import build_client

FROZEN = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


def make(handler: Any, **opts: Any) -> AlertmanagerProvider:
    options = AlertmanagerOptions.model_validate({"type": "alertmanager", "url": "http://am:9093", **opts})
    client = build_client(options, provider="am", transport=httpx.MockTransport(handler))
    provider = AlertmanagerProvider("am", options, ProviderEnv(user="alice"), client=client)
    provider.clock = lambda: FROZEN
    return provider


def fixture_handler(fixtures_dir: Path, seen: list[httpx.Request]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v2/alerts":
            return httpx.Response(200, text=(fixtures_dir / "alertmanager_get_alerts.json").read_text())
        if request.url.path == "/api/v2/silences" and request.method == "GET":
            return httpx.Response(200, text=(fixtures_dir / "alertmanager_get_silences.json").read_text())
        if request.url.path == "/api/v2/silences" and request.method == "POST":
            return httpx.Response(200, text=(fixtures_dir / "alertmanager_post_silence_response.json").read_text())
        if request.url.path.startswith("/api/v2/silence/") and request.method == "DELETE":
            return httpx.Response(200)
        return httpx.Response(404, text="not found")
    return handler


async def test_alerts_map_to_incidents(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []
    provider = make(fixture_handler(fixtures_dir, seen), filter=['team="x"'])
    assert isinstance(provider, IncidentSource) and isinstance(provider, IncidentActions)
    incidents = {i.id: i for i in await provider.list_incidents()}
    assert len(incidents) == 6
    assert seen[0].url.params.get_list("filter") == ['team="x"']
    crit = incidents["7666d3970f6e15cf"]
    assert crit.severity is Severity.CRITICAL and crit.status is IncidentStatus.TRIGGERED
    assert crit.title == "DiskRunningFull"  # no summary annotation
    assert crit.started_at == datetime(2026, 11, 26, 4, 32, 33, 76000, tzinfo=UTC)
    inhibited = incidents["6543bc164be4f176"]
    assert inhibited.status is IncidentStatus.ACKNOWLEDGED
    assert inhibited.severity is Severity.WARNING
    assert inhibited.detail == "inhibited by 7666d3970f6e15cf"
    silenced = incidents["74eed9368316aaba"]
    assert silenced.status is IncidentStatus.ACKNOWLEDGED
    assert silenced.title == "please check the instance example2"
    assert silenced.severity is Severity.UNKNOWN
    assert silenced.detail is not None
    assert "f0aa80f7-1992-45dc-ac8b-8b2dfd427b4a" in silenced.detail
    assert "sre_cockpit-tests: silence example2 during test" in silenced.detail
    assert "until 2026-11-26 05:32 UTC" in silenced.detail
    assert silenced.key == "am:74eed9368316aaba"
    assert silenced.url is not None and silenced.url.startswith("http://am:9093/#/alerts")


async def test_severity_map_and_service_labels(fixtures_dir: Path) -> None:
    alerts = [{"labels": {"alertname": "A", "level": "page", "job": "api"}, "fingerprint": "1",
               "startsAt": "2026-11-26T04:00:00Z", "status": {"state": "active"}},
              {"labels": {"alertname": "B", "level": "ERROR", "service": "checkout", "job": "x"},
               "fingerprint": "2", "startsAt": "2026-11-26T04:00:00.123456789Z",
               "status": {"state": "unprocessed"}},
              {"labels": {"alertname": "C", "level": "meh"}, "fingerprint": "3",
               "startsAt": "2026-11-26T04:00:00Z", "status": {"state": "active"}}]
    provider = make(lambda r: httpx.Response(200, json=alerts), severity_label="level",
                    severity_map={"meh": "info"})
    got = {i.id: i for i in await provider.list_incidents()}
    assert got["1"].severity is Severity.CRITICAL and got["1"].service == "api"
    assert got["2"].severity is Severity.HIGH and got["2"].service == "checkout"
    assert got["2"].status is IncidentStatus.TRIGGERED
    assert got["3"].severity is Severity.INFO and got["3"].service is None


@pytest.mark.parametrize(("fixture", "status", "needle"), [
    ("alertmanager_error_bad_filter.txt", 400, 'matcher value contains unescaped double quote'),
    ("alertmanager_error_422_missing_labels.txt", 422, "0.labels in body is required"),
])
async def test_errors_become_one_line(fixtures_dir: Path, fixture: str, status: int, needle: str) -> None:
    body = (fixtures_dir / fixture).read_text()
    provider = make(lambda r: httpx.Response(status, text=body,
                                             headers={"content-type": "application/json"}))
    with pytest.raises(ProviderError) as err:
        await provider.list_incidents()
    message = str(err.value)
    assert needle in message and "\n" not in message and f"HTTP {status}" in message
    assert not message.count('"matcher')  # the JSON string was decoded, not shown raw


async def test_429_is_rate_limited_with_capped_wait() -> None:
    provider = make(lambda r: httpx.Response(429, headers={"retry-after": "99999"}))
    with pytest.raises(RateLimitedError) as err:
        await provider.list_incidents()
    assert err.value.retry_after == 300.0


async def test_silence_preview_and_perform(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []
    provider = make(fixture_handler(fixtures_dir, seen))
    incidents = {i.id: i for i in await provider.list_incidents()}
    target = incidents["8320f0af89d48747"]
    req = provider.default_silence([target])
    assert req.matchers == (("alertname", "DiskRunningFull", False, True), ("dev", "sda1", False, True),
                            ("instance", "example1", False, True))
    assert req.created_by == "alice" and req.duration_s == 7200
    preview = provider.preview("silence", [target], silence=req)
    assert preview.method == "POST" and preview.endpoint == "http://am:9093/api/v2/silences"
    assert preview.payload["startsAt"] == "2026-11-26T05:00:00.000Z"
    assert preview.payload["endsAt"] == "2026-11-26T07:00:00.000Z"
    assert preview.payload["createdBy"] == "alice"
    result = await provider.perform("silence", [target], silence=req)
    assert result.ok, result.message
    assert result.updated[0].status is IncidentStatus.ACKNOWLEDGED
    sent = json.loads(seen[-1].content)
    assert sent["matchers"][0] == {"name": "alertname", "value": "DiskRunningFull",
                                   "isRegex": False, "isEqual": True}
    assert sent == preview.payload


async def test_common_labels_of_a_selection(fixtures_dir: Path) -> None:
    provider = make(fixture_handler(fixtures_dir, []))
    incidents = {i.id: i for i in await provider.list_incidents()}
    req = provider.default_silence([incidents["8320f0af89d48747"], incidents["e1d3beb1bb24a40c"]])
    assert dict((n, v) for n, v, _, _ in req.matchers) == {"alertname": "DiskRunningFull",
                                                            "instance": "example1"}


async def test_expire_silence(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []
    provider = make(fixture_handler(fixtures_dir, seen))
    incidents = {i.id: i for i in await provider.list_incidents()}
    target = incidents["74eed9368316aaba"]
    preview = provider.preview("expire_silence", [target])
    assert preview.method == "DELETE"
    assert preview.endpoint == "http://am:9093/api/v2/silence/f0aa80f7-1992-45dc-ac8b-8b2dfd427b4a"
    result = await provider.perform("expire_silence", [target])
    assert result.ok and result.updated[0].status is IncidentStatus.TRIGGERED
    assert seen[-1].method == "DELETE"
    not_silenced = await provider.perform("expire_silence", [incidents["7666d3970f6e15cf"]])
    assert not not_silenced.ok and "not silenced" in not_silenced.message


async def test_unsupported_and_read_only(fixtures_dir: Path) -> None:
    provider = make(fixture_handler(fixtures_dir, []))
    reasons = provider.supported_actions()
    assert reasons["ack"] is not None and "silence" in reasons["ack"]
    assert reasons["silence"] is None
    incidents = await provider.list_incidents()
    result = await provider.perform("ack", incidents[:1])
    assert not result.ok and "no acknowledge" in result.message
    provider.env = ProviderEnv(user="alice", read_only=True, context="prod")
    result = await provider.perform("silence", incidents[:1],
                                    silence=SilenceRequest((("a", "b", False, True),), 60, "", "alice"))
    assert not result.ok and "read-only" in result.message


async def test_silence_rejected_by_server_shows_message(fixtures_dir: Path) -> None:
    body = (fixtures_dir / "alertmanager_error_400_silence_times.txt").read_text()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(400, text=body)
        return httpx.Response(200, text=(fixtures_dir / "alertmanager_get_alerts.json").read_text())

    provider = make(handler)
    incidents = await provider.list_incidents()
    result = await provider.perform("silence", incidents[:1])
    assert not result.ok
    assert "start time must be before end time" in result.message


async def test_on_call_actions_are_explained_not_offered(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []
    provider = make(fixture_handler(fixtures_dir, seen))
    reasons = provider.supported_actions()
    assert set(ONCALL_ACTIONS) <= set(reasons)
    assert all(reasons[a] for a in ONCALL_ACTIONS)
    assert "silence instead" in (reasons["snooze"] or "")
    incidents = await provider.list_incidents()
    result = await provider.perform("snooze", incidents[:1], args=ActionArgs(duration_s=60))
    assert not result.ok and "no snooze" in result.message
    with pytest.raises(ProviderError, match="no escalation levels"):
        provider.preview("escalate", incidents[:1], args=ActionArgs(level=2))
    assert [r.method for r in seen] == ["GET", "GET"]  # the listing only
