"""Reassign, escalate, snooze and status update from the incidents pane (pilot, in-memory
provider): the forms, the confirm dialog with the exact request, optimistic rows, a 429 on the
source line, a directory that cannot answer, and a read-only context."""

from __future__ import annotations

from typing import Any

from incidents_helpers import OnCallMemory, incident, polled_pane, runtime_with
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from sre_cockpit.core.actions import ActionArgs
from sre_cockpit.core.models import IncidentStatus
from sre_cockpit.ui.dialogs import ConfirmActionDialog
from sre_cockpit.ui.oncall_dialogs import (
    EscalateDialog,
    ReassignDialog,
    SnoozeDialog,
    StatusUpdateDialog,
)


async def until(pilot: Pilot[Any], predicate: Any, tries: int = 150) -> None:
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never became true")


def status_text(screen: Any) -> str:
    return str(screen.query_one(".dialog-status", Static).render())


async def test_reassign_searches_the_directory_then_confirms_and_shows_the_new_assignee() -> None:
    pd = OnCallMemory("pd", [incident(1, assignees=("Dana Whitfield",))])
    async with polled_pane(runtime_with([pd]), size=(120, 40)) as (app, pilot, pane):
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ReassignDialog))
        dialog = app.screen
        assert isinstance(dialog, ReassignDialog)
        await until(pilot, lambda: len(dialog.found) == 3)
        assert "3 found" in status_text(dialog)
        await pilot.press(*"ravi")
        await until(pilot, lambda: [a.id for a in dialog.found] == ["PUSER2"])
        assert pd.searches == ["", "ravi"]  # one search per pause in typing, not per key
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        confirm = app.screen
        assert isinstance(confirm, ConfirmActionDialog)
        assert confirm.previews[0].payload["assignee"] == "PUSER2"
        body = str(confirm.query_one(".dialog-body", Static).render())
        assert "memory://pd/reassign" in body and "INC001" in body
        await pilot.press("y")
        await until(pilot, lambda: pd.performed == [("reassign", ("INC001",))])
        await until(pilot, lambda: pane.cells("pd:INC001")["assignee"] == "Ravi Menon")


async def test_a_directory_that_cannot_answer_takes_a_typed_id() -> None:
    pd = OnCallMemory("pd", [incident(1)])
    pd.rate_limit = 30.0
    async with polled_pane(runtime_with([pd]), size=(120, 40)) as (app, pilot, pane):
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ReassignDialog))
        dialog = app.screen
        await until(pilot, lambda: dialog.failed is not None)  # type: ignore[attr-defined]
        assert "429" in status_text(dialog) and "type the id" in status_text(dialog)
        line = str(pane.query_one(".pane-health").render())
        assert "rate limited until 14:03:30" in line
        dialog.query_one(Input).value = "PXYZ123"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        assert app.screen.previews[0].payload["assignee"] == "PXYZ123"  # type: ignore[attr-defined]
        await pilot.press("n")
        await pilot.pause()
        assert pd.performed == []


async def test_escalate_lists_the_policy_levels() -> None:
    pd = OnCallMemory("pd", [incident(1)])
    async with polled_pane(runtime_with([pd]), size=(120, 40)) as (app, pilot, _pane):
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, EscalateDialog))
        dialog = app.screen
        assert isinstance(dialog, EscalateDialog)
        await until(pilot, lambda: len(dialog.levels) == 2)
        options = dialog.query_one(OptionList)
        assert "level 1: Dana Whitfield (escalates after 30 min)" in str(
            options.get_option_at_index(0).prompt)
        assert options.highlighted == 1  # the next level up
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        assert app.screen.previews[0].payload["level"] == 2  # type: ignore[attr-defined]
        await pilot.press("y")
        await until(pilot, lambda: pd.args == [ActionArgs(level=2)])


async def test_snooze_takes_a_duration_and_a_429_is_shown() -> None:
    pd = OnCallMemory("pd", [incident(1, status=IncidentStatus.ACKNOWLEDGED)])
    async with polled_pane(runtime_with([pd]), size=(120, 40)) as (app, pilot, pane):
        await pilot.press("Z")
        await until(pilot, lambda: isinstance(app.screen, SnoozeDialog))
        box = app.screen.query_one(Input)
        assert box.value == "1h"
        box.value = "soon"
        await pilot.press("enter")
        await pilot.pause()
        assert "invalid duration" in status_text(app.screen)
        box.value = "2h"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        assert app.screen.previews[0].payload["duration"] == 7200  # type: ignore[attr-defined]
        pd.rate_limit = 20.0
        await pilot.press("y")
        await until(pilot, lambda: any("429" in n.message for n in app._notifications))
        assert pd.performed == []
        line = str(pane.query_one(".pane-health").render())
        assert "rate limited until 14:03:20" in line


async def test_status_update_sends_the_message() -> None:
    pd = OnCallMemory("pd", [incident(1), incident(2, minutes_ago=30)])
    async with polled_pane(runtime_with([pd]), size=(120, 40)) as (app, pilot, pane):
        await pilot.press("x", "down", "x")  # both incidents
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, StatusUpdateDialog))
        await pilot.press("ctrl+s")  # empty: refused
        await pilot.pause()
        assert "write the update first" in status_text(app.screen)
        await pilot.press(*"Rollback done")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog))
        assert app.screen.previews[0].payload["message"] == "Rollback done"  # type: ignore[attr-defined]
        await pilot.press("y")
        await until(pilot, lambda: pd.updates == [("INC001", "Rollback done"),
                                                  ("INC002", "Rollback done")])
        assert pane.selected == set()


async def test_read_only_context_opens_no_form() -> None:
    pd = OnCallMemory("pd", [incident(1)])
    async with polled_pane(runtime_with([pd], read_only=True), size=(120, 40)) as (app, pilot, pane):
        for key, action in (("A", "reassign"), ("E", "escalate"), ("Z", "snooze"),
                            ("U", "status_update")):
            assert pane.check_action(action, ()) is None  # greyed out in the footer
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.screen_stack[0]
        messages = [n.message for n in app._notifications]
        assert sum("read-only" in m for m in messages) >= 4
        assert pd.performed == [] and pd.searches == []
