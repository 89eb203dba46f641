"""The alert-flood benchmark phase: its rows carry the issue's targets and verdicts, and it
reads the incidents pane from a decoded screen (no timing here: that is the benchmark's)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import incident_flood as fl
from harness import Screen


def phase(**figures: object) -> fl.FloodPhase:
    base = fl.FloodPhase("120x40", 5000, 2000, header_s=0.5, first_rows_s=1.6, loaded_s=2.4,
                         idle_window_s=65.0, idle_cpu_pct=2.1, idle_bytes_per_s=80.0,
                         pane_chars_drawn=0, pd_requests_in_window=45, rss_mb=150.0,
                         key_ms=[8.0] * 96 + [120.0] * 4, sort_ms=[40.0] * 10,
                         key_window_s=40.0, pd_requests_in_keys=60, loadavg=0.8)
    for key, value in figures.items():
        setattr(base, key, value)
    return base


def verdicts(p: fl.FloodPhase) -> dict[str, str]:
    return {measure.rsplit(": ", 1)[1]: verdict for measure, *_rest, verdict, _note
            in fl.flood_rows(p)}


def test_rows_pass_within_the_targets() -> None:
    assert verdicts(phase()) == {
        "first rows after start": "pass", "idle CPU at a 30 s poll interval": "pass",
        "characters drawn in the incidents pane by same-data polls": "pass",
        "idle bytes to the terminal": "info", "key → paint p95 while polls run": "pass",
        "t (sort every row) → paint p50": "info"}


def test_each_target_fails_on_its_own() -> None:
    assert verdicts(phase(first_rows_s=2.2))["first rows after start"] == "fail"
    assert verdicts(phase(idle_cpu_pct=3.2))["idle CPU at a 30 s poll interval"] == "fail"
    assert verdicts(phase(pane_chars_drawn=1))[
        "characters drawn in the incidents pane by same-data polls"] == "fail"
    assert verdicts(phase(key_ms=[60.0] * 100))["key → paint p95 while polls run"] == "fail"
    assert verdicts(phase(key_misses=5))["key → paint p95 while polls run"] == "fail"
    assert verdicts(phase(first_rows_s=None))["first rows after start"] == "fail"


def test_a_run_that_never_started_is_one_failing_row() -> None:
    rows = fl.flood_rows(phase(first_rows_s=None, error="RuntimeError: not installed"))
    assert len(rows) == 1 and rows[0][4] == "fail" and "not installed" in rows[0][5]
    partial = fl.flood_rows(phase(error="RuntimeError: the second cockpit never started"))
    assert partial[0][0].endswith("the run stopped") and partial[0][4] == "fail"


SCREEN = """\
 ctx flood  ● am ok     ● pd ok                                                    ? help  12:00:00 UTC
╭─ Incidents ──────────────────────────────────────────────────────────╮╭─ SLOs ────────────╮
│● am ok  ● pd ok  on call (pd): Dana Whitfield (L1 Shop Primary)      ││                   │
│id           sev      status    rb title     servi… age  assig… sour  ││                   │
│  7d1e15da3… critical triggered ↗  FloodAle… svc-3  3d   —      am    ││                   │
│  708c3cd06… critical triggered    FloodAle… svc-6  3d   —      am    ││                   │
│  a00c3cd06… warning  silenced     FloodAle… svc-1  3d   —      am    ││                   │
│FloodAlert03 on host-00003: disk latency high                         ││                   │
╰────────────────────────────────────────────────────── sort triage ▼ ─╯╰───────────────────╯
"""


def test_reads_rows_sources_and_the_line_under_the_table() -> None:
    screen = Screen(100, 10)
    screen.feed(SCREEN.replace("\n", "\r\n").encode())
    assert fl.alert_rows(screen) == 3
    assert fl.loaded(screen)
    assert fl.detail_line(screen) == "FloodAlert03 on host-00003: disk latency high"
