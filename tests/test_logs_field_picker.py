"""The field picker of the log pane (``F``): it offers ``ts``, ``level``, ``msg``, every field seen
in the buffer's structured lines (hostile names as text) and ``*``; the columns chosen are what
structured rows show, remembered per query in the context's data dir."""

from __future__ import annotations

from logs_helpers import running_pane, screen_text, wait_for
from loki_helpers import loki_stub, make_runtime
from textual.widgets import SelectionList

from sre_cockpit.core.logfields import DEFAULT_COLUMNS
from sre_cockpit.core.loglines import format_ts
from sre_cockpit.feeds.logprefs import LogPrefs
from sre_cockpit.ui.logs.fields import FieldPicker, fields_seen, ordered_columns

LINES = ['level=info msg="order placed" seq=1 user=ann app=shop',
         'level=error msg="charge failed" seq=2 user=bob app=shop',
         '{"level":"warn","msg":"slow","seq":3,"k\\u001b[31m":"x","[b]y[/b]":"z"}',
         "a plain line"]


def test_fields_seen_and_column_order() -> None:
    seen = fields_seen(LINES)
    assert seen[:3] == ["seq", "user", "app"]  # most frequent first
    assert "k␛[31m" in seen and "[b]y[/b]" in seen  # sanitised, kept as typed
    assert ordered_columns({"user", "msg", "*"}, ["ts", "level", "msg", "user", "*"]) == (
        "msg", "user", "*")


async def test_picked_columns_are_shown_and_remembered_per_query() -> None:
    with loki_stub() as stub:
        async with running_pane(make_runtime(stub.url), (100, 24)) as (app, pilot, pane):
            for line in LINES:
                stub.push(line)
            await wait_for(pilot, lambda: len(pane.view.ring) == 4)
            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, FieldPicker))
            picker = app.screen
            assert isinstance(picker, FieldPicker)
            assert picker.offered[:6] == ["ts", "level", "msg", "seq", "user", "app"]
            assert picker.offered[-1] == "*"
            listing = picker.query_one("#fields-list", SelectionList)
            prompts = [str(listing.get_option_at_index(i).prompt)
                       for i in range(listing.option_count)]
            assert any(p.startswith("k␛[31m") for p in prompts) and "[b]y[/b]" in prompts
            assert set(listing.selected) == set(DEFAULT_COLUMNS)
            listing.deselect_all()
            for name in ("ts", "msg", "user"):
                listing.select(name)
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, FieldPicker))
            assert pane.view.structured  # turned on to show the choice
            await pilot.pause()
            rows = [r.rstrip() for r in screen_text(app).splitlines() if r.strip()]
            stamp = format_ts(pane.view.view[1].ts_ns, utc=True)
            assert f"{stamp} charge failed user=bob" in rows
            assert not any("seq=" in r or "app=" in r for r in rows[:2]), rows
            query = pane.snapshot.query
            assert LogPrefs.for_context(None, "test").columns(query) == ("ts", "msg", "user")
            pane.query_one("#log-query").value = '{app="other"}'  # type: ignore[attr-defined]
            await pane.feed.try_query('{app="other"}')  # type: ignore[union-attr]
            await wait_for(pilot, lambda: pane.snapshot.query == '{app="other"}')
            assert pane.view._structured.columns == DEFAULT_COLUMNS  # another query
            await pane.feed.try_query(query)  # type: ignore[union-attr]
            await wait_for(pilot, lambda: pane.snapshot.query == query)
            assert pane.view._structured.columns == ("ts", "msg", "user")  # back: remembered


async def test_escape_and_nothing_ticked_change_nothing() -> None:
    with loki_stub() as stub:
        async with running_pane(make_runtime(stub.url), (80, 24)) as (app, pilot, pane):
            stub.push(LINES[0])
            await wait_for(pilot, lambda: len(pane.view.ring) == 1)
            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, FieldPicker))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, FieldPicker))
            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, FieldPicker))
            app.screen.query_one("#fields-list", SelectionList).deselect_all()
            await pilot.press("enter")  # nothing ticked: the picker stays and says so
            await pilot.pause(0.2)
            assert isinstance(app.screen, FieldPicker)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, FieldPicker))
            assert pane.view._structured.columns == DEFAULT_COLUMNS
            assert not pane.view.structured
