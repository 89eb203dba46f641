"""Base class of the four panes: title, source health line, explained empty state, filter hook.

Subclasses implement ``compose_body`` and ``attach``; they start their own poll workers in
``attach`` (fetch logic lives in headless core modules) and call ``set_health`` with what the
poller reports. The health line is a fixed-height widget re-rendered without a layout pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from sre_cockpit.core.durations import humanize_age
from sre_cockpit.core.loglines import RowFilter
from sre_cockpit.core.models import HealthState, ProviderHealth, utcnow
from sre_cockpit.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime


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


class HealthLine(Widget):
    """One line: per-source state, data age when it matters and the reason of the last error.

    While a source's data is fresh (see :attr:`ProviderHealth.fresh_for`) only its state is
    shown (``● alerts ok``): a seconds count would repaint the line every second for nothing.
    Older data reads ``▲ alerts stale 1m`` in the stale colour, in steps that change at most
    every 10 seconds. A one-shot timer set for the next moment the text can change (fresh data
    turning stale, the next age step) repaints the line, and only when its text changed.
    """

    DEFAULT_CSS = """
    HealthLine { height: 1; width: 1fr; color: $text-muted; }
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
        for health in self.healths.values():
            if text:
                text.append("  ")
            state = health.state
            aged = health.is_aged(now, DEFAULT_FRESH_S)
            if state is HealthState.OK and aged:
                state = HealthState.STALE
            style = {HealthState.OK: "green", HealthState.STALE: "yellow",
                     HealthState.ERROR: "red bold"}.get(state, "dim")
            text.append("● " if state is not HealthState.STALE else "▲ ", style=style)
            text.append(sanitize_line(health.provider))
            label = state.value
            if health.mode and not (aged and health.state is HealthState.OK):
                label = sanitize_line(health.mode)
            text.append(f" {label}", style=style)
            age = health.age_seconds(now)
            if age is not None and aged:
                text.append(f" {coarse_age(age)}", style=style)
            if health.rate_limited_until is not None and health.rate_limited_until > now:
                text.append(f" rate limited until {health.rate_limited_until:%H:%M:%S}", style="yellow")
            if health.error and health.state is not HealthState.OK:
                text.append(f" — {sanitize_line(health.error)}", style=style)
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
        """Seconds until the text would change by itself (data turning stale, the next coarse
        age step, a rate limit ending); None when it cannot."""
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
        """One timer for the next moment the text can change (no 1 Hz wake-ups while fresh)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.is_mounted:
            return
        wait = self.next_change_in()
        if wait is not None:
            self._timer = self.set_timer(max(0.2, wait + 0.05), self.tick,
                                         name="health-line-age")

    def render(self) -> Text:
        if self._shown is None:
            self._shown = self.make_text()
        return self._shown


class Pane(Vertical):
    """A titled pane with a health line, a body and an explained empty state."""

    PANE_TITLE: ClassVar[str] = ""
    """Border title (fixed text, never provider data)."""
    EMPTY_MESSAGE: ClassVar[str] = "no provider configured"
    """Shown instead of the body when no provider feeds this pane."""
    health_fresh_s: float = DEFAULT_FRESH_S
    """Seconds an OK answer stays fresh (panes set ~2x their refresh interval in ``attach``);
    stamped on every health this pane reports that did not set its own ``fresh_for``."""

    DEFAULT_CSS = """
    Pane { border: round $panel-lighten-2; height: 1fr; width: 1fr; }
    Pane:focus-within { border: round $accent; }
    Pane > .pane-empty { color: $text-muted; padding: 1 2; height: auto; }
    """

    class HealthChanged(Message):
        """Posted when a source's health changes (the header shows one badge per provider)."""

        def __init__(self, health: ProviderHealth) -> None:
            super().__init__()
            self.health = health

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = self.PANE_TITLE
        self.runtime: Runtime | None = None

    def compose(self) -> ComposeResult:
        yield HealthLine(classes="pane-health")
        yield Static(self.EMPTY_MESSAGE, classes="pane-empty", markup=False)
        yield from self.compose_body()

    def on_mount(self) -> None:
        self.query_one(".pane-empty").display = False

    def compose_body(self) -> Iterable[Widget]:
        """The pane's own widgets (override)."""
        return ()

    def attach(self, runtime: Runtime) -> None:
        """Start feeding the pane from ``runtime`` (override; call super first)."""
        self.runtime = runtime
        self.query_one(HealthLine).clock = runtime.clock

    def set_unconfigured(self, message: str | None = None) -> None:
        """Replace the body with a plain explanation ("no incident provider configured")."""
        empty = self.query_one(".pane-empty", Static)
        empty.update(Text(message or self.EMPTY_MESSAGE))
        empty.display = True
        for child in self.children:
            if child is not empty and not isinstance(child, HealthLine):
                child.display = False

    def set_health(self, healths: Sequence[ProviderHealth] | ProviderHealth, *,
                   extra: str | None = None) -> None:
        """Update the health line (one entry per source) and tell the header."""
        line = self.query_one(HealthLine)
        items = [healths] if isinstance(healths, ProviderHealth) else list(healths)
        for health in items:
            if health.fresh_for is None:
                health = replace(health, fresh_for=self.health_fresh_s)
            if line.healths.get(health.provider) != health:
                line.healths[health.provider] = health
                self.post_message(self.HealthChanged(health))
        if extra is not None:
            line.extra = extra
        line.tick()

    def apply_filter(self, text: str) -> None:
        """Filter the body (``/`` in the focused pane). Override."""

    def parse_row_filter(self, text: str) -> RowFilter | None:
        """Parse a table pane's ``/`` filter; an invalid regex is a toast and gives None."""
        try:
            return RowFilter.parse(text)
        except ValueError as exc:
            self.app.notify(sanitize_line(str(exc)), severity="error", markup=False)
            return None

    @property
    def filter_hint(self) -> str:
        """What ``/`` filters in this pane (shown in the filter prompt)."""
        return "substring"
