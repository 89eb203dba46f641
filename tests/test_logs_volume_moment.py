"""Choosing a moment on the log volume strip: ``v`` gives the strip the focus, the first
``left``/``right`` selects the newest bar, the next ones move the selection (the axis names its
time, and its counts when there is room), ``enter`` or a click on a bar asks the app to move the
incident clock to that column's middle (the log view then shows the lines around it, follow
off); ``esc`` gives the focus back, ``v`` hides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from logs_helpers import LogPaneApp, wait_for
from loki_helpers import loki_stub, make_runtime

from sre_cockpit.core.logvolume import LEVELS, VolumeColumn, VolumeStrip
from sre_cockpit.ui.logs.view import LogPane, LogView
from sre_cockpit.ui.logs.volume import LogVolume, column_moment, volume_rows

START = 1_800_000_000.0


def strip(columns: int = 60, step: float = 60.0) -> VolumeStrip:
    cols = tuple(VolumeColumn(START + i * step, START + (i + 1) * step,
                              tuple((i + 1) if name == "error" else 10 for name in LEVELS))
                 for i in range(columns))
    totals = [c.total for c in cols]
    return VolumeStrip(cols, max(totals), sum(totals))


def test_the_selected_bar_is_reversed_and_named_on_the_axis() -> None:
    bars, errors, axis = volume_rows(strip(), 60, lambda name: "default", selected=3)
    for row in (bars, errors):
        assert [span.start for span in row.spans if "reverse" in str(span.style)] == [3]
    at = column_moment(strip(), 3)
    assert at == datetime.fromtimestamp(START + 3.5 * 60, UTC)
    assert f"▸ {at:%H:%M:%S} UTC · 44 lines · 4 errors · enter" in axis.plain
    narrow = volume_rows(strip(), 20, lambda name: "default", selected=3)[2]
    assert f"▸ {at:%H:%M:%S}" in narrow.plain
    wide = volume_rows(strip(80), 80, lambda name: "default", selected=3)[2].plain
    assert wide.startswith(" 08:00 UTC · 6,440 lines · 3,240 errors") and wide.endswith(
        f"▸ {at:%H:%M:%S} UTC  now")  # the totals stay; the chosen bar's time beside them


class MomentApp(LogPaneApp):
    """The pane's host, which moves the feed to a requested moment as the cockpit app does."""

    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime)
        self.moments: list[datetime | None] = []

    def on_pane_moment_requested(self, message: LogPane.MomentRequested) -> None:
        self.moments.append(message.at)
        self.feed.show_moment(message.at)


async def test_keys_and_a_click_choose_a_moment() -> None:
    with loki_stub() as stub:
        app = MomentApp(make_runtime(stub.url))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.pane
            volume = pane.query_one(LogVolume)

            async def fixed(columns: int, since: datetime | None) -> VolumeStrip:
                return strip()

            volume.loader = fixed
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(volume.strip, VolumeStrip))
            assert volume.has_focus and volume.selected is None  # the totals on the axis
            await pilot.press("left")
            assert volume.selected == 59  # the first key: the newest bar
            await pilot.press("left", "left", "right")
            assert volume.selected == 58
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(app.moments) == 1)
            assert app.moments[0] == column_moment(strip(), 58)
            assert pane.query_one(LogView).has_focus and not pane.view.follow
            await wait_for(pilot, lambda: pane.snapshot.moment == app.moments[0])
            await pilot.click(LogVolume, offset=(5, 0))  # a click on a bar chooses it
            await wait_for(pilot, lambda: len(app.moments) == 2)
            assert app.moments[1] == column_moment(strip(), 5)
            volume.focus()
            await pilot.pause()
            await pilot.press("escape")
            assert pane.view.has_focus and volume.has_class("-on")
            volume.focus()
            await pilot.pause()
            await pilot.press("v")
            assert not volume.has_class("-on") and pane.view.has_focus
