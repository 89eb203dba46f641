"""``:export [FILE]`` in the cockpit: the focused incident's postmortem draft, written 0600.

Without a file name the draft goes to ``postmortem-<id>-<YYYYmmdd-HHMM>.md`` in the current
directory, else (read-only cwd) in the notes directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sre_cockpit.core.models import Incident
from sre_cockpit.core.privatefile import write_private_file
from sre_cockpit.feeds.journal import default_journal_dir
from sre_cockpit.reports.postmortem import UnknownIncident, build_postmortem

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit


def _candidates(path: str | None, name: str, journal_dir: str | None) -> list[Path]:
    if path:
        return [Path(path).expanduser()]
    return [Path.cwd() / name, default_journal_dir(journal_dir) / name]


class ExportError(Exception):
    """The draft could not be built or written; ``str()`` is one line."""


def draft_name(incident: Incident, stamp: str) -> str:
    """``postmortem-P30AVQB-20261206-1403.md`` (the id made safe for a file name)."""
    safe_id = re.sub(r"[^A-Za-z0-9._-]+", "_", incident.id)[:60] or "incident"
    return f"postmortem-{safe_id}-{stamp}.md"


async def export_postmortem(cockpit: Cockpit, incident: Incident, path: str | None = None) -> str:
    """Build ``incident``'s postmortem draft from the cockpit's providers and notes and write it.

    Returns:
        The path written.

    Raises:
        ExportError: the incident is unknown or no candidate path can be written.
    """
    runtime = cockpit.runtime
    try:
        text = await build_postmortem(cockpit, incident.key)
    except UnknownIncident as exc:
        raise ExportError(str(exc)) from exc
    name = draft_name(incident, runtime.clock().strftime("%Y%m%d-%H%M"))
    candidates = _candidates(path, name, runtime.config.journal_dir)
    last: OSError | None = None
    for candidate in candidates:
        try:
            return str(write_private_file(candidate, text))
        except OSError as exc:  # cwd read-only: fall back to the notes directory
            last = exc
    raise ExportError(f"cannot write {candidates[-1]}: {last.strerror if last else 'unknown'}")
