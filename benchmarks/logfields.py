"""What structured rendering costs per line, and what that means at 1,000 lines/s.

Parses and renders (message-first, default columns) the simulator's logfmt and JSON lines, plain
lines and hostile lines (escape sequences, a 1 MB line, deep JSON nesting), and prints the cost
per line of each kind. The log view parses lazily, only rows it draws, through an LRU keyed by
row id; so at 1,000 lines/s with a repaint at most 4 times a second, at most one screen of new
rows is parsed per repaint. The projection below assumes the worst case: a full screen (50 rows)
of rows never seen before on every repaint, and compares it with a budget of 1 % of one core
(issue 14's whole budget for the log pane at 1,000 lines/s is 10 %). Run::

    python benchmarks/logfields.py [--rows 50] [--hz 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sre_cockpit.core.logfields import FieldCache, parse_line, render  # noqa: E402
from sre_cockpit.simulator.logs import LogGenerator  # noqa: E402
from sre_cockpit.simulator.story import Story  # noqa: E402

BUDGET = 0.01  # of one core


def samples() -> dict[str, list[str]]:
    gen = LogGenerator(Story(4, 1_790_000_000.0), 50)
    first = gen.first_at_or_after(int((1_790_000_000 - 1800) * 1e9))
    lines = [gen.entry(i).line for i in range(first, first + 4000)]
    return {
        "logfmt (simulator)": [ln for ln in lines if not ln.startswith("{")][:2000],
        "json (simulator)": [ln for ln in lines if ln.startswith("{")][:1000],
        "plain": [f"GET /api/orders/{i} 200 took {i % 90}ms from 10.0.0.{i % 250}"
                  for i in range(2000)],
        "hostile": ["level=warn msg=\"\x1b]52;c;aGk=\x07\" k=\x1b[2J", "x" * 1_000_000,
                    "[" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000] * 5,
    }


def cost(lines: list[str], repeat: int) -> float:
    """Seconds per line to parse and render (fresh cache: every line is a miss)."""
    started = time.process_time()
    for _ in range(repeat):
        cache = FieldCache(size=len(lines) + 1)
        for row_id, line in enumerate(lines):
            render(cache.get(row_id, line))
    return (time.process_time() - started) / (repeat * len(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--hz", type=float, default=4.0)
    args = parser.parse_args()
    if args.rows < 1 or not 0 < args.hz <= 60:
        print("logfields.py: --rows must be at least 1 and --hz in (0, 60]", file=sys.stderr)
        return 2
    parse_line("warm=up k=v")
    print("| lines | parse + render per line |")
    print("|---|---|")
    worst = 0.0
    for name, lines in samples().items():
        per_line = cost(lines, 1 if name == "hostile" else 5)
        if name != "hostile":
            worst = max(worst, per_line)
        print(f"| {name} | {per_line * 1e6:.1f} µs |")
    share = worst * args.rows * args.hz
    verdict = "PASS" if share <= BUDGET else "FAIL"
    print()
    print(f"worst ordinary kind × {args.rows} new rows × {args.hz:g} repaints/s = "
          f"{share * 100:.2f} % of one core (budget {BUDGET * 100:.0f} %): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
