"""The timeline pane in the real app against the simulator: events arrive, a note typed in the
editor is journalled and reaches the simulator's PagerDuty exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sim_helpers import http, launch_simulator, pd_headers

from sre_cockpit.config.model import load_config
from sre_cockpit.core.models import Severity
from sre_cockpit.ui.app import make_app
from sre_cockpit.ui.notes_editor import NoteEditor
from sre_cockpit.ui.timeline.view import TimelinePane


async def wait_until(pilot: object, check: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await pilot.pause(0.1)  # type: ignore[attr-defined]
    raise AssertionError("timed out")


@pytest.mark.slow
async def test_note_from_the_editor_reaches_pagerduty_once(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config_path = tmp_path / "sim.yaml"
    handle = launch_simulator(seed=5, write_config=config_path)
    monkeypatch.setenv("SRE_COCKPIT_DATA_DIR", str(tmp_path / "data"))
    try:
        app = make_app(load_config(str(config_path)))
        async with app.run_test(size=(160, 50)) as pilot:
            timeline = app.pane("timeline")
            assert isinstance(timeline, TimelinePane)
            await wait_until(pilot, lambda: len(timeline.snapshot.incidents) > 0)
            target = next(i for i in timeline.snapshot.incidents
                          if i.provider == "pd" and i.severity is Severity.CRITICAL)
            await wait_until(pilot, lambda: timeline.table.row_count >= 5)
            app.focus_incident(target)
            app.open_note_editor([target])
            await pilot.pause()
            assert isinstance(app.screen, NoteEditor)
            await pilot.press(*"rolling back | v2", "enter", *"watching")
            await pilot.press("ctrl+s")
            assert app.cockpit is not None
            notes = app.cockpit.notes
            await wait_until(pilot, lambda: notes.pending_count() == 0)
            await pilot.pause()
            states = [e.state for e in timeline.shown_events if e.source == "operator"]
            assert states == ["delivered"]
        status, _h, body = http("GET", f"{handle.pd_url}/incidents/{target.id}/notes",
                                headers=pd_headers())
        assert status == 200
        contents = [n["content"] for n in json.loads(body)["notes"]]
        mine = [c for c in contents if c.startswith("rolling back | v2\nwatching")]
        assert len(mine) == 1
    finally:
        handle.stop()
