"""The patterns panel: new patterns first, then by count; header says where they came from;
backend text never markup; the feed falls back to mining the buffer locally (in a thread) when
Loki has no pattern endpoint."""

from __future__ import annotations

from loki_helpers import loki_stub, make_runtime

from sre_cockpit.core.logpatterns import Pattern, PatternReport
from sre_cockpit.feeds.logs import LogFeed
from sre_cockpit.ui.logs.patterns import NEW, ordered, pattern_rows

NS = 1_000_000_000


def test_new_first_then_by_count_and_plain_text() -> None:
    report = PatternReport((
        Pattern("a <_>", 50, 1 * NS, 9 * NS),
        Pattern("[bold]b[/] <_>", 70, 2 * NS, 9 * NS),
        Pattern("c <_> boom", 3, 8 * NS, 9 * NS, new=True),
    ), 123)
    assert [p.template for p in ordered(report)] == ["c <_> boom", "[bold]b[/] <_>", "a <_>"]
    text = pattern_rows(report, "loki", lambda name: "default").plain.splitlines()
    assert text[0].startswith("patterns (loki): 3 over 123 lines, 1 new")
    assert text[1].startswith(NEW) and text[1].endswith("c <_> boom")
    assert text[2].endswith("[bold]b[/] <_>") and "      70  00:00:02–00:00:09" in text[2]
    assert pattern_rows("boom", "", lambda n: "default").plain == "patterns: boom"


async def test_feed_mines_locally_without_a_pattern_endpoint() -> None:
    with loki_stub() as stub:
        feed = LogFeed(make_runtime(stub.url))
        lines = [(i * NS, f"user {i} logged in from 10.0.0.{i % 9}") for i in range(1, 200)]
        lines += [(300 * NS, "disk /dev/sda1 full on host-7")]
        report, origin = await feed.patterns(lines)
    assert origin.startswith("local ("), origin
    assert [(p.template, p.count) for p in ordered(report)][-1] == \
        ("user <_> logged in from <_>", 199)
    assert [p.template for p in report.new] == ["disk /dev/sda<_> full on host-<_>"]
