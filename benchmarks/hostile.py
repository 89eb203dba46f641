"""Benchmark phase: every backend answers 100 MB, then recovers — memory and keys of the cockpit.

    python benchmarks/hostile.py [--size-mb 100] [--fault-s 20] [--cols 120 --rows 40]
    python benchmarks/run.py --only hostile        (the same phase as rows of the main table)

The simulator (a separate process on loopback) serves real data first; the cockpit runs in a pty
exactly as an operator starts it. After a warm-up the baseline RSS of the cockpit's process tree
is read; then the simulator's ``huge`` fault makes every HTTP answer of all four backends a
chunked 100 MB JSON-looking body and every Loki tail message 100 MB. During the fault the RSS is
sampled every 100 ms (peak) and the log pane's ``t`` key is pressed repeatedly (key → paint
latency). Then the fault is cleared; once every pane shows real data again and the cap error is
gone, the RSS after recovery is read and compared with the baseline.

Targets (issue 16): peak RSS < 300 MB, RSS after recovery within 30 MB of the baseline, key →
paint p95 ≤ 100 ms during the fault.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cockpit as ck  # noqa: E402
import pyspy as prof  # noqa: E402
from harness import (  # noqa: E402
    REAPER,
    PtySession,
    Screen,
    cpu_percent,
    install_signal_cleanup,
    percentile,
    terminal_env,
)

REPO = HERE.parent
MB = 1024 * 1024
CAP_ERROR = "larger than"
"""What a pane shows when an answer passed its provider's max_body (``answer larger than …``)."""
TARGET_PEAK_MB = 300.0
TARGET_RECOVERY_MB = 30.0
TARGET_KEY_P95_MS = 100.0


@dataclass
class HostilePhase:
    """Raw figures of one hostile run."""

    size: str
    answer_mb: float
    baseline_mb: float | None = None
    peak_mb: float | None = None
    after_mb: float | None = None
    fault_s: float = 0.0
    key_ms: list[float] = field(default_factory=list)
    key_misses: int = 0
    cpu_pct: float | None = None
    """CPU of the cockpit's process tree during the fault (% of one core)."""
    cap_error_seen: bool = False
    recovered_s: float | None = None
    samples: int = 0
    screen_during: list[str] = field(default_factory=list)
    screen_after: list[str] = field(default_factory=list)
    profile: str = ""
    error: str = ""


class RssSampler(threading.Thread):
    """Reads the RSS of the session's process tree every ``interval`` seconds; keeps the peak."""

    def __init__(self, session: PtySession, interval: float = 0.1) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.session = session
        self.interval = interval
        self.peak = 0
        self.count = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            sample = self.session.sample()
            if sample is not None and sample.rss_bytes:
                self.peak = max(self.peak, sample.rss_bytes)
                self.count += 1
            self.stop.wait(self.interval)


def _set_fault(url: str, body: object) -> None:
    request = urllib.request.Request(f"{url}/_sim/faults", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()


def _clear_faults(url: str) -> None:
    request = urllib.request.Request(f"{url}/_sim/faults", method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()


def _steady_rss(session: PtySession, seconds: float) -> float | None:
    """Median RSS (MB) over ``seconds`` of samples, 4 a second."""
    values = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sample = session.sample()
        if sample is not None and sample.rss_bytes:
            values.append(sample.rss_bytes / MB)
        time.sleep(0.25)
    return statistics.median(values) if values else None


def _healthy(slo_names: list[str]) -> Callable[[Screen], bool]:
    def check(screen: Screen) -> bool:
        return ck.panes_with_data(screen, slo_names).all() and not screen.contains(CAP_ERROR)
    return check


def run_hostile(workdir: Path, cols: int, rows: int, log: Callable[[str], None], *,
                answer_mb: float = 100.0, fault_s: float = 20.0, warmup_s: float = 8.0,
                recover_timeout_s: float = 120.0, seed: int = 1,
                profile: bool = False) -> HostilePhase:
    """One run: baseline, ``answer_mb`` answers from every backend for ``fault_s``, recovery."""
    phase = HostilePhase(f"{cols}x{rows}", answer_mb)
    rng = random.Random(seed)
    try:
        sim = ck.start_simulator(workdir, 100)
    except RuntimeError as exc:
        phase.error = str(exc)
        return phase
    session: PtySession | None = None
    sampler: RssSampler | None = None
    try:
        env = terminal_env(extra={"SRE_COCKPIT_DATA_DIR": str(workdir / "data"),
                                  "XDG_STATE_HOME": str(workdir / "state")})
        session = PtySession(ck.cockpit_argv(sim.config), cols=cols, rows=rows, env=env,
                             cwd=str(REPO))
        session.start()
        if session.wait_for(_healthy(sim.slo_names), 45.0) is None:
            raise RuntimeError("the panes never all showed data before the fault")
        time.sleep(warmup_s)
        phase.baseline_mb = _steady_rss(session, 3.0)
        log(f"  baseline RSS {phase.baseline_mb:.0f} MB; every backend now answers "
            f"{answer_mb:g} MB")
        session.write(ck.COCKPIT_TOGGLE.setup_keys)  # focus the log pane for the key presses
        time.sleep(0.5)
        sampler = RssSampler(session)
        sampler.start()
        _set_fault(sim.url, {"backend": "all", "mode": "huge", "arg": answer_mb})
        raw = workdir / "profile-hostile.txt"
        spy = (prof.start(session.proc.pid, fault_s, raw)
               if profile and session.proc is not None else None)
        started = time.monotonic()
        cpu_start = session.sample()
        while time.monotonic() - started < fault_s and session.alive():
            _press(session, phase, rng)
            if not phase.cap_error_seen:
                phase.cap_error_seen = bool(session.check(lambda s: s.contains(CAP_ERROR)))
        phase.fault_s = time.monotonic() - started
        cpu_end = session.sample()
        if cpu_start is not None and cpu_end is not None:
            phase.cpu_pct = cpu_percent(cpu_start, cpu_end)
        phase.screen_during = session.snapshot()
        if spy is not None:
            spy.wait(30)
            with raw.open(encoding="utf-8", errors="replace") as fh:
                phase.profile = prof.render(prof.summarise(fh), 25)
        _clear_faults(sim.url)
        cleared = time.monotonic()
        log(f"  fault cleared after {phase.fault_s:.0f} s; waiting for every pane to recover")
        hit = session.wait_for(_healthy(sim.slo_names), recover_timeout_s)
        phase.recovered_s = None if hit is None else hit - cleared
        sampler.stop.set()
        sampler.join(2)
        phase.peak_mb = sampler.peak / MB if sampler.peak else None
        phase.samples = sampler.count
        time.sleep(5.0)  # let the last answers and parses be collected
        phase.after_mb = _steady_rss(session, 3.0)
        phase.screen_after = session.snapshot()
    except Exception as exc:
        phase.error = f"{type(exc).__name__}: {exc}"
        log(f"  error: {phase.error}")
    finally:
        if sampler is not None:
            sampler.stop.set()
        if session is not None:
            session.close(quit_keys=b"q", grace=5.0)
        sim.stop()
    return phase


def _press(session: PtySession, phase: HostilePhase, rng: random.Random) -> None:
    """One ``t`` press in the log pane, timed to the paint that shows its effect."""
    toggle = ck.COCKPIT_TOGGLE
    before = session.check(toggle.state)
    if before is None:
        phase.key_misses += 1
        time.sleep(0.2)
        return
    wanted = not before

    def flipped(screen: Screen) -> bool:
        return toggle.state(screen) is wanted

    latency = session.press(toggle.key, flipped, timeout=2.0)
    if latency is None:
        phase.key_misses += 1
    else:
        phase.key_ms.append(latency * 1000.0)
    time.sleep(rng.uniform(0.03, 0.08))


def hostile_rows(phase: HostilePhase) -> list[tuple[str, float | None, str, str, str, str]]:
    """(measure, value, unit, target, verdict, note) rows for the results table."""
    label = f"{phase.answer_mb:g} MB answers from every backend"
    if phase.error:
        return [(label, None, "", "", "fail", phase.error)]
    p95 = percentile(phase.key_ms, 95)
    grew = (None if phase.after_mb is None or phase.baseline_mb is None
            else phase.after_mb - phase.baseline_mb)
    unpainted_ok = phase.key_misses <= max(1, len(phase.key_ms) // 100)
    return [
        (f"{label}: peak RSS", phase.peak_mb, "MB", f"< {TARGET_PEAK_MB:g} MB",
         _verdict(phase.peak_mb is not None and phase.peak_mb < TARGET_PEAK_MB),
         f"{phase.samples} samples over {phase.fault_s:.0f} s of fault and the recovery; "
         f"baseline {_mb(phase.baseline_mb)}"),
        (f"{label}: RSS after recovery − baseline", grew, "MB",
         f"≤ {TARGET_RECOVERY_MB:g} MB",
         _verdict(grew is not None and grew <= TARGET_RECOVERY_MB),
         f"baseline {_mb(phase.baseline_mb)}, after {_mb(phase.after_mb)}; recovered "
         + (f"{phase.recovered_s:.1f} s after the fault cleared" if phase.recovered_s is not None
            else "never (panes still not all showing data)")),
        (f"{label}: key → paint p95 during the fault", p95, "ms",
         f"≤ {TARGET_KEY_P95_MS:g} ms",
         _verdict(p95 is not None and p95 <= TARGET_KEY_P95_MS and unpainted_ok),
         f"{len(phase.key_ms)} presses, {phase.key_misses} unpainted; p50 "
         f"{_ms(percentile(phase.key_ms, 50))}, p99 {_ms(percentile(phase.key_ms, 99))}"),
        (f"{label}: CPU during the fault", phase.cpu_pct, "%", "(info)", "info",
         "% of one core, the cockpit's process tree"),
        (f"{label}: a pane names the cap (‘answer larger than … (max_body)’)",
         1.0 if phase.cap_error_seen else 0.0, "", "shown", _verdict(phase.cap_error_seen),
         "1 = seen on screen during the fault"),
    ]


def _verdict(ok: bool) -> str:
    return "pass" if ok else "fail"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} MB"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    """Run the phase on its own and print its rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mb", type=float, default=100.0)
    parser.add_argument("--fault-s", type=float, default=20.0)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--profile", action="store_true",
                        help="sample the cockpit with py-spy during the fault")
    args = parser.parse_args(argv)
    install_signal_cleanup()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {msg}", file=sys.stderr, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="sre-bench-hostile-"))
    try:
        phase = run_hostile(workdir, args.cols, args.rows, log, answer_mb=args.size_mb,
                            fault_s=args.fault_s, profile=args.profile)
    finally:
        REAPER.kill_all()
    rows = hostile_rows(phase)
    if phase.profile:
        print(f"profile of the cockpit during the fault:\n{phase.profile}", file=sys.stderr)
    print("| size | measure | value | target | verdict | note |\n|---|---|---|---|---|---|")
    for measure, value, unit, target, verdict, note in rows:
        shown = "—" if value is None else (f"{value:.1f} {unit}".strip() if unit else
                                           ("yes" if value else "no"))
        shown_verdict = verdict.upper() if verdict in ("pass", "fail") else verdict
        print(f"| {phase.size} | {measure} | {shown} | {target} | {shown_verdict} | {note} |")
    if phase.error or any(r[4] == "fail" for r in rows):
        print("\nscreen during the fault:\n" + "\n".join(phase.screen_during), file=sys.stderr)
        print("\nscreen after:\n" + "\n".join(phase.screen_after), file=sys.stderr)
    return 1 if any(r[4] == "fail" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
