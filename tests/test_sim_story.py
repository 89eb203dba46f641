"""The story, the config it writes, the CLI surface and the demo's child process."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from sim_helpers import READY_RE, http, launch_simulator, pd_headers

from sre_cockpit.cli import demo, simulate
from sre_cockpit.simulator import promql
from sre_cockpit.simulator.sim_config import config_dict
from sre_cockpit.simulator.story import Story

START = 1_790_000_000.0


def _burn(story: Story, query_error: str, query_total: str, window: str, objective: float) -> float:
    now = int(story.start * 1000)
    q = f"({query_error.replace('{{.window}}', window)}) / ({query_total.replace('{{.window}}', window)})"
    data = promql.instant_query(q, now, story.series(), now)
    ratio = float(data["result"][0]["value"][1])  # type: ignore[index]
    return ratio / (1 - objective / 100)


@pytest.mark.parametrize("seed", [1, 2, 3, 42, 1234])
def test_checkout_slo_is_critical_and_others_healthy_at_start(seed: int) -> None:
    story = Story(seed, START)
    slos = {s["name"]: s for s in config_dict("http://x", pd_token="t")["contexts"]["sim"]["slos"]}
    co = slos["checkout-availability"]
    for window in ("5m", "1h"):
        assert _burn(story, co["error_query"], co["total_query"], window, co["objective"]) >= 14.4
    for name in ("payments-availability", "search-availability"):
        s = slos[name]
        for window in ("5m", "1h", "6h", "3d"):
            assert _burn(story, s["error_query"], s["total_query"], window, s["objective"]) < 1.0
    ratio = story.checkout_error_ratio(story.start)
    assert 0.02 <= ratio <= 0.05 and story.checkout_error_ratio(story.start - 86400) == 0.0005


@pytest.mark.parametrize(("seed", "speed"), [(1, 10.0), (99, 10.0), (7, 0.5)])
def test_checkout_slo_is_critical_at_start_whatever_the_speed(seed: int, speed: float) -> None:
    # --speed compresses what is still to come, not the history read at launch: with the past
    # compressed, `simulate --speed 10` had the checkout SLO "ok" (1h burn ~2x).
    story = Story(seed, START, speed=speed)
    slos = {s["name"]: s for s in config_dict("http://x", pd_token="t")["contexts"]["sim"]["slos"]}
    co = slos["checkout-availability"]
    for window in ("5m", "1h"):
        assert _burn(story, co["error_query"], co["total_query"], window, co["objective"]) >= 14.4


def test_story_timeline_and_deploy_marker() -> None:
    story = Story(7, START)
    assert story.origin_ms / 1000 <= START - 3 * 86400  # every burn window has data
    assert story.t_deploy_bad < story.t_err_start < story.t_alert_fire < story.t_pd_trigger
    assert story.t_pd_trigger < story.t_pd_ack < story.t_note1 < START < story.t_rollback
    assert 15 * 60 <= START - story.t_alert_fire <= 30 * 60  # already in progress at start
    now = int(START * 1000)
    at = int((story.t_deploy_bad + 30) * 1000)
    data = promql.instant_query("changes(app_build_info[1m]) > 0", at, story.series(), now)
    assert [r["metric"] for r in data["result"]] == [  # type: ignore[index]
        {"job": "shop", "service": "checkout", "version": "2.3.1"}]
    assert promql.instant_query("changes(app_build_info[1m]) > 0", now, story.series(), now)["result"] == []
    fast = Story(7, START, speed=10)
    assert fast.t_alert_fire == story.t_alert_fire  # the past is not compressed
    assert fast.t_rollback - START == pytest.approx((story.t_rollback - START) / 10)


def test_promql_parser_precedence_and_errors() -> None:
    def val(q: str) -> str:
        return promql.instant_query(q, 0, [], 0)["result"][1]  # type: ignore[index, no-any-return]

    assert val("1 + 2 * 3") == "7"
    assert val("2 ^ 3 ^ 2") == "512"
    assert val("-2 ^ 2") == "-4"
    assert val("(1 + 2) * 3") == "9"
    assert val("1 / 0") == "+Inf"
    assert val("0 / 0") == "NaN"
    assert val("2 > bool 1") == "1"
    for bad, message in [
        ("sum(rate(up[5m])", "1:17: parse error: unclosed left parenthesis"),
        ("rate(up)", 'expected type range vector in call to function "rate", got instant vector'),
        ("foo(up)", 'unknown function with name "foo"'),
        ("up[5x]", "parse error"),
        ("up offset 5m", "not supported"),
        ("", "no expression found in input"),
        ('{job=~""}', "at least one non-empty matcher"),
        ("1 > 2", "comparisons between scalars must use BOOL modifier"),
    ]:
        with pytest.raises(promql.PromQLError) as info:
            promql.parse(bad)
        assert message in str(info.value), (bad, str(info.value))


def _ns(**kw: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    simulate.add_arguments(parser)
    args = parser.parse_args([])
    for k, v in kw.items():
        setattr(args, k, v)
    return args


@pytest.mark.parametrize("kw, fragment", [
    ({"fault": ["loki:explode"]}, "unknown fault mode"),
    ({"fault": ["loki"]}, "backend:mode[:arg]"),
    ({"speed": 0.0}, "--speed"),
    ({"log_rate": -1}, "--log-rate"),
    ({"log_rate": 1_000_001}, "--log-rate"),
    ({"port": 70000}, "--port"),
    ({"pd_rate_limit": 0}, "--pd-rate-limit"),
])
def test_bad_options_exit_2_with_one_line(kw: dict[str, object], fragment: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate.run(_ns(**kw)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_bad_start_env_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SRE_COCKPIT_SIM_START", "yesterday")
    assert simulate.run(_ns()) == 2
    assert "SRE_COCKPIT_SIM_START" in capsys.readouterr().err


def test_write_config_ready_line_mode_and_loader(tmp_path: Path) -> None:
    target = tmp_path / "cfg" / "sim.yaml"
    handle = launch_simulator(write_config=target)
    try:
        assert READY_RE.match(handle.ready_line)
        assert handle.ready_line == f"sre-cockpit simulator ready on {handle.url} (config: {target})"
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        text = target.read_text()
        assert handle.url + "/pagerduty" in text and "{{.window}}" in text
        try:
            from sre_cockpit.config.model import load_config
        except ImportError:
            pytest.skip("sre_cockpit.config.model.load_config not available yet")
        cfg = load_config(target)
        ctx = cfg.contexts[cfg.default_context or "sim"]
        assert {p["type"] for p in ctx.providers.values()} == {"prometheus", "loki", "alertmanager", "pagerduty"}
        assert len(ctx.slos) >= 2 and all("{{.window}}" in s.total_query for s in ctx.slos)
        assert set(ctx.services) >= {"checkout", "payments"} and ctx.deploys
        pd = next(p for p in ctx.providers.values() if p["type"] == "pagerduty")
        status, _h, _raw = http("GET", f"{pd['url']}/incidents", headers={
            "Authorization": f"Token token={pd['token']}"})
        assert status == 200
    finally:
        handle.stop()


def test_cli_subcommand_and_sigint_exit_0(tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    proc = subprocess.Popen([sys.executable, "-m", "sre_cockpit", "simulate", "--port", "0",
                             "--write-config", str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert re.fullmatch(r"sre-cockpit simulator ready on http://127\.0\.0\.1:\d+ \(config: .+\)", line)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_same_seed_and_frozen_start_give_identical_answers() -> None:
    paths = [
        "/api/v1/query?" + urllib.parse.urlencode({"query": 'sum by (code) (rate(http_requests_total{service="checkout"}[5m]))'}),
        "/loki/api/v1/query_range?" + urllib.parse.urlencode({"query": '{app="checkout"}', "limit": 50}),
        "/api/v2/alerts", "/api/v2/silences", "/pagerduty/incidents?limit=100", "/pagerduty/oncalls",
    ]
    answers = []
    for _ in range(2):
        handle = launch_simulator(seed=21, start_time=START, frozen=True)
        try:
            answers.append([json.loads(http("GET", handle.url + p, headers=pd_headers())[2]) for p in paths])
        finally:
            handle.stop()
    for a in answers:
        for body in a:
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                body["data"].pop("stats", None)  # execTime differs
    assert answers[0] == answers[1]
    incidents = answers[0][4]["incidents"]
    open_ = [i for i in incidents if i["status"] != "resolved"]
    assert any(i["title"].startswith("CheckoutHighErrorRate") for i in open_)
    alerts = {a["labels"]["alertname"] for a in answers[0][2]}
    assert {"CheckoutHighErrorRate", "PaymentsLatencyHigh"} <= alerts


def test_demo_child_stops_with_its_parent(tmp_path: Path) -> None:
    child = demo.start_child(tmp_path, ["--seed", "3"])
    try:
        assert child.config.exists() and child.url.startswith("http://127.0.0.1:")
        assert http("GET", f"{child.url}/api/v2/status")[0] == 200
        assert child.proc.stdin is not None
        child.proc.stdin.close()  # what the kernel does when the demo dies
        assert child.proc.wait(10) == 0
    finally:
        child.stop()


def test_demo_runs_the_tui_on_the_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, object]]] = []

    class FakeTui:
        @staticmethod
        def run_tui(path: str, **kw: object) -> int:
            text = Path(path).read_text()
            url = re.search(r"url: (http://\S+)", text)
            assert url is not None
            assert http("GET", url.group(1).rstrip("/") + "/api/v2/status")[0] == 200
            calls.append((path, kw))
            return 0

    import sre_cockpit.cli as commands_pkg

    monkeypatch.setitem(sys.modules, "sre_cockpit.cli.tui", FakeTui)
    monkeypatch.setattr(commands_pkg, "tui", FakeTui, raising=False)
    # the simulator this demo starts inherits the marker; other tests' simulators (a parallel
    # worker's) do not
    marker = f"SRE_COCKPIT_TEST_MARK={os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv(*marker.split("=", 1))
    before = set(os.listdir("/proc"))
    args = argparse.Namespace(seed=2, speed=5.0, log_rate=50, low_bandwidth=True)
    assert demo.run(args) == 0
    assert calls and calls[0][1] == {"context": None, "read_only": False, "low_bandwidth": True}
    assert not Path(calls[0][0]).exists()  # the temp config is cleaned up
    time.sleep(0.2)
    leftovers = [p for p in set(os.listdir("/proc")) - before if p.isdigit()]
    for pid in leftovers:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ.split(b"\0"):
            assert b"sre_cockpit.simulator" not in cmdline
