"""Subcommands of ``sre-cockpit``.

Each module ``sre_cockpit.cli.<name>`` exposes ``HELP: str``, ``add_arguments(parser)`` and
``run(args) -> int``; ``sre_cockpit.cli.main`` lists them in a table. Headless commands never import
Textual.
"""

from __future__ import annotations

from sre_cockpit.core.tables import format_latency, format_table

__all__ = ["UsageError", "format_latency", "format_table"]


class UsageError(Exception):
    """Bad user input outside the config file: the CLI prints ``str()`` as one line, exit 2."""
