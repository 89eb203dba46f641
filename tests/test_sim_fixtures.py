"""Every simulator endpoint answers with the structure of the recorded real payloads."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_helpers import SimHandle, http, launch_simulator, pd_headers, structure_diff


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=5, log_rate=50)
    yield handle
    handle.stop()


def load(fixtures_dir: Path, name: str) -> Any:
    return json.loads((fixtures_dir / name).read_text())


def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _h, body = http("GET", url, headers=headers)
    return status, json.loads(body)


def q(**params: Any) -> str:
    return urllib.parse.urlencode(params, doseq=True)


# ---------------------------------------------------------------- Prometheus
def test_prom_vector_scalar_string_matrix(sim: SimHandle, fixtures_dir: Path) -> None:
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(query='app_build_info{service="checkout"}'))
    assert status == 200 and body["data"]["result"]
    assert structure_diff(load(fixtures_dir, "prom_query_vector.json"), body) == []
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(query="scalar(vector(2))"))
    assert structure_diff(load(fixtures_dir, "prom_query_scalar.json"), body) == []
    assert body["data"]["result"][1] == "2"
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(query='"hello"'))
    assert structure_diff(load(fixtures_dir, "prom_query_string.json"), body) == []
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(query="nope_metric"))
    assert body == {"status": "success", "data": {"resultType": "vector", "result": []}}
    assert structure_diff(load(fixtures_dir, "prom_query_empty_vector.json"), body) == []
    end = int(time.time()) // 60 * 60
    status, body = get_json(f"{sim.url}/api/v1/query_range?" + q(
        query='sum by (code) (rate(http_requests_total{service="checkout"}[2m]))',
        start=end - 240, end=end, step=60))
    assert status == 200
    assert structure_diff(load(fixtures_dir, "prom_query_range_matrix.json"), body) == []
    assert {r["metric"]["code"] for r in body["data"]["result"]} == {"200", "404", "500", "503"}
    assert all(len(r["values"]) == 5 for r in body["data"]["result"])


def test_prom_post_form_and_errors(sim: SimHandle, fixtures_dir: Path) -> None:
    status, _h, raw = http("POST", f"{sim.url}/api/v1/query", q(query="vector(3)").encode(),
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and json.loads(raw)["data"]["result"][0]["value"][1] == "3"
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(query="sum(rate(up[5m])"))
    fixture = load(fixtures_dir, "prom_error_400_bad_data_parse.json")
    assert status == 400 and structure_diff(fixture, body) == []
    assert body == fixture  # same position and message as Prometheus 2.42
    status, body = get_json(f"{sim.url}/api/v1/query_range?" + q(
        query="vector(1)", start=1672531200, end=1672617600, step=1))
    assert status == 400 and body == load(fixtures_dir, "prom_error_400_too_many_points.json")
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(query="topk(3, vector(1))"))
    assert status == 400 and body["errorType"] == "bad_data"
    assert "not supported" in body["error"]
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(
        query='http_requests_total{service="checkout"} + on() group_left http_requests_total'))
    assert status == 400
    status, body = get_json(f"{sim.url}/api/v1/query?" + q(
        query='sum(http_requests_total) + on() http_requests_total'))
    fixture = load(fixtures_dir, "prom_error_422_execution.json")
    assert status == 422 and structure_diff(fixture, body) == []
    assert body["error"].startswith("found duplicate series for the match group {} on the right")


def test_prom_alerts_and_buildinfo(sim: SimHandle, fixtures_dir: Path) -> None:
    status, body = get_json(f"{sim.url}/api/v1/alerts")
    assert status == 200 and structure_diff(load(fixtures_dir, "prom_alerts.json"), body) == []
    assert "CheckoutHighErrorRate" in {a["labels"]["alertname"] for a in body["data"]["alerts"]}
    status, body = get_json(f"{sim.url}/api/v1/status/buildinfo")
    assert structure_diff(load(fixtures_dir, "prom_buildinfo.json"), body) == []


# ---------------------------------------------------------------- Loki
def test_loki_streams_and_categorized(sim: SimHandle, fixtures_dir: Path) -> None:
    url = f"{sim.url}/loki/api/v1/query_range?" + q(query='{app="checkout"}', limit=30)
    status, body = get_json(url)
    assert status == 200
    fixture = load(fixtures_dir, "loki_query_range_streams.json")
    assert structure_diff(fixture, body, missing_ok={"warnings"}) == []
    values = [v for s in body["data"]["result"] for v in s["values"]]
    assert len(values) == 30 and all(len(v) == 2 for v in values)
    assert all(s["stream"]["app"] == "checkout" for s in body["data"]["result"])
    status, _h, raw = http("GET", url, headers={"X-Loki-Response-Encoding-Flags": "categorize-labels"})
    body = json.loads(raw)
    fixture = load(fixtures_dir, "loki_query_range_streams_categorized.json")
    assert structure_diff(fixture, body, missing_ok={"warnings", "parsed"}) == []
    values = [v for s in body["data"]["result"] for v in s["values"]]
    assert body["data"]["encodingFlags"] == ["categorize-labels"]
    assert all(len(v) == 3 and isinstance(v[2], dict) for v in values)


def test_loki_labels_and_errors(sim: SimHandle, fixtures_dir: Path) -> None:
    fixture = load(fixtures_dir, "loki_labels.json")
    status, body = get_json(f"{sim.url}/loki/api/v1/labels")
    assert structure_diff(fixture, body) == [] and "app" in body["data"]
    status, body = get_json(f"{sim.url}/loki/api/v1/label/app/values")
    assert structure_diff(fixture, body) == [] and "checkout" in body["data"]
    status, body = get_json(f"{sim.url}/loki/api/v1/label/nosuchlabel/values")
    assert body == {"status": "success"}  # Loki omits data when empty
    cases = [
        ({"query": '{app="checkout"}', "start": "2000000000", "end": "1900000000"},
         "loki_error_400_end_before_start.txt"),
        ({"query": '{app="checkout"}', "limit": "0"}, "loki_error_400_limit.txt"),
        ({"query": '{app="checkout"}', "start": "1600000000", "end": "1700000000", "step": "1"},
         "loki_error_400_step_too_small.txt"),
    ]
    for params, name in cases:
        status, headers, raw = http("GET", f"{sim.url}/loki/api/v1/query_range?" + q(**params))
        assert status == 400 and headers["content-type"].startswith("text/plain")
        assert raw.decode() == (fixtures_dir / name).read_text().strip()
    status, headers, raw = http("GET", f"{sim.url}/loki/api/v1/query?" + q(query='{app="checkout"}'))
    assert status == 400
    assert raw.decode() == (fixtures_dir / "loki_error_400_instant_log_query.txt").read_text().strip()
    status, _h, raw = http("GET", f"{sim.url}/loki/api/v1/query_range?" + q(query="unk({ foo = \"bar\" }[5m])"))
    assert status == 400 and raw.decode().startswith("parse error at line 1, col ")
    status, _h, raw = http("GET", f"{sim.url}/loki/api/v1/query_range?" + q(query='{app="checkout"'))
    fixture_form = (fixtures_dir / "loki_error_400_parse.txt").read_text().strip()
    assert raw.decode().split(": syntax error:")[0].rsplit(",", 1)[0] == fixture_form.split(",")[0]


# ---------------------------------------------------------------- Alertmanager
def test_alertmanager_shapes(sim: SimHandle, fixtures_dir: Path) -> None:
    status, body = get_json(f"{sim.url}/api/v2/alerts")
    assert status == 200 and body
    fixture = load(fixtures_dir, "alertmanager_get_alerts.json")
    assert structure_diff(fixture, body, extra_ok={"generatorURL"}) == []
    assert body == sorted(body, key=lambda a: a["fingerprint"])
    status, body = get_json(f"{sim.url}/api/v2/alerts?" + q(filter='alertname="CheckoutHighErrorRate"'))
    assert [a["labels"]["alertname"] for a in body] == ["CheckoutHighErrorRate"]
    assert structure_diff(load(fixtures_dir, "alertmanager_get_alerts_from_prometheus.json"), body) == []
    status, body = get_json(f"{sim.url}/api/v2/alerts/groups")
    assert structure_diff(load(fixtures_dir, "alertmanager_get_alert_groups.json"), body,
                          extra_ok={"generatorURL"}) == []
    status, body = get_json(f"{sim.url}/api/v2/silences")
    assert structure_diff(load(fixtures_dir, "alertmanager_get_silences.json"), body) == []
    status, body = get_json(f"{sim.url}/api/v2/status")
    assert structure_diff(load(fixtures_dir, "alertmanager_get_status.json"), body) == []
    status, body = get_json(f"{sim.url}/api/v2/receivers")
    assert structure_diff(load(fixtures_dir, "alertmanager_get_receivers.json"), body) == []


def test_alertmanager_errors(sim: SimHandle, fixtures_dir: Path) -> None:
    status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts?" + q(filter='alertname=~"('))
    assert status == 400 and isinstance(json.loads(raw), str)
    assert json.loads(raw) == json.loads((fixtures_dir / "alertmanager_error_bad_filter.txt").read_text())
    status, _h, raw = http("POST", f"{sim.url}/api/v2/alerts", [{"labels": {}}])
    assert status == 400
    assert json.loads(raw) == json.loads((fixtures_dir / "alertmanager_error_400_empty_labelset.txt").read_text())
    status, _h, raw = http("POST", f"{sim.url}/api/v2/alerts", [{"annotations": {"summary": "no labels"}}])
    assert status == 422
    assert json.loads(raw) == json.loads((fixtures_dir / "alertmanager_error_422_missing_labels.txt").read_text())
    past = "2020-01-01T00:00:00Z"
    status, _h, raw = http("POST", f"{sim.url}/api/v2/silences", {
        "matchers": [{"name": "alertname", "value": "x", "isRegex": False}], "startsAt": past,
        "endsAt": past, "createdBy": "t", "comment": "c"})
    assert status == 400
    assert json.loads(raw) == json.loads((fixtures_dir / "alertmanager_error_400_silence_times.txt").read_text())
    request = load(fixtures_dir, "alertmanager_post_silence_request.json")
    now = time.time()
    request["startsAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    request["endsAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
    status, _h, raw = http("POST", f"{sim.url}/api/v2/silences", request)
    assert status == 200
    assert structure_diff(load(fixtures_dir, "alertmanager_post_silence_response.json"), json.loads(raw)) == []
    status, _h, raw = http("POST", f"{sim.url}/api/v2/alerts", load(fixtures_dir, "alertmanager_post_alerts_v2.json"))
    assert status == 200
    status, body = get_json(f"{sim.url}/api/v2/alerts?" + q(filter=['alertname="DiskRunningFull"', 'instance="example2"']))
    assert len(body) == 2 and all(a["status"]["state"] == "suppressed" for a in body)


# ---------------------------------------------------------------- PagerDuty
def test_pagerduty_shapes(sim: SimHandle, fixtures_dir: Path) -> None:
    h = pd_headers()
    status, body = get_json(f"{sim.pd_url}/incidents?" + q(**{"statuses[]": ["triggered", "acknowledged"]}), h)
    assert status == 200 and body["incidents"]
    assert structure_diff(load(fixtures_dir, "pagerduty_list_incidents.json"), body,
                          extra_ok={"total"}) == []
    iid = body["incidents"][0]["id"]
    status, one = get_json(f"{sim.pd_url}/incidents/{iid}", h)
    assert structure_diff(load(fixtures_dir, "pagerduty_get_incident.json"), one) == []
    status, logs = get_json(f"{sim.pd_url}/incidents/{iid}/log_entries", h)
    assert structure_diff(load(fixtures_dir, "pagerduty_incident_log_entries.json"), logs,
                          extra_ok={"limit", "offset", "more", "total"}) == []
    status, oncalls = get_json(f"{sim.pd_url}/oncalls", h)
    assert structure_diff(load(fixtures_dir, "pagerduty_list_oncalls.json"), oncalls) == []
    note = load(fixtures_dir, "pagerduty_create_note_request.json")
    status, _h, raw = http("POST", f"{sim.pd_url}/incidents/{iid}/notes", note, pd_headers("me@example.com"))
    assert status == 200
    assert structure_diff(load(fixtures_dir, "pagerduty_create_note_response.json"), json.loads(raw)) == []
    status, notes = get_json(f"{sim.pd_url}/incidents/{iid}/notes", h)
    assert structure_diff(load(fixtures_dir, "pagerduty_list_notes.json"), notes) == []
    assert notes["notes"][-1]["content"] == note["note"]["content"]
    status, _h, raw = http("PUT", f"{sim.pd_url}/incidents", {"incidents": [
        {"id": iid, "type": "incident_reference", "status": "acknowledged"}]}, pd_headers("me@example.com"))
    assert status == 200
    assert structure_diff(load(fixtures_dir, "pagerduty_update_incidents_response.json"), json.loads(raw),
                          extra_ok={"is_mergeable", "incidents_responders", "conference_bridge",
                                    "resolve_reason", "priority", "alert_grouping",
                                    "responder_requests"}) == []
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?" + q(**{"statuses[]": "bogus"}), headers=h)
    assert status == 400
    assert json.loads(raw) == load(fixtures_dir, "pagerduty_error_400_invalid_input.json")
