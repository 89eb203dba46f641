"""Keys typed in one terminal read reach the widget the operator means.

Textual routes each key to ``screen.focused`` as soon as the app reads it, but runs non-priority
bindings only when the key has bubbled back up to the app. Keys that arrive in one read ("2t",
":ctx prod", "/err", a paste, a coalesced SSH packet) were therefore all routed before the first
one's binding moved the focus: the rest went to the old pane or were lost. :class:`KeyRouter`
fixes the three ways that happens:

- keys read before the panes exist (the first frame) are kept and replayed in order once they do;
- focus-moving bindings (``1``-``4``, ``tab``, ``z``, ``/``, ``:``, ``?``), a prompt's ``escape``
  and the pane actions a widget lists in ``ROUTE_AT_ONCE`` (``l``, the LogQL editor) act at
  routing time, so the next key already sees the new focus;
- an action a pane lists in ``OPENS_DIALOG`` (``n``, the note editor) acts at routing time too,
  and the keys read after it wait (:class:`~sre_cockpit.ui.keyhold.KeyHold`) until the dialog
  has the focus.

Precedence is unchanged: only a key whose nearest binding (focused widget upwards) is one of
these, and never while a text input has the focus. Priority keys (ctrl+q) are never held.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.actions import parse as parse_action
from textual.app import App
from textual.dom import DOMNode

from sre_cockpit.ui.commandline import PromptInput
from sre_cockpit.ui.keyhold import KeyHold

FOCUS_ACTIONS = frozenset({"show_pane", "cycle_pane", "zoom", "filter", "command_line", "help"})
"""Global actions that move the focus (or open a prompt): run as soon as their key is read."""


def takes_text(widget: DOMNode | None) -> bool:
    """Whether keys are text for this widget (an input or editor: ``2`` is a character)."""
    return widget is not None and any(cls.__name__ in ("Input", "TextArea")
                                      for cls in type(widget).__mro__)


class KeyRouter:
    """The app's key routing for keys of one read (see the module docstring)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.early: list[events.Key] | None = []
        """Keys read before the panes were attached (None once they have been replayed)."""
        self.hold = KeyHold(app)

    def priority_key(self, key: str) -> bool:
        """Whether ``key`` has a priority binding (ctrl+q works even while starting)."""
        return any(binding.priority for _, bindings in self.app.screen._binding_chain
                   for binding in bindings.key_to_bindings.get(key, ()))

    async def route(self, event: events.Key) -> bool:
        """Handle ``event`` now if it must not wait for Textual's own routing; True if done."""
        if event.is_forwarded:
            return False
        if self.early is not None and not self.priority_key(event.key):
            self.early.append(events.Key(event.key, event.character))
            return True
        if self.hold.active and not self.priority_key(event.key):
            self.hold.add(event)
            return True
        return await self._at_once(event)

    async def replay_early(self) -> None:
        """The panes are attached: route the keys typed while starting, in order."""
        keys, self.early = self.early or [], None
        for key in keys:  # keys that arrived before this call were appended, in order
            key.set_sender(self.app)
            await self.app.on_event(key)

    async def _at_once(self, event: events.Key) -> bool:
        app = self.app
        screen = app.screen
        if screen is not app.screen_stack[0]:
            return False  # a dialog: its own bindings, as usual
        focused = screen.focused
        for namespace, bindings in screen._modal_binding_chain:
            found = bindings.key_to_bindings.get(event.key)
            if not found:
                continue
            for binding in found:
                if binding.priority:
                    continue
                _, name, _ = parse_action(binding.action)
                dialog = False
                if isinstance(namespace, PromptInput):
                    wanted = name == "cancel"
                elif namespace in (app, screen):
                    wanted = name in FOCUS_ACTIONS and not takes_text(focused)
                else:  # a pane action that opens an editor opts in (``ROUTE_AT_ONCE``)
                    dialog = name in getattr(namespace, "OPENS_DIALOG", ())
                    wanted = ((dialog or name in getattr(namespace, "ROUTE_AT_ONCE", ()))
                              and not takes_text(focused))
                if wanted and await app.run_action(binding.action, namespace):
                    if dialog:
                        self.hold.start()  # the rest of the read is for the dialog
                    event.stop()
                    return True
            return False
        return False
