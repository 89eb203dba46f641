"""Alert floods in the Alertmanager provider: the answer is decoded element by element (each
alert's own text is its ``raw``), the event loop gets turns while thousands of alerts are
decoded and converted, and timestamps are parsed once per distinct string."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from sre_cockpit.providers.alertmanager import AlertmanagerOptions, AlertmanagerProvider
from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.http import build_client
from sre_cockpit.providers.incident_util import RAW_CUT, iter_json_array, parse_time


def test_iter_json_array_gives_each_element_and_its_text() -> None:
    text = ' [ {"a": "\\u003cb\\u003e"} ,\n [2], "x", null ] \n'
    assert list(iter_json_array(text)) == [({"a": "<b>"}, '{"a": "\\u003cb\\u003e"}'),
                                           ([2], "[2]"), ("x", '"x"'), (None, "null")]
    assert list(iter_json_array("[]")) == [] and list(iter_json_array(" [ ] ")) == []


@pytest.mark.parametrize(("text", "message"), [
    ("{}", "not a JSON array"), ("", "not a JSON array"), ("[1 2]", "expected ','"),
    ("[1] x", "extra data"), ("[1,", "Expecting value"), ("<html>", "not a JSON array"),
])
def test_iter_json_array_refuses_what_is_not_one_array(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        list(iter_json_array(text))


def flood(count: int) -> list[dict[str, Any]]:
    return [{"labels": {"alertname": f"A{n % 50}", "instance": f"h{n}", "severity": "critical"},
             "annotations": {"summary": f"alert {n}", "runbook_url": "https://r.example/x"},
             "startsAt": "2026-11-23T10:00:00.123456789Z",
             "updatedAt": "2026-11-26T10:00:00Z", "endsAt": "2026-11-26T12:00:00Z",
             "fingerprint": f"{n:016x}", "receivers": [{"name": "null"}],
             "generatorURL": "http://prom/graph?g0.expr=up",
             "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}
            for n in range(count)]


def provider(body: str) -> AlertmanagerProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/silences":
            return httpx.Response(200, text="[]")
        return httpx.Response(200, text=body, headers={"Content-Type": "application/json"})

    options = AlertmanagerOptions.model_validate({"type": "alertmanager", "url": "http://am"})
    client = build_client(options, provider="am", transport=httpx.MockTransport(handler))
    return AlertmanagerProvider("am", options, client=client)


async def test_raw_is_the_servers_own_text_and_incidents_match() -> None:
    alerts = flood(3)
    alerts[1]["annotations"]["big"] = "x" * 20_000  # a raw longer than 16 KiB is cut
    body = json.dumps(alerts)
    incidents = await provider(body).list_incidents()
    assert [i.id for i in incidents] == [a["fingerprint"] for a in alerts]
    assert incidents[0].raw == json.dumps(alerts[0])
    assert incidents[1].raw is not None and incidents[1].raw.endswith(RAW_CUT)
    assert len(incidents[1].raw) == 16_384
    assert incidents[0].runbook_url == "https://r.example/x"
    assert incidents[0].started_at == parse_time("2026-11-23T10:00:00.123456Z")


async def test_a_body_that_is_not_a_list_is_one_line() -> None:
    with pytest.raises(ProviderError, match=r"unexpected answer from /api/v2/alerts \(not a list"):
        await provider('{"error": "nope"}').list_incidents()
    with pytest.raises(ProviderError, match="not JSON"):
        await provider("[{]").list_incidents()


async def test_the_event_loop_gets_turns_during_a_flood() -> None:
    """5,000 alerts: a ticker task runs many times while they are decoded and converted, and
    none of its waits is long (keys are handled between slices)."""
    body = json.dumps(flood(5000))
    am = provider(body)
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    try:
        incidents = await am.list_incidents()
    finally:
        done.set()
        await task
    assert len(incidents) == 5000
    assert len(gaps) > 20  # many turns, not one at the end
    gaps.sort()
    assert gaps[int(len(gaps) * 0.9)] < 0.05  # slices of a few ms (generous for a loaded CI)


def test_timestamps_are_parsed_once_per_distinct_string() -> None:
    from sre_cockpit.providers import incident_util

    incident_util._parse_time_text.cache_clear()
    for _ in range(3):
        parse_time("2026-11-23T10:00:00.123456789Z")
    info = incident_util._parse_time_text.cache_info()
    assert info.misses == 1 and info.hits == 2
    assert parse_time("2026-11-23T10:00:00Z") == parse_time(1795341600 + 86400)


async def test_an_alert_sent_again_byte_for_byte_is_not_converted_again() -> None:
    alerts = flood(3)
    bodies = [json.dumps(alerts)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/silences":
            return httpx.Response(200, text=json.dumps(silences))
        return httpx.Response(200, text=bodies[-1])

    silences: list[dict[str, Any]] = []
    options = AlertmanagerOptions.model_validate({"type": "alertmanager", "url": "http://am"})
    am = AlertmanagerProvider("am", options, client=build_client(
        options, provider="am", transport=httpx.MockTransport(handler)))
    first = await am.list_incidents()
    again = await am.list_incidents()
    assert all(a is b for a, b in zip(first, again, strict=True))  # no work for the same alert
    alerts[1]["updatedAt"] = "2026-11-26T10:01:00Z"  # re-sent by Prometheus: it changed
    bodies.append(json.dumps(alerts))
    third = await am.list_incidents()
    assert third[0] is first[0] and third[1] is not first[1]
    assert third[1].details["updatedAt"] == "2026-11-26T10:01:00Z"
    # a silence changes what an alert reads: everything is converted again
    alerts[2]["status"] = {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []}
    silences.append({"id": "s1", "createdBy": "carol", "comment": "swap",
                     "endsAt": "2026-11-26T12:00:00Z"})
    bodies.append(json.dumps(alerts))
    fourth = await am.list_incidents()
    assert fourth[2].silenced and "carol" in (fourth[2].detail or "")
    silences[0]["comment"] = "disk swap, day 2"
    fifth = await am.list_incidents()
    assert "day 2" in (fifth[2].detail or "") and fifth[0] is not fourth[0]


async def test_describe_fields_are_built_on_first_read_from_values_only() -> None:
    from sre_cockpit.providers.incident_util import LazyDetails

    alerts = flood(2)
    am = provider(json.dumps(alerts))
    (first, _second) = await am.list_incidents()
    assert isinstance(first.details, LazyDetails)
    build = first.details._build
    assert build is not None and build.__closure__ is not None
    held = [cell.cell_contents for cell in build.__closure__]
    assert not any(isinstance(value, AlertmanagerProvider) for value in held)  # values only
    eager = am.alert_to_incident(alerts[0], {})  # the same alert, no server text: same fields
    assert dict(first.details) == dict(eager.details)
    assert first.details["labels.instance"] == "h0" and first.details["fingerprint"] == first.id
    assert first.details._build is None  # built once


async def test_an_answer_sent_again_byte_for_byte_is_not_decoded_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sre_cockpit.providers.alertmanager as am_module

    decoded: list[int] = []

    def counting(text: str) -> Any:
        decoded.append(len(text))
        return iter_json_array(text)

    monkeypatch.setattr(am_module, "iter_json_array", counting)
    alerts = flood(3)
    answers = [httpx.Response(200, text=json.dumps(alerts))]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/silences":
            return httpx.Response(200, text="[]")
        return answers[-1]

    options = AlertmanagerOptions.model_validate({"type": "alertmanager", "url": "http://am"})
    am = AlertmanagerProvider("am", options, client=build_client(
        options, provider="am", transport=httpx.MockTransport(handler)))
    first = await am.list_incidents()
    again = await am.list_incidents()
    assert len(decoded) == 1 and [i.key for i in again] == [i.key for i in first]
    # a failed poll keeps the last good answer to compare with
    answers.append(httpx.Response(500, text="boom"))
    with pytest.raises(ProviderError):
        await am.list_incidents()
    answers.append(httpx.Response(200, text=json.dumps(alerts)))
    assert [i.key for i in await am.list_incidents()] == [i.key for i in first]
    assert len(decoded) == 1
    alerts[0]["annotations"]["summary"] = "changed"
    answers.append(httpx.Response(200, text=json.dumps(alerts)))
    changed = await am.list_incidents()
    assert len(decoded) == 2 and changed[0].title == "changed" and changed[1] is first[1]
