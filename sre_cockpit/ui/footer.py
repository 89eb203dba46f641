"""The footer: Textual's, rebuilt only when the keys it shows change.

Textual's ``Footer`` removes and mounts all of its keys (some twenty widgets, each styled anew)
every time the screen's bindings are refreshed: on every focus move, on every dialog opened or
closed, when a pane is bound. Most of those refreshes leave the same keys on the footer, and the
rebuild was the largest part of the CPU a dialog took to open or close (py-spy: footer key
styling ~10 % of the main thread while opening ``?`` at 1,000 lines/s). This footer compares what
it would show with what it shows and skips the rebuild when they are equal.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.widgets import Footer


class CockpitFooter(Footer):
    """A :class:`~textual.widgets.Footer` that recomposes only when its keys change."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._shown: tuple[Hashable, ...] | None = None
        self.rebuilds = 0
        """How many times the keys were rebuilt (tests read it)."""

    def keys_shown(self) -> tuple[Hashable, ...]:
        """What :meth:`compose` would show now: every visible binding with its key, label,
        state and group, and the command palette's key."""
        app = self.app
        active = self.screen.active_bindings
        shown: list[Hashable] = []
        for key, (_node, binding, enabled, tooltip) in active.items():
            if binding.show or key == app.COMMAND_PALETTE_BINDING:
                group = binding.group
                shown.append((key, binding.key, app.get_key_display(binding),
                              binding.description, binding.action, enabled, tooltip,
                              binding.tooltip, binding.show,
                              (group.description, group.compact) if group else None))
        return (self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, *shown)

    async def recompose(self) -> None:
        """Rebuild the keys, unless they are exactly the ones on screen."""
        if not self.is_attached:
            return
        shown = self.keys_shown()
        if shown == self._shown and self.children:
            return
        self._shown = shown
        self.rebuilds += 1
        await super().recompose()
