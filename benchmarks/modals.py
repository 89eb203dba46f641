"""Modal open time: key → paint of every dialog the operator opens during an incident.

    python benchmarks/modals.py [--opens 20] [--sizes 120x40] [--rate 1000] [--source CHECKOUT]
                                [--compare CHECKOUT]

The real cockpit runs on a pty against ``sre-cockpit simulate`` (default 1,000 lines/s: the log
pane repaints while the dialogs open). Once all four panes show data, each modal is opened
``--opens`` times: the latency is from the write of its key to the first output chunk after
which the pyte-decoded screen shows the dialog (a text only that dialog draws); then its close
key is typed, the benchmark waits until the dialog is gone and pauses 150–350 ms. An open whose
dialog never shows within 2 s counts as unpainted.

Modals (target p95 ≤ 50 ms each): the help screen (``?``); in the incidents pane, filtered to a
PagerDuty incident, the confirm dialog (``r``, resolve — cancelled with ``n``, nothing is sent), the note editor (``n``) and the describe view (``d``, where the build has it); filtered
to a firing Alertmanager alert, the silence form (``s``); the SLO detail (enter in the SLO pane).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cockpit as ck
from harness import (
    REAPER,
    PtySession,
    Screen,
    install_signal_cleanup,
    percentile,
    terminal_env,
)
from startup import REPO, source_env

OPEN_TARGET_MS = 50.0
ESC = b"\x1b"
CLEAR = b"\x15"  # ctrl+u: the prompt's text before the cursor


def _shows(*texts: str) -> Callable[[Screen], bool]:
    """A predicate: every text is on the screen."""

    def shown(screen: Screen) -> bool:
        whole = screen.text()
        return all(text in whole for text in texts)

    return shown


@dataclass(frozen=True)
class ModalSpec:
    """How to open one dialog, recognise it on the screen and close it."""

    name: str
    setup: tuple[bytes, ...]
    """Keys typed once before the first open (each followed by a short pause)."""
    key: bytes
    shown: Callable[[Screen], bool]
    close: bytes
    optional: bool = False
    """The build may not have it (reported as "not in this build" rather than failed)."""


def _filter(text: str) -> tuple[bytes, ...]:
    """Keys that focus the incidents pane and filter it to ``text``."""
    return (b"1", ESC, b"/", CLEAR + text.encode() + b"\r")


MODALS: tuple[ModalSpec, ...] = (
    ModalSpec("help (?)", (b"2",), b"?", _shows("binding id", "? or esc closes"), ESC),
    ModalSpec("confirm (r, resolve)", _filter("pd"), b"r", _shows("Send (y)", "Cancel (n)"),
              b"n"),
    ModalSpec("note editor (n)", (), b"n", _shows("Note for ", "Send (ctrl+s)"), ESC),
    ModalSpec("describe (d)", (), b"d", _shows("c/enter copy", "C copy all"), ESC,
              optional=True),
    ModalSpec("silence form (s)", _filter("alerts triggered"), b"s",
              _shows("Duration (e.g. 30m", "Continue (ctrl+s)"), ESC),
    ModalSpec("SLO detail (enter)", (b"1", ESC, b"3"), b"\r", _shows("queries as sent", "evaluated"),
              ESC),
)


@dataclass
class ModalResult:
    """Open latencies of one modal."""

    name: str
    open_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    """CPU the cockpit's process tree used from the key to the paint (what a loaded machine's
    other work does not inflate, unlike the wall-clock latency)."""
    unpainted: int = 0
    note: str = ""

    def pct(self, pct: float) -> float | None:
        """A percentile of the open latencies in ms."""
        return percentile(self.open_ms, pct)


def measure_modal(session: PtySession, spec: ModalSpec, opens: int, rng: random.Random,
                  budget_s: float = 60.0) -> ModalResult:
    """Open and close one modal ``opens`` times.

    Args:
        session: The running cockpit with data on screen.
        spec: The modal.
        opens: How many opens.
        rng: Jitter between opens.
        budget_s: Stop early after this long.

    Returns:
        The latencies.
    """
    result = ModalResult(spec.name)
    for keys in spec.setup:
        session.write(keys)
        time.sleep(0.6)
    deadline = time.monotonic() + budget_s
    for n in range(opens):
        if time.monotonic() > deadline or not session.alive():
            break
        if session.check(spec.shown):  # still open from the previous round
            session.write(spec.close)
            session.wait_for(lambda s: not spec.shown(s), 3.0)
        before = session.sample()
        latency = session.press(spec.key, spec.shown, timeout=2.0)
        after = session.sample()
        if latency is None:
            result.unpainted += 1
            if n == 0 and spec.optional:
                result.note = "not in this build (its key opened nothing)"
                return result
            session.write(ESC)
            time.sleep(0.5)
            continue
        result.open_ms.append(latency * 1000.0)
        if before is not None and after is not None:
            result.cpu_ms.append((after.cpu_seconds - before.cpu_seconds) * 1000.0)
        session.write(spec.close)
        if session.wait_for(lambda s: not spec.shown(s), 3.0) is None:
            result.note = "did not close within 3 s"
            break
        time.sleep(rng.uniform(0.15, 0.35))
    return result


def measure(workdir: Path, cols: int, rows: int, opens: int, *, rate: int = 1000,
            source: Path | None = None, rng: random.Random | None = None,
            log: Callable[[str], None] | None = None) -> list[ModalResult]:
    """Start a simulator and the cockpit, wait for data, and time every modal.

    Args:
        workdir: Scratch directory (the note drafts and state go here).
        cols: Terminal width.
        rows: Terminal height.
        opens: Opens per modal.
        rate: The simulator's log rate.
        source: Another checkout to run.
        rng: Jitter source.
        log: Progress lines.

    Returns:
        One result per modal (an error is a result with a note and no latencies).

    Raises:
        RuntimeError: The simulator did not start.
    """
    rng = rng or random.Random(1)
    workdir.mkdir(parents=True, exist_ok=True)
    sim = ck.start_simulator(workdir, rate)
    env = terminal_env(extra={"SRE_COCKPIT_DATA_DIR": str(workdir / "modal-data"),
                              "XDG_STATE_HOME": str(workdir / "modal-state"),
                              **source_env(source)})
    session = PtySession([sys.executable, "-m", "sre_cockpit", "--config", str(sim.config)],
                         cols=cols, rows=rows, env=env, cwd=str(source or REPO))
    results: list[ModalResult] = []
    try:
        session.start()
        names = sim.slo_names
        if session.wait_for(lambda s: ck.panes_with_data(s, names).all(), 60.0) is None:
            seen = session.check(lambda s: ck.panes_with_data(s, names))
            return [ModalResult(spec.name, note=f"the panes never all showed data ({seen})")
                    for spec in MODALS]
        time.sleep(2.0)  # the first polls' repaints are over
        for spec in MODALS:
            result = measure_modal(session, spec, opens, rng)
            results.append(result)
            if log is not None:
                log(f"  {spec.name}: p50 {result.pct(50)} ms, p95 {result.pct(95)} ms, CPU p50 "
                    f"{percentile(result.cpu_ms, 50)} ms, {len(result.open_ms)} opens, "
                    f"{result.unpainted} unpainted {result.note}")
    finally:
        session.close(quit_keys=ESC + ESC + b"q", grace=5.0)
        sim.stop()
    return results


def rows_for(results: list[ModalResult]) -> list[tuple[str, float | None, str, str, str, str]]:
    """Table rows: (measure, value, unit, target, verdict, note)."""
    out = []
    for result in results:
        p95 = result.pct(95)
        if not result.open_ms and result.note.startswith("not in this build"):
            out.append((f"modal open: {result.name}, key → paint p95", None, "ms", "(n/a)",
                        "info", result.note))
            continue
        bad = result.unpainted > max(1, len(result.open_ms) // 20)
        verdict = "fail" if p95 is None or p95 > OPEN_TARGET_MS or bad else "pass"
        p50 = result.pct(50)
        note = f"{len(result.open_ms)} opens, {result.unpainted} unpainted"
        if p50 is not None:
            note += f"; p50 {p50:.1f} ms, max {max(result.open_ms):.1f} ms"
        cpu = percentile(result.cpu_ms, 50)
        if cpu is not None:
            note += f"; CPU per open (key → paint) p50 {cpu:.0f} ms"

        if result.note:
            note += f"; {result.note}"
        out.append((f"modal open: {result.name}, key → paint p95", p95, "ms",
                    f"≤ {OPEN_TARGET_MS:g} ms", verdict, note))
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure and print a table (exit 1 when a check failed)."""
    parser = argparse.ArgumentParser(description="sre-cockpit modal open benchmark")
    parser.add_argument("--opens", type=int, default=20, help="opens per modal")
    parser.add_argument("--sizes", default="120x40", help="terminal sizes, e.g. 120x40,200x50")
    parser.add_argument("--rate", type=int, default=1000, help="simulator log lines/s")
    parser.add_argument("--source", type=Path, default=None,
                        help="run another checkout's sre_cockpit instead of this one")
    parser.add_argument("--compare", type=Path, default=None,
                        help="then the same with another checkout")
    args = parser.parse_args(argv)
    if args.opens < 1:
        parser.error("--opens must be at least 1")
    from run import parse_sizes

    try:
        sizes = parse_sizes(args.sizes)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    install_signal_cleanup()
    sources: list[Path | None] = [args.source]
    if args.compare is not None:
        sources.append(args.compare.resolve())
    failed = 0
    with tempfile.TemporaryDirectory(prefix="sre-bench-modal-") as tmp:
        try:
            for cols, rows in sizes:
                for n, source in enumerate(sources):
                    label = str(source) if source else "this checkout"
                    results = measure(Path(tmp) / f"{cols}x{rows}-{n}", cols, rows, args.opens,
                                      rate=args.rate, source=source,
                                      log=lambda m: print(m, file=sys.stderr, flush=True))
                    print(f"\n{label}, {cols}x{rows}, simulator at {args.rate:,} lines/s\n")
                    print("| measure | value | target | verdict | note |\n|---|---|---|---|---|")
                    for measure_, value, _unit, target, verdict, note in rows_for(results):
                        failed += verdict == "fail"
                        shown = "—" if value is None else f"{value:.1f} ms"
                        print(f"| {measure_} | {shown} | {target} | {verdict.upper()} | "
                              f"{note} |")
        except KeyboardInterrupt:
            REAPER.kill_all()
            return 130
        finally:
            REAPER.kill_all()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
