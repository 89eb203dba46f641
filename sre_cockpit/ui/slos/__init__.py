"""The slos pane (its view module loads after the first frame, see :func:`pane_class`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sre_cockpit.ui.pane import Pane


def pane_class() -> type[Pane]:
    """The pane's class (imported on first use: the first frame does not wait for it)."""
    from sre_cockpit.ui.slos.view import SloPane

    return SloPane
