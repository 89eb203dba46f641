"""``sre-cockpit demo``: start the incident simulator in a child process and run the cockpit on it.

No config file is needed: the simulator writes a temporary one (mode 0600). For a reproducible
screen set ``SRE_COCKPIT_SIM_START=<epoch seconds>`` and ``SRE_COCKPIT_SIM_FROZEN=1`` (the child
inherits the environment). The child stops
when the demo exits — it is terminated explicitly, and it also exits by itself when its stdin
(a pipe held by this process) closes, so it never outlives a killed demo.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELP = "run the cockpit on a simulated incident (no backends or config needed)"
READY_TIMEOUT_S = 30.0
READY_RE = re.compile(r"ready on (\S+) \(config: (.+)\)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``demo``."""
    parser.add_argument("--seed", type=int, default=1, help="story seed (default 1)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="compress the incident story by this factor (default 1)")
    parser.add_argument("--log-rate", type=int, default=20, metavar="N",
                        help="log lines per second (default 20)")


class SimulatorChild:
    """A simulator child process and the config it wrote."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, config: Path, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.config = config
        self.log = log

    def stop(self) -> None:
        """Terminate the child (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def start_child(workdir: Path, extra: list[str]) -> SimulatorChild:
    """Start ``python -m sre_cockpit.simulator`` writing its config into ``workdir``.

    Raises:
        RuntimeError: when the child exits or is not ready in time (one line, with the log path).
    """
    config = workdir / "demo-config.yaml"
    log = workdir / "simulator.log"
    cmd = [sys.executable, "-m", "sre_cockpit.simulator", "--port", "0", "--write-config",
           str(config), "--exit-with-stdin", *extra]
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    child = SimulatorChild(proc, "", config, log)
    assert proc.stdout is not None
    buf = b""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if b"\n" in buf:
            break
        if proc.poll() is not None and not buf:
            detail = log.read_text(errors="replace").strip().splitlines()
            child.stop()
            raise RuntimeError(f"the simulator exited with status {proc.returncode}"
                               + (f": {detail[-1]}" if detail else ""))
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk and proc.poll() is not None:
                continue
            buf += chunk
    line = buf.decode(errors="replace").splitlines()[0] if b"\n" in buf else ""
    match = READY_RE.search(line)
    if not match:
        child.stop()
        raise RuntimeError(f"the simulator did not become ready within {READY_TIMEOUT_S:g}s (log: {log})")
    child.url = match.group(1)
    return child


def run(args: argparse.Namespace) -> int:
    """Start the simulator, run the TUI on its config, stop the simulator."""
    if getattr(args, "config", None) is not None:  # it would be ignored silently otherwise
        print("sre-cockpit demo: the demo runs on the simulator's own config and does not read "
              "--config; to open the cockpit on your config run 'sre-cockpit --config FILE'",
              file=sys.stderr)
        return 2
    try:
        from sre_cockpit.cli import tui
    except ImportError as exc:
        print(f"sre-cockpit demo: the cockpit UI is not available in this build ({exc})",
              file=sys.stderr)
        return 2
    for name, ok in (("--speed", 0.01 <= args.speed <= 10_000),
                     ("--log-rate", 1 <= args.log_rate <= 1_000_000)):
        if not ok:
            value = getattr(args, name[2:].replace("-", "_"))
            print(f"sre-cockpit demo: {name} out of range: {value}", file=sys.stderr)
            return 2
    extra = ["--seed", str(args.seed), "--speed", repr(args.speed), "--log-rate", str(args.log_rate)]
    with tempfile.TemporaryDirectory(prefix="sre-cockpit-demo-") as tmp:
        try:
            child = start_child(Path(tmp), extra)
        except RuntimeError as exc:
            print(f"sre-cockpit demo: {exc}", file=sys.stderr)
            return 1
        try:
            result = tui.run_tui(str(child.config), context=None, read_only=False,
                                 low_bandwidth=bool(getattr(args, "low_bandwidth", False)))
        finally:
            child.stop()
    return result if isinstance(result, int) else 0
