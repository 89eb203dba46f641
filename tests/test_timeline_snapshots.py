"""Snapshots of the timeline pane (frozen clock, no polling) at 80x24 and 160x40."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from journal_helpers import incident
from timeline_helpers import TimelineHost, loaded, make_runtime

from sre_cockpit.ui.timeline.view import TimelinePane


def host(tmp_path: Path) -> TimelineHost:
    runtime, journal = make_runtime(tmp_path)
    journal.add_note("rolled back checkout to 2.3.0 | watching 5xx", [incident()])
    return TimelineHost(runtime, journal)


async def prepare(pilot: Any) -> None:
    pane = pilot.app.query_one(TimelinePane)
    await loaded(pilot.app)
    await pilot.pause()
    pane.table.move_cursor(row=2)
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 40)])
def test_timeline_pane_snapshot(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(host(tmp_path), terminal_size=size, run_before=prepare)
