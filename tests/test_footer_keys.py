"""The footer shows the focused pane's keys, and is rebuilt only when they change.

Textual's footer removed and mounted all its keys on every bindings refresh (every focus move,
every dialog opened or closed); the cockpit's compares first. These tests check both halves: a
dialog opened and closed leaves the footer as it was without a rebuild, and a pane switch still
shows the new pane's keys, in a pilot and in the real process on a pty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from notes_helpers import Cockpit, ready
from shell_helpers import shell_app
from sim_helpers import SimHandle, launch_simulator

from sre_cockpit.ui.footer import CockpitFooter
from sre_cockpit.ui.help import HelpScreen


def footer_line(app_text: str) -> str:
    """The bottom row of a screen's text."""
    return app_text.splitlines()[-1]


async def test_a_dialog_opened_and_closed_does_not_rebuild_the_footer() -> None:
    app = shell_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.started.wait()
        await pilot.pause()
        footer = app.query_one(CockpitFooter)
        keys = footer.keys_shown()
        rebuilds = footer.rebuilds
        for _ in range(3):
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
        assert footer.rebuilds == rebuilds
        assert footer.keys_shown() == keys and footer.children


async def test_a_pane_switch_rebuilds_the_footer_with_that_panes_keys() -> None:
    app = shell_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.started.wait()
        await pilot.pause()
        footer = app.query_one(CockpitFooter)
        incident_keys = footer.keys_shown()
        rebuilds = footer.rebuilds
        await pilot.press("4")
        await pilot.pause()
        assert footer.rebuilds == rebuilds + 1
        described = {entry[3] for entry in footer.keys_shown()[3:]
                     if isinstance(entry, tuple)}
        assert "kinds" in described and "Ack" not in described
        await pilot.press("1")
        await pilot.pause()
        assert footer.keys_shown() == incident_keys


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path_factory.mktemp("sim") / "sim.yaml"
    handle = launch_simulator(seed=5, log_rate=50, write_config=config)
    try:
        yield handle, config
    finally:
        handle.stop()


@pytest.mark.slow
def test_footer_follows_the_focused_pane_in_the_real_cockpit(sim: tuple[SimHandle, Path],
                                                             tmp_path: Path) -> None:
    app = Cockpit(sim[1], tmp_path / "data", cols=120, rows=40)
    try:
        app.wait_for(ready)
        app.wait_for(lambda text: "Ack" in footer_line(text))
        app.write(b"2")
        app.wait_for(lambda text: "timestamps" in footer_line(text)
                     and "Ack" not in footer_line(text))
        app.write(b"?")
        app.wait_for("binding id")
        app.write(b"\x1b")
        app.wait_for(lambda text: "binding id" not in text)
        app.pump(0.5)
        assert "timestamps" in footer_line(app.text())
        app.write(b"1")
        app.wait_for(lambda text: "Ack" in footer_line(text)
                     and "timestamps" not in footer_line(text))
    finally:
        app.stop()
