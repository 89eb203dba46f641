"""The hostile-backends benchmark phase turns its raw figures into rows with the issue's targets
(no timing here: the figures are the benchmark's job)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import hostile as hb


def phase(**figures: object) -> hb.HostilePhase:
    base = hb.HostilePhase("120x40", 100.0, baseline_mb=75.0, peak_mb=220.0, after_mb=92.0,
                           fault_s=20.0, key_ms=[10.0] * 95 + [90.0] * 5, cap_error_seen=True,
                           recovered_s=12.0, samples=200, cpu_pct=18.0)
    for key, value in figures.items():
        setattr(base, key, value)
    return base


def verdicts(p: hb.HostilePhase) -> dict[str, str]:
    return {measure.split(": ", 1)[1]: verdict for measure, *_rest, verdict, _note
            in hb.hostile_rows(p)}


def test_rows_pass_within_the_targets() -> None:
    assert verdicts(phase()) == {
        "peak RSS": "pass", "RSS after recovery − baseline": "pass",
        "key → paint p95 during the fault": "pass", "CPU during the fault": "info",
        "a pane names the cap (‘answer larger than … (max_body)’)": "pass"}


def test_each_target_fails_on_its_own() -> None:
    assert verdicts(phase(peak_mb=301.0))["peak RSS"] == "fail"
    assert verdicts(phase(after_mb=106.0))["RSS after recovery − baseline"] == "fail"
    assert verdicts(phase(key_ms=[150.0] * 100))["key → paint p95 during the fault"] == "fail"
    assert verdicts(phase(key_misses=5))["key → paint p95 during the fault"] == "fail"
    assert verdicts(phase(cap_error_seen=False))[
        "a pane names the cap (‘answer larger than … (max_body)’)"] == "fail"
    assert verdicts(phase(after_mb=None))["RSS after recovery − baseline"] == "fail"


def test_a_failed_run_is_one_failing_row() -> None:
    rows = hb.hostile_rows(phase(error="RuntimeError: simulator did not start"))
    assert rows == [("100 MB answers from every backend", None, "", "", "fail",
                     "RuntimeError: simulator did not start")]
