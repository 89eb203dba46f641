"""Sort, group and "mine" in the incidents pane (pilot): keys, the visible indicators, the
truth contract's counts with groups collapsed, kept across polls; a poll with the same data
repaints nothing."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from incidents_helpers import MemoryIncidents, PaneApp, incident, polled_pane, runtime_with
from textual.widgets import Static

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, Suppression
from sre_cockpit.feeds.arrange import Group, MineMode, SortKey
from sre_cockpit.ui.incidents.grid import IncidentTable
from sre_cockpit.ui.incidents.view import IncidentsPane
from sre_cockpit.ui.pane import FilterBar


def alert(n: int, name: str, **kw: Any) -> Incident:
    silenced = kw.pop("silenced", False)
    base = incident(n, assignees=(), **kw)
    return replace(base, labels=MappingProxyType({"alertname": name}),
                   suppressed=Suppression.SILENCED if silenced else None,
                   status=IncidentStatus.ACKNOWLEDGED if silenced else base.status)


def pane_of(app: PaneApp) -> IncidentsPane:
    return app.query_one(IncidentsPane)


def header(app: PaneApp) -> str:
    return app.query_one(IncidentTable).header.plain


def bar(app: PaneApp) -> str:
    widget = app.query_one(FilterBar)
    return str(widget.render()) if widget.has_class("-on") else ""


async def test_sort_key_cycles_with_an_arrow_and_survives_polls() -> None:
    mem = MemoryIncidents("mem", [
        incident(1, severity=Severity.WARNING, minutes_ago=5, service="search"),
        incident(2, severity=Severity.CRITICAL, minutes_ago=50, service="api"),
        incident(3, severity=Severity.INFO, minutes_ago=1, service="checkout"),
    ])
    async with polled_pane(runtime_with([mem]), size=(160, 30)) as (app, pilot, pane):
        assert "sort triage ▼" in str(pane.border_subtitle)
        assert "▼" not in header(app)
        await pilot.press("t")  # severity
        await pilot.pause()
        assert pane.arrangement.sort is SortKey.SEVERITY and "sev▼" in header(app)
        await pilot.press("t")  # age: newest first
        await pilot.pause()
        assert "age▼" in header(app) and "sort age ▼" in str(pane.border_subtitle)
        assert pane.table.row_keys() == ["mem:INC003", "mem:INC001", "mem:INC002"]
        await pilot.press("T")  # oldest first
        await pilot.pause()
        assert "age▲" in header(app) and "sort age ▲" in str(pane.border_subtitle)
        assert pane.table.row_keys() == ["mem:INC002", "mem:INC001", "mem:INC003"]
        pane.table.move_cursor(1)
        # a poll that adds a row: the order is kept and the cursor stays on its incident
        mem.state["INC004"] = replace(incident(4, minutes_ago=30), provider="mem")
        await app.poll_now()
        await pilot.pause()
        assert pane.table.row_keys() == ["mem:INC002", "mem:INC004", "mem:INC001",
                                         "mem:INC003"]
        assert pane.table.cursor_key == "mem:INC001"


async def test_groups_collapse_with_counts_and_the_filter_bar_says_what_is_hidden() -> None:
    mem = MemoryIncidents("mem", [
        alert(1, "DiskFull", severity=Severity.CRITICAL, minutes_ago=3),
        alert(2, "DiskFull", severity=Severity.WARNING, silenced=True, minutes_ago=1),
        alert(3, "DiskFull", severity=Severity.WARNING, silenced=True, minutes_ago=40),
        alert(4, "Latency", severity=Severity.WARNING, minutes_ago=20, service="search"),
    ])
    async with polled_pane(runtime_with([mem]), size=(160, 30)) as (app, pilot, pane):
        await pilot.press("v")
        await pilot.pause()
        table = pane.table
        rows = [table.row(k) for k in table.row_keys()]
        assert isinstance(rows[0], Group) and table.row_count == 6
        line = table.line_text(rows[0].key)
        assert line is not None
        assert ("DiskFull  3 incidents (1 firing, 2 silenced) · worst critical · newest 1m"
                in line.plain)
        assert "by alertname" in str(pane.border_subtitle)
        # enter on the group row collapses it; the incidents are not rows any more
        table.move_cursor(0)
        await pilot.press("enter")
        await pilot.pause()
        assert table.row_count == 3 and table.line_text(rows[0].key).plain.startswith("▸")
        # a filter: the bar counts every match, collapsed or not, and says how many are inside
        pane.set_filter("checkout")
        await pilot.pause()
        assert bar(app).startswith("/checkout — 3 of 4 incidents shown, 1 hidden · 3 of them "
                                   "in 1 collapsed group · esc clears")
        # x on a collapsed group selects its incidents: the bulk action sees all three
        table.move_cursor(0)
        await pilot.press("x")
        await pilot.pause()
        assert pane.selected == {"mem:INC001", "mem:INC002", "mem:INC003"}
        assert [i.id for i in pane.target_incidents()] == ["INC001", "INC002", "INC003"]
        # a poll keeps groups collapsed and the selection
        await app.poll_now()
        await pilot.pause()
        assert table.row_count == 1 and len(pane.selected) == 3
        await pilot.press("escape")  # the filter first
        await pilot.pause()
        assert bar(app) == "" and table.row_count == 3
        await pilot.press("V")  # collapse every group
        await pilot.pause()
        assert all(isinstance(table.row(k), Group) for k in table.row_keys())
        await pilot.press("V")  # and open them all
        await pilot.pause()
        assert table.row_count == 6


async def test_mine_first_then_only_then_off_with_escape() -> None:
    mem = MemoryIncidents("mem", [
        incident(1, severity=Severity.CRITICAL, assignees=("Ravi",)),
        incident(2, severity=Severity.WARNING, assignees=("tester",)),
        incident(3, severity=Severity.INFO, assignees=()),
    ])
    async with polled_pane(runtime_with([mem]), size=(160, 30)) as (app, pilot, pane):  # the config's user is "tester"
        await pilot.press("m")
        await pilot.pause()
        assert pane.arrangement.mine is MineMode.FIRST
        assert pane.table.row_keys()[0] == "mem:INC002" and bar(app) == ""
        assert "mine first" in str(pane.border_subtitle)
        await pilot.press("m")
        await pilot.pause()
        assert pane.table.row_keys() == ["mem:INC002"]
        assert bar(app).startswith("mine only (tester) — 1 of 3 incidents shown, 2 hidden")
        mem.state["INC002"] = replace(mem.state["INC002"], assignees=("Ravi",))
        await app.poll_now()  # nothing is mine any more: the pane says why it is empty
        await pilot.pause()
        empty = str(app.query_one(".incidents-empty", Static).render())
        assert "no incident matches mine only (assigned to tester) (3 hidden)" in empty
        await pilot.press("escape")
        await pilot.pause()
        assert pane.arrangement.mine is MineMode.OFF and pane.table.row_count == 3


async def test_a_poll_with_the_same_data_repaints_nothing() -> None:
    mem = MemoryIncidents("mem", [incident(n, minutes_ago=n) for n in range(1, 200)])
    async with polled_pane(runtime_with([mem]), size=(160, 30)) as (app, pilot, pane):
        table = pane.table
        before = table.repaints
        for _ in range(3):
            await app.poll_now()
            await pilot.pause()
        assert table.repaints == before
        # one row on screen changes: one line is repainted
        mem.state["INC001"] = replace(mem.state["INC001"], title="renamed")
        await app.poll_now()
        await pilot.pause()
        assert table.repaints == before + 1
        # a row off screen changes: nothing on screen is repainted
        mem.state["INC150"] = replace(mem.state["INC150"], title="renamed too")
        await app.poll_now()
        await pilot.pause()
        assert table.repaints == before + 1


async def test_config_sets_the_starting_arrangement() -> None:
    mem = MemoryIncidents("mem", [alert(1, "A"), alert(2, "B", minutes_ago=5)])
    runtime = runtime_with([mem])
    runtime.config = runtime.config.model_copy(update={"ui": runtime.config.ui.model_copy(
        update={"incident_sort": "age", "incident_grouped": True,
                "incident_group_by": ["alertname", "service"], "incident_mine": "first"})})
    async with polled_pane(runtime, size=(160, 30)) as (_app, _pilot, pane):
        how = pane.arrangement
        assert (how.sort, how.grouped, how.group_by, how.mine) == (
            SortKey.AGE, True, ("alertname", "service"), MineMode.FIRST)
        assert "B / checkout" in (pane.table.line_text(pane.table.row_keys()[0]) or "").plain


async def test_ages_change_by_a_timer_not_by_polls() -> None:
    """The table wakes up when an age on screen reads differently (here in 60 s), repaints
    those lines only, and sleeps otherwise."""
    from datetime import timedelta

    from incidents_helpers import FROZEN

    from sre_cockpit.ui.incidents.table import next_row_change

    mem = MemoryIncidents("mem", [incident(1, minutes_ago=10), incident(2, minutes_ago=90)])
    async with polled_pane(runtime_with([mem]), size=(160, 30)) as (_app, _pilot, pane):
        table = pane.table
        assert next_row_change(table.rows, FROZEN) == 60.0  # 10m → 11m first
        assert table._tick is not None  # one timer, for that moment
        before = table.repaints
        pane.clock = lambda: FROZEN + timedelta(seconds=61)
        table.redraw()  # what the timer does
        assert table.repaints == before + 1  # 10m → 11m; 1h stays 1h
        assert pane.cells("mem:INC001")["age"] == "11m"


def test_the_incidents_table_moves_like_every_table_and_groups_on_v() -> None:
    """The incidents table takes the ``table.*`` keys of the other tables (``j``/``k``/``g``/
    ``G``, home/end); grouping is ``v``/``V`` because the table answers ``g``/``G`` first."""
    from sre_cockpit.core.keyids import BINDING_SCOPES

    table = BINDING_SCOPES["IncidentTable"]
    assert {k: v for k, v in table.items() if k.startswith("table.")} == BINDING_SCOPES["PaneTable"]
    pane = BINDING_SCOPES["IncidentsPane"]
    assert (pane["incidents.group"], pane["incidents.collapse_all"]) == ("v", "V")
    table_keys = {k for keys in table.values() for k in keys.split(",")}
    assert not table_keys & {k for keys in pane.values() for k in keys.split(",")}


async def test_j_k_g_G_move_the_cursor_over_incidents_and_groups() -> None:
    mem = MemoryIncidents("mem", [incident(n, minutes_ago=n) for n in range(1, 13)])
    async with polled_pane(runtime_with([mem]), size=(120, 30)) as (app, pilot, _pane):
        table = app.query_one(IncidentTable)
        table.focus()
        for key, row in (("G", 11), ("g", 0), ("j", 1), ("j", 2), ("k", 1), ("end", 11),
                         ("home", 0)):
            await pilot.press(key)
            assert table.cursor_row == row, key
        await pilot.press("v")  # grouped: one group row (no alertname) then its incidents
        await pilot.pause()
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1 == 12
