"""The cockpit shell in a pilot: layout and breakpoint, every global key, command line, filter,
quit confirmation, keymap remapping, cross-pane routing, NO_COLOR and the fast-start path."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from shell_helpers import FIXED, frozen, make_config, shell_app, visible
from textual.filter import Monochrome, NoColor
from textual.widgets import Input, Static

from sre_cockpit.config.model import ConfigError
from sre_cockpit.core.models import HealthState, Incident, IncidentStatus, ProviderHealth, Severity
from sre_cockpit.ui.app import PANES, BootInfo, PaneSlot, boot_app
from sre_cockpit.ui.commandline import CommandLine
from sre_cockpit.ui.filterprompt import FilterPrompt
from sre_cockpit.ui.header import ContextBadge, ReadOnlyBadge
from sre_cockpit.ui.help import HelpScreen
from sre_cockpit.ui.incidents.view import IncidentsPane
from sre_cockpit.ui.logs.view import LogPane
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import load_view
from sre_cockpit.ui.quit import QuitScreen

WIDE = (160, 48)
SMALL = (80, 24)


def _incident(service: str | None = "checkout") -> Incident:
    return Incident(id="a1", provider="alerts", title="CheckoutDown", status=IncidentStatus.TRIGGERED,
                    severity=Severity.CRITICAL, service=service, started_at=FIXED - timedelta(minutes=9))


class Recorder:
    """Stands in for a pane method and records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


async def _type(pilot: Any, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)


# ----------------------------------------------------------------------------- panes


async def test_real_panes_are_used_whenever_their_module_exists() -> None:
    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        for spec in PANES:
            pane = app.pane(spec.id)
            assert pane is not None
            assert type(pane) is spec.view(), f"{spec.id}: expected the real view"
        assert app.pane_errors == {}


async def test_every_pane_explains_itself_when_nothing_is_configured() -> None:
    app = shell_app(make_config({"prod": {}}), start_polling=True)
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await pilot.pause()
        for pane in app.panes():
            texts = [str(w.render()) for w in pane.query(Static)
                     if visible(w) and str(w.render()).strip()]
            assert texts, f"pane {pane.id} is blank"
        empty = {p.id: str(p.query_one(".pane-empty", Static).render()) for p in app.panes()}
        assert "no incident provider configured" in empty["incidents"]
        assert "log" in empty["logs"] and "configured" in empty["logs"]
        assert "SLO" in empty["slos"]
        assert app.pane_errors == {}


async def test_a_broken_pane_module_gets_a_stand_in_that_says_why(monkeypatch: Any) -> None:
    from sre_cockpit.ui import panes

    def missing() -> Any:
        import sre_cockpit.ui.no_such_logs  # type: ignore[import-not-found]  # noqa: F401
        raise AssertionError("unreachable")

    broken = panes.PaneSpec("logs", "Logs", "log", missing, lambda c: c.logs)
    _cls, error = load_view(broken)
    assert error is not None and "ModuleNotFoundError" in error
    patched = tuple(broken if s.id == "logs" else s for s in PANES)
    from sre_cockpit.ui import app as app_module
    from sre_cockpit.ui import layout, startup, wiring
    for module in (app_module, panes, layout, startup, wiring):
        monkeypatch.setattr(module, "PANES", patched)
    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        logs = app.pane("logs")
        assert logs is not None and issubclass(type(logs), Pane)
        shown = str(logs.query_one(".pane-empty", Static).render())
        assert shown.startswith("log pane unavailable: ModuleNotFoundError")
        assert "logs" in app.pane_errors


# ----------------------------------------------------------------------------- layout, keys


async def test_wide_terminal_shows_all_four_panes_and_reacts_to_resize() -> None:
    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert not app.compact
        slots = {s.pane_id: s for s in app.query(PaneSlot)}
        assert all(visible(s) for s in slots.values())
        inc, slo, logs, tl = (slots[k].region for k in ("incidents", "slos", "logs", "timeline"))
        assert inc.x < slo.x and inc.y == slo.y  # incidents left of SLOs
        assert logs.y > inc.y and logs.x == inc.x and tl.x == slo.x  # logs under incidents
        assert inc.width > slo.width and logs.height > inc.height  # incidents/logs get the room
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        assert app.compact
        assert [s.pane_id for s in slots.values() if visible(s)] == ["incidents"]
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert not app.compact and all(visible(s) for s in slots.values())


async def test_small_terminal_one_pane_switched_by_number_keys_and_tab() -> None:
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        slots = {s.pane_id: s for s in app.query(PaneSlot)}

        def shown() -> list[str]:
            return [pid for pid, s in slots.items() if visible(s)]

        assert shown() == ["incidents"]
        for key, pane_id in (("2", "logs"), ("3", "slos"), ("4", "timeline"), ("1", "incidents")):
            await pilot.press(key)
            await pilot.pause()
            assert app.active_pane == pane_id and shown() == [pane_id]
            assert slots[pane_id].region.height >= 20  # fills the body
        for expected in ("logs", "slos", "timeline", "incidents"):
            await pilot.press("tab")
            await pilot.pause()
            assert shown() == [expected]
        await pilot.press("shift+tab")
        await pilot.pause()
        assert shown() == ["timeline"]


async def test_number_keys_move_focus_into_the_pane() -> None:
    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        for key, pane_id in (("2", "logs"), ("4", "timeline"), ("1", "incidents")):
            await pilot.press(key)
            await pilot.pause()
            pane = app.pane(pane_id)
            focused = app.focused
            if focused is not None:
                assert pane in focused.ancestors_with_self
            assert slot_of(app, pane_id).has_class("-active")


def slot_of(app: Any, pane_id: str) -> PaneSlot:
    return next(s for s in app.query(PaneSlot) if s.pane_id == pane_id)


async def test_z_zooms_the_active_pane_and_restores() -> None:
    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.pane("logs")
        assert app.pane("logs").region.width == WIDE[0]  # type: ignore[union-attr]
        assert visible(app.header)
        await pilot.press("4")  # switching while zoomed zooms the new pane
        await pilot.pause()
        assert app.screen.maximized is app.pane("timeline")
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None


# ----------------------------------------------------------------------------- help


async def test_help_lists_every_active_binding_with_id_and_key() -> None:
    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()  # the panes bound: the focus is where it stays (an empty
        await pilot.pause(0.3)  # incidents pane takes it from its hidden table)
        active = app.screen.active_bindings  # Textual's own view of what the keys do now
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.rows
        by_id = {r.id: r for r in rows}
        for key, binding in active.items():
            if binding.binding.id is None or binding.binding.system:
                continue
            row = by_id.get(binding.binding.id)
            assert row is not None, f"{binding.binding.id} missing from help"
            assert row.active
            assert app.get_key_display(binding.binding.with_key(key)) in row.keys.split()
        for ident in ("cockpit.pane_incidents", "cockpit.zoom", "cockpit.help", "cockpit.command",
                      "cockpit.filter", "cockpit.quit", "cockpit.next_pane", "cockpit.palette"):
            assert ident in by_id
        for pane in app.panes():  # pane keys are listed too, under the pane's title
            assert any(r.scope == (pane.PANE_TITLE or pane.id) for r in rows) or not any(
                b for b in getattr(type(pane), "BINDINGS", []))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


# ----------------------------------------------------------------------------- command line


async def test_ctx_rebuilds_the_runtime_and_reattaches_fresh_panes() -> None:
    config = make_config({"prod": {}, "staging": {"read_only": True},
                          "ops": {"danger": True}})
    app = shell_app(config, start_polling=True)
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        old_runtime = app.cockpit.runtime
        old_panes = app.panes()
        assert app.query_one(ContextBadge).has_class("-danger")
        await pilot.press("colon")
        await _type(pilot, "ctx staging")
        await pilot.press("enter")
        await pilot.pause()
        assert app.cockpit.runtime is not old_runtime and app.cockpit.runtime.context_name == "staging"
        assert not app.query_one(CommandLine).is_open
        new_panes = app.panes()
        assert all(n is not o for n, o in zip(new_panes, old_panes, strict=True))
        assert app.cockpit is not None and app.cockpit.runtime is app.cockpit.runtime
        incidents = app.pane("incidents")
        assert isinstance(incidents, IncidentsPane) and incidents.feed is app.cockpit.incidents
        logs = app.pane("logs")
        assert isinstance(logs, LogPane) and logs.feed is app.cockpit.logs
        assert app.cockpit.logs.runtime is app.cockpit.runtime
        assert not app.query_one(ContextBadge).has_class("-danger")
        assert app.query_one(ReadOnlyBadge).display
        assert "ctx staging" in app.header.text and "READ-ONLY" in app.header.text
        await pilot.press("colon")
        await _type(pilot, "ctx ops")
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(ContextBadge).has_class("-danger")  # danger: true is loud too
        assert "PRODUCTION ops" in app.header.text


async def test_a_command_error_closes_the_line_keeps_the_reason_and_history_recalls() -> None:
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        line = app.query_one(CommandLine)
        await pilot.press("colon")
        await _type(pilot, "ctx prdo")
        await pilot.press("enter")
        await pilot.pause()
        # closed (the keys go back to the pane), the reason where the line was
        assert not line.is_open and line.display
        assert "unknown context 'prdo'" in line.error and "did you mean 'prod'" in line.error
        # the next ':' starts empty (it used to give ':ctx:ctx prod') and clears the reason
        await pilot.press("colon")
        assert line.is_open and line.input.value == "" and line.error == ""
        await _type(pilot, "frobnicate")
        await pilot.press("enter")
        await pilot.pause()
        assert "unknown command :frobnicate" in line.error and not line.is_open
        await pilot.press("colon", "up")
        assert line.input.value == "frobnicate"
        await pilot.press("up")
        assert line.input.value == "ctx prdo"
        await pilot.press("down", "down")
        assert line.input.value == ""  # back to the (empty) line being edited
        await pilot.press("escape")
        assert not line.is_open and not line.display


async def test_theme_command_switches_and_rejects_unknown() -> None:
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert app.theme == "war-room"
        await pilot.press("colon")
        await _type(pilot, "theme daylight")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "daylight"
        await pilot.press("colon")
        await _type(pilot, "theme neon")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "daylight"
        assert "unknown theme 'neon'" in app.query_one(CommandLine).error


async def test_export_writes_the_focused_incidents_draft(monkeypatch: Any) -> None:
    from sre_cockpit.reports import export as export_module  # ui.commands imports it when used
    from sre_cockpit.reports.export import ExportError

    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        calls: list[tuple[Any, str | None]] = []

        async def export(cockpit: Any, incident: Any, path: str | None) -> str:
            calls.append((incident, path))
            return "/tmp/pm.md"

        monkeypatch.setattr(export_module, "export_postmortem", export)
        await pilot.press("colon")
        await _type(pilot, "export out.md")
        await pilot.press("enter")
        await pilot.pause()
        assert "choose an incident first" in app.query_one(CommandLine).error  # none focused
        await pilot.press("escape")
        app.focus_incident(_incident())
        await pilot.press("colon")
        await _type(pilot, "export out.md")
        await pilot.press("enter")
        await pilot.pause()
        assert calls == [(_incident(), "out.md")]
        assert not app.query_one(CommandLine).is_open

        async def failing(cockpit: Any, incident: Any, path: str | None) -> str:
            raise ExportError("cannot write out.md: Read-only file system")

        monkeypatch.setattr(export_module, "export_postmortem", failing)
        await pilot.press("colon")
        await _type(pilot, "export")
        await pilot.press("enter")
        await pilot.pause()
        assert "export failed: cannot write out.md" in app.query_one(CommandLine).error


# ----------------------------------------------------------------------------- filter


async def test_slash_filters_the_active_pane() -> None:
    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press("3")
        slos = app.pane("slos")
        recorder = Recorder()
        slos.filter_changed = lambda: recorder(slos.filter_text)  # type: ignore[method-assign,union-attr]
        await pilot.press("slash")
        await pilot.pause()
        prompt = app.query_one(FilterPrompt)
        assert prompt.is_open and prompt.pane_id == "slos"
        assert "SLOs" in str(prompt.label.render())
        await _type(pilot, "checkout")
        await pilot.press("enter")
        await pilot.pause()
        assert recorder.calls == [("checkout",)]
        assert not prompt.is_open
        await pilot.press("slash")  # pre-filled with the current filter; escape keeps it
        await pilot.pause()
        assert prompt.input.value == "checkout"
        await pilot.press("escape")
        await pilot.pause()
        assert recorder.calls == [("checkout",)]
        await pilot.press("slash")
        for _ in "checkout":
            await pilot.press("backspace")
        await pilot.press("enter")  # empty clears
        await pilot.pause()
        assert recorder.calls[-1] == ("",)


# ----------------------------------------------------------------------------- quit


async def test_q_quits_at_once_without_pending_notes() -> None:
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        app.cockpit.notes.pending_count = lambda: 0  # type: ignore[method-assign,union-attr]
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_q_asks_first_while_notes_are_pending() -> None:
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        app.cockpit.notes.pending_count = lambda: 2  # type: ignore[method-assign,union-attr]
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        assert "2 notes are not delivered" in app.screen.message
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, QuitScreen) and app.is_running
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0


# ----------------------------------------------------------------------------- keymap


async def test_keys_from_the_config_remap_bindings_by_id() -> None:
    config = make_config(keys={"cockpit.zoom": "f11", "cockpit.help": "f1",
                               "cockpit.zom": "f12"})
    app = shell_app(config)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None  # z no longer zooms
        await pilot.press("f11")
        await pilot.pause()
        assert app.screen.maximized is not None
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {r.id: r for r in app.screen.rows}
        assert rows["cockpit.zoom"].keys == "f11" and rows["cockpit.help"].keys == "f1"
        assert any("unknown binding id 'cockpit.zom'" in w and "cockpit.zoom" in w
                   for w in app.warnings)


# ----------------------------------------------------------------------------- routing


async def test_incident_focus_is_routed_to_logs_slos_and_timeline() -> None:
    from sre_cockpit.ui.incidents.view import IncidentsPane

    config = make_config({"prod": {"services": {"checkout": {"logs": '{app="checkout"}'}}}})
    app = shell_app(config)
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await pilot.pause()
        logs, slos, timeline = Recorder(), Recorder(), Recorder()
        assert app.cockpit is not None
        app.cockpit.logs.focus_service = logs  # type: ignore[method-assign]
        app.pane("slos").focus_service = slos  # type: ignore[method-assign,union-attr]
        app.pane("timeline").show_focus = timeline  # type: ignore[method-assign,union-attr]
        incident = _incident()
        app.pane("incidents").post_message(IncidentsPane.IncidentFocused(incident))  # type: ignore[union-attr]
        await pilot.pause()
        assert logs.calls == [("checkout", '{app="checkout"}')]
        assert slos.calls == [("checkout",)] and timeline.calls == [(incident,)]
        app.pane("incidents").post_message(IncidentsPane.IncidentFocused(None))  # type: ignore[union-attr]
        await pilot.pause()
        assert logs.calls[-1] == (None, None) and timeline.calls[-1] == (None,)
        assert app.focused_incident is None and app.pane_errors == {}


def _slo_status() -> Any:
    from types import MappingProxyType

    from sre_cockpit.core.models import SloState, SloStatus

    return SloStatus(name="checkout", objective=0.999, window="30d", sli=0.99,
                     error_budget_remaining=0.5, burn_rates=MappingProxyType({}),
                     state=SloState.WARNING, exhausted_at=None, evaluated_at=FIXED)


async def test_notes_pins_incidents_and_slo_changes_reach_the_timeline() -> None:
    from sre_cockpit.core.models import LogLine
    from sre_cockpit.feeds.slo_eval import SloRow
    from sre_cockpit.feeds.slos import SloEntry
    from sre_cockpit.ui.incidents.view import IncidentsPane
    from sre_cockpit.ui.logs.view import LogPane
    from sre_cockpit.ui.notes_editor import NoteEditor
    from sre_cockpit.ui.timeline.view import TimelinePane

    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()  # one pause did not always see the feeds built (a loaded box)
        await pilot.pause()
        timeline = app.pane("timeline")
        assert isinstance(timeline, TimelinePane)
        incidents = (_incident(),)
        feed = app.cockpit.incidents  # type: ignore[union-attr]
        feed.publish(replace(feed.snapshot, incidents=incidents))
        slos = app.cockpit.slos  # type: ignore[union-attr]
        slos.publish(replace(slos.snapshot, entries=(SloEntry(SloRow(_slo_status()), "prom",
                                                              None),)))
        await pilot.pause()
        texts = [e.text for e in timeline.snapshot.events]
        assert "CheckoutDown started" in texts  # the observed alert start
        assert any(t.startswith("SLO checkout is warning") for t in texts)
        app.focus_incident(incidents[0])
        app.pane("logs").post_message(LogPane.PinRequested(LogLine(ts_ns=1, line="boom")))
        for _ in range(50):  # stored, published by the notes and the timeline feeds, shown
            if any(e.kind == "pin" and "boom" in e.text for e in timeline.snapshot.events):
                break
            await pilot.pause(0.05)
        assert any(e.kind == "pin" and "boom" in e.text for e in timeline.snapshot.events)
        app.pane("incidents").post_message(IncidentsPane.NoteRequested(incidents))  # type: ignore[union-attr]
        await pilot.pause()
        assert isinstance(app.screen, NoteEditor) and app.screen.incidents == incidents


async def test_moment_banner_and_period_returns_to_live() -> None:
    from sre_cockpit.ui.timeline.view import TimelinePane

    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await pilot.pause()
        logs, slos = Recorder(), Recorder()
        assert app.cockpit is not None
        app.cockpit.logs.show_moment = logs  # type: ignore[method-assign]
        app.cockpit.slos.show_moment = slos  # type: ignore[method-assign]
        at = FIXED - timedelta(minutes=30)
        app.pane("timeline").post_message(TimelinePane.MomentSelected(at, "13:33 UTC (T+12m)"))
        await pilot.pause()
        banner = app.query_one("#moment-banner", Static)
        assert visible(banner)
        assert str(banner.render()) == "viewing 13:33 UTC (T+12m) — . returns to live"
        assert logs.calls == [(at,)] and slos.calls == [(at,)]
        await pilot.press("1")
        await pilot.press(".")  # a real terminal sends "." as key full_stop
        await pilot.pause()
        assert not banner.display
        assert logs.calls[-1] == (None,) and slos.calls[-1] == (None,)


async def test_health_reports_become_header_badges_with_age() -> None:
    app = shell_app(make_config({"prod": {"providers": {
        "prom": {"type": "prometheus", "url": "http://127.0.0.1:9"}}}}))
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await pilot.pause()
        assert "○ prom …" in app.header.text  # not heard from yet
        assert app.cockpit is not None
        probes, timeline = app.cockpit.probes, app.cockpit.timeline
        ok = ProviderHealth("prom", HealthState.OK, last_ok_at=FIXED - timedelta(seconds=12))
        probes.publish(replace(probes.snapshot, sources=(ok,)))
        await pilot.pause()
        assert "● prom ok" in app.header.text  # fresh data: no ticking seconds count
        aged = ProviderHealth("prom", HealthState.OK, last_ok_at=FIXED - timedelta(seconds=47),
                              fresh_for=10.0)
        probes.publish(replace(probes.snapshot, sources=(aged,)))
        await pilot.pause()
        assert "▲ prom 40s" in app.header.text  # older than 2x its interval: stale, 10 s steps
        stale = ProviderHealth("prom", HealthState.STALE, last_ok_at=FIXED - timedelta(minutes=3),
                               error="timeout", label="prom deploys")
        timeline.publish(replace(timeline.snapshot, sources=(stale,)))
        await pilot.pause()
        assert "▲ prom 3m" in app.header.text  # worst state and oldest data across feeds
        badges = app.query_one("#header-badges")
        assert badges.tick() is False  # frozen clock: nothing changed, nothing repaints


# ----------------------------------------------------------------------------- colour, start


async def test_no_color_is_honoured(monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert app.no_color
        assert any(isinstance(f, Monochrome | NoColor) for f in app.get_line_filters())
        assert "PRODUCTION" in app.header.text  # production is still loud without colour


async def test_fast_start_draws_first_then_loads_config_and_panes() -> None:
    config = make_config()
    boot = BootInfo(context="prod", danger=True, read_only=False, providers=("prom",))
    app = boot_app(boot, lambda: config, clock=frozen)
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await pilot.pause()
        assert app.config is config and app.cockpit.runtime.context_name == "prod"
        for spec in PANES:
            assert type(app.pane(spec.id)) is spec.view()
        assert "PRODUCTION prod" in app.header.text


async def test_fast_start_with_an_invalid_config_exits_2_with_the_error() -> None:
    boot = BootInfo(context="prod", danger=True, read_only=False, providers=())

    def bad() -> Any:
        raise ConfigError("providers.prom.url: field required", file="c.yaml", line=3, col=5)

    app = boot_app(boot, bad, clock=frozen)
    async with app.run_test(size=SMALL) as pilot:
        for _ in range(100):  # the loader runs in a thread after the first frame
            if app.return_code is not None:
                break
            await pilot.pause(0.05)
    assert app.return_code == 2
    assert str(app.boot_error) == "c.yaml:3:5: providers.prom.url: field required"


async def test_prompt_inputs_take_printable_keys_not_bindings() -> None:
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("colon")
        await _type(pilot, "zq1")
        await pilot.pause()
        assert app.query_one(CommandLine).input.value == "zq1"
        assert app.screen.maximized is None and app.is_running
        assert isinstance(app.focused, Input)


async def test_colon_q_quits_and_palette_offers_cockpit_commands() -> None:
    from textual.command import CommandPalette

    app = shell_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await _type(pilot, "Context staging")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.cockpit.runtime.context_name == "staging"
        app.cockpit.notes.pending_count = lambda: 0  # type: ignore[method-assign,union-attr]
        await pilot.press("colon")
        await _type(pilot, "q")
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 0


async def test_low_bandwidth_clock_shows_minutes_and_idle_header_does_not_repaint() -> None:
    app = shell_app(low_bandwidth=True)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert app.header.text.endswith("14:03 UTC")
        assert app.query_one("#header-clock").tick() is False  # same minute: no repaint
        assert app.query_one("#header-badges").tick() is False


async def test_no_color_production_badge_is_reversed(monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = shell_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        badge = app.query_one(ContextBadge)
        assert badge.styles.text_style.reverse and badge.styles.text_style.bold


async def test_dialog_bindings_of_the_panes_are_listed_and_remappable() -> None:
    from sre_cockpit.ui.help import declared_bindings
    from sre_cockpit.ui.panes import cockpit_dialogs

    dialog_ids = {b.id for cls in cockpit_dialogs() for b in declared_bindings(cls) if b.id}
    assert "quit.confirm" in dialog_ids
    remap = sorted(dialog_ids)[0]
    app = shell_app(make_config(keys={remap: "f5"}))
    async with app.run_test(size=WIDE) as pilot:
        await app.started.wait()
        await pilot.pause()
        assert not any(remap in w for w in app.warnings)  # a dialog's id is a known id
        rows = {(r.scope, r.id): r for r in app.help_rows()}
        assert rows[("dialogs", remap)].keys == "f5"
