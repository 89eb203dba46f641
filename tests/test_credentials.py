"""Credentials never leak (issue 16 item 4), unit level: redaction of every encoded form, URL
userinfo becoming basic auth, header values checked at load, credentials only to the configured
origin, and private files."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hostile_http import hostile_server

from sre_cockpit.config.files import ConfigError
from sre_cockpit.config.model import load_config
from sre_cockpit.core.privatefile import write_private_file
from sre_cockpit.providers.alertmanager import AlertmanagerOptions, AlertmanagerProvider
from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.generic_http import GenericHttpOptions, GenericHttpProvider
from sre_cockpit.providers.http import HttpOptions, RetryPolicy, build_client, secrets_of
from sre_cockpit.providers.loki import LokiOptions, LokiProvider
from sre_cockpit.providers.redaction import redact, redact_bytes, remember_secrets, secret_forms

TOKEN = "tok-C4n4ry/x+y=z"
PASSWORD = "Pa55:w0rd@canary"
FAST = RetryPolicy(attempts=1)


def opts(url: str, **kw: object) -> HttpOptions:
    return HttpOptions.model_validate({"type": "test", "url": url, **kw})


# ------------------------------------------------------------------------------ redaction

def encoded_forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        quote(secret, safe=""), quote(secret, safe="").replace("%2F", "%2f"), quote_plus(secret),
        json.dumps(secret)[1:-1], repr(secret + "\r\n"), repr((secret + "\r\n").encode()),
        base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(b"user:" + raw).decode(),  # Basic <user:pass>
        base64.b64encode(b"xy" + raw + b"tail").decode(),  # inside a longer base64 text
        f"Bearer {secret}", f"Token token={secret}",
    ]


@pytest.mark.parametrize("secret", [TOKEN, PASSWORD, "plain-secret-value"])
def test_every_encoded_form_of_a_secret_is_redacted(secret: str) -> None:
    for form in encoded_forms(secret):
        text = f"before {form} after"
        out = redact(text, [secret])
        assert secret not in out, (form, out)
        for piece in encoded_forms(secret)[:10]:
            assert piece not in out, (form, piece, out)
        assert out.startswith("before ") and "***" in out
        scrubbed = redact_bytes(text.encode(), [secret]).decode()
        assert secret not in scrubbed and "***" in scrubbed


def test_registered_secrets_are_redacted_without_being_passed() -> None:
    remember_secrets(["registered-canary-8c1d"])
    assert redact("x registered-canary-8c1d y") == "x *** y"
    # inside "Basic base64(u:…)" only the characters that encode "u:" are left
    assert redact(base64.b64encode(b"u:registered-canary-8c1d").decode()) == "dTp***"


def test_short_values_and_short_base64_fragments_are_left_alone() -> None:
    assert secret_forms("ab") == ()
    assert redact("abc table", ["xyz"]) == "abc table"
    assert all(len(f) >= 3 for f in secret_forms("xyz"))


# ------------------------------------------------------------------ userinfo → basic auth

def test_url_userinfo_becomes_basic_auth_and_leaves_the_url() -> None:
    o = opts(f"http://am-user:{quote(PASSWORD, safe='')}@127.0.0.1:9093/am")
    assert o.url == "http://127.0.0.1:9093/am"
    assert o.auth is not None and o.auth.basic is not None
    assert (o.auth.basic.username, o.auth.basic.password.get_secret_value()) == ("am-user",
                                                                                 PASSWORD)
    assert PASSWORD in secrets_of(o)
    assert PASSWORD not in o.model_dump_json() and "am-user" not in o.url


def test_url_userinfo_and_auth_is_an_error_at_url_without_the_password() -> None:
    with pytest.raises(ValueError) as info:
        opts(f"http://u:{PASSWORD}@h", auth={"bearer_token": TOKEN})
    message = str(info.value)
    assert "url" in message and "keep one" in message
    assert "Value error, has user:password@ and auth: is set too" in message


def test_alertmanager_links_never_carry_the_password() -> None:
    am = AlertmanagerProvider("alerts", AlertmanagerOptions(
        type="alertmanager", url=f"http://ops:{PASSWORD}@am.example:9093"))
    incident = am.alert_to_incident({
        "fingerprint": "f1", "labels": {"alertname": "Down", "severity": "critical"},
        "annotations": {}, "startsAt": "2026-11-26T14:00:00Z", "status": {"state": "active"}})
    assert incident is not None and incident.url is not None
    assert incident.url.startswith("http://am.example:9093/#/alerts?")
    with pytest.raises(ValueError, match=r"(?s)external_url.*must not contain user:password@"):
        AlertmanagerOptions(type="alertmanager", url="http://h",
                            external_url=f"http://ops:{PASSWORD}@am.example")


def test_generic_provider_urls_with_userinfo_are_refused() -> None:
    for bad in ({"list_url": f"http://u:{PASSWORD}@other/x"},
                {"list_url": "/x", "actions": {"ack": {"url": f"https://u:{PASSWORD}@h/a"}}}):
        with pytest.raises(ValueError, match="must not contain user:password@") as info:
            GenericHttpOptions.model_validate({"type": "http", "url": "http://h", **bad})
        assert PASSWORD not in str(info.value).split("input_value")[0]


def write_config(tmp_path: Path, provider: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("contexts:\n  prod:\n    providers:\n" + provider)
    return path


def test_config_load_moves_userinfo_out_of_the_loaded_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, f"      alerts: {{type: alertmanager, url: "
                                  f"'http://ops:{PASSWORD}@127.0.0.1:9093'}}\n")
    config = load_config(path)
    raw = config.contexts["prod"].providers["alerts"]
    assert raw["url"] == "http://127.0.0.1:9093"
    assert raw["auth"] == {"basic": {"username": "ops", "password": PASSWORD}}
    assert PASSWORD in config.secret_values()
    assert redact(f"x {PASSWORD} y") == "x *** y"  # registered for the whole process


def test_config_userinfo_and_auth_is_a_located_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, f"      alerts:\n        type: alertmanager\n"
                                  f"        url: 'http://ops:{PASSWORD}@h'\n"
                                  f"        auth: {{bearer_token: x-token}}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"{path}:6:14: contexts.prod.providers.alerts.url: has "
                               "user:password@ and auth: is set too; keep one (user:password@ in "
                               "url becomes basic auth)")


# --------------------------------------------------------------------- header values

@pytest.mark.parametrize(("content", "problem"), [
    (f"{TOKEN}\r\nX-Injected: 1\n", "contains a carriage return (CR) at character 17"),
    (f"{TOKEN}\n\n", "contains a line break (LF) at character 17"),
    (f"{TOKEN}\x00", "contains a NUL byte at character 17"),
    (f"{TOKEN} \n", "starts or ends with a space or tab"),
    (f"{TOKEN}é\n", "contains the non-ASCII character U+00E9 at character 17"),
])
def test_token_file_with_control_characters_is_a_located_config_error(
        tmp_path: Path, content: str, problem: str) -> None:
    secret = tmp_path / "token"
    secret.write_text(content, newline="")
    secret.chmod(0o600)
    path = write_config(tmp_path, "      logs:\n        type: loki\n        url: http://h\n"
                                  "        auth: {bearer_token: '${file:token}'}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:7:30: contexts.prod.providers.logs.auth.bearer_token: "
                              f"{problem}")
    assert TOKEN not in message and "\n" not in message


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_one_trailing_newline_of_a_token_file_is_stripped(tmp_path: Path, ending: str) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + ending, newline="")
    secret.chmod(0o600)
    path = write_config(tmp_path, "      logs:\n        type: loki\n        url: http://h\n"
                                  "        auth: {bearer_token: '${file:token}'}\n")
    raw = load_config(path).contexts["prod"].providers["logs"]
    assert raw["auth"]["bearer_token"] == TOKEN


@pytest.mark.parametrize(("provider", "where"), [
    ("{type: loki, url: 'http://h', headers: {'X-Scope-OrgID': \"a\\r\\nb\"}}",
     "headers.X-Scope-OrgID: contains a carriage return (CR)"),
    ("{type: loki, url: 'http://h', headers: {'Bad Header': x}}",
     "headers.Bad Header: 'Bad Header' is not a valid header name"),
    ("{type: loki, url: 'http://h', tenant: \"t\\n1\"}", "tenant: contains a line break (LF)"),
    ("{type: pagerduty, token: \"pd\\ntoken\", from_email: a@b.c}",
     "token: contains a line break (LF)"),
    ("{type: pagerduty, token: pdtoken, from_email: \"a@b.c\\r\\nX: y\"}",
     "from_email: contains a carriage return (CR)"),
    ("{type: loki, url: 'http://h', auth: {basic: {username: 'a:b', password: p}}}",
     "auth.basic.username: a basic-auth username cannot contain ':'"),
])
def test_header_values_are_checked_at_load(tmp_path: Path, provider: str, where: str) -> None:
    path = write_config(tmp_path, f"      p: {provider}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"contexts.prod.providers.p.{where}" in str(info.value)
    assert "pdtoken" not in str(info.value).split("token:")[0]


# --------------------------------------------------------------- configured origin only

async def test_client_refuses_absolute_urls_of_another_origin() -> None:
    with hostile_server(behaviour="json", json_body=lambda r: {}) as other:
        client = build_client(opts("https://incidents.example", auth={"bearer_token": TOKEN}),
                              provider="team", retry=FAST)
        try:
            with pytest.raises(ProviderError) as info:
                await client.request("GET", f"{other.url}/steal")
        finally:
            await client.aclose()
        assert other.seen == []
    assert str(info.value) == (f"team: refusing to send a request with credentials to "
                               f"{other.url}, which is not the configured "
                               "https://incidents.example:443")


def pages(next_link: str) -> object:
    def body(request: object) -> object:
        if not getattr(request, "query_string", ""):
            return {"data": [{"id": "A1", "title": "first"}], "next": next_link}
        return {"data": [{"id": "B2", "title": "second"}], "next": None}
    return body


async def test_next_link_to_another_origin_is_refused_and_never_sent() -> None:
    with hostile_server(behaviour="json", json_body=lambda r: {"data": []}) as other, \
            hostile_server(behaviour="json") as origin:
        origin.json_body = pages(f"{other.url}/api/incidents?page=2")
        provider = GenericHttpProvider("team", GenericHttpOptions.model_validate({
            "type": "http", "url": origin.url, "list_url": "/api/incidents",
            "items_path": "data", "auth": {"bearer_token": TOKEN},
            "headers": {"X-Api-Key": f"{TOKEN}-key"}, "pagination": {"next_link": "next"}}))
        try:
            with pytest.raises(ProviderError) as info:
                await provider.list_incidents()
        finally:
            await provider.aclose()
        assert other.seen == []
        assert origin.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert str(info.value) == (f"team: pagination.next_link leads to {other.url}, another "
                               f"origin than the configured {origin.url}; not followed "
                               "(credentials go only to the configured origin)")


async def test_next_link_on_the_same_origin_and_a_configured_absolute_list_url_work() -> None:
    with hostile_server(behaviour="json") as origin, hostile_server(behaviour="json") as api:
        api.json_body = pages("/api/incidents?page=2")
        provider = GenericHttpProvider("team", GenericHttpOptions.model_validate({
            "type": "http", "url": origin.url, "list_url": f"{api.url}/api/incidents",
            "items_path": "data", "auth": {"bearer_token": TOKEN},
            "pagination": {"next_link": "next"}}))
        try:
            incidents = await provider.list_incidents()
        finally:
            await provider.aclose()
    assert [i.id for i in incidents] == ["A1", "B2"]
    assert [s.path_qs for s in api.seen] == ["/api/incidents", "/api/incidents?page=2"]
    assert origin.seen == []


# ------------------------------------------------------------------- error bodies

async def test_error_body_echoing_credentials_is_scrubbed_before_providers_read_it() -> None:
    with hostile_server(behaviour="echo_auth") as srv:
        for auth in ({"bearer_token": TOKEN}, {"basic": {"username": "ops", "password": PASSWORD}}):
            secret = TOKEN if "bearer_token" in auth else PASSWORD
            loki = LokiProvider("loki", LokiOptions(type="loki", url=srv.url, auth=auth))
            try:
                with pytest.raises(ProviderError) as info:
                    await loki.query_range('{app="x"}', 0, 10)
            finally:
                await loki.aclose()
            message = str(info.value)
            assert message.startswith("loki: query_range: HTTP 401: 401 Unauthorized")
            for form in encoded_forms(secret)[:10]:
                assert form not in message, form
            echoed = srv.seen[-1].headers["authorization"]
            assert echoed.split(" ", 1)[1] not in message


# -------------------------------------------------------------------- private files

def test_private_file_is_0600_whatever_the_umask_and_the_old_mode(tmp_path: Path) -> None:
    target = tmp_path / "draft.md"
    target.write_text("old")
    target.chmod(0o644)
    old = os.umask(0)
    try:
        written = write_private_file(target, "new text")
    finally:
        os.umask(old)
    assert written == target and target.read_text() == "new text"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.md"]  # no temp file left


def test_private_file_refuses_a_fifo_and_reports_a_missing_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError) as info:
        write_private_file(fifo, "x")
    assert info.value.strerror == "not a regular file"
    with pytest.raises(FileNotFoundError):
        write_private_file(tmp_path / "missing" / "x.md", "x")
    nested = write_private_file(tmp_path / "new" / "dir" / "c.yaml", b"k: v\n", make_parents=True)
    assert stat.S_IMODE(nested.stat().st_mode) == 0o600
    assert stat.S_IMODE(nested.parent.stat().st_mode) == 0o700
