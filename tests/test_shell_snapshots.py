"""Snapshots of the cockpit shell: frozen clock, polling off, no reachable provider.

Regenerate with ``pytest tests/test_shell_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shell_helpers import FIXED, make_config, shell_app
from textual.widgets import Input

from sre_cockpit.core.models import HealthState, ProviderHealth


def _settle(keys: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await app.started.wait()
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        for widget in app.query(Input):  # no blinking cursor in a snapshot
            widget.cursor_blink = False
        await pilot.pause()

    return run_before


def test_shell_80x24(snap_compare: Any) -> None:
    assert snap_compare(shell_app(), terminal_size=(80, 24), run_before=_settle())


def test_shell_160x48(snap_compare: Any) -> None:
    assert snap_compare(shell_app(), terminal_size=(160, 48), run_before=_settle())


def test_shell_80x24_second_pane_after_tab(snap_compare: Any) -> None:
    assert snap_compare(shell_app(), terminal_size=(80, 24), run_before=_settle(("tab",)))


def test_help_80x24(snap_compare: Any) -> None:
    assert snap_compare(shell_app(), terminal_size=(80, 24),
                        run_before=_settle(("question_mark",)))


def test_command_line_error_80x24(snap_compare: Any) -> None:
    keys = ("colon", "c", "t", "x", "space", "p", "r", "d", "o", "enter")
    assert snap_compare(shell_app(), terminal_size=(80, 24), run_before=_settle(keys))


def test_command_line_160x48(snap_compare: Any) -> None:
    keys = ("colon", "t", "h")
    assert snap_compare(shell_app(), terminal_size=(160, 48), run_before=_settle(keys))


def test_header_badges_read_only_context_160x48(snap_compare: Any) -> None:
    config = make_config({"staging": {"read_only": True, "providers": {
        "prom": {"type": "prometheus", "url": "http://127.0.0.1:9"},
        "loki": {"type": "loki", "url": "http://127.0.0.1:9"},
        "alerts": {"type": "alertmanager", "url": "http://127.0.0.1:9"},
        "pd": {"type": "nosuchtype", "url": "http://127.0.0.1:9"},
    }}}, default_context="staging")
    app = shell_app(config)

    async def run_before(pilot: Any) -> None:
        await _settle()(pilot)
        reports = [
            ("slos", ProviderHealth("prom", HealthState.OK, last_ok_at=FIXED - timedelta(seconds=4))),
            ("logs", ProviderHealth("loki", HealthState.STALE,
                                    last_ok_at=FIXED - timedelta(minutes=2), error="timeout")),
            ("incidents", ProviderHealth("alerts", HealthState.ERROR, error="connection refused")),
        ]
        for pane_id, health in reports:  # what the app does with each feed's sources
            app.header.update_health(health, source=pane_id)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_shell_ansi_16_theme_80x24(snap_compare: Any) -> None:
    app = shell_app(make_config({"prod": {}}, ui={"theme": "ansi-16"}))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle())
