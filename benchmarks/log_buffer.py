"""Memory of the log pane's buffer per line: the simulator's lines through the Loki tail parser
into a :class:`~sre_cockpit.ui.logs.logview.LogView`, measured with tracemalloc (headless).

    python benchmarks/log_buffer.py [--lines 100000] [--rate 1000]

Prints one table: bytes per buffered line held by the view (its ring and its view of ids)
after ``--lines`` lines, the same lines held as one ``Row`` each (what the buffer was before
the rows were packed in blocks), the time to append them and to rebuild the view (a filter
change over the whole buffer), and what the field picker (``F``) does on the UI thread: read
the newest 5,000 lines (:meth:`RowStore.newest_lines`, beside the tail of
:meth:`RowStore.lines` it replaced), then gather their field names; each with a verdict. Exits 1
when a check failed.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sre_cockpit.core.loglines import LineFilter, Row, make_row
from sre_cockpit.core.logring import RowStore
from sre_cockpit.providers.loki import parse_tail_message
from sre_cockpit.simulator.api_loki import streams_json
from sre_cockpit.simulator.logs import LogGenerator
from sre_cockpit.simulator.story import Story
from sre_cockpit.ui.logs.fields import SCAN_ROWS, fields_seen
from sre_cockpit.ui.logs.logview import LogView

TARGET_B_PER_LINE = 100
"""Bytes per buffered line: 100,000 lines in ~10 MB (the RSS target is 80 MB with 100,000
lines, and the cockpit's own baseline is ~74 MB)."""
TARGET_REBUILD_S = 0.5
"""A filter change over 100,000 buffered lines (decompresses every sealed block)."""
TARGET_PICKER_READ_S = 0.016
"""The field picker's read of the newest lines, on the UI thread: within one frame (60 Hz)."""


def messages(count: int, rate: int) -> list[str]:
    """The simulator's lines as Loki tail messages of 200 lines each."""
    gen = LogGenerator(Story(1, time.time(), 1.0, 3600), rate)
    out = []
    for start in range(0, count, 200):
        entries = [gen.entry(i) for i in range(start, min(count, start + 200))]
        out.append(json.dumps({"streams": streams_json(entries, False)}))
    return out


def traced(build: object) -> int:
    """Bytes still allocated by ``build()`` once it returned (its result kept alive)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()  # type: ignore[operator]
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return int(used)


def median_s(run: object, repeat: int = 7) -> float:
    """Median wall time of ``run()`` over ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def picker_times(ring: RowStore) -> tuple[float, float, float, int]:
    """The field picker's read of the newest :data:`SCAN_ROWS` lines, the old way (the tail of
    every line) and the new (:meth:`RowStore.newest_lines`), then read and gather the field
    names (the new way); and how many names it found."""
    old = [raw for _ts, raw in deque(ring.lines(), maxlen=SCAN_ROWS)]
    new = [raw for _ts, raw in ring.newest_lines(SCAN_ROWS)]
    assert old == new, "newest_lines differs from the tail of lines()"
    before = median_s(lambda: deque(ring.lines(), maxlen=SCAN_ROWS), 3)
    after = median_s(lambda: ring.newest_lines(SCAN_ROWS))
    gather = median_s(lambda: fields_seen(raw for _ts, raw in ring.newest_lines(SCAN_ROWS)), 3)
    return before, after, gather, len(fields_seen(new))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    args = parser.parse_args()
    msgs = messages(args.lines, args.rate)

    def packed() -> LogView:
        view = LogView(max_lines=args.lines)
        for text in msgs:
            view.append(parse_tail_message(text).lines)
        return view

    def one_row_each() -> deque[Row]:
        ring: deque[Row] = deque()
        n = 0
        for text in msgs:
            for line in parse_tail_message(text).lines:
                ring.append(make_row(n, line, 4096))
                n += 1
        return ring

    started = time.process_time()
    view = packed()
    append_s = time.process_time() - started
    started = time.process_time()
    view.line_filter = LineFilter.parse("level=error")
    view.rebuild()
    rebuild_s = time.process_time() - started
    buffered = len(view.ring)
    read_before, read_after, gather_s, names = picker_times(view.ring)
    del view
    per_line = traced(packed) / args.lines
    per_row = traced(one_row_each) / args.lines
    checks = [
        ("bytes per buffered line (LogView)", f"{per_line:,.0f} B", f"≤ {TARGET_B_PER_LINE} B",
         per_line <= TARGET_B_PER_LINE),
        ("same lines as one Row each (before)", f"{per_row:,.0f} B", "(info)", None),
        (f"append {args.lines:,} lines (CPU)", f"{append_s:.2f} s",
         f"(info: {args.lines / max(append_s, 1e-9):,.0f} lines/s)", None),
        ("filter rebuild over the buffer (CPU)", f"{rebuild_s * 1000:.0f} ms",
         f"≤ {TARGET_REBUILD_S * 1000:.0f} ms", rebuild_s <= TARGET_REBUILD_S),
        (f"picker: newest {SCAN_ROWS:,} lines, tail of lines() (before)",
         f"{read_before * 1000:.1f} ms", "(info)", None),
        (f"picker: newest {SCAN_ROWS:,} lines, newest_lines() (UI thread)",
         f"{read_after * 1000:.1f} ms", f"≤ {TARGET_PICKER_READ_S * 1000:.0f} ms",
         read_after <= TARGET_PICKER_READ_S),
        (f"picker: read + gather field names of the newest {SCAN_ROWS:,}",
         f"{gather_s * 1000:.0f} ms", f"(info: {names} names)", None),
    ]
    print(f"{buffered:,} lines buffered (the simulator's story at {args.rate:,} lines/s)\n")
    print("| measure | value | target | verdict |\n|---|---|---|---|")
    for name, value, target, ok in checks:
        verdict = "info" if ok is None else ("PASS" if ok else "FAIL")
        print(f"| {name} | {value} | {target} | {verdict} |")
    return 0 if all(ok is not False for *_, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
