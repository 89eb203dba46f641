"""Simulated PagerDuty and Alertmanager behaviour: auth, From, paging, rate limits, silences."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from sim_helpers import SimHandle, http, launch_simulator, pd_headers, set_fault


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=9, pd_extra_incidents=130)
    yield handle
    handle.stop()


def _json(raw: bytes) -> Any:
    return json.loads(raw)


def _q(**params: Any) -> str:
    return urllib.parse.urlencode(params, doseq=True)


def test_pd_requires_token(sim: SimHandle) -> None:
    for headers in ({}, {"Authorization": "Token token=wrong"}, {"Authorization": "Bearer sim-pagerduty-token"}):
        status, _h, raw = http("GET", f"{sim.pd_url}/incidents", headers=headers)
        assert status == 401
        assert set(_json(raw)["error"]) >= {"message", "code"}


def test_pd_writes_require_from(sim: SimHandle) -> None:
    body = {"incidents": [{"id": "PXXXXXX", "type": "incident_reference", "status": "acknowledged"}]}
    status, _h, raw = http("PUT", f"{sim.pd_url}/incidents", body, pd_headers())
    err = _json(raw)["error"]
    assert status == 400 and err["code"] == 2001 and "From" in err["errors"][0]
    status, _h, raw = http("POST", f"{sim.pd_url}/incidents/PXXXXXX/notes",
                           {"note": {"content": "x"}}, pd_headers())
    assert status == 400


def test_pd_paging_beyond_100(sim: SimHandle) -> None:
    seen: list[str] = []
    offset = 0
    total = None
    while True:
        status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(limit=100, offset=offset, total="true"),
                               headers=pd_headers())
        page = _json(raw)
        assert status == 200 and page["limit"] == 100 and page["offset"] == offset
        total = page["total"]
        seen += [i["id"] for i in page["incidents"]]
        if not page["more"]:
            break
        offset += 100
    assert total == len(seen) == len(set(seen)) and total > 130
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(limit=500), headers=pd_headers())
    assert _json(raw)["limit"] == 100 and len(_json(raw)["incidents"]) == 100
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(limit=100, offset=9950), headers=pd_headers())
    assert status == 400 and _json(raw)["error"]["code"] == 2001
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents", headers=pd_headers())
    assert _json(raw)["total"] is None and _json(raw)["limit"] == 25


def test_pd_filters_and_story(sim: SimHandle) -> None:
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(**{
        "statuses[]": ["triggered", "acknowledged"], "urgencies[]": "high", "limit": 100}), headers=pd_headers())
    rows = _json(raw)["incidents"]
    assert rows and all(i["status"] in ("triggered", "acknowledged") and i["urgency"] == "high" for i in rows)
    story = [i for i in rows if i["title"].startswith("CheckoutHighErrorRate")]
    assert len(story) == 1 and story[0]["status"] == "acknowledged"
    assert story[0]["acknowledgements"][0]["acknowledger"]["summary"] == "Dana Whitfield"
    svc = story[0]["service"]["id"]
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(**{"service_ids[]": svc, "limit": 100}),
                           headers=pd_headers())
    assert all(i["service"]["id"] == svc for i in _json(raw)["incidents"])
    iid = story[0]["id"]
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{iid}/notes", headers=pd_headers())
    assert status == 200 and len(_json(raw)["notes"]) >= 2
    _status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{iid}/log_entries", headers=pd_headers())
    kinds = [e["type"] for e in _json(raw)["log_entries"]]
    assert kinds[:2] == ["trigger_log_entry", "acknowledge_log_entry"] and "annotate_log_entry" in kinds


def test_pd_ack_resolve_and_note_change_state(sim: SimHandle) -> None:
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(**{"statuses[]": "triggered", "limit": 100}),
                           headers=pd_headers())
    target = next(i for i in _json(raw)["incidents"] if i["title"].startswith("PaymentsLatencyHigh"))
    iid = target["id"]
    me = pd_headers("operator@example.com")
    status, _h, raw = http("PUT", f"{sim.pd_url}/incidents", {"incidents": [
        {"id": iid, "type": "incident_reference", "status": "acknowledged"}]}, me)
    assert status == 200 and _json(raw)["incidents"][0]["status"] == "acknowledged"
    status, _h, raw = http("POST", f"{sim.pd_url}/incidents/{iid}/notes", {"note": {"content": "looking"}}, me)
    assert status == 200 and _json(raw)["note"]["content"] == "looking"
    status, _h, raw = http("POST", f"{sim.pd_url}/incidents/{iid}/notes", {"note": {"content": " "}}, me)
    assert status == 400
    status, _h, raw = http("PUT", f"{sim.pd_url}/incidents", {"incidents": [
        {"id": iid, "type": "incident_reference", "status": "resolved"}]}, me)
    assert _json(raw)["incidents"][0]["status"] == "resolved"
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{iid}", headers=pd_headers())
    inc = _json(raw)["incident"]
    assert inc["status"] == "resolved" and inc["resolved_at"]
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{iid}/log_entries", headers=pd_headers())
    kinds = [e["type"] for e in _json(raw)["log_entries"]]
    assert kinds[-3:] == ["acknowledge_log_entry", "annotate_log_entry", "resolve_log_entry"]
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{iid}/notes", headers=pd_headers())
    assert _json(raw)["notes"][-1]["user"]["summary"] == "operator"


def test_pd_rate_limit_with_and_without_headers() -> None:
    handle = launch_simulator(pd_rate_limit=3)
    try:
        statuses = []
        for _ in range(4):
            status, headers, raw = http("GET", f"{handle.pd_url}/oncalls", headers=pd_headers())
            statuses.append(status)
        assert statuses == [200, 200, 200, 429]
        assert headers["ratelimit-limit"] == "3" and headers["ratelimit-remaining"] == "0"
        assert 1 <= int(headers["ratelimit-reset"]) <= 60
        assert _json(raw) == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    finally:
        handle.stop()
    handle = launch_simulator(faults=["pagerduty:error429_noheaders"])
    try:
        status, headers, raw = http("GET", f"{handle.pd_url}/oncalls", headers=pd_headers())
        assert status == 429 and not any(k.startswith("ratelimit-") for k in headers)
        assert _json(raw)["error"]["code"] == 2020
        set_fault(handle.url, "pagerduty", "error429")
        status, headers, raw = http("GET", f"{handle.pd_url}/oncalls", headers=pd_headers())
        assert status == 429 and headers["ratelimit-reset"] == "20"
    finally:
        handle.stop()


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_alertmanager_silence_lifecycle(sim: SimHandle) -> None:
    def checkout() -> dict[str, Any]:
        status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts?" + _q(filter='alertname="CheckoutHighErrorRate"'))
        rows = _json(raw)
        assert status == 200 and len(rows) == 1
        return rows[0]  # type: ignore[no-any-return]

    assert checkout()["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
    now = time.time()
    status, _h, raw = http("POST", f"{sim.url}/api/v2/silences", {
        "matchers": [{"name": "alertname", "value": "CheckoutHigh.*", "isRegex": True, "isEqual": True},
                     {"name": "service", "value": "checkout", "isRegex": False}],
        "startsAt": _iso(now - 1), "endsAt": _iso(now + 3600), "createdBy": "operator",
        "comment": "working on it"})
    assert status == 200
    sid = _json(raw)["silenceID"]
    alert = checkout()
    assert alert["status"]["state"] == "suppressed" and alert["status"]["silencedBy"] == [sid]
    status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts?" + _q(silenced="false"))
    assert "CheckoutHighErrorRate" not in {a["labels"]["alertname"] for a in _json(raw)}
    status, _h, raw = http("GET", f"{sim.url}/api/v2/silence/{sid}")
    assert _json(raw)["status"]["state"] == "active"
    status, _h, _raw = http("DELETE", f"{sim.url}/api/v2/silence/{sid}")
    assert status == 200
    status, _h, raw = http("GET", f"{sim.url}/api/v2/silence/{sid}")
    assert _json(raw)["status"]["state"] == "expired"
    assert checkout()["status"]["state"] == "active"
    status, _h, _raw = http("DELETE", f"{sim.url}/api/v2/silence/00000000-0000-4000-8000-000000000000")
    assert status == 404


def test_alertmanager_preexisting_silence_and_posted_alerts(sim: SimHandle) -> None:
    status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts?" + _q(filter="alertname=DiskSpaceLow"))
    rows = _json(raw)
    assert rows[0]["status"]["state"] == "suppressed" and rows[0]["status"]["silencedBy"]
    status, _h, _raw = http("POST", f"{sim.url}/api/v2/alerts", [
        {"labels": {"alertname": "ManualTest", "severity": "warning", "instance": "i1"},
         "annotations": {"summary": "posted"}}])
    assert status == 200
    status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts?" + _q(filter='alertname="ManualTest"'))
    rows = _json(raw)
    assert len(rows) == 1 and rows[0]["annotations"] == {"summary": "posted"}
    status, _h, _raw = http("POST", f"{sim.url}/api/v2/alerts", [
        {"labels": {"alertname": "ManualTest", "severity": "critical", "instance": "i1"}}])
    status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts?" + _q(filter='alertname="ManualTest"'))
    warning = next(a for a in _json(raw) if a["labels"]["severity"] == "warning")
    assert warning["status"]["state"] == "suppressed" and warning["status"]["inhibitedBy"]
    status, _h, _raw = http("POST", f"{sim.url}/api/v2/alerts", [
        {"labels": {"alertname": "ManualTest", "severity": "warning", "instance": "i1"},
         "endsAt": _iso(time.time() - 60), "startsAt": _iso(time.time() - 120)}])
    status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts?" + _q(filter='alertname="ManualTest"'))
    assert [a["labels"]["severity"] for a in _json(raw)] == ["critical"]  # resolved is never listed


def test_pd_since_until_and_log_entry_filters(sim: SimHandle) -> None:
    state = _json(http("GET", f"{sim.url}/_sim/state")[2])
    start = state["start"]
    window = {"since": _iso(start - 3600), "until": _iso(start + 60), "limit": 100}
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(**window), headers=pd_headers())
    rows = _json(raw)["incidents"]
    assert status == 200 and rows
    assert {i["title"].split(":")[0] for i in rows} == {"CheckoutHighErrorRate", "PaymentsLatencyHigh"}
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(date_range="all", limit=100, total="true"),
                           headers=pd_headers())
    assert _json(raw)["total"] > 130
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + _q(since="yesterday"), headers=pd_headers())
    assert status == 400 and _json(raw)["error"]["code"] == 2001
    iid = state["pd_incident_ids"]["checkout"]
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{iid}/log_entries?" + _q(is_overview="true"),
                           headers=pd_headers())
    assert "annotate_log_entry" not in {e["type"] for e in _json(raw)["log_entries"]}
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{iid}/log_entries?" + _q(
        since=_iso(state["story"]["pd_ack"] - 1)), headers=pd_headers())
    kinds = [e["type"] for e in _json(raw)["log_entries"]]
    assert kinds and "trigger_log_entry" not in kinds and kinds[0] == "acknowledge_log_entry"
