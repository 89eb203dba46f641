"""How long loading a large config takes, and how much memory it needs.

Writes the generated config of ``tests/big_config.py`` (3.9 MB by default: contexts of 50 SLOs
each, no aliases), then loads it ``--runs`` times, each in a fresh child process, and prints the
wall time of ``load_config`` and the child's peak RSS (``ru_maxrss``) with its RSS before the
load. ``--bomb`` adds a billion-laughs file (must be refused quickly, at a small RSS).
``--profile`` prints the top functions of one load under cProfile; ``--scaling`` loads 0.5, 1, 2
and 3.9 MB files once each and prints the time per MB (flat when the load is linear).

    python benchmarks/config_load.py [--size 3900000] [--runs 3] [--bomb] [--profile] [--scaling]
    python benchmarks/config_load.py --source /path/to/other/checkout   # compare a version
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from big_config import write_big_config  # noqa: E402

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {source!r})
from sre_cockpit.config.model import ConfigError, load_config
import sre_cockpit.providers.registry  # imported by the load anyway: not part of the figure
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    config = load_config({path!r})
    outcome = "loaded: %d contexts, %d SLOs" % (
        len(config.contexts), sum(len(c.slos) for c in config.contexts.values()))
except ConfigError as exc:
    outcome = "refused: " + str(exc)[:160]
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": took, "base_kb": base, "peak_kb": peak, "outcome": outcome}}))
"""

PROFILE = """
import cProfile, pstats, sys
sys.path.insert(0, {source!r})
from sre_cockpit.config.model import ConfigError, load_config
profile = cProfile.Profile()
profile.enable()
try:
    load_config({path!r})
except ConfigError as exc:
    print("refused:", str(exc)[:160])
profile.disable()
pstats.Stats(profile).sort_stats("cumulative").print_stats(18)
"""


def bomb_text() -> str:
    """Nine levels of ten aliases each: 10^9 nodes if expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\ncontexts: {prod: {}}\n"


def measure(path: Path, source: str) -> dict[str, object]:
    """One load in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(source=source, path=str(path))],
                         capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(label: str, path: Path, source: str, runs: int) -> None:
    results = [measure(path, source) for _ in range(runs)]
    seconds = [float(str(r["seconds"])) for r in results]
    peaks = [int(str(r["peak_kb"])) / 1024 for r in results]
    bases = [int(str(r["base_kb"])) / 1024 for r in results]
    print(f"{label}: {path.stat().st_size / 1e6:.2f} MB, {runs} runs: load median "
          f"{statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f}); "
          f"peak RSS median {statistics.median(peaks):.0f} MB (before the load "
          f"{statistics.median(bases):.0f} MB); {results[0]['outcome']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3_900_000, help="bytes (default 3.9 MB)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bomb", action="store_true", help="also time a billion-laughs file")
    parser.add_argument("--profile", action="store_true", help="cProfile one load")
    parser.add_argument("--scaling", action="store_true", help="time per MB at four sizes")
    parser.add_argument("--source", default=str(ROOT),
                        help="checkout whose sre_cockpit is loaded (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="config-load-") as tmp:
        big = write_big_config(Path(tmp) / "big.yaml", args.size)
        print(f"source: {args.source}")
        report("big honest config", big, args.source, args.runs)
        if args.bomb:
            bomb = Path(tmp) / "bomb.yaml"
            bomb.write_text(bomb_text(), encoding="utf-8")
            report("alias bomb", bomb, args.source, args.runs)
        if args.scaling:
            for size in (500_000, 1_000_000, 2_000_000, 3_900_000):
                path = write_big_config(Path(tmp) / f"scale-{size}.yaml", size)
                result = measure(path, args.source)
                mb = path.stat().st_size / 1e6
                seconds = float(str(result["seconds"]))
                print(f"scaling: {mb:.2f} MB in {seconds:.2f} s = {seconds / mb:.2f} s/MB "
                      f"({str(result['outcome'])[:40]})")
        if args.profile:
            subprocess.run([sys.executable, "-c", PROFILE.format(source=args.source,
                                                                 path=str(big))],
                           check=True, timeout=600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
