"""The cockpit's start after its first frame: finish reading the config, build the feeds, load
and bind the views.

The first frame is drawn from the quick read of the config
(:class:`~sre_cockpit.ui.boot.BootInfo`) with stand-in panes; :func:`start` then, without ever
holding back a key, validates the config in a thread, starts the feeds' jobs (their first polls
are answered while the views load), swaps the stand-ins for the real views and binds them. A
config that turns out invalid stops the app with status 2 and the error in ``boot_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from sre_cockpit.ui.footer import CockpitFooter
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import PANES, PaneSlot, load_view

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.ui.app import CockpitApp


async def start(app: CockpitApp) -> None:
    """After the first frame: finish reading the config, build the feeds, bind the panes; sets
    ``app.started`` and replays the keys typed meanwhile."""
    await first_frame_painted(app)
    if not app.is_headless:
        from sre_cockpit.feeds.signals import install_signal_handlers

        # SIGHUP (SSH dropped) / SIGTERM: flush the notes and drafts, then leave cleanly.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            app.uninstall_signals = install_signal_handlers(
                on_exit=lambda signum: app.exit(return_code=128 + signum))
    if app.cockpit is None:
        try:
            app.cockpit = await asyncio.to_thread(build_cockpit, app)
            # The first polls go out now and are answered while the views load and mount;
            # each view gets its feed's latest snapshot when it binds.
            app.wiring.run_jobs()
            classes = await asyncio.to_thread(lambda: [load_view(s) for s in PANES])
            await asyncio.to_thread(preload_dialogs)
        except Exception as exc:
            app.boot_error = exc
            app.exit(return_code=2)
            return
        if dict(app.cockpit.runtime.config.keys) != dict(app.boot.keys):
            app.set_keymap(dict(app.cockpit.runtime.config.keys))
        await replace_panes(app, dict(zip((s.id for s in PANES), classes, strict=True)))
    for pane_id, error in app.pane_errors.items():
        app.log.error(f"pane {pane_id} unavailable: {error}")
    app.show_context()
    app.keyhelp.check_keymap()
    app.wiring.bind()
    await after_refresh(app)  # binding may hide what had the focus (empty state)
    app.set_active(app.active_pane, focus=True)
    app.started.set()
    await app.keys.replay_early()


def build_cockpit(app: CockpitApp) -> Cockpit:
    """Validate the config and build the context's providers (in a thread: no I/O, but
    plugins import).

    Raises:
        ConfigError: the config is invalid, or its context is unknown.
        RuntimeError: the app has neither a cockpit nor a loader.
    """
    from sre_cockpit.config.model import resolve_context
    from sre_cockpit.feeds.cockpit import Cockpit

    loader = app.loader
    if loader is None:
        raise RuntimeError("no config and no loader")
    config = loader()
    if app.boot.context not in config.contexts:
        resolve_context(config, app.boot.context)  # raises the usual error
    return Cockpit(config, app.boot.context, read_only=app.force_read_only, clock=app.clock)


async def first_frame_painted(app: CockpitApp) -> None:
    """Wait (at most ~0.5 s) until the footer shows its keys and that frame is painted, so
    the heavy imports that follow never hold back the first complete frame."""
    footer = app.query_one(CockpitFooter)
    for _ in range(50):
        if footer.children:
            break
        await asyncio.sleep(0.01)
    await after_refresh(app)


async def after_refresh(app: CockpitApp) -> None:
    """Wait (at most 0.5 s) until pending mounts and repaints have been processed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.5):
            await app.screen_stack[0].wait_for_refresh()


async def replace_panes(app: CockpitApp,
                        classes: dict[str, tuple[type[Pane], str | None]]) -> None:
    """Swap the stand-in panes for the views (or for panes saying why a view is missing)."""
    # Removing the focused placeholder moves Textual's focus to a neighbour, which would make
    # that neighbour's pane the active one (on_descendant_focus): the operator's stays.
    active = app.active_pane
    for slot in app.query(PaneSlot):
        cls, error = classes[slot.pane_id]
        if error is not None:
            app.pane_errors[slot.pane_id] = error
        await slot.remove_children()
        slot.pane = cls(id=slot.pane_id)
        await slot.mount(slot.pane)
    await after_refresh(app)  # the new panes have composed their children
    app.set_active(active, focus=True)


def preload_dialogs() -> None:
    """Import the dialogs' modules after the first frame (in a thread): the first ``n``, ``?``
    or ``a`` then opens its dialog at once instead of importing TextArea and DataTable first
    (keys typed right after it wait for the dialog); the help lists every dialog's keys."""
    from sre_cockpit.ui import dialogs, help, notes_editor, oncall_dialogs, quit
    from sre_cockpit.ui.incidents import describe
    from sre_cockpit.ui.slos import detail

    del dialogs, help, notes_editor, oncall_dialogs, quit, describe, detail
