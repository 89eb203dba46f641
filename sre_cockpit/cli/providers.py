"""``sre-cockpit providers``: list installed provider plugins (without importing them unless
``--verbose``)."""

from __future__ import annotations

import argparse

from sre_cockpit.cli.common import format_table
from sre_cockpit.providers import registry

HELP = "list installed provider plugins"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` imports each plugin to report whether it loads and what it can do."""
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="import each plugin and show its load status and capabilities")


def run(args: argparse.Namespace) -> int:
    """Print one row per plugin; exit 0 (1 with ``--verbose`` when a plugin is broken)."""
    infos = registry.plugins()
    if not infos:
        print("no provider plugins installed (is sre-cockpit installed with pip?)")
        return 0
    broken = 0
    rows: list[list[str]] = []
    for info in infos:
        origin = "built-in" if info.builtin else f"third-party ({info.distribution or '?'})"
        status = "not loaded"
        if args.verbose:
            try:
                cls = registry.load_provider_class(info.name)
            except (registry.BrokenProvider, registry.UnknownProviderType) as exc:
                broken += 1
                status = f"broken: {_reason(str(exc))}"
            else:
                caps = ", ".join(sorted(c.value for c in cls.CAPABILITIES)) or "none"
                status = f"ok ({caps})"
        rows.append([info.name, info.value, origin, status])
    print(format_table(("TYPE", "ENTRY POINT", "ORIGIN", "STATUS"), rows))
    if args.verbose:
        registry.clear_warnings()  # already shown in the table
    return 1 if broken else 0


def _reason(message: str) -> str:
    marker = "cannot be loaded: "
    return message.split(marker, 1)[1] if marker in message else message
