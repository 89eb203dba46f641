"""``sre-cockpit check``: validate the config and probe every provider of the context.

Exit 0 when every provider answers, 1 when any fails, 2 when the config is invalid.
"""

from __future__ import annotations

import argparse
import asyncio

from sre_cockpit.cli.common import format_latency, format_table
from sre_cockpit.config.model import Config, load_for_cli
from sre_cockpit.core.models import HealthState, ProbeResult
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.policy import redact

HELP = "validate the config and check that every provider answers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options beyond the global ones."""


def run(args: argparse.Namespace) -> int:
    """Validate, probe concurrently, print a table; 0 all ok, 1 any failed."""
    config, context = load_for_cli(args)
    results = asyncio.run(probe_all(config, context, read_only=bool(args.read_only)))
    print(f"config: {sanitize_line(config.source or '?')}  context: {sanitize_line(context)}")
    if not results:
        print(f"no providers configured in context {sanitize_line(context)!r}")
        return 0
    secrets = config.secret_values()
    rows = [[r.name, r.type, "ok" if r.ok else "FAIL", format_latency(r.latency_ms),
             redact(r.error or "", secrets)] for r in results]
    print(format_table(("NAME", "TYPE", "STATUS", "LATENCY", "ERROR"), rows))
    failed = sum(1 for r in results if not r.ok)
    if failed:
        print(f"{failed} of {len(results)} providers failed")
        return 1
    print(f"all {len(results)} providers answered")
    return 0


async def probe_all(config: Config, context: str, *, read_only: bool = False) -> list[ProbeResult]:
    """Probe every provider of ``context`` concurrently, each under the feeds' deadline for it
    (the same policy as the cockpit's pollers and ``snapshot``); providers that could not be
    built (missing plugin, bad options) are failed rows."""
    from sre_cockpit.feeds.probes import ProbeFeed
    from sre_cockpit.feeds.runtime import Runtime

    runtime = Runtime(config, context, read_only=read_only)
    try:
        probes = await ProbeFeed(runtime, names=list(runtime.providers)).refresh()
        by_name = {h.provider: ProbeResult(
            name=h.provider, type=runtime.types.get(h.provider, "?"),
            ok=h.state is HealthState.OK, latency_ms=h.latency_ms,
            error=None if h.state is HealthState.OK else h.error) for h in probes.sources}
        for name, reason in runtime.build_errors.items():
            by_name[name] = ProbeResult(name=name, type=runtime.types.get(name, "?"), ok=False,
                                        latency_ms=None, error=sanitize_line(reason))
        return [by_name[n] for n in runtime.context.providers if n in by_name]
    finally:
        await runtime.aclose()
