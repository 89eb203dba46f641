"""``sre-cockpit logs``: print or follow Loki lines headless, on the same client and the same
:class:`~sre_cockpit.feeds.logstream.LogStream` as the log pane (every reconnect/de-dup/gap-fill
guarantee holds). Every line printed is sanitised. Ctrl-C ends a follow with status 0."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import IO, Any

from sre_cockpit.cli.common import UsageError
from sre_cockpit.core.durations import parse_duration
from sre_cockpit.core.models import LogLine
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.logstream import NS, LogStream
from sre_cockpit.providers.base import LogSource, ProviderError, QueryError
from sre_cockpit.providers.redaction import redact

HELP = "print or follow log lines from the context's Loki provider"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sre-cockpit logs``."""
    parser.add_argument("--query", "-q", metavar="LOGQL",
                        help="LogQL query (default: the provider's `query`)")
    parser.add_argument("--since", default="1h", metavar="DURATION",
                        help="how far back to look, e.g. 15m (default: 1h)")
    parser.add_argument("--limit", type=int, default=100, metavar="N",
                        help="at most N lines from the past, the newest (default: 100)")
    parser.add_argument("--follow", "-f", action="store_true",
                        help="keep printing new lines (reconnects, resumes, never duplicates)")
    parser.add_argument("--output", "-o", choices=("raw", "jsonl"), default="raw",
                        help="raw: one sanitised line per entry; jsonl: "
                             '{"ts": "<ns>", "labels": {…}, "line": "…"} per entry')
    parser.add_argument("--provider", metavar="NAME",
                        help="which log provider of the context (default: the first)")


def format_line(line: LogLine, output: str, max_bytes: int) -> str:
    """One output line (without the newline), sanitised."""
    text = sanitize_line(line.line, max_bytes=max_bytes)
    if output == "raw":
        return text
    labels = {sanitize_line(k, max_bytes=256): sanitize_line(v, max_bytes=1024)
              for k, v in line.labels.items()}
    return json.dumps({"ts": str(line.ts_ns), "labels": labels, "line": text},
                      ensure_ascii=False, separators=(", ", ": "))


class _Printer:
    """Writes UTF-8 lines to stdout's buffer (whatever the locale says)."""

    def __init__(self, output: str, max_bytes: int, stream: IO[bytes] | None = None) -> None:
        self.output = output
        self.max_bytes = max_bytes
        self.stream = stream or sys.stdout.buffer

    def write(self, lines: list[LogLine]) -> None:
        if not lines:
            return
        chunk = "".join(format_line(ln, self.output, self.max_bytes) + "\n" for ln in lines)
        self.stream.write(chunk.encode("utf-8"))
        self.stream.flush()


def _pick_source(runtime: Any, name: str | None) -> LogSource:
    sources: dict[str, LogSource] = runtime.of(LogSource)
    if name is not None:
        if name not in sources:
            known = ", ".join(sorted(sources)) or "none"
            reason = runtime.build_errors.get(name)
            if reason:
                raise UsageError(f"log provider {name!r} could not be built: {reason}")
            raise UsageError(f"no log provider named {name!r} in context "
                             f"{runtime.context_name!r} (log providers: {known})")
        return sources[name]
    if not sources:
        broken = "; ".join(f"{n}: {r}" for n, r in runtime.build_errors.items())
        raise UsageError(f"no log provider (type: loki) in context {runtime.context_name!r}"
                         + (f" ({broken})" if broken else ""))
    return next(iter(sources.values()))


def run(args: argparse.Namespace) -> int:
    """Entry point of ``sre-cockpit logs``."""
    from sre_cockpit.config.model import load_for_cli
    from sre_cockpit.feeds.runtime import Runtime

    try:
        since = parse_duration(args.since)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from exc
    if args.limit is None or args.limit < 1:
        raise UsageError("--limit must be at least 1")
    config, context = load_for_cli(args)
    runtime = Runtime(config, context, read_only=True)
    source = _pick_source(runtime, getattr(args, "provider", None))
    query = args.query or source.default_query
    if not query.strip():
        raise UsageError("--query is empty")
    printer = _Printer(args.output, config.ui.log_max_line_bytes)
    try:
        return asyncio.run(_main(runtime, source, query, since, args.limit, args.follow, printer))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 0
    except BrokenPipeError:
        _silence_stdout()
        return 0


async def _main(runtime: Any, source: LogSource, query: str, since: float, limit: int,
                follow: bool, printer: _Printer) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if not follow:
            now = loop_now_ns()
            job = asyncio.ensure_future(source.query_range(query, now - int(since * NS), now,
                                                           limit=limit, direction="backward"))
            waiter = asyncio.ensure_future(stop.wait())
            await asyncio.wait({job, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not job.done():
                job.cancel()
                return 0
            try:
                printer.write(job.result())
            except QueryError as exc:
                _err(str(exc))
                return 2
            except ProviderError as exc:
                _err(str(exc))
                return 1
            return 0
        stream = LogStream.for_provider(source, query, since_s=since, backfill_limit=limit,
                                        on_event=_err)
        runner = asyncio.ensure_future(stream.run())
        waiter = asyncio.ensure_future(stop.wait())
        drops = _DropReport(stream)
        try:
            while not stop.is_set():
                if runner.done():
                    break
                got = asyncio.ensure_future(stream.wait())
                await asyncio.wait({got, waiter, runner}, return_when=asyncio.FIRST_COMPLETED)
                got.cancel()
                printer.write(stream.drain())
                drops.report(loop.time())
        finally:
            waiter.cancel()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            drops.report(None)
        if runner.done() and not runner.cancelled() and runner.exception() is not None:
            failure = runner.exception()
            _err(str(failure))
            return 2 if isinstance(failure, QueryError) else 1
        printer.write(stream.drain())
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await runtime.aclose()


class _DropReport:
    """Say on stderr how many entries were lost (a follow has no status line): Loki's
    ``dropped_entries`` and the client's overflow, counted separately, at most every 5 s while
    they grow and once more at the end."""

    INTERVAL = 5.0

    def __init__(self, stream: LogStream) -> None:
        self.stream = stream
        self.shown = (0, 0)
        self.last = -self.INTERVAL

    def report(self, now: float | None) -> None:
        """Print the totals if they changed (``now=None``: final, not throttled)."""
        counts = (self.stream.dropped_server, self.stream.dropped_client)
        if counts == self.shown or (now is not None and now - self.last < self.INTERVAL):
            return
        self.shown = counts
        if now is not None:
            self.last = now
        _err(f"log stream: dropped {counts[0]} entries reported by the server, "
             f"{counts[1]} by the client (total so far)")


def loop_now_ns() -> int:
    """Wall-clock ns (separate so tests can patch it)."""
    import time

    return time.time_ns()


def _err(text: str) -> None:
    """One line on stderr, terminal-safe and without any secret of the config or its clients
    (a 401 answer may echo the Authorization header)."""
    print(f"sre-cockpit: {sanitize_line(redact(text))}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
