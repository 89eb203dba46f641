"""The SLO pane: one row per SLO, worst first, and a detail view with the exact queries.

Row: name, objective, SLI, a budget gauge with percent, one burn-rate cell per window coloured by
the SLO's own thresholds, the state badge, when the budget is gone at the current 1h burn rate,
and a sparkline of the budget over the last day. Columns are dropped by priority when the pane is
narrow (at 80 columns: name, budget, 5m/1h/6h/1d burn, state, budget gone).

One :class:`~sre_cockpit.feeds.polling.Poller` per metrics provider evaluates that provider's SLOs
through :class:`~sre_cockpit.feeds.slo_eval.SloEvaluator`; the widget only renders. After an error the
last good figures stay, marked stale with their age; the reason is in the detail view (enter).
``show_moment(at)`` re-evaluates as of a past moment (the incident clock) until ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from sre_cockpit.core import slo as maths
from sre_cockpit.core.durations import humanize_age, parse_duration
from sre_cockpit.core.loglines import RowFilter
from sre_cockpit.core.models import HealthState, ProviderHealth, SloState, SloStatus
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slo_eval import SloEvaluator, SloRow, SloSpec
from sre_cockpit.providers.base import MetricSource
from sre_cockpit.ui.pane import Pane

SPARK = "▁▂▃▄▅▆▇█"
COLOUR_FALLBACK = {"slo-ok": "#3fcf6f", "slo-warning": "#ffd23f", "slo-critical": "#ff3b3b",
                   "slo-nodata": "#8a93a3", "stale": "#c9a227"}
BADGES = {SloState.CRITICAL: "CRIT", SloState.WARNING: "WARN", SloState.OK: "OK",
          SloState.NO_DATA: "NODATA"}
STATE_VAR = {SloState.CRITICAL: "slo-critical", SloState.WARNING: "slo-warning",
             SloState.OK: "slo-ok", SloState.NO_DATA: "slo-nodata"}


# ---------------------------------------------------------------------------------- formatting


def fmt_burn(value: float | None) -> str:
    """``"0.04"``, ``"3.50"``, ``"14.4"``, ``"120"``; ``"—"`` without data."""
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def fmt_percent(value: float | None, digits: int = 1) -> str:
    """``0.721`` → ``"72.1%"``; ``"—"`` without data."""
    if value is None or math.isnan(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_objective(objective: float) -> str:
    """``0.999`` → ``"99.9%"``."""
    return f"{round(objective * 100, 6):g}%"


def fmt_remaining(seconds: float) -> str:
    """``11520`` → ``"3h12m"``; days above one day (``"2d4h"``)."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 10:
        return f"{days}d"
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{max(minutes, 1)}m"


def exhaustion_text(status: SloStatus, now: datetime) -> str:
    """``"in 3h12m"``, ``"exhausted"`` or ``"—"``."""
    budget = status.error_budget_remaining
    if budget is not None and budget <= 0:
        return "exhausted"
    if status.exhausted_at is None:
        return "—"
    return "in " + fmt_remaining((status.exhausted_at - now).total_seconds())


def sparkline(values: Sequence[float], width: int) -> str:
    """Unicode block sparkline of the newest ``width`` values (min span 5 % of budget so noise
    does not look like a cliff)."""
    points = [v for v in values if not math.isnan(v)][-width:] if width > 0 else []
    if not points:
        return ""
    lo, hi = min(points), max(points)
    if hi - lo < 0.05:
        mid = (hi + lo) / 2
        lo, hi = mid - 0.025, mid + 0.025
    scale = (len(SPARK) - 1) / (hi - lo)
    return "".join(SPARK[max(0, min(len(SPARK) - 1, round((v - lo) * scale)))] for v in points)


def gauge(budget: float | None, width: int) -> str:
    """``███████░░░`` for the remaining fraction (clamped to 0..1)."""
    if budget is None or math.isnan(budget):
        return "·" * width
    filled = round(max(0.0, min(1.0, budget)) * width)
    return "█" * filled + "░" * (width - filled)


# ---------------------------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: key, header, width (including one separator cell), drop priority
    (higher is dropped first)."""

    key: str
    label: str
    width: int
    priority: int


WINDOW_PRIORITY = {300.0: 2, 3600.0: 2, 21600.0: 3, 86400.0: 4, 1800.0: 6, 7200.0: 6,
                   259200.0: 7}


def layout_columns(width: int, windows: Sequence[str]) -> list[Column]:
    """The columns that fit in ``width`` cells, dropping the least important first (trend,
    target, the 3d/2h/30m burn rates, SLI, 1d …; the budget gauge shrinks before anything
    important goes). Left-over room widens the name (up to 32) and then the trend (up to 25)."""
    cols = [Column("name", "SLO", 20, 0), Column("objective", "target", 8, 8),
            Column("sli", "SLI", 9, 5), Column("budget", "budget left", 17, 1)]
    for w in windows:
        try:
            seconds = parse_duration(w)
        except ValueError:
            continue
        cols.append(Column(f"burn:{w}", w, 6, WINDOW_PRIORITY.get(seconds, 7)))
    cols += [Column("state", "state", 9, 0), Column("exhaust", "budget gone", 12, 3),
             Column("trend", "trend 24h", 14, 9)]
    avail = max(30, width - 2)
    while sum(c.width for c in cols) > avail:
        droppable = [c for c in cols if c.priority > 0]
        if not droppable:
            if cols[0].width > 12:  # last resort: a narrower name
                cols[0] = replace(cols[0], width=max(12, avail - sum(c.width for c in cols[1:])))
                continue
            break
        worst = max(droppable, key=lambda c: (c.priority, cols.index(c)))
        if worst.key == "budget" and worst.width > 12:
            cols[cols.index(worst)] = replace(worst, width=12, priority=10 + worst.priority)
            continue
        cols.remove(worst)
    spare = avail - sum(c.width for c in cols)
    grow = min(12, max(0, spare))
    cols[0] = replace(cols[0], width=cols[0].width + grow)
    spare -= grow
    for i, col in enumerate(cols):
        if col.key == "trend" and spare > 0:
            cols[i] = replace(col, width=min(25, col.width + spare))
    return cols


def cell(text: str, width: int, style: str = "", *, right: bool = False) -> Text:
    """One cell cut to ``width - 1`` cells (the last cell separates columns)."""
    out = Text(text, style=style, no_wrap=True, overflow="ellipsis",
               justify="right" if right else "left")
    out.truncate(max(1, width - 1), overflow="ellipsis")
    if right:
        out = Text(" " * max(0, width - 1 - out.cell_len)) + out
    return out


# ---------------------------------------------------------------------------------- detail view


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
            box.border_title = self.detail_title
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
    rules = spec.rules if spec is not None else maths.default_rules(_window_seconds(s.window))
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


def _window_seconds(window: str) -> float:
    try:
        return parse_duration(window)
    except ValueError:
        return maths.REFERENCE_WINDOW_S


# ---------------------------------------------------------------------------------- the pane


@dataclass(frozen=True, slots=True)
class _Entry:
    row: SloRow
    provider: str
    fetched_at: datetime | None


class SloPane(Pane):
    """SLO status with burn rates, budget and trend, worst first."""

    PANE_TITLE: ClassVar[str] = "SLOs"
    EMPTY_MESSAGE: ClassVar[str] = "no SLOs configured"

    DEFAULT_CSS = """
    SloPane > DataTable { height: 1fr; }
    SloPane > .slo-waiting { color: $text-muted; padding: 1 2; height: auto; }
    SloPane > .slo-cursor-error { height: 1; }
    SloPane.-moment { border: round $slo-warning; }
    SloPane .slo-stale { color: $stale; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_detail", "Detail", id="slos.detail"),
    ]

    class SloStatusesUpdated(Message):
        """After every live evaluation: every SLO's latest status (worst first)."""

        def __init__(self, statuses: tuple[SloStatus, ...]) -> None:
            super().__init__()
            self.statuses = statuses

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, SloPane.SloStatusesUpdated)

    def __init__(self, *, name: str | None = None, id: str | None = "slos",
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.evaluator: SloEvaluator | None = None
        self.pollers: dict[str, Poller[tuple[datetime | None, datetime, list[SloRow]]]] = {}
        self.moment: datetime | None = None
        """The past moment shown (incident clock), None when live."""
        self.focused_service: str | None = None
        self.entries: dict[str, _Entry] = {}
        """Latest row per SLO name (with the provider that evaluated it)."""
        self._healths: dict[str, ProviderHealth] = {}
        self._groups: dict[str, list[str]] = {}
        self._specs: dict[str, SloSpec] = {}
        self._columns: list[Column] = []
        self._order: list[str] = []
        self._shown_cells: dict[str, list[Text]] = {}
        self._row_filter = RowFilter()
        self._clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # ------------------------------------------------------------------ composition

    def compose_body(self) -> Iterable[Widget]:
        table: DataTable[Text] = DataTable(id="slo-table", cursor_type="row",
                                           zebra_stripes=False, cell_padding=0)
        yield table
        yield Static("", classes="slo-waiting", markup=False)
        yield Static("", classes="slo-cursor-error", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(".slo-waiting", Static).display = False
        self.query_one(".slo-cursor-error", Static).display = False

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_cursor_error()

    def _render_cursor_error(self) -> None:
        """The highlighted SLO's error ("PromQL error: …", verbatim) on one line under the
        table, so it is read without opening the detail view; hidden for a healthy SLO."""
        line = self.query_one(".slo-cursor-error", Static)
        name = self._cursor_name()
        entry = self.entries.get(name) if name else None
        table = self.query_one(DataTable)
        error = None
        if entry is not None and table.display:
            error = entry.row.stale_error or entry.row.status.error
        if error:
            line.update(Text(sanitize_line(error), style=self.colour("slo-critical"),
                             no_wrap=True, overflow="ellipsis"))
        line.display = bool(error)

    def on_resize(self, event: events.Resize) -> None:
        self._refresh_rows()

    # ------------------------------------------------------------------ feeding

    def attach(self, runtime: Runtime, *, start_polling: bool = True) -> None:
        """Start one poller per metrics provider (``start_polling=False``: tests feed
        :meth:`show_statuses` or call :meth:`poll_now`)."""
        super().attach(runtime)
        self._clock = runtime.clock
        evaluator = SloEvaluator(runtime)
        self.evaluator = evaluator
        self._specs = {s.name: s for s in evaluator.specs}
        ctx = runtime.context_name
        if not evaluator.specs:
            message = f"no SLOs configured — add them under contexts.{ctx}.slos (or slos_from:)"
            if evaluator.config_error:
                message += f"; slos_from failed: {evaluator.config_error}"
            self.set_unconfigured(message)
            return
        sources = runtime.of(MetricSource)  # type: ignore[type-abstract]
        failed = {n: e for n, e in runtime.build_errors.items()
                  if runtime.types.get(n) == "prometheus"}
        for pname, error in failed.items():
            self.set_health(ProviderHealth(provider=pname, state=HealthState.ERROR, error=error))
        if not sources and not failed:
            self.set_unconfigured(f"no metrics provider configured — add one under contexts.{ctx}"
                                  ".providers (type: prometheus)")
            return
        groups: dict[str, list[str]] = {}
        for spec in evaluator.specs:
            provider, _problem = evaluator.provider_for(spec)
            group = str(getattr(provider, "name", "")) if provider is not None else ""
            groups.setdefault(group, []).append(spec.name)
        self._groups = groups
        interval = float(runtime.config.refresh.slos)
        self.health_fresh_s = 2 * interval  # older data reads "stale 1m" (pane.HealthLine)
        for pname, names in groups.items():
            if not pname:
                continue
            timeout = float(getattr(getattr(sources.get(pname), "options", None), "timeout",
                                    10.0) or 10.0)
            poller: Poller[tuple[datetime | None, datetime, list[SloRow]]] = Poller(
                pname, self._fetcher(names), interval=interval,
                deadline=max(interval, 3 * timeout + 5.0),
                on_update=lambda update, p=pname: self._on_poll(p, update),  # type: ignore[misc]
                wall=runtime.clock)
            self.pollers[pname] = poller
            self.set_health(ProviderHealth(provider=pname, state=HealthState.PENDING))
            if start_polling:
                self.run_worker(poller.run(), exit_on_error=False, group="slos-poll",
                                name=f"slos:{pname}")
        if "" in groups and start_polling:
            self.run_worker(self._evaluate_unresolved(groups[""]), exit_on_error=False,
                            group="slos-poll", name="slos:unresolved")
        self._set_extra()
        self._refresh_rows()

    def _fetcher(self, names: list[str]) -> Any:
        async def fetch() -> tuple[datetime | None, datetime, list[SloRow]]:
            assert self.evaluator is not None
            moment = self.moment
            rows = await self.evaluator.refresh(moment, only=names)
            return moment, self._clock(), rows
        return fetch

    async def _evaluate_unresolved(self, names: list[str]) -> None:
        assert self.evaluator is not None
        statuses = await self.evaluator.evaluate(self.moment, only=names)
        self.show_statuses(statuses, provider="")

    async def poll_now(self) -> None:
        """Evaluate every group once now (tests, ``:r``)."""
        import asyncio

        jobs: list[Awaitable[object]] = [p.poll_once() for p in self.pollers.values()]
        if "" in self._groups:
            jobs.append(self._evaluate_unresolved(self._groups[""]))
        await asyncio.gather(*jobs)

    def _on_poll(self, pname: str,
                 update: PollUpdate[tuple[datetime | None, datetime, list[SloRow]]]) -> None:
        self._healths[pname] = update.health
        if update.fresh and update.value is not None:
            moment, fetched, rows = update.value
            if moment == self.moment:
                for row in rows:
                    self.entries[row.status.name] = _Entry(row, pname, fetched)
        elif self.evaluator is not None:
            # never answered: show each SLO with its own error rather than a blank table
            for name in self._groups.get(pname, ()):
                attempt = self.evaluator.last_attempt.get(name)
                if name not in self.entries and attempt is not None:
                    self.entries[name] = _Entry(SloRow(attempt), pname, None)
        self.set_health(update.health)
        self._refresh_rows()
        if update.fresh and self.moment is None:
            self._post_statuses()

    def show_statuses(self, statuses: Sequence[SloStatus], *, provider: str = "",
                      fetched_at: datetime | None = None,
                      stale_errors: Mapping[str, str] | None = None) -> None:
        """Show evaluated statuses (what a successful poll does; tests feed canned values).
        ``stale_errors`` marks SLOs whose latest evaluation failed."""
        when = fetched_at or self._clock()
        errors = stale_errors or {}
        for status in statuses:
            self.entries[status.name] = _Entry(SloRow(status, errors.get(status.name)), provider,
                                               when)
        self._refresh_rows()
        if self.moment is None:
            self._post_statuses()

    def _post_statuses(self) -> None:
        statuses = tuple(e.row.status for e in self._sorted_entries())
        self.post_message(self.SloStatusesUpdated(statuses))

    # ------------------------------------------------------------------ public API (app)

    def focus_service(self, service: str | None) -> None:
        """Put that service's SLOs first (``services.<name>.slos`` and ``SloConfig.service``)."""
        self.focused_service = service
        self._set_extra()
        self._refresh_rows()
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=0)

    def show_moment(self, at: datetime | None) -> None:
        """Evaluate as of ``at`` (``time=`` on every instant query) until called with None."""
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if at == self.moment:
            return
        self.moment = at
        self.entries.clear()  # figures of another moment must not pass for this one
        self.set_class(at is not None, "-moment")
        self._set_extra()
        for poller in self.pollers.values():
            poller.trigger()
        if "" in self._groups and self.evaluator is not None and self.is_attached:
            self.run_worker(self._evaluate_unresolved(self._groups[""]), exit_on_error=False,
                            group="slos-poll", name="slos:unresolved")
        self._refresh_rows()

    def apply_filter(self, text: str) -> None:
        """Show only SLOs whose name, service or state contains every word of ``text``;
        ``/regex/`` matches a regular expression and a leading ``!`` inverts (the README's
        ``/`` key)."""
        self._row_filter = self.row_filter  # parsed by Pane.set_filter
        self._refresh_rows()

    @property
    def filter_hint(self) -> str:
        return "words in SLO name, service, state; /regex/; ! inverts"

    # ------------------------------------------------------------------ rendering

    def _set_extra(self) -> None:
        parts = []
        if self.moment is not None:
            parts.append(f"as of {self.moment.astimezone(UTC):%H:%M} UTC")
        if self.focused_service:
            parts.append(f"focus: {sanitize_line(self.focused_service)}")
        if self.evaluator is not None and self.evaluator.config_error:
            parts.append(f"slos_from: {self.evaluator.config_error}")
        if self.is_mounted:
            self.set_health([], extra="  ".join(parts))

    def colour(self, name: str) -> str:
        """A theme variable as a Rich colour (fallback when the app has none)."""
        try:
            variables: Mapping[str, str] = getattr(self.app, "theme_variables", None) or {}
        except Exception:  # not mounted in an app
            variables = {}
        value = variables.get(name)
        return str(value) if value else COLOUR_FALLBACK.get(name, "default")

    def _focused_names(self) -> set[str]:
        service = self.focused_service
        if not service:
            return set()
        names = {n for n, e in self.entries.items() if e.row.status.service == service}
        names |= {n for n, s in self._specs.items() if s.service == service}
        if self.runtime is not None:
            mapped = self.runtime.context.services.get(service)
            if mapped is not None:
                names |= set(mapped.slos)
        return names

    def _sorted_entries(self) -> list[_Entry]:
        ordered = maths.worst_first(e.row.status for e in self.entries.values())
        focused = self._focused_names()
        names = [s.name for s in ordered if s.name in focused]
        names += [s.name for s in ordered if s.name not in focused]
        return [self.entries[n] for n in names]

    def _matches(self, status: SloStatus) -> bool:
        if not self._row_filter.text:
            return True
        hay = f"{status.name} {status.service or ''} {status.state.value}"
        return self._row_filter.matches(hay)

    def _windows(self) -> list[str]:
        seen: dict[float, str] = {}
        sources = [e.row.status.burn_rates for e in self.entries.values()]
        sources += [dict.fromkeys(s.burn_windows) for s in self._specs.values()]
        for rates in sources:
            for w in rates:
                try:
                    seen.setdefault(parse_duration(w), w)
                except ValueError:
                    continue
        windows = [seen[k] for k in sorted(seen)]
        return windows or list(maths.DEFAULT_BURN_WINDOWS)

    def _refresh_rows(self) -> None:
        if not self.is_mounted or self.runtime is None:
            return
        table = self.query_one(DataTable)
        waiting = self.query_one(".slo-waiting", Static)
        width = self.size.width or 80
        columns = layout_columns(width, self._windows())
        if columns != self._columns:
            self._columns = columns
            self._shown_cells = {}
            table.clear(columns=True)
            for col in columns:
                table.add_column(col.label, key=col.key, width=col.width)
        entries = [e for e in self._sorted_entries() if self._matches(e.row.status)]
        current = self._cursor_name()
        now = self._clock()
        focused = self._focused_names()
        built = [(e.row.status.name, self._cells(e, now, e.row.status.name in focused))
                 for e in entries]
        order = [name for name, _ in built]
        if order == self._order and table.row_count == len(built) and self._shown_cells:
            # same rows in the same order (every poll of an idle cockpit): change only the cells
            # that differ; clear() + add_row repainted the whole table on every poll
            for name, cells in built:
                old = self._shown_cells.get(name, [])
                for col, new_cell, old_cell in zip(self._columns, cells, old, strict=False):
                    if _cell_key(new_cell) != _cell_key(old_cell):
                        table.update_cell(name, col.key, new_cell)
        else:
            table.clear()
            for name, cells in built:
                table.add_row(*cells, key=name)
        self._shown_cells = dict(built)
        self._order = order
        if current in self._order:
            table.move_cursor(row=self._order.index(current), scroll=False)
        if entries:
            waiting.display = False
            table.display = True
        else:
            if self.entries and self._row_filter.text:
                waiting.update(Text(f"no SLO matches the filter {sanitize_line(self._row_filter.text)!r}"))
            else:
                count = len(self._specs)
                message = Text(f"evaluating {count} SLO{'s' if count != 1 else ''}…")
                for pname, health in self._healths.items():
                    if health.error and health.state is not HealthState.OK:
                        message.append(f"\n{sanitize_line(pname)}: {sanitize_line(health.error)}",
                                       style=self.colour("slo-critical"))
                waiting.update(message)
            waiting.display = True
            table.display = False
        self._render_cursor_error()

    def _cells(self, entry: _Entry, now: datetime, focused: bool) -> list[Text]:
        row = entry.row
        s = row.status
        spec = self._specs.get(s.name)
        rules = spec.rules if spec is not None else maths.default_rules(_window_seconds(s.window))
        provider_failed = entry.provider in self._healths and \
            self._healths[entry.provider].state in (HealthState.STALE, HealthState.ERROR)
        stale = row.stale or (provider_failed and entry.fetched_at is not None)
        dim = "dim" if stale else ""
        cells: list[Text] = []
        for col in self._columns:
            w = col.width
            if col.key == "name":
                suffix = ""
                if stale and entry.fetched_at is not None:
                    suffix = f" stale {humanize_age((now - entry.fetched_at).total_seconds())}"
                elif s.error:
                    suffix = " error"
                elif s.warnings:
                    suffix = " ⚠"  # engine warnings or notes: enter shows them
                room = max(1, w - 1 - len(suffix))
                text = Text(("▶ " if focused else "") + sanitize_line(s.name),
                            style="bold" if focused else "", no_wrap=True)
                text.truncate(room, overflow="ellipsis")
                if suffix:
                    text.append(suffix, style=self.colour("stale") if stale or not s.error
                                else self.colour("slo-critical"))
                cells.append(_fit_text(text, w))
            elif col.key == "objective":
                cells.append(cell(fmt_objective(s.objective), w, dim, right=True))
            elif col.key == "sli":
                cells.append(cell(fmt_percent(s.sli, 3), w, dim, right=True))
            elif col.key == "budget":
                cells.append(self._budget_cell(s.error_budget_remaining, w, dim))
            elif col.key.startswith("burn:"):
                window = col.key[5:]
                value = _burn_for(s.burn_rates, window)
                sev = maths.window_severity(window, value, rules)
                style = dim
                if sev in (SloState.CRITICAL, SloState.WARNING):
                    style = f"bold {self.colour(STATE_VAR[sev])} {dim}".strip()
                elif sev is SloState.NO_DATA:
                    style = self.colour("slo-nodata")
                cells.append(cell(fmt_burn(value), w, style, right=True))
            elif col.key == "state":
                colour = self.colour(STATE_VAR[s.state])
                label = BADGES[s.state]
                label = f" {label} " if len(label) + 2 <= w - 1 else label
                badge = Text(label.ljust(w - 1)[: w - 1],
                             style=f"bold reverse {colour}" if not stale else f"reverse {colour} dim")
                badge.append(" ")
                cells.append(badge)
            elif col.key == "exhaust":
                gone = exhaustion_text(s, now)
                style = self.colour("slo-critical") if gone == "exhausted" else dim
                cells.append(cell(gone, w, style))
            elif col.key == "trend":
                cells.append(cell(sparkline(s.trend, w - 1), w, dim))
            else:  # pragma: no cover - every key above
                cells.append(cell("", w))
        return cells

    def _budget_cell(self, budget: float | None, width: int, dim: str) -> Text:
        # an overspent budget reads "-200.0%" (7 cells) or more: the gauge gives way to the
        # figure, which is never cut (it is the number the operator acts on)
        pct = fmt_percent(budget, 1 if budget is None or math.isnan(budget) or abs(budget) < 10
                          else 0)
        if budget is None or math.isnan(budget):
            colour = self.colour("slo-nodata")
        elif budget <= 0:
            colour = self.colour("slo-critical")
        elif budget < 0.25:
            colour = self.colour("slo-warning")
        else:
            colour = self.colour("slo-ok")
        figure = max(6, len(pct))
        bar_width = max(0, width - 2 - figure)
        text = Text(no_wrap=True)
        if bar_width >= 3:
            text.append(gauge(budget, bar_width), style=f"{colour} {dim}".strip())
            text.append(" ")
        text.append(pct.rjust(figure), style=f"{colour} {dim}".strip() if budget is not None and budget <= 0 else dim)
        return _fit_text(text, width)

    # ------------------------------------------------------------------ detail

    def _cursor_name(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:
            return None

    def cursor_status(self) -> SloStatus | None:
        """The SLO under the cursor."""
        name = self._cursor_name()
        entry = self.entries.get(name) if name else None
        return entry.row.status if entry else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_detail()

    def action_open_detail(self) -> None:
        """Open the detail view of the SLO under the cursor."""
        name = self._cursor_name()
        entry = self.entries.get(name) if name else None
        if entry is None or isinstance(self.app.screen, SloDetailScreen):
            return
        now = self._clock()
        body = describe(entry.row, self._specs.get(entry.row.status.name), now, entry.fetched_at,
                        self.colour)
        self.app.push_screen(SloDetailScreen(body, f"SLO {sanitize_line(entry.row.status.name)}"))


def _burn_for(rates: Mapping[str, float | None], window: str) -> float | None:
    if window in rates:
        return rates[window]
    try:
        seconds = parse_duration(window)
    except ValueError:
        return None
    for key, value in rates.items():
        try:
            if parse_duration(key) == seconds:
                return value
        except ValueError:
            continue
    return None


def _cell_key(text: Text) -> tuple[object, ...]:
    """What a cell looks like (Text == ignores the base style)."""
    return (text.plain, str(text.style), tuple(text.spans))


def _fit_text(text: Text, width: int) -> Text:
    out = text.copy()
    out.no_wrap = True
    out.truncate(max(1, width - 1), overflow="ellipsis", pad=True)
    out.append(" ")
    return out
