"""The example provider plugin (``examples/statuspage``): proof that the provider seams work.

In this process (fast): the plugin module against a Statuspage on loopback — options checked
like any provider's (line and column in the config), incidents mapped, paging, rate limits and
errors as one redacted line, acknowledge/resolve previews and PATCHes, notes greyed out with the
reason, incident updates as timeline events.

End to end (slow): a fresh venv gets sre-cockpit built from this checkout and the example built
from its own ``pyproject.toml`` — nothing in ``sre_cockpit/`` knows about it — plus a broken
variant of it; then the venv's real ``sre-cockpit`` lists the plugin with its distribution,
``snapshot --format json`` shows its incidents in the cockpit's one ordering and its updates on
the timeline, the broken plugin costs one warning line and no traceback, and the cockpit on a
pty shows the plugin's incidents and updates, shows the broken plugin as a failed source, and
acknowledges an incident through the plugin from the keyboard.

Offline: the fresh venv borrows this interpreter's installed third-party packages (textual,
httpx, pydantic…; never sre-cockpit itself) through a ``.pth`` file, and pip is told not to retry
an unreachable index, so the only thing pip fetches is the build backend (setuptools) from its
configured index — a local one here.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from config_helpers import error_of, write
from notes_helpers import Cockpit
from statuspage_helpers import KEY, PAGE, StatuspageStub

from sre_cockpit.core.models import Incident, IncidentStatus, Severity
from sre_cockpit.feeds.incidents import incident_order
from sre_cockpit.providers import registry
from sre_cockpit.providers.base import (
    EventSource,
    IncidentActions,
    IncidentSource,
    NoticeSource,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "statuspage"
EXPECTED_ORDER = ["p0checkout001", "p0search00001", "p0login000001", "p0payments001"]
"""Triggered before acknowledged, then by severity: not the API's newest-first order."""


@pytest.fixture(scope="module")
def plugin() -> Iterator[ModuleType]:
    """The example's module, imported from its folder (no install needed in this process)."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        yield importlib.import_module("cockpit_statuspage")
    finally:
        sys.path.remove(str(EXAMPLE))
        sys.modules.pop("cockpit_statuspage", None)


@pytest.fixture
def stub() -> Iterator[StatuspageStub]:
    server = StatuspageStub().start()
    try:
        yield server
    finally:
        server.stop()


def provider(plugin: ModuleType, stub: StatuspageStub, *, read_only: bool = False,
             **options: Any) -> Any:
    opts = plugin.StatuspageOptions.model_validate(
        {"type": "statuspage", "url": stub.url, "api_key": KEY, "page_id": PAGE,
         "timeout": "5s", **options})
    return plugin.StatuspageProvider("status", opts,
                                     ProviderEnv(context="prod", user="ann", read_only=read_only))


# ------------------------------------------------------------------------------- in process


def test_options_are_checked_with_line_and_column(plugin: ModuleType, tmp_path: Path) -> None:
    registry.register("statuspage", plugin.StatuspageProvider)
    try:
        path = write(tmp_path, f"""
            contexts:
              prod:
                providers:
                  status:
                    type: statuspage
                    api_key: {KEY}
                    page_id: {PAGE}
                    pageid: {PAGE}
            """)
        assert error_of(path) == (f"{path}:8:9: contexts.prod.providers.status.pageid: unknown "
                                  "key 'pageid' (did you mean 'page_id'?)")
        path = write(tmp_path, """
            contexts:
              prod:
                providers:
                  status: {type: statuspage, api_key: k, page_id: "../admin"}
            """)
        assert "page_id" in error_of(path) and "only letters, digits" in error_of(path)
        path = write(tmp_path, """
            contexts:
              prod:
                providers:
                  status: {type: statuspage, api_key: k, page_id: p, auth: {bearer_token: t}}
            """)
        assert "authenticates with api_key; remove auth" in error_of(path)
    finally:
        registry.unregister("statuspage")


async def test_unresolved_incidents_are_mapped(plugin: ModuleType, stub: StatuspageStub) -> None:
    status = provider(plugin, stub)
    try:
        for capability in (IncidentSource, IncidentActions, EventSource, NoticeSource):
            assert isinstance(status, capability), capability
        incidents = {i.id: i for i in await status.list_incidents()}
    finally:
        await status.aclose()
    assert sorted(incidents) == sorted(EXPECTED_ORDER)  # the resolved CDN incident is not open
    checkout = incidents["p0checkout001"]
    assert (checkout.title, checkout.status, checkout.severity, checkout.service) == (
        "Checkout API errors", IncidentStatus.TRIGGERED, Severity.CRITICAL, "Checkout")
    assert checkout.url == "https://stspg.io/out001" and checkout.provider == "status"
    assert checkout.details["latest update"] == "Checkout answers 502 for 30% of requests"
    assert incidents["p0login000001"].status is IncidentStatus.ACKNOWLEDGED  # monitoring
    assert incidents["p0payments001"].severity is Severity.HIGH  # impact major
    assert incidents["p0search00001"].severity is Severity.WARNING  # impact minor
    first = stub.requests[0]
    assert (first.path, first.query) == (f"/v1/pages/{PAGE}/incidents/unresolved",
                                         {"page": "1", "per_page": "100"})
    assert first.authorization == f"OAuth {KEY}"


async def test_pages_are_read_until_a_short_one(plugin: ModuleType,
                                                stub: StatuspageStub) -> None:
    template = stub.incidents[0]
    stub.incidents = [{**template, "id": f"bulk{n:05d}"} for n in range(230)]
    status = provider(plugin, stub)
    try:
        assert len(await status.list_incidents()) == 230
        assert status.notice is None
        assert [r.query["page"] for r in stub.requests] == ["1", "2", "3"]
        capped = provider(plugin, stub, max_pages=2)
        assert len(await capped.list_incidents()) == 200
        assert capped.notice == ("read the first 200 unresolved incidents (max_pages); there "
                                 "may be more")
        await capped.aclose()
    finally:
        await status.aclose()


@pytest.mark.parametrize("code", [420, 429])
async def test_rate_limits_say_when(plugin: ModuleType, stub: StatuspageStub, code: int) -> None:
    stub.fail(code, '{"error": "rate limited"}', times=3, headers={"Retry-After": "60"})
    status = provider(plugin, stub)
    try:
        with pytest.raises(RateLimitedError) as info:
            await status.list_incidents()
    finally:
        await status.aclose()
    assert info.value.retry_after == 60.0
    assert str(info.value) == f"status: rate limited by Statuspage ({code}) for 60s"


async def test_errors_are_one_redacted_line(plugin: ModuleType, stub: StatuspageStub) -> None:
    stub.fail(401, json.dumps({"error": f"key OAuth {KEY} is revoked\nsecond line"}))
    stub.fail(200, "<html>a proxy login page</html>")
    status = provider(plugin, stub)
    try:
        with pytest.raises(ProviderError) as info:
            await status.list_incidents()
        message = str(info.value)
        assert KEY not in message and "\n" not in message
        assert message.startswith(f"status: HTTP 401 for GET {stub.url}/pages/{PAGE}/incidents/"
                                  "unresolved: key OAuth ")
        assert message.endswith(" is revoked (check api_key)")
        with pytest.raises(ProviderError, match="did not answer JSON"):
            await status.list_incidents()
        probe = await status.probe()
        assert (probe.ok, probe.detail) == (True, "page Acme Status")
    finally:
        await status.aclose()


async def test_ack_and_resolve_send_what_the_preview_shows(plugin: ModuleType,
                                                           stub: StatuspageStub) -> None:
    status = provider(plugin, stub)
    try:
        incidents = {i.id: i for i in await status.list_incidents()}
        targets = [incidents["p0checkout001"], incidents["p0search00001"]]
        preview = status.preview("ack", targets)
        assert (preview.method, preview.payload) == (
            "PATCH", {"incident": {"status": "identified", "deliver_notifications": False}})
        assert preview.endpoint == (f"{stub.url}/pages/{PAGE}/incidents/p0checkout001, "
                                    f"{stub.url}/pages/{PAGE}/incidents/p0search00001")
        result = await status.perform("ack", targets)
        assert (result.ok, result.message) == (True, "acknowledged 2 incidents on status")
        assert [i.status for i in result.updated] == [IncidentStatus.ACKNOWLEDGED] * 2
        assert stub.patches() == [(i.id, preview.payload) for i in targets]
        stub.fail(503, '{"error": "maintenance"}')
        failed = await status.perform("resolve", targets)
        assert not failed.ok and failed.updated == ()
        assert failed.message.endswith(": maintenance (0 of 2 done)")
        done = await status.perform("resolve", targets[:1])
        assert done.ok and done.updated[0].status is IncidentStatus.RESOLVED
        assert stub.patches()[-1][1] == {"incident": {"status": "resolved",
                                                      "deliver_notifications": False}}
        monitoring = provider(plugin, stub, ack_status="monitoring", deliver_notifications=True)
        assert monitoring.preview("ack", targets[:1]).payload == {
            "incident": {"status": "monitoring", "deliver_notifications": True}}
        await monitoring.aclose()
    finally:
        await status.aclose()


async def test_refused_actions_say_why_and_send_nothing(plugin: ModuleType,
                                                        stub: StatuspageStub) -> None:
    status = provider(plugin, stub, read_only=True)
    incident = Incident("p0checkout001", "status", "Checkout API errors",
                        IncidentStatus.TRIGGERED, Severity.CRITICAL, "Checkout",
                        datetime.now(UTC))
    try:
        supported = status.supported_actions()
        assert supported["ack"] is None and supported["resolve"] is None
        assert supported["note"] == "Statuspage updates are public: write them in Statuspage"
        assert supported["silence"] == "Statuspage has no silences"
        assert supported["reassign"] == "Statuspage has no on-call"
        result = await status.perform("ack", [incident])
        assert (result.ok, result.message) == (False, "status: context prod is read-only")
        note = await status.perform("note", [incident], text="rolled back")
        assert note.message == "status: Statuspage updates are public: write them in Statuspage"
        with pytest.raises(ProviderError, match="has no silences"):
            status.preview("silence", [incident])
    finally:
        await status.aclose()
    assert stub.requests == []


async def test_incident_updates_become_timeline_events(plugin: ModuleType,
                                                       stub: StatuspageStub) -> None:
    status = provider(plugin, stub)
    now = datetime.now(UTC)
    try:
        events = await status.list_events(now - timedelta(hours=4))
        recent = await status.list_events(now - timedelta(minutes=100), now)
    finally:
        await status.aclose()
    assert [e.at for e in events] == sorted(e.at for e in events)
    login = [(e.kind, e.text) for e in events if e.incident_id == "p0login000001"]
    assert login == [("trigger", "investigating: Logins fail for EU users"),
                     ("acknowledge", "identified: Expired certificate on the EU identity proxy"),
                     ("status_update", "monitoring: Certificate renewed; watching error rates")]
    cdn = [(e.kind, e.service) for e in events if e.incident_id == "p0cdn00000001"]
    assert cdn == [("trigger", "CDN"), ("resolve", "CDN")]  # resolved, from the recent list
    assert {e.source for e in events} == {"status"} and len({e.id for e in events}) == 9
    assert len(recent) == 5  # only the updates of the last 100 minutes
    assert stub.requests[-1].query == {"page": "1", "per_page": "25"}


# ------------------------------------------------------------------------------ end to end


def _borrow_dependencies(venv_python: Path, into: Path) -> None:
    """Make this interpreter's installed packages, minus sre-cockpit and its example, visible
    to ``venv_python`` (after its own site-packages), so pip needs no index for them."""
    into.mkdir()
    skip = re.compile(r"^(sre_cockpit|cockpit_statuspage|__editable__|__pycache__)|\.pth$")
    for site_dir in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for entry in Path(site_dir).iterdir():
            if not skip.search(entry.name) and not (into / entry.name).exists():
                (into / entry.name).symlink_to(entry)
    site_packages = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    Path(site_packages, "borrowed-dependencies.pth").write_text(f"{into}\n")


def _copy_sources(root: Path) -> tuple[Path, Path, Path]:
    """The checkout, the example and a broken variant of it, copied out of the repository
    (pip builds in the source tree; the checkout stays clean)."""
    checkout = root / "checkout"
    checkout.mkdir()
    leave = {".git", "tests", "benchmarks", "examples", "build", "dist", ".venv"}
    for entry in REPO.iterdir():
        if entry.name in leave or entry.name.endswith((".egg-info", "_cache")):
            continue
        if entry.is_dir():
            shutil.copytree(entry, checkout / entry.name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(entry, checkout / entry.name)
    example = root / "statuspage"
    example.mkdir()
    for name in ("pyproject.toml", "cockpit_statuspage.py"):
        shutil.copy2(EXAMPLE / name, example / name)
    broken = root / "statuspage-next"
    broken.mkdir()
    (broken / "pyproject.toml").write_text(
        (EXAMPLE / "pyproject.toml").read_text()
        .replace('name = "sre-cockpit-statuspage"', 'name = "sre-cockpit-statuspage-next"')
        .replace('statuspage = "cockpit_statuspage:', 'statuspage-next = "cockpit_statuspage_next:')
        .replace('py-modules = ["cockpit_statuspage"]', 'py-modules = ["cockpit_statuspage_next"]'))
    source = (EXAMPLE / "cockpit_statuspage.py").read_text()
    (broken / "cockpit_statuspage_next.py").write_text(source.replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\n"
        "from sre_cockpit.providers.base import IncidentSourceV2  # a newer cockpit's API\n", 1))
    return checkout, example, broken


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with sre-cockpit (from this checkout), the example plugin and its broken
    variant installed by pip."""
    root = tmp_path_factory.mktemp("plugin-venv")
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True,
                   timeout=60)
    python = env_dir / "bin" / "python"
    _borrow_dependencies(python, root / "dependencies")
    sources = _copy_sources(root)
    pip_env = {**os.environ, "PIP_RETRIES": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--no-deps", "--quiet", *map(str, sources)],
                          capture_output=True, text=True, timeout=300, env=pip_env, cwd=root)
    assert proc.returncode == 0, f"pip install failed:\n{proc.stderr[-4000:]}"
    return env_dir


def run(venv: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The fresh venv's ``sre-cockpit`` with ``args`` (outside the checkout)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(NO_COLOR="1", STATUSPAGE_API_KEY=KEY)
    return subprocess.run([str(venv / "bin" / "sre-cockpit"), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=venv.parent)


def config(path: Path, stub: StatuspageStub, *, broken: bool = False) -> Path:
    """A cockpit config whose provider ``status`` is the example plugin (and ``next`` the broken
    variant); the key comes from the environment, as a real one would."""
    providers = {"status": {"type": "statuspage", "url": stub.url, "page_id": PAGE,
                            "api_key": "${env:STATUSPAGE_API_KEY}", "timeout": "5s"}}
    if broken:
        providers["next"] = {**providers["status"], "type": "statuspage-next"}
    path.write_text(json.dumps({"default_context": "prod", "refresh": {"incidents": "1s"},
                                "contexts": {"prod": {"providers": providers}}}))
    path.chmod(0o600)
    return path


def table(text: str) -> dict[str, list[str]]:
    """``sre-cockpit providers`` rows by type: the other columns (split on 2+ spaces)."""
    rows = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[1:] if line.strip()]
    return {row[0]: row[1:] for row in rows}


@pytest.mark.slow
def test_providers_lists_the_plugin_with_its_distribution(venv: Path) -> None:
    listed = run(venv, "providers")
    assert listed.returncode == 0, listed.stderr
    rows = table(listed.stdout)
    assert rows["statuspage"] == ["cockpit_statuspage:StatuspageProvider",
                                  "third-party (sre-cockpit-statuspage)", "not loaded"]
    assert rows["statuspage-next"][1] == "third-party (sre-cockpit-statuspage-next)"
    assert rows["pagerduty"][1] == "built-in"  # the built-ins came with the checkout
    verbose = run(venv, "providers", "--verbose")
    assert verbose.returncode == 1  # one plugin is broken
    rows = table(verbose.stdout)
    assert rows["statuspage"][2] == "ok (events, incident_actions, incidents)"
    assert rows["statuspage-next"][2].startswith(
        "broken: ImportError: cannot import name 'IncidentSourceV2' from "
        "'sre_cockpit.providers.base'")
    assert "Traceback" not in verbose.stderr + verbose.stdout
    located = subprocess.run(  # the installed copies, not this checkout
        [str(venv / "bin" / "python"), "-c", "import sre_cockpit, cockpit_statuspage; "
         "print(sre_cockpit.__file__); print(cockpit_statuspage.__file__)"],
        capture_output=True, text=True, check=True, cwd=venv.parent)
    assert all(Path(p).is_relative_to(venv) for p in located.stdout.split()), located.stdout


@pytest.mark.slow
def test_snapshot_shows_the_plugin_incidents_in_the_cockpit_order(
        venv: Path, stub: StatuspageStub, tmp_path: Path) -> None:
    proc = run(venv, "snapshot", "--format", "json", "--config",
               str(config(tmp_path / "config.json", stub)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert doc["providers"] == [{"name": "status", "type": "statuspage", "ok": True,
                                 "latency_ms": doc["providers"][0]["latency_ms"], "error": None}]
    ids = [i["id"] for i in doc["incidents"]]
    assert ids == EXPECTED_ORDER
    shown = [Incident(i["id"], i["provider"], i["title"], IncidentStatus(i["status"]),
                      Severity(i["severity"]), i["service"],
                      datetime.fromisoformat(i["started_at"])) for i in doc["incidents"]]
    assert sorted(shown, key=incident_order) == shown
    assert doc["incidents"][0] == {
        "id": "p0checkout001", "provider": "status", "title": "Checkout API errors",
        "status": "triggered", "severity": "critical", "service": "Checkout",
        "started_at": doc["incidents"][0]["started_at"], "url": "https://stspg.io/out001",
        "suppressed": None}
    updates = [(e["kind"], e["incident_id"]) for e in doc["timeline"] if e["source"] == "status"]
    assert ("acknowledge", "p0payments001") in updates and ("resolve", "p0cdn00000001") in updates
    assert len(updates) == 9


@pytest.mark.slow
def test_a_broken_plugin_is_one_warning_line(venv: Path, stub: StatuspageStub,
                                             tmp_path: Path) -> None:
    proc = run(venv, "snapshot", "--format", "json", "--config",
               str(config(tmp_path / "config.json", stub, broken=True)))
    assert proc.returncode == 1  # a configured provider failed
    warnings = [line for line in proc.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1, proc.stderr
    assert warnings[0].startswith("sre-cockpit: warning: provider plugin 'statuspage-next' "
                                  "(cockpit_statuspage_next:StatuspageProvider) cannot be loaded: "
                                  "ImportError: cannot import name 'IncidentSourceV2'")
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert [i["id"] for i in doc["incidents"]] == EXPECTED_ORDER  # the good plugin still works
    failed = next(p for p in doc["providers"] if p["name"] == "next")
    assert failed["ok"] is False and "IncidentSourceV2" in failed["error"]


@pytest.mark.slow
def test_the_cockpit_acknowledges_through_the_plugin(venv: Path, stub: StatuspageStub,
                                                     tmp_path: Path) -> None:
    cockpit = Cockpit(config(tmp_path / "config.json", stub, broken=True), tmp_path / "data",
                      command=[str(venv / "bin" / "sre-cockpit")],
                      extra_env={"STATUSPAGE_API_KEY": KEY})
    try:
        screen = cockpit.wait_for(lambda s: "Checkout API errors" in s and "status ok" in s,
                                  timeout=30)
        assert "Login failures" in screen and "Payments degraded" in screen
        # the broken plugin: its provider is a visible failure with the reason, nothing more
        assert "✖ next error: failed to start: provider plugin 'statuspage-next'" in screen
        cockpit.wait_for("identified: A bad config")  # an incident update, on the timeline
        cockpit.write(b"s")  # silence: greyed out, with the plugin's reason
        cockpit.wait_for("Statuspage has no silences")
        cockpit.write(b"a")  # the first row: Checkout API errors (triggered, critical)
        dialog = cockpit.wait_for("Send (y)")
        assert f"PATCH {stub.url}/pages/{PAGE}/incidents/p0checkout001" in dialog
        assert '"status": "identified"' in dialog
        cockpit.write(b"y")
        cockpit.wait_for(lambda s: bool(stub.patches()) and "Send (y)" not in s)
        assert stub.patches() == [("p0checkout001", {"incident": {
            "status": "identified", "deliver_notifications": False}})]
        # the id column shows the shortest unique prefix (p0chec…)
        cockpit.wait_for(lambda s: re.search(r"p0che\S* +critical +acked +Checkout API errors",
                                             s) is not None)
    finally:
        cockpit.stop()
