"""PagerDuty notes end to end: the note text of annotate log entries, one timeline event for a note
sent from the cockpit, temporary vs permanent delivery failures, and ``get_incident``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_helpers import PD_TOKEN, SimHandle, http, launch_simulator, pd_headers, structure_diff

from sre_cockpit.config.model import load_config
from sre_cockpit.core.models import Incident, IncidentStatus, Severity
from sre_cockpit.feeds.cockpit import Cockpit
from sre_cockpit.feeds.incident_lookup import find_incident
from sre_cockpit.feeds.journal import Journal, Outbox
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.timeline_sources import fetch_timeline_report
from sre_cockpit.providers.base import (
    EventSource,
    IncidentActions,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
)
from sre_cockpit.providers.http import RetryPolicy, build_client
from sre_cockpit.providers.incident_util import idempotency_marker, note_ref
from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider

NOTE1 = ("Errors started right after checkout v2.3.1 rolled out. Logs show payments.Authorize "
         "timing out at 800ms (was 5s in 2.3.0).")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    config = tmp_path_factory.mktemp("pdnotes") / "config.yaml"
    handle = launch_simulator(seed=11, log_rate=1, write_config=config)
    try:
        yield handle
    finally:
        handle.stop()


def sim_provider(sim: SimHandle) -> PagerDutyProvider:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "url": sim.pd_url,
                                               "token": PD_TOKEN,
                                               "from_email": "oncall@example.com"})
    client = build_client(options, provider="pd", retry=RetryPolicy(attempts=1))
    return PagerDutyProvider("pd", options, ProviderEnv(user="oncall"), client=client)


async def main_incident(pd: PagerDutyProvider) -> Incident:
    found = [i for i in await pd.list_incidents()
             if i.service == "checkout" and i.severity is Severity.CRITICAL]
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- simulator + provider
def test_sim_annotate_entries_carry_the_note_like_pagerduty(sim: SimHandle,
                                                            fixtures_dir: Path) -> None:
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents?statuses[]=acknowledged",
                           headers=pd_headers())
    assert status == 200
    main = next(i for i in json.loads(raw)["incidents"]
                if i["title"].startswith("CheckoutHighErrorRate"))
    status, _h, raw = http("GET", f"{sim.pd_url}/incidents/{main['id']}/log_entries",
                           headers=pd_headers())
    body = json.loads(raw)
    notes = [e for e in body["log_entries"] if e["type"] == "annotate_log_entry"]
    assert notes and notes[0]["channel"] == {"type": "note", "summary": NOTE1}
    assert notes[0]["summary"] == "Note added by Dana Whitfield"
    fixture = json.loads((fixtures_dir / "pagerduty_incident_log_entries.json").read_text())
    # The fixture's structure, plus channel.summary (which real annotate entries carry).
    assert structure_diff(fixture, body, extra_ok={"limit", "offset", "more", "total",
                                                   "summary"}) == []
    others = [e for e in body["log_entries"] if e["type"] != "annotate_log_entry"]
    assert others and all("summary" not in e["channel"] for e in others)


async def test_provider_events_show_the_note_text(sim: SimHandle) -> None:
    pd = sim_provider(sim)
    try:
        main = await main_incident(pd)
        events = await pd.list_events(main.started_at - timedelta(minutes=5))
        notes = [e for e in events if e.incident_id == main.id and e.kind == "note"]
        assert notes[0].text == f"note by Dana Whitfield: {NOTE1}"
        assert notes[0].note_ref is None  # typed in PagerDuty, not sent by a cockpit
    finally:
        await pd.aclose()


async def test_a_note_sent_from_the_cockpit_shows_once_and_delivered(sim: SimHandle,
                                                                     tmp_path: Path) -> None:
    assert sim.config is not None
    runtime = Runtime(load_config(str(sim.config)), None)
    try:
        pd = runtime.get("pd")
        assert isinstance(pd, PagerDutyProvider)
        main = await main_incident(pd)
        journal = Journal(tmp_path / "journal")
        text = "db failover done\nwatching p99"
        record = journal.add_note(text, [main])
        outbox = Outbox(journal, runtime.of(IncidentActions),  # type: ignore[type-abstract]
                        events=runtime.of(EventSource))  # type: ignore[type-abstract]
        assert await outbox.deliver_once() == 0
        assert record.state == "delivered"
        key = record.targets["pd"].idempotency_key

        # PagerDuty's own copy carries the marker; the merged timeline shows the note once.
        theirs = [e for e in await pd.list_events(main.started_at)
                  if e.kind == "note" and e.note_ref == note_ref(key, main.id)]
        assert len(theirs) == 1 and theirs[0].text.endswith(text)
        assert "\u2063" not in theirs[0].text
        report = await fetch_timeline_report(runtime, [main], journal=journal)
        copies = [e for e in report.events if "db failover done" in e.text]
        assert len(copies) == 1
        assert (copies[0].source, copies[0].state) == ("operator", "delivered")
        assert sum(1 for e in report.events if e.kind == "note" and NOTE1 in e.text) == 1

        # A cockpit that died after sending (the journal still says pending) shows it once
        # too, delivered, since PagerDuty has it.
        crashed = Journal(journal.directory)
        crashed.replay()
        late = crashed.add_note("rollback verified", [main])
        await pd.perform("note", [main], text="rollback verified",
                         idempotency_key=late.targets["pd"].idempotency_key)
        assert late.state == "pending"
        report = await fetch_timeline_report(runtime, [main], journal=crashed)
        copies = [e for e in report.events if "rollback verified" in e.text]
        assert [(e.source, e.state) for e in copies] == [("operator", "delivered")]
    finally:
        await runtime.aclose()


async def test_get_incident_fetches_resolved_incidents_and_404_is_none(sim: SimHandle) -> None:
    assert sim.config is not None
    runtime = Runtime(load_config(str(sim.config)), None)
    try:
        pd = runtime.get("pd")
        assert isinstance(pd, PagerDutyProvider)
        listed = {i.id for i in await pd.list_incidents()}
        status, _h, raw = http("GET", f"{sim.pd_url}/incidents?statuses[]=resolved&date_range=all",
                               headers=pd_headers())
        resolved = [i for i in json.loads(raw)["incidents"] if i["id"] not in listed]
        assert status == 200 and resolved
        wanted = resolved[0]
        got = await pd.get_incident(wanted["id"])
        assert got is not None and got.id == wanted["id"] and got.title == wanted["title"]
        assert got.status is IncidentStatus.RESOLVED and got.provider == "pd"
        assert got.url == wanted["html_url"] and got.service == wanted["service"]["summary"]
        assert await pd.get_incident("PNOSUCH") is None
        assert await pd.get_incident("  ") is None
        assert await pd.get_incident("../../oncalls") is None  # quoted: one path segment
        found, _known = await find_incident(Cockpit(runtime.config, runtime=runtime), wanted["id"])
        assert found.id == wanted["id"] and found.status is IncidentStatus.RESOLVED
    finally:
        await runtime.aclose()


# ---------------------------------------------------------------- fake PagerDuty (MockTransport)
FROZEN = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
TOKEN = "u+SECRETtoken123"
INCIDENT = Incident(id="PABC123", provider="pd", title="checkout down",
                    status=IncidentStatus.TRIGGERED, severity=Severity.CRITICAL,
                    service="checkout", started_at=FROZEN)

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def fake_provider(handler: Handler, timeout: str = "10s") -> PagerDutyProvider:
    options = PagerDutyOptions.model_validate({"type": "pagerduty", "token": TOKEN,
                                               "from_email": "oncall@example.com",
                                               "timeout": timeout})
    client = build_client(options, provider="pd", transport=httpx.MockTransport(handler),
                          retry=RetryPolicy(attempts=1))
    provider = PagerDutyProvider("pd", options, ProviderEnv(user="alice"), client=client)
    provider.clock = lambda: FROZEN
    return provider


def answering(status: int, body: Any = None, headers: dict[str, str] | None = None,
              *, writes_only: bool = False) -> Handler:
    """Every request (with ``writes_only``, every POST/PUT: GET notes answers none) gets this
    answer."""
    async def handler(request: httpx.Request) -> httpx.Response:
        if writes_only and request.method == "GET":
            return httpx.Response(200, json={"notes": []})
        return httpx.Response(status, json=body if body is not None else {
            "error": {"message": "Nope", "code": 2001}}, headers=headers)
    return handler


async def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def slow(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(5)
    return httpx.Response(200, json={"notes": []})


@pytest.mark.parametrize(("handler", "deadline", "kind", "words"), [
    (refused, "10s", ProviderError, "connection refused"),
    (slow, "0.2s", ProviderError, "no complete answer"),
    (answering(503, writes_only=True), "10s", ProviderError, "HTTP 503"),
    (answering(500), "10s", ProviderError, "HTTP 500"),
    (answering(429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
               {"ratelimit-reset": "12"}), "10s", RateLimitedError, "rate limited"),
], ids=["network", "deadline", "503", "500", "429"])
async def test_temporary_note_failures_raise_retryable(handler: Handler, deadline: str,
                                                      kind: type[ProviderError],
                                                      words: str) -> None:
    pd = fake_provider(handler, deadline)
    try:
        with pytest.raises(kind) as info:
            await pd.perform("note", [INCIDENT], text="checking", idempotency_key="k")
        assert info.value.retryable and words in str(info.value)
        assert TOKEN not in str(info.value)
        if kind is RateLimitedError:
            assert info.value.retry_after == 12
        # Ack and resolve stay interactive: a not-ok result for the pane's toast.
        result = await pd.perform("ack", [INCIDENT])
        assert not result.ok and result.message
    finally:
        await pd.aclose()


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_permanent_note_failures_are_not_ok_results(status: int) -> None:
    pd = fake_provider(answering(status, {"error": {"message": "Invalid Input Provided",
                                                    "code": 2001, "errors": ["bad"]}},
                                 writes_only=True))
    try:
        result = await pd.perform("note", [INCIDENT], text="checking", idempotency_key="k")
        assert not result.ok and f"HTTP {status}" in result.message
    finally:
        await pd.aclose()


async def test_outbox_retries_temporary_and_fails_permanent_pagerduty_errors(tmp_path: Path) -> None:
    answers = [answering(503), refused, answering(429, {"error": {"message": "slow down",
                                                                   "code": 2020}}),
               answering(400, writes_only=True)]
    calls: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return await answers[0](request)

    now = [FROZEN]
    journal = Journal(tmp_path, clock=lambda: now[0])
    record = journal.add_note("checking", [INCIDENT])
    pd = fake_provider(handler)
    outbox = Outbox(journal, {"pd": pd}, clock=lambda: now[0], base_delay=1, max_delay=5)
    try:
        for expected in ("HTTP 503", "ConnectError", "rate limited"):
            assert await outbox.deliver_once() == 1
            assert record.state.startswith("pending: pd: ") and expected in record.state
            answers.pop(0)
            now[0] += timedelta(seconds=outbox.next_due() + 0.001)
        assert await outbox.deliver_once() == 0
        assert record.state.startswith("failed: pd: HTTP 400")
        assert calls.count("POST") == 1  # the temporary failures hit the GET notes check
        assert journal.requeue(record.id) and record.state == "pending"
    finally:
        await pd.aclose()


async def test_annotate_entry_text_is_sanitised_and_unmarked() -> None:
    entry = {"id": "R9", "type": "annotate_log_entry", "created_at": "2026-11-26T04:10:00Z",
             "summary": "Note added by \x1b[31mMallory\x1b[0m",
             "agent": {"summary": "Mal\x1b]0;owned\x07lory"},
             "channel": {"type": "note",
                         "summary": "line one\x1b[2J\nline two" + idempotency_marker("k:PABC123")},
             "incident": {"id": "PABC123"}}
    pd = fake_provider(answering(404))
    try:
        event = pd.log_entry_to_event(entry, INCIDENT)
    finally:
        await pd.aclose()
    assert event is not None and event.kind == "note"
    assert "\x1b" not in event.text and "\x07" not in event.text and "\u2063" not in event.text
    assert event.text.startswith("note by Mal") and event.text.endswith("\nline two")
    assert "line one" in event.text
    assert event.note_ref == note_ref("k", "PABC123")
    plain = pd.log_entry_to_event({**entry, "channel": {"type": "note"}}, INCIDENT)
    assert plain is not None and "\x1b" not in plain.text and plain.note_ref is None
