"""Keys typed in one terminal read ("2t", ":x", "/err", "?" esc "2t") reach the widget that has
the focus after the previous key, never the pane that had it before.

``pilot.press`` waits for the app to go idle after every key, which hides the bug; ``burst``
posts all key events at once, like the driver does for one read of the terminal.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from shell_helpers import frozen, make_config, shell_app
from textual import events

from sre_cockpit.ui.app import BootInfo, boot_app
from sre_cockpit.ui.commandline import CommandLine
from sre_cockpit.ui.filterprompt import FilterPrompt
from sre_cockpit.ui.logs.view import LogPane

WIDE = (160, 48)
SMALL = (80, 24)
CHARS = {"colon": ":", "slash": "/", "question_mark": "?", "space": " "}


def burst(app: Any, *keys: str) -> None:
    """Post every key at once, as one terminal read delivers them (no idle wait between)."""
    for key in keys:
        event = events.Key(key, CHARS.get(key, key if len(key) == 1 else None))
        event.set_sender(app)
        app._driver.send_message(event)


def _config() -> Any:
    # a Loki on a closed port: the log pane is real and focusable, nothing answers
    return make_config({"prod": {"providers": {"loki": {"type": "loki",
                                                        "url": "http://127.0.0.1:9"}}}})


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()


def _log_view(app: Any) -> Any:
    return app.pane("logs").query_one("#log-view")


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["wide", "compact"])
@pytest.mark.parametrize(("before", "keys"), [
    ((), ("2", "t")),
    ((), ("tab", "t")),
    (("3",), ("shift+tab", "t")),
    ((), ("2", "z", "t")),
    (("2",), ("z", "z", "t")),
    ((), ("colon", "escape", "2", "t")),
    ((), ("slash", "escape", "2", "t")),
    ((), ("question_mark", "escape", "2", "t")),
], ids=["2t", "tab-t", "shift+tab-t", "2zt", "zzt", "colon-esc-2t", "slash-esc-2t",
        "help-esc-2t"])
async def test_key_after_a_focus_move_in_the_same_read_reaches_the_new_pane(
        size: tuple[int, int], before: tuple[str, ...], keys: tuple[str, ...]) -> None:
    app = shell_app(_config())
    async with app.run_test(size=size) as pilot:
        await app.started.wait()
        await _settle(pilot)
        if before:
            await pilot.press(*before)
            await _settle(pilot)
        view = _log_view(app)
        assert view.show_ts is False
        burst(app, *keys)
        await _settle(pilot)
        assert app.active_pane == "logs"
        assert app.focused is view
        assert view.show_ts is True, f"'t' of {keys} was lost"
        assert app.query_one(CommandLine).input.value == ""
        assert app.query_one(FilterPrompt).input.value == ""


async def test_text_typed_right_after_colon_lands_in_the_command_line() -> None:
    app = shell_app(_config())
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await _settle(pilot)
        burst(app, "colon", "q", "2", "z", "slash")
        await _settle(pilot)
        line = app.query_one(CommandLine)
        assert line.is_open and line.input.value == "q2z/"
        assert app.active_pane == "incidents" and app.is_running  # nothing ran as a binding


async def test_filter_typed_in_one_read_is_applied_to_the_pane_chosen_first() -> None:
    app = shell_app(_config())
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await _settle(pilot)
        burst(app, "2", "f", "e", "r", "r", "enter")  # in the log pane ``f`` filters
        await _settle(pilot)
        assert app.filters == {"logs": "err"}
        assert not app.query_one(FilterPrompt).is_open


async def test_search_typed_in_one_read_goes_to_the_log_search() -> None:
    app = shell_app(_config())
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await _settle(pilot)
        burst(app, "2", "slash", "e", "r", "r", "enter")  # in the log pane ``/`` searches
        await _settle(pilot)
        pane = app.pane("logs")
        assert isinstance(pane, LogPane) and pane.search_text == "err"
        assert app.filters == {} and not app.query_one(FilterPrompt).is_open


async def test_pilot_press_without_pause_toggles_the_log_pane_timestamps() -> None:
    app = shell_app(_config())
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await _settle(pilot)
        await pilot.press("2", "t")
        await pilot.pause()
        assert _log_view(app).show_ts is True


# ----------------------------------------------------------------------------- start-up


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["wide", "compact"])
async def test_keys_typed_while_starting_are_replayed_in_order_once_panes_attach(
        size: tuple[int, int]) -> None:
    config = _config()
    boot = BootInfo(context="prod", danger=True, read_only=False, providers=("loki",))
    loaded = threading.Event()

    def slow_loader() -> Any:  # the config is still being read while the operator types
        loaded.wait(5)
        return config

    app = boot_app(boot, slow_loader, clock=frozen)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert not app.started.is_set()
        burst(app, "2", "t", "u")  # u: UTC/local — a second pane key, order must hold
        await pilot.pause()
        assert type(app.pane("logs")).__name__ == "StartingPane"
        loaded.set()
        await app.started.wait()
        await _settle(pilot)
        view = _log_view(app)
        assert app.active_pane == "logs" and app.focused is view
        assert view.show_ts is True and view.utc is False


async def test_ctrl_q_is_not_held_back_while_starting() -> None:
    boot = BootInfo(context="prod", danger=True, read_only=False, providers=())
    loaded = threading.Event()

    def slow_loader() -> Any:
        loaded.wait(5)
        return make_config({"prod": {}})

    app = boot_app(boot, slow_loader, clock=frozen)
    try:
        async with app.run_test(size=SMALL) as pilot:
            await pilot.pause()
            burst(app, "ctrl+q")
            for _ in range(40):
                if not app.is_running or app.return_code is not None:
                    break
                await pilot.pause(0.05)
            assert app.return_code is not None or not app.is_running
    finally:
        loaded.set()


async def test_logql_typed_right_after_l_lands_in_the_query_editor() -> None:
    app = shell_app(_config())
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await _settle(pilot)
        await pilot.press("2")
        await _settle(pilot)
        editor = app.pane("logs").query_one("#log-query")
        editor_was = editor.value
        burst(app, "l", "space", "x", "t")
        await _settle(pilot)
        assert app.focused is editor
        assert editor.value == editor_was + " xt"
        assert _log_view(app).show_ts is False  # the t was text, not the binding
