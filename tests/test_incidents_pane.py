"""Incidents pane behaviour with a pilot: merge, in-place updates, actions, selection, focus,
and what the pane says when its sources fail (every one, or one of them)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from incidents_helpers import MemoryIncidents, PaneApp, incident, polled_pane, runtime_with
from textual.widgets import Static

from sre_cockpit.core.models import IncidentStatus, Severity
from sre_cockpit.providers.base import ProviderError
from sre_cockpit.ui.clipboard import osc52
from sre_cockpit.ui.clipboard import safe_link as markup_safe_url
from sre_cockpit.ui.dialogs import ConfirmActionDialog
from sre_cockpit.ui.incidents.grid import IncidentTable
from sre_cockpit.ui.incidents.view import IncidentsPane


def table_keys(app: PaneApp) -> list[str]:
    return app.query_one(IncidentTable).row_keys()


def cell(app: PaneApp, key: str, column: str) -> str:
    return app.query_one(IncidentsPane).cells(key)[column]


async def settle(pilot: object, app: PaneApp, predicate: object, tries: int = 100) -> None:
    for _ in range(tries):
        if predicate():  # type: ignore[operator]
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("condition never became true")


async def test_no_provider_explains() -> None:
    app = PaneApp(runtime_with([]))
    async with app.run_test() as pilot:
        await pilot.pause()
        empty = app.query_one(".pane-empty", Static)
        assert empty.display
        assert "no incident provider configured" in str(empty.render())
        assert "contexts.staging.providers" in str(empty.render())


async def test_merge_sort_and_in_place_updates() -> None:
    a = MemoryIncidents("alpha", [
        incident(1, severity=Severity.WARNING, minutes_ago=5),
        incident(2, severity=Severity.CRITICAL, status=IncidentStatus.ACKNOWLEDGED),
        incident(3, severity=Severity.CRITICAL, minutes_ago=30),
    ])
    b = MemoryIncidents("beta", [incident(4, severity=Severity.CRITICAL, minutes_ago=2)])
    async with polled_pane(runtime_with([a, b]), size=(160, 30)) as (app, pilot, _pane):
        # triggered first; critical before warning; newest first within a severity
        assert table_keys(app) == ["beta:INC004", "alpha:INC003", "alpha:INC001", "alpha:INC002"]
        table = app.query_one(IncidentTable)
        table.move_cursor(row=2)  # alpha:INC001
        await pilot.pause()
        scroll_before = table.scroll_y
        # a poll that changes one row, adds one, and removes one
        a.state["INC001"] = replace(a.state["INC001"], title="renamed")
        del a.state["INC003"]
        b.state["INC005"] = replace(incident(5, severity=Severity.INFO), provider="beta")
        await app.poll_now()
        await pilot.pause()
        assert table_keys(app) == ["beta:INC004", "alpha:INC001", "beta:INC005", "alpha:INC002"]
        assert table.cursor_key == "alpha:INC001"  # the cursor followed its incident
        assert table.scroll_y == scroll_before
        assert cell(app, "alpha:INC001", "title") == "renamed"
        assert app.snapshots and len(app.snapshots[-1].incidents) == 4


async def test_one_backend_down_does_not_blank_the_other() -> None:
    good = MemoryIncidents("good", [incident(1)])
    bad = MemoryIncidents("bad", [incident(2)])
    bad.fail = "bad: HTTP 503 from http://x: upstream down"
    app = PaneApp(runtime_with([good, bad]), start_polling=True)
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(IncidentsPane)
        await settle(pilot, app, lambda: table_keys(app) == ["good:INC001"])
        await settle(pilot, app, lambda: pane.snapshot.source("bad") is not None and pane.snapshot.source("bad").error)
        assert "upstream down" in (pane.snapshot.source("bad").error or "")


async def test_ack_from_keyboard_confirms_and_reconciles() -> None:
    mem = MemoryIncidents("mem", [incident(1), incident(2, minutes_ago=50)])
    async with polled_pane(runtime_with([mem])) as (app, pilot, pane):
        await pilot.press("a")
        await settle(pilot, app, lambda: isinstance(app.screen, ConfirmActionDialog))
        body = str(app.screen.query_one(".dialog-body", Static).render())
        assert "memory://mem/incidents" in body and "INC001" in body and "PUT" in body
        await pilot.press("y")
        await settle(pilot, app, lambda: mem.performed == [("ack", ("INC001",))])
        await settle(pilot, app, lambda: pane.snapshot.incidents[-1].status is IncidentStatus.ACKNOWLEDGED)
        # reconciled by the next poll: the backend says acknowledged too
        await app.poll_now()
        await pilot.pause()
        assert {i.id: i.status for i in pane.snapshot.incidents}["INC001"] is IncidentStatus.ACKNOWLEDGED


async def test_cancel_sends_nothing_and_bulk_select() -> None:
    mem = MemoryIncidents("mem", [incident(n, minutes_ago=n) for n in range(1, 5)])
    async with polled_pane(runtime_with([mem])) as (app, pilot, pane):
        await pilot.press("r")
        await settle(pilot, app, lambda: isinstance(app.screen, ConfirmActionDialog))
        await pilot.press("n")
        await pilot.pause()
        assert mem.performed == []
        await pilot.press("x", "down", "space", "down")
        await pilot.pause()
        assert pane.selected == {"mem:INC001", "mem:INC002"}
        await pilot.press("r")
        await settle(pilot, app, lambda: isinstance(app.screen, ConfirmActionDialog))
        await pilot.press("y")
        await settle(pilot, app, lambda: bool(mem.performed))
        assert mem.performed == [("resolve", ("INC001", "INC002"))]
        await app.poll_now()
        await settle(pilot, app, lambda: table_keys(app) == ["mem:INC003", "mem:INC004"])


async def test_read_only_refuses_and_unsupported_is_greyed() -> None:
    mem = MemoryIncidents("mem", [incident(1)], unsupported={"ack": "mem cannot ack: use the web UI"})
    async with polled_pane(runtime_with([mem])) as (app, pilot, pane):
        assert pane.check_action("ack", ()) is None
        assert pane.check_action("resolve", ()) is True
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmActionDialog)
        assert any("mem cannot ack" in n.message for n in app._notifications)
        assert mem.performed == []

    ro = MemoryIncidents("mem", [incident(1)])
    async with polled_pane(runtime_with([ro], read_only=True)) as (app, pilot, pane):
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmActionDialog)
        assert any("read-only" in n.message for n in app._notifications)
        assert ro.performed == []


async def test_focus_unfocus_note_and_filter() -> None:
    mem = MemoryIncidents("mem", [incident(1, service="checkout"), incident(2, service="search")])
    async with polled_pane(runtime_with([mem])) as (app, pilot, pane):
        await pilot.press("enter")
        await pilot.pause()
        focused = [m for m in app.messages if isinstance(m, IncidentsPane.IncidentFocused)]
        assert focused[-1].incident is not None and focused[-1].incident.id == "INC001"
        assert cell(app, "mem:INC001", "id").startswith("▶")
        await pilot.press("escape")
        await pilot.pause()
        focused = [m for m in app.messages if isinstance(m, IncidentsPane.IncidentFocused)]
        assert focused[-1].incident is None
        await pilot.press("n")
        await pilot.pause()
        notes = [m for m in app.messages if isinstance(m, IncidentsPane.NoteRequested)]
        assert [i.id for i in notes[-1].incidents] == ["INC001"]
        pane.set_filter("search")
        await pilot.pause()
        assert table_keys(app) == ["mem:INC002"]
        pane.set_filter("nothing-like-this")
        await pilot.pause()
        assert "no incident matches" in str(app.query_one(".incidents-empty", Static).render())
        pane.set_filter("")
        await pilot.pause()
        assert len(table_keys(app)) == 2
        # the README's "/" key: /regex/ and a leading ! that inverts (both were taken as words
        # that matched nothing)
        pane.set_filter("/INC00[2-9]/")
        await pilot.pause()
        assert table_keys(app) == ["mem:INC002"]
        pane.set_filter("!checkout")
        await pilot.pause()
        assert table_keys(app) == ["mem:INC002"]
        pane.set_filter("!/search|checkout/")
        await pilot.pause()
        assert table_keys(app) == []
        pane.set_filter("/[unclosed/")  # an invalid regex keeps the previous filter
        await pilot.pause()
        assert table_keys(app) == []
        pane.set_filter("")
        await pilot.pause()
        assert len(table_keys(app)) == 2


async def test_no_open_incidents_names_sources() -> None:
    mem = MemoryIncidents("mem", [])
    async with polled_pane(runtime_with([mem]), size=(120, 20)) as (app, _pilot, _pane):
        text = str(app.query_one(".incidents-empty", Static).render())
        assert "no open incidents" in text and "mem ✓ 0s ago" in text


async def test_copy_url_is_osc52_and_a_link(monkeypatch: object) -> None:
    mem = MemoryIncidents("mem", [incident(1, url="https://pd.example/incidents/P1?x=[b]")])
    async with polled_pane(runtime_with([mem]), size=(120, 20)) as (app, pilot, _pane):
        await pilot.press("o")
        await pilot.pause()
        assert app.clipboard == "https://pd.example/incidents/P1?x=%5Bb%5D"
        note = [n for n in app._notifications if n.title == "URL"][-1]
        assert note.markup and "[link=" in note.message
    assert markup_safe_url("javascript:alert(1)") is None
    assert markup_safe_url("https://x/ a") is None
    wrapped = osc52("hi", tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]52;c;aGk=") and wrapped.endswith("\x1b\\")
    assert osc52("hi", tmux=False) == "\x1b]52;c;aGk=\x07"


def test_matchers_round_trip_and_hostile_values_are_escaped() -> None:
    from sre_cockpit.ui.dialogs import format_matchers, parse_matchers

    matchers = (("alertname", "Disk \"full\"", False, True), ("pod", "a-.*", True, True),
                ("env", "dev", False, False), ("x", "\x1b]52;c;Zg==\x07\u202e", False, True),
                ("team", "équipe", False, True))
    text = format_matchers(matchers)
    assert "\x1b" not in text and "\u202e" not in text and "équipe" in text
    assert 'pod=~"a-.*"' in text and 'env!="dev"' in text
    assert parse_matchers(text) == matchers
    with pytest.raises(ValueError, match="line 1"):
        parse_matchers("not a matcher")
    with pytest.raises(ValueError, match="empty string"):
        parse_matchers('a=~".*"')
    with pytest.raises(ValueError, match="at least one"):
        parse_matchers("  \n")


async def test_every_source_failing_is_explained_not_waiting() -> None:
    # Seen with `simulate --fault alertmanager:garbage --fault pagerduty:error500`: both sources
    # had failed, yet the pane body read "waiting for alerts, pd…" for as long as it ran.
    alerts = MemoryIncidents("alerts", [incident(1)])
    pd = MemoryIncidents("pd", [incident(2)])
    alerts.fail = "alerts: http://x/api/v2/alerts did not answer JSON (HTTP 200)"
    pd.fail = "pd: HTTP 500 for GET /incidents: Internal Server Error"
    app = PaneApp(runtime_with([alerts, pd]), start_polling=True)
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(IncidentsPane)
        text = ""
        for _ in range(150):
            await pilot.pause(0.02)
            text = str(app.query_one(".incidents-empty", Static).render())
            if "pd failed" in text and "alerts failed" in text:
                break
        assert "every incident provider is failing" in text
        assert "Internal Server Error" in text and "did not answer JSON" in text
        assert "waiting for" not in text and "pd failed: HTTP 500" in text
        assert {h.provider for h in pane.snapshot.sources} == {"alerts", "pd"}


async def test_one_failed_one_answering_still_says_no_open_incidents() -> None:
    alerts = MemoryIncidents("alerts", [])
    alerts.fail = "alerts: connection refused"
    pd = MemoryIncidents("pd", [])
    async with polled_pane(runtime_with([alerts, pd]), size=(160, 30)) as (app, _pilot, _pane):
        text = str(app.query_one(".incidents-empty", Static).render())
        # pd answered (no incidents): the pane says so; the failing one is named in the health line
        assert "no open incidents" in text


async def test_stale_provider_rows_stay_and_are_marked() -> None:
    mem = MemoryIncidents("mem", [incident(1)])
    app = PaneApp(runtime_with([mem]), start_polling=False)
    async with app.run_test(size=(160, 30)) as pilot:
        app.query_one(IncidentsPane)
        await app.poll_now()
        mem.fail = "mem: HTTP 502 from http://mem: bad gateway"
        await app.poll_now()
        await pilot.pause()
        assert table_keys(app) == ["mem:INC001"]  # last good data stays
        assert cell(app, "mem:INC001", "source").startswith("⚠ mem")
        mem.fail = None
        await app.poll_now()
        await pilot.pause()
        assert cell(app, "mem:INC001", "source") == "mem"


async def test_rate_limited_provider_says_until_when() -> None:
    mem = MemoryIncidents("pd", [incident(1)])
    app = PaneApp(runtime_with([mem]), start_polling=False)
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(IncidentsPane)
        await app.poll_now()
        mem.fail, mem.fail_retry_after = "pd: rate limited by PagerDuty (429)", 20.0
        await app.poll_now()
        await pilot.pause()
        line = str(pane.query_one(".pane-health").render())
        assert "rate limited until 14:03:20" in line  # frozen clock 14:03:00 + 20 s
        assert table_keys(app) == ["pd:INC001"]


async def test_note_is_offered_where_the_provider_cannot_take_notes() -> None:
    """Issue 7: "a provider that cannot take notes keeps them local" — `n` on an Alertmanager
    alert or in a read-only context opens the durable note editor (the journal marks the note
    "local only"); it used to be refused with the provider's reason."""
    cannot = MemoryIncidents("mem", [incident(1)],
                             unsupported={"note": "mem alerts cannot carry notes"})
    for runtime in (runtime_with([cannot]), runtime_with([MemoryIncidents("mem", [incident(1)])],
                                                         read_only=True)):
        async with polled_pane(runtime) as (app, pilot, pane):
            assert pane.check_action("note", ()) is True
            await pilot.press("n")
            await pilot.pause()
            notes = [m for m in app.messages if isinstance(m, IncidentsPane.NoteRequested)]
            assert notes and [i.id for i in notes[-1].incidents] == ["INC001"]
            assert not any("cannot carry notes" in n.message for n in app._notifications)


class OnCallIncidents(MemoryIncidents):
    """A PagerDuty-like source that also says who is on call."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.oncall_calls = 0
        self.oncall_fail = False

    async def oncall(self) -> list[str]:
        self.oncall_calls += 1
        if self.oncall_fail:
            raise ProviderError("pd: rate limited by PagerDuty (429)")
        return ["Dana Whitfield (L1 Checkout)", "[b]Ravi[/b]\x1b]52;c;aGk=\x07 (L2 Checkout)",
                "Tim (L3 Checkout)"]


async def test_who_is_on_call_is_shown_and_asked_sparingly() -> None:
    # PagerDuty's on-call ("who is on call, for the header") was fetched by nothing
    pd = OnCallIncidents("pd", [incident(1)])
    async with polled_pane(runtime_with([pd]), size=(160, 30)) as (app, pilot, pane):
        line = str(pane.query_one(".pane-health").render())
        assert "on call (pd): Dana Whitfield (L1 Checkout), [b]Ravi[/b]␛]52;c;aGk=␇ (L2 Checkout) +1" \
            in line
        assert "\x1b" not in line
        pd.oncall_fail = True
        await app.poll_now()  # within ONCALL_EVERY_S: not asked again, answer kept
        await pilot.pause()
        assert pd.oncall_calls == 1
        assert "on call (pd): Dana Whitfield" in str(pane.query_one(".pane-health").render())
