"""The four pane slots: which class fills each (fixed names from the TUI contract), stand-ins
for a pane module that is missing or broken, placeholders for the first frame, and the grid
cell that tells the header which pane reported a provider's health."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import ModalScreen, Screen

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.pane import Pane


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """Where a pane class lives (fixed names from the TUI contract)."""

    id: str
    module: str
    cls: str
    title: str
    kind: str


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("incidents", "sre_cockpit.ui.incidents.view", "IncidentsPane", "Incidents", "incident"),
    PaneSpec("logs", "sre_cockpit.ui.logs.view", "LogPane", "Logs", "log"),
    PaneSpec("slos", "sre_cockpit.ui.slos.view", "SloPane", "SLOs", "SLO"),
    PaneSpec("timeline", "sre_cockpit.ui.timeline.view", "TimelinePane", "Timeline", "timeline"),
)
"""Key order: ``1``-``4`` and ``tab`` follow this order."""
PANES_GROUP = Binding.Group("panes", compact=True)
"""Footer group of the ``1``-``4`` keys."""
GRID_ORDER = ("incidents", "slos", "logs", "timeline")
"""Placement in the 2x2 grid: Incidents top-left, SLOs top-right, Logs and Timeline below."""


def load_pane_class(spec: PaneSpec) -> tuple[type[Pane], str | None]:
    """The real pane class, or a stand-in that explains why it could not be loaded."""
    try:
        cls = getattr(importlib.import_module(spec.module), spec.cls)
        if not (isinstance(cls, type) and issubclass(cls, Pane)):
            raise TypeError(f"{spec.cls} is not a Pane")
        return cls, None
    except Exception as exc:  # a broken pane module must not take the cockpit down
        reason = sanitize_line(f"{type(exc).__name__}: {exc}".splitlines()[0])
        message = f"{spec.kind} pane unavailable: {reason}"

        class UnavailablePane(Pane):
            PANE_TITLE = spec.title
            EMPTY_MESSAGE = message

            def on_mount(self) -> None:
                super().on_mount()
                self.set_unconfigured(message)

        return UnavailablePane, reason


def starting_pane(spec: PaneSpec) -> type[Pane]:
    """A placeholder shown during the first frame of a fast start (replaced ~0.2 s later)."""

    class StartingPane(Pane):
        PANE_TITLE = spec.title
        EMPTY_MESSAGE = "starting…"

        def on_mount(self) -> None:
            super().on_mount()
            self.set_unconfigured("starting…")

    return StartingPane


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
    """Grid cell holding one pane; attributes the pane's health reports to it."""

    def __init__(self, pane: Pane, pane_id: str) -> None:
        super().__init__(id=f"slot-{pane_id}", classes="pane-slot")
        self.pane_id = pane_id
        self.pane = pane

    def compose(self) -> ComposeResult:
        yield self.pane

    def on_pane_health_changed(self, message: Pane.HealthChanged) -> None:
        message.stop()
        header = getattr(self.app, "header", None)
        if header is not None:
            header.update_health(message.health, source=self.pane_id)
