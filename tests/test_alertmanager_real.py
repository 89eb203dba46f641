"""The Alertmanager provider against a REAL Alertmanager process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from am_helpers import create_silence, post_alerts, start_alertmanager

from sre_cockpit.core.models import IncidentStatus, Severity, Suppression
from sre_cockpit.providers.alertmanager import AlertmanagerOptions, AlertmanagerProvider
from sre_cockpit.providers.base import ProviderEnv, ProviderError

pytestmark = pytest.mark.integration


@pytest.fixture
def am_url(tmp_path: Path) -> Iterator[str]:
    url, stop = start_alertmanager(tmp_path)
    try:
        yield url
    finally:
        stop()


def provider_for(url: str, **opts: object) -> AlertmanagerProvider:
    options = AlertmanagerOptions.model_validate({"type": "alertmanager", "url": url, **opts})
    return AlertmanagerProvider("am", options, ProviderEnv(user="oncall-bob"))


async def wait_status(provider: AlertmanagerProvider, title: str, status: IncidentStatus) -> None:
    for _ in range(100):
        got = {i.title: i for i in await provider.list_incidents()}
        if title in got and got[title].status is status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{title} never became {status}: {got}")


async def test_posted_alerts_appear_mapped(am_url: str) -> None:
    post_alerts(am_url, [
        {"labels": {"alertname": "HighErrorRate", "severity": "page", "service": "checkout"},
         "annotations": {"summary": "5xx above 2% on checkout"}},
        {"labels": {"alertname": "DiskFilling", "severity": "warn", "job": "node"}},
        {"labels": {"alertname": "Odd", "severity": "whatever"}},
    ])
    provider = provider_for(am_url, severity_map={"page": "critical", "warn": "warning"})
    try:
        incidents = {i.title: i for i in await provider.list_incidents()}
        assert set(incidents) == {"5xx above 2% on checkout", "DiskFilling", "Odd"}
        err = incidents["5xx above 2% on checkout"]
        assert (err.severity, err.status, err.service) == (Severity.CRITICAL, IncidentStatus.TRIGGERED,
                                                           "checkout")
        assert len(err.id) == 16 and err.labels["alertname"] == "HighErrorRate"
        assert incidents["DiskFilling"].severity is Severity.WARNING
        assert incidents["DiskFilling"].service == "node"
        assert incidents["Odd"].severity is Severity.UNKNOWN
        probe = await provider.probe()
        assert probe.ok and probe.detail and probe.detail.startswith("Alertmanager ")
    finally:
        await provider.aclose()


async def test_silence_from_cockpit_then_expire(am_url: str) -> None:
    post_alerts(am_url, [{"labels": {"alertname": "Target", "severity": "critical", "pod": "a-1"}},
                         {"labels": {"alertname": "Other", "severity": "critical", "pod": "b-1"}}])
    provider = provider_for(am_url)
    try:
        incidents = {i.title: i for i in await provider.list_incidents()}
        target = incidents["Target"]
        req = provider.default_silence([target], comment="investigating")
        result = await provider.perform("silence", [target], silence=req)
        assert result.ok, result.message
        await wait_status(provider, "Target", IncidentStatus.ACKNOWLEDGED)
        incidents = {i.title: i for i in await provider.list_incidents()}
        assert incidents["Other"].status is IncidentStatus.TRIGGERED
        detail = incidents["Target"].detail or ""
        assert "silenced by" in detail and "oncall-bob: investigating" in detail
        result = await provider.perform("expire_silence", [incidents["Target"]])
        assert result.ok, result.message
        await wait_status(provider, "Target", IncidentStatus.TRIGGERED)
    finally:
        await provider.aclose()


async def test_filter_and_inhibition(am_url: str) -> None:
    post_alerts(am_url, [
        {"labels": {"alertname": "Dup", "severity": "critical", "inhibit_test": "yes", "team": "a"}},
        {"labels": {"alertname": "Dup", "severity": "warning", "inhibit_test": "yes", "team": "a"}},
        {"labels": {"alertname": "Elsewhere", "team": "b"}},
    ])
    provider = provider_for(am_url, filter=['team="a"'])
    try:
        for _ in range(100):
            incidents = await provider.list_incidents()
            if any(i.status is IncidentStatus.ACKNOWLEDGED for i in incidents):
                break
            await asyncio.sleep(0.05)
        assert {i.title for i in incidents} == {"Dup"}
        warning = next(i for i in incidents if i.severity is Severity.WARNING)
        assert warning.status is IncidentStatus.ACKNOWLEDGED
        assert warning.detail and warning.detail.startswith("inhibited by ")
        bad = provider_for(am_url, filter=['alertname=~"('])
        with pytest.raises(ProviderError) as err:
            await bad.list_incidents()
        assert "HTTP 400" in str(err.value)
        await bad.aclose()
    finally:
        await provider.aclose()


async def test_silence_made_elsewhere_shows_author(am_url: str) -> None:
    post_alerts(am_url, [{"labels": {"alertname": "Quiet", "severity": "info"}}])
    sid = create_silence(am_url, {"alertname": "Quiet"}, created_by="carol", comment="planned work")
    provider = provider_for(am_url)
    try:
        await wait_status(provider, "Quiet", IncidentStatus.ACKNOWLEDGED)
        incident = (await provider.list_incidents())[0]
        assert incident.detail and sid in incident.detail and "carol: planned work" in incident.detail
    finally:
        await provider.aclose()


async def test_expiring_a_silence_that_is_already_gone_is_fine(am_url: str) -> None:
    post_alerts(am_url, [{"labels": {"alertname": "Gone"}}])
    create_silence(am_url, {"alertname": "Gone"})
    provider = provider_for(am_url)
    try:
        await wait_status(provider, "Gone", IncidentStatus.ACKNOWLEDGED)
        incident = (await provider.list_incidents())[0]
        provider._silenced_by[incident.id] = (*provider._silenced_by[incident.id],
                                              "00000000-0000-0000-0000-000000000000")
        result = await provider.perform("expire_silence", [incident])
        assert result.ok, result.message
        await wait_status(provider, "Gone", IncidentStatus.TRIGGERED)
    finally:
        await provider.aclose()


async def test_silences_created_and_expired_are_timeline_events(am_url: str) -> None:
    """A real Alertmanager's silences on the timeline: the one made elsewhere (who, why) tied to
    the one alert it silences, the one made from the cockpit, and both expiries."""
    post_alerts(am_url, [{"labels": {"alertname": "Quiet", "severity": "info", "service": "db"}},
                         {"labels": {"alertname": "Loud", "severity": "critical"}}])
    sid = create_silence(am_url, {"alertname": "Quiet"}, created_by="carol", comment="planned work")
    provider = provider_for(am_url)
    since = datetime.now(UTC) - timedelta(minutes=1)
    try:
        await wait_status(provider, "Quiet", IncidentStatus.ACKNOWLEDGED)
        incidents = {i.title: i for i in await provider.list_incidents()}
        assert incidents["Quiet"].suppressed is Suppression.SILENCED
        assert incidents["Loud"].suppressed is None
        (created,) = await provider.list_events(since, None)
        assert (created.kind, created.incident_id, created.service) == (
            "silence", incidents["Quiet"].id, "db")
        assert created.text.startswith('silence created by carol: planned work — '
                                       'alertname="Quiet" until ')
        assert created.text.endswith(f"(silence {sid})")
        loud = incidents["Loud"]
        made = await provider.perform("silence", [loud], silence=provider.default_silence(
            [loud], comment="paging storm"))
        assert made.ok, made.message
        await wait_status(provider, "Loud", IncidentStatus.ACKNOWLEDGED)
        for incident in (await provider.list_incidents()):
            assert (await provider.perform("expire_silence", [incident])).ok
        await wait_status(provider, "Quiet", IncidentStatus.TRIGGERED)
        await wait_status(provider, "Loud", IncidentStatus.TRIGGERED)
        events = await provider.list_events(since, None)
        kinds = sorted((e.kind, e.text.split(" — ")[0]) for e in events)
        assert kinds == [("silence", "silence created by carol: planned work"),
                         ("silence", "silence created by oncall-bob: paging storm"),
                         ("silence_end", "silence expired"), ("silence_end", "silence expired")]
        assert all(since <= e.at <= datetime.now(UTC) for e in events)
    finally:
        await provider.aclose()
