"""The SLO detail view: figures, thresholds and which rule fires, the exact queries as sent,
when it was evaluated, and any error or warning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sre_cockpit.core import slo as maths
from sre_cockpit.core.durations import humanize_age, parse_duration
from sre_cockpit.core.models import SloState
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.feeds.slo_eval import SloRow, SloSpec
from sre_cockpit.ui.plain import plain_content
from sre_cockpit.ui.slos.format import (
    BADGES,
    STATE_VAR,
    exhaustion_text,
    fmt_burn,
    fmt_objective,
    fmt_percent,
)


class SloDetailScreen(ModalScreen[None]):
    """Everything about one SLO: figures, thresholds and which rule fires, the exact queries
    as sent, when it was evaluated and any error or warning."""

    DEFAULT_CSS = """
    SloDetailScreen { align: center middle; }
    SloDetailScreen > Vertical {
        width: 95%; max-width: 140; height: auto; max-height: 95%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    SloDetailScreen VerticalScroll { height: auto; max-height: 100%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "close", "Close", id="slos.detail_close"),
    ]

    def __init__(self, body: Text, title: str) -> None:
        super().__init__()
        self.body = body
        self.detail_title = title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = plain_content(self.detail_title)  # never markup
            box.border_subtitle = "esc closes"
            with VerticalScroll():
                yield Static(self.body, markup=False, classes="slo-detail-body")

    def action_close(self) -> None:
        """Close the view."""
        self.dismiss(None)


def describe(row: SloRow, spec: SloSpec | None, now: datetime, fetched_at: datetime | None,
             colour: Callable[[str], str]) -> Text:
    """The detail view's text (plain strings styled with spans; external text sanitised)."""
    s = row.status
    text = Text()

    def line(label: str, value: str = "", style: str = "") -> None:
        text.append(f"{label:<13}", style="bold")
        text.append(value + "\n", style=style)

    text.append(sanitize_line(s.name), style="bold")
    text.append("  ")
    text.append(f" {BADGES[s.state]} ", style=f"bold reverse {colour(STATE_VAR[s.state])}")
    text.append("\n")
    if s.description:
        text.append(sanitize_line(s.description) + "\n", style="italic")
    line("objective", f"{fmt_objective(s.objective)} over {s.window}")
    if s.service:
        line("service", sanitize_line(s.service))
    if spec is not None:
        line("provider", sanitize_line(spec.provider) or "(the context's metrics provider)")
    evaluated = f"{s.evaluated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    evaluated += f"  (time={s.evaluated_at.timestamp():.0f})"
    line("evaluated", evaluated)
    if fetched_at is not None:
        line("fetched", f"{humanize_age((now - fetched_at).total_seconds())} ago")
    if row.stale_error:
        line("STALE", f"the latest evaluation failed; figures above are the last good ones: "
                      f"{sanitize_line(row.stale_error)}", style=f"bold {colour('stale')}")
    line("SLI", fmt_percent(s.sli, 4))
    line("budget left", fmt_percent(s.error_budget_remaining, 2))
    gone = exhaustion_text(s, now)
    if s.exhausted_at is not None:
        gone += f" (at {s.exhausted_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, at the 1h burn rate)"
    line("budget gone", gone)
    rules = spec.rules if spec is not None else maths.default_rules(window_seconds(s.window))
    text.append("burn rates   ", style="bold")
    for w, value in s.burn_rates.items():
        sev = maths.window_severity(w, value, rules)
        style = colour(STATE_VAR[sev]) if sev in (SloState.CRITICAL, SloState.WARNING) else ""
        text.append(f"{w} ")
        text.append(fmt_burn(value), style=style)
        text.append("  ")
    text.append("\n")
    fired = set(maths.firing_rules(s.burn_rates, rules))
    text.append("rules\n", style="bold")
    if not rules:
        text.append("  (none: alerting disabled for this SLO)\n", style="italic")
    for rule in rules:
        text.append(f"  {rule.describe()}")
        if rule in fired:
            text.append("  FIRING", style=f"bold {colour(STATE_VAR[rule.severity])}")
        text.append("\n")
    if s.error:
        text.append("error\n", style=f"bold {colour('slo-critical')}")
        text.append("  " + sanitize_line(s.error) + "\n")
    if s.warnings:
        text.append("notes and warnings\n", style="bold")
        for warning in s.warnings:
            text.append("  " + sanitize_line(warning) + "\n")
    if s.queries:
        text.append(f"queries as sent (instant queries at time={s.evaluated_at.timestamp():.0f}; "
                    "the trend by query_range)\n", style="bold")
        for key, query in s.queries.items():
            text.append(f"  {sanitize_line(key)}\n", style="dim")
            text.append("    " + sanitize(query).replace("\n", "\n    ") + "\n")
    return text


def window_seconds(window: str, *, strict: bool = False) -> float:
    """A window label in seconds; an unparsable one counts as the reference window (or raises
    ``ValueError`` when ``strict``)."""
    try:
        return parse_duration(window)
    except ValueError:
        if strict:
            raise
        return maths.REFERENCE_WINDOW_S
