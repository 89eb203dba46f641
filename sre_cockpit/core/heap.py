"""The cyclic garbage collector around the cockpit's start: held off while it starts, then the
start-up heap is frozen so later full collections scan only what was made since.

Used by ``cli/tui.py`` (:func:`hold_collector`, before the heavy imports) and the app
(:func:`settle_heap`, once the panes are bound). Nothing here imports the rest of the cockpit.
"""

from __future__ import annotations

import gc

SETTLE_AFTER_S = 2.0
"""Seconds after the panes are bound before the start-up garbage is collected once and what
survives is frozen (:func:`settle_heap`)."""


def hold_collector() -> None:
    """No cyclic garbage collection until the cockpit has started (:func:`settle_heap`).

    Start-up imports and builds ~120,000 long-lived objects (Textual, the schema, the providers,
    the views); the collector's full passes over them took 24–61 ms each, two or three during
    start-up, and afterwards one every ~10 s at 1,000 log lines a second (24–104 ms, each a key
    press answered that much later: the p99 of key → paint). Reference counting still frees
    everything that is not in a cycle meanwhile."""
    gc.disable()


def settle_heap() -> None:
    """Once started: collect the start-up garbage (the stand-in panes…), freeze what survives
    (modules, views, feeds, providers: out of every later collection's scan) and turn the
    collector back on. Full collections then scan only what was made since: ~3–8 ms.

    Does nothing when :func:`hold_collector` was not called (an app run by tests or embedded:
    the collector is its owner's)."""
    if gc.isenabled():
        return
    gc.collect()
    gc.freeze()
    gc.enable()
