"""Keys typed after a key that opens a dialog wait for the dialog, instead of going astray.

The app routes every key of one terminal read as soon as it reads it. ``n`` opens the note
editor (a modal screen) only a few messages later, so "n" + "rolled back" + ctrl+s in one read (a
paste, a coalesced SSH packet, a fast typist on a slow link) sent the text to the pane under the
editor: ``a`` acknowledged, the rest was lost. A pane lists such actions in ``OPENS_DIALOG``; once
one runs, :class:`KeyHold` keeps the keys read after it until a dialog is on screen with a focused
widget (or :data:`HOLD_MAX_S` passed: no dialog came), then hands them to the app's key routing
in order. Priority keys (ctrl+q, ctrl+c) are never held.
"""

from __future__ import annotations

import time
from typing import Any

from textual import events
from textual.app import App
from textual.timer import Timer

HOLD_MAX_S = 1.0
"""Keys are let go after this long even if no dialog appeared (the action was refused)."""
CHECK_S = 0.02


class KeyHold:
    """Holds keys for an app between "a dialog was asked for" and "it can take keys"."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._keys: list[events.Key] | None = None
        self._since = 0.0
        self._timer: Timer | None = None

    @property
    def active(self) -> bool:
        """Whether keys are being held."""
        return self._keys is not None

    def start(self) -> None:
        """Hold the keys read from now on (a dialog is on its way)."""
        if self._keys is None:
            self._keys = []
        self._since = time.monotonic()
        if self._timer is None:
            self._timer = self.app.set_interval(CHECK_S, self._check, name="key-hold")

    def add(self, event: events.Key) -> None:
        """Keep a key (a copy: the original event is done with)."""
        if self._keys is not None:
            self._keys.append(events.Key(event.key, event.character))

    def dialog_ready(self) -> bool:
        """A dialog is on top and one of its widgets has the focus."""
        app = self.app
        return app.screen is not app.screen_stack[0] and app.screen.focused is not None

    async def _check(self) -> None:
        if self.dialog_ready() or time.monotonic() - self._since >= HOLD_MAX_S:
            await self.release()

    async def release(self) -> None:
        """Route the held keys now, in the order they were read."""
        keys, self._keys = self._keys or [], None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        for key in keys:
            key.set_sender(self.app)
            await self.app.on_event(key)
