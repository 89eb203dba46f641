"""How long the log stream takes to be live again after a Loki fault clears, with the provider's
default settings (``poll_interval`` 2 s, ``websocket_retry`` 5 min, backoff 0.5 s doubling to
30 s), against the simulator.

For each fault (``error500``: the tail's upgrade and every poll answer 500, so the stream falls
back to polling and the polls fail; ``refuse``: every connection is reset, so it never connects)
and each fault duration, a fresh stream runs while the fault is on, the fault is cleared, and the
time until the stream is ``live`` again is printed, with what the stream said during the fault::

    python benchmarks/log_recovery.py [--durations 10,30,60] [--faults error500,refuse]
                                       [--give-up 400]

Before the log feed change a stream whose upgrade had been refused stayed on polling for
``websocket_retry`` (300 s) after Loki recovered; run this script from an older checkout
(``PYTHONPATH=…``) to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from sim_helpers import launch_simulator, set_fault  # noqa: E402

from sre_cockpit.feeds.logstream import LogStream, StreamMode  # noqa: E402
from sre_cockpit.providers.loki import LokiOptions, LokiProvider  # noqa: E402


async def one_run(url: str, fault: str, seconds: float, give_up: float) -> tuple[float | None, str]:
    """Fault on for ``seconds`` with a stream running, then cleared: seconds until live again
    (None after ``give_up``) and the stream's mode and detail at the end of the fault."""
    set_fault(url, "loki", fault)
    loki = LokiProvider("loki", LokiOptions.model_validate(
        {"type": "loki", "url": url, "query": '{namespace="shop"}'}))
    stream = LogStream.for_provider(loki)
    task = asyncio.create_task(stream.run())
    try:
        await asyncio.sleep(seconds)
        status = stream.status
        said = f"{status.mode.value}: {status.detail or status.last_error or ''}"[:110]
        set_fault(url, "loki", "none")
        cleared = time.monotonic()
        while stream.mode is not StreamMode.LIVE:
            if time.monotonic() - cleared > give_up:
                return None, said
            await asyncio.sleep(0.05)
        return time.monotonic() - cleared, said
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await loki.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", default="10,30,60",
                        help="fault durations in seconds, comma-separated")
    parser.add_argument("--faults", default="error500,refuse", help="simulator Loki faults")
    parser.add_argument("--give-up", type=float, default=400.0,
                        help="stop waiting for live after this many seconds")
    args = parser.parse_args()
    durations = [float(d) for d in args.durations.split(",") if d]
    sim = launch_simulator(seed=1, log_rate=20)
    try:
        for fault in [f for f in args.faults.split(",") if f]:
            for seconds in durations:
                took, said = asyncio.run(one_run(sim.url, fault, seconds, args.give_up))
                shown = f"{took:6.1f} s" if took is not None else f">{args.give_up:.0f} s"
                print(f"loki:{fault:<9} on {seconds:4.0f} s → live {shown} after it cleared"
                      f"   (during the fault: {said})", flush=True)
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
