"""The log pane on screen, bound to its LogFeed: keeps repainting once the ring buffer is full,
follow/pause, filter (with its counts and esc), levels, toggles, copy/pin, query editing, service
focus and the incident clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from logs_helpers import mode_is, running_pane, screen_text, wait_for
from loki_helpers import LokiStub, loki_stub, make_runtime
from textual import events
from textual.app import App, ComposeResult

from sre_cockpit.core.models import HealthState, LogLine
from sre_cockpit.feeds.streamstatus import StreamMode
from sre_cockpit.ui.logs.view import (
    DEBUG,
    ERROR,
    INFO,
    NONE,
    WARN,
    LineFilter,
    LogView,
    clipboard_sequence,
    detect_level,
    format_ts,
    row_level,
)
from sre_cockpit.ui.pane import FilterBar, SourceLine


@pytest.fixture
def stub() -> Iterator[LokiStub]:
    with loki_stub() as running:
        yield running


def push_many(stub: LokiStub, start: int, count: int, fmt: str = "seq={i} level=info ok") -> None:
    for i in range(start, start + count):
        stub.push(fmt.format(i=i))


async def test_keeps_repainting_after_buffer_is_full(stub: LokiStub) -> None:
    """Textual's Log(max_lines) stops repainting once full; this pane must not."""
    async with running_pane(make_runtime(stub.url, log_buffer_lines=40)) as (app, pilot, pane):
        for batch in range(3):
            push_many(stub, batch * 100, 100)
            last = f"seq={batch * 100 + 99} "
            await wait_for(pilot, lambda last=last: last in app.export_screenshot().replace("&#160;", " "))
            assert len(pane.view.ring) == 40
            assert last in screen_text(app)
        assert pane.view.total_appended == 300
        assert app.feed.published_lines == 300  # every line handed over reached the buffer


async def test_follow_pause_new_lines_and_scroll_up_pauses(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url)) as (app, pilot, pane):
        push_many(stub, 0, 60)
        await wait_for(pilot, lambda: "seq=59 " in screen_text(app))
        await pilot.press("space")
        assert not pane.view.follow
        push_many(stub, 60, 25)
        await wait_for(pilot, lambda: "25 new lines ↓" in pane.status_line.content.plain)
        assert "seq=84 " not in screen_text(app)
        assert "paused" in pane.status_line.content.plain
        await pilot.press("space")
        await wait_for(pilot, lambda: "seq=84 " in screen_text(app))
        assert "live" in pane.status_line.content.plain
        await pilot.press("up")  # moving up pauses
        assert not pane.view.follow
        await pilot.press("end")
        assert pane.view.follow
        view = app.query_one(LogView)
        view.post_message(events.MouseScrollUp(view, 1, 1, 0, -1, 0, False, False, False))
        await pilot.pause()  # the mouse wheel up pauses and moves the view up
        assert not pane.view.follow
        assert "seq=84 " not in screen_text(app)
        assert "row " in pane.status_line.content.plain


async def test_filter_counts_esc_levels_copy_pin_and_errors(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url), (100, 30)) as (app, pilot, pane):
        push_many(stub, 0, 30, "seq={i} level=info ok")
        stub.push('{"level":"error","msg":"db down","seq":30}')
        push_many(stub, 31, 5, "seq={i} level=info ok")
        await wait_for(pilot, lambda: len(pane.view.ring) == 36)
        bar = pane.query_one(FilterBar)
        assert pane.set_filter("db DOWN")  # smart case: upper case means case-sensitive
        assert pane.view.view == []
        assert pane.set_filter("db down")
        assert [r.text for r in pane.view.view] == ['{"level":"error","msg":"db down","seq":30}']
        await pilot.pause()
        assert bar.display
        assert str(bar.render()) == "/db down — 1 of 36 lines shown, 35 hidden · esc clears"
        stub.push("seq=36 level=info ok")  # a new line the filter hides changes the count
        await wait_for(pilot, lambda: "1 of 37 lines shown, 36 hidden" in str(bar.render()))
        assert pane.set_filter("!/level=info/")
        assert len(pane.view.view) == 1
        assert pane.set_filter("/seq=3[1-4]/")
        assert [r.text.split()[0] for r in pane.view.view] == [f"seq={i}" for i in range(31, 35)]
        assert not pane.set_filter("/[unclosed/")  # invalid: the previous filter stays
        assert len(pane.view.view) == 4 and pane.filter_text == "/seq=3[1-4]/"
        await pilot.press("escape")  # esc in the pane clears the filter
        assert pane.filter_text == "" and len(pane.view.view) == 37
        await pilot.pause()
        assert not bar.display
        await pilot.press("E")  # previous error from the end
        row = pane.view.current_row()
        assert row is not None and row_level(row) == ERROR and "db down" in row.text
        await pilot.press("c")
        assert app.clipboard == row.text
        await pilot.press("p")
        await pilot.pause()
        assert app.pins and app.pins[-1].line == row.line.line


async def test_toggles_timestamps_labels_wrap_utc(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url), (60, 20)) as (app, pilot, pane):
        assert format_ts(1_700_000_000_123_456_789, utc=True) == "22:13:20.123"
        ts = time.time_ns()
        stub.push("x" * 150, ts=ts)
        await wait_for(pilot, lambda: len(pane.view.ring) == 1)
        await pilot.press("t")
        assert f"{format_ts(ts, utc=True)} xxx" in screen_text(app)
        await pilot.press("L")
        assert "{app=stub} " in screen_text(app)
        await pilot.press("w")
        text = screen_text(app)
        assert text.count("x") == 150  # wrapped over several rows, nothing cut
        assert pane.view.follow  # toggling wrap is not "scrolling up"
        await pilot.press("u")
        assert not pane.view.utc


async def test_query_editor_keeps_old_query_on_loki_error(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url)) as (app, pilot, pane):
        await pilot.press("l")
        editor = pane.query_one("#log-query")
        assert editor.has_focus
        editor.value = "unk(foo)"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("parse error" in n.message for n in app._notifications))
        assert any("keeping the previous query" in n.message for n in app._notifications)
        assert app.feed.query == '{app="stub"}' and pane.snapshot.query == '{app="stub"}'
        generation = pane.snapshot.generation
        await pilot.press("l")
        editor.value = '{app="stub"} |= "x"'  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.snapshot.query == '{app="stub"} |= "x"')
        assert pane.snapshot.generation == generation + 1
        app.feed.focus_service("checkout", '{app="checkout"}')
        await wait_for(pilot, lambda: pane.snapshot.query == '{app="checkout"}')
        app.feed.focus_service(None, None)
        await wait_for(pilot, lambda: pane.snapshot.query == '{app="stub"}')  # the default


async def test_a_loki_error_body_with_markup_is_shown_as_text(stub: LokiStub) -> None:
    """``[/]`` in Loki's answer to a typed query crashed the cockpit (MarkupError) through
    app.notify; ``[@click=app.quit]`` became a live action."""
    async with running_pane(make_runtime(stub.url)) as (app, pilot, pane):
        stub.hostile_error = "parse error [/] [@click=app.quit]quit[/]"
        await pilot.press("l")
        pane.query_one("#log-query").value = '{app="x"}'  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("[@click=app.quit]quit[/]" in str(n.message)
                                          for n in app._notifications))
        await pilot.pause(0.3)
        assert app.is_running and pane.snapshot.query == '{app="stub"}'


async def test_a_new_query_starts_a_new_buffer(stub: LokiStub) -> None:
    """The old query's lines leave with it (the stub answers every query with every line, so
    the new stream's backfill brings the old line back once: kept twice, it was not cleared)."""
    stub.push("old stream line", labels={"app": "stub"})
    async with running_pane(make_runtime(stub.url)) as (app, pilot, pane):
        await wait_for(pilot, lambda: "old stream line" in screen_text(app))
        first = pane.snapshot.generation
        stub.push("checkout line", labels={"app": "checkout"})
        app.feed.focus_service("checkout", '{app="checkout"}')
        await wait_for(pilot, lambda: "checkout line" in screen_text(app))
        assert [r.text for r in pane.view.ring] == ["old stream line", "checkout line"]
        assert pane.view.total_appended == 2
        assert {b.generation for b in app.batches} == {first, first + 1}


async def test_show_moment_and_back_to_live(stub: LokiStub) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    centre = int(at.timestamp()) * 10**9
    for i in range(-5, 6):
        stub.push(f"moment {i}", ts=centre + i * 10**9)
    async with running_pane(make_runtime(stub.url)) as (app, pilot, pane):
        app.feed.show_moment(at)
        await wait_for(pilot, lambda: pane.view.moment_rows is not None)
        assert [r.text for r in pane.view.view] == [f"moment {i}" for i in range(-5, 6)]
        await wait_for(pilot, lambda: not pane.snapshot.moment_loading)
        assert "moment 03:04:05 UTC" in pane.status_line.content.plain
        assert not pane.view.follow
        stub.push("live line")
        await pilot.pause(0.6)
        assert "live line" not in screen_text(app)
        app.feed.show_moment(None)
        await wait_for(pilot, lambda: "live line" in screen_text(app))
        assert pane.view.follow


async def test_moment_shows_lines_before_and_after_it_on_screen(stub: LokiStub) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    centre = int(at.timestamp()) * 10**9
    for i in range(-300, 301):
        stub.push(f"busy {i:+04d}", ts=centre + i * 10**8)
    async with running_pane(make_runtime(stub.url)) as (app, pilot, pane):
        app.feed.show_moment(at)
        await wait_for(pilot, lambda: pane.view.moment_rows is not None)
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "busy +000" in text
        assert "busy -003" in text and "busy +003" in text, text


async def test_moment_that_cannot_load_says_why_without_markup(stub: LokiStub) -> None:
    """A Loki error body is shown as text: ``[/]`` crashed the cockpit through app.notify."""
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with running_pane(make_runtime(stub.url)) as (app, pilot, pane):
        stub.hostile_error = "boom [/] [@click=app.quit]x[/]"
        app.feed.show_moment(at)
        await wait_for(pilot, lambda: pane.snapshot.moment_error is not None)
        await pilot.pause()
        assert "could not load its lines" in pane.status_line.content.plain
        assert pane.reason_line.content is not None
        assert "boom [/] [@click=app.quit]x[/]" in pane.reason_line.content.plain
        assert any("boom [/]" in str(n.message) for n in app._notifications)
        assert app.is_running


async def test_a_quiet_live_tail_is_never_shown_stale(stub: LokiStub) -> None:
    """A tail that works but carries no lines is live, whatever the time: its mode says lines
    would reach the screen (the badge once aged to "loki 10m" on a working tail)."""
    now = [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]
    async with running_pane(make_runtime(stub.url, clock=lambda: now[0])) as (_app, pilot, pane):
        line = pane.query_one(SourceLine)
        await wait_for(pilot, lambda: "● loki live" in line.make_text().plain)
        now[0] += timedelta(minutes=10)
        line.tick()
        assert line.make_text().plain == "● loki live"
        assert line.healths["loki"].state is HealthState.OK


async def test_unconfigured_pane_explains() -> None:
    async with running_pane(make_runtime(None), live=False) as (app, pilot, _pane):
        await pilot.pause()
        empty = app.query_one(".pane-empty")
        assert empty.display
        assert "no log provider configured" in str(empty.render())
        assert app.feed.jobs() == ()


async def test_a_log_provider_that_failed_to_start_is_an_error_source() -> None:
    from sre_cockpit.providers.base import Capability

    runtime = make_runtime(None)
    runtime.build_errors["loki"] = "ValueError: bad ca_file"
    runtime.failed_capabilities["loki"] = frozenset({Capability.LOGS})
    async with running_pane(runtime, live=False) as (app, pilot, pane):
        await pilot.pause()
        assert "log provider 'loki' could not be built" in str(app.query_one(".pane-empty").render())
        shown = pane.query_one(SourceLine).make_text().plain
        assert shown == "✖ loki error: failed to start: ValueError: bad ca_file"


async def test_low_bandwidth_caps_repaint_rate(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url, low_bandwidth=True), live=False) as (app, _, pane):
        assert pane.repaint_hz == 1.0 == app.feed.display.repaint_hz
    async with running_pane(make_runtime(stub.url), live=False, low_bandwidth=True) as (app, _, pane):
        assert pane.repaint_hz == 1.0
    async with running_pane(make_runtime(stub.url, log_repaint_hz=30), live=False) as (app, _, pane):
        assert pane.repaint_hz == 4.0


@pytest.mark.parametrize(("line", "labels", "level"), [
    ("ts=1 level=error msg=x", {}, ERROR),
    ('{"level":"warn","msg":"x"}', {}, WARN),
    ('{"severity":"INFO"}', {}, INFO),
    ("lvl=dbug debug stuff DEBUG", {}, DEBUG),
    ("2024-01-01 ERROR something broke", {}, ERROR),
    ("WARNING: disk 91%", {}, WARN),
    ("plain text with error inside lowercase", {}, NONE),
    ("no level here", {"detected_level": "error"}, ERROR),
])
def test_detect_level(line: str, labels: dict[str, str], level: int) -> None:
    assert detect_level(line, labels) == level


def test_filter_parse_and_clipboard_sequences() -> None:
    assert LineFilter.parse("") is None and LineFilter.parse("!") is None
    f = LineFilter.parse("!/a+/")
    assert f is not None and f.invert and not f.matches("caat") and f.spans("aa") == []
    g = LineFilter.parse("abc")
    assert g is not None and g.spans("xABCx abc") == [(1, 4), (6, 9)]
    with pytest.raises(ValueError, match="invalid regular expression"):
        LineFilter.parse("/(/")
    assert clipboard_sequence("hi", tmux=False) == "\x1b]52;c;aGk=\x07"
    assert clipboard_sequence("hi", tmux=True) == "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"


async def test_copy_inside_tmux_writes_passthrough(monkeypatch: pytest.MonkeyPatch) -> None:
    from sre_cockpit.ui.logs.view import copy_text

    written: list[str] = []

    class Driver:
        def write(self, data: str) -> None:
            written.append(data)

    class FakeApp:
        _driver = Driver()
        clip = ""

        def copy_to_clipboard(self, text: str) -> None:
            self.clip = text
            self._driver.write(clipboard_sequence(text, tmux=False))

    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    app = FakeApp()
    copy_text(app, "line")
    assert app.clip == "line"
    assert written == [clipboard_sequence("line", tmux=False), clipboard_sequence("line", tmux=True)]
    await asyncio.sleep(0)


async def test_polling_mode_is_shown_when_websocket_is_refused() -> None:
    with loki_stub(refuse_upgrade=403) as stub:
        async with running_pane(make_runtime(stub.url), (120, 24), live=False) as (app, pilot, pane):
            await wait_for(pilot, mode_is(pane, StreamMode.POLLING))
            await wait_for(pilot, lambda: "polling" in pane.status_line.content.plain)
            assert "HTTP 403" in pane.status_line.content.plain
            stub.push("seq=1 level=info via polling")
            await wait_for(pilot, lambda: "via polling" in screen_text(app), within=10)
            assert pane.query_one(SourceLine).make_text().plain == "● loki polling"


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(max_lines=30, id="v")


async def test_eviction_with_filter_and_pause_keeps_the_view_anchored() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(LogView)
        view.append([LogLine(i, f"{'ERR' if i % 3 == 0 else 'ok'} n={i}") for i in range(30)])
        view.line_filter = LineFilter.parse("ERR")
        view.rebuild()
        assert [r.text for r in view.view] == [f"ERR n={i}" for i in range(0, 30, 3)]
        view.focus()
        await pilot.press("up", "up")  # pause and move the cursor
        assert not view.follow
        selected = view.current_row()
        assert selected is not None
        before = screen_text_of(view)
        view.append([LogLine(100 + i, f"{'ERR' if i % 3 == 0 else 'ok'} m={i}") for i in range(9)])
        await pilot.pause()
        first_kept = view.ring[0]
        assert len(view.ring) == 30 and first_kept.ts_ns == 9
        assert all(r.ts_ns >= 9 for r in view.view)  # evicted rows left the filtered view
        assert view.current_row() is selected  # the cursor stays on the same line
        assert view.new_while_paused == 3
        after = screen_text_of(view)
        assert [ln for ln in after.splitlines() if "n=" in ln][-1] in before
        await pilot.press("space")
        await pilot.pause()
        assert "ERR m=6" in screen_text_of(view)


def screen_text_of(view: LogView) -> str:
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


def test_row_filter_words_regex_and_invert() -> None:
    from sre_cockpit.core.loglines import RowFilter

    hay = "P30AVQB CheckoutHighErrorRate checkout pd triggered critical Dana"
    assert RowFilter().matches(hay)
    assert RowFilter.parse("checkout dana").matches(hay)
    assert not RowFilter.parse("checkout ravi").matches(hay)
    assert RowFilter.parse("/Error(Rate)?/").matches(hay)
    assert not RowFilter.parse("!checkout").matches(hay)
    assert RowFilter.parse("!payments").matches(hay)
    assert RowFilter.parse("!").text == ""  # a lone ! filters nothing
    with pytest.raises(ValueError, match="invalid regular expression"):
        RowFilter.parse("/(/")
