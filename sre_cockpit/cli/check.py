"""``sre-cockpit check``: validate the config and probe every provider of the context.

Exit 0 when every provider answers, 1 when any fails, 2 when the config is invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sre_cockpit.cli.common import format_latency, format_table
from sre_cockpit.config.model import Config, load_for_cli
from sre_cockpit.core.models import ProbeResult
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.base import Provider
from sre_cockpit.providers.http import redact
from sre_cockpit.reports.snapshot import clean_error, provider_deadline, provider_error

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
    """Probe every provider of ``context`` concurrently, each under its own deadline; providers
    that could not be built (missing plugin, bad options) are failed rows."""
    from sre_cockpit.feeds.runtime import Runtime

    runtime = Runtime(config, context, read_only=read_only)
    try:
        built = await asyncio.gather(*(probe_one(name, runtime.types.get(name, "?"), p)
                                       for name, p in runtime.providers.items()))
        by_name = {r.name: r for r in built}
        for name, reason in runtime.build_errors.items():
            by_name[name] = ProbeResult(name=name, type=runtime.types.get(name, "?"), ok=False,
                                        latency_ms=None, error=sanitize_line(reason))
        return [by_name[n] for n in runtime.context.providers if n in by_name]
    finally:
        await runtime.aclose()


async def probe_one(name: str, type_name: str, provider: Provider) -> ProbeResult:
    """One probe under the provider's deadline; any exception becomes a failed result."""
    start = time.perf_counter()
    deadline = provider_deadline(provider)
    try:
        async with asyncio.timeout(deadline):
            result = await provider.probe()
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        return ProbeResult(name=name, type=type_name, ok=False,
                           latency_ms=(time.perf_counter() - start) * 1000,
                           error=f"{name}: no answer within {deadline:g}s")
    except Exception as exc:
        return ProbeResult(name=name, type=type_name, ok=False,
                           latency_ms=(time.perf_counter() - start) * 1000,
                           error=provider_error(provider, exc))
    latency = result.latency_ms
    if latency is None:
        latency = (time.perf_counter() - start) * 1000
    error = clean_error(provider, result.error) if result.error else None
    if not result.ok and not error:
        error = "probe failed"
    return ProbeResult(name=name, type=type_name, ok=bool(result.ok), latency_ms=latency,
                       error=error, detail=result.detail)
