"""The log pane on screen: keeps repainting once the ring buffer is full, follow/pause, filter,
levels, toggles, copy/pin, query editing, service focus and the incident clock."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from loki_helpers import LokiStub, loki_stub, make_runtime
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sre_cockpit.core.models import LogLine
from sre_cockpit.ui.logs.view import (
    DEBUG,
    ERROR,
    INFO,
    NONE,
    WARN,
    LineFilter,
    LogPane,
    LogView,
    clipboard_sequence,
    detect_level,
    format_ts,
    row_level,
)


class PaneApp(App[None]):
    def __init__(self, runtime: Any, *, attach: bool = True) -> None:
        super().__init__()
        self.runtime = runtime
        self.do_attach = attach
        self.pins: list[LogLine] = []

    def compose(self) -> ComposeResult:
        yield LogPane(id="logs")

    def on_mount(self) -> None:
        if self.do_attach:
            self.query_one(LogPane).attach(self.runtime)
        self.query_one(LogView).focus()

    def on_pane_pin_requested(self, message: LogPane.PinRequested) -> None:
        self.pins.append(message.line)


def screen_text(app: App[Any]) -> str:
    view = app.query_one(LogView)
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def wait_for(pilot: Pilot[Any], predicate: Any, within: float = 8.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await pilot.pause(0.05)


def push_many(stub: LokiStub, start: int, count: int, fmt: str = "seq={i} level=info ok") -> None:
    for i in range(start, start + count):
        stub.push(fmt.format(i=i))


async def test_keeps_repainting_after_buffer_is_full() -> None:
    """Textual's Log(max_lines) stops repainting once full; this pane must not."""
    with loki_stub() as stub:
        app = PaneApp(make_runtime(stub.url, log_buffer_lines=40))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
            for batch in range(3):
                push_many(stub, batch * 100, 100)
                last = f"seq={batch * 100 + 99} "
                await wait_for(pilot, lambda last=last: last in app.export_screenshot().replace("&#160;", " "))
                assert len(pane.view.ring) == 40
                assert last in screen_text(app)
            assert pane.view.total_appended == 300


async def test_follow_pause_new_lines_and_scroll_up_pauses() -> None:
    with loki_stub() as stub:
        app = PaneApp(make_runtime(stub.url))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
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


async def test_filter_levels_copy_pin_and_errors() -> None:
    with loki_stub() as stub:
        app = PaneApp(make_runtime(stub.url))
        async with app.run_test(size=(100, 30)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
            push_many(stub, 0, 30, "seq={i} level=info ok")
            stub.push('{"level":"error","msg":"db down","seq":30}')
            push_many(stub, 31, 5, "seq={i} level=info ok")
            await wait_for(pilot, lambda: len(pane.view.ring) == 36)
            pane.apply_filter("db DOWN")  # smart case: upper case means case-sensitive
            assert pane.view.view == []
            pane.apply_filter("db down")
            assert [r.text for r in pane.view.view] == ['{"level":"error","msg":"db down","seq":30}']
            pane.apply_filter("!/level=info/")
            assert len(pane.view.view) == 1
            pane.apply_filter("/seq=3[1-4]/")
            assert [r.text.split()[0] for r in pane.view.view] == [f"seq={i}" for i in range(31, 35)]
            pane.apply_filter("/[unclosed/")  # invalid: kept the previous filter
            assert len(pane.view.view) == 4
            pane.apply_filter("")
            assert len(pane.view.view) == 36
            await pilot.press("E")  # previous error from the end
            row = pane.view.current_row()
            assert row is not None and row_level(row) == ERROR and "db down" in row.text
            await pilot.press("c")
            assert app.clipboard == row.text
            await pilot.press("p")
            await pilot.pause()
            assert app.pins and app.pins[-1].line == row.line.line


async def test_toggles_timestamps_labels_wrap_utc() -> None:
    with loki_stub() as stub:
        app = PaneApp(make_runtime(stub.url))
        async with app.run_test(size=(60, 20)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
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


async def test_query_editor_keeps_old_query_on_loki_error() -> None:
    with loki_stub() as stub:
        app = PaneApp(make_runtime(stub.url))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
            await pilot.press("l")
            editor = pane.query_one("#log-query")
            assert editor.has_focus
            editor.value = "unk(foo)"  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_for(pilot, lambda: any("parse error" in n.message for n in app._notifications))
            assert pane.logql == '{app="stub"}'
            await pilot.press("l")
            editor.value = '{app="stub"} |= "x"'  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_for(pilot, lambda: pane.logql == '{app="stub"} |= "x"')
            pane.focus_service("checkout", '{app="checkout"}')
            assert pane.logql == '{app="checkout"}'
            pane.focus_service(None, None)
            assert pane.logql == '{app="stub"}'  # back to the configured default


async def test_show_moment_and_back_to_live() -> None:
    with loki_stub() as stub:
        at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        centre = int(at.timestamp()) * 10**9
        for i in range(-5, 6):
            stub.push(f"moment {i}", ts=centre + i * 10**9)
        app = PaneApp(make_runtime(stub.url))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
            pane.show_moment(at)
            await wait_for(pilot, lambda: pane.view.moment_rows is not None)
            assert [r.text for r in pane.view.view] == [f"moment {i}" for i in range(-5, 6)]
            assert "moment 03:04:05 UTC" in pane.status_line.content.plain
            assert not pane.view.follow
            stub.push("live line")
            await pilot.pause(0.6)
            assert "live line" not in screen_text(app)
            pane.show_moment(None)
            await wait_for(pilot, lambda: "live line" in screen_text(app))
            assert pane.view.follow


async def test_moment_shows_lines_before_and_after_it_on_screen() -> None:
    with loki_stub() as stub:
        at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        centre = int(at.timestamp()) * 10**9
        for i in range(-300, 301):
            stub.push(f"busy {i:+04d}", ts=centre + i * 10**8)
        app = PaneApp(make_runtime(stub.url))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
            pane.show_moment(at)
            await wait_for(pilot, lambda: pane.view.moment_rows is not None)
            await pilot.pause(0.3)
            text = screen_text(app)
            assert "busy +000" in text
            assert "busy -003" in text and "busy +003" in text, text


async def test_live_stream_renews_its_data_age() -> None:
    """Health was reported only on mode changes: a live tail's badge aged without bound."""
    from datetime import timedelta

    from sre_cockpit.ui.pane import HealthLine

    now = [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]
    with loki_stub() as stub:
        app = PaneApp(make_runtime(stub.url, clock=lambda: now[0]))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: pane.stream is not None and pane.stream.mode.value == "live")
            healths = pane.query_one(HealthLine).healths
            await wait_for(pilot, lambda: "loki" in healths and healths["loki"].last_ok_at is not None)
            first = healths["loki"].last_ok_at
            now[0] += timedelta(minutes=10)
            stub.push("fresh line")
            await wait_for(pilot, lambda: healths["loki"].last_ok_at != first)
            assert healths["loki"].last_ok_at == now[0]
            assert healths["loki"].age_seconds(now[0]) == 0.0


async def test_unconfigured_pane_explains() -> None:
    app = PaneApp(make_runtime(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        empty = app.query_one(".pane-empty")
        assert empty.display
        assert "no log provider configured" in str(empty.render())


async def test_low_bandwidth_caps_repaint_rate() -> None:
    with loki_stub() as stub:
        app = PaneApp(make_runtime(stub.url, low_bandwidth=True))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.query_one(LogPane).repaint_hz == 1.0
        app2 = PaneApp(make_runtime(stub.url, log_repaint_hz=30))
        async with app2.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app2.query_one(LogPane).repaint_hz == 4.0


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
        app = PaneApp(make_runtime(stub.url))
        async with app.run_test(size=(120, 24)) as pilot:
            pane = app.query_one(LogPane)
            await wait_for(pilot, lambda: "polling" in pane.status_line.content.plain)
            assert "HTTP 403" in pane.status_line.content.plain
            stub.push("seq=1 level=info via polling")
            await wait_for(pilot, lambda: "via polling" in screen_text(app), within=10)


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
