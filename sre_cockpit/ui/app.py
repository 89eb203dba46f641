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

The app holds the state and the bindings; plain helpers it owns do the work: ``startup``,
``wiring`` (feeds → views, header, workers), ``layout`` (panes, zoom, focus, filters),
``keyrouting``, ``keyhelp``, ``commands``, ``contexts``, ``noteactions`` and ``quit``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static

from sre_cockpit.core.heap import SETTLE_AFTER_S, settle_heap
from sre_cockpit.core.models import Incident, LogLine, utcnow
from sre_cockpit.ui.boot import BootInfo
from sre_cockpit.ui.commandline import (
    CockpitCommands,
    CommandLine,
    without_textual_theme_command,
)
from sre_cockpit.ui.commands import CommandRunner
from sre_cockpit.ui.contexts import open_context
from sre_cockpit.ui.filterprompt import FilterPrompt
from sre_cockpit.ui.footer import CockpitFooter
from sre_cockpit.ui.header import CockpitHeader
from sre_cockpit.ui.keyhelp import KeyHelp
from sre_cockpit.ui.keyrouting import KeyRouter
from sre_cockpit.ui.layout import WIDE_MIN, MainScreen, PaneLayout
from sre_cockpit.ui.noteactions import open_note_editor, pin_line
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import (
    PANES,
    PaneSlot,
    PaneSpec,
    pane_bindings,
)
from sre_cockpit.ui.plain import TrustedMarkup, plain, plain_str
from sre_cockpit.ui.quit import interrupt, request_quit
from sre_cockpit.ui.startup import (
    after_refresh,
    build_cockpit,
    first_frame_painted,
    install_exit_signals,
    load_views,
)
from sre_cockpit.ui.themes import (
    VARIABLE_DEFAULTS,
    install_cockpit_themes,
    rich_color,
    switch_theme,
)
from sre_cockpit.ui.toast import repaint_when_gone, toast
from sre_cockpit.ui.wiring import FeedWiring

if TYPE_CHECKING:  # the feeds, the providers and the schema load after the first frame
    from sre_cockpit.config.model import Config
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.feeds.notes import NotesFeed

__all__ = ["PANES", "WIDE_MIN", "BootInfo", "CockpitApp", "MainScreen", "PaneSlot", "PaneSpec",
           "boot_app", "make_app"]


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
        self.loader = loader
        """Reads and validates the config after the first frame (a fast start), else None."""
        self.clock = clock
        self.force_read_only = read_only
        self.low_bandwidth = boot.low_bandwidth
        self.start_polling = start_polling
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
        self.commands = CommandRunner(self, self)
        self.pane_layout = PaneLayout(self, self.pane_errors)
        """The panes' slots, the active pane, the breakpoint, zoom and focus."""
        self.keyhelp = KeyHelp(self, self.pane_layout, self.keymap_in_force, self.warnings)
        """The help screen's rows and the keymap's warnings."""
        self.uninstall_signals: Callable[[], None] | None = None
        """Removes the SIGHUP/SIGTERM handlers installed at start (None: none installed)."""
        self._cockpit_themes, theme_warnings = install_cockpit_themes(self, boot.theme)
        self.warnings.extend(theme_warnings)
        self.set_keymap(dict(boot.keys))
        self.header = CockpitHeader(boot.context, danger=boot.danger, read_only=boot.read_only,
                                    providers=boot.providers, clock=clock,
                                    seconds=not boot.low_bandwidth, hint=self.keyhelp.hint(),
                                    id="header")
        self.wiring = FeedWiring(self, self.pane_layout, self.header,
                                 start_polling=start_polling)
        """Binds the panes and the header to the feeds and runs the feeds' jobs."""

    @property
    def config(self) -> Config | None:
        """The validated config (None while a fast start is still reading it)."""
        return self.cockpit.runtime.config if self.cockpit is not None else None

    @property
    def active_pane(self) -> str:
        """The pane ``/`` and ``z`` act on (the one shown in the one-pane layout)."""
        return self.pane_layout.active

    @property
    def compact(self) -> bool:
        """One pane at a time (the terminal is smaller than 120x40)."""
        return self.pane_layout.compact

    @property
    def _notes(self) -> NotesFeed | None:
        return self.cockpit.notes if self.cockpit is not None else None

    def keymap_in_force(self) -> dict[str, str]:
        """The ``keys:`` remappings (binding id → keys) of the config, else of the quick read."""
        return dict(self.config.keys if self.config is not None else self.boot.keys)

    # ----------------------------------------------------------------------------- keys

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and await self.keys.route(event):
            return
        await super().on_event(event)

    # ----------------------------------------------------------------------------- compose

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(self.pane_layout, id="main")

    def compose(self) -> ComposeResult:
        yield self.header
        yield Static("", id="moment-banner", markup=False)
        with Container(id="body"):
            yield from self.pane_layout.make_slots(placeholders=self.cockpit is None)
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
        """After the first frame (see :mod:`~sre_cockpit.ui.startup`): finish reading the
        config, build the feeds, bind the panes, then replay the keys typed meanwhile."""
        await first_frame_painted(self)
        self.uninstall_signals = install_exit_signals(self)
        if self.cockpit is None:
            try:
                self.cockpit = await asyncio.to_thread(
                    build_cockpit, self.loader, self.boot.context,
                    read_only=self.force_read_only, clock=self.clock)
                # The first polls go out now and are answered while the views load and mount;
                # each view gets its feed's latest snapshot when it binds.
                self.wiring.run_jobs(self.cockpit)
                classes = await load_views()
            except Exception as exc:
                self.boot_error = exc
                self.exit(return_code=2)
                return
            if dict(self.cockpit.runtime.config.keys) != dict(self.boot.keys):
                self.set_keymap(dict(self.cockpit.runtime.config.keys))
            await self.pane_layout.replace_panes(classes)
        for pane_id, error in self.pane_errors.items():
            self.log.error(f"pane {pane_id} unavailable: {error}")
        self.wiring.show_context(self.cockpit, clock=self.clock)
        self.keyhelp.check_keymap()
        self.wiring.bind(self.cockpit)
        await after_refresh(self)  # binding may hide what had the focus (empty state)
        self.set_active(self.active_pane, focus=True)
        self.started.set()
        await self.keys.replay_early()
        self.set_timer(SETTLE_AFTER_S, settle_heap)

    async def on_unmount(self) -> None:
        if self.uninstall_signals is not None:
            self.uninstall_signals()
        self.wiring.unbind()
        if self.cockpit is None:
            return
        try:
            await asyncio.wait_for(self.cockpit.aclose(), timeout=2.0)
        except (TimeoutError, Exception) as exc:  # closing must never hang or crash the exit
            self.log.warning(f"closing the feeds: {exc}")

    # ----------------------------------------------------------------------------- feeds

    # ----------------------------------------------------------------------------- app state

    def panes(self) -> list[Pane]:
        """The panes in key order (``1``-``4``)."""
        return self.pane_layout.panes()

    def pane(self, pane_id: str) -> Pane | None:
        """One pane by id (``incidents``, ``logs``, ``slos``, ``timeline``)."""
        return self.pane_layout.pane(pane_id)

    def focus_incident(self, incident: Incident | None) -> None:
        """Make ``incident`` the one the other panes narrow to (None: every incident)."""
        self.focused_incident = incident
        self.wiring.focus_incident(self.cockpit, incident)

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
        if changed:
            self.wiring.show_moment(self.cockpit, at)
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
        focused = (self.focused_incident,) if self.focused_incident is not None else ()
        open_note_editor(self, self._notes, tuple(incidents) or focused, clock=self.clock)

    def pin_line(self, line: LogLine) -> None:
        """``p`` in the log pane: the line becomes a note on the focused incident."""
        pin_line(self, self._notes, line, self.focused_incident)

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

    # ----------------------------------------------------------------------------- panes

    def set_active(self, pane_id: str, *, focus: bool) -> None:
        """Make a pane the active one (shown in the one-pane layout; target of ``/`` and ``z``)."""
        self.pane_layout.set_active(pane_id, focus=focus)

    def action_show_pane(self, pane_id: str) -> None:
        """``1``-``4``: show and focus a pane."""
        self.set_active(pane_id, focus=True)

    def action_cycle_pane(self, step: int) -> None:
        """``tab`` / ``shift+tab``: the next / previous pane."""
        self.pane_layout.cycle(step)

    def action_zoom(self) -> None:
        """``z``: maximise the active pane, or restore the layout."""
        self.pane_layout.zoom()

    def action_filter(self) -> None:
        """``/``: ask for a filter for the active pane."""
        self.pane_layout.ask_filter(self.query_one(FilterPrompt), self.filters)

    @on(FilterPrompt.Submitted)
    def _apply_filter(self, message: FilterPrompt.Submitted) -> None:
        self.pane_layout.apply_filter(message.pane_id, message.text, self.filters)

    # ----------------------------------------------------------------------------- help, quit

    def help_rows(self) -> list[Any]:
        """Every binding with its id and current key, grouped by scope."""
        return self.keyhelp.rows()

    def action_help(self) -> None:
        """``?``: every binding with its id and key."""
        self.keyhelp.show()

    def action_command_line(self) -> None:
        """``:``: open the command line."""
        self.query_one(CommandLine).open()

    @on(CommandLine.Command)
    async def _command(self, message: CommandLine.Command) -> None:
        await self.commands.run_line(self.query_one(CommandLine), message.name, message.args)

    async def run_command(self, name: str, args: tuple[str, ...]) -> str | None:
        """Run a ``:`` command (the command line and the palette); an error line or None."""
        return await self.commands.run(name, args)

    def action_request_quit(self) -> None:
        """``q``, ``ctrl+q``, ``:q`` and the palette's Quit: quit, asking first while notes are
        still waiting to be delivered."""
        request_quit(self, self._notes)

    def action_interrupt(self) -> None:
        """``ctrl+c``: quit through the same guard as ``q``, or copy the selected text of an
        input (see :func:`~sre_cockpit.ui.quit.interrupt`)."""
        interrupt(self, self._notes)

    async def action_quit(self) -> None:
        """Textual's own quit (the palette's "Quit the application"): the same guard."""
        self.action_request_quit()

    # ----------------------------------------------------------------------------- context

    def context_names(self) -> list[str]:
        """Contexts of the config (command palette, completion)."""
        return list(self.config.contexts) if self.config is not None else [self.boot.context]

    def cockpit_theme_names(self) -> list[str]:
        """The cockpit's own themes."""
        return list(self._cockpit_themes)

    def set_theme(self, name: str) -> str | None:
        """Switch theme; returns an error line for an unknown name."""
        return switch_theme(self, name, self._cockpit_themes)

    async def switch_context(self, name: str) -> str | None:
        """Build the feeds of another context and rebind the panes to them (an error line, or
        None)."""
        cockpit = open_context(self.config, name, read_only=self.force_read_only,
                               clock=self.clock)
        if isinstance(cockpit, str):
            return cockpit
        self.wiring.unbind()
        old, self.cockpit = self.cockpit, cockpit
        self.boot = replace(self.boot, context=name)
        self.pane_errors.clear()
        self.filters.clear()
        self.focused_incident = None
        self.set_moment(None)
        await self.pane_layout.remount()
        self.wiring.show_context(cockpit, clock=self.clock)
        self.set_active(self.active_pane, focus=True)
        self.wiring.bind(cockpit)
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

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        self.keyhelp.clashed(clashed_bindings)


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
