"""The cockpit app: header, four panes, prompts and footer; routes the panes' messages.

Thin on purpose: panes fetch and render their own data (``Pane.attach``), the header shows what
they report, and this module only composes, switches and zooms panes, runs ``:`` commands and
forwards the cross-pane messages of the TUI contract to the public methods of the other panes.

Layout: at >= 120x40 the four panes share the screen (Incidents and Logs on the wide left
column, SLOs and Timeline on the right); below that one pane fills the body and ``tab`` /
``1``-``4`` switch. Every binding has an id and can be remapped under ``keys:`` in the config.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.actions import parse as parse_action
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from sre_cockpit.core.models import utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.cockpit import Cockpit
from sre_cockpit.feeds.incidents import IncidentsSnapshot
from sre_cockpit.feeds.slos import SlosSnapshot
from sre_cockpit.ui.commandline import (
    BottomPrompt,
    CockpitCommands,
    CommandLine,
    PromptInput,
)
from sre_cockpit.ui.filterprompt import FilterPrompt
from sre_cockpit.ui.header import CockpitHeader
from sre_cockpit.ui.incidents.view import IncidentsPane
from sre_cockpit.ui.keyhold import KeyHold
from sre_cockpit.ui.messages import IncidentsChanged, SlosChanged
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.quit import QuitScreen
from sre_cockpit.ui.shellcommands import ShellCommands
from sre_cockpit.ui.slos.view import SloPane
from sre_cockpit.ui.slots import (
    GRID_ORDER,
    PANES,
    PANES_GROUP,
    PaneSlot,
    PaneSpec,
    cockpit_dialogs,
    load_pane_class,
    starting_pane,
)
from sre_cockpit.ui.themes import DEFAULT_THEME, VARIABLE_DEFAULTS, load_themes, rich_color

if TYPE_CHECKING:  # the providers and the schema load after the first frame
    from sre_cockpit.config.model import Config, ServiceConfig
    from sre_cockpit.feeds.runtime import Runtime

__all__ = ["PANES", "BootInfo", "CockpitApp", "PaneSlot", "PaneSpec", "boot_app",
           "load_pane_class", "make_app"]

FOCUS_ACTIONS = frozenset({"show_pane", "cycle_pane", "zoom", "filter", "command_line", "help"})
"""Global actions that move the focus (or open a prompt): run as soon as their key is read."""


def _takes_text(widget: DOMNode | None) -> bool:
    """Whether keys are text for this widget (an input or editor: ``2`` is a character)."""
    return widget is not None and any(cls.__name__ in ("Input", "TextArea")
                                      for cls in type(widget).__mro__)


WIDE_MIN = (120, 40)
"""Smallest terminal (columns, rows) that shows all four panes at once."""


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What the first frame shows, known before the providers (or even the config) are built."""

    context: str
    danger: bool
    read_only: bool
    providers: tuple[str, ...]
    theme: str = DEFAULT_THEME
    keys: Mapping[str, str] = field(default_factory=dict)
    low_bandwidth: bool = False

    @classmethod
    def from_runtime(cls, runtime: Runtime, *, low_bandwidth: bool) -> BootInfo:
        """Everything from a built runtime."""
        config = runtime.config
        return cls(context=runtime.context_name, danger=runtime.is_production,
                   read_only=runtime.read_only, providers=tuple(runtime.context.providers),
                   theme=config.ui.theme or DEFAULT_THEME, keys=dict(config.keys),
                   low_bandwidth=low_bandwidth or config.ui.low_bandwidth)


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


class CockpitApp(ShellCommands):
    """The cockpit. Build it with ``make_app``."""

    CSS_PATH = "cockpit.tcss"
    TITLE = "sre-cockpit"
    COMMANDS = App.COMMANDS | {CockpitCommands}
    PANE_TITLES: ClassVar[dict[str, str]] = {spec.id: spec.title for spec in PANES}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_pane('incidents')", "incidents", id="cockpit.pane_incidents",
                group=PANES_GROUP),
        Binding("2", "show_pane('logs')", "logs", id="cockpit.pane_logs", group=PANES_GROUP),
        Binding("3", "show_pane('slos')", "SLOs", id="cockpit.pane_slos", group=PANES_GROUP),
        Binding("4", "show_pane('timeline')", "timeline", id="cockpit.pane_timeline",
                group=PANES_GROUP),
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
        Binding("ctrl+c", "help_quit", "how to quit", show=False, system=True,
                id="cockpit.help_quit"),
    ]

    def __init__(self, boot: BootInfo, *, config: Config | None = None,
                 runtime: Runtime | None = None, loader: Callable[[], Config] | None = None,
                 read_only: bool = False, clock: Callable[[], datetime] = utcnow,
                 start_polling: bool = True) -> None:
        super().__init__()
        self.boot = boot
        self.config: Config | None = config
        """The validated config (None for a moment after a fast start, see ``boot_app``)."""
        self._runtime = runtime
        self._loader = loader
        self.clock = clock
        self.force_read_only = read_only
        self.low_bandwidth = boot.low_bandwidth
        self.start_polling = start_polling
        self.compact = True
        self.active_pane = PANES[0].id
        self.pane_errors: dict[str, str] = {}
        """Pane id → why it is unavailable or failed (tests assert this stays empty)."""
        self.warnings: list[str] = []
        """Config problems found at start (unknown binding ids, themes), also notified."""
        self.boot_error: Exception | None = None
        """Why a fast start had to stop (the config turned out invalid); re-raised by the CLI."""
        self.started = asyncio.Event()
        """Set once the runtime exists and the panes are attached."""
        self._early_keys: list[events.Key] | None = []
        """Keys read before the panes were attached (None once they have been replayed)."""
        self._key_hold = KeyHold(self)
        """Keys read after a key that opens a dialog (``OPENS_DIALOG``), until it can take them."""
        self.filters: dict[str, str] = {}
        self.cockpit: Cockpit | None = None
        """The feeds of the current context (None until the config is read)."""
        self._subscriptions: list[Callable[[], None]] = []
        self._moment: datetime | None = None
        self._cockpit_themes: list[str] = []
        self._warned_clashes: set[str] = set()
        self._uninstall_signals: Callable[[], None] | None = None
        themes, errors = load_themes()
        for loaded in themes.values():
            self.register_theme(loaded.theme)
            self._cockpit_themes.append(loaded.theme.name)
        self.warnings.extend(f"theme: {error}" for error in errors)
        wanted = boot.theme or DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.warnings.append(f"ui.theme: unknown theme {wanted!r}; using {DEFAULT_THEME}")
            if DEFAULT_THEME in self.available_themes:
                self.theme = DEFAULT_THEME
        self.set_keymap(dict(boot.keys))
        self.header = CockpitHeader(boot.context, danger=boot.danger, read_only=boot.read_only,
                                    providers=boot.providers, clock=clock,
                                    seconds=not boot.low_bandwidth, hint=self._help_hint(),
                                    id="header")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._early_keys is not None and not self._priority_key(event.key):
                # Typed before the panes are attached: kept, replayed in order once they are
                # (a placeholder pane has no bindings, so "2t" would lose the t).
                self._early_keys.append(events.Key(event.key, event.character))
                return
            if self._key_hold.active and not self._priority_key(event.key):
                self._key_hold.add(event)
                return
            if await self._key_now(event):
                return
        await super().on_event(event)

    def _priority_key(self, key: str) -> bool:
        """Whether ``key`` has a priority binding (ctrl+q, ctrl+c work even while starting)."""
        return any(binding.priority for _, bindings in self.screen._binding_chain
                   for binding in bindings.key_to_bindings.get(key, ()))

    class _ReplayEarlyKeys(Message):
        """Posted once the panes are attached: route the keys typed while starting."""

    @on(_ReplayEarlyKeys)
    async def _replay_early_keys(self, message: _ReplayEarlyKeys) -> None:
        keys, self._early_keys = self._early_keys or [], None
        for key in keys:  # keys that arrived before this message were appended, in order
            key.set_sender(self)
            await self.on_event(key)

    async def _key_now(self, event: events.Key) -> bool:
        """Run a focus-moving binding the moment its key is routed, not after it bubbles back.

        Textual routes each key to ``screen.focused`` as soon as the app reads it, but runs
        non-priority bindings only when the key has bubbled back up to the app. Keys that
        arrive in one terminal read ("2t", ":ctx prod", "/err") are therefore all routed before
        the first one's binding moves the focus: the rest went to the old pane or were lost.
        Here the pane keys (``1``-``4``, ``tab``, ``z``, ``/``, ``:``, ``?``), a prompt's
        ``escape`` and the pane actions a widget lists in ``ROUTE_AT_ONCE`` (e.g. ``l``, the
        LogQL editor) act at routing time, so the next key already sees the new focus. An
        action listed in ``OPENS_DIALOG`` (``n``, the note editor) also acts at routing time,
        and the keys read after it wait (:class:`KeyHold`) until the dialog has the focus.
        Precedence is unchanged: only a key whose nearest binding (focused widget upwards) is
        one of these, and never while a text input has the focus.
        """
        screen = self.screen
        if screen is not self.screen_stack[0]:
            return False  # a dialog: its own bindings, as usual
        focused = screen.focused
        for namespace, bindings in screen._modal_binding_chain:
            found = bindings.key_to_bindings.get(event.key)
            if not found:
                continue
            for binding in found:
                if binding.priority:
                    continue
                _, name, _ = parse_action(binding.action)
                dialog = False
                if isinstance(namespace, PromptInput):
                    wanted = name == "cancel"
                elif namespace in (self, screen):
                    wanted = name in FOCUS_ACTIONS and not _takes_text(focused)
                else:  # a pane action that opens an editor opts in (``ROUTE_AT_ONCE``)
                    dialog = name in getattr(namespace, "OPENS_DIALOG", ())
                    wanted = ((dialog or name in getattr(namespace, "ROUTE_AT_ONCE", ()))
                              and not _takes_text(focused))
                if wanted and await self.run_action(binding.action, namespace):
                    if dialog:
                        self._key_hold.start()  # the rest of the read is for the dialog
                    event.stop()
                    return True
            return False
        return False

    def _help_hint(self) -> str:
        keys = self.boot.keys.get("cockpit.help", "question_mark").split(",")[0].strip()
        return f"{self.get_key_display(Binding(keys, 'help'))} help"

    def services(self) -> Mapping[str, ServiceConfig]:
        return self.runtime.context.services

    def default_context(self) -> str:
        return self.boot.context

    @property
    def runtime(self) -> Runtime:
        """The providers of the current context (built on first use, never during the first
        frame)."""
        if self._runtime is None:
            if self.config is None:
                raise RuntimeError("the cockpit is still reading its config")
            from sre_cockpit.feeds.runtime import Runtime

            self._runtime = Runtime(self.config, self.boot.context,
                                    read_only=self.force_read_only or None, clock=self.clock)
        return self._runtime

    # ----------------------------------------------------------------------------- compose

    def _make_slots(self, *, placeholders: bool) -> list[PaneSlot]:
        slots: dict[str, PaneSlot] = {}
        for spec in PANES:
            if placeholders:
                cls: type[Pane] = starting_pane(spec)
            else:
                cls, error = load_pane_class(spec)
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
            yield from self._make_slots(placeholders=self.config is None)
        yield CommandLine(id="command-line", names=self._names_for)
        yield FilterPrompt(id="filter-prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.set_active(self.active_pane, focus=True)
        for warning in self.warnings:
            self.notify(warning, severity="warning", timeout=10)
        # a worker, not the after-refresh callback itself: that would hold the screen's queue
        self.call_after_refresh(lambda: self.run_worker(self._start(), name="start",
                                                        group="cockpit-start"))

    async def _start(self) -> None:
        """After the first frame: finish reading the config, build the providers, attach."""
        await self._first_frame_painted()
        if not self.is_headless:
            from sre_cockpit.feeds.signals import install_signal_handlers

            # SIGHUP (SSH dropped) / SIGTERM: flush journals and drafts, then leave cleanly.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self._uninstall_signals = install_signal_handlers(
                    on_exit=lambda signum: self.exit(return_code=128 + signum))
        if self.config is None:
            try:
                loader = self._loader
                if loader is None:
                    raise RuntimeError("no config and no loader")
                config = await asyncio.to_thread(loader)
                if self.boot.context not in config.contexts:
                    from sre_cockpit.config.model import resolve_context

                    resolve_context(config, self.boot.context)  # raises the usual error
                classes = await asyncio.to_thread(lambda: [load_pane_class(s) for s in PANES])
            except Exception as exc:
                self.boot_error = exc
                self.exit(return_code=2)
                return
            self.config = config
            if dict(config.keys) != dict(self.boot.keys):
                self.set_keymap(dict(config.keys))
            await self._replace_panes(dict(zip((s.id for s in PANES), classes, strict=True)))
        for pane_id, error in self.pane_errors.items():
            self.log.error(f"pane {pane_id} unavailable: {error}")
        runtime = self.runtime
        self.header.set_context(runtime.context_name, danger=runtime.is_production,
                                read_only=runtime.read_only, providers=runtime.context.providers,
                                build_errors=runtime.build_errors, clock=self.clock)
        self._check_keymap()
        self._attach_panes()
        await self._after_refresh()  # attaching may hide what had the focus (empty state)
        self.set_active(self.active_pane, focus=True)
        self.started.set()
        self.post_message(self._ReplayEarlyKeys())

    async def _first_frame_painted(self) -> None:
        """Wait (at most ~0.5 s) until the footer shows its keys and that frame is painted, so
        the heavy imports that follow never hold back the first complete frame."""
        footer = self.query_one(Footer)
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
        self._unsubscribe()
        if self._runtime is None:
            return
        try:
            await asyncio.wait_for(self._runtime.aclose(), timeout=2.0)
        except (TimeoutError, Exception) as exc:  # closing must never hang or crash the exit
            self.log.warning(f"closing providers: {exc}")

    def _attach_panes(self) -> None:
        runtime = self.runtime
        self._unsubscribe()
        self.cockpit = Cockpit(runtime.config, runtime.context_name, runtime=runtime)
        for pane in self.panes():
            if pane.id in self.pane_errors:  # a stand-in already saying why it is missing
                continue
            try:
                if isinstance(pane, IncidentsPane):
                    pane.bind(self.cockpit.incidents)
                    continue
                if isinstance(pane, SloPane):
                    pane.bind(self.cockpit.slos)
                    continue
                takes_flag = "start_polling" in inspect.signature(pane.attach).parameters
                if not self.start_polling and not takes_flag:
                    continue  # tests: the pane stays as composed, nothing is fetched
                if takes_flag:
                    pane.attach(runtime, start_polling=self.start_polling)  # type: ignore[call-arg]
                else:
                    pane.attach(runtime)
            except Exception as exc:  # one pane failing must not take the others down
                reason = sanitize_line(f"{type(exc).__name__}: {exc}".splitlines()[0])
                self.pane_errors[str(pane.id)] = reason
                self.log.error(f"pane {pane.id} failed to attach: {reason}")
                with contextlib.suppress(Exception):  # the pane may be half-built
                    pane.set_unconfigured(f"{pane.PANE_TITLE or pane.id} pane failed to start: "
                                          f"{reason}")
        self._subscriptions.append(self.cockpit.incidents.subscribe(self._incidents_changed))
        self._subscriptions.append(self.cockpit.slos.subscribe(self._slos_changed))
        self._incidents_changed(self.cockpit.incidents.snapshot)
        self._slos_changed(self.cockpit.slos.snapshot)
        if self.start_polling:
            for job in self.cockpit.jobs():
                self.run_worker(job.run(), name=job.name, group="feeds", exit_on_error=False)

    def _unsubscribe(self) -> None:
        for unsubscribe in self._subscriptions:
            unsubscribe()
        self._subscriptions.clear()
        self.workers.cancel_group(self, "feeds")

    def _slos_changed(self, snapshot: SlosSnapshot) -> None:
        """The SLO feed published: its view, the header and (live figures) the timeline."""
        pane = self.pane("slos")
        if isinstance(pane, SloPane):
            pane.post_message(SlosChanged(snapshot))
        for health in snapshot.sources:
            self.header.update_health(health, source="slos")
        if snapshot.moment is None and snapshot.entries:
            self._call(self.pane("timeline"), "observe_slos", snapshot.statuses)

    def _incidents_changed(self, snapshot: IncidentsSnapshot) -> None:
        """The incident feed published: its view, the header and the timeline hear of it."""
        pane = self.pane("incidents")
        if isinstance(pane, IncidentsPane):
            pane.post_message(IncidentsChanged(snapshot))
        for health in snapshot.sources:
            self.header.update_health(health, source="incidents")
        # after the incidents pane has drawn: with an alert flood the timeline's own work
        # (an alert_start event per alert) would hold the pane's first rows back
        self.call_after_refresh(self._call, self.pane("timeline"), "set_incidents",
                                snapshot.incidents)

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
        """``?``: every binding with its id and key."""
        from sre_cockpit.ui.help import HelpScreen

        self.push_screen(HelpScreen(self.help_rows()))

    def action_command_line(self) -> None:
        """``:``: open the command line."""
        self.query_one(CommandLine).open()

    async def switch_context(self, name: str) -> str | None:
        """Rebuild the runtime for another context and restart the panes on it."""
        if self.config is None:
            return "still starting — try again in a moment"
        if name not in self.config.contexts:
            hint = difflib.get_close_matches(name, self.context_names(), n=1)
            did = f" — did you mean {hint[0]}?" if hint else ""
            return (f"unknown context {sanitize_line(name)!r}{did} "
                    f"(contexts: {', '.join(self.context_names())})")
        from sre_cockpit.feeds.runtime import Runtime

        try:
            runtime = Runtime(self.config, name, read_only=self.force_read_only or None,
                              clock=self.clock)
        except Exception as exc:
            return sanitize_line(f"cannot open context {name}: {exc}")
        old, self._runtime = self._runtime, runtime
        self.boot = replace(self.boot, context=name)
        screen = self.screen_stack[0]
        if screen.maximized is not None:
            screen.minimize()
        self.pane_errors.clear()
        self.filters.clear()
        self._show_moment(None, "")
        body = self.query_one("#body", Container)
        await body.remove_children()
        await body.mount_all(self._make_slots(placeholders=False))
        self.header.set_context(runtime.context_name, danger=runtime.is_production,
                                read_only=runtime.read_only, providers=runtime.context.providers,
                                build_errors=runtime.build_errors, clock=self.clock)
        self.set_active(self.active_pane, focus=True)
        self._attach_panes()
        if old is not None:
            self.run_worker(old.aclose(), exit_on_error=False, group="runtime-close")
        self.notify(f"context {sanitize_line(name)}", timeout=3)
        return None

    # ----------------------------------------------------------------------------- themes, keys

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
                hint = difflib.get_close_matches(binding_id, sorted(known), n=1)
                did = f" (did you mean {hint[0]}?)" if hint else ""
                warning = f"keys: unknown binding id {sanitize_line(binding_id)!r}{did}"
                self.warnings.append(warning)
                self.notify(warning, severity="warning", timeout=10)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        for binding in clashed_bindings:
            ident = binding.id or binding.action
            if ident in self._warned_clashes:
                continue
            self._warned_clashes.add(ident)
            warning = f"keys: {binding.key!r} of {ident} is now taken by a remapped binding"
            self.warnings.append(warning)
            self.notify(warning, severity="warning", timeout=10)


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
        start_polling: False: panes are attached with ``start_polling=False`` and fetch nothing
            (snapshot tests); a pane whose ``attach`` has no such flag is not attached.

    Returns:
        The app, not yet running. Providers are constructed here (no I/O); they fetch only
        after the first frame, from the panes' workers.

    Raises:
        KeyError: ``context`` is not in the config.
    """
    from sre_cockpit.feeds.runtime import Runtime

    if low_bandwidth and not config.ui.low_bandwidth:
        config = config.model_copy(update={"ui": config.ui.model_copy(
            update={"low_bandwidth": True})})
    runtime = Runtime(config, context, read_only=read_only or None, clock=clock)
    boot = BootInfo.from_runtime(runtime, low_bandwidth=low_bandwidth)
    return CockpitApp(boot, config=config, runtime=runtime, read_only=read_only, clock=clock,
                      start_polling=start_polling)


def boot_app(boot: BootInfo, loader: Callable[[], Config], *, read_only: bool = False,
             clock: Callable[[], datetime] = utcnow) -> CockpitApp:
    """The fast start used by ``sre-cockpit``: the first frame is drawn from ``boot`` (read from
    the raw YAML), then ``loader`` validates the config in a thread, the panes are loaded and the
    providers built. If the config is invalid the app exits with status 2 and ``boot_error``
    holds the ``ConfigError``.
    """
    return CockpitApp(boot, loader=loader, read_only=read_only, clock=clock)
