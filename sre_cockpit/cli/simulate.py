"""``sre-cockpit simulate``: the simulator's own command line (:mod:`sre_cockpit.simulator.main`),
listed among the cockpit's commands."""

from __future__ import annotations

from sre_cockpit.simulator.main import FROZEN_ENV, HELP, START_ENV, add_arguments, run

__all__ = ["FROZEN_ENV", "HELP", "START_ENV", "add_arguments", "run"]
