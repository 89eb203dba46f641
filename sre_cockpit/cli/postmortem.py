"""``sre-cockpit postmortem INCIDENT_ID [-o FILE]``: write a Markdown postmortem draft.

Exit 0 on success, 2 for an unknown incident id or an output file that cannot be written
(one line on stderr listing the known ids / the reason).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sre_cockpit.cli.common import UsageError
from sre_cockpit.config.model import load_for_cli
from sre_cockpit.core.privatefile import write_private_file
from sre_cockpit.core.sanitize import sanitize_line

HELP = "write a Markdown postmortem draft for an incident (summary, SLO impact, timeline, notes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``INCIDENT_ID`` (``Incident.id`` or ``provider:id``) and ``-o FILE``."""
    parser.add_argument("incident_id", metavar="INCIDENT_ID",
                        help="the incident's id (e.g. Q1ABC) or provider:id key")
    parser.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write the draft to FILE instead of standard output")


def write_draft(text: str, output: str | None) -> Path | None:
    """Write ``text`` to ``output`` (None or ``-`` = stdout) as a private file (0600, atomic,
    fsynced); returns the path written.

    Raises:
        UsageError: the file cannot be written (one line).
    """
    if output in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    path = Path(output).expanduser()
    try:
        return write_private_file(path, text)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write {sanitize_line(str(path))}: {reason}") from None


def run(args: argparse.Namespace) -> int:
    """Build the draft from the context's providers and the journal, then write it."""
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.reports.postmortem import UnknownIncident, build_postmortem

    config, context = load_for_cli(args)
    wanted = str(args.incident_id).strip()
    if not wanted:
        raise UsageError("INCIDENT_ID is empty")

    async def build() -> str:
        cockpit = Cockpit(config, context, read_only=True)
        try:
            return await build_postmortem(cockpit, wanted)
        finally:
            await cockpit.aclose()

    try:
        text = asyncio.run(build())
    except UnknownIncident as exc:
        raise UsageError(str(exc)) from None
    except TimeoutError:
        print("sre-cockpit: the SLO queries did not answer in time; try again", file=sys.stderr)
        return 1
    path = write_draft(text, args.output)
    if path is not None:
        print(f"postmortem draft written to {sanitize_line(str(path))}", file=sys.stderr)
    return 0
