"""``type: http``: reassign, escalate, snooze and status update mapped onto a team's own API,
and its assignee directory (``assignee_search``), against a small aiohttp API started here."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from pydantic import ValidationError

from sre_cockpit.providers.action_templates import fill_template, fill_url
from sre_cockpit.providers.base import (
    ONCALL_ACTIONS,
    ActionArgs,
    Assignee,
    AssigneeDirectory,
    AssigneeKind,
    ProviderEnv,
    ProviderError,
)
from sre_cockpit.providers.generic_http import GenericHttpOptions, GenericHttpProvider

ITEMS = [{"key": f"INC/{i}", "summary": f"thing {i}", "state": "open", "owner": "dana"}
         for i in range(3)]
PEOPLE = [{"uid": "u-1", "display": "Dana Whitfield", "mail": "dana@example.com"},
          {"uid": "u-2", "display": "Ravi Menon", "mail": "ravi@example.com"}]
TEAMS = [{"slug": "payments-oncall", "title": "Payments on-call"}]


class TeamApi:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []
        self.rate_limited = False

    async def incidents(self, request: web.Request) -> web.Response:
        return web.json_response({"items": ITEMS})

    async def action(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.calls.append((request.method, request.raw_path, body, dict(request.query)))
        if self.rate_limited:
            return web.json_response({"message": "slow down"}, status=429,
                                     headers={"Retry-After": "45"})
        return web.json_response({"ok": True})

    async def people(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", request.raw_path, None, dict(request.query)))
        q = request.query.get("q", "").lower()
        return web.json_response({"people": [p for p in PEOPLE if q in p["display"].lower()]})

    async def teams(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", request.raw_path, None, dict(request.query)))
        return web.json_response(TEAMS)


@pytest.fixture
async def team_api() -> AsyncIterator[tuple[str, TeamApi]]:
    state = TeamApi()
    app = web.Application()
    app.router.add_get("/v1/incidents", state.incidents)
    app.router.add_route("*", "/v1/incidents/{id}/{verb}", state.action)
    app.router.add_get("/v1/people", state.people)
    app.router.add_get("/v1/teams/search/{q}", state.teams)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", state
    finally:
        await runner.cleanup()


ACTIONS = {
    "reassign": {"method": "POST", "url": "/v1/incidents/{id}/assign",
                 "body": {"to": "{assignee}", "kind": "{assignee_kind}",
                          "note": "reassigned to {assignee_name} by {user}"}},
    "escalate": {"method": "POST", "url": "/v1/incidents/{id}/escalate",
                 "body": {"level": "{level}", "label": "L{level}"}},
    "snooze": {"method": "PUT", "url": "/v1/incidents/{id}/snooze",
               "body": {"seconds": "{duration}"}},
    "status_update": {"method": "POST", "url": "/v1/incidents/{id}/updates",
                      "body": {"message": "{message}", "by": "{user}"}},
}


def make(url: str, *, read_only: bool = False, **opts: Any) -> GenericHttpProvider:
    options = GenericHttpOptions.model_validate({
        "type": "http", "url": url, "list_url": "/v1/incidents", "items_path": "items",
        "fields": {"id": "key", "title": "summary", "status": "state", "assignee": "owner"},
        "actions": ACTIONS,
        "assignee_search": [
            {"url": "/v1/people", "params": {"q": "{query}"}, "items_path": "people",
             "id": "uid", "name": "display", "detail": "mail"},
            {"url": "/v1/teams/search/{query}", "id": "slug", "name": "title",
             "kind": "escalation_policy"}],
        **opts})
    return GenericHttpProvider("team", options, ProviderEnv(context="prod", user="erin",
                                                            read_only=read_only))


RAVI = Assignee("u-2", AssigneeKind.USER, "Ravi Menon")


async def test_each_on_call_action_sends_its_template(team_api: tuple[str, TeamApi]) -> None:
    url, api = team_api
    provider = make(url)
    try:
        incidents = await provider.list_incidents()
        assert all(provider.supported_actions()[a] is None for a in ONCALL_ACTIONS)
        preview = provider.preview("reassign", incidents[:1], args=ActionArgs(assignee=RAVI))
        assert preview.endpoint == f"{url}/v1/incidents/INC%2F0/assign"
        assert preview.payload == {"to": "u-2", "kind": "user",
                                   "note": "reassigned to Ravi Menon by erin"}
        result = await provider.perform("reassign", incidents[:2], args=ActionArgs(assignee=RAVI))
        assert result.ok and result.message == "reassigned 2 incidents on team"
        assert [u.assignees for u in result.updated] == [("Ravi Menon",)] * 2
        assert api.calls[0][:3] == ("POST", "/v1/incidents/INC%2F0/assign", preview.payload)
        await provider.perform("escalate", incidents[:1], args=ActionArgs(level=2))
        assert api.calls[-1][2] == {"level": 2, "label": "L2"}  # a whole "{level}" is a number
        await provider.perform("snooze", incidents[:1], args=ActionArgs(duration_s=5400.4))
        assert api.calls[-1][:3] == ("PUT", "/v1/incidents/INC%2F0/snooze", {"seconds": 5400})
        result = await provider.perform("status_update", incidents[:1],
                                        args=ActionArgs(message='said "rollback" {text}'))
        assert result.ok and result.updated == ()
        assert api.calls[-1][2] == {"message": 'said "rollback" {text}', "by": "erin"}
    finally:
        await provider.aclose()


async def test_missing_args_unmapped_actions_and_read_only(team_api: tuple[str, TeamApi]) -> None:
    url, api = team_api
    provider = make(url, actions={"snooze": ACTIONS["snooze"]})
    try:
        incidents = await provider.list_incidents()
        reasons = provider.supported_actions()
        assert reasons["reassign"] == "no actions.reassign endpoint configured for team"
        assert reasons["snooze"] is None
        result = await provider.perform("snooze", incidents[:1])
        assert not result.ok and "snooze needs a positive duration" in result.message
        with pytest.raises(ProviderError, match="snooze needs a positive duration"):
            provider.preview("snooze", incidents[:1])
        assert not (await provider.perform("escalate", incidents[:1], args=ActionArgs(level=1))).ok
        locked = make(url, read_only=True)
        result = await locked.perform("snooze", incidents[:1], args=ActionArgs(duration_s=60))
        assert not result.ok and result.message == "team: context prod is read-only"
        await locked.aclose()
        assert api.calls == []
    finally:
        await provider.aclose()


async def test_rate_limit_comes_back_with_retry_after(team_api: tuple[str, TeamApi]) -> None:
    url, api = team_api
    provider = make(url)
    api.rate_limited = True
    try:
        incidents = await provider.list_incidents()
        result = await provider.perform("status_update", incidents[:2], args=ActionArgs(message="x"))
        assert not result.ok and result.retry_after == 45.0
        assert "429" in result.message and "(0 of 2 done)" in result.message
    finally:
        await provider.aclose()


async def test_assignee_search_over_every_configured_endpoint(team_api: tuple[str, TeamApi]) -> None:
    url, api = team_api
    provider = make(url)
    try:
        assert isinstance(provider, AssigneeDirectory)
        found = await provider.search_assignees(" ravi m ")
        assert found == [
            Assignee("u-2", AssigneeKind.USER, "Ravi Menon", detail="ravi@example.com"),
            Assignee("payments-oncall", AssigneeKind.ESCALATION_POLICY, "Payments on-call")]
        assert api.calls[0][1:] == ("/v1/people?q=ravi+m", None, {"q": "ravi m"})
        assert api.calls[1][1] == "/v1/teams/search/ravi%20m"
    finally:
        await provider.aclose()


async def test_without_assignee_search_the_directory_says_so(team_api: tuple[str, TeamApi]) -> None:
    url, _ = team_api
    provider = make(url, assignee_search=[])
    try:
        with pytest.raises(ProviderError, match="no assignee_search configured") as err:
            await provider.search_assignees("ravi")
        assert err.value.retryable is False
    finally:
        await provider.aclose()


async def test_search_answer_that_is_not_a_list_is_one_line(team_api: tuple[str, TeamApi]) -> None:
    url, _ = team_api
    provider = make(url, assignee_search=[{"url": "/v1/people", "items_path": "nope"}])
    try:
        with pytest.raises(ProviderError, match="items_path 'nope' is not a list"):
            await provider.search_assignees("")
    finally:
        await provider.aclose()


def test_options_reject_unknown_actions_and_kinds() -> None:
    base = {"type": "http", "url": "http://x", "list_url": "/l"}
    with pytest.raises(ValidationError):
        GenericHttpOptions.model_validate({**base, "actions": {"page": ACTIONS["snooze"]}})
    with pytest.raises(ValidationError):
        GenericHttpOptions.model_validate({**base, "assignee_search": [{"url": "/p", "kind": "team"}]})
    with pytest.raises(ValidationError):
        GenericHttpOptions.model_validate({**base, "assignee_search": [{"url": "/p", "extra": 1}]})


def test_templates_fill_numbers_strings_and_urls() -> None:
    subs = {"id": "a b/c", "level": "3", "duration": "60", "message": "{id}"}
    assert fill_template({"l": "{level}", "d": ["{duration}"], "m": "{message}", "k": "{nope}"},
                         subs) == {"l": 3, "d": [60], "m": "{id}", "k": "{nope}"}
    assert fill_template({"l": "{level}"}, {}) == {"l": "{level}"}  # no value: left as written
    assert fill_url("/i/{id}/x?l={level}&u={user}", subs) == "/i/a%20b%2Fc/x?l=3&u={user}"


def test_the_readme_example_is_a_valid_config() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Your team's own incident API", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    options = GenericHttpOptions.model_validate(
        yaml.safe_load(block)["contexts"]["prod"]["providers"]["team-incidents"])
    assert set(options.actions) == {"ack", "resolve", "note", *ONCALL_ACTIONS}
    assert [s.kind for s in options.assignee_search] == [AssigneeKind.USER,
                                                          AssigneeKind.ESCALATION_POLICY]
    assert options.fields.details == {"customer impact": "impact.summary",
                                      "region": "location.region"}
