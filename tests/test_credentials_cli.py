"""Credentials never leak, through the real process (issue 16 item 4): ``sre-cockpit logs`` against
a Loki that echoes the Authorization header in a 401, ``snapshot`` and the cockpit in a pty with an
Alertmanager ``url: http://user:PASS@host`` (JSON, the ``o`` toast and its OSC 52 payload, the
notes journal), a token file with CR/LF, a pagination link to another origin, and the mode of
every file the cockpit writes."""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from hostile_http import hostile_server
from rss_helpers import run_cli, run_pty
from sim_helpers import launch_simulator

pytestmark = [pytest.mark.slow]

TOKEN = "tok-C4n4ry-7Qx/+e"
PASSWORD = "Am-Pa55:canary"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, SRE_COCKPIT_DATA_DIR=str(tmp_path / "data"), **extra)


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, quote(secret, safe=""), base64.b64encode(raw).decode(),
            json.dumps(secret)[1:-1]]


def _config(tmp_path: Path, providers: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("contexts:\n  prod:\n    providers:\n" + providers)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("auth", ["bearer", "basic-in-url"])
def test_logs_never_prints_an_echoed_authorization_header(tmp_path: Path, auth: str) -> None:
    with hostile_server(behaviour="echo_auth") as loki:
        if auth == "bearer":
            secret = TOKEN
            provider = (f"      loki:\n        type: loki\n        url: {loki.url}\n"
                        "        auth: {bearer_token: '${env:LOKI_TOKEN}'}\n")
        else:
            secret = PASSWORD
            provider = (f"      loki:\n        type: loki\n"
                        f"        url: 'http://ops:{quote(PASSWORD, safe='')}@"
                        f"{loki.url.removeprefix('http://')}'\n")
        config = _config(tmp_path, provider)
        status, out, err, _peak = run_cli(["logs", "--config", str(config)],
                                          env=_env(tmp_path, LOKI_TOKEN=TOKEN))
        sent = loki.seen[0].headers["authorization"]
    assert sent == (f"Bearer {TOKEN}" if auth == "bearer" else
                    "Basic " + base64.b64encode(f"ops:{PASSWORD}".encode()).decode())
    assert (status, out) == (1, "")
    assert err.startswith("sre-cockpit: loki: query_range: HTTP 401: 401 Unauthorized: bad "
                          "credentials in Authorization: ***")
    for form in [*_forms(secret), sent.split(" ", 1)[1],
                 base64.b64encode(f"ops:{PASSWORD}".encode()).decode()]:
        assert form not in err, form


def _sim_config_with_am_userinfo(tmp_path: Path) -> tuple[object, Path]:
    written = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=1, log_rate=20, write_config=written)
    doc = yaml.safe_load(written.read_text())
    for ctx in doc["contexts"].values():
        for provider in ctx["providers"].values():
            if provider["type"] == "alertmanager":
                provider["url"] = provider["url"].replace(
                    "http://", f"http://ops:{quote(PASSWORD, safe='')}@")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(doc))
    config.chmod(0o600)
    return sim, config


def test_snapshot_json_and_file_never_carry_the_url_password(tmp_path: Path) -> None:
    sim, config = _sim_config_with_am_userinfo(tmp_path)
    out_file = tmp_path / "snap.json"
    out_file.write_text("old")
    out_file.chmod(0o644)
    try:
        status, out, err, _peak = run_cli(["snapshot", "--format", "json", "--config",
                                           str(config)], env=_env(tmp_path))
        to_file = subprocess.run(
            [sys.executable, "-m", "sre_cockpit", "snapshot", "--format", "json", "-o",
             str(out_file), "--config", str(config)], capture_output=True, text=True,
            env=_env(tmp_path), timeout=120, check=False)
    finally:
        sim.stop()  # type: ignore[attr-defined]
    assert status == 0, err
    incidents = json.loads(out)["incidents"]
    am_urls = [i["url"] for i in incidents if i["provider"] == "alerts"]
    assert am_urls and all(u.startswith(f"{sim.url}/#/alerts?") for u in am_urls)  # type: ignore[attr-defined]
    for text in (out, err, to_file.stdout, to_file.stderr, out_file.read_text()):
        for form in _forms(PASSWORD):
            assert form not in text
    assert to_file.returncode == 0
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600


def test_cockpit_copy_toast_osc52_and_journal_never_carry_the_url_password(
        tmp_path: Path) -> None:
    sim, config = _sim_config_with_am_userinfo(tmp_path)
    try:
        run = run_pty(["--config", str(config)], seconds=12, env=_env(tmp_path),
                      watch=lambda s: "alerts ok" in "\n".join(s.display)
                      and "critical" in "\n".join(s.display),
                      keys=[(0.5, b"1"), (1.0, b"o"), (3.0, b"n"), (4.0, b"a local note"),
                            (5.0, b"\x13")])
    finally:
        sim.stop()  # type: ignore[attr-defined]
    raw = run.raw.decode("utf-8", "replace")
    copied = [base64.b64decode(m.group(1)).decode()
              for m in re.finditer(r"\x1b\]52;[a-z]*;([A-Za-z0-9+/=]+)", raw)]
    assert copied and copied[0].startswith(f"{sim.url}/#/alerts?")  # type: ignore[attr-defined]
    store = sqlite3.connect(tmp_path / "data" / "notes.db")
    try:
        journal = "\n".join(store.iterdump())  # every value the notes store holds
    finally:
        store.close()
    assert "a local note" in journal
    assert f"{sim.url}/#/alerts?" in journal  # type: ignore[attr-defined]
    for form in _forms(PASSWORD):
        assert form not in raw and form not in journal and all(form not in c for c in copied)
    for path in (tmp_path / "data").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_url_userinfo_with_auth_is_exit_2_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, f"      alerts:\n        type: alertmanager\n"
                               f"        url: 'http://ops:{PASSWORD}@127.0.0.1:9'\n"
                               "        auth: {bearer_token: x-token-1}\n")
    status, out, err, _peak = run_cli(["check", "--config", str(config)], env=_env(tmp_path))
    assert (status, out) == (2, "")
    assert err == (f"{config}:6:14: contexts.prod.providers.alerts.url: has user:password@ and "
                   "auth: is set too; keep one (user:password@ in url becomes basic auth)\n")


def test_token_file_with_crlf_is_a_located_config_error(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(f"{TOKEN}\r\nX-Injected: yes\n".encode())
    token.chmod(0o600)
    config = _config(tmp_path, "      loki:\n        type: loki\n        url: http://127.0.0.1:9\n"
                               "        auth: {bearer_token: '${file:token}'}\n")
    for command in (["check"], ["logs"], ["snapshot"]):
        status, out, err, _peak = run_cli([*command, "--config", str(config)],
                                          env=_env(tmp_path))
        assert (status, out) == (2, ""), command
        assert err == (f"{config}:7:30: contexts.prod.providers.loki.auth.bearer_token: contains "
                       "a carriage return (CR) at character 18; a header value is one line (a "
                       "${file:} secret may end with one newline, nothing more)\n")
        assert TOKEN not in err and "Illegal header" not in err


def test_token_file_with_one_trailing_newline_is_sent_without_it(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(f"{TOKEN}\n".encode())
    token.chmod(0o600)
    with hostile_server(behaviour="tail_huge") as loki:  # range queries: an empty Loki
        config = _config(tmp_path, f"      loki:\n        type: loki\n        url: {loki.url}\n"
                                   "        auth: {bearer_token: '${file:token}'}\n")
        status, out, err, _peak = run_cli(["logs", "--config", str(config)], env=_env(tmp_path))
        sent = loki.seen[0].headers["authorization"]
    assert (status, out, err) == (0, "", "")
    assert sent == f"Bearer {TOKEN}"


def test_next_link_to_another_origin_is_refused_and_gets_nothing(tmp_path: Path) -> None:
    with hostile_server(behaviour="json", json_body=lambda r: {"items": []}) as other, \
            hostile_server(behaviour="json") as team:
        team.json_body = lambda r: {"items": [{"id": "INC-1", "title": "db down"}],
                                    "next": f"{other.url}/incidents?page=2"}
        config = _config(tmp_path, f"      team:\n        type: http\n        url: {team.url}\n"
                                   "        list_url: /incidents\n        items_path: items\n"
                                   "        auth: {bearer_token: '${env:TEAM_TOKEN}'}\n"
                                   "        headers: {X-Api-Key: '${env:TEAM_KEY}'}\n"
                                   "        pagination: {next_link: next}\n")
        status, out, err, _peak = run_cli(["snapshot", "--format", "json", "--config",
                                           str(config)],
                                          env=_env(tmp_path, TEAM_TOKEN=TOKEN,
                                                   TEAM_KEY=f"{TOKEN}-api-key"))
        assert other.seen == []
        assert team.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert status == 1
    error = json.loads(out)["providers"][0]["error"]
    assert error == (f"team: pagination.next_link leads to {other.url}, another origin than "
                     f"the configured {team.url}; not followed (credentials go only to the "
                     "configured origin)")
    assert TOKEN not in out + err


def test_postmortem_draft_is_written_0600(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=1, write_config=config)
    out_file = tmp_path / "pm.md"
    out_file.write_text("old draft")
    out_file.chmod(0o644)
    try:
        listing = subprocess.run([sys.executable, "-m", "sre_cockpit", "postmortem", "NOPE",
                                  "--config", str(config)], capture_output=True, text=True,
                                 env=_env(tmp_path), timeout=120, check=False)
        known = listing.stderr.strip().split("known: ", 1)[1].split(", ")
        target = next(k for k in known if k.startswith("pd:"))
        done = subprocess.run(["sh", "-c", 'umask 022 && exec "$@"', "sh", sys.executable, "-m",
                               "sre_cockpit", "postmortem", target, "-o", str(out_file),
                               "--config", str(config)], capture_output=True, text=True,
                              env=_env(tmp_path), timeout=120, check=False)
    finally:
        sim.stop()
    assert done.returncode == 0, done.stderr
    assert out_file.read_text().startswith("#")
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".pm.md")) == []
