"""The cockpit's start after its first frame: finish reading the config, build the feeds, load
and bind the views.

The first frame is drawn from the quick read of the config
(:class:`~sre_cockpit.ui.boot.BootInfo`) with stand-in panes; the app then
(``CockpitApp._start``), without ever holding back a key, validates the config in a thread
(:func:`build_cockpit`), starts the feeds' jobs (their first polls are answered while the views
load, :func:`load_views`), swaps the stand-ins for the real views and binds them. A config that
turns out invalid stops the app with status 2 and the error in ``boot_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import App

from sre_cockpit.ui.footer import CockpitFooter
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import PANES, load_view

if TYPE_CHECKING:
    from sre_cockpit.config.model import Config
    from sre_cockpit.feeds.cockpit import Cockpit


def install_exit_signals(app: App[Any]) -> Callable[[], None] | None:
    """SIGHUP (SSH dropped), SIGTERM, or the terminal gone (its hang-up, seen by a thread of
    its own: a closed pty sends no signal): flush the notes and drafts, then leave cleanly
    (status 128 + the signal; SIGHUP for a hang-up). Returns the uninstaller, or None
    (headless, or not possible here)."""
    if app.is_headless:
        return None
    from sre_cockpit.feeds.signals import install_signal_handlers, terminal_fds

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        return install_signal_handlers(on_exit=lambda signum: app.exit(return_code=128 + signum),
                                       terminal=terminal_fds())
    return None


def build_cockpit(loader: Callable[[], Config] | None, context: str, *, read_only: bool,
                  clock: Callable[[], datetime]) -> Cockpit:
    """Validate the config and build the context's providers (call it in a thread: no I/O,
    but plugins import).

    Raises:
        Exception: what ``loader`` raises (a ``ConfigError`` for an invalid config), the
            unknown context's ``ConfigError``, or RuntimeError without a loader.
    """
    from sre_cockpit.config.model import resolve_context
    from sre_cockpit.feeds.cockpit import Cockpit

    if loader is None:
        raise RuntimeError("no config and no loader")
    config = loader()
    if context not in config.contexts:
        resolve_context(config, context)  # raises the usual error
    return Cockpit(config, context, read_only=read_only, clock=clock)


async def load_views() -> dict[str, tuple[type[Pane], str | None]]:
    """Import every view (and the dialogs) in a thread: pane id → view class and why it is
    missing (see :func:`~sre_cockpit.ui.panes.load_view`)."""
    classes = await asyncio.to_thread(lambda: {spec.id: load_view(spec) for spec in PANES})
    await asyncio.to_thread(preload_dialogs)
    return classes


async def first_frame_painted(app: App[Any]) -> None:
    """Wait (at most ~0.5 s) until the footer shows its keys and that frame is painted, so
    the heavy imports that follow never hold back the first complete frame."""
    footer = app.query_one(CockpitFooter)
    for _ in range(50):
        if footer.children:
            break
        await asyncio.sleep(0.01)
    await after_refresh(app)


async def after_refresh(app: App[Any]) -> None:
    """Wait (at most 0.5 s) until pending mounts and repaints have been processed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.5):
            await app.screen_stack[0].wait_for_refresh()


def preload_dialogs() -> None:
    """Import the dialogs' modules after the first frame (in a thread): the first ``n``, ``?``
    or ``a`` then opens its dialog at once instead of importing TextArea and DataTable first
    (keys typed right after it wait for the dialog); the help lists every dialog's keys."""
    from sre_cockpit.ui import dialogs, help, notes_editor, oncall_dialogs, quit
    from sre_cockpit.ui.incidents import describe
    from sre_cockpit.ui.logs import detail as line_detail
    from sre_cockpit.ui.logs import fields, labels
    from sre_cockpit.ui.slos import detail

    del dialogs, help, notes_editor, oncall_dialogs, quit, describe, detail
    del line_detail, fields, labels
