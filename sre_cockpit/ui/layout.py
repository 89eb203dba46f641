"""Where the panes are: the 2x2 grid or one pane at a time, the active pane, zoom and focus.

At >= :data:`WIDE_MIN` the four panes share the screen (Incidents and Logs on the wide left
column, SLOs and Timeline on the right); below that one pane fills the body and ``tab`` /
``1``-``4`` switch. :class:`PaneLayout` is owned by the app (``app.pane_layout``; the app's
``active_pane`` and ``compact`` read it); :class:`MainScreen` tells it about resizes and focus
moves.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.screen import Screen

from sre_cockpit.ui.commandline import BottomPrompt
from sre_cockpit.ui.filterprompt import FilterPrompt
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import GRID_ORDER, PANES, PaneSlot, load_view, starting_pane
from sre_cockpit.ui.startup import after_refresh

WIDE_MIN = (120, 40)
"""Smallest terminal (columns, rows) that shows all four panes at once."""


class PaneLayout:
    """The panes' slots, which one is active, the breakpoint, zoom and the pane focus.

    Args:
        app: the app whose panes are laid out.
        pane_errors: the app's pane id → why it is unavailable (filled in here).
    """

    def __init__(self, app: App[Any], pane_errors: dict[str, str]) -> None:
        self.app = app
        self.pane_errors = pane_errors
        self.active = PANES[0].id
        """The pane ``/`` and ``z`` act on (the one shown in the one-pane layout)."""
        self.compact = True
        """One pane at a time (the terminal is smaller than :data:`WIDE_MIN`)."""

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
                    self.pane_errors[spec.id] = error
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
        self.compact = compact
        self.app.screen_stack[0].set_class(compact, "-compact")

    def set_active(self, pane_id: str, *, focus: bool) -> None:
        """Make a pane the active one (shown in the one-pane layout; target of ``/`` and ``z``)."""
        app = self.app
        self.active = pane_id
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
        index = ids.index(self.active) if self.active in ids else 0
        self.set_active(ids[(index + step) % len(ids)], focus=True)

    def zoom(self) -> None:
        """Maximise the active pane, or restore the layout."""
        screen = self.app.screen_stack[0]
        pane = self.pane(self.active)
        if screen.maximized is not None:
            screen.minimize()
        elif pane is not None:
            screen.maximized = pane


    def ask_filter(self, prompt: FilterPrompt, filters: dict[str, str]) -> None:
        """Open ``prompt`` for the active pane, with its current filter (``filters``)."""
        pane = self.pane(self.active)
        if pane is None:
            return
        title = pane.PANE_TITLE or next((s.title for s in PANES if s.id == self.active),
                                        self.active)
        prompt.open_for(self.active, title, pane.filter_hint, filters.get(self.active, ""))

    def apply_filter(self, pane_id: str, text: str, filters: dict[str, str]) -> None:
        """Filter pane ``pane_id`` by ``text`` ("" clears it; ``filters`` keeps what it took)
        and give the keys back to the active pane whatever the outcome."""
        pane = self.pane(pane_id)
        if pane is None:
            return
        if pane.set_filter(text):
            filters[pane_id] = pane.filter_text
        if pane_id == self.active:
            self.focus_pane(pane, force=True)  # whatever the outcome, the keys work again

    async def replace_panes(self, classes: dict[str, tuple[type[Pane], str | None]]) -> None:
        """Swap the stand-in panes for the views (or for panes saying why a view is missing)."""
        # Removing the focused placeholder moves Textual's focus to a neighbour, which would
        # make that neighbour's pane the active one (on_descendant_focus): the operator's stays.
        active = self.active
        for slot in self.app.query(PaneSlot):
            cls, error = classes[slot.pane_id]
            if error is not None:
                self.pane_errors[slot.pane_id] = error
            await slot.remove_children()
            slot.pane = cls(id=slot.pane_id)
            await slot.mount(slot.pane)
        await after_refresh(self.app)  # the new panes have composed their children
        self.set_active(active, focus=True)

    async def remount(self) -> None:
        """Fresh views in every slot (another context): unzoomed, the active pane kept."""
        screen = self.app.screen_stack[0]
        if screen.maximized is not None:
            screen.minimize()
        body = self.app.query_one("#body", Container)
        await body.remove_children()
        await body.mount_all(self.make_slots(placeholders=False))


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
