"""The cockpit header: context (loud in production), read-only marker, provider badges, UTC clock.

One line, built from fixed-size parts. A single 1 Hz timer re-renders the clock and the badges
(a badge shows an age only once its data is no longer fresh, in coarse steps) and repaints a
part only when its text changed, without a layout pass: an idle cockpit sends a
few bytes a second, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget

from sre_cockpit.core.models import HealthState, ProviderHealth, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.ui.badges import Badge, badge_text, fit_badges
from sre_cockpit.ui.pane import DEFAULT_FRESH_S, STATE_STYLES, coarse_age, theme_state_style

_STATE_RANK = {HealthState.ERROR: 0, HealthState.STALE: 1, HealthState.PENDING: 2,
               HealthState.OK: 3}


class _Part(Widget):
    """A header part that re-renders from ``make_text`` and repaints only on change."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown = Text()

    def make_text(self) -> Text:
        """The current content (override)."""
        return Text()

    def tick(self) -> bool:
        """Re-render; repaint (no layout) only if the text changed. Returns True if it did."""
        text = self.make_text()
        if text == self._shown and text.spans == self._shown.spans:
            return False
        self._shown = text
        self.refresh()
        return True

    def render(self) -> Text:
        return self._shown

    def on_mount(self) -> None:
        self._shown = self.make_text()


class ContextBadge(_Part):
    """Context name; ``-danger`` (red, "PRODUCTION") for production-like or ``danger: true``."""

    DEFAULT_CSS = """
    ContextBadge { width: auto; height: 1; padding: 0 1; background: $context-normal;
                   color: $text; text-style: bold; }
    ContextBadge.-danger { background: $context-danger; color: $context-danger-text;
                           text-style: bold; }
    """

    def __init__(self, context: str, *, danger: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self.danger = danger
        self.set_class(danger, "-danger")

    def make_text(self) -> Text:
        name = sanitize_line(self.context)
        if self.danger:
            return Text(f"⚠ PRODUCTION {name}", no_wrap=True, overflow="ellipsis")
        return Text(f"ctx {name}", no_wrap=True, overflow="ellipsis")

    def set_context(self, context: str, *, danger: bool) -> None:
        """Show another context (after ``:ctx``); the width may change, so lay out again."""
        self.context = context
        self.danger = danger
        self.set_class(danger, "-danger")
        self._shown = self.make_text()
        self.refresh(layout=True)


class ReadOnlyBadge(_Part):
    """``READ-ONLY`` marker; hidden when the context can act."""

    DEFAULT_CSS = """
    ReadOnlyBadge { width: auto; height: 1; padding: 0 1; background: $read-only;
                    color: $read-only-text; text-style: bold; }
    """

    def make_text(self) -> Text:
        return Text("READ-ONLY")


class ProviderBadges(_Part):
    """The provider badges as one line fitted to the width there is (:func:`fit_badges`):
    shortened before anything is hidden, healthy ones hidden first, errors last, and the count
    of hidden badges always shown. Repainted (no layout) only when the line changed."""

    DEFAULT_CSS = """
    ProviderBadges { width: 1fr; height: 1; padding: 0 1; }
    """

    def __init__(self, providers: Iterable[str] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock: Callable[[], datetime] = utcnow
        self.order: list[str] = list(dict.fromkeys(providers))
        self.healths: dict[tuple[str, str], ProviderHealth] = {}
        self.build_errors: dict[str, str] = {}

    def reset(self, providers: Iterable[str], build_errors: dict[str, str], *,
              keep: bool = False) -> None:
        """Start over for another context (``keep``: same context, keep what was reported)."""
        self.order = list(dict.fromkeys([*providers, *(self.order if keep else [])]))
        if not keep:
            self.healths.clear()
        self.build_errors = dict(build_errors)
        self.tick()

    def update_health(self, health: ProviderHealth, source: str = "") -> None:
        """Record what a pane reported for one provider (several panes may share one)."""
        self.healths[(source, health.provider)] = health
        if health.provider not in self.order:
            self.order.append(health.provider)
        if self.is_attached:
            self.tick()

    def on_resize(self) -> None:
        self.tick()

    def combined(self, provider: str) -> tuple[HealthState, float | None]:
        """Worst state over every pane using ``provider`` and the age of its oldest data when
        that data is no longer fresh (None while every pane's data is fresh: no age shown).
        OK data older than its ``fresh_for`` counts as STALE."""
        if provider in self.build_errors:
            return HealthState.ERROR, None
        now = self.clock()
        found = [h for (_, name), h in self.healths.items() if name == provider]
        if not found:
            return HealthState.PENDING, None
        states = [HealthState.STALE if h.state is HealthState.OK and h.is_aged(now, DEFAULT_FRESH_S)
                  else h.state for h in found]
        state = min(states, key=lambda s: _STATE_RANK.get(s, 9))
        ages = [age for h in found if (age := h.age_seconds(now)) is not None
                and h.is_aged(now, DEFAULT_FRESH_S)]
        return state, (max(ages) if ages else None)

    def badge(self, name: str) -> Badge:
        """One provider's badge value now."""
        state, age = self.combined(name)
        return Badge(name, state, coarse_age(age) if age is not None else None)

    def state_style(self, state: HealthState) -> str:
        """The Rich style of a state in the running theme (the source lines' colours)."""
        return theme_state_style(self.app, state) if self.is_attached else STATE_STYLES[state]

    def badge_text(self, name: str) -> Text:
        """``● prom ok`` while fresh; ``▲ prom 1m`` (coarse age, stale colour) once older."""
        return badge_text(self.badge(name), self.state_style)

    def make_text(self) -> Text:
        """The badges fitted to the width of this part (all of them before it is laid out)."""
        width = self.content_size.width if self.is_attached else 0
        return fit_badges([self.badge(name) for name in self.order], width, self.state_style)


class KeyHint(_Part):
    """Where the keys are explained (``? help``), always on screen whatever the footer shows."""

    DEFAULT_CSS = """
    KeyHint { width: auto; height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, hint: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hint = hint

    def make_text(self) -> Text:
        return Text(self.hint, no_wrap=True)


class Clock(_Part):
    """UTC wall clock (``HH:MM:SS UTC``; ``HH:MM UTC`` in low-bandwidth mode)."""

    DEFAULT_CSS = """
    Clock { width: 14; height: 1; padding: 0 1; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock: Callable[[], datetime] = utcnow
        self.seconds = True

    def make_text(self) -> Text:
        now = self.clock()
        return Text(f"{now:%H:%M:%S} UTC" if self.seconds else f"{now:%H:%M} UTC",
                    no_wrap=True)


class CockpitHeader(Horizontal):
    """Header line. ``tick()`` runs once per second from a single timer."""

    DEFAULT_CSS = """
    CockpitHeader { dock: top; height: 1; width: 1fr; background: $panel; }
    """

    def __init__(self, context: str, *, danger: bool, read_only: bool,
                 providers: Iterable[str] = (), build_errors: dict[str, str] | None = None,
                 clock: Callable[[], datetime] = utcnow, seconds: bool = True,
                 hint: str = "? help", id: str | None = None) -> None:
        super().__init__(id=id)
        self._hint_part = KeyHint(hint, id="header-hint")
        self._ctx_badge = ContextBadge(context, danger=danger, id="header-context")
        self._ro_badge = ReadOnlyBadge(id="header-read-only")
        self._ro_badge.display = read_only
        self._badge_part = ProviderBadges(providers, id="header-badges")
        self._badge_part.build_errors = dict(build_errors or {})
        self._badge_part.clock = clock
        self._clock_part = Clock(id="header-clock")
        self._clock_part.clock = clock
        self._clock_part.seconds = seconds

    def compose(self) -> ComposeResult:
        yield self._ctx_badge
        yield self._ro_badge
        yield self._badge_part
        yield self._hint_part
        yield self._clock_part

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick, name="header-tick")
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.tick())

    def tick(self) -> None:
        """Once per second: repaint the parts whose text changed (clock, badge ages)."""
        self._clock_part.tick()
        self._badge_part.tick()

    def update_health(self, health: ProviderHealth, source: str = "") -> None:
        """A pane reported a provider's health."""
        self._badge_part.update_health(health, source)

    def set_context(self, context: str, *, danger: bool, read_only: bool,
                    providers: Iterable[str], build_errors: dict[str, str],
                    clock: Callable[[], datetime]) -> None:
        """Switch to another context (``:ctx``), or complete the first frame's guess."""
        same = context == self._ctx_badge.context
        self._ctx_badge.set_context(context, danger=danger)
        self._ro_badge.display = read_only
        self._badge_part.clock = clock
        self._clock_part.clock = clock
        self._badge_part.reset(providers, build_errors, keep=same)
        self._clock_part.tick()

    @property
    def text(self) -> str:
        """Plain text of the whole header (tests, the first-frame probe)."""
        parts = [self._ctx_badge.make_text().plain]
        if self._ro_badge.display:
            parts.append("READ-ONLY")
        parts.append(self._badge_part.make_text().plain)
        parts.append(self._hint_part.make_text().plain)
        parts.append(self._clock_part.make_text().plain)
        return "  ".join(parts)
