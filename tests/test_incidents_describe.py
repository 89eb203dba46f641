"""The describe view (``d``) and runbooks (``b``) in the incidents pane, with a pilot: every
field, links in full, copy any field (OSC 52), hostile text neutralised, focus from inside,
usable at 80×24; the runbook marker and its link checks."""

from __future__ import annotations

import json
from dataclasses import replace
from types import MappingProxyType

from incidents_helpers import MemoryIncidents, incident, polled_pane, runtime_with
from textual.widgets import OptionList

from sre_cockpit.core.models import Incident
from sre_cockpit.ui.incidents.describe import DescribeScreen, describe_fields, field_value
from sre_cockpit.ui.incidents.view import IncidentsPane

LONG_LINK = "https://grafana.example/d/abc/checkout?orgId=1&var-service=checkout&from=now-6h" \
            "&to=now&refresh=30s&viewPanel=" + "7" * 60
HOSTILE = "pwn \x1b]52;c;ZXZpbA==\x07 \x1b]0;title\x07 \u202eevil [@click=app.quit]x[/]"


def described() -> Incident:
    base = incident(1, title="checkout 5xx above 2%", url=LONG_LINK)
    details = {"fingerprint": "921949919c05b929c05b", "generatorURL": LONG_LINK,
               "labels.alertname": "CheckoutErrors", "labels.team": HOSTILE,
               "annotations.description": "line one\nline two\n" + HOSTILE,
               "annotations.runbook_url": "https://runbooks.example/checkout"}
    raw = json.dumps({"labels": {"alertname": "CheckoutErrors"}, "fingerprint": "9219"})
    return replace(base, details=MappingProxyType(details), raw=raw,
                   runbook_url="https://runbooks.example/checkout?q=[b]")


def test_fields_in_order_with_sections_and_the_raw_object() -> None:
    from incidents_helpers import FROZEN

    fields = describe_fields(described(), FROZEN)
    names = [(f.section, f.name) for f in fields]
    assert names[:3] == [("incident", "id"), ("incident", "provider"), ("incident", "title")]
    assert ("incident", "runbook") in names and ("details", "generatorURL") in names
    assert ("labels", "alertname") in names and ("annotations", "description") in names
    assert names[-1] == ("raw", "object")
    raw = next(f for f in fields if f.section == "raw").value
    assert raw.startswith("{") and '"alertname": "CheckoutErrors"' in raw  # indented JSON
    team = next(f for f in fields if f.name == "team")
    shown = field_value(team).plain
    assert "\x1b" not in shown and "\u202e" not in shown and "␛]52;c;" in shown
    assert "[@click=app.quit]" in shown  # literal, never markup
    link = next(f for f in fields if f.name == "generatorURL")
    assert link.is_link and field_value(link).plain == LONG_LINK  # in full


async def test_describe_copy_runbook_focus_and_close_at_80x24() -> None:
    mem = MemoryIncidents("mem", [described(), incident(2)])
    async with polled_pane(runtime_with([mem]), size=(80, 24)) as (app, pilot, pane):
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DescribeScreen)
        options = screen.query_one(OptionList)
        assert options.size.height >= 15  # most of the 24 rows are fields
        # the first field is highlighted; c copies it
        assert screen.highlighted() is not None and screen.highlighted().name == "id"
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == "INC001"
        # a link field: copied percent-encoded, shown as a hyperlink
        index = next(n for n, f in enumerate(screen.fields) if f.name == "generatorURL")
        options.highlighted = next(n for n in range(options.option_count)
                                   if options.get_option_at_index(n).id == str(index))
        await pilot.press("enter")
        await pilot.pause()
        assert app.clipboard == LONG_LINK
        assert any(n.markup and "[link=" in n.message for n in app._notifications)
        # the hostile label: what is copied is the neutralised text
        team = next(n for n, f in enumerate(screen.fields) if f.name == "team")
        options.highlighted = next(n for n in range(options.option_count)
                                   if options.get_option_at_index(n).id == str(team))
        await pilot.press("c")
        await pilot.pause()
        assert "\x1b" not in app.clipboard and "␛]52;c;" in app.clipboard
        # the last field can be reached at 80×24 (the view scrolls)
        await pilot.press("end")
        await pilot.pause()
        assert options.scroll_y > 0
        await pilot.press("b")
        await pilot.pause()
        assert app.clipboard == "https://runbooks.example/checkout?q=%5Bb%5D"
        await pilot.press("f")
        await pilot.pause()
        assert not isinstance(app.screen, DescribeScreen)
        focused = [m for m in app.messages if isinstance(m, IncidentsPane.IncidentFocused)]
        assert focused[-1].incident is not None and focused[-1].incident.id == "INC001"
        assert pane.cells("mem:INC001")["id"].startswith("▶")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DescribeScreen) and app.is_running


async def test_runbook_marker_and_key() -> None:
    mem = MemoryIncidents("mem", [
        replace(incident(1), runbook_url="https://runbooks.example/a"),
        replace(incident(2, minutes_ago=20), runbook_url="javascript:alert(1)"),
        incident(3, minutes_ago=30),
    ])
    async with polled_pane(runtime_with([mem]), size=(160, 30)) as (app, pilot, pane):
        assert [pane.cells(f"mem:INC00{n}")["runbook"] for n in (1, 2, 3)] == ["↗", "", ""]
        await pilot.press("b")
        await pilot.pause()
        assert app.clipboard == "https://runbooks.example/a"
        note = [n for n in app._notifications if n.title == "runbook"][-1]
        assert note.markup and "[link=" in note.message
        await pilot.press("down", "b")
        await pilot.pause()
        assert app.clipboard == "https://runbooks.example/a"  # not replaced
        assert "not an http(s) link" in list(app._notifications)[-1].message
        await pilot.press("down", "b")
        await pilot.pause()
        assert "has no runbook link" in list(app._notifications)[-1].message


def test_help_lists_the_describe_and_oncall_keys_before_either_was_opened() -> None:
    """``?`` names every dialog's keys in a fresh process, not only those opened so far (the
    describe module is imported on the first ``d``)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import sre_cockpit.ui.app\n"
        "from sre_cockpit.ui.startup import preload_dialogs\n"
        "from sre_cockpit.ui.panes import cockpit_dialogs\n"
        "assert 'sre_cockpit.ui.incidents.describe' not in sys.modules\n"
        "preload_dialogs()\n"
        "print(' '.join(sorted(c.__name__ for c in cockpit_dialogs())))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert "DescribeScreen" in out
    assert {"ReassignDialog", "EscalateDialog", "SnoozeDialog", "StatusUpdateDialog"} <= set(out)
