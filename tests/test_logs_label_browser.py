"""The label browser's pieces: line filters from what was typed, and the log feed's label
names and values through the LogLabelSource capability (against the simulator's Loki)."""

from __future__ import annotations

from loki_helpers import make_runtime
from sim_helpers import launch_simulator

from sre_cockpit.feeds.logs import LogFeed
from sre_cockpit.ui.logs.labels import filter_of


def test_filter_of_words_invert_and_regex() -> None:
    assert filter_of("timeout") == ("|=", "timeout")
    assert filter_of("!healthz") == ("!=", "healthz")
    assert filter_of("/5\\d\\d/") == ("|~", "5\\d\\d")
    assert filter_of("!/GET|HEAD/") == ("!~", "GET|HEAD")
    assert filter_of("  ") is None and filter_of("!") is None


async def test_feed_labels_and_values_from_the_simulator() -> None:
    sim = launch_simulator(seed=3, log_rate=20)
    try:
        feed = LogFeed(make_runtime(sim.url, query='{namespace="shop"}'))
        names = await feed.labels()
        assert isinstance(names, list) and "app" in names and names == sorted(names)
        values = await feed.labels("app")
        assert values == ["checkout", "gateway", "payments", "search"]
    finally:
        sim.stop()
    assert await LogFeed(make_runtime(None)).labels() == "no log provider"
