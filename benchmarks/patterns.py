"""Log patterns over a 100,000-line buffer: the masking miner (sre_cockpit.core.logpatterns) against
drain3, the maintained Python implementation of Drain, with and without its masking.

The buffer is one hour of the simulator's story (``sre_cockpit/simulator/logs.py``: checkout,
payments, search and gateway lines in logfmt and JSON, with the incident's errors) mixed with
noise that real clusters produce (nginx access lines with user names and IPs, Java stack frames,
Kubernetes events, slow SQL, audit lines with user names, hostile lines: escape sequences, a
64 KB line, invalid UTF-8 replacements, deep JSON), and, in the last three minutes only, a new
kind of error nobody has seen before (``disk quota exceeded`` on a volume). Per miner it prints:

- CPU time to group the buffer (median of ``--runs``; the verdict uses it because on a shared
  machine wall time also counts other processes), wall time, and peak memory (tracemalloc, in a
  run of its own);
- number of patterns;
- whether the new error is its own pattern (all its lines, and only they) and marked new (first
  seen in the newest 10 % of the buffer's span, as :func:`sre_cockpit.core.logpatterns.new_since`);
- lines in patterns that mix error and non-error lines (an error hidden among info lines).

Verdicts: time ≤ 1 s (issue 14's target), new error isolated and new, no error lines mixed
with other levels. Run::

    python benchmarks/patterns.py [--lines 100000] [--runs 3] [--no-drain3]

drain3 is optional (``pip install drain3``); without it only the masking miner is measured.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sre_cockpit.core.loglines import ERROR, detect_level  # noqa: E402
from sre_cockpit.core.logpatterns import PatternMiner, new_since  # noqa: E402
from sre_cockpit.simulator.logs import LogGenerator  # noqa: E402
from sre_cockpit.simulator.story import Story  # noqa: E402

NS = 1_000_000_000
START = 1_790_000_000.0
TARGET_S = 1.0
NAMES = [f"{a}{b}" for a in ("al", "bo", "ca", "de", "ev", "fi", "gu", "ha", "iv", "jo", "ka",
                              "li", "mo", "ni", "ol", "pe", "qu", "ro", "sa", "tu")
         for b in ("ice", "nny", "rla", "xter", "elyn", "ona", "stav", "nnah", "an", "rdan",
                   "tya", "nus", "rgan", "ls", "iver")]


def noise_line(rng: random.Random, ts: float) -> str:
    """One line of the noisy mix."""
    kind = rng.random()
    ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    if kind < 0.35:
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(ts))
        path = rng.choice([f"/api/users/{rng.choice(NAMES)}", f"/static/app.{rng.randrange(99)}.js",
                           "/healthz", f"/api/orders?page={rng.randrange(40)}"])
        return (f'{ip} - - [{stamp}] "GET {path} HTTP/1.1" {rng.choice((200, 200, 304, 404))} '
                f'{rng.randrange(90_000)} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/{rng.randrange(100, 130)}.0"')
    if kind < 0.5:
        frame = rng.choice(["com.shop.cart.CartService.add", "com.shop.db.Pool.acquire",
                            "org.springframework.web.servlet.FrameworkServlet.service"])
        return f"\tat {frame}({frame.split('.')[-2]}.java:{rng.randrange(20, 900)})"
    if kind < 0.6:
        pod = f"checkout-{rng.randrange(16**5):05x}-{rng.randrange(16**5):05x}"
        return rng.choice([
            f"Successfully pulled image \"registry.local/checkout:v2.{rng.randrange(9)}.{rng.randrange(9)}\" in {rng.randrange(900)}ms",
            f"Back-off restarting failed container checkout in pod {pod}_shop({uuid.UUID(int=rng.getrandbits(128))})",
            f"Readiness probe failed: Get \"http://{ip}:8080/ready\": context deadline exceeded"])
    if kind < 0.7:
        return (f"slow query: SELECT * FROM {rng.choice(['orders', 'carts', 'ledger'])} WHERE id = "
                f"{rng.randrange(10**7)} took {rng.randrange(500, 5000)}ms")
    if kind < 0.9:
        user = rng.choice(NAMES)
        return rng.choice([f"user {user} logged in from {ip}",
                           f"audit: user '{user}' changed password",
                           f"session expired for user {user} after {rng.randrange(60)}m"])
    hostile = rng.random()
    if hostile < 0.3:
        return f"level=warn msg=\"\x1b]52;c;{rng.randrange(10**6)}\x07 clipboard\" k=\x1b[2J"
    if hostile < 0.35:
        return "x" * 65536
    if hostile < 0.6:
        return f"caf\ufffd \ufffd\ufffd bytes from {ip}"
    if hostile < 0.8:
        return '{"a":' * 50 + "1" + "}" * 50
    return f"panic: runtime error: index out of range [{rng.randrange(9)}] with length {rng.randrange(9)}"


def injected_line(rng: random.Random) -> str:
    """The new kind of error."""
    return (f"ERROR ledger-writer: disk quota exceeded on volume pvc-{uuid.UUID(int=rng.getrandbits(128))} "
            f"(used {rng.randrange(95, 100)}.{rng.randrange(10)}%, limit {rng.choice((50, 100))}Gi)")


@dataclass
class Buffer:
    """The lines (ts_ns, line), oldest first, and which of them are the new error."""

    lines: list[tuple[int, str]]
    injected: set[int]


def build_buffer(total: int, seed: int = 7) -> Buffer:
    """``total`` lines: 80 % simulator story up to START (about an hour of it), 20 % noise over
    the last hour, and up to 300 lines of a new error in the last three minutes."""
    rng = random.Random(seed)
    story_lines = int(total * 0.8)
    gen = LogGenerator(Story(4, START), max(1, round(story_lines / 3600)))
    first = gen.first_at_or_after(int(START * NS)) - story_lines  # the story ends at START
    lines = [(gen.ts(i), gen.entry(i).line) for i in range(first, first + story_lines)]
    n_injected = min(300, total // 100)
    for _ in range(total - story_lines - n_injected):
        ts = START - 3600 + rng.random() * 3600
        lines.append((int(ts * NS), noise_line(rng, ts)))
    marker = len(lines)
    for _ in range(n_injected):
        ts = START - 180 + rng.random() * 180
        lines.append((int(ts * NS), injected_line(rng)))
    order = sorted(range(len(lines)), key=lambda i: lines[i][0])
    position = {old: new for new, old in enumerate(order)}
    return Buffer([lines[i] for i in order], {position[i] for i in range(marker, len(lines))})


@dataclass
class Result:
    """One miner's figures."""

    name: str
    seconds: float
    wall: float
    peak_mb: float
    patterns: int
    isolated: bool
    marked_new: bool
    mixed_error_lines: int

    def verdicts(self) -> dict[str, bool]:
        return {"time": self.seconds <= TARGET_S, "new error isolated": self.isolated,
                "marked new": self.marked_new, "errors unmixed": self.mixed_error_lines == 0}


Runner = Callable[[Buffer, bool], tuple[list[str], int]]
"""Group a buffer; with ``keys`` also return every line's pattern (for the quality figures)."""


def run_own(buffer: Buffer, keys: bool) -> tuple[list[str], int]:
    """The masking miner."""
    miner = PatternMiner()
    miner.add_all(buffer.lines)
    report = miner.report()
    return ([miner.pattern_of(line) for _ts, line in buffer.lines] if keys else [],
            len(report.patterns))


def drain3_runner(masking: bool) -> Runner:
    """A drain3 TemplateMiner with its defaults (depth 4, sim_th 0.4), optionally with the
    masking instructions of drain3's example configuration (IP, UUID, hex, numbers)."""
    from drain3 import TemplateMiner  # type: ignore[import-untyped]
    from drain3.masking import MaskingInstruction  # type: ignore[import-untyped]
    from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-untyped]

    logging.getLogger("drain3").setLevel(logging.WARNING)

    def run(buffer: Buffer, keys: bool) -> tuple[list[str], int]:
        config = TemplateMinerConfig()
        config.profiling_enabled = False
        if masking:
            for pattern, name in (
                    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
                    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})((?=[^A-Za-z0-9])|$)", "UUID"),
                    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
                    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM")):
                config.masking_instructions.append(MaskingInstruction(pattern, name))
        miner = TemplateMiner(config=config)
        ids = []
        for _ts, line in buffer.lines:
            result = miner.add_log_message(line)
            if keys:
                ids.append(str(result["cluster_id"]))
        return ids, len(miner.drain.clusters)

    return run


def quality(buffer: Buffer, keys: list[str]) -> tuple[bool, bool, int]:
    """(new error isolated, marked new, error lines sharing a pattern with other levels)."""
    injected_keys = {keys[i] for i in buffer.injected}
    isolated = len(injected_keys) == 1 and all(
        (keys[i] in injected_keys) == (i in buffer.injected) for i in range(len(keys)))
    first_seen: dict[str, int] = {}
    levels: dict[str, set[bool]] = {}
    for (ts, line), key in zip(buffer.lines, keys, strict=True):
        first_seen.setdefault(key, ts)
        levels.setdefault(key, set()).add(detect_level(line) == ERROR)
    since = new_since(buffer.lines[0][0], buffer.lines[-1][0])
    marked_new = isolated and first_seen[next(iter(injected_keys))] >= since
    mixed = {k for k, v in levels.items() if len(v) > 1}
    mixed_errors = sum(1 for (_ts, line), key in zip(buffer.lines, keys, strict=True)
                       if key in mixed and detect_level(line) == ERROR)
    return isolated, marked_new, mixed_errors


def measure(name: str, run: Runner, buffer: Buffer, runs: int) -> Result:
    """CPU and wall time of grouping (median of ``runs``), then peak memory of one more run of
    grouping alone, then one run that also maps every line to its pattern for the quality."""
    times, walls = [], []
    patterns = 0
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        _keys, patterns = run(buffer, False)
        times.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - started)
    tracemalloc.start()
    run(buffer, False)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    keys, _patterns = run(buffer, True)
    isolated, marked_new, mixed = quality(buffer, keys)
    return Result(name, statistics.median(times), statistics.median(walls), peak / 2**20,
                  patterns, isolated, marked_new, mixed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-drain3", action="store_true")
    args = parser.parse_args()
    if args.lines < 1000 or args.runs < 1:
        print("patterns.py: --lines must be at least 1000 and --runs at least 1", file=sys.stderr)
        return 2
    buffer = build_buffer(args.lines)
    print(f"buffer: {len(buffer.lines):,} lines over "
          f"{(buffer.lines[-1][0] - buffer.lines[0][0]) / NS / 60:.0f} min, "
          f"{len(buffer.injected)} lines of a new error in the last 3 min")
    results = [measure("masking miner", run_own, buffer, args.runs)]
    if not args.no_drain3:
        try:
            results.append(measure("drain3 (defaults)", drain3_runner(False), buffer, args.runs))
            results.append(measure("drain3 + masking", drain3_runner(True), buffer, args.runs))
        except ImportError:
            print("drain3 is not installed: pip install drain3 (or pass --no-drain3)")
    print()
    print("| miner | CPU time | wall time | peak memory | patterns | new error isolated | marked new | "
          "error lines mixed with other levels | verdict |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        failed = [k for k, ok in r.verdicts().items() if not ok]
        verdict = "PASS" if not failed else "FAIL (" + ", ".join(failed) + ")"
        print(f"| {r.name} | {r.seconds:.2f} s (target ≤ {TARGET_S:.0f} s) | {r.wall:.2f} s | "
              f"{r.peak_mb:.2f} MB | "
              f"{r.patterns:,} | {'yes' if r.isolated else 'no'} | "
              f"{'yes' if r.marked_new else 'no'} | {r.mixed_error_lines:,} | {verdict} |")
    passing = [r for r in results if all(r.verdicts().values())]
    print()
    if not passing:
        print("kept: none — no miner meets every check")
        return 1
    kept = min(passing, key=lambda r: r.seconds)
    others = ", ".join(f"{r.name} {r.seconds:.2f} s" for r in results if r is not kept)
    print(f"kept: {kept.name} — the only one meeting every check" if len(passing) == 1
          else f"kept: {kept.name} — the fastest of those meeting every check")
    print(f"      ({kept.seconds:.2f} s CPU for {len(buffer.lines):,} lines; {others})")
    return 0 if kept.name == "masking miner" else 1


if __name__ == "__main__":
    raise SystemExit(main())
