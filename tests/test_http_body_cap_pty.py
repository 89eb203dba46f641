"""Bounded memory through the real process: the cockpit in a pty, ``snapshot`` and ``logs``
against backends on loopback that answer 100 MB (the simulator's ``huge`` fault, or a hostile
Loki whose tail sends one 40 MB message). The panes and stderr show the one-line cap error and
the kernel's peak RSS of the process (``wait4``) stays under a bound."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostile_http import MB, hostile_server
from rss_helpers import run_cli, run_pty
from sim_helpers import launch_simulator

pytestmark = [pytest.mark.slow]

BOUND_MB = 300.0
"""Issue 16: RSS under 300 MB with 100 MB answers from every backend."""


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, SRE_COCKPIT_DATA_DIR=str(tmp_path / "data"))


def test_cockpit_shows_the_cap_in_its_panes_and_stays_under_the_bound(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=1, log_rate=20, faults=["all:huge:100"], write_config=config)
    wanted = ["prom: answer larger than 16 MiB (max_body)",
              "alerts failed: answer larger than 16 MiB (max_body)",
              "pd failed: answer larger than 4 MiB (max_body)"]
    try:
        run = run_pty(["--config", str(config)], seconds=20, cols=200, rows=50,
                      watch=lambda screen: all(w in "\n".join(screen.display) for w in wanted),
                      env=_env(tmp_path))
    finally:
        sim.stop()
    assert run.seen_at is not None, "\n".join(run.screens[-1])
    header = run.screens[-1][0]  # the header's badges follow the panes within a moment
    assert "✖ prom error" in header and "✖ alerts error" in header and "✖ pd error" in header
    assert "Traceback" not in run.raw.decode(errors="replace")
    assert run.status == 0, "the cockpit did not quit with q"  # alive, and keys answered
    assert 0 < run.peak_rss_mb < BOUND_MB, f"peak RSS {run.peak_rss_mb:.0f} MB"


def test_snapshot_reports_every_cap_and_stays_under_the_bound(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=1, log_rate=20, faults=["all:huge:100"], write_config=config)
    try:
        status, out, err, peak = run_cli(["snapshot", "--format", "json", "--config",
                                          str(config)], env=_env(tmp_path))
    finally:
        sim.stop()
    assert status == 1, err
    errors = {p["name"]: p["error"] for p in json.loads(out)["providers"]}
    assert errors["prom"].startswith("prom: answer larger than 16 MiB (max_body): GET ")
    assert errors["alerts"].startswith("alerts: answer larger than 16 MiB (max_body): GET ")
    assert errors["pd"].startswith("pd: answer larger than 4 MiB (max_body): GET ")
    assert all("\n" not in e for e in errors.values() if e)
    assert "Traceback" not in err
    assert 0 < peak < BOUND_MB, f"peak RSS {peak:.0f} MB"


def test_logs_prints_the_loki_cap_as_one_line(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=1, log_rate=20, faults=["loki:huge:100"], write_config=config)
    try:
        status, out, err, peak = run_cli(["logs", "--since", "5m", "--config", str(config)],
                                         env=_env(tmp_path))
    finally:
        sim.stop()
    assert (status, out) == (1, "")
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0] == ("sre-cockpit: loki: answer larger than 32 MiB (max_body): GET "
                        f"{sim.url}/loki/api/v1/query_range; raise max_body for loki if answers "
                        "this large are expected")
    assert 0 < peak < 150, f"peak RSS {peak:.0f} MB"


def test_logs_follow_drops_a_tail_message_over_max_message(tmp_path: Path) -> None:
    with hostile_server(behaviour="tail_huge", size=40 * MB) as loki:
        config = tmp_path / "config.yaml"
        config.write_text("contexts:\n  prod:\n    providers:\n      loki:\n        type: loki\n"
                          f"        url: {loki.url}\n        query: '{{app=\"x\"}}'\n"
                          "        max_message: 1MiB\n")
        status, out, err, peak = run_cli(["logs", "-f", "--config", str(config)],
                                         env=_env(tmp_path), stop_after=6)
    assert status == 0 and out == ""
    assert (f"sre-cockpit: log stream: reconnecting (loki: tail message larger than 1 MiB "
            f"(max_message); dropped the connection: {loki.url}/loki/api/v1/tail)") in err
    assert "Traceback" not in err
    assert 0 < peak < 150, f"peak RSS {peak:.0f} MB"
