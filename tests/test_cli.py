"""CLI: exit codes, one-line errors without tracebacks, check table, snapshot formats."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from config_helpers import CANARY, FakeProvider, write

from sre_cockpit import __version__
from sre_cockpit.cli import main as cli
from sre_cockpit.core.models import (
    Incident,
    IncidentStatus,
    Severity,
    SloState,
    SloStatus,
    TimelineEvent,
)
from sre_cockpit.providers import registry
from sre_cockpit.reports.snapshot import (
    ProviderStatus,
    Snapshot,
    render_json,
    render_markdown,
    render_text,
    to_dict,
)

REPO = Path(__file__).resolve().parents[1]
T = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
INCIDENT = Incident(id="a1", provider="alerts", title="Checkout 5xx \x1b]52;c;evil\x07 high",
                    status=IncidentStatus.TRIGGERED, severity=Severity.CRITICAL,
                    service="checkout", started_at=T)


@pytest.fixture(autouse=True)
def fake_provider() -> Iterator[None]:
    registry.register("fake", FakeProvider)
    FakeProvider.incidents = [INCIDENT]
    yield
    registry.unregister("fake")
    FakeProvider.incidents = []


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SRE_COCKPIT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "sre_cockpit", *args], capture_output=True,
                          text=True, env=full_env, cwd=str(REPO), timeout=60, check=False)


# ------------------------------------------------------------------- subprocess, exit 2


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"sre-cockpit {__version__}"


@pytest.mark.parametrize(("text", "tail"), [
    ("contexts:\n  prod:\n    providers:\n      p: {type: promethus, url: 'http://h'}\n",
     ":4:17: contexts.prod.providers.p.type: unknown provider type 'promethus' (did you mean "
     "'prometheus'?)"),
    ("contexts: {prod: {}}\nrefresh: {slos: 5 minutes}\n",
     ":2:17: refresh.slos: invalid duration '5 minutes': use a number and a unit (ms, s, m, h, d, "
     "w, y), e.g. 15s, 5m, 30d"),
    ("contexts:\n  prod:\n    providers:\n      p: {type: pagerduty, token: '${env:PD_CANARY_UNSET}'}\n",
     ":4:35: contexts.prod.providers.p.token: environment variable PD_CANARY_UNSET is not set "
     "(referenced as ${env:PD_CANARY_UNSET})"),
    ("contexts: [\n", ":2:1: invalid YAML: expected the node content, but found '<stream end>'"),
])
@pytest.mark.parametrize("command", ["check", "snapshot"])
def test_bad_config_exit_2_one_line_no_traceback(tmp_path: Path, text: str, tail: str,
                                                 command: str) -> None:
    path = write(tmp_path, text)
    result = run_cli(command, "--config", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"{path}{tail}\n"


def test_missing_config_and_env_lookup(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run_cli("check", "--config", str(missing))
    assert (result.returncode, result.stderr) == (
        2, f"{missing}: cannot read: No such file or directory\n")
    result = run_cli("check", env={"SRE_COCKPIT_CONFIG": str(missing)})
    assert (result.returncode, result.stderr) == (
        2, f"{missing}: cannot read: No such file or directory\n")


def test_secret_never_printed(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts:\n  p:\n    providers:\n      a: {type: prometheus, "
                           "url: 'http://h', timeout: '${env:CANARY_X}'}\n")
    result = run_cli("check", "--config", str(path), env={"CANARY_X": CANARY})
    assert result.returncode == 2
    assert CANARY not in result.stdout + result.stderr
    assert "invalid duration '***'" in result.stderr


def test_unknown_context_and_bad_arguments(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts: {prod: {}, staging: {}}\n")
    result = run_cli("--context", "stagin", "check", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr == (f"{path}: --context: unknown context 'stagin' (did you mean "
                             "'staging'?); known contexts: prod, staging\n")
    result = run_cli("snapshot", "--format", "yaml", "--config", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "invalid choice: 'yaml'" in result.stderr


def test_check_sample_config_without_backends() -> None:
    """The new-user path: every backend absent gives a clear table and exit 1."""
    result = run_cli("check", "--config", "sample_config.yaml", env={"PD_TOKEN": CANARY})
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["NAME", "TYPE", "STATUS", "LATENCY", "ERROR"]
    rows = {line.split()[0]: line.split() for line in lines[2:6]}
    assert set(rows) == {"prom", "loki", "alerts", "pd"}
    assert all(row[2] == "FAIL" for row in rows.values())
    assert lines[-1] == "4 of 4 providers failed"
    assert "Traceback" not in result.stderr
    assert CANARY not in result.stdout + result.stderr


# --------------------------------------------------------------------- in-process CLI


GOOD = f"""
contexts:
  prod:
    providers:
      alerts: {{type: fake, url: "http://127.0.0.1:1"}}
      down: {{type: fake, url: "http://u:{CANARY}@127.0.0.1:1", fail: true}}
      ghost: {{type: ghost}}
"""


def test_check_table_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = write(tmp_path, 'contexts:\n  prod:\n    providers:\n      a: {type: fake, url: "http://h"}\n')
    assert cli.main(["check", "--config", str(ok)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1:] == ["NAME  TYPE  STATUS  LATENCY  ERROR",
                                    "a     fake  ok      2ms",
                                    "all 1 providers answered"]
    bad = write(tmp_path, 'contexts:\n  prod:\n    providers:\n      a: {type: fake, url: "http://h"}\n'
                          f'      b: {{type: fake, url: "http://u:{CANARY}@h", fail: true}}\n',
                "bad.yaml")
    assert cli.main(["--config", str(bad), "check"]) == 1
    out = capsys.readouterr().out
    assert "b     fake  FAIL" in out
    assert "b: HTTP 503 from http://h" in out  # user:password@ became basic auth at load
    assert CANARY not in out
    assert out.splitlines()[-1] == "1 of 2 providers failed"


def test_empty_context_checks_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "contexts: {quiet: {}}\n")
    assert cli.main(["check", "--config", str(path)]) == 0
    assert "no providers configured in context 'quiet'" in capsys.readouterr().out


def test_errors_become_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from sre_cockpit.cli import check

    path = write(tmp_path, "contexts: {quiet: {}}\n")

    def boom(args: object) -> int:
        raise RuntimeError("kaput\nsecond line")

    monkeypatch.setattr(check, "run", boom)
    assert cli.main(["check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == ("sre-cockpit: internal error: RuntimeError: kaput second line (run with "
                   "SRE_COCKPIT_DEBUG=1 for a traceback)\n")

    def interrupt(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(check, "run", interrupt)
    assert cli.main(["check", "--config", str(path)]) == 130
    monkeypatch.setenv("SRE_COCKPIT_DEBUG", "1")
    monkeypatch.setattr(check, "run", boom)
    assert cli.main(["check"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_snapshot_json_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    ghost = importlib.metadata.EntryPoint("ghost", "no_such_ghost_module:X", registry.GROUP)
    original = registry._entry_points
    monkeypatch.setattr(registry, "_entry_points", lambda: [*original(), ghost])
    path = write(tmp_path, GOOD)
    assert cli.main(["snapshot", "--format", "json", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert list(doc) == ["schema", "generated_at", "context", "providers", "incidents", "slos",
                         "timeline"]
    assert doc["schema"] == "sre-cockpit.snapshot/v1"
    assert doc["context"] == "prod"
    assert datetime.fromisoformat(doc["generated_at"]).tzinfo is not None
    assert doc["generated_at"].endswith("Z")
    providers = {p["name"]: p for p in doc["providers"]}
    assert list(providers) == ["alerts", "down", "ghost"]
    assert all(list(p) == ["name", "type", "ok", "latency_ms", "error"] for p in doc["providers"])
    assert providers["alerts"]["ok"] is True and providers["alerts"]["error"] is None
    assert providers["down"]["ok"] is False
    # user:password@ became basic auth when the config was read: the URL no longer has it
    assert providers["down"]["error"] == "down: HTTP 503 from http://127.0.0.1:1"
    assert providers["ghost"] == {"name": "ghost", "type": "ghost", "ok": False,
                                  "latency_ms": None, "error": providers["ghost"]["error"]}
    assert "No module named 'no_such_ghost_module'" in providers["ghost"]["error"]
    assert captured.err.count("cannot be loaded") == 1  # the one warning line
    assert doc["incidents"] == [{"id": "a1", "provider": "alerts",
                                 "title": INCIDENT.title, "status": "triggered",
                                 "severity": "critical", "service": "checkout",
                                 "started_at": "2026-03-04T05:06:07Z", "url": None,
                                 "suppressed": None}]
    assert "\x1b" not in captured.out and "\\u001b" in captured.out
    assert CANARY not in captured.out + captured.err


def test_snapshot_text_markdown_and_output_file(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, 'contexts:\n  prod:\n    providers:\n      alerts: {type: fake, url: "http://h"}\n')
    assert cli.main(["snapshot", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "Incidents (1)" in text and "\x1b" not in text and "\x07" not in text
    out_file = tmp_path / "snap.md"
    assert cli.main(["snapshot", "--format", "markdown", "-o", str(out_file),
                     "--config", str(path)]) == 0
    assert capsys.readouterr().out == ""
    markdown = out_file.read_text()
    assert markdown.startswith("# sre-cockpit snapshot: prod")
    assert "| critical | triggered |" in markdown
    assert cli.main(["snapshot", "-o", str(tmp_path / "no" / "dir" / "x"), "--config",
                     str(path)]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_snapshot_conversion_is_exact() -> None:
    slo = SloStatus(name="checkout-availability", objective=0.999, window="30d", sli=0.9992,
                    error_budget_remaining=0.21, burn_rates={"5m": 50.0, "1h": float("nan")},
                    state=SloState.WARNING, exhausted_at=None, evaluated_at=T)
    event = TimelineEvent(at=T, kind="note", source="operator", text="rolled back | *v2*",
                          incident_id="a1")
    snap = Snapshot(generated_at=T, context="prod",
                    providers=(ProviderStatus("prom", "prometheus", True, 12.54),),
                    incidents=(INCIDENT,), slos=(slo,), timeline=(event,))
    doc = to_dict(snap)
    assert doc["providers"] == [{"name": "prom", "type": "prometheus", "ok": True,
                                 "latency_ms": 12.5, "error": None}]
    assert doc["slos"] == [{"name": "checkout-availability", "objective": 0.999, "window": "30d",
                            "sli": 0.9992, "error_budget_remaining": 0.21,
                            "burn_rates": {"5m": 50.0, "1h": None}, "state": "warning",
                            "exhausted_at": None}]
    assert doc["timeline"] == [{"at": "2026-03-04T05:06:07Z", "kind": "note",
                                "source": "operator", "incident_id": "a1",
                                "text": "rolled back | *v2*"}]
    assert json.loads(render_json(snap)) == doc
    md = render_markdown(snap)
    assert "rolled back \\| \\*v2\\*" in md
    text = render_text(snap)
    assert "burn" not in text.lower() or "5m=50.0x 1h=—" in text
    assert "99.920%" in text


def test_headless_commands_do_not_import_textual(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts: {quiet: {}}\n")
    code = ("import sys; from sre_cockpit.cli.main import main; "
            f"rc = [main(['check', '--config', {str(path)!r}]), "
            f"main(['snapshot', '--format', 'json', '--config', {str(path)!r}]), "
            "main(['providers'])]; "
            "print(rc, 'textual' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.stderr.strip().splitlines()[-1] == "[0, 0, 0] False"


class HangingProvider(FakeProvider):
    """Never answers: only the per-provider deadline ends the probe."""

    async def probe(self) -> object:  # type: ignore[override]
        await asyncio.Event().wait()
        return None


def test_check_hanging_provider_hits_its_own_deadline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from sre_cockpit.feeds import policy
    monkeypatch.setattr(policy, "PROBE_GRACE_S", 0.0)
    registry.register("hang", HangingProvider)
    try:
        path = write(tmp_path, "contexts:\n  p:\n    providers:\n"
                               "      slow: {type: hang, url: 'http://h', timeout: 300ms}\n"
                               "      fast: {type: fake, url: 'http://h'}\n")
        start = time.perf_counter()
        assert cli.main(["check", "--config", str(path)]) == 1
        assert time.perf_counter() - start < 3.0
        out = capsys.readouterr().out
        assert "slow  hang  FAIL" in out and "slow: no answer within 300ms" in out
        assert "fast  fake  ok" in out
    finally:
        registry.unregister("hang")


def test_sloppy_provider_error_never_shows_a_configured_secret(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin that echoes an option holding a secret into its error is redacted anyway."""
    monkeypatch.setenv("CANARY_Q", CANARY)
    path = write(tmp_path, "contexts:\n  p:\n    providers:\n      a: {type: fake, url: 'http://h', "
                           "fail: true, query: '${env:CANARY_Q}'}\n")
    assert cli.main(["check", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "a: HTTP 503 from http://h for query ***" in out
    assert CANARY not in out
    for fmt in ("json", "text", "markdown"):
        assert cli.main(["snapshot", "--format", fmt, "--config", str(path)]) == 1
        captured = capsys.readouterr()
        assert "HTTP 503" in captured.out
        assert CANARY not in captured.out + captured.err


def test_usage_errors_are_one_line() -> None:
    for args in (["chek"], ["check", "--bogus"], ["snapshot", "--format", "yaml"]):
        result = run_cli(*args)
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("sre-cockpit")
        assert "--help" in result.stderr


def test_hostile_key_in_config_cannot_reach_the_terminal_raw(tmp_path: Path) -> None:
    path = write(tmp_path, 'contexts:\n  q:\n    "evil\\e]52;c;aGk=\\a": 1\n')
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert result.stderr.startswith(f"{path}:3:5: contexts.q.evil")
    assert len(result.stderr.splitlines()) == 1
