"""``sre-cockpit simulate`` and ``python -m sre_cockpit.simulator``: serve the incident simulator
(Prometheus, Loki, Alertmanager, PagerDuty on one port) until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading

from sre_cockpit.simulator.faults import FaultSpecError
from sre_cockpit.simulator.server import Simulator
from sre_cockpit.simulator.sim_config import render_config
from sre_cockpit.simulator.sim_config import write_config as write_config_file
from sre_cockpit.simulator.state import DEFAULT_PD_TOKEN, SimOptions

HELP = "serve a simulated incident (Prometheus, Loki, Alertmanager, PagerDuty) on one port"
START_ENV = "SRE_COCKPIT_SIM_START"
FROZEN_ENV = "SRE_COCKPIT_SIM_FROZEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``simulate`` (also used by ``python -m sre_cockpit.simulator``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    parser.add_argument("--seed", type=int, default=1, help="story seed (default 1)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="compress the incident story by this factor (default 1)")
    parser.add_argument("--log-rate", type=int, default=20, metavar="N",
                        help="log lines per second on the live tail (default 20; 0: a quiet tail, "
                             "history only)")
    parser.add_argument("--write-config", metavar="PATH",
                        help="write a cockpit config pointing at the simulator (mode 0600)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="backend:mode[:arg], e.g. loki:ws_close_every:3 (repeatable)")
    parser.add_argument("--pd-rate-limit", type=int, default=None, metavar="N",
                        help="PagerDuty requests per minute before 429 (default: unlimited)")
    parser.add_argument("--pd-extra-incidents", type=int, default=0, metavar="N",
                        help="add N synthetic PagerDuty incidents (to exercise paging)")
    parser.add_argument("--pd-token", default=None, help="PagerDuty API token the simulator accepts")
    parser.add_argument("--start-time", type=float, default=None, metavar="EPOCH",
                        help=f"story anchor in Unix seconds (default ${START_ENV} or now)")
    parser.add_argument("--frozen", action="store_true",
                        help=f"freeze the simulator's clock at the start time (or ${FROZEN_ENV}=1)")
    parser.add_argument("--history-hours", type=float, default=96.0, metavar="H",
                        help="hours of healthy history before the story (default 96)")
    parser.add_argument("--tail-max-duration", type=float, default=3600.0, metavar="S",
                        help="close tails after this many seconds with 1011 (default 3600)")
    parser.add_argument("--loki-no-patterns", action="store_true",
                        help="answer /loki/api/v1/patterns with 404, like a Loki without pattern "
                             "ingesters")
    parser.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)


def _options(args: argparse.Namespace) -> SimOptions:
    start = args.start_time
    if start is None and os.environ.get(START_ENV):
        try:
            start = float(os.environ[START_ENV])
        except ValueError as exc:
            raise ValueError(f"${START_ENV} must be Unix seconds, got {os.environ[START_ENV]!r}") from exc
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {args.port}")
    if not 0.01 <= args.speed <= 10_000:
        raise ValueError(f"--speed must be between 0.01 and 10000, got {args.speed:g}")
    if not 0 <= args.log_rate <= 1_000_000:
        raise ValueError(f"--log-rate must be between 0 and 1000000, got {args.log_rate}")
    if args.pd_rate_limit is not None and args.pd_rate_limit < 1:
        raise ValueError("--pd-rate-limit must be at least 1")
    if not 0 <= args.pd_extra_incidents <= 20_000:
        raise ValueError("--pd-extra-incidents must be between 0 and 20000")
    if not 1 <= args.history_hours <= 24 * 60:
        raise ValueError("--history-hours must be between 1 and 1440")
    if args.tail_max_duration <= 0:
        raise ValueError("--tail-max-duration must be positive")
    return SimOptions(host=args.host, port=args.port, seed=args.seed, speed=args.speed,
                      log_rate=args.log_rate, start_time=start,
                      frozen=args.frozen or os.environ.get(FROZEN_ENV, "") in ("1", "true", "yes"),
                      faults=list(args.fault), pd_rate_limit=args.pd_rate_limit,
                      pd_extra_incidents=args.pd_extra_incidents,
                      pd_token=args.pd_token or DEFAULT_PD_TOKEN,
                      history_hours=args.history_hours, tail_max_duration=args.tail_max_duration,
                      loki_patterns=not args.loki_no_patterns)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM (exit 0); bad options exit 2 with one line on stderr."""
    try:
        opts = _options(args)
        sim = Simulator(opts)
    except (ValueError, FaultSpecError) as exc:
        print(f"sre-cockpit simulate: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(sim, args.write_config, args.exit_with_stdin))
    except OSError as exc:
        print(f"sre-cockpit simulate: cannot listen on {opts.host}:{opts.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


async def _serve(sim: Simulator, write_config: str | None, exit_with_stdin: bool) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    if exit_with_stdin:
        threading.Thread(target=_wait_stdin_eof, args=(loop, stop), daemon=True).start()
    url = await sim.start()
    try:
        suffix = ""
        if write_config:
            try:
                path = write_config_file(write_config, render_config(url, pd_token=sim.opts.pd_token))
            except OSError as exc:
                print(f"sre-cockpit simulate: cannot write {write_config}: {exc.strerror or exc}",
                      file=sys.stderr)
                return 2
            suffix = f" (config: {path})"
        print(f"sre-cockpit simulator ready on {url}{suffix}", flush=True)
        await stop.wait()
    finally:
        await sim.stop()
    return 0


def _wait_stdin_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when our parent (which holds the other end of stdin) goes away."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    loop.call_soon_threadsafe(stop.set)
