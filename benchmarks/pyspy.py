"""Sample the running cockpit with py-spy and summarise where its CPU goes.

py-spy is a benchmark-only tool (``pip install py-spy``); when it is missing, profiling is skipped
and the results say so. Sampling is ``--nonblocking`` so the cockpit is never paused, and
``--gil`` so only threads doing Python work are counted (sleeping threads are not CPU).

    python benchmarks/pyspy.py RAW_FILE [--top 25]     # summarise an existing raw profile
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from harness import start_background

FRAME_RX = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::\d+)?\)$")


def start(pid: int, seconds: float, out: Path, *, rate: int = 100) -> subprocess.Popen[bytes] | None:
    """Start ``py-spy record`` on a process (and its subprocesses) for ``seconds``.

    Args:
        pid: Process to sample.
        seconds: Duration.
        out: Raw (collapsed stacks) output file.
        rate: Samples per second.

    Returns:
        The py-spy process, or None when py-spy is not installed.
    """
    exe = shutil.which("py-spy")
    if exe is None:
        return None
    return start_background([exe, "record", "--pid", str(pid), "--duration",
                             str(max(1, int(seconds))), "--rate", str(rate), "--nonblocking",
                             "--gil", "--subprocesses", "--format", "raw", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frame_name(frame: str) -> str:
    match = FRAME_RX.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "sre_cockpit/", "lib/python3"):
        if marker in path:
            path = path[path.index(marker):].replace("site-packages/", "")
            break
    return f"{match.group('func')} ({path})"


def summarise(lines: Iterable[str], top: int = 25) -> dict[str, list[tuple[str, float]]]:
    """Self and inclusive share of samples per function from collapsed stacks.

    Args:
        lines: ``frame;frame;frame COUNT`` lines (py-spy ``--format raw``).
        top: How many functions to keep in each list.

    Returns:
        ``{"self": [(function, percent)], "inclusive": [...], "samples": [("total", n)]}``.
    """
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    total = 0
    for line in lines:
        line = line.rstrip("\n")
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        self_counts[frames[-1]] += n
        for name in set(frames):
            incl_counts[name] += n
    if total == 0:
        return {"self": [], "inclusive": [], "samples": [("total", 0.0)]}

    def pct(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100.0 * n / total, 1)) for name, n in counter.most_common(top)]

    return {"self": pct(self_counts), "inclusive": pct(incl_counts),
            "samples": [("total", float(total))]}


def render(summary: dict[str, list[tuple[str, float]]], top: int = 15) -> str:
    """Plain-text report of a summary."""
    out = [f"samples: {int(summary['samples'][0][1])}", "self time:"]
    out += [f"  {p:5.1f}%  {name}" for name, p in summary["self"][:top]]
    out.append("inclusive time:")
    out += [f"  {p:5.1f}%  {name}" for name, p in summary["inclusive"][:top]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Summarise a raw py-spy profile."""
    parser = argparse.ArgumentParser(description="summarise a py-spy raw profile")
    parser.add_argument("raw", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    with args.raw.open(encoding="utf-8", errors="replace") as fh:
        print(render(summarise(fh, args.top), args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
