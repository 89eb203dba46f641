"""Describe data: ``Incident.details``, ``raw`` and ``runbook_url`` from all three incident
providers, against the recorded payloads (Alertmanager, PagerDuty) and a configured item."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sre_cockpit.core.models import Incident, IncidentStatus, Severity
from sre_cockpit.providers.alertmanager import AlertmanagerOptions, AlertmanagerProvider
from sre_cockpit.providers.base import ProviderEnv
from sre_cockpit.providers.generic_http import GenericHttpOptions, GenericHttpProvider
from sre_cockpit.providers.http import build_client
from sre_cockpit.providers.incident_util import RAW_CUT, RAW_LIMIT, detail_map, raw_json, value_text
from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider


def load(fixtures_dir: Path, name: str) -> Any:
    return json.loads((fixtures_dir / name).read_text())


def am_provider(fixtures_dir: Path) -> AlertmanagerProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/alerts":
            return httpx.Response(200, text=(fixtures_dir / "alertmanager_get_alerts.json").read_text())
        if request.url.path == "/api/v2/silences":
            return httpx.Response(200, text=(fixtures_dir / "alertmanager_get_silences.json").read_text())
        return httpx.Response(404)

    options = AlertmanagerOptions.model_validate({"type": "alertmanager", "url": "http://am:9093"})
    client = build_client(options, provider="am", transport=httpx.MockTransport(handler))
    return AlertmanagerProvider("am", options, ProviderEnv(user="alice"), client=client)


async def test_alertmanager_details_carry_every_label_annotation_and_status(fixtures_dir: Path) -> None:
    provider = am_provider(fixtures_dir)
    alerts = {a["fingerprint"]: a for a in load(fixtures_dir, "alertmanager_get_alerts.json")}
    incidents = {i.id: i for i in await provider.list_incidents()}
    assert set(incidents) == set(alerts)
    for fp, inc in incidents.items():
        alert = alerts[fp]
        assert inc.details["fingerprint"] == fp  # full, never truncated
        assert {k: v for k, v in inc.details.items() if k.startswith("labels.")} == {
            f"labels.{k}": v for k, v in alert["labels"].items()}
        assert {k: v for k, v in inc.details.items() if k.startswith("annotations.")} == {
            f"annotations.{k}": v for k, v in alert["annotations"].items()}
        assert inc.details["receivers"] == ", ".join(r["name"] for r in alert["receivers"])
        assert inc.details["state"] == alert["status"]["state"]
        assert inc.details["startsAt"] == alert["startsAt"]
        assert json.loads(inc.raw or "") == alert
    silenced = incidents["74eed9368316aaba"].details
    assert silenced["silencedBy"] == "f0aa80f7-1992-45dc-ac8b-8b2dfd427b4a"
    described = silenced["silences.f0aa80f7-1992-45dc-ac8b-8b2dfd427b4a"]
    assert "sre_cockpit-tests: silence example2 during test" in described
    assert "inhibitedBy" not in silenced  # empty lists are not shown
    assert incidents["6543bc164be4f176"].details["inhibitedBy"] == "7666d3970f6e15cf"
    assert list(silenced)[:3] == ["fingerprint", "state", "startsAt"]  # display order kept


async def test_alertmanager_generator_url_and_runbook(fixtures_dir: Path) -> None:
    provider = am_provider(fixtures_dir)
    alert = load(fixtures_dir, "alertmanager_get_alerts_from_prometheus.json")[0]
    inc = provider.alert_to_incident(alert)
    assert inc.runbook_url == "https://runbooks.example.com/always-firing"
    assert inc.details["generatorURL"] == alert["generatorURL"]
    assert inc.details["annotations.runbook_url"] == inc.runbook_url
    no_annotation = provider.alert_to_incident({**alert, "annotations": {"runbook": "https://rb/x"}})
    assert no_annotation.runbook_url == "https://rb/x"
    assert provider.alert_to_incident({**alert, "annotations": {}}).runbook_url is None


def test_hostile_values_are_kept_intact_for_the_display_to_neutralise(fixtures_dir: Path) -> None:
    provider = am_provider(fixtures_dir)
    hostile = "\x1b]52;c;ZWNobyBwd25lZA==\x07 [@click=app.quit]x"
    alert = {"labels": {"alertname": "A"}, "annotations": {"description": hostile},
             "fingerprint": "f" * 16, "startsAt": "2026-11-26T04:00:00Z", "status": {"state": "active"}}
    inc = provider.alert_to_incident(alert)
    assert inc.details["annotations.description"] == hostile
    assert json.loads(inc.raw or "")["annotations"]["description"] == hostile


def test_details_do_not_take_part_in_equality() -> None:
    base = Incident(id="1", provider="p", title="t", status=IncidentStatus.TRIGGERED,
                    severity=Severity.HIGH, service=None, started_at=datetime(2026, 1, 1, tzinfo=UTC))
    richer = replace(base, details=detail_map([("a", "b")]), raw="{}", runbook_url="https://rb")
    assert richer == base and hash(richer) == hash(base)


def test_pagerduty_details_from_the_recorded_incident(fixtures_dir: Path) -> None:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "token": "t0ken"})
    provider = PagerDutyProvider("pd", options, ProviderEnv())
    item = load(fixtures_dir, "pagerduty_get_incident.json")["incident"]
    inc = provider.to_incident(item)
    d = inc.details
    assert d["service"] == "My Mail Service"
    assert d["escalation_policy"] == "Another Escalation Policy"
    assert d["urgency"] == "high" and d["priority"] == "P2"
    assert d["assignees"] == "Earline Greenholt"
    assert d["acknowledgers"] == "Earline Greenholt at 2015-11-10T00:32:52Z"
    assert d["alert_counts"] == "2 (1 triggered, 1 resolved)"
    assert d["conference_bridge.conference_number"] == "+1-415-555-1212,,,,1234#"
    assert d["conference_bridge.conference_url"] == "https://example.com/acb-123"
    assert d["html_url"] == "https://subdomain.pagerduty.com/incidents/PT4KHLK"
    assert d["teams"] == "Engineering"
    assert d["incident_number"] == "1234" and d["incident_key"] == "baf7cf21b1da41b4b0221008339ff357"
    assert d["pending_actions"] == ("unacknowledge at 2015-11-10T01:02:52Z; "
                                    "resolve at 2015-11-10T04:31:52Z")
    assert d["responders"] == "Lee Turner (pending)"
    assert d["custom_fields.environment"] == "production"
    assert "resolved_at" not in d  # null in the payload: nothing to show
    assert inc.labels["escalation_policy_id"] == "PT20YPA"
    assert json.loads(inc.raw or "") == item
    assert inc.runbook_url is None


def test_pagerduty_list_fixture_maps_every_incident(fixtures_dir: Path) -> None:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "token": "t0ken"})
    provider = PagerDutyProvider("pd", options, ProviderEnv())
    for item in load(fixtures_dir, "pagerduty_list_incidents.json")["incidents"]:
        inc = provider.to_incident(item)
        assert inc.details["id"] == item["id"]
        assert inc.details.get("service") == item["service"]["summary"]
        assert json.loads(inc.raw or "") == item


def generic(**fields: Any) -> GenericHttpProvider:
    options = GenericHttpOptions.model_validate({
        "type": "http", "url": "http://inc.example", "list_url": "/v1/incidents",
        "fields": {"id": "key", "title": "summary", "status": "state", "severity": "level",
                   "service": "svc.name", "started_at": "opened", "url": "link",
                   "assignee": "owner", "runbook_url": "links.runbook", **fields}})
    return GenericHttpProvider("team", options, ProviderEnv(user="erin"))


def test_generic_details_every_mapped_field_extra_fields_and_raw() -> None:
    provider = generic(details={"impact": "customer.impact", "region": "where.region",
                                "missing": "nope.nothing"})
    item = {"key": "INC-9", "summary": "checkout down", "state": "open", "level": "sev1",
            "svc": {"name": "checkout"}, "opened": 1764130000, "link": "https://inc/INC-9",
            "owner": [{"name": "dana"}, {"name": "ravi"}], "links": {"runbook": "https://rb/checkout"},
            "customer": {"impact": "card payments fail"}, "where": {"region": "eu-west-1"},
            "unmapped": {"kept": "in raw"}}
    inc = provider.to_incident(item)
    assert inc is not None
    assert dict(inc.details) == {
        "id": "INC-9", "title": "checkout down", "status": "open", "severity": "sev1",
        "service": "checkout", "started_at": "1764130000", "url": "https://inc/INC-9",
        "assignee": '[{"name":"dana"},{"name":"ravi"}]', "runbook_url": "https://rb/checkout",
        "impact": "card payments fail", "region": "eu-west-1"}
    assert inc.runbook_url == "https://rb/checkout"
    assert json.loads(inc.raw or "") == item


def test_raw_is_bounded_and_marked_when_cut() -> None:
    provider = generic()
    item = {"key": "INC-1", "summary": "big", "blob": "x" * (RAW_LIMIT * 3)}
    inc = provider.to_incident(item)
    assert inc is not None and inc.raw is not None
    assert len(inc.raw) == RAW_LIMIT and inc.raw.endswith(RAW_CUT)
    assert raw_json(None) is None
    assert raw_json({"a": 1}) == '{"a":1}'


def test_value_text_and_detail_map() -> None:
    assert value_text(None) is None and value_text("") is None and value_text([]) is None
    assert value_text(True) == "true" and value_text(3) == "3" and value_text(2.5) == "2.5"
    assert value_text({"b": [1, "é"]}) == '{"b":[1,"é"]}'
    long = "y" * 100_000
    assert value_text(long) == long  # details are never truncated
    mapping = detail_map([("z", 1), ("a", None), ("m", "x"), ("z", 2)])
    assert list(mapping.items()) == [("z", "1"), ("m", "x")]
