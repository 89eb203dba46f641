"""Thousands of PagerDuty incidents: each page's incidents keep their own JSON text (their
``raw``, never encoded again) and an incident PagerDuty sends again byte for byte is last
poll's incident, not converted again."""

from __future__ import annotations

import json

import pytest
from test_pagerduty_provider import FakePD, make

from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.incident_util import json_object_with_items


def test_json_object_with_items_keeps_each_element_text() -> None:
    page, items = json_object_with_items(
        '{"incidents": [ {"id": "P1"} ,{"id":"P2"}], "more": false, "x": {"incidents": [3]}}',
        "incidents")
    assert page == {"incidents": [{"id": "P1"}, {"id": "P2"}], "more": False,
                    "x": {"incidents": [3]}}
    assert [text for _, text in items] == ['{"id": "P1"}', '{"id":"P2"}']
    assert json_object_with_items("{}", "incidents") == ({}, [])
    for bad in ("[]", '{"a" 1}', '{"a": 1', '{"a": 1} x'):
        with pytest.raises(ValueError):
            json_object_with_items(bad, "a")


async def test_unchanged_incidents_are_not_converted_again() -> None:
    fake = FakePD()
    fake.add(250)  # three pages
    pd = make(fake)
    first = await pd.list_incidents()
    assert len(first) == 250 and json.loads(first[0].raw or "") == fake.incidents[0]
    again = await pd.list_incidents()
    assert all(a is b for a, b in zip(first, again, strict=True))
    fake.incidents[120]["status"] = "acknowledged"
    third = await pd.list_incidents()
    assert third[0] is first[0] and third[120] is not first[120]
    assert third[120].status.value == "acknowledged"


async def test_a_page_that_is_not_json_is_one_line() -> None:
    import httpx

    from sre_cockpit.providers.http import RetryPolicy, build_client
    from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider

    options = PagerDutyOptions.model_validate({"type": "pagerduty", "token": "t"})
    client = build_client(options, provider="pd", retry=RetryPolicy(attempts=1),
                          transport=httpx.MockTransport(
                              lambda r: httpx.Response(200, text="<html>proxy</html>")))
    with pytest.raises(ProviderError, match="did not answer JSON"):
        await PagerDutyProvider("pd", options, client=client).list_incidents()


async def test_the_timelines_first_events_wait_for_the_listing_in_progress() -> None:
    """At start the incident feed lists every incident and the timeline asks for events, which
    needs the same list: it waits for that listing instead of fetching all pages again."""
    import asyncio
    from datetime import timedelta

    import httpx

    class WithLogs(FakePD):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/log_entries"):
                self.requests.append(request)
                return httpx.Response(200, json={"log_entries": [], "more": False})
            return super().__call__(request)

    fake = WithLogs()
    fake.add(250)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # a network: the two callers interleave
        return fake(request)

    pd = make(slow, event_incident_limit=5)
    since = pd.clock() - timedelta(hours=1)
    incidents, _events = await asyncio.gather(pd.list_incidents(), pd.list_events(since))
    assert len(incidents) == 250
    listings = [r for r in fake.requests if r.url.path == "/incidents"
                and r.url.params.get_list("statuses[]")]
    assert len(listings) == 3  # one listing of three pages, not two


async def test_a_page_sent_again_byte_for_byte_is_not_decoded_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sre_cockpit.providers.pagerduty as pd_module

    decoded: list[str] = []

    def counting(text: str, member: str) -> object:
        decoded.append(member)
        return json_object_with_items(text, member)

    monkeypatch.setattr(pd_module, "json_object_with_items", counting)
    fake = FakePD()
    fake.add(250)  # three pages
    pd = make(fake)
    first = await pd.list_incidents()
    assert len(decoded) == 3
    again = await pd.list_incidents()
    assert len(decoded) == 3 and all(a is b for a, b in zip(first, again, strict=True))
    fake.incidents[120]["status"] = "acknowledged"  # on the second page only
    third = await pd.list_incidents()
    assert len(decoded) == 4 and third[120].status.value == "acknowledged"
    assert third[0] is first[0]
