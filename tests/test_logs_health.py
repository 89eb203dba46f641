"""The log pane never says more than Loki does: a Loki that never answered reads ``never
connected: <reason>`` (never "reconnecting" or "reconnected 16:11:23") with the reason whole
under the status line; failing polls are an error, or stale once lines were shown, never
``● loki polling`` in green; after recovery the pane is live again; the header badge follows."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from logs_helpers import mode_is, running_pane, wait_for
from loki_helpers import LokiStub, loki_stub, make_runtime
from shell_helpers import make_config, shell_app

from sre_cockpit.core.models import HealthState
from sre_cockpit.feeds.streamstatus import StreamMode
from sre_cockpit.ui.logs.view import LogPane
from sre_cockpit.ui.pane import SourceLine


def refused_url() -> str:
    """A loopback port nothing listens on (bound, then closed): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def failing_stub() -> Iterator[LokiStub]:
    """Loki answering 500 to the tail's upgrade and to every range query."""
    with loki_stub(refuse_upgrade=500, range_status=500) as stub:
        yield stub


async def test_a_loki_that_never_answered_says_never_connected_with_the_whole_reason() -> None:
    url = refused_url()
    async with running_pane(make_runtime(url), (72, 20), live=False) as (app, pilot, pane):
        line = pane.query_one(SourceLine)
        await wait_for(pilot, lambda: "never connected" in line.make_text().plain)
        health = line.healths["loki"]
        assert health.state is HealthState.ERROR  # nothing shown: no data to be stale
        assert line.make_text().plain.startswith("✖ loki error: never connected: tail: ")
        await pilot.pause()
        status = pane.status_line.content.plain
        assert status.startswith("✖ never connected — retrying (attempt ")
        assert "reconnect" not in status
        assert pane.reason_line.display and pane.reason_line.content is not None
        reason = pane.reason_line.content.plain
        assert reason.startswith(f"why: tail: ConnectError for {url}/loki/api/v1/tail")
        assert pane.reason_line.size.height >= 2  # wrapped at 72 columns, not cut
        await pilot.press("i")
        await pilot.pause()
        shown = "\n".join(str(n.message) for n in app._notifications)
        assert f"ConnectError for {url}/loki/api/v1/tail" in shown
        assert "Loki has not answered yet" in shown


async def test_the_status_lines_take_the_new_theme_colours_without_new_data() -> None:
    config = make_config({"prod": {"providers": {"loki": {"type": "loki",
                                                          "url": refused_url()}}}})
    app = shell_app(config, start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.started.wait()
        pane = app.pane("logs")
        assert isinstance(pane, LogPane)
        await wait_for(pilot, lambda: pane.status_line.content.plain.startswith(
            "✖ never connected"))
        assert app.set_theme("war-room") is None
        await pilot.pause()
        reason = pane.reason_line.content
        assert reason is not None
        before = (str(pane.status_line.content.spans[0].style), str(reason.spans[0].style))
        assert app.set_theme("daylight") is None  # nothing new from the feed: not re-published
        await pilot.pause()
        reason = pane.reason_line.content
        assert reason is not None
        after = (str(pane.status_line.content.spans[0].style), str(reason.spans[0].style))
        assert after[0] != before[0] and after[1] != before[1]


async def test_failing_polls_are_never_green_and_recovery_goes_live(failing_stub: LokiStub) -> None:
    stub = failing_stub
    runtime = make_runtime(stub.url, loki={"poll_interval": "0.3s"})
    async with running_pane(runtime, (100, 24), live=False) as (_app, pilot, pane):
        line = pane.query_one(SourceLine)
        await wait_for(pilot, lambda: "never connected" in line.make_text().plain, 20)
        assert "query_range: HTTP 500" in line.make_text().plain
        assert line.healths["loki"].state is HealthState.ERROR
        stub.range_status = None  # polls work (the upgrade is still refused): data flows
        stub.push("seq=1 level=info via polling")
        await wait_for(pilot, lambda: line.make_text().plain == "● loki polling", 20)
        stub.range_status = 500  # failing again, after lines were shown: stale, with why
        await wait_for(pilot, lambda: line.healths["loki"].state is HealthState.STALE, 20)
        assert "query_range: HTTP 500" in line.make_text().plain
        assert pane.status_line.content.plain.startswith("▲ polling — last poll failed")
        assert pane.reason_line.content is not None
        assert "query_range: HTTP 500" in pane.reason_line.content.plain
        stub.range_status = None
        stub.refuse_upgrade = None
        await wait_for(pilot, mode_is(pane, StreamMode.LIVE), 30)
        await wait_for(pilot, lambda: line.make_text().plain == "● loki live")
        assert not pane.reason_line.display


async def test_the_header_badge_follows_the_log_feed() -> None:
    config = make_config({"prod": {"providers": {"loki": {"type": "loki",
                                                          "url": refused_url()}}}})
    app = shell_app(config, start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.started.wait()
        await wait_for(pilot, lambda: "✖ loki error" in app.header.text)
        assert "● loki" not in app.header.text
