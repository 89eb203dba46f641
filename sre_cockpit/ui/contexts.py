"""``:ctx NAME``: the feeds of another context of the config.

:func:`open_context` builds the new context's feeds (or says why it cannot); only when that
worked does the app unbind the panes, clear the app-level state (filters, focused incident,
moment, zoom), mount fresh views, bind them and close the old feeds in the background
(``CockpitApp.switch_context``). A context that cannot be opened leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.suggest import did_you_mean

if TYPE_CHECKING:
    from sre_cockpit.config.model import Config
    from sre_cockpit.feeds.cockpit import Cockpit


def open_context(config: Config | None, name: str, *, read_only: bool,
                 clock: Callable[[], datetime]) -> Cockpit | str:
    """The feeds of context ``name`` of ``config`` (providers built, nothing fetched yet).

    Returns:
        The cockpit; or the error line for the command line: still starting (no config yet),
        an unknown context (with a suggestion and the known ones), or why it could not be
        built.
    """
    if config is None:
        return "still starting — try again in a moment"
    if name not in config.contexts:
        names = list(config.contexts)
        did = did_you_mean(name, names)
        return (f"unknown context {sanitize_line(name)!r}{sanitize_line(did)} "
                f"(contexts: {', '.join(names)})")
    from sre_cockpit.feeds.cockpit import Cockpit

    try:
        return Cockpit(config, name, read_only=read_only, clock=clock)
    except Exception as exc:
        return sanitize_line(f"cannot open context {name}: {exc}")
