"""``:ctx NAME``: the cockpit moves to another context of the config.

The new context's feeds are built first; only when that worked are the panes unbound, the
app-level state (filters, focused incident, moment, zoom) cleared, fresh views mounted and
bound, and the old feeds closed in the background. A context that cannot be opened leaves
everything as it was and says why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.containers import Container

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.suggest import did_you_mean
from sre_cockpit.ui.toast import toast

if TYPE_CHECKING:
    from sre_cockpit.ui.app import CockpitApp


async def switch_context(app: CockpitApp, name: str) -> str | None:
    """Build the feeds of context ``name`` and rebind the panes to them.

    Returns:
        None when the cockpit shows ``name`` now; else the error line for the command line
        (still starting, an unknown context with a suggestion, or why it could not be built).
    """
    config = app.config
    if config is None:
        return "still starting — try again in a moment"
    if name not in config.contexts:
        names = app.context_names()
        did = did_you_mean(name, names)
        return (f"unknown context {sanitize_line(name)!r}{sanitize_line(did)} "
                f"(contexts: {', '.join(names)})")
    from sre_cockpit.feeds.cockpit import Cockpit

    try:
        cockpit = Cockpit(config, name, read_only=app.force_read_only, clock=app.clock)
    except Exception as exc:
        return sanitize_line(f"cannot open context {name}: {exc}")
    app.wiring.unbind()
    old, app.cockpit = app.cockpit, cockpit
    app.boot = replace(app.boot, context=name)
    screen = app.screen_stack[0]
    if screen.maximized is not None:
        screen.minimize()
    app.pane_errors.clear()
    app.filters.clear()
    app.focused_incident = None
    app.set_moment(None)
    body = app.query_one("#body", Container)
    await body.remove_children()
    await body.mount_all(app.pane_layout.make_slots(placeholders=False))
    app.show_context()
    app.set_active(app.active_pane, focus=True)
    app.wiring.bind()
    if old is not None:
        app.run_worker(old.aclose(), exit_on_error=False, group="cockpit-close")
    toast(app, f"context {name}", timeout=3)
    return None
