"""The panes: which view shows which feed, its key, and where it sits in the grid.

Adding a pane is one :class:`PaneSpec` line here, a view (a :class:`~sre_cockpit.ui.pane.Pane`
that implements ``bind`` and ``changed_message``, and ``batch_message`` when its feed also hands
over batches) and a feed in :class:`~sre_cockpit.feeds.cockpit.Cockpit`. The app builds the
``1``-``N`` keys, the grid, the placeholders of the first frame and the feed wiring from this
table. A view loads after the first frame (its package's ``view()``); a view that fails to load
is replaced by a pane that says why, and the others work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import ModalScreen, Screen

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui import incidents, logs, slos, timeline
from sre_cockpit.ui.pane import Pane

if TYPE_CHECKING:
    from sre_cockpit.feeds.base import Feed
    from sre_cockpit.feeds.cockpit import Cockpit


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """One pane of the cockpit.

    Attributes:
        id: the pane's id (``incidents``); the key binding id is ``cockpit.pane_<id>``.
        title: the border title.
        kind: how messages name it (``incident pane unavailable: …``).
        view: loads the view class.
        feed: the feed it shows, from the context's :class:`Cockpit`.
    """

    id: str
    title: str
    kind: str
    view: Callable[[], type[Pane]]
    feed: Callable[[Cockpit], Feed[Any]]


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("incidents", "Incidents", "incident", incidents.pane_class, lambda c: c.incidents),
    PaneSpec("logs", "Logs", "log", logs.pane_class, lambda c: c.logs),
    PaneSpec("slos", "SLOs", "SLO", slos.pane_class, lambda c: c.slos),
    PaneSpec("timeline", "Timeline", "timeline", timeline.pane_class, lambda c: c.timeline),
)
"""Key order: ``1``-``4`` and ``tab`` follow this order."""
GRID_ORDER = ("incidents", "slos", "logs", "timeline")
"""Placement in the 2x2 grid: Incidents top-left, SLOs top-right, Logs and Timeline below."""
PANES_GROUP = Binding.Group("panes", compact=True)
"""Footer group of the ``1``-``4`` keys."""


def pane_bindings() -> list[Binding]:
    """``1``-``N``: show and focus each pane."""
    return [Binding(str(n), f"show_pane('{spec.id}')", spec.title,
                    id=f"cockpit.pane_{spec.id}", group=PANES_GROUP)
            for n, spec in enumerate(PANES, 1)]


def load_view(spec: PaneSpec) -> tuple[type[Pane], str | None]:
    """The real view class, or a stand-in that explains why it could not be loaded."""
    try:
        cls = spec.view()
        if not (isinstance(cls, type) and issubclass(cls, Pane)):
            raise TypeError(f"{cls!r} is not a Pane")
        return cls, None
    except Exception as exc:  # a broken pane module must not take the cockpit down
        reason = sanitize_line(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return explaining_pane(spec, f"{spec.kind} pane unavailable: {reason}"), reason


def explaining_pane(spec: PaneSpec, message: str, name: str = "UnavailablePane") -> type[Pane]:
    """A pane class (called ``name``) that only says ``message`` (starting up, or its view
    failed to load)."""

    class ExplainingPane(Pane, can_focus=False):
        PANE_TITLE = spec.title
        EMPTY_MESSAGE = message

        def on_mount(self) -> None:
            super().on_mount()
            self.set_unconfigured(message)

    ExplainingPane.__name__ = ExplainingPane.__qualname__ = name
    return ExplainingPane


def starting_pane(spec: PaneSpec) -> type[Pane]:
    """The placeholder of the first frame (replaced ~0.2 s later)."""
    return explaining_pane(spec, "starting…", "StartingPane")


def cockpit_dialogs(exclude: tuple[type[Any], ...] = ()) -> list[type[Screen[Any]]]:
    """Every cockpit modal screen class loaded so far (confirm, silence, note, help, quit…)."""
    found: dict[str, type[Screen[Any]]] = {}
    pending: list[type[Any]] = list(ModalScreen.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("sre_cockpit.") and cls not in exclude:
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


class PaneSlot(Container):
    """Grid cell holding one pane."""

    def __init__(self, pane: Pane, pane_id: str) -> None:
        super().__init__(id=f"slot-{pane_id}", classes="pane-slot")
        self.pane_id = pane_id
        self.pane = pane

    def compose(self) -> ComposeResult:
        yield self.pane
