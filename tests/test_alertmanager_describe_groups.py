"""Incidents in depth against a REAL Alertmanager (Debian ``prometheus-alertmanager``): the
describe view shows every label and annotation and the runbook; groups count silenced alerts
as silenced; a sort survives polls (and new alerts land where the sort puts them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from am_helpers import create_silence, post_alerts, start_alertmanager, wait_states
from textual.pilot import Pilot

from sre_cockpit.config.model import Config
from sre_cockpit.feeds.arrange import Group, SortKey
from sre_cockpit.ui.app import make_app
from sre_cockpit.ui.incidents.describe import DescribeScreen
from sre_cockpit.ui.incidents.view import IncidentsPane

pytestmark = pytest.mark.integration

RUNBOOK = "https://runbooks.example.com/disk/full?team=storage&x=[b]"
DASHBOARD = "https://grafana.example.com/d/disk/node-disk?orgId=1&var-instance=db-1&from=now-6h"
ALERTS = [
    {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1",
                "team": "storage"},
     "annotations": {"summary": "db-1 disk 97% full", "runbook_url": RUNBOOK,
                     "dashboard": DASHBOARD,
                     "description": "/var/lib/postgresql is 97% full.\nFree space or grow."},
     "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk_used"},
    {"labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db-2"}},
    {"labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db-3"}},
    {"labels": {"alertname": "HighLatency", "severity": "warning", "service": "search"}},
]


@pytest.fixture
def am(tmp_path: Path) -> Iterator[str]:
    url, stop = start_alertmanager(tmp_path / "am")
    try:
        post_alerts(url, ALERTS)
        create_silence(url, {"alertname": "DiskFull", "severity": "warning"},
                       created_by="carol", comment="replacing disks")
        assert wait_states(url, {"HighLatency": "active"})
        yield url
    finally:
        stop()


def config_for(url: str) -> Config:
    return Config.model_validate({
        "default_context": "t", "user": "oncall-bob", "refresh": {"incidents": "1s"},
        "contexts": {"t": {"providers": {"am": {"type": "alertmanager", "url": url}}}}})


async def until(pilot: Pilot[Any], predicate: Any, seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


def silenced_count(pane: IncidentsPane) -> int:
    return sum(1 for i in pane.snapshot.incidents if i.silenced)


async def test_describe_shows_labels_annotations_and_runbook(am: str) -> None:
    app = make_app(config_for(am), start_polling=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(IncidentsPane)
        await until(pilot, lambda: len(pane.snapshot.incidents) == 4 and silenced_count(pane) == 2)
        disk = next(i for i in pane.snapshot.incidents if i.labels.get("instance") == "db-1")
        assert pane.cells(disk.key)["runbook"] == "↗"
        pane.table.focus()
        assert pane.table.move_to_key(disk.key)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DescribeScreen))
        screen = app.screen
        assert isinstance(screen, DescribeScreen)
        fields = {(f.section, f.name): f.value for f in screen.fields}
        assert fields[("labels", "instance")] == "db-1"
        assert fields[("labels", "team")] == "storage"
        assert fields[("annotations", "description")].startswith("/var/lib/postgresql")
        assert fields[("annotations", "dashboard")] == DASHBOARD  # a link in full
        assert fields[("annotations", "runbook_url")] == RUNBOOK
        assert fields[("incident", "runbook")] == RUNBOOK
        assert fields[("details", "generatorURL")].startswith("http://prometheus.example:9090")
        assert fields[("details", "fingerprint")] == disk.id  # in full, never cut
        assert ("raw", "object") in fields
        await pilot.press("b")
        await pilot.pause()
        assert app.clipboard == RUNBOOK.replace("[", "%5B").replace("]", "%5D")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DescribeScreen)


async def test_groups_count_silenced_alerts_as_silenced(am: str) -> None:
    app = make_app(config_for(am), start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(IncidentsPane)
        await until(pilot, lambda: len(pane.snapshot.incidents) == 4 and silenced_count(pane) == 2)
        pane.table.focus()
        await pilot.press("v")
        await pilot.pause()
        groups = {g.label: g for g in pane.arranged.groups}
        disk = groups["alertname=DiskFull"]
        assert (disk.count, disk.firing, disk.silenced) == (3, 1, 2)
        assert disk.worst.value == "critical"
        line = pane.table.line_text(disk.key)
        assert line is not None
        assert "DiskFull  3 incidents (1 firing, 2 silenced) · worst critical" in line.plain
        assert "HighLatency  1 incident · worst warning" in (
            pane.table.line_text(groups["alertname=HighLatency"].key) or "").plain
        # the counts stay right after polls and with the group collapsed
        pane.table.move_to_key(disk.key)
        await pilot.press("enter")
        polls = pane.feed.pollers["am"].polls  # type: ignore[union-attr]
        await until(pilot, lambda: pane.feed.pollers["am"].polls >= polls + 2)  # type: ignore[union-attr]
        assert pane.arranged.in_collapsed == 3 and pane.table.row_count == 3
        collapsed = pane.table.row(disk.key)
        assert isinstance(collapsed, Group) and (collapsed.silenced, collapsed.firing) == (2, 1)
        pane.set_filter("db")
        await pilot.pause()
        bar = str(pane.query_one(".pane-filter").render())
        assert "/db — 3 of 4 incidents shown, 1 hidden · 3 of them in 1 collapsed group" in bar


async def test_sorting_survives_polls_and_places_new_alerts(am: str) -> None:
    app = make_app(config_for(am), start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(IncidentsPane)
        await until(pilot, lambda: len(pane.snapshot.incidents) == 4)
        pane.table.focus()
        await pilot.press("t", "t", "t")  # severity, age, service
        await pilot.pause()
        assert pane.arrangement.sort is SortKey.SERVICE
        assert re.search(r"serv\S*▼", pane.table.header.plain)
        assert "sort service ▼" in str(pane.border_subtitle)
        order = pane.table.row_keys()
        pane.table.move_cursor(2)
        cursor = pane.table.cursor_key
        polls = pane.feed.pollers["am"].polls  # type: ignore[union-attr]
        await until(pilot, lambda: pane.feed.pollers["am"].polls >= polls + 3)  # type: ignore[union-attr]
        assert pane.table.row_keys() == order and pane.table.cursor_key == cursor
        assert pane.arrangement.sort is SortKey.SERVICE
        assert re.search(r"serv\S*▼", pane.table.header.plain)
        # a new alert for service "api" sorts first by service; the cursor stays on its alert
        post_alerts(am, [{"labels": {"alertname": "ApiDown", "severity": "info",
                                     "service": "api"}}])
        await until(pilot, lambda: len(pane.snapshot.incidents) == 5)
        await pilot.pause()
        first = pane.table.row(pane.table.row_keys()[0])
        assert first is not None and getattr(first, "service", None) == "api"
        assert pane.table.row_keys()[1:] == order and pane.table.cursor_key == cursor
