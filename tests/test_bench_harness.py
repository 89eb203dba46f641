"""Smoke tests of the benchmark harness pieces (no timing assertions: speed is the benchmark's job)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import cockpit as ck  # noqa: E402
import run  # noqa: E402
from harness import (  # noqa: E402
    ByteMeter,
    PtySession,
    Screen,
    TreeSample,
    cpu_percent,
    percentile,
    terminal_env,
)


def test_byte_meter_counts_windows_exactly() -> None:
    meter = ByteMeter()
    for at, size in ((1.0, 100), (2.0, 50), (2.5, 25), (4.0, 1000)):
        meter.add(size, at)
    assert meter.total == 1175
    assert meter.bytes_between(0.0, 10.0) == 1175
    assert meter.bytes_between(1.0, 2.5) == 75  # start exclusive, end inclusive
    assert meter.bytes_between(2.5, 3.9) == 0
    assert meter.rate(0.0, 4.0) == pytest.approx(1175 / 4.0)
    assert meter.rate(3.0, 3.0) == 0.0
    assert meter.chunks() == 4


def test_screen_decodes_cursor_moves_colours_and_split_utf8() -> None:
    screen = Screen(40, 6)
    stream = ("\x1b[?1049h\x1b[2J\x1b[1;1H\x1b[38;5;208msre-cockpit\x1b[0m"
              "\x1b[3;5H╭─ Logs ─╮\x1b[4;5Hseq=41 ✓").encode()
    cut = stream.index("✓".encode()) + 1  # split a multi-byte character across chunks
    screen.feed(stream[:cut])
    screen.feed(stream[cut:])
    lines = screen.lines()
    assert lines[0].startswith("sre-cockpit")
    assert lines[2][4:14] == "╭─ Logs ─╮"
    assert lines[3][4:12] == "seq=41 ✓"
    assert screen.contains(r"seq=\d+")
    assert screen.find(r"seq=(\d+)") == [(3, 4, "seq=41")]
    assert screen.region(3, 4, 4, 10) == ["seq=41"]
    fg = screen.row_styles(0)[0][0]
    assert fg not in ("default", "")


def _canned_cockpit_screen(timestamps: bool) -> Screen:
    screen = Screen(120, 12)
    prefix = "12:00:01 " if timestamps else ""
    w = 58
    rows = [
        " ctx prod  ● prom 2s ago",
        "╭─ Incidents " + "─" * (w - 14) + "╮╭─ SLOs " + "─" * (w - 9) + "╮",
        "│ CheckoutHighErrorRate critical".ljust(w - 1)
        + "││ checkout-availability  97.2%".ljust(w - 1) + "│",
        "╰" + "─" * (w - 2) + "╯╰" + "─" * (w - 2) + "╯",
        "╭─ Logs " + "─" * (w - 9) + "╮╭─ Timeline " + "─" * (w - 13) + "╮",
        f"│ {prefix}ts=2026-11-26T05:00:00.000Z level=info seq=101".ljust(w - 1)
        + "││ 11:58 deploy checkout v2.3.1".ljust(w - 1) + "│",
        f'│ {prefix}{{"ts":"2026-11-26T05:00:01.500Z","seq":102'.ljust(w - 1) + "││".ljust(w) + "│",
        "│ live · received 2,000 · buffered 1,990 · dropped 0/10".ljust(w - 1) + "││".ljust(w) + "│",
        "╰" + "─" * (w - 2) + "╯╰" + "─" * (w - 2) + "╯",
    ]
    screen.feed("\r\n".join(rows).encode())
    return screen


def test_cockpit_screen_probes_on_a_canned_screen() -> None:
    with_ts = _canned_cockpit_screen(True)
    without = _canned_cockpit_screen(False)
    assert ck.header_visible(with_ts)
    boxes = ck.pane_boxes(with_ts)
    assert set(boxes) == {"incidents", "logs", "slos", "timeline"}
    assert boxes["logs"][0] == 5 and boxes["timeline"][1] > boxes["logs"][1]
    check = ck.panes_with_data(with_ts, ["checkout-availability"])
    assert check.all()
    assert not ck.panes_with_data(Screen(80, 5), []).all()
    assert ck.max_seq(with_ts) == 102
    assert ck.timestamps_shown(with_ts) is True
    assert ck.timestamps_shown(without) is False  # the line's own ts= is not the pane's prefix
    assert ck.timestamps_shown(Screen(20, 4)) is None
    newest = 1795669201.5  # 2026-11-26T05:00:01.500Z
    assert ck.newest_line_age(with_ts, newest + 2.0) == pytest.approx(2.0)
    counters = ck.status_counters(with_ts)
    assert counters == {"received": 2000, "buffered": 1990, "dropped_server": 0,
                        "dropped_client": 10}
    live = Screen(100, 2)
    live.feed("● live  725/s  buffered 3,786  dropped 2 server / 11 client".encode())
    assert ck.status_counters(live) == {"buffered": 3786, "dropped_server": 2,
                                        "dropped_client": 11}


def test_percentile_and_cpu_maths() -> None:
    assert percentile([], 95) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile(range(1, 101), 50) == pytest.approx(50.5)
    assert percentile([10.0, 20.0], 100) == 20.0
    assert cpu_percent(TreeSample(0.0, 1.0, 0, 1), TreeSample(2.0, 1.5, 0, 1)) == 25.0


def test_counters_row_requires_exact_sum() -> None:
    phase = run.Phase("sre-cockpit", "120x40", 1000)
    phase.counters = {"received": 10, "shown": 7, "dropped_client": 3, "dropped_server": 0}
    assert run.counters_row("120x40", "x", phase).verdict == "pass"
    phase.counters["shown"] = 6
    assert run.counters_row("120x40", "x", phase).verdict == "fail"
    phase.counters = {}
    assert run.counters_row("120x40", "x", phase).verdict == "fail"


def test_terminal_env_is_a_256_colour_xterm() -> None:
    env = terminal_env({"COLORTERM": "truecolor", "TERM": "dumb", "PATH": "/bin",
                        "PYTHONDONTWRITEBYTECODE": "1"}, extra={"X": "1"})
    assert env["TERM"] == "xterm-256color"
    assert "COLORTERM" not in env
    assert "PYTHONDONTWRITEBYTECODE" not in env  # an installed cockpit starts from bytecode
    assert env["X"] == "1" and env["PATH"] == "/bin"


def test_pty_session_decodes_output_and_times_a_key(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text(
        "import sys, tty\n"
        "tty.setraw(0)\n"
        "sys.stdout.write('\\x1b[2J\\x1b[1;1Hready'); sys.stdout.flush()\n"
        "key = sys.stdin.read(1)\n"
        "sys.stdout.write('\\x1b[2;1Hgot ' + key); sys.stdout.flush()\n"
        "sys.stdin.read(1)\n")
    session = PtySession([sys.executable, str(script)], cols=30, rows=5)
    session.start()
    try:
        assert session.wait_for(lambda s: s.contains("ready"), 10.0) is not None
        latency = session.press(b"k", lambda s: s.contains("got k"), timeout=10.0)
        assert latency is not None and latency >= 0.0
        assert session.snapshot()[1].startswith("got k")
        assert session.meter.total > 0
        sample = session.sample()
        assert sample is not None and sample.rss_bytes > 0 and sample.processes >= 1
    finally:
        session.close(quit_keys=b"x", grace=5.0)
    assert not session.alive()


def test_parse_sizes_rejects_bad_input() -> None:
    assert run.parse_sizes("120x40,200x50") == [(120, 40), (200, 50)]
    with pytest.raises(Exception, match="bad size"):
        run.parse_sizes("120by40")


def test_tally_screen_counts_repaints_per_region() -> None:
    screen = Screen(20, 4, tally=True)
    screen.feed(b"\x1b[1;1Hheader\x1b[3;5Habc\x1b[3;5Habc")
    assert screen.drawn_in(0, 0, 1, 20) == 6
    assert screen.drawn_in(2, 4, 3, 7) == 6  # the same three cells drawn twice
    assert screen.drawn_in(0, 0, 4, 20) == 12
    screen.reset_tally()
    assert screen.drawn_in(0, 0, 4, 20) == 0
    assert Screen(5, 2).drawn_in(0, 0, 2, 5) == 0  # no tally: nothing counted


def test_pyspy_summary_of_collapsed_stacks() -> None:
    import pyspy

    raw = [
        "main (app.py:1);loop (textual/app.py:10);render (sre_cockpit/ui/logs/view.py:5) 30\n",
        "main (app.py:1);loop (textual/app.py:10);apply (textual/css/stylesheet.py:7) 10\n",
        "garbage line\n",
    ]
    summary = pyspy.summarise(raw, top=5)
    assert summary["samples"] == [("total", 40.0)]
    assert summary["self"][0] == ("render (sre_cockpit/ui/logs/view.py)", 75.0)
    assert ("loop (textual/app.py)", 100.0) in summary["inclusive"]
    assert "75.0%" in pyspy.render(summary)
    assert pyspy.summarise([])["self"] == []


def test_observer_snapshot_reads_the_log_pane_counters(tmp_path: Path) -> None:
    from types import SimpleNamespace

    import observe

    # 10 received = 5 shown + 2 dropped + 1 pending in the stream + 2 handed over by the feed
    # whose message the pane has not processed yet
    status = SimpleNamespace(received=10, dropped_client=2, dropped_server=1, pending=1,
                             duplicates=0, reconnects=1, mode=SimpleNamespace(value="live"))
    stream = SimpleNamespace(status=status, max_pending=100)
    pane = SimpleNamespace(feed=SimpleNamespace(stream=stream, published_lines=7),
                           view=SimpleNamespace(total_appended=5, ring=[1, 2, 3, 4, 5]))
    observe._panes[:] = [pane]
    try:
        data = observe.snapshot()
    finally:
        observe._panes.clear()
    assert data is not None
    assert data["received"] == data["shown"] + data["dropped_client"] + data["queue_len"]
    assert data["queue_len"] == 3
    assert data["queue_bound"] == 100 and data["mode"] == "live"
    target = tmp_path / "stats.json"
    observe.write(target, data)
    assert ck.read_stats_file(target) == data
    assert observe.snapshot() is None
