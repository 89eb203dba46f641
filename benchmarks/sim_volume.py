"""What the simulator's Loki spends answering the volume strip's metric query.

The strip asks for ``sum by (level, detected_level) (count_over_time({…} [step]))`` over the last
hour in N columns and asks again every refresh. The simulator counts the story's lines (bounded:
past windows are cached, and beyond 150,000 lines per query windows are estimated from a sample),
in a worker thread so tails keep flowing. Prints the CPU time of the first query and of a repeat
(one new window) at the default 20 lines/s and at 1,000 lines/s, with verdicts: first query ≤ 5 s
of CPU, repeat ≤ 0.1 s. Run::

    python benchmarks/sim_volume.py [--columns 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sre_cockpit.core.logvolume import strip_range, volume_logql  # noqa: E402
from sre_cockpit.simulator.logs import LogGenerator  # noqa: E402
from sre_cockpit.simulator.loki_metrics import MetricEngine, parse_metric  # noqa: E402
from sre_cockpit.simulator.story import Story  # noqa: E402

NS = 1_000_000_000
START = 1_790_000_000.0
FIRST_TARGET_S = 5.0
REPEAT_TARGET_S = 0.1


def measure(rate: int, columns: int) -> tuple[float, float, int]:
    """CPU seconds of the first query and of the query one step later; lines looked at."""
    engine = MetricEngine(LogGenerator(Story(4, START), rate))
    start, end, step = strip_range(START, 3600, columns)
    query = parse_metric(volume_logql('{namespace="shop"}', step))
    cpu = time.process_time()
    engine.evaluate(query, int((start + step) * NS), int(end * NS), int(step * NS), int(end * NS))
    first = time.process_time() - cpu
    cpu = time.process_time()
    engine.evaluate(query, int((start + 2 * step) * NS), int((end + step) * NS), int(step * NS),
                    int((end + step) * NS))
    return first, time.process_time() - cpu, engine.lines_scanned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--columns", type=int, default=60)
    args = parser.parse_args()
    if not 1 <= args.columns <= 2000:
        print("sim_volume.py: --columns must be between 1 and 2000", file=sys.stderr)
        return 2
    print(f"| log rate | first query (1 h, {args.columns} columns) | repeat one step later | "
          "lines looked at | verdict |")
    print("|---|---|---|---|---|")
    ok = True
    for rate in (20, 1000):
        first, repeat, looked = measure(rate, args.columns)
        passed = first <= FIRST_TARGET_S and repeat <= REPEAT_TARGET_S
        ok = ok and passed
        print(f"| {rate} lines/s | {first:.2f} s CPU (≤ {FIRST_TARGET_S:g} s) | {repeat * 1000:.0f} ms "
              f"CPU (≤ {REPEAT_TARGET_S * 1000:.0f} ms) | {looked:,} of {3600 * rate + rate * 60:,} | "
              f"{'PASS' if passed else 'FAIL'} |")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
