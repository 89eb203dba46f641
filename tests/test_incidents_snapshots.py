"""Snapshot tests of the incidents pane (80×24 and 160×48), hostile titles and the confirm
dialog, with a frozen clock and polling driven by the test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from incidents_helpers import FROZEN, MemoryIncidents, PaneApp, incident, runtime_with
from textual.pilot import Pilot

from sre_cockpit.core.models import IncidentStatus, Severity
from sre_cockpit.providers.alertmanager import AlertmanagerOptions, AlertmanagerProvider
from sre_cockpit.providers.base import ProviderEnv
from sre_cockpit.providers.http import build_client
from sre_cockpit.ui.dialogs import ConfirmActionDialog
from sre_cockpit.ui.incidents.view import IncidentsPane

HOSTILE = [
    "[@click=app.quit]click me[/]",
    "[b]not bold[/b] and [link=https://evil.example]x[/link]",
    "clipboard \x1b]52;c;ZXZpbA==\x07 write",
    "bidi \u202egnp.exe\u202c trick",
]


def cockpit_app() -> PaneApp:
    mem = MemoryIncidents("pagerduty", [
        incident(1, title="Checkout 5xx above 2%", severity=Severity.CRITICAL, minutes_ago=12),
        incident(2, title="Search latency p99 > 800ms", severity=Severity.HIGH,
                 status=IncidentStatus.ACKNOWLEDGED, service="search", minutes_ago=95),
        incident(3, title="Disk 91% on db-2", severity=Severity.WARNING, service="postgres",
                 assignees=("Earline Greenholt", "Tim Wright"), minutes_ago=3 * 60),
        incident(4, title="Certificate expires in 6 days", severity=Severity.INFO,
                 service=None, assignees=(), minutes_ago=2 * 24 * 60),
    ])
    hostile = MemoryIncidents("team-api", [
        incident(10 + n, title=t, severity=Severity.UNKNOWN, service="x\x1b[31mred",
                 minutes_ago=40 + n) for n, t in enumerate(HOSTILE)])
    return PaneApp(runtime_with([mem, hostile]), start_polling=False)


async def fill(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, PaneApp)
    await app.poll_now()
    await pilot.pause()


def test_pane_80x24(snap_compare: Any) -> None:
    assert snap_compare(cockpit_app(), terminal_size=(80, 24), run_before=fill)


def test_pane_160x48(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await fill(pilot)
        await pilot.press("down", "x", "down", "x", "down", "enter")
        await pilot.pause()

    assert snap_compare(cockpit_app(), terminal_size=(160, 48), run_before=run_before)


async def test_hostile_titles_render_literally() -> None:
    """The text the table holds is the sanitised literal title: no markup was interpreted."""
    app = cockpit_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await fill(pilot)
        pane = app.query_one(IncidentsPane)
        titles = [pane.cells(f"team-api:INC{10 + n:03d}")["title"] for n in range(4)]
        assert titles[0] == "[@click=app.quit]click me[/]"
        assert "[b]not bold[/b]" in titles[1] and "[link=https://evil.example]" in titles[1]
        assert "\x1b" not in titles[2] and "\x07" not in titles[2]
        assert "\u202e" not in titles[3]
        for n in range(4):  # plain text lines: no span carries an action or a link
            line = pane.table.line_text(f"team-api:INC{10 + n:03d}")
            assert line is not None
            assert all("@click" not in str(s.style) and "link" not in str(s.style)
                       for s in line.spans)
        await pilot.click(offset=(60, 8))  # clicking a hostile row must not quit
        await pilot.pause()
        assert app.is_running


def am_fixture_app(fixtures_dir: Path) -> PaneApp:
    alerts = (fixtures_dir / "alertmanager_get_alerts.json").read_text()
    silences = (fixtures_dir / "alertmanager_get_silences.json").read_text()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/silences":
            return httpx.Response(200, text=silences)
        return httpx.Response(200, text=alerts)

    options = AlertmanagerOptions.model_validate({"type": "alertmanager", "url": "http://alertmanager:9093"})
    client = build_client(options, provider="am", transport=httpx.MockTransport(handler))
    provider = AlertmanagerProvider("am", options, ProviderEnv(user="oncall-bob"), client=client)
    provider.clock = lambda: FROZEN
    return PaneApp(runtime_with([provider]), start_polling=False)


def test_confirm_silence_dialog_80x24(snap_compare: Any, fixtures_dir: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await fill(pilot)
        await pilot.press("s")
        for _ in range(50):
            await pilot.pause(0.02)
            if pilot.app.screen.__class__.__name__ == "SilenceDialog":
                break
        await pilot.press("ctrl+s")
        for _ in range(50):
            await pilot.pause(0.02)
            if isinstance(pilot.app.screen, ConfirmActionDialog):
                break
        assert isinstance(pilot.app.screen, ConfirmActionDialog)

    assert snap_compare(am_fixture_app(fixtures_dir), terminal_size=(80, 24), run_before=run_before)


def test_confirm_dialog_160x48(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await fill(pilot)
        await pilot.press("x", "down", "x", "a")
        for _ in range(50):
            await pilot.pause(0.02)
            if isinstance(pilot.app.screen, ConfirmActionDialog):
                break

    assert snap_compare(cockpit_app(), terminal_size=(160, 48), run_before=run_before)

