"""``sre-cockpit snapshot``: fetch everything once and print it as text, JSON or Markdown.

Exit 0 when every provider answered, 1 when any failed (its error is in the output).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from sre_cockpit.cli.common import UsageError
from sre_cockpit.config.model import Config, load_for_cli
from sre_cockpit.core.privatefile import write_private_file
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.reports.snapshot import RENDERERS, Snapshot, collect_snapshot

HELP = "fetch incidents, SLOs and the timeline once and print them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--output``."""
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text",
                        help="output format (default: text)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of standard output")


def run(args: argparse.Namespace) -> int:
    """Collect, render, write."""
    config, context = load_for_cli(args)
    snap = asyncio.run(take(config, context, read_only=bool(args.read_only)))
    text = RENDERERS[args.format](snap)
    if args.output:
        write_atomically(Path(args.output), text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    for problem in snap.problems:
        print(f"sre-cockpit: {problem}", file=sys.stderr)
    return 0 if snap.ok else 1


async def take(config: Config, context: str, *, read_only: bool = False) -> Snapshot:
    """Build the context's feeds, collect one snapshot, close the connections."""
    from sre_cockpit.feeds.cockpit import Cockpit

    cockpit = Cockpit(config, context, read_only=read_only)
    try:
        return await collect_snapshot(cockpit)
    finally:
        await cockpit.aclose()


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a private file (0600, atomic, fsynced).

    Raises:
        UsageError: the file cannot be written (one line).
    """
    try:
        write_private_file(path, text)
    except OSError as exc:
        shown = sanitize_line(os.path.expanduser(str(path)))
        raise UsageError(f"cannot write {shown}: {exc.strerror or exc}") from None
