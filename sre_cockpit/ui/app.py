"""The cockpit app: header, the panes, prompts and footer; owns the feeds' workers and the
app-level state (the focused incident, the clock moment).

The app builds one :class:`~sre_cockpit.feeds.cockpit.Cockpit` per context, runs every feed's
jobs as workers, and posts each snapshot to the view that shows it (the pane table in
:mod:`sre_cockpit.ui.panes`); the header counts every source of every feed, so no badge is
greener than a pane's worst source. Views never fetch: they post what the operator asked for
(focus an incident, a moment, a note, a pin) and the app changes its state and tells the feeds
and the views.

Layout: at >= 120x40 the four panes share the screen (Incidents and Logs on the wide left
column, SLOs and Timeline on the right); below that one pane fills the body and ``tab`` /
``1``-``4`` switch. Every binding has an id and can be remapped under ``keys:`` in the config.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static

from sre_cockpit.core.models import Incident, LogLine, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.suggest import did_you_mean
from sre_cockpit.feeds.base import BatchFeed
from sre_cockpit.ui.boot import BootInfo
from sre_cockpit.ui.commandline import (
    BottomPrompt,
    CockpitCommands,
    CommandLine,
    without_textual_theme_command,
)
from sre_cockpit.ui.commands import CommandRunner
from sre_cockpit.ui.filterprompt import FilterPrompt
from sre_cockpit.ui.footer import CockpitFooter
from sre_cockpit.ui.header import CockpitHeader
from sre_cockpit.ui.keyrouting import KeyRouter, takes_text
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import (
    GRID_ORDER,
    PANES,
    PaneSlot,
    PaneSpec,
    cockpit_dialogs,
    load_view,
    pane_bindings,
    starting_pane,
)
from sre_cockpit.ui.plain import TrustedMarkup, plain, plain_str
from sre_cockpit.ui.quit import QuitScreen
from sre_cockpit.ui.themes import (
    DEFAULT_THEME,
    VARIABLE_DEFAULTS,
    load_cockpit_themes,
    offer_only_cockpit_themes,
    rich_color,
)
from sre_cockpit.ui.toast import repaint_when_gone, toast

if TYPE_CHECKING:  # the feeds, the providers and the schema load after the first frame
    from sre_cockpit.config.model import Config
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.feeds.probes import ProbesSnapshot

__all__ = ["PANES", "BootInfo", "CockpitApp", "PaneSlot", "PaneSpec", "boot_app", "make_app"]

WIDE_MIN = (120, 40)
"""Smallest terminal (columns, rows) that shows all four panes at once."""
HELP_SCREEN = "cockpit-help"
"""Name of the installed help screen."""


class MainScreen(Screen[None]):
    """The cockpit screen; reacts to resizes (breakpoint) and focus moves (active pane)."""

    ALLOW_IN_MAXIMIZED_VIEW = "CockpitHeader, #moment-banner, CommandLine, FilterPrompt, Footer"
    AUTO_FOCUS = ""  # the app focuses the active pane (auto-focus could pick a hidden prompt)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.cycle_pane(1)", "next pane", show=False, id="cockpit.next_pane"),
        Binding("shift+tab", "app.cycle_pane(-1)", "previous pane", show=False,
                id="cockpit.previous_pane"),
    ]

    def on_resize(self, event: events.Resize) -> None:
        app = self.app
        if isinstance(app, CockpitApp):
            app.set_compact(event.size.width < WIDE_MIN[0] or event.size.height < WIDE_MIN[1])

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        app = self.app
        for node in event.widget.ancestors_with_self:
            if isinstance(node, PaneSlot) and isinstance(app, CockpitApp):
                app.set_active(node.pane_id, focus=False)
                return


class CockpitApp(App[int]):
    """The cockpit. Build it with :func:`make_app` or :func:`boot_app`."""

    CSS_PATH = "cockpit.tcss"
    TITLE = "sre-cockpit"
    COMMANDS = App.COMMANDS | {CockpitCommands}
    PANE_TITLES: ClassVar[dict[str, str]] = {spec.id: spec.title for spec in PANES}
    BINDINGS: ClassVar[list[BindingType]] = [
        *pane_bindings(),
        Binding("z", "zoom", "zoom", id="cockpit.zoom"),
        Binding("slash", "filter", "filter", id="cockpit.filter"),
        Binding("colon", "command_line", "command", id="cockpit.command"),
        Binding("question_mark", "help", "help", id="cockpit.help"),
        Binding("full_stop", "live", "back to live", id="cockpit.live", key_display="."),
        Binding("q", "request_quit", "quit", id="cockpit.quit"),
        Binding("ctrl+q", "request_quit", "quit", show=False, priority=True,
                id="cockpit.quit_anywhere"),
        Binding("ctrl+p", "command_palette", "palette", show=False, priority=True,
                id="cockpit.palette"),
        Binding("ctrl+c", "interrupt", "quit", show=False, priority=True, system=True,
                id="cockpit.help_quit"),
        Binding("ctrl+z", "suspend_process", "suspend (fg resumes)", show=False,
                id="cockpit.suspend"),
    ]

    def __init__(self, boot: BootInfo, *, cockpit: Cockpit | None = None,
                 loader: Callable[[], Config] | None = None, read_only: bool = False,
                 clock: Callable[[], datetime] = utcnow, start_polling: bool = True) -> None:
        super().__init__()
        self.boot = boot
        self.cockpit: Cockpit | None = cockpit
        """The feeds of the current context (None for a moment after a fast start)."""
        self._loader = loader
        self.clock = clock
        self.force_read_only = read_only
        self.low_bandwidth = boot.low_bandwidth
        self.start_polling = start_polling
        self.compact = True
        self.active_pane = PANES[0].id
        self.focused_incident: Incident | None = None
        """The incident the other panes narrow to (enter in the incidents pane)."""
        self.moment: datetime | None = None
        """The past moment the cockpit shows (enter on a timeline event); None: live."""
        self.pane_errors: dict[str, str] = {}
        """Pane id → why it is unavailable or failed (tests assert this stays empty)."""
        self.warnings: list[str] = []
        """Config problems found at start (unknown binding ids, themes), also notified."""
        self.boot_error: Exception | None = None
        """Why a fast start had to stop (the config turned out invalid); re-raised by the CLI."""
        self.started = asyncio.Event()
        """Set once the cockpit exists and the panes are bound."""
        self.filters: dict[str, str] = {}
        self.keys = KeyRouter(self)
        self.commands = CommandRunner(self)
        self._subscriptions: list[Callable[[], None]] = []
        self._jobs_of: Cockpit | None = None  # the cockpit whose feed jobs are running
        self._cockpit_themes: list[str] = []
        self._warned_clashes: set[str] = set()
        self._uninstall_signals: Callable[[], None] | None = None
        themes, errors = load_cockpit_themes()
        for loaded in themes.values():
            self.register_theme(loaded.theme)
            self._cockpit_themes.append(loaded.theme.name)
        self.warnings.extend(f"theme: {error}" for error in errors)
        wanted = boot.theme or DEFAULT_THEME
        if wanted in self._cockpit_themes:
            self.theme = wanted
        else:
            self.warnings.append(f"ui.theme: unknown theme {wanted!r}; using {DEFAULT_THEME}")
            if DEFAULT_THEME in self.available_themes:
                self.theme = DEFAULT_THEME
        offer_only_cockpit_themes(self)
        self.set_keymap(dict(boot.keys))
        self.header = CockpitHeader(boot.context, danger=boot.danger, read_only=boot.read_only,
                                    providers=boot.providers, clock=clock,
                                    seconds=not boot.low_bandwidth, hint=self._help_hint(),
                                    id="header")

    @property
    def config(self) -> Config | None:
        """The validated config (None while a fast start is still reading it)."""
        return self.cockpit.runtime.config if self.cockpit is not None else None

    # ----------------------------------------------------------------------------- keys

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and await self.keys.route(event):
            return
        await super().on_event(event)

    def _help_hint(self) -> str:
        keys = self.boot.keys.get("cockpit.help", "question_mark").split(",")[0].strip()
        return f"{self.get_key_display(Binding(keys, 'help'))} help"

    # ----------------------------------------------------------------------------- compose

    def _make_slots(self, *, placeholders: bool) -> list[PaneSlot]:
        slots: dict[str, PaneSlot] = {}
        for spec in PANES:
            if placeholders:
                cls = starting_pane(spec)
            else:
                cls, error = load_view(spec)
                if error is not None:
                    self.pane_errors[spec.id] = error
            slots[spec.id] = PaneSlot(cls(id=spec.id), spec.id)
        return [slots[pane_id] for pane_id in GRID_ORDER]

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(id="main")

    def compose(self) -> ComposeResult:
        yield self.header
        yield Static("", id="moment-banner", markup=False)
        with Container(id="body"):
            yield from self._make_slots(placeholders=self.cockpit is None)
        yield CommandLine(id="command-line", names=self.commands.names_for)
        yield FilterPrompt(id="filter-prompt")
        yield CockpitFooter()

    def on_mount(self) -> None:
        self.set_active(self.active_pane, focus=True)
        # back from ctrl+z / SIGTSTP: the terminal is blank, repaint all of it (not only what changed)
        self.app_resume_signal.subscribe(self, lambda _app: self.refresh(layout=True))
        for warning in self.warnings:
            toast(self, warning, severity="warning", timeout=10)
        # a worker, not the after-refresh callback itself: that would hold the screen's queue
        self.call_after_refresh(lambda: self.run_worker(self._start(), name="start",
                                                        group="cockpit-start"))

    async def _start(self) -> None:
        """After the first frame: finish reading the config, build the feeds, bind the panes."""
        await self._first_frame_painted()
        if not self.is_headless:
            from sre_cockpit.feeds.signals import install_signal_handlers, terminal_fds

            # SIGHUP (SSH dropped), SIGTERM, the terminal gone: flush notes and drafts, leave.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self._uninstall_signals = install_signal_handlers(
                    on_exit=lambda sig: self.exit(return_code=128 + sig), terminal=terminal_fds())
        if self.cockpit is None:
            try:
                self.cockpit = await asyncio.to_thread(self._build_cockpit)
                # The first polls go out now and are answered while the views load and mount;
                # each view gets its feed's latest snapshot when it binds.
                self._run_jobs()
                classes = await asyncio.to_thread(lambda: [load_view(s) for s in PANES])
                await asyncio.to_thread(_preload_dialogs)
            except Exception as exc:
                self.boot_error = exc
                self.exit(return_code=2)
                return
            if dict(self.cockpit.runtime.config.keys) != dict(self.boot.keys):
                self.set_keymap(dict(self.cockpit.runtime.config.keys))
            await self._replace_panes(dict(zip((s.id for s in PANES), classes, strict=True)))
        for pane_id, error in self.pane_errors.items():
            self.log.error(f"pane {pane_id} unavailable: {error}")
        self._show_context()
        self._check_keymap()
        self._bind_panes()
        await self._after_refresh()  # binding may hide what had the focus (empty state)
        self.set_active(self.active_pane, focus=True)
        self.started.set()
        await self.keys.replay_early()

    def _build_cockpit(self) -> Cockpit:
        """Validate the config and build the context's providers (in a thread: no I/O, but
        plugins import)."""
        from sre_cockpit.config.model import resolve_context
        from sre_cockpit.feeds.cockpit import Cockpit

        loader = self._loader
        if loader is None:
            raise RuntimeError("no config and no loader")
        config = loader()
        if self.boot.context not in config.contexts:
            resolve_context(config, self.boot.context)  # raises the usual error
        return Cockpit(config, self.boot.context, read_only=self.force_read_only,
                       clock=self.clock)

    async def _first_frame_painted(self) -> None:
        """Wait (at most ~0.5 s) until the footer shows its keys and that frame is painted, so
        the heavy imports that follow never hold back the first complete frame."""
        footer = self.query_one(CockpitFooter)
        for _ in range(50):
            if footer.children:
                break
            await asyncio.sleep(0.01)
        await self._after_refresh()

    async def _after_refresh(self) -> None:
        """Wait (at most 0.5 s) until pending mounts and repaints have been processed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await self.screen_stack[0].wait_for_refresh()

    async def _replace_panes(self, classes: dict[str, tuple[type[Pane], str | None]]) -> None:
        # Removing the focused placeholder moves Textual's focus to a neighbour, which would make
        # that neighbour's pane the active one (on_descendant_focus): the operator's stays.
        active = self.active_pane
        for slot in self.query(PaneSlot):
            cls, error = classes[slot.pane_id]
            if error is not None:
                self.pane_errors[slot.pane_id] = error
            await slot.remove_children()
            slot.pane = cls(id=slot.pane_id)
            await slot.mount(slot.pane)
        await self._after_refresh()  # the new panes have composed their children
        self.set_active(active, focus=True)

    async def on_unmount(self) -> None:
        if self._uninstall_signals is not None:
            self._uninstall_signals()
        self._unbind()
        if self.cockpit is None:
            return
        try:
            await asyncio.wait_for(self.cockpit.aclose(), timeout=2.0)
        except (TimeoutError, Exception) as exc:  # closing must never hang or crash the exit
            self.log.warning(f"closing the feeds: {exc}")

    # ----------------------------------------------------------------------------- feeds

    def _show_context(self) -> None:
        cockpit = self.cockpit
        assert cockpit is not None
        self.header.set_context(cockpit.context, danger=cockpit.production,
                                read_only=cockpit.read_only, providers=cockpit.providers,
                                build_errors=dict(cockpit.build_errors), clock=self.clock)

    def _bind_panes(self) -> None:
        """Bind every pane to its feed, subscribe, and run the feeds' jobs as workers."""
        cockpit = self.cockpit
        assert cockpit is not None
        self._unsubscribe()
        for spec in PANES:
            pane = self.pane(spec.id)
            if pane is None or spec.id in self.pane_errors:
                continue  # a stand-in already saying why it is missing
            try:
                feed = spec.feed(cockpit)
                pane.bind(feed)
                self._subscriptions.append(feed.subscribe(self._publisher(spec, pane)))
                if isinstance(feed, BatchFeed):  # the log lines: every batch, in order
                    self._subscriptions.append(feed.subscribe_batches(self._batch_poster(pane)))
                self._published(spec, pane, feed.snapshot)
            except Exception as exc:  # one pane failing must not take the others down
                reason = sanitize_line(f"{type(exc).__name__}: {exc}".splitlines()[0])
                self.pane_errors[spec.id] = reason
                self.log.error(f"pane {spec.id} failed to start: {reason}")
                with contextlib.suppress(Exception):  # the pane may be half-built
                    pane.set_unconfigured(f"{spec.title} pane failed to start: {reason}")
        self._subscriptions.append(cockpit.probes.subscribe(self._probes_changed))
        self._probes_changed(cockpit.probes.snapshot)
        self._run_jobs()

    def _run_jobs(self) -> None:
        """Run the cockpit's feed jobs as workers, once per cockpit (their first polls start at
        once: a :class:`~sre_cockpit.feeds.polling.Poller` fetches before it first sleeps)."""
        cockpit = self.cockpit
        if cockpit is None or not self.start_polling or self._jobs_of is cockpit:
            return
        self._jobs_of = cockpit
        for job in cockpit.jobs():
            self.run_worker(job.run(), name=job.name, group="feeds", exit_on_error=False)

    def _publisher(self, spec: PaneSpec, pane: Pane) -> Callable[[Any], None]:
        def published(snapshot: Any) -> None:
            self._published(spec, pane, snapshot)
        return published

    def _published(self, spec: PaneSpec, pane: Pane, snapshot: Any) -> None:
        """A feed published: its view gets the snapshot, the header counts its sources."""
        pane.post_message(pane.changed_message(snapshot))
        for health in snapshot.sources:
            self.header.update_health(health, source=spec.id)

    @staticmethod
    def _batch_poster(pane: Pane) -> Callable[[Any], None]:
        """Post each batch a feed hands over (log lines) to its view: never merged or replaced,
        unlike snapshots, since each holds what no other one has."""
        def posted(batch: Any) -> None:
            pane.post_message(pane.batch_message(batch))
        return posted

    def _unbind(self) -> None:
        """Stop listening to the feeds and stop their jobs."""
        self._unsubscribe()
        self.workers.cancel_group(self, "feeds")
        self._jobs_of = None

    def _unsubscribe(self) -> None:
        for unsubscribe in self._subscriptions:
            unsubscribe()
        self._subscriptions.clear()

    # ----------------------------------------------------------------------------- app state

    def panes(self) -> list[Pane]:
        """The panes in key order (``1``-``4``)."""
        found = {slot.pane_id: slot.pane for slot in self.query(PaneSlot)}
        return [found[spec.id] for spec in PANES if spec.id in found]

    def pane(self, pane_id: str) -> Pane | None:
        """One pane by id (``incidents``, ``logs``, ``slos``, ``timeline``)."""
        for slot in self.query(PaneSlot):
            if slot.pane_id == pane_id:
                return slot.pane
        return None

    def focus_incident(self, incident: Incident | None) -> None:
        """Make ``incident`` the one the other panes narrow to (None: every incident)."""
        self.focused_incident = incident
        for pane in self.panes():
            pane.show_focus(incident)
        if self.cockpit is not None:  # the log feed streams the incident's service's logs
            service = incident.service if incident is not None else None
            mapped = self.cockpit.services.get(service) if service else None
            self.cockpit.logs.focus_service(service, mapped.logs if mapped is not None else None)

    def set_moment(self, at: datetime | None, label: str = "") -> None:
        """Show every pane as of ``at`` (a timeline event), or live again (None)."""
        changed = at != self.moment
        self.moment = at
        banner = self.query_one("#moment-banner", Static)
        if at is None:
            banner.display = False
        else:
            shown = label or f"{at:%H:%M} UTC"
            banner.update(plain(f"viewing {shown} — . returns to live"))
            banner.display = True
        if not changed:
            return
        for pane in self.panes():
            pane.show_moment(at)
        if self.cockpit is not None:
            self.cockpit.slos.show_moment(at)
            self.cockpit.logs.show_moment(at)  # the lines around it, by range queries
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "live":
            return self.moment is not None
        return True

    def action_live(self) -> None:
        """``.``: leave the moment chosen on the timeline and return to live data."""
        self.set_moment(None)

    def open_note_editor(self, incidents: Sequence[Incident]) -> None:
        """The durable note editor for ``incidents`` (default: the focused incident)."""
        from sre_cockpit.feeds.notes import NotesError
        from sre_cockpit.ui.notes_editor import NoteEditor

        targets = tuple(incidents) or ((self.focused_incident,)
                                       if self.focused_incident is not None else ())
        if not targets:
            toast(self, "choose an incident first (enter in the incidents pane)",
                  severity="warning")
            return
        if self.cockpit is None:
            toast(self, "notes are not available yet: the cockpit is starting", severity="error")
            return
        notes = self.cockpit.notes

        def submitted(text: str | None) -> None:
            if text is None:
                return
            try:
                notes.add_note(text, targets)
            except NotesError as exc:
                # later: called from the editor's dismiss, a toast raised now belongs to the
                # closing editor and was never seen
                self.call_later(toast, self, f"{exc} — press r in the timeline to retry",
                                severity="error", timeout=15)

        self.push_screen(NoteEditor(notes, targets, clock=self.clock,
                                    routes=notes.delivery_plan(targets)), submitted)

    def pin_line(self, line: LogLine) -> None:
        """``p`` in the log pane: the line becomes a note on the focused incident."""
        from sre_cockpit.feeds.notes import NotesError

        if self.cockpit is None:
            return toast(self, "not pinned: the notes store is still starting", severity="warning")
        incident = self.focused_incident
        try:
            self.cockpit.notes.pin(line, incident)
        except NotesError as exc:
            toast(self, f"line not pinned: {exc} — press r in the timeline to retry",
                  severity="error", timeout=15)
            return
        where = incident.key if incident is not None else "the local journal only"
        toast(self, f"pinned to {where}", timeout=4)

    # ----------------------------------------------------------------------------- messages

    @on(Pane.FocusRequested)
    def _focus_requested(self, message: Pane.FocusRequested) -> None:
        self.focus_incident(message.incident)

    @on(Pane.NoteRequested)
    def _note_requested(self, message: Pane.NoteRequested) -> None:
        self.open_note_editor(message.incidents)

    @on(Pane.PinRequested)
    def _pin_requested(self, message: Pane.PinRequested) -> None:
        self.pin_line(message.line)

    @on(Pane.MomentRequested)
    def _moment_requested(self, message: Pane.MomentRequested) -> None:
        self.set_moment(message.at, message.label)

    def _probes_changed(self, snapshot: ProbesSnapshot) -> None:
        """Providers no pane asks were probed: their header badges say whether they answer."""
        for health in snapshot.sources:
            self.header.update_health(health, source="probes")

    # ----------------------------------------------------------------------------- panes

    def set_compact(self, compact: bool) -> None:
        """Switch between the 2x2 layout and the one-pane layout (terminal resized)."""
        self.compact = compact
        self.screen_stack[0].set_class(compact, "-compact")

    def set_active(self, pane_id: str, *, focus: bool) -> None:
        """Make a pane the active one (shown in the one-pane layout; target of ``/`` and ``z``)."""
        self.active_pane = pane_id
        for slot in self.query(PaneSlot):
            slot.set_class(slot.pane_id == pane_id, "-active")
        pane = self.pane(pane_id)
        if pane is None:
            return
        screen = self.screen_stack[0]
        if screen.maximized is not None and screen.maximized is not pane:
            screen.maximized = pane
        if focus:
            # At once, not via ``Widget.focus()`` (which defers through ``call_later``): keys
            # that arrive in the same terminal read ("2t") are dispatched to ``screen.focused``
            # before any deferred callback runs, so a deferred focus sent ``t`` to the old pane.
            self._focus_pane(pane)

    def _focus_pane(self, pane: Pane, *, force: bool = False) -> None:
        screen = self.screen_stack[0]
        focused = screen.focused
        if not force and focused is not None and any(
                node is pane or isinstance(node, BottomPrompt)
                for node in focused.ancestors_with_self):
            return  # already there, or the operator is typing in a prompt
        screen.set_focus(pane.focus_target())

    def action_show_pane(self, pane_id: str) -> None:
        """``1``-``4``: show and focus a pane."""
        self.set_active(pane_id, focus=True)

    def action_cycle_pane(self, step: int) -> None:
        """``tab`` / ``shift+tab``: the next / previous pane."""
        ids = [spec.id for spec in PANES]
        index = ids.index(self.active_pane) if self.active_pane in ids else 0
        self.set_active(ids[(index + step) % len(ids)], focus=True)

    def action_zoom(self) -> None:
        """``z``: maximise the active pane, or restore the layout."""
        screen = self.screen_stack[0]
        pane = self.pane(self.active_pane)
        if screen.maximized is not None:
            screen.minimize()
        elif pane is not None:
            screen.maximized = pane

    def action_filter(self) -> None:
        """``/``: ask for a filter for the active pane."""
        pane = self.pane(self.active_pane)
        if pane is None:
            return
        title = pane.PANE_TITLE or self.PANE_TITLES.get(self.active_pane, self.active_pane)
        self.query_one(FilterPrompt).open_for(self.active_pane, title, pane.filter_hint,
                                              self.filters.get(self.active_pane, ""))

    @on(FilterPrompt.Submitted)
    def _apply_filter(self, message: FilterPrompt.Submitted) -> None:
        pane = self.pane(message.pane_id)
        if pane is None:
            return
        if pane.set_filter(message.text):
            self.filters[message.pane_id] = pane.filter_text
        if message.pane_id == self.active_pane:
            self._focus_pane(pane, force=True)  # whatever the outcome, the keys work again

    # ----------------------------------------------------------------------------- help, quit

    def help_rows(self) -> list[Any]:
        """Every binding with its id and current key, grouped by scope."""
        from sre_cockpit.ui.help import HelpScreen, binding_rows  # DataTable: not at start

        _preload_dialogs()  # every dialog's keys, whichever were opened so far
        main = self.screen_stack[0]
        scopes: list[tuple[str, Iterable[DOMNode | type[DOMNode]]]] = [("global", [self, main])]
        for pane in self.panes():
            title = pane.PANE_TITLE or str(pane.id)
            scopes.append((title, [pane, *pane.walk_children()]))
        prompt = self.query_one(CommandLine)
        scopes.append(("prompts", [prompt, *prompt.walk_children()]))
        scopes.append(("dialogs", [HelpScreen, QuitScreen,
                                   *cockpit_dialogs(exclude=(HelpScreen, QuitScreen))]))
        active = [b.binding.id or b.binding.action for b in main.active_bindings.values()]
        return binding_rows(self, scopes, self._keymap_dict(), active)

    def _keymap_dict(self) -> dict[str, str]:
        return dict(self.config.keys if self.config is not None else self.boot.keys)

    def action_help(self) -> None:
        """``?``: every binding with its id and key (the screen is built on the first ``?``
        and kept: later ones only update it)."""
        from sre_cockpit.ui.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        rows = self.help_rows()
        if not self.is_screen_installed(HELP_SCREEN):
            self.install_screen(HelpScreen(rows), HELP_SCREEN)
        else:
            screen = self.get_screen(HELP_SCREEN)
            if isinstance(screen, HelpScreen):
                screen.show_rows(rows)
        self.push_screen(HELP_SCREEN)

    def action_command_line(self) -> None:
        """``:``: open the command line."""
        self.query_one(CommandLine).open()

    @on(CommandLine.Command)
    async def _command(self, message: CommandLine.Command) -> None:
        line = self.query_one(CommandLine)
        error = await self.run_command(message.name, message.args)
        if error:
            line.show_error(error)  # closes the line too: the next ':' starts empty
        else:
            line.close()
        pane = self.pane(self.active_pane)
        main = self.screen_stack[0]
        if pane is not None and self.screen is main and main.focused is None:
            self._focus_pane(pane)  # :ctx rebuilt the panes: the one the line came from is gone

    async def run_command(self, name: str, args: tuple[str, ...]) -> str | None:
        """Run a ``:`` command (the command line and the palette); an error line or None."""
        return await self.commands.run(name, args)

    def action_request_quit(self) -> None:
        """``q``, ``ctrl+q``, ``ctrl+c``, ``:q`` and the palette's Quit: quit, asking first
        while notes are still waiting to be delivered (every way out goes through here)."""
        pending = 0
        if self.cockpit is not None:
            try:
                pending = self.cockpit.notes.pending_count()
            except Exception as exc:
                self.log.error(f"pending notes: {exc}")
                pending = -1
        if pending == 0:
            self.exit(0)
            return
        if isinstance(self.screen, QuitScreen):
            return
        if pending < 0:
            text = "Could not check for undelivered notes. Quit anyway?"
        else:
            noun = "note is" if pending == 1 else "notes are"
            text = (f"{pending} {noun} not delivered to the incident API yet. They stay in the "
                    f"local journal and are retried the next time the cockpit runs. Quit anyway?")
        self.push_screen(QuitScreen(text), self._quit_answer)

    def action_interrupt(self) -> None:
        """``ctrl+c``: quit through the same guard as ``q``; in an input or the note editor
        with text selected, copy it instead (their own ``ctrl+c``).

        A priority binding, so it answers on every screen: in a prompt, a dialog, the note
        editor, the help or the palette it used to do nothing and say nothing (a modal screen
        ends the binding chain, and the inputs took the key to copy an empty selection).
        """
        focused = self.screen.focused
        selected: object = getattr(focused, "selected_text", None) if takes_text(focused) else None
        if isinstance(selected, str) and selected:
            raise SkipAction()  # the input copies its selection
        self.action_request_quit()

    async def action_quit(self) -> None:
        """Textual's own quit (the palette's "Quit the application"): the same guard."""
        self.action_request_quit()

    def _quit_answer(self, answer: bool | None) -> None:
        if answer:
            self.exit(0)

    # ----------------------------------------------------------------------------- context

    def context_names(self) -> list[str]:
        """Contexts of the config (command palette, completion)."""
        return list(self.config.contexts) if self.config is not None else [self.boot.context]

    def cockpit_theme_names(self) -> list[str]:
        """The cockpit's own themes."""
        return list(self._cockpit_themes)

    def set_theme(self, name: str) -> str | None:
        """Switch theme; returns an error line for an unknown name."""
        if name not in self.available_themes:
            did = did_you_mean(name, self._cockpit_themes)
            return (f"unknown theme {sanitize_line(name)!r}{sanitize_line(did)} "
                    f"(themes: {', '.join(self._cockpit_themes)})")
        self.theme = name
        return None

    async def switch_context(self, name: str) -> str | None:
        """Build the feeds of another context and rebind the panes to them."""
        config = self.config
        if config is None:
            return "still starting — try again in a moment"
        if name not in config.contexts:
            did = did_you_mean(name, self.context_names())
            return (f"unknown context {sanitize_line(name)!r}{sanitize_line(did)} "
                    f"(contexts: {', '.join(self.context_names())})")
        from sre_cockpit.feeds.cockpit import Cockpit

        try:
            cockpit = Cockpit(config, name, read_only=self.force_read_only, clock=self.clock)
        except Exception as exc:
            return sanitize_line(f"cannot open context {name}: {exc}")
        self._unbind()
        old, self.cockpit = self.cockpit, cockpit
        self.boot = replace(self.boot, context=name)
        screen = self.screen_stack[0]
        if screen.maximized is not None:
            screen.minimize()
        self.pane_errors.clear()
        self.filters.clear()
        self.focused_incident = None
        self.set_moment(None)
        body = self.query_one("#body", Container)
        await body.remove_children()
        await body.mount_all(self._make_slots(placeholders=False))
        self._show_context()
        self.set_active(self.active_pane, focus=True)
        self._bind_panes()
        if old is not None:
            self.run_worker(old.aclose(), exit_on_error=False, group="cockpit-close")
        toast(self, f"context {name}", timeout=3)
        return None

    # ----------------------------------------------------------------------------- themes, keys

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast: plain, terminal-safe text whoever asks (``Widget.notify`` passes
        ``markup=True`` by default, and a Loki error body ``[/]`` crashed the cockpit); only
        :class:`~sre_cockpit.ui.plain.TrustedMarkup` from :func:`~sre_cockpit.ui.toast.toast`
        is parsed as markup."""
        trusted = markup and isinstance(message, TrustedMarkup)
        # not capped again: toast() capped it, and a second cap would miscount the first's
        # "…+N bytes"; the cockpit's own code reaches notify only through toast()
        super().notify(message if trusted else plain_str(message, multiline=True, max_bytes=None),
                       title=plain_str(title), severity=severity, timeout=timeout,
                       markup=trusted)
        repaint_when_gone(self, timeout)  # Textual can leave an expired toast on screen

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's "Theme" entry offered its built-in themes; CockpitCommands has ours
        yield from without_textual_theme_command(super().get_system_commands(screen))

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        # Panes read these for Rich spans; Rich does not know Textual's ``ansi_*`` names.
        self.theme_variables = {k: rich_color(v) for k, v in variables.items()}
        return variables

    def _check_keymap(self) -> None:
        known = {row.id for row in self.help_rows()}
        for binding_id in self._keymap_dict():
            if binding_id not in known:
                did = did_you_mean(binding_id, sorted(known))
                warning = f"keys: unknown binding id {sanitize_line(binding_id)!r}{did}"
                self.warnings.append(warning)
                toast(self, warning, severity="warning", timeout=10)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        for binding in clashed_bindings:
            ident = binding.id or binding.action
            if ident in self._warned_clashes:
                continue
            self._warned_clashes.add(ident)
            warning = f"keys: {binding.key!r} of {ident} is now taken by a remapped binding"
            self.warnings.append(warning)
            toast(self, warning, severity="warning", timeout=10)


def _preload_dialogs() -> None:
    """Import the dialogs' modules after the first frame (in a thread): the first ``n``, ``?``
    or ``a`` then opens its dialog at once instead of importing TextArea and DataTable first
    (keys typed right after it wait for the dialog); the help lists every dialog's keys."""
    from sre_cockpit.ui import dialogs, help, notes_editor, oncall_dialogs, quit
    from sre_cockpit.ui.incidents import describe
    from sre_cockpit.ui.slos import detail

    del dialogs, help, notes_editor, oncall_dialogs, quit, describe, detail


def make_app(config: Config, context: str | None = None, *, read_only: bool = False,
             low_bandwidth: bool = False, clock: Callable[[], datetime] = utcnow,
             start_polling: bool = True) -> CockpitApp:
    """Build the cockpit for one context of ``config``.

    Args:
        config: a validated config.
        context: context name (default: ``default_context``, else the first).
        read_only: never act (``--read-only``), whatever the context says.
        low_bandwidth: repaint at most once a second (``--low-bandwidth``).
        clock: "now" for everything shown (tests freeze it).
        start_polling: False: the feeds' jobs are not run (snapshot tests feed the views).

    Returns:
        The app, not yet running. Providers are constructed here (no I/O); the feeds are built
        and fetch only after the first frame.

    Raises:
        KeyError: ``context`` is not in the config.
    """
    from sre_cockpit.feeds.cockpit import Cockpit

    if low_bandwidth and not config.ui.low_bandwidth:
        config = config.model_copy(update={"ui": config.ui.model_copy(
            update={"low_bandwidth": True})})
    cockpit = Cockpit(config, context, read_only=read_only, clock=clock)
    boot = BootInfo.from_cockpit(cockpit, low_bandwidth=low_bandwidth)
    return CockpitApp(boot, cockpit=cockpit, read_only=read_only, clock=clock,
                      start_polling=start_polling)


def boot_app(boot: BootInfo, loader: Callable[[], Config], *, read_only: bool = False,
             clock: Callable[[], datetime] = utcnow) -> CockpitApp:
    """The fast start used by ``sre-cockpit``: the first frame is drawn from ``boot`` (read from
    the raw YAML), then ``loader`` validates the config in a thread, the panes are loaded and the
    feeds built. If the config is invalid the app exits with status 2 and ``boot_error`` holds
    the ``ConfigError``.
    """
    return CockpitApp(boot, loader=loader, read_only=read_only, clock=clock)
