"""Issue 12 item 21: a toast that is gone leaves nothing on the screen.

At 80x24 a toast left its ``▌`` edge (and the end of its text) on the incidents pane's bottom
border and detail line for as long as the cockpit ran. Cause: Textual 8.2.8 repaints where an
expired toast was from its compositor map, which a scroll-only layout (the log stream, a table
cursor) had marked stale and the removal rebuilt without the toast, so nothing was repainted;
rows no widget repaints by itself kept the remnant. The cockpit now repaints the screen once a
toast's time is up (:func:`sre_cockpit.ui.toast.repaint_when_gone`). Without that, 3 of 4 toasts
in this test's setting left a trace.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from war_room_helpers import sim_cockpit

from sre_cockpit.ui.toast import REPAINT_AFTER_S

TOAST_S = 5.0
"""Textual's default toast timeout (``App.NOTIFICATION_TIMEOUT``): the URL toast of ``o``."""


async def test_every_notification_repaints_the_screen_after_its_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from shell_helpers import shell_app

    app = shell_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        repaints: list[float] = []
        monkeypatch.setattr(app.screen, "refresh", lambda *a, **k: repaints.append(
            time.monotonic()))
        shown = time.monotonic()
        app.notify("hello", timeout=0.2)
        await pilot.pause(0.2 + REPAINT_AFTER_S / 2)
        assert repaints == []  # not while the toast is still up
        await pilot.pause(REPAINT_AFTER_S + 0.3)
        assert len(repaints) == 1 and repaints[0] - shown >= 0.2 + REPAINT_AFTER_S - 0.05


@pytest.mark.slow
def test_a_toast_at_80x24_leaves_no_trace_once_it_is_gone(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, cols=80, rows=24) as (app, _sim):
        app.wait_for(lambda text: "triggered" in text and "● pd" in text.splitlines()[0], 30)
        app.pump(1.0)
        border = app.screen.display[22]
        assert border.startswith("╰") and border.rstrip().endswith("╯")
        for attempt in range(3):  # the trace came and went with timing: several toasts
            app.write(b"o")  # copies the incident's URL: a long toast over the pane's bottom
            app.wait_for(lambda text: "▌" in text, 5)
            shown = time.monotonic()
            app.wait_for(lambda text: "▌" not in text, TOAST_S + REPAINT_AFTER_S + 3)
            gone = time.monotonic() - shown
            app.pump(1.0)
            screen = app.text()
            assert "▌" not in screen and "%22" not in screen, f"toast {attempt}:\n{screen}"
            assert app.screen.display[22] == border, f"toast {attempt}:\n{screen}"
            assert gone < 10, f"toast {attempt} took {gone:.1f}s to go"
