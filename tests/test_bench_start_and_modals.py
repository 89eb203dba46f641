"""The benchmark's start-up, modal and lnav-ratio rows: verdicts against their targets, from
canned figures (no timing here: the figures are the benchmark's job)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import cockpit as ck  # noqa: E402
import modals  # noqa: E402
import run  # noqa: E402
import startup  # noqa: E402
from harness import Screen  # noqa: E402


def start(first: float | None, data: float | None, **panes: float) -> startup.StartRun:
    return startup.StartRun("this checkout", first_frame_s=first, full_frame_s=first,
                            panes_s={"incidents": 0.5, "logs": 0.6, "slos": 0.7,
                                     "timeline": 0.5, **panes},
                            all_panes_s=data, first_frame_cpu_s=0.1, all_panes_cpu_s=0.5)


def test_start_rows_use_the_median_and_name_the_worst() -> None:
    runs = [start(0.20, 0.9), start(0.22, 0.95), start(0.60, 3.0, slos=3.0)]
    (first, data) = startup.rows_for(runs)
    assert first[1] == 0.22 and first[4] == "pass" and "worst 0.60 s" in first[5]
    assert data[1] == 0.95 and data[4] == "pass" and "worst 3.00 s" in data[5]
    assert "slos 0.70 s" in data[5]  # the median per pane says which pane bounds it
    slow = startup.rows_for([start(0.4, 1.5), start(0.3, 1.2), start(0.5, None)])
    assert [row[4] for row in slow] == ["fail", "fail"]
    assert "1 of 3 never" in slow[1][5]
    assert startup.rows_for([start(None, None)])[0][4] == "fail"


def test_full_frame_needs_the_footer_keys() -> None:
    screen = Screen(60, 4)
    screen.feed(b"\x1b[1;1H ctx prod\x1b[4;1H a Ack  z zoom  q quit")
    assert startup.footer_visible(screen)
    assert not startup.footer_visible(Screen(60, 4))


def test_modal_rows_judge_p95_and_unpainted_opens() -> None:
    quick = modals.ModalResult("help (?)", open_ms=[10.0] * 19 + [40.0], cpu_ms=[20.0] * 20)
    slow = modals.ModalResult("silence form (s)", open_ms=[30.0] * 10 + [90.0] * 10)
    flaky = modals.ModalResult("confirm (r, resolve)", open_ms=[10.0] * 10, unpainted=3)
    absent = modals.ModalResult("describe (d)", unpainted=1,
                                note="not in this build (its key opened nothing)")
    rows = {row[0]: row for row in modals.rows_for([quick, slow, flaky, absent])}
    assert rows["modal open: help (?), key → paint p95"][4] == "pass"
    assert "CPU per open (key → paint) p50 20 ms" in rows[
        "modal open: help (?), key → paint p95"][5]
    assert rows["modal open: silence form (s), key → paint p95"][4] == "fail"
    assert rows["modal open: confirm (r, resolve), key → paint p95"][4] == "fail"
    assert rows["modal open: describe (d), key → paint p95"][4] == "info"


def test_every_modal_is_recognised_by_text_it_alone_draws() -> None:
    texts = {"help (?)": "Keys ─ binding id ─ ? or esc closes",
             "confirm (r, resolve)": "Resolve 1 incident?  Send (y)  Cancel (n)",
             "note editor (n)": "Note for pd:P1  Send (ctrl+s)  Discard",
             "describe (d)": "c/enter copy · C copy all · b runbook",
             "silence form (s)": "Duration (e.g. 30m, 2h, 1d)  Continue (ctrl+s)",
             "SLO detail (enter)": "evaluated 2026-12-06  queries as sent (instant"}
    main = Screen(120, 3)
    main.feed(b" ctx sim  Incidents  SLOs  Logs  Timeline  a Ack  s Silence")
    for spec in modals.MODALS:
        screen = Screen(120, 3)
        screen.feed(texts[spec.name].encode())
        assert spec.shown(screen), spec.name
        assert not spec.shown(main), spec.name


def test_lnav_rows_ratio_and_verdicts() -> None:
    mine = run.Phase("sre-cockpit", "120x40", 1000, cpu_pct=3.0, bytes_per_s=9000.0)
    lnav = run.Phase("lnav", "120x40", 1000, cpu_pct=1.5, bytes_per_s=15000.0)
    cpu, sent = run.lnav_rows("120x40", "1,000 lines/s", mine, lnav)
    assert cpu.value == pytest.approx(2.0) and cpu.verdict == "pass"
    assert sent.value == pytest.approx(0.6) and sent.verdict == "pass"
    mine.cpu_pct, mine.bytes_per_s = 6.0, 15000.0
    cpu, sent = run.lnav_rows("120x40", "1,000 lines/s", mine, lnav)
    assert cpu.verdict == "fail" and sent.verdict == "fail"  # equal bytes are not below
    (missing,) = run.lnav_rows("120x40", "1,000 lines/s", mine, "not installed")
    assert missing.verdict == "info" and "not installed" in missing.note
    assert run.fmt(2.0, "×") == "×2.00"


def test_rss_row_is_judged_against_80_mb() -> None:
    phase = run.Phase("sre-cockpit", "120x40", 5000, rss_mb_at_100k=79.0, lines_at_rss=100_000,
                      lines_source="in the log buffer (the pane's counters)")
    assert run.rss_row("120x40", "5,000 lines/s", phase).verdict == "pass"
    phase.rss_mb_at_100k = 120.0
    row = run.rss_row("120x40", "5,000 lines/s", phase)
    assert row.verdict == "fail" and "100,000 lines (in the log buffer" in row.note
    assert run.rss_row("120x40", "x", run.Phase("sre-cockpit", "120x40", 5000)).verdict == "fail"


def test_with_log_buffer_writes_a_private_copy(tmp_path: Path) -> None:
    source = tmp_path / "sim.yaml"
    source.write_text(yaml.safe_dump({"contexts": {"sim": {}}, "ui": {"theme": "war-room"}}))
    out = ck.with_log_buffer(source, 100_000, tmp_path / "copy.yaml")
    doc = yaml.safe_load(out.read_text())
    assert doc["ui"] == {"theme": "war-room", "log_buffer_lines": 100_000}
    assert out.stat().st_mode & 0o077 == 0
