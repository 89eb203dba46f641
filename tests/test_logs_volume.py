"""The volume strip's rows (bars of every line, of the errors, the axis with the incident's
start) and the log feed's volume through the LogVolumeSource capability (simulator's Loki)."""

from __future__ import annotations

from datetime import UTC, datetime

from loki_helpers import make_runtime
from sim_helpers import launch_simulator

from sre_cockpit.core.logvolume import VolumeColumn, VolumeStrip
from sre_cockpit.feeds.logs import LogFeed
from sre_cockpit.ui.logs.volume import MARK, volume_rows


def strip_of(counts: list[tuple[int, int, int]], start: float = 0.0,
             step: float = 60.0) -> VolumeStrip:
    columns = tuple(VolumeColumn(start + i * step, start + (i + 1) * step, (e, w, i_, 0, 0))
                    for i, (e, w, i_) in enumerate(counts))
    totals = [c.total for c in columns]
    return VolumeStrip(columns, max(totals), sum(totals))


def test_rows_scale_bars_errors_and_mark_the_incident() -> None:
    strip = strip_of([(0, 0, 10)] * 10 + [(5, 1, 5)] * 10 + [(10, 0, 0)] * 20)
    since = datetime.fromtimestamp(15 * 60 - 30, UTC)  # inside column 14
    bars, errors, axis = volume_rows(strip, 40, lambda name: "default", since)
    assert bars.plain == "▇" * 10 + "█" * 10 + "▇" * 20  # totals 10, 11, 10 of peak 11
    assert errors.plain == " " * 10 + "▄" * 10 + "█" * 20
    assert axis.plain[14] == MARK and axis.plain.endswith(" now")
    assert axis.plain.startswith(" 00:00 ")
    assert len(axis.plain) == 40


def test_rows_say_why_there_is_no_strip_without_markup() -> None:
    bars, errors, axis = volume_rows("loki has no [bold]volume[/]", 40, lambda n: "default")
    assert bars.plain == "volume: loki has no [bold]volume[/]" and not errors and not axis
    assert volume_rows(None, 40, lambda n: "default")[0].plain == "volume: loading…"


async def test_feed_volume_from_the_simulator_and_without_the_capability() -> None:
    sim = launch_simulator(seed=3, log_rate=20)
    try:
        feed = LogFeed(make_runtime(sim.url, query='{namespace="shop"}'))
        strip = await feed.volume(60)
        assert not isinstance(strip, str), strip
        assert len(strip.columns) == 60 and strip.total > 1000
        assert sum(c.count("error") for c in strip.columns) > 0  # the story's errors
        since = datetime.fromtimestamp(feed.now_ns() / 1e9 - 2 * 3600, UTC)
        longer = await feed.volume(60, since=since)  # the incident's span when longer
        assert not isinstance(longer, str)
        assert longer.columns[0].start_s <= since.timestamp()
    finally:
        sim.stop()
    assert await LogFeed(make_runtime(None)).volume(60) == "no log provider"
