"""Start-up: first frame and time to data, over several starts of the real cockpit.

    python benchmarks/startup.py [--starts 5] [--sizes 120x40] [--rate 1000]
                                 [--source CHECKOUT] [--compare CHECKOUT]

Each start is a fresh ``python -m sre_cockpit --config FILE`` on a new pty, exactly as an
operator starts it, against one ``sre-cockpit simulate`` (``--log-rate``, default 1,000 lines/s)
that runs for the whole measurement. From the pyte-decoded screen it reads, in seconds after
exec:

- *first frame*: the header's context badge on the top row (``ctx NAME`` / ``PRODUCTION``);
- *full frame*: the footer's keys on the bottom row as well (a frame drawn by Textual);
- each pane's first real data (an incident, a log line with ``seq=``, an SLO name with a
  percentage, a timeline event) and *time to data*: all four at once.

The verdicts use the median of the starts (a shared machine's load makes the worst start noisy;
the worst is printed beside it). ``--source`` runs another checkout's ``sre_cockpit`` (for
before/after); ``--compare`` alternates the starts of this checkout and another one against the
same simulator, so both see the same load.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import cockpit as ck
from harness import REAPER, PtySession, Screen, install_signal_cleanup, terminal_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PANES = ("incidents", "logs", "slos", "timeline")
FOOTER_RX = re.compile(r"\bzoom\b|\bquit\b|\bhelp\b")
FIRST_FRAME_TARGET_S = 0.25
TIME_TO_DATA_TARGET_S = 1.0


@dataclass
class StartRun:
    """Seconds after exec of one start (None: never seen within the timeout)."""

    label: str
    first_frame_s: float | None = None
    full_frame_s: float | None = None
    panes_s: dict[str, float | None] = field(default_factory=dict)
    all_panes_s: float | None = None
    first_frame_cpu_s: float | None = None
    all_panes_cpu_s: float | None = None
    loadavg: float = 0.0
    error: str = ""


def footer_visible(screen: Screen) -> bool:
    """The footer's keys are on the bottom row (the first frame Textual drew in full)."""
    lines = screen.lines()
    return bool(lines) and FOOTER_RX.search(lines[-1]) is not None


def source_env(source: Path | None) -> dict[str, str]:
    """Environment additions that make ``python -m sre_cockpit`` import ``source``'s package."""
    if source is None:
        return {}
    current = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": str(source) + (os.pathsep + current if current else "")}


def start_once(config: Path, slo_names: list[str], *, cols: int, rows: int, workdir: Path,
               source: Path | None = None, label: str = "", timeout: float = 30.0,
               extra_args: tuple[str, ...] = ()) -> StartRun:
    """Start the cockpit once and time its frames and data.

    Args:
        config: The simulator's config.
        slo_names: SLO names in it (an SLO row shows one).
        cols: Terminal width.
        rows: Terminal height.
        workdir: Where its notes and state go.
        source: Another checkout to run (default: this one).
        label: Name of the run in the results.
        timeout: Give up on data after this many seconds.
        extra_args: More command-line arguments (``--low-bandwidth``).

    Returns:
        The timings.
    """
    run = StartRun(label or (str(source) if source else "this checkout"),
                   loadavg=round(os.getloadavg()[0], 2))
    env = terminal_env(extra={"SRE_COCKPIT_DATA_DIR": str(workdir / "data"),
                              "XDG_STATE_HOME": str(workdir / "state"), **source_env(source)})
    session = PtySession([sys.executable, "-m", "sre_cockpit", "--config", str(config),
                          *extra_args], cols=cols, rows=rows, env=env,
                         cwd=str(source or REPO))
    seen: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def cpu_now() -> float | None:
        sample = session.sample()  # CPU seconds of the cockpit's tree: what load does not add
        return None if sample is None else sample.cpu_seconds

    def probe(screen: Screen) -> bool:
        now = time.monotonic()
        if "first" not in seen and ck.header_visible(screen):
            seen["first"] = now
            cpu["first"] = cpu_now() or 0.0
        if "full" not in seen and "first" in seen and footer_visible(screen):
            seen["full"] = now
        check = ck.panes_with_data(screen, slo_names)
        for name in PANES:
            if name not in seen and getattr(check, name):
                seen[name] = now
        if check.all() and "all" not in seen:
            seen["all"] = now
            cpu["all"] = cpu_now() or 0.0
        return "all" in seen and "full" in seen

    try:
        session.start()
        session.wait_for(probe, timeout)
    except OSError as exc:
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        started = session.started_at
        session.close(quit_keys=b"q", grace=5.0)

    def after(key: str) -> float | None:
        return round(seen[key] - started, 3) if key in seen else None

    run.first_frame_s = after("first")
    run.full_frame_s = after("full")
    run.panes_s = {name: after(name) for name in PANES}
    run.all_panes_s = after("all")
    run.first_frame_cpu_s = round(cpu["first"], 3) if "first" in cpu else None
    run.all_panes_cpu_s = round(cpu["all"], 3) if "all" in cpu else None
    if run.first_frame_s is None and not run.error:
        run.error = "no header within the timeout: " + " / ".join(
            line.strip() for line in session.snapshot()[:3] if line.strip())[:200]
    return run


def summary(runs: list[StartRun], attr: str) -> tuple[float | None, float | None, int]:
    """(median, worst, missing) of one figure over runs; worst is None when a run missed it."""
    values = [getattr(r, attr) for r in runs]
    known = [v for v in values if v is not None]
    if not known:
        return None, None, len(values)
    worst = max(known) if len(known) == len(values) else None
    return round(median(known), 3), worst, len(values) - len(known)


def fmt_s(value: float | None) -> str:
    """Seconds with two decimals, or a dash."""
    return "—" if value is None else f"{value:.2f} s"


def pane_summary(runs: list[StartRun]) -> str:
    """Median seconds to each pane's first data (which pane bounds time to data)."""
    parts = []
    for name in PANES:
        values = [r.panes_s.get(name) for r in runs]
        known = [v for v in values if v is not None]
        parts.append(f"{name} {median(known):.2f} s" if known else f"{name} never")
    return "median per pane: " + ", ".join(parts)


def measure(workdir: Path, cols: int, rows: int, starts: int, *, rate: int = 1000,
            sources: list[tuple[str, Path | None]] | None = None,
            log: object = None) -> dict[str, list[StartRun]]:
    """Start the cockpit ``starts`` times per source against one simulator.

    Args:
        workdir: Scratch directory.
        cols: Terminal width.
        rows: Terminal height.
        starts: Starts per source.
        rate: The simulator's log rate.
        sources: (label, checkout or None for this one); starts alternate between them.
        log: ``print``-like callable for progress.

    Returns:
        label → runs.

    Raises:
        RuntimeError: The simulator did not start.
    """
    sources = sources or [("this checkout", None)]
    for _label, source in sources:  # an installed cockpit starts from bytecode, not source
        subprocess.run([sys.executable, "-m", "compileall", "-q", str((source or REPO) /
                        "sre_cockpit")], capture_output=True, timeout=300, check=False)
    sim = ck.start_simulator(workdir, rate)
    out: dict[str, list[StartRun]] = {label: [] for label, _ in sources}
    try:
        time.sleep(1.0)
        for n in range(starts):
            for label, source in sources:
                run = start_once(sim.config, sim.slo_names, cols=cols, rows=rows,
                                 workdir=workdir, source=source, label=label)
                out[label].append(run)
                if callable(log):
                    log(f"  start {n + 1}/{starts} [{label}]: first frame {run.first_frame_s} s, "
                        f"full frame {run.full_frame_s} s, all panes {run.all_panes_s} s "
                        f"(CPU {run.first_frame_cpu_s} / {run.all_panes_cpu_s} s) "
                        f"{run.panes_s} (load {run.loadavg}){' ' + run.error if run.error else ''}")
                time.sleep(0.5)
    finally:
        sim.stop()
    return out


def rows_for(runs: list[StartRun]) -> list[tuple[str, float | None, str, str, str, str]]:
    """Table rows: (measure, value, unit, target, verdict, note)."""
    first, first_worst, first_missing = summary(runs, "first_frame_s")
    full, full_worst, _ = summary(runs, "full_frame_s")
    data, data_worst, data_missing = summary(runs, "all_panes_s")
    first_cpu, _, _ = summary(runs, "first_frame_cpu_s")
    data_cpu, _, _ = summary(runs, "all_panes_cpu_s")
    loads = ", ".join(f"{r.loadavg:.1f}" for r in runs)

    def verdict(value: float | None, limit: float) -> str:
        return "fail" if value is None or value > limit else "pass"

    def worst(value: float | None, missing: int) -> str:
        return f"worst {value:.2f} s" if value is not None else f"{missing} of {len(runs)} never"

    return [
        (f"start: first frame (exec → header), median of {len(runs)}", first, "s",
         f"≤ {FIRST_FRAME_TARGET_S:g} s", verdict(first, FIRST_FRAME_TARGET_S),
         f"{worst(first_worst, first_missing)}; CPU by then {fmt_s(first_cpu)}; full frame "
         f"(footer keys too) median {fmt_s(full)}, worst {fmt_s(full_worst)}; 1-min load at "
         f"each start: {loads}"),
        (f"start: time to data (all four panes), median of {len(runs)}", data, "s",
         f"≤ {TIME_TO_DATA_TARGET_S:g} s", verdict(data, TIME_TO_DATA_TARGET_S),
         f"{worst(data_worst, data_missing)}; CPU by then {fmt_s(data_cpu)}; "
         f"{pane_summary(runs)}"),
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure and print a table (exit 1 when a check failed)."""
    parser = argparse.ArgumentParser(description="sre-cockpit start-up benchmark")
    parser.add_argument("--starts", type=int, default=5, help="starts per checkout")
    parser.add_argument("--sizes", default="120x40", help="terminal sizes, e.g. 120x40,200x50")
    parser.add_argument("--rate", type=int, default=1000, help="simulator log lines/s")
    parser.add_argument("--source", type=Path, default=None,
                        help="run another checkout's sre_cockpit instead of this one")
    parser.add_argument("--compare", type=Path, default=None,
                        help="alternate starts of this checkout (or --source) and this one")
    args = parser.parse_args(argv)
    if args.starts < 1:
        parser.error("--starts must be at least 1")
    from run import parse_sizes  # the one size parser (argparse errors: exit 2)

    try:
        sizes = parse_sizes(args.sizes)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    install_signal_cleanup()
    sources: list[tuple[str, Path | None]] = [
        (str(args.source) if args.source else "this checkout", args.source)]
    if args.compare is not None:
        sources.append((str(args.compare), args.compare.resolve()))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="sre-bench-start-") as tmp:
        try:
            for cols, rows in sizes:
                results = measure(Path(tmp), cols, rows, args.starts, rate=args.rate,
                                  sources=sources,
                                  log=lambda m: print(m, file=sys.stderr, flush=True))
                print(f"\n{cols}x{rows}, simulator at {args.rate:,} lines/s\n")
                print("| source | measure | value | target | verdict | note |\n|---|---|---|---|---|---|")
                for label, runs in results.items():
                    for measure_, value, _unit, target, verdict, note in rows_for(runs):
                        shown = "—" if value is None else f"{value:.2f} s"
                        failed += verdict == "fail"
                        print(f"| {label} | {measure_} | {shown} | {target} | "
                              f"{verdict.upper()} | {note} |")
        except KeyboardInterrupt:
            REAPER.kill_all()
            return 130
        finally:
            REAPER.kill_all()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
