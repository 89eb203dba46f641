"""The ``?`` screen is built on the first ``?`` and kept: later opens update it in place.

Composing the screen and a table of every binding on each ``?`` was part of what made it slow
to open; what a later open must still get right is checked here: the ``●`` marks follow the
focus, the table starts at the top again, a changed set of bindings refills it, and a theme
switched while it was closed is the one it shows.
"""

from __future__ import annotations

from shell_helpers import shell_app
from textual.widgets import DataTable

from sre_cockpit.ui.help import BindingRow, HelpScreen


def marked(screen: HelpScreen) -> set[str]:
    """Binding ids whose row carries the ``●``."""
    table = screen.query_one(DataTable)
    return {str(table.get_cell(str(n), "id")) for n in range(table.row_count)
            if str(table.get_cell(str(n), "active")).strip()}


async def test_help_is_built_once_and_its_marks_follow_the_focus() -> None:
    app = shell_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.started.wait()
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        first = app.screen
        assert isinstance(first, HelpScreen) and first.builds == 1
        assert "timeline.kinds" not in marked(first) and "incidents.ack" in marked(first)
        first.query_one(DataTable).move_cursor(row=20)
        await pilot.press("escape", "4", "question_mark")
        await pilot.pause()
        assert app.screen is first and first.builds == 1
        assert "timeline.kinds" in marked(first) and "incidents.ack" not in marked(first)
        assert first.query_one(DataTable).cursor_row == 0
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_other_bindings_refill_the_kept_table() -> None:
    app = shell_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.started.wait()
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        rows = list(screen.rows)
        rows[0] = BindingRow(rows[0].scope, "f12", rows[0].id, rows[0].description,
                             rows[0].active)
        screen.show_rows(rows)
        await pilot.pause()
        assert screen.builds == 2
        assert str(screen.query_one(DataTable).get_cell("0", "key")) == "f12"


async def test_a_theme_chosen_while_help_was_closed_is_the_one_it_shows() -> None:
    app = shell_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.started.wait()
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        before = screen.query_one(DataTable).render_line(2)
        await pilot.press("escape")
        await pilot.pause()
        assert app.set_theme("daylight") is None
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        after = screen.query_one(DataTable).render_line(2)
        assert app.screen is screen
        assert [s.style for s in after] != [s.style for s in before]
