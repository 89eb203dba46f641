"""The cyclic collector is held off while the cockpit starts, then its start-up heap is frozen;
Textual may draw 120 frames a second (not with --low-bandwidth, nor over a TEXTUAL_FPS).

What they buy is measured by ``benchmarks/run.py`` (key → paint p99 at 1,000 lines/s): these
tests check the switches themselves, and that an app run by tests never touches the collector.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest

from sre_cockpit.cli.tui import FRAME_RATE, frame_rate
from sre_cockpit.core.heap import hold_collector, settle_heap


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the collector as the test found it: enabled, nothing frozen by the test."""
    frozen = gc.get_freeze_count()
    try:
        yield
    finally:
        if gc.get_freeze_count() > frozen:
            gc.unfreeze()
        gc.enable()


def test_settle_heap_leaves_a_collector_it_does_not_hold_alone(collector: None) -> None:
    frozen = gc.get_freeze_count()
    settle_heap()  # tests and embedders run the app with the collector on: not ours to touch
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_held_then_settled_collects_freezes_and_turns_it_back_on(collector: None) -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    hold_collector()
    assert not gc.isenabled()
    garbage = Cycle()
    del garbage  # a cycle: only the collector frees it
    survivor = Cycle()
    settle_heap()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert not any(type(o) is Cycle and o is not survivor for o in gc.get_objects())
    assert gc.is_tracked(survivor)


@pytest.mark.parametrize(("low_bandwidth", "preset", "expected"), [
    (False, None, str(FRAME_RATE)),
    (True, None, None),  # a slow link keeps Textual's own 60
    (False, "30", "30"),  # the operator's TEXTUAL_FPS wins
])
def test_frame_rate(monkeypatch: pytest.MonkeyPatch, low_bandwidth: bool, preset: str | None,
                    expected: str | None) -> None:
    monkeypatch.delenv("TEXTUAL_FPS", raising=False)
    if preset is not None:
        monkeypatch.setenv("TEXTUAL_FPS", preset)
    frame_rate(low_bandwidth)
    assert os.environ.get("TEXTUAL_FPS") == expected
