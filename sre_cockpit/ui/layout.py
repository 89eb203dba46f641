"""Where the panes are: the 2x2 grid or one pane at a time, the active pane, zoom and focus.

At >= :data:`WIDE_MIN` the four panes share the screen (Incidents and Logs on the wide left
column, SLOs and Timeline on the right); below that one pane fills the body and ``tab`` /
``1``-``4`` switch. :class:`PaneLayout` is owned by the app (``app.pane_layout``) and keeps the
app-level ``active_pane`` and ``compact`` up to date; :class:`MainScreen` tells it about
resizes and focus moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.screen import Screen

from sre_cockpit.ui.commandline import BottomPrompt
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import GRID_ORDER, PANES, PaneSlot, load_view, starting_pane

if TYPE_CHECKING:
    from sre_cockpit.ui.app import CockpitApp

WIDE_MIN = (120, 40)
"""Smallest terminal (columns, rows) that shows all four panes at once."""


class PaneLayout:
    """The panes' slots, which one is active, the breakpoint, zoom and the pane focus.

    Args:
        app: the app whose panes are laid out.
    """

    def __init__(self, app: CockpitApp) -> None:
        self.app = app

    def make_slots(self, *, placeholders: bool) -> list[PaneSlot]:
        """A slot per pane in grid order, holding stand-ins (``placeholders``) or the views
        (a view that cannot load is replaced by a pane saying why, in ``app.pane_errors``)."""
        slots: dict[str, PaneSlot] = {}
        for spec in PANES:
            if placeholders:
                cls = starting_pane(spec)
            else:
                cls, error = load_view(spec)
                if error is not None:
                    self.app.pane_errors[spec.id] = error
            slots[spec.id] = PaneSlot(cls(id=spec.id), spec.id)
        return [slots[pane_id] for pane_id in GRID_ORDER]

    def panes(self) -> list[Pane]:
        """The panes in key order (``1``-``4``)."""
        found = {slot.pane_id: slot.pane for slot in self.app.query(PaneSlot)}
        return [found[spec.id] for spec in PANES if spec.id in found]

    def pane(self, pane_id: str) -> Pane | None:
        """One pane by id (``incidents``, ``logs``, ``slos``, ``timeline``)."""
        for slot in self.app.query(PaneSlot):
            if slot.pane_id == pane_id:
                return slot.pane
        return None

    def set_compact(self, compact: bool) -> None:
        """Switch between the 2x2 layout and the one-pane layout (terminal resized)."""
        self.app.compact = compact
        self.app.screen_stack[0].set_class(compact, "-compact")

    def set_active(self, pane_id: str, *, focus: bool) -> None:
        """Make a pane the active one (shown in the one-pane layout; target of ``/`` and ``z``)."""
        app = self.app
        app.active_pane = pane_id
        for slot in app.query(PaneSlot):
            slot.set_class(slot.pane_id == pane_id, "-active")
        pane = self.pane(pane_id)
        if pane is None:
            return
        screen = app.screen_stack[0]
        if screen.maximized is not None and screen.maximized is not pane:
            screen.maximized = pane
        if focus:
            # At once, not via ``Widget.focus()`` (which defers through ``call_later``): keys
            # that arrive in the same terminal read ("2t") are dispatched to ``screen.focused``
            # before any deferred callback runs, so a deferred focus sent ``t`` to the old pane.
            self.focus_pane(pane)

    def focus_pane(self, pane: Pane, *, force: bool = False) -> None:
        """Give ``pane`` the focus, unless it has it or the operator is typing in a prompt
        (``force``: even then)."""
        screen = self.app.screen_stack[0]
        focused = screen.focused
        if not force and focused is not None and any(
                node is pane or isinstance(node, BottomPrompt)
                for node in focused.ancestors_with_self):
            return  # already there, or the operator is typing in a prompt
        screen.set_focus(pane.focus_target())

    def cycle(self, step: int) -> None:
        """Activate the pane ``step`` places after the active one (in key order, wrapping)."""
        ids = [spec.id for spec in PANES]
        active = self.app.active_pane
        index = ids.index(active) if active in ids else 0
        self.set_active(ids[(index + step) % len(ids)], focus=True)

    def zoom(self) -> None:
        """Maximise the active pane, or restore the layout."""
        screen = self.app.screen_stack[0]
        pane = self.pane(self.app.active_pane)
        if screen.maximized is not None:
            screen.minimize()
        elif pane is not None:
            screen.maximized = pane


class MainScreen(Screen[None]):
    """The cockpit screen; reacts to resizes (breakpoint) and focus moves (active pane).

    Args:
        layout: the app's layout, told about both.
    """

    ALLOW_IN_MAXIMIZED_VIEW = "CockpitHeader, #moment-banner, CommandLine, FilterPrompt, Footer"
    AUTO_FOCUS = ""  # the app focuses the active pane (auto-focus could pick a hidden prompt)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.cycle_pane(1)", "next pane", show=False, id="cockpit.next_pane"),
        Binding("shift+tab", "app.cycle_pane(-1)", "previous pane", show=False,
                id="cockpit.previous_pane"),
    ]

    def __init__(self, layout: PaneLayout, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.pane_layout = layout

    def on_resize(self, event: events.Resize) -> None:
        self.pane_layout.set_compact(event.size.width < WIDE_MIN[0] or event.size.height < WIDE_MIN[1])

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for node in event.widget.ancestors_with_self:
            if isinstance(node, PaneSlot):
                self.pane_layout.set_active(node.pane_id, focus=False)
                return
