"""Append a log stream to a file so file tailers (lnav, toolong) can be compared with the cockpit.

Two sources:

- ``--loki URL --query Q``: tail the simulator's Loki WebSocket (the same lines the cockpit
  receives, at the simulator's rate) and append ``<RFC3339 timestamp> <line>`` per entry;
- ``--synthetic --rate N``: generate logfmt lines with ``seq=`` at N lines/s (used when no
  simulator is available).

Lines are written in batches and flushed every batch, like a service's log file. The process runs
until killed or until ``--seconds`` elapse; it prints its own count to stderr on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import urlencode

LEVELS = ("info", "info", "info", "info", "warn", "error", "debug")


def _stamp(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _clean(line: str) -> str:
    # One entry per file line; a file tailer cannot tell an embedded newline from a new entry.
    return line.replace("\r", " ").replace("\n", " ")


async def tail_loki(url: str, query: str, out: TextIO, stop: asyncio.Event) -> int:
    """Append every tailed entry to ``out`` until ``stop`` is set.

    Args:
        url: Base URL of the Loki-compatible server.
        query: LogQL stream selector.
        out: Open text file.
        stop: Set to end the tail.

    Returns:
        Number of lines written.
    """
    import aiohttp

    params = urlencode({"query": query, "limit": 5000,
                        "start": str(time.time_ns())})
    ws_url = url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    written = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(
            f"{ws_url}/loki/api/v1/tail?{params}", heartbeat=None, max_msg_size=0) as ws:
        while not stop.is_set():
            try:
                msg = await asyncio.wait_for(ws.receive(), 0.5)
            except TimeoutError:
                continue
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.ERROR):
                    break
                continue
            body = json.loads(msg.data)
            entries: list[tuple[int, str]] = []
            for stream in body.get("streams") or []:
                for value in stream.get("values") or []:
                    entries.append((int(value[0]), str(value[1])))
            entries.sort()
            out.write("".join(f"{_stamp(ns)} {_clean(line)}\n" for ns, line in entries))
            out.flush()
            written += len(entries)
    return written


async def synthetic(rate: int, out: TextIO, stop: asyncio.Event) -> int:
    """Write logfmt lines at ``rate`` lines/s in 20 batches a second.

    Args:
        rate: Lines per second.
        out: Open text file.
        stop: Set to end.

    Returns:
        Number of lines written.
    """
    seq = 0
    start = time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - start) * rate)
        lines = []
        while seq < due:
            seq += 1
            level = LEVELS[seq % len(LEVELS)]
            lines.append(f"{_stamp(time.time_ns())} level={level} service=checkout "
                         f"request_id=r{seq:08x} seq={seq} msg=\"handled request\" "
                         f"duration_ms={seq % 250}\n")
        if lines:
            out.write("".join(lines))
            out.flush()
        await asyncio.sleep(0.05)
    return seq


async def _main(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    if args.seconds:
        loop.call_later(args.seconds, stop.set)
    out = open(args.out, "a", encoding="utf-8")  # noqa: ASYNC230, SIM115 - opened once, at start
    try:
        if args.loki:
            written = await tail_loki(args.loki, args.query, out, stop)
        else:
            written = await synthetic(args.rate, out, stop)
    finally:
        out.close()
    print(f"writer: {written} lines", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="file to append to")
    parser.add_argument("--loki", help="Loki-compatible base URL to tail")
    parser.add_argument("--query", default='{job=~".+"}', help="LogQL selector for --loki")
    parser.add_argument("--synthetic", action="store_true", help="generate lines instead")
    parser.add_argument("--rate", type=int, default=1000, help="lines/s for --synthetic")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long")
    args = parser.parse_args(argv)
    if not args.loki and not args.synthetic:
        parser.error("give --loki URL or --synthetic")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    raise SystemExit(main())
