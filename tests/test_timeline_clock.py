"""One incident clock, end to end in the real app: choosing a timeline event moves the log query
window and the SLO evaluation time; ``]`` steps; ``.`` returns to live.

The app runs with its real panes; the providers are fakes that record every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from journal_helpers import T0, FakeEvents, incident
from timeline_helpers import NOW, story_events

from sre_cockpit.config.model import Config, ContextConfig, ServiceConfig, SloConfig
from sre_cockpit.core.models import LogLine, MetricSample, MetricSeries, TimelineEvent
from sre_cockpit.providers.base import TailMessage
from sre_cockpit.ui.app import make_app
from sre_cockpit.ui.timeline.view import TimelinePane

NS = 1_000_000_000


class RecordingLoki:
    name = "loki"

    def __init__(self) -> None:
        self.ranges: list[tuple[str, int, int, str]] = []

    @property
    def default_query(self) -> str:
        return '{namespace="shop"}'

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        self.ranges.append((query, start_ns, end_ns, direction))
        return []

    async def tail(self, query: str, *, start_ns: int | None = None) -> AsyncIterator[TailMessage]:
        await asyncio.Event().wait()
        yield TailMessage(())


class RecordingProm:
    name = "prom"

    def __init__(self) -> None:
        self.instants: list[tuple[str, datetime | None]] = []

    async def instant(self, query: str, at: datetime | None = None) -> list[MetricSample]:
        self.instants.append((query, at))
        return [MetricSample({}, 1.0, (at or NOW).timestamp())]

    async def range(self, query: str, start: datetime, end: datetime,
                    step_s: float) -> list[MetricSeries]:
        return []


def config(tmp_path: Path) -> Config:
    slo = SloConfig(name="checkout-availability", provider="prom", objective=99.9,
                    service="checkout",
                    error_query='sum(rate(errors_total[{{.window}}]))',
                    total_query='sum(rate(requests_total[{{.window}}]))')
    return Config(contexts={"t": ContextConfig(
        slos=[slo],
        services={"checkout": ServiceConfig(logs='{app="checkout"}',
                                            slos=["checkout-availability"])})},
        journal_dir=str(tmp_path / "journal"))


async def wait_for(condition: Any, pilot: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_choosing_an_event_moves_logs_and_slos_to_that_moment(tmp_path: Path) -> None:
    app = make_app(config(tmp_path), clock=lambda: NOW)
    loki, prom = RecordingLoki(), RecordingProm()
    events: list[TimelineEvent] = story_events()
    app.cockpit.runtime.providers.update({"loki": loki, "prom": prom,  # type: ignore[dict-item]
                                  "pd": FakeEvents("pd", events)})
    async with app.run_test(size=(160, 50)) as pilot:
        timeline = app.pane("timeline")
        assert isinstance(timeline, TimelinePane)
        await wait_for(lambda: timeline.table.row_count >= 6, pilot)
        app.focus_incident(incident("P1"))
        await pilot.pause()
        app.action_show_pane("timeline")
        await pilot.pause()
        timeline.table.focus()
        ack = T0 + timedelta(minutes=4)
        row = next(i for i, e in enumerate(timeline.shown_events) if e.at == ack)
        timeline.table.move_cursor(row=row)
        prom.instants.clear()
        await pilot.press("enter")

        centre = int(ack.timestamp()) * NS
        await wait_for(lambda: any(r[1] == centre - 15 * 60 * NS for r in loki.ranges), pilot)
        before = [r for r in loki.ranges if r[1] == centre - 15 * 60 * NS]
        assert before[0][0] == '{app="checkout"}'  # the focused service's selector
        assert before[0][2] == centre + 1 and before[0][3] == "backward"
        assert any(r[1] == centre + 1 and r[2] == centre + 15 * 60 * NS for r in loki.ranges)
        await wait_for(lambda: any(at == ack for _q, at in prom.instants), pilot)
        assert all(at == ack for _q, at in prom.instants)  # nothing evaluated as of "now"
        banner = app.query_one("#moment-banner")
        assert banner.display
        assert str(banner.render()) == "viewing 14:04 UTC (T+4m) — . returns to live"

        await pilot.press("right_square_bracket")  # the next event: the SLO change at T+12m
        later = T0 + timedelta(minutes=12)
        await wait_for(lambda: any(at == later for _q, at in prom.instants), pilot)
        later_ns = int(later.timestamp()) * NS
        await wait_for(lambda: any(r[1] == later_ns - 15 * 60 * NS for r in loki.ranges), pilot)
        assert str(banner.render()) == "viewing 14:12 UTC (T+12m) — . returns to live"

        prom.instants.clear()
        await pilot.press("full_stop")
        # Live again: evaluated as of the clock's now (or without time=), never the moment.
        await wait_for(lambda: any(at in (None, NOW) for _q, at in prom.instants), pilot)
        assert all(at in (None, NOW) for _q, at in prom.instants)
        assert not banner.display
        assert timeline.moment is None
