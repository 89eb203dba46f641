"""The base class of every pane, and the truth contract it implements once for all of them.

A pane shows what its feed publishes and never fetches. Whatever the pane, the screen never says
more than the feed knows:

- **Sources.** The first line shows every source of the pane: ``● alerts ok`` while fresh,
  ``▲ pd stale 40s: HTTP 500 …`` when the last good data is still on screen but the latest
  answer failed or is overdue, ``✖ loki error: never connected: …`` when it never answered,
  ``○ prom waiting…`` before the first answer. (:class:`SourceLine`)
- **Filters.** While a filter is on, a line says so with its text and what it hides
  (``/checkout — 3 of 7 shown, 4 hidden · esc clears``); the counts are recomputed from every
  snapshot, so a new row that the filter hides still changes them. ``escape`` in the pane clears
  the filter before it does anything else. (:class:`FilterBar`)
- **Focus.** The pane itself can take the focus: when its table is hidden (no rows, an empty
  state instead) the keys still reach the pane's bindings instead of going nowhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static

from sre_cockpit.core.durations import humanize_age
from sre_cockpit.core.loglines import RowFilter
from sre_cockpit.core.models import HealthState, Incident, LogLine, ProviderHealth, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.plain import plain
from sre_cockpit.ui.themes import theme_colour
from sre_cockpit.ui.toast import toast

DEFAULT_FRESH_S = 30.0
"""How long an OK answer counts as fresh when the source did not say (streams)."""


def coarse_age(seconds: float) -> str:
    """An age that changes rarely: ``<10s``, ``10s`` … ``50s`` (10-second steps), then
    ``1m`` … ``59m``, ``1h``, ``1d`` (:func:`humanize_age` above a minute)."""
    if seconds < 10:
        return "<10s"
    if seconds < 60:
        return f"{int(seconds // 10) * 10}s"
    return humanize_age(seconds)


def _next_step(age: float) -> float:
    """Seconds until :func:`coarse_age` of ``age`` changes."""
    for unit, limit in ((10.0, 60.0), (60.0, 3600.0), (3600.0, 86400.0)):
        if age < limit:
            return unit - age % unit
    return 86400.0 - age % 86400.0


STATE_STYLES = {HealthState.OK: "green", HealthState.STALE: "yellow",
                HealthState.ERROR: "red bold", HealthState.PENDING: "dim"}
"""Styles of the states outside an app (tests, plain text); a pane uses its theme's."""
STATE_VARIABLES = {HealthState.OK: "success", HealthState.STALE: "warning",
                   HealthState.ERROR: "error", HealthState.PENDING: "text-muted"}
"""The theme colour of each state (the one colour table: header badges use the same)."""


def theme_state_style(app: object, state: HealthState) -> str:
    """A state's style in the running theme (errors bold)."""
    colour = theme_colour(app, STATE_VARIABLES[state])
    return f"bold {colour}" if state is HealthState.ERROR else colour
STATE_SYMBOLS = {HealthState.OK: "●", HealthState.STALE: "▲", HealthState.ERROR: "✖",
                 HealthState.PENDING: "○"}


def shown_state(health: ProviderHealth, now: datetime) -> HealthState:
    """The state a source is shown in: OK data older than its ``fresh_for`` is stale."""
    if health.state is HealthState.OK and health.is_aged(now, DEFAULT_FRESH_S):
        return HealthState.STALE
    return health.state


def source_text(health: ProviderHealth, now: datetime,
                style_of: Callable[[HealthState], str] = STATE_STYLES.__getitem__) -> Text:
    """One source as the truth contract words it (see the module docstring), each state in
    ``style_of(state)``."""
    state = shown_state(health, now)
    style = style_of(state)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(STATE_SYMBOLS[state] + " ", style=style)
    text.append(sanitize_line(health.label or health.provider))
    age = health.age_seconds(now)
    if state is HealthState.OK:
        text.append(f" {sanitize_line(health.mode) if health.mode else 'ok'}", style=style)
    elif state is HealthState.PENDING:
        text.append(" waiting…", style=style)
    elif state is HealthState.STALE:
        reason = health.error if health.state is not HealthState.OK else None
        if reason is None and health.last_ok_at is not None:
            reason = f"no new answer since {health.last_ok_at:%H:%M:%S}"
        label = f" stale {coarse_age(age)}" if age is not None else " stale"
        if health.mode and health.state is not HealthState.OK:
            label += f" ({sanitize_line(health.mode)})"
        text.append(label, style=style)
        if reason:
            text.append(": " + sanitize_line(reason), style=style)
    else:
        text.append(" error", style=style)
        if health.error:
            text.append(": " + sanitize_line(health.error), style=style)
    if health.rate_limited_until is not None and health.rate_limited_until > now:
        text.append(f" (rate limited until {health.rate_limited_until:%H:%M:%S})",
                    style=style_of(HealthState.STALE))
    return text


class SourceLine(Widget):
    """One line: every source of the pane in the truth contract's words, then extra facts.

    A one-shot timer set for the next moment the text can change (fresh data turning stale, the
    next coarse age step, a rate limit ending) repaints the line, and only when its text
    changed: an idle pane does not repaint every second for nothing.
    """

    DEFAULT_CSS = """
    SourceLine { height: 1; width: 1fr; color: $text-muted; text-wrap: nowrap;
                 text-overflow: ellipsis; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.healths: dict[str, ProviderHealth] = {}
        self.extra: str = ""
        self.clock = utcnow
        self._shown: Text | None = None
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._schedule()

    def make_text(self) -> Text:
        """The line as it should read now."""
        now: datetime = self.clock()
        text = Text(no_wrap=True, overflow="ellipsis")
        style_of = partial(theme_state_style, self.app) if self.is_attached else None
        for health in self.healths.values():
            if text:
                text.append("  ")
            text.append_text(source_text(health, now, style_of) if style_of is not None
                             else source_text(health, now))
        if self.extra:
            text.append(("  " if text else "") + sanitize_line(self.extra))
        return text

    def tick(self) -> bool:
        """Re-render; repaint (no layout) only if the text changed. True if it did."""
        self._schedule()
        text = self.make_text()
        shown = self._shown
        if shown is not None and text.plain == shown.plain and text.spans == shown.spans:
            return False
        self._shown = text
        self.refresh()
        return True

    def next_change_in(self) -> float | None:
        """Seconds until the text would change by itself; None when it cannot."""
        now = self.clock()
        waits: list[float] = []
        for health in self.healths.values():
            age = health.age_seconds(now)
            if age is not None and health.state in (HealthState.OK, HealthState.STALE):
                fresh = health.fresh_for if health.fresh_for is not None else DEFAULT_FRESH_S
                if health.state is HealthState.OK and age <= fresh:
                    if math.isfinite(fresh):
                        waits.append(fresh - age)
                else:
                    waits.append(_next_step(age))
            until = health.rate_limited_until
            if until is not None and until > now:
                waits.append((until - now).total_seconds())
        return min(waits) if waits else None

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.is_mounted:
            return
        wait = self.next_change_in()
        if wait is not None:
            self._timer = self.set_timer(max(0.2, wait + 0.05), self.tick, name="source-line-age")

    def render(self) -> Text:
        if self._shown is None:
            self._shown = self.make_text()
        return self._shown


HealthLine = SourceLine
"""The name the panes used before the truth contract."""


class FilterBar(Static):
    """The active filter and what it hides; hidden while no filter is on."""

    DEFAULT_CSS = """
    FilterBar { height: 1; width: 1fr; display: none; color: $warning; text-style: bold; }
    FilterBar.-on { display: block; }
    """


class PaneTable(DataTable[Text]):
    """The table of a table pane (incidents, SLOs, timeline), with the keys k9s and lnav users
    expect: ``j``/``k`` down/up, ``g``/``home`` the first row, ``G``/``end`` the last.

    Textual's ``DataTable`` gives ``home``/``end`` to the leftmost/rightmost *column*, which
    does nothing visible with a row cursor and no horizontal scroll: the help promised them and
    nothing happened. Arrows, page up/down and ``ctrl+home``/``ctrl+end`` stay Textual's.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "down", show=False, id="table.down"),
        Binding("k", "cursor_up", "up", show=False, id="table.up"),
        Binding("home,g", "scroll_top", "first row", show=False, id="table.first"),
        Binding("end,G", "scroll_bottom", "last row", show=False, id="table.last"),
    ]


class Pane(Vertical, can_focus=True):
    """A titled pane: source line, filter bar, explained empty state, body."""

    PANE_TITLE: ClassVar[str] = ""
    """Border title (fixed text, never provider data)."""
    EMPTY_MESSAGE: ClassVar[str] = "no provider configured"
    """Shown instead of the body when nothing feeds this pane."""
    ITEM_NOUN: ClassVar[str] = "rows"
    """What the filter counts (``incidents``, ``SLOs``…)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "escape", "clear filter", show=False, id="pane.escape"),
    ]

    # The title is text, the border is not: without its own colour the title took the
    # border's (dark grey on black in war-room, white on near-white in daylight).
    DEFAULT_CSS = """
    Pane { border: round $panel-lighten-2; height: 1fr; width: 1fr;
           border-title-color: $text-muted; border-subtitle-color: $text-muted; }
    Pane:focus-within, Pane:focus { border: round $accent; border-title-color: $accent;
                                    border-subtitle-color: $accent; }
    Pane > .pane-empty { color: $text-muted; padding: 1 2; height: auto; }
    """

    class FocusRequested(Message):
        """The operator focused an incident (enter), or left it (``incident`` None): the app
        makes it the cockpit's focused incident and every pane follows (``show_focus``)."""

        def __init__(self, incident: Incident | None) -> None:
            super().__init__()
            self.incident = incident

    class NoteRequested(Message):
        """``n``: the app opens the durable note editor for ``incidents`` (empty: the focused
        incident)."""

        def __init__(self, incidents: tuple[Incident, ...] = ()) -> None:
            super().__init__()
            self.incidents = incidents

    class PinRequested(Message):
        """``p``: the app pins ``line`` to the focused incident (a note)."""

        def __init__(self, line: LogLine) -> None:
            super().__init__()
            self.line = line

    class MomentRequested(Message):
        """The operator chose a moment (``at``) on the timeline, or live (``at`` None): the app
        moves every pane and feed there (``show_moment``)."""

        def __init__(self, at: datetime | None, label: str = "") -> None:
            super().__init__()
            self.at = at
            self.label = label

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = self.PANE_TITLE
        self.filter_text = ""
        """The filter as typed ("" when none)."""
        self.row_filter = RowFilter()
        """The parsed filter (table panes)."""
        self.filter_extra = ""
        """A filter that is not typed text (the incidents pane's "mine only"), shown in the
        filter bar after the text; "" when none. ``escape_pressed`` should clear it."""
        self._filter_counts: tuple[int, int] | None = None
        self._filter_note = ""
        self._filter_shown: str | None = None

    def compose(self) -> ComposeResult:
        yield SourceLine(classes="pane-health")
        yield FilterBar("", classes="pane-filter", markup=False)
        yield Static(self.EMPTY_MESSAGE, classes="pane-empty", markup=False)
        yield from self.compose_body()

    def on_mount(self) -> None:
        self.query_one(".pane-empty").display = False
        self.app.theme_changed_signal.subscribe(self, self._theme_signal)

    def _theme_signal(self, _theme: object) -> None:
        self.theme_changed()

    def theme_changed(self) -> None:
        """The theme changed (``:theme``, the palette): re-render what carries theme colours
        in Rich text: CSS colours follow by themselves, text built with the old theme's colours
        (table cells, the source line) would keep them — after ``:theme ansi-16`` a 256-colour
        terminal got 256-colour indices from cells built under war-room. Override to re-render
        the pane's own text; call super."""
        self.query_one(SourceLine).tick()

    def compose_body(self) -> Iterable[Widget]:
        """The pane's own widgets (override)."""
        return ()

    # ------------------------------------------------------------------------------ feed

    def bind(self, feed: Any) -> None:
        """Show ``feed``: render its current snapshot, then every message the app posts for
        each later one (override in every view; see :meth:`changed_message`)."""
        raise NotImplementedError(f"{type(self).__name__} shows no feed")

    def changed_message(self, snapshot: Any) -> Message:
        """The typed message that carries one of this view's feed snapshots (override)."""
        raise NotImplementedError(f"{type(self).__name__} shows no feed")

    def batch_message(self, batch: Any) -> Message:
        """The typed message that carries one batch of a feed that also hands over batches
        (:class:`~sre_cockpit.feeds.base.BatchFeed`, the log lines; override in its view)."""
        raise NotImplementedError(f"{type(self).__name__} takes no batches")

    def show_focus(self, incident: Incident | None) -> None:
        """The cockpit's focused incident changed (app-level state; override to follow it)."""

    def show_moment(self, at: datetime | None) -> None:
        """The cockpit's clock moment changed (app-level state; override to follow it)."""

    # ------------------------------------------------------------------------------ sources

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """The clock every age is measured with (tests freeze it)."""
        self.query_one(SourceLine).clock = clock

    def show_sources(self, sources: Sequence[ProviderHealth], extra: str = "") -> None:
        """Show exactly these sources (a feed's snapshot) and the extra facts after them."""
        line = self.query_one(SourceLine)
        wanted = {h.provider if not h.label else f"{h.provider}/{h.label}": h for h in sources}
        if wanted != line.healths or extra != line.extra:
            line.healths = wanted
            line.extra = extra
        line.tick()

    def set_unconfigured(self, message: str | None = None) -> None:
        """Replace the body with a plain explanation ("no incident provider configured")."""
        empty = self.query_one(".pane-empty", Static)
        empty.update(plain(message or self.EMPTY_MESSAGE, multiline=True))
        empty.display = True
        for child in self.children:
            if child is not empty and not isinstance(child, SourceLine | FilterBar):
                child.display = False

    # ------------------------------------------------------------------------------ filter

    @property
    def filter_hint(self) -> str:
        """What ``/`` filters in this pane (shown in the filter prompt)."""
        return "words; /regex/; ! inverts"

    def parse_filter(self, text: str) -> RowFilter:
        """Parse a filter as typed (override for another grammar).

        Raises:
            ValueError: an invalid filter (message fit for a toast).
        """
        return RowFilter.parse(text)

    def set_filter(self, text: str) -> bool:
        """Apply a filter typed at ``/`` ("" clears). An invalid one is a toast and the
        previous filter stays. Returns whether it was applied."""
        text = text.strip()
        try:
            parsed = self.parse_filter(text)
        except ValueError as exc:
            toast(self, str(exc), title="filter not applied", severity="error")
            return False
        self.filter_text = text
        self.row_filter = parsed
        self._filter_counts = None
        self.filter_changed()
        self._render_filter_bar()
        return True

    def clear_filter(self) -> bool:
        """Remove the filter; True if there was one."""
        if not self.filter_text:
            return False
        self.set_filter("")
        return True

    def filter_changed(self) -> None:
        """Re-render after the filter changed (override: every view filters what it shows)."""

    def show_filter_counts(self, shown: int, total: int, note: str = "") -> None:
        """Tell the filter bar how many items the filter lets through of how many, and
        anything more it should say about them (``12 of them in 3 collapsed groups``)."""
        self._filter_counts = (shown, total)
        self._filter_note = note
        self._render_filter_bar()

    def _render_filter_bar(self) -> None:
        bar = self.query_one(FilterBar)
        if not self.filter_text and not self.filter_extra:
            bar.set_class(False, "-on")
            self._filter_shown = None
            return
        parts = [f"/{sanitize_line(self.filter_text)}"] if self.filter_text else []
        if self.filter_extra:
            parts.append(sanitize_line(self.filter_extra))
        text = " + ".join(parts)
        if self._filter_counts is not None:
            shown, total = self._filter_counts
            text += (f" — {shown} of {total} {self.ITEM_NOUN} shown, {total - shown} hidden"
                     if total else f" — no {self.ITEM_NOUN} yet")
        if self._filter_note:
            text += f" · {sanitize_line(self._filter_note)}"
        text += " · esc clears"
        if text != self._filter_shown:
            self._filter_shown = text
            # one fixed-size line: no layout pass (the log pane updates its counts with every
            # batch of lines, up to 4 times a second)
            bar.update(plain(text, no_wrap=True, overflow="ellipsis"), layout=False)
        bar.set_class(True, "-on")

    # ------------------------------------------------------------------------------ keys

    def action_escape(self) -> None:
        """``escape``: clear the filter first; then whatever the pane does on escape."""
        if not self.clear_filter():
            self.escape_pressed()

    def escape_pressed(self) -> None:
        """``escape`` with no filter on (override: clear a selection, leave a focus…)."""

    def focus_target(self) -> Widget:
        """The widget that should have the focus in this pane: its main widget while shown,
        else the pane itself (so its keys keep working over an empty state)."""
        for widget in self.query("*"):
            if widget.focusable and all(node.display for node in widget.ancestors_with_self
                                        if node is self or self in node.ancestors):
                return widget
        return self
