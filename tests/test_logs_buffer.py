"""The log view over a buffer whose older rows are sealed in compressed blocks: scrolling back,
filtering, searching, wrapping and error navigation reach them as before."""

from __future__ import annotations

from textual.app import App, ComposeResult

from sre_cockpit.core.loglines import LineFilter
from sre_cockpit.core.logring import BLOCK
from sre_cockpit.core.models import LogLine
from sre_cockpit.ui.logs.logview import LogView

KEEP = 3 * BLOCK + 7
SENT = 4 * BLOCK + 20


def lines(start: int, end: int) -> list[LogLine]:
    return [LogLine(i, f"{'ERROR boom' if i % 97 == 0 else 'ok'} n={i:05d} " + "x" * (i % 60))
            for i in range(start, end)]


class BufferApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(max_lines=KEEP, id="v")


def shown(view: LogView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_scrolling_back_reaches_the_oldest_sealed_row() -> None:
    app = BufferApp()
    async with app.run_test(size=(100, 12)) as pilot:
        view = app.query_one(LogView)
        for start in range(0, SENT, 100):
            view.append(lines(start, min(SENT, start + 100)))
        oldest = SENT - KEEP
        assert len(view.ring) == KEEP and view.ring[0].ts_ns == oldest
        view.focus()
        await pilot.press("g")
        await pilot.pause()
        assert shown(view)[0].startswith(f"ok n={oldest:05d}")
        assert view.current_row() is not None and view.current_row().ts_ns == oldest  # type: ignore[union-attr]
        await pilot.press("pagedown")
        await pilot.pause()
        row = view.current_row()
        assert row is not None and row.text in shown(view)[-1] + " " * 100


async def test_filter_search_and_errors_cover_sealed_rows() -> None:
    app = BufferApp()
    async with app.run_test(size=(100, 12)) as pilot:
        view = app.query_one(LogView)
        view.append(lines(0, SENT))
        oldest = SENT - KEEP
        errors = [i for i in range(oldest, SENT) if i % 97 == 0]
        view.line_filter = LineFilter.parse("ERROR")
        view.rebuild()
        assert [r.ts_ns for r in view.view] == errors
        view.line_filter = None
        view.rebuild()
        assert len(view.view) == KEEP
        view.set_search(LineFilter.parse("boom"))
        assert view.search_position() == (0, len(errors))
        view.focus()
        await pilot.press("N")  # the newest match
        await pilot.pause()
        assert view.current_row().ts_ns == errors[-1]  # type: ignore[union-attr]
        for expected in reversed(errors[:-1]):
            await pilot.press("E")
            await pilot.pause()
            assert view.current_row().ts_ns == expected  # type: ignore[union-attr]
        assert any("ERROR boom" in text for text in shown(view))


async def test_wrapped_rows_of_sealed_blocks_keep_their_heights() -> None:
    app = BufferApp()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(LogView)
        view.append(lines(0, SENT))
        view.focus()
        await pilot.press("w", "g")
        await pilot.pause()
        oldest = SENT - KEEP
        first = lines(oldest, oldest + 1)[0].line
        assert "".join(shown(view)[:2]).startswith(first[:60].rstrip())
        assert view.position()[1] == sum(max(1, -(-len(ln.line) // 40))
                                         for ln in lines(oldest, SENT))
