"""The SLO pane's first figures: each SLO is shown as soon as its own queries are answered.

One poll of a metrics provider sends ~18 queries per SLO, four at a time; the pane used to stay
empty until every SLO of the provider had been evaluated (the last of the four panes to show
data at start). Later polls still publish once, at their end, so a refresh never repaints the
table once per SLO.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sre_cockpit.config.model import Config
from sre_cockpit.core.models import MetricSample, MetricSeries
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slos import SloFeed, SlosSnapshot

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class GatedMetrics:
    """A metrics source whose answers for one service wait for a gate."""

    def __init__(self, name: str, slow_service: str) -> None:
        self.name = name
        self.slow_service = slow_service
        self.gate = asyncio.Event()
        self.asked = 0

    async def _wait(self, query: str) -> None:
        self.asked += 1
        if self.slow_service in query:
            await self.gate.wait()

    async def instant(self, query: str, at: datetime | None = None) -> list[MetricSample]:
        await self._wait(query)
        value = 1.0 if "5.." in query else 1000.0
        return [MetricSample(labels={}, value=value, ts=NOW.timestamp())]

    async def range(self, query: str, start: datetime, end: datetime,
                    step_s: float) -> list[MetricSeries]:
        await self._wait(query)
        return []


def feed_with(metrics: GatedMetrics) -> SloFeed:
    def slo(name: str, service: str) -> dict[str, object]:
        return {"name": name, "provider": "prom", "objective": 99.9, "service": service,
                "error_query": f'sum(rate(req{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))',
                "total_query": f'sum(rate(req{{service="{service}"}}[{{{{.window}}}}]))'}

    config = Config.model_validate({"contexts": {"prod": {
        "providers": {"prom": {"type": "prometheus", "url": "http://127.0.0.1:9"}},
        "slos": [slo("checkout-availability", "checkout"), slo("search-availability", "search")],
    }}})
    runtime = Runtime(config, clock=lambda: NOW)
    runtime.providers["prom"] = metrics  # type: ignore[assignment]
    return SloFeed(runtime)


async def test_the_first_slo_is_shown_before_the_slow_one_answers() -> None:
    metrics = GatedMetrics("prom", slow_service="search")
    feed = feed_with(metrics)
    published: list[SlosSnapshot] = []
    feed.subscribe(published.append)
    poll = asyncio.create_task(feed.pollers["prom"].poll_once())
    for _ in range(200):
        if published:
            break
        await asyncio.sleep(0.01)
    assert [e.status.name for e in published[-1].entries] == ["checkout-availability"]
    assert published[-1].entries[0].status.sli is not None
    # the provider answered: its source is ok beside the figures, not still "waiting"
    assert [h.state.value for h in published[-1].sources] == ["ok"]
    assert not poll.done()  # the search SLO is still waiting for its answers
    metrics.gate.set()
    await poll
    names = sorted(e.status.name for e in feed.snapshot.entries)
    assert names == ["checkout-availability", "search-availability"]
    # checkout early, search early (the last one in, just before the poll's end), the poll's own
    assert [len(p.entries) for p in published] == [1, 2, 2]


async def test_later_polls_publish_once() -> None:
    metrics = GatedMetrics("prom", slow_service="nothing-is-slow")
    feed = feed_with(metrics)
    published: list[SlosSnapshot] = []
    await feed.pollers["prom"].poll_once()
    feed.subscribe(published.append)
    await feed.pollers["prom"].poll_once()
    assert len(published) == 1 and len(published[0].entries) == 2
