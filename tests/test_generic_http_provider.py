"""``type: http`` provider against a small aiohttp incident API started in the test."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from sre_cockpit.core.models import IncidentStatus, Severity
from sre_cockpit.providers.base import ProviderEnv, ProviderError
from sre_cockpit.providers.generic_http import (
    GenericHttpOptions,
    GenericHttpProvider,
    fill_template,
    json_path,
)

ITEMS = [
    {"key": f"INC-{i}", "summary": f"thing {i} broke", "state": "open" if i % 3 else "ack",
     "level": "sev1" if i == 0 else "minor", "owner": {"name": "dana"},
     "svc": {"name": "checkout"}, "opened": 1764130000 + i, "link": f"https://inc.example/INC-{i}"}
    for i in range(7)
] + [{"key": "INC-old", "summary": "done", "state": "closed", "level": "sev1", "opened": "2026-11-26T01:00:00Z"}]


class Api:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []
        self.page_size = 3

    async def list_token(self, request: web.Request) -> web.Response:
        start = int(request.query.get("cursor", "0"))
        chunk = ITEMS[start:start + self.page_size]
        nxt = str(start + self.page_size) if start + self.page_size < len(ITEMS) else None
        return web.json_response({"data": {"incidents": chunk}, "meta": {"next": nxt}})

    async def list_link(self, request: web.Request) -> web.Response:
        start = int(request.query.get("from", "0"))
        chunk = ITEMS[start:start + self.page_size]
        headers = {}
        if start + self.page_size < len(ITEMS):
            headers["Link"] = f'</v2/link?from={start + self.page_size}>; rel="next", </v2/link>; rel="first"'
        return web.json_response(chunk, headers=headers)

    async def action(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.calls.append((request.method, request.path, body, dict(request.headers)))
        if request.match_info["id"] == "INC-5":
            return web.json_response({"message": "INC-5 is locked by another responder"}, status=409)
        return web.json_response({"ok": True})


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, Api]]:
    state = Api()
    app = web.Application()
    app.router.add_get("/v2/token", state.list_token)
    app.router.add_get("/v2/link", state.list_link)
    app.router.add_route("*", "/v2/incidents/{id}/{verb}", state.action)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", state
    finally:
        await runner.cleanup()


def make(url: str, **opts: Any) -> GenericHttpProvider:
    options = GenericHttpOptions.model_validate({
        "type": "http", "url": url, "list_url": "/v2/token", "items_path": "$.data.incidents[*]",
        "fields": {"id": "key", "title": "summary", "status": "state", "severity": "level",
                   "service": "svc.name", "started_at": "opened", "url": "link", "assignee": "owner"},
        "value_maps": {"status": {"open": "triggered", "ack": "acknowledged", "closed": "resolved"},
                       "severity": {"minor": "warning"}},
        "pagination": {"next_token": "meta.next", "token_param": "cursor"},
        "actions": {
            "ack": {"method": "POST", "url": "/v2/incidents/{id}/ack", "body": {"by": "{user}"}},
            "note": {"method": "PUT", "url": "/v2/incidents/{id}/notes",
                     "body": {"text": "{text}", "author": "{user}", "incident": "{id}"}},
        },
        **opts,
    })
    return GenericHttpProvider("team", options, ProviderEnv(user="erin"))


async def test_token_pagination_and_mapping(api: tuple[str, Api]) -> None:
    url, _ = api
    provider = make(url)
    try:
        incidents = await provider.list_incidents()
        assert [i.id for i in incidents] == [f"INC-{i}" for i in range(7)]  # closed one dropped
        first = incidents[0]
        assert first.status is IncidentStatus.ACKNOWLEDGED and first.severity is Severity.CRITICAL
        assert incidents[1].status is IncidentStatus.TRIGGERED
        assert incidents[1].severity is Severity.WARNING
        assert first.service == "checkout" and first.assignees == ("dana",)
        assert first.url == "https://inc.example/INC-0"
        assert first.started_at.timestamp() == 1764130000
    finally:
        await provider.aclose()


async def test_link_header_pagination_and_resolved(api: tuple[str, Api]) -> None:
    url, _ = api
    provider = make(url, list_url="/v2/link", items_path="$", include_resolved=True,
                    pagination={"next_link": "header"})
    try:
        incidents = await provider.list_incidents()
        assert len(incidents) == 8
        assert incidents[-1].status is IncidentStatus.RESOLVED
    finally:
        await provider.aclose()


async def test_actions_templates_and_errors(api: tuple[str, Api]) -> None:
    url, state = api
    provider = make(url)
    try:
        incidents = await provider.list_incidents()
        reasons = provider.supported_actions()
        assert reasons["ack"] is None and reasons["note"] is None
        assert reasons["resolve"] == "no actions.resolve endpoint configured for team"
        preview = provider.preview("note", incidents[:1], text='he said "hi"')
        assert preview.method == "PUT" and preview.endpoint.endswith("/v2/incidents/INC-0/notes")
        assert preview.payload == {"text": 'he said "hi"', "author": "erin", "incident": "INC-0"}
        result = await provider.perform("ack", incidents[:2])
        assert result.ok and [u.status for u in result.updated] == [IncidentStatus.ACKNOWLEDGED] * 2
        assert state.calls[0][:3] == ("POST", "/v2/incidents/INC-0/ack", {"by": "erin"})
        result = await provider.perform("note", incidents[:1], text="rolled back", idempotency_key="k9")
        assert result.ok
        assert state.calls[-1][2] == {"text": "rolled back", "author": "erin", "incident": "INC-0"}
        assert state.calls[-1][3]["Idempotency-Key"] == "k9:INC-0"
        locked = await provider.perform("ack", [incidents[4], incidents[5]])
        assert not locked.ok and "409" in locked.message and "locked by another responder" in locked.message
        assert "1 of 2 done" in locked.message
        assert not (await provider.perform("resolve", incidents[:1])).ok
    finally:
        await provider.aclose()


async def test_bad_items_path_is_a_clear_error(api: tuple[str, Api]) -> None:
    url, _ = api
    provider = make(url, items_path="data.nope")
    try:
        with pytest.raises(ProviderError) as err:
            await provider.list_incidents()
        assert "items_path 'data.nope' is not a list" in str(err.value)
    finally:
        await provider.aclose()


def test_json_path_and_templates() -> None:
    doc = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert json_path(doc, "a.b[1].c") == 2
    assert json_path(doc, "$.a.b[*]") == [{"c": 1}, {"c": 2}]
    assert json_path(doc, "$") == doc
    assert json_path(doc, "a.x.y") is None
    assert json_path(doc, "a.b[9]") is None
    body = fill_template({"t": "{text}", "n": [1, "{id}"], "k": None}, {"text": '"x"\n', "id": "7"})
    assert body == {"t": '"x"\n', "n": [1, "7"], "k": None}
    assert json.dumps(body)  # still valid JSON whatever the text


def test_json_path_projects_a_key_over_a_list() -> None:
    # the README's `assignee: owner.name` against an API whose owner is a list of people gave
    # no assignee at all: a key applied to a list is now taken from each of its objects
    doc = {"owner": [{"name": "ann"}, {"id": 7}, {"name": "bob"}], "tags": ["x"]}
    assert json_path(doc, "owner.name") == ["ann", "bob"]
    assert json_path(doc, "$.owner[*].name") == ["ann", "bob"]
    assert json_path(doc, "tags.name") is None
    assert json_path({"owner": {"name": "cy"}}, "owner.name") == "cy"


async def test_assignees_from_a_list_of_owner_objects(api: tuple[str, Api]) -> None:
    url, _ = api
    provider = make(url, fields={"id": "key", "title": "summary", "status": "state",
                                 "assignee": "owners.name"})
    saved = [dict(item) for item in ITEMS]
    try:
        for item in ITEMS:
            item["owners"] = [{"name": "ann"}, {"name": "bob"}]
        incidents = await provider.list_incidents()
        assert incidents and all(i.assignees == ("ann", "bob") for i in incidents)
    finally:
        ITEMS[:] = saved
        await provider.aclose()


def test_options_validation() -> None:
    with pytest.raises(ValueError, match="not one of"):
        GenericHttpOptions.model_validate({"type": "http", "url": "http://x", "list_url": "/",
                                           "value_maps": {"status": {"open": "burning"}}})
    with pytest.raises(ValueError, match="token_param"):
        GenericHttpOptions.model_validate({"type": "http", "url": "http://x", "list_url": "/",
                                           "pagination": {"next_token": "next"}})


async def test_note_temporary_failure_raises_for_the_outbox_but_refusal_does_not(
        api: tuple[str, Api]) -> None:
    url, _ = api
    provider = make(url)
    try:
        incidents = await provider.list_incidents()
    finally:
        await provider.aclose()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = make(dead, timeout="2s")
    try:
        with pytest.raises(ProviderError) as err:
            await down.perform("note", incidents[:1], text="still there?", idempotency_key="k1")
        assert err.value.retryable
        refused = await down.perform("ack", incidents[:1])  # actions other than notes: a toast
        assert not refused.ok and "0 of 1 done" in refused.message
    finally:
        await down.aclose()
