"""Benchmark phase: an alert flood in the incidents pane (issue 13).

    python benchmarks/incident_flood.py [--alerts 5000] [--pd 2000] [--cols 120 --rows 40]
    python benchmarks/run.py --only flood            (the same rows in the main table)

A REAL Alertmanager (Debian ``prometheus-alertmanager``, started here on loopback with
clustering off) holds ``--alerts`` active alerts (50 alert names, three severities, a runbook
on half of them, two alert names silenced); the simulator (a separate process, clock frozen so
every poll returns the same data) holds ``--pd`` open PagerDuty incidents (it creates half as
many again, which it resolves). The cockpit runs in a pty exactly as an operator starts it,
with only these two providers.

- **first rows**: exec → the first output chunk after which the incidents pane shows alert
  rows (target ≤ 2 s);
- **idle** at a 30 s poll interval, over a window holding at least two polls of each provider:
  CPU of the cockpit's process tree (target ≤ 3 %), bytes to the terminal, and the characters
  drawn into the incidents pane's box (target 0: a poll that returns the same data repaints
  nothing; the alerts started days ago, so no age changes during the window);
- **keys while polls run**: a second cockpit at the default 15 s poll interval (each poll
  decodes ~3 MB from Alertmanager and 20 pages from PagerDuty), ``down``/``up`` pressed 300 times
  30–80 ms apart (about 40 s: two or three polls of each provider), each timed from its write to
  the first output chunk whose line under the table names the newly highlighted incident
  (target p95 ≤ 50 ms); ``t`` (re-sorting every row) timed the same way (info).

When ``prometheus-alertmanager`` is not installed the rows say so (verdict fail: the target
could not be checked).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cockpit as ck  # noqa: E402
from harness import (  # noqa: E402
    REAPER,
    PtySession,
    Screen,
    cpu_percent,
    install_signal_cleanup,
    percentile,
    start_background,
    terminal_env,
)

REPO = HERE.parent
MB = 1024 * 1024
TARGET_FIRST_ROWS_S = 2.0
TARGET_KEY_P95_MS = 50.0
TARGET_IDLE_CPU = 3.0
TARGET_DRAWN = 0
ALERT_NAMES = 50
ROW_RX = re.compile(r"^\s*\S+\s+(critical|warning|info)\s+(triggered|silenced)\s+.*FloodAl",
                    re.MULTILINE)
"""An alert row of the incidents table (titles are cut to the column: ``FloodAle…``)."""
AM_BINARY = "prometheus-alertmanager"
AM_CONFIG = """\
route: {receiver: 'null', group_by: ['alertname'], group_wait: 1h, group_interval: 1h,
        repeat_interval: 4h}
receivers: [{name: 'null'}]
"""


@dataclass
class FloodPhase:
    """Raw figures of one flood run."""

    size: str
    alerts: int
    pd_incidents: int
    header_s: float | None = None
    first_rows_s: float | None = None
    loaded_s: float | None = None
    idle_window_s: float = 0.0
    idle_cpu_pct: float | None = None
    idle_bytes_per_s: float | None = None
    pane_chars_drawn: int | None = None
    pd_requests_in_window: int | None = None
    rss_mb: float | None = None
    key_ms: list[float] = field(default_factory=list)
    key_misses: int = 0
    key_window_s: float = 0.0
    pd_requests_in_keys: int | None = None
    loadavg: float | None = None
    sort_ms: list[float] = field(default_factory=list)
    screen: list[str] = field(default_factory=list)
    error: str = ""


# --------------------------------------------------------------------------- backends
def start_alertmanager(workdir: Path, timeout: float = 30.0) -> tuple[str, subprocess.Popen[bytes]]:
    """A real Alertmanager on a free loopback port (clustering off), ready.

    Raises:
        RuntimeError: not installed, or never ready.
    """
    binary = shutil.which(AM_BINARY) or (f"/usr/bin/{AM_BINARY}"
                                         if Path(f"/usr/bin/{AM_BINARY}").exists() else None)
    if binary is None:
        raise RuntimeError(f"{AM_BINARY} is not installed (Debian package "
                           "prometheus-alertmanager)")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    (workdir / "am.yml").write_text(AM_CONFIG)
    (workdir / "am-data").mkdir(exist_ok=True)
    log = open(workdir / "am.log", "wb")  # noqa: SIM115 - owned by the child
    proc = start_background([binary, f"--config.file={workdir / 'am.yml'}",
                             f"--storage.path={workdir / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{port}",
                             "--cluster.listen-address=", "--log.level=warn"],
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"alertmanager exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as resp:
                if resp.status == 200:
                    return url, proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("alertmanager did not become ready")


def _post(url: str, body: Any) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        raw = resp.read()
    return json.loads(raw) if raw.strip() else None


def flood(url: str, count: int) -> None:
    """Post ``count`` alerts that started three days ago and stay firing for two hours, and
    silence two of the alert names."""
    now = datetime.now(UTC)
    severities = ("critical", "warning", "info")
    alerts = []
    for n in range(count):
        name = f"FloodAlert{n % ALERT_NAMES:02d}"
        annotations = {"summary": f"{name} on host-{n:05d}: disk latency high",
                       "description": "p99 write latency above 200 ms for 10m"}
        if n % 2:
            annotations["runbook_url"] = f"https://runbooks.example.com/{name.lower()}"
        alerts.append({"labels": {"alertname": name, "instance": f"host-{n:05d}",
                                  "severity": severities[n % 3], "service": f"svc-{n % 8}"},
                       "annotations": annotations,
                       "startsAt": (now - timedelta(days=3, seconds=n)).isoformat(),
                       "endsAt": (now + timedelta(hours=2)).isoformat()})
    for start in range(0, len(alerts), 1000):
        _post(f"{url}/api/v2/alerts", alerts[start:start + 1000])
    for name in ("FloodAlert00", "FloodAlert01"):
        _post(f"{url}/api/v2/silences", {
            "matchers": [{"name": "alertname", "value": name, "isRegex": False,
                          "isEqual": True}],
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=2)).isoformat(),
            "createdBy": "bench", "comment": "flood benchmark"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=30) as resp:
            listed = json.loads(resp.read())
        if len(listed) >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"alertmanager lists {len(listed)} alerts, not {count}")


def start_pd(workdir: Path, incidents: int) -> tuple[dict[str, Any], subprocess.Popen[bytes]]:
    """The simulator with ``incidents`` open synthetic PagerDuty incidents (it resolves one in
    three of those it creates, so it creates half as many again), clock frozen an hour ago
    (nothing changes between polls); returns its ``pd`` provider config and the process."""
    import yaml

    config = workdir / "sim.yaml"
    with (workdir / "sim.log").open("wb") as errors:
        proc = start_background([sys.executable, "-m", "sre_cockpit", "simulate", "--port", "0",
                                 "--log-rate", "0", "--pd-extra-incidents",
                                 str(min(20_000, incidents * 3 // 2)),
                                 "--start-time", str(time.time() - 3600), "--frozen",
                                 "--write-config", str(config)], stderr=errors)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode(errors="replace")
    if "ready on" not in line or not config.exists():
        raise RuntimeError(f"simulator not ready: {line!r}")
    pd: dict[str, Any] = yaml.safe_load(config.read_text())["contexts"]["sim"]["providers"]["pd"]
    return pd, proc


def sim_requests(sim_url: str) -> int | None:
    """The simulator's request counter."""
    try:
        with urllib.request.urlopen(f"{sim_url}/_sim/stats", timeout=2) as resp:
            return int(json.loads(resp.read())["requests"])
    except (OSError, ValueError, KeyError):
        return None


def write_config(path: Path, am_url: str, pd: dict[str, Any], interval: str) -> Path:
    """The cockpit's config: the two incident providers only."""
    import yaml

    path.write_text(yaml.safe_dump({
        "default_context": "flood", "user": "Dana Whitfield",
        "refresh": {"incidents": interval, "timeline": "30s"},
        "contexts": {"flood": {"providers": {
            "am": {"type": "alertmanager", "url": am_url}, "pd": pd}}}}))
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------- screen
def alert_rows(screen: Screen) -> int:
    """Alert rows the incidents pane shows."""
    return len(ROW_RX.findall(ck.pane_text(screen, "incidents")))


def loaded(screen: Screen) -> bool:
    """Both providers answered (their source line says ok) and alert rows are on screen."""
    text = ck.pane_text(screen, "incidents")
    return "● am ok" in text and "● pd ok" in text and alert_rows(screen) >= 3


def detail_line(screen: Screen) -> str:
    """The line under the incidents table: the highlighted incident's title."""
    box = ck.pane_boxes(screen).get("incidents")
    if box is None:
        return ""
    _top, left, bottom, right = box
    return screen.region(bottom - 1, left, bottom, right)[0].strip()


# --------------------------------------------------------------------------- runs
def run_flood(workdir: Path, cols: int, rows: int, log: Callable[[str], None], *,
              alerts: int = 5000, pd_incidents: int = 2000, idle_s: float = 65.0,
              presses: int = 300, seed: int = 1) -> FloodPhase:
    """One flood run: first rows and idle at a 30 s poll interval, then keys at 15 s."""
    phase = FloodPhase(f"{cols}x{rows}", alerts, pd_incidents)
    rng = random.Random(seed)
    workdir = workdir / f"flood-{cols}x{rows}-{time.monotonic_ns()}"
    workdir.mkdir(parents=True)
    mine: list[subprocess.Popen[bytes]] = []
    try:
        am_url, am_proc = start_alertmanager(workdir)
        mine.append(am_proc)
        log(f"  posting {alerts:,} alerts to a real Alertmanager")
        flood(am_url, alerts)
        pd, sim_proc = start_pd(workdir, pd_incidents)
        mine.append(sim_proc)
        sim_url = str(pd["url"]).rsplit("/pagerduty", 1)[0]
        env = terminal_env(extra={"SRE_COCKPIT_DATA_DIR": str(workdir / "data")})
        config = write_config(workdir / "flood-30s.yaml", am_url, pd, "30s")
        session = PtySession(ck.cockpit_argv(config), cols=cols, rows=rows, env=env,
                             cwd=str(REPO), tally=True)
        import os

        phase.loadavg = os.getloadavg()[0]
        session.start()
        try:
            hit = session.wait_for(ck.header_visible, 30)
            phase.header_s = None if hit is None else hit - session.started_at
            hit = session.wait_for(lambda s: alert_rows(s) >= 3, 30)
            phase.first_rows_s = None if hit is None else hit - session.started_at
            hit = session.wait_for(loaded, 90)
            if hit is None:
                raise RuntimeError("the incidents pane never showed both providers ok")
            phase.loaded_s = hit - session.started_at
            log(f"  first rows {phase.first_rows_s:.2f} s, both providers {phase.loaded_s:.1f} s;"
                f" idle for {idle_s:.0f} s")
            time.sleep(3.0)  # the timeline's first fetch, the last paints
            _idle(session, phase, sim_url, idle_s)
        finally:
            phase.screen = session.snapshot()
            session.close(quit_keys=b"q", grace=5.0)
        config = write_config(workdir / "flood-15s.yaml", am_url, pd, "15s")
        session = PtySession(ck.cockpit_argv(config), cols=cols, rows=rows, env=env,
                             cwd=str(REPO))
        session.start()
        try:
            if session.wait_for(loaded, 90) is None:
                raise RuntimeError("the second cockpit never showed both providers ok")
            log(f"  {presses} down/up presses while both providers poll every 15 s")
            before = sim_requests(sim_url)
            keys_from = time.monotonic()
            _keys(session, phase, presses, rng)
            phase.key_window_s = time.monotonic() - keys_from
            after = sim_requests(sim_url)
            if before is not None and after is not None:
                phase.pd_requests_in_keys = after - before
        finally:
            session.close(quit_keys=b"q", grace=5.0)
    except Exception as exc:
        phase.error = f"{type(exc).__name__}: {exc}"
        log(f"  error: {phase.error}")
    finally:
        for proc in mine:  # only what this phase started (run.py has its own)
            REAPER.kill(proc)
    return phase


def _idle(session: PtySession, phase: FloodPhase, sim_url: str, seconds: float) -> None:
    box = ck.pane_boxes(session.screen).get("incidents")
    if box is None:
        raise RuntimeError("no incidents pane on screen")
    requests_before = sim_requests(sim_url)
    first = session.sample()
    session.check(lambda s: s.reset_tally())
    start = time.monotonic()
    time.sleep(seconds)
    end = time.monotonic()
    last = session.sample()
    phase.idle_window_s = end - start
    phase.pane_chars_drawn = session.check(lambda s: s.drawn_in(*box))
    phase.idle_bytes_per_s = session.meter.rate(start, end)
    if first is not None and last is not None:
        phase.idle_cpu_pct = cpu_percent(first, last)
        phase.rss_mb = last.rss_bytes / MB
    after = sim_requests(sim_url)
    if requests_before is not None and after is not None:
        phase.pd_requests_in_window = after - requests_before


def _keys(session: PtySession, phase: FloodPhase, presses: int, rng: random.Random) -> None:
    session.wait_for(lambda s: bool(detail_line(s)), 10)
    first = session.check(detail_line)
    session.press(b"\x1b[B", lambda s: detail_line(s) != first, timeout=3.0)
    second = session.check(detail_line)
    if not first or first == second:
        raise RuntimeError(f"down does not move the highlight ({first!r} → {second!r})")
    on_second = True
    for _ in range(presses):
        key, wanted = (b"\x1b[A", first) if on_second else (b"\x1b[B", second)
        latency = session.press(key, lambda s, w=wanted: detail_line(s) == w, timeout=3.0)
        if latency is None:
            phase.key_misses += 1
            on_second = session.check(detail_line) == second
        else:
            phase.key_ms.append(latency * 1000.0)
            on_second = not on_second
        time.sleep(rng.uniform(0.03, 0.08))
    for _ in range(12):  # t: re-sort every row; the header's arrow moves
        before = session.check(lambda s: ck.pane_text(s, "incidents").split("\n")[0:3])
        latency = session.press(
            b"t", lambda s, b=before: ck.pane_text(s, "incidents").split("\n")[0:3] != b,
            timeout=3.0)
        if latency is not None:
            phase.sort_ms.append(latency * 1000.0)
        time.sleep(rng.uniform(0.2, 0.4))


# --------------------------------------------------------------------------- rows
def flood_rows(phase: FloodPhase) -> list[tuple[str, float | None, str, str, str, str]]:
    """(measure, value, unit, target, verdict, note) rows for the results table."""
    label = (f"flood: {phase.alerts:,} alerts (real Alertmanager) + {phase.pd_incidents:,} "
             "PagerDuty incidents (simulator)")
    if phase.error and phase.first_rows_s is None:
        return [(label, None, "", "", "fail", phase.error)]
    error = [(f"{label}: the run stopped", None, "", "", "fail", phase.error)] if phase.error else []
    p95 = percentile(phase.key_ms, 95)
    unpainted_ok = phase.key_misses <= max(1, len(phase.key_ms) // 100)
    per_poll = -(-phase.pd_incidents // 100)
    polls = (f"{phase.pd_requests_in_window} PagerDuty requests in the {phase.idle_window_s:.0f} s "
             f"window ({per_poll} pages a poll, and the timeline's log entries)"
             if phase.pd_requests_in_window is not None else "simulator counters unavailable")
    key_polls = (f"; {phase.pd_requests_in_keys} PagerDuty requests during the "
                 f"{phase.key_window_s:.0f} s of presses"
                 if phase.pd_requests_in_keys is not None else "")
    return [*error,
        (f"{label}: first rows after start", phase.first_rows_s, "s",
         f"≤ {TARGET_FIRST_ROWS_S:g} s", _verdict(phase.first_rows_s, TARGET_FIRST_ROWS_S),
         f"exec → alert rows in the pane; first frame {_s(phase.header_s, 2)}, both providers "
         f"ok after {_s(phase.loaded_s)}; 1-minute load average {phase.loadavg or 0:.1f} on "
         "this 2-CPU machine"),
        (f"{label}: idle CPU at a 30 s poll interval", phase.idle_cpu_pct, "%",
         f"≤ {TARGET_IDLE_CPU:g} %", _verdict(phase.idle_cpu_pct, TARGET_IDLE_CPU),
         f"over {phase.idle_window_s:.0f} s, % of one core, the cockpit's process tree; "
         f"RSS {_mb(phase.rss_mb)}"),
        (f"{label}: characters drawn in the incidents pane by same-data polls",
         None if phase.pane_chars_drawn is None else float(phase.pane_chars_drawn), "chars",
         f"= {TARGET_DRAWN}", _verdict(phase.pane_chars_drawn, TARGET_DRAWN), polls),
        (f"{label}: idle bytes to the terminal", phase.idle_bytes_per_s, "B/s", "(info)", "info",
         "the header's clock ticks every second; nothing else should"),
        (f"{label}: key → paint p95 while polls run", p95, "ms",
         f"≤ {TARGET_KEY_P95_MS:g} ms",
         "fail" if not unpainted_ok else _verdict(p95, TARGET_KEY_P95_MS),
         f"down/up, both providers polled every 15 s (the default); {len(phase.key_ms)} presses, "
         f"{phase.key_misses} unpainted; p50 {_ms(percentile(phase.key_ms, 50))}, "
         f"p99 {_ms(percentile(phase.key_ms, 99))}{key_polls}"),
        (f"{label}: t (sort every row) → paint p50", percentile(phase.sort_ms, 50), "ms",
         "(info)", "info", f"{len(phase.sort_ms)} presses; max {_ms(max(phase.sort_ms, default=None))}"),
    ]


def _verdict(value: float | int | None, limit: float) -> str:
    return "fail" if value is None else ("pass" if value <= limit else "fail")


def _s(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} MB"


def shown(value: float | None, unit: str) -> str:
    """A figure with its unit for the table."""
    if value is None:
        return "—"
    if unit == "B/s":
        return f"{value / 1024:.1f} KB/s" if value >= 1024 else f"{value:.0f} B/s"
    if unit == "chars":
        return f"{int(value):,}"
    return f"{value:.2f} s" if unit == "s" else f"{value:.1f} {unit}"


def main(argv: list[str] | None = None) -> int:
    """Run the phase on its own and print its rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--pd", type=int, default=2000)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--idle-s", type=float, default=65.0)
    parser.add_argument("--presses", type=int, default=300)
    args = parser.parse_args(argv)
    install_signal_cleanup()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {msg}", file=sys.stderr, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="sre-bench-flood-"))
    try:
        phase = run_flood(workdir, args.cols, args.rows, log, alerts=args.alerts,
                          pd_incidents=args.pd, idle_s=args.idle_s, presses=args.presses)
    finally:
        REAPER.kill_all()
    rows = flood_rows(phase)
    print("| size | measure | value | target | verdict | note |\n|---|---|---|---|---|---|")
    for measure, value, unit, target, verdict, note in rows:
        verdict_ = verdict.upper() if verdict in ("pass", "fail") else verdict
        print(f"| {phase.size} | {measure} | {shown(value, unit)} | {target} | {verdict_} | "
              f"{note} |")
    failed = any(r[4] == "fail" for r in rows)
    if failed:
        print("\nscreen at the end of the idle window:\n" + "\n".join(phase.screen),
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
