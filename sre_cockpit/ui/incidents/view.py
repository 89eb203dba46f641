"""The incidents pane: every incident provider merged in one table, and the actions on it.

Rows are keyed by ``Incident.key`` and updated in place (changed cells only, added/removed rows
only), so the cursor and scroll position survive every poll. Order: triggered first, then
acknowledged, then resolved; within a status by severity (critical first); within a severity the
newest incident first (a fresh page is what the operator is looking for), then by key.

Keys (pane-local, remappable by id ``incidents.<name>``): ``a`` ack, ``r`` resolve, ``n`` note
(posts :class:`IncidentsPane.NoteRequested`), ``s`` silence, ``S``/``X`` expire silence, ``o`` copy
the URL (OSC 52, plus tmux's passthrough form inside tmux) and show it as a link, ``x``/space
select rows for a bulk action, ``enter`` focus the incident (:class:`IncidentsPane.IncidentFocused`),
``esc`` clear the selection, else unfocus. An action the target's provider lacks is greyed out
(``check_action`` → None) and pressing its key says why. ``IncidentsUpdated`` is posted whenever
the merged list changes.

One :class:`~sre_cockpit.feeds.polling.Poller` per provider, so a dead backend never blocks another.
Actions go through a confirm dialog that shows provider, endpoint and payload; the row changes
optimistically and the next poll (triggered right after the action) reconciles it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from sre_cockpit.core.durations import humanize_age
from sre_cockpit.core.loglines import RowFilter
from sre_cockpit.core.models import HealthState, Incident, IncidentStatus, ProviderHealth, Severity
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.providers.base import (
    ActionPreview,
    ActionResult,
    IncidentActions,
    IncidentSource,
    ProviderError,
    SilenceRequest,
)
from sre_cockpit.ui.dialogs import ACTION_TITLES, ConfirmActionDialog, SilenceDialog
from sre_cockpit.ui.pane import Pane

ACTION_NAMES = ("ack", "resolve", "note", "silence", "expire_silence")
COLUMNS = (("id", "id"), ("severity", "sev"), ("status", "status"), ("title", "title"),
           ("service", "service"), ("age", "age"), ("assignee", "assignee"), ("source", "source"))
SEVERITY_FALLBACK = {"critical": "#ff5555", "high": "#ff9944", "warning": "#e5c07b",
                     "info": "#61afef", "unknown": "#888888"}
MAX_CLIPBOARD_BYTES = 8192
STATUS_LABELS = {IncidentStatus.TRIGGERED: "triggered", IncidentStatus.ACKNOWLEDGED: "acked",
                 IncidentStatus.RESOLVED: "resolved"}
_URL_SAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#@!&'()*+,;=%]")


def column_widths(width: int, id_len: int) -> dict[str, int]:
    """Column widths (each including one separator space) for a table ``width`` cells wide:
    id, severity, status and age keep their size; title gets most of the rest."""
    avail = max(40, width - 2)  # room for the vertical scrollbar
    widths = {"id": max(8, min(13, id_len + 3)), "severity": 9, "status": 10, "age": 5}
    flex = avail - sum(widths.values())
    widths["service"] = max(7, min(25, int(flex * 0.15)))
    widths["assignee"] = max(7, min(25, int(flex * 0.15)))
    widths["source"] = max(7, min(17, int(flex * 0.11)))
    widths["title"] = max(10, flex - widths["service"] - widths["assignee"] - widths["source"])
    return widths


def fit(text: str, width: int, style: str = "") -> Text:
    """One cell: ``text`` cut to ``width - 1`` cells with an ellipsis (the last cell separates
    columns)."""
    cell = Text(text, style=style, no_wrap=True, overflow="ellipsis")
    cell.truncate(max(1, width - 1), overflow="ellipsis")
    return cell


def sort_key(incident: Incident) -> tuple[int, int, float, str]:
    """Triggered first, then severity, then newest first, then key (stable)."""
    return (incident.status.rank, incident.severity.rank, -incident.started_at.timestamp(),
            incident.key)


def markup_safe_url(url: str) -> str | None:
    """``url`` percent-encoded so it can sit inside Textual link markup, or None if it is not
    an http(s) URL."""
    if not re.match(r"(?i)^https?://[^\s]+$", url):
        return None
    return _URL_SAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), url)


def osc52(text: str, *, tmux: bool) -> str:
    """The OSC 52 "set clipboard" sequence, wrapped in tmux's DCS passthrough when asked."""
    payload = base64.b64encode(text.encode()).decode()
    seq = f"\x1b]52;c;{payload}\x07"
    if tmux:
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return seq


ONCALL_EVERY_S = 300.0
"""How often the pane asks a provider (PagerDuty) who is on call."""


class KeyCell(Text):
    """The id cell; carries the row key so the table can be re-ordered by key."""

    def __init__(self, text: str, row_key: str, width: int, style: str = "") -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis")
        self.truncate(max(1, width - 1), overflow="ellipsis")
        self.row_key = row_key


class IncidentsPane(Pane):
    """Merged incidents from every incident provider, with ack/resolve/note/silence actions."""

    PANE_TITLE: ClassVar[str] = "Incidents"
    EMPTY_MESSAGE: ClassVar[str] = "no incident provider configured"

    DEFAULT_CSS = """
    IncidentsPane > DataTable { height: 1fr; }
    IncidentsPane > .incidents-empty { color: $text-muted; padding: 1 2; height: 1fr; }
    IncidentsPane > .incident-detail { height: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "ack", "Ack", id="incidents.ack"),
        Binding("r", "resolve", "Resolve", id="incidents.resolve"),
        Binding("n", "note", "Note", id="incidents.note"),
        Binding("s", "silence", "Silence", id="incidents.silence"),
        Binding("S,X", "expire_silence", "Unsilence", id="incidents.expire_silence"),
        Binding("o", "open_url", "Copy URL", id="incidents.open_url"),
        Binding("x,space", "toggle_select", "Select", id="incidents.select"),
        Binding("enter", "focus_incident", "Focus", id="incidents.focus"),
        Binding("escape", "unfocus", "Unfocus", id="incidents.unfocus", show=False),
    ]

    class IncidentsUpdated(Message):
        """After every merge: all incidents (unfiltered), sorted."""

        def __init__(self, incidents: tuple[Incident, ...]) -> None:
            super().__init__()
            self.incidents = incidents

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, IncidentsPane.IncidentsUpdated)

    class IncidentFocused(Message):
        """Enter focuses an incident (other panes narrow to it); esc sends None."""

        def __init__(self, incident: Incident | None) -> None:
            super().__init__()
            self.incident = incident

    class NoteRequested(Message):
        """``n``: the timeline's durable note editor should open for these incidents."""

        def __init__(self, incidents: tuple[Incident, ...]) -> None:
            super().__init__()
            self.incidents = incidents

    def __init__(self, *, name: str | None = None, id: str | None = "incidents",
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.sources: dict[str, IncidentSource] = {}
        self.pollers: dict[str, Poller[tuple[float, list[Incident]]]] = {}
        self.incidents: tuple[Incident, ...] = ()
        """All incidents after the last merge (unfiltered, sorted)."""
        self.selected: set[str] = set()
        """Keys of rows selected for a bulk action."""
        self.focused_key: str | None = None
        self._lists: dict[str, list[Incident]] = {}
        self._healths: dict[str, ProviderHealth] = {}
        self._oncall: dict[str, tuple[float, list[str]]] = {}  # provider -> (fetched, names)
        self._overrides: dict[str, tuple[float, Incident]] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._bindings_state: tuple[bool | None, ...] | None = None
        self._row_filter = RowFilter()
        self._by_key: dict[str, Incident] = {}
        self._widths = column_widths(80, 6)
        self._pending_update = False
        self._detail_shown: Text | None = None
        self._visible: set[str] = set()

    # ------------------------------------------------------------------ composition

    def compose_body(self) -> Iterable[Widget]:
        table: DataTable[Text] = DataTable(id="incidents-table", cursor_type="row",
                                           zebra_stripes=False, cell_padding=0)
        yield table
        yield Static("", classes="incidents-empty")
        yield Static("", classes="incident-detail")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(fit(label, self._widths[key], "bold"), key=key, width=self._widths[key])
        self.query_one(".incidents-empty", Static).display = False

    # ------------------------------------------------------------------ feeding

    def attach(self, runtime: Runtime, *, start_polling: bool = True) -> None:
        """Start one poller per incident provider (``start_polling=False``: tests feed
        :meth:`show_incidents` or call :meth:`poll_now`)."""
        super().attach(runtime)
        self.sources = dict(runtime.of(IncidentSource))  # type: ignore[type-abstract]
        failed = {n: e for n, e in runtime.build_errors.items()
                  if runtime.types.get(n) in ("alertmanager", "pagerduty", "http")}
        for pname, error in failed.items():
            self.set_health(ProviderHealth(provider=pname, state=HealthState.ERROR, error=error))
        if not self.sources and not failed:
            self.set_unconfigured(
                f"no incident provider configured — add one under contexts.{runtime.context_name}"
                ".providers (type: alertmanager, pagerduty or http)")
            return
        interval = float(runtime.config.refresh.incidents)
        self.health_fresh_s = 2 * interval  # older data reads "stale 1m" (pane.HealthLine)
        for pname, source in self.sources.items():
            timeout = float(getattr(getattr(source, "options", None), "timeout", 10.0) or 10.0)
            poller: Poller[tuple[float, list[Incident]]] = Poller(
                pname, self._fetcher(source), interval=interval,
                deadline=max(interval, 3 * timeout + 5.0),
                on_update=lambda update, p=pname: self._on_poll(p, update),  # type: ignore[misc]
                wall=runtime.clock)
            self.pollers[pname] = poller
            self.set_health(ProviderHealth(provider=pname, state=HealthState.PENDING))
            if start_polling:
                self.run_worker(poller.run(), exit_on_error=False, group="incidents-poll",
                                name=f"incidents:{pname}")
        self._render_rows()

    def _fetcher(self, source: IncidentSource) -> Any:
        async def fetch() -> tuple[float, list[Incident]]:
            started = time.monotonic()
            incidents = await source.list_incidents()
            await self._refresh_oncall(source)
            return started, incidents
        return fetch

    async def _refresh_oncall(self, source: IncidentSource) -> None:
        """Who is on call (PagerDuty), asked at most every :data:`ONCALL_EVERY_S` seconds
        with the incident poll; a failure keeps the previous answer and never fails the poll."""
        oncall = getattr(source, "oncall", None)
        if not callable(oncall):
            return
        pname = str(getattr(source, "name", ""))
        last = self._oncall.get(pname)
        if last is not None and time.monotonic() - last[0] < ONCALL_EVERY_S:
            return
        try:
            names = list(await oncall())
        except (ProviderError, TimeoutError):
            return
        self._oncall[pname] = (time.monotonic(), [sanitize_line(str(n)) for n in names])

    def _health_extra(self) -> str:
        """Provider notices and who is on call, for the pane's health line."""
        parts = []
        for pname, source in self.sources.items():
            notice = getattr(source, "notice", None)
            if notice:
                parts.append(sanitize_line(str(notice)))
            names = self._oncall.get(pname, (0.0, []))[1]
            if names:
                more = f" +{len(names) - 2}" if len(names) > 2 else ""
                parts.append(f"on call ({sanitize_line(pname)}): {', '.join(names[:2])}{more}")
        return "  ".join(parts)

    async def poll_now(self) -> None:
        """Poll every provider once, concurrently (used after actions in tests and by ``:r``)."""
        await asyncio.gather(*(p.poll_once() for p in self.pollers.values()))

    def trigger_polls(self, providers: Iterable[str] | None = None) -> None:
        """Ask pollers to poll now (after an action) instead of waiting for the interval."""
        for pname in providers if providers is not None else self.pollers:
            poller = self.pollers.get(pname)
            if poller is not None:
                poller.trigger()

    def _on_poll(self, pname: str, update: PollUpdate[tuple[float, list[Incident]]]) -> None:
        if update.fresh and update.value is not None:
            started, incidents = update.value
            self._lists[pname] = list(incidents)
            for key, (at, inc) in list(self._overrides.items()):
                if inc.provider == pname and at <= started:
                    del self._overrides[key]
        self._healths[pname] = update.health
        self.set_health(update.health, extra=self._health_extra())
        self._render_rows()

    def show_incidents(self, pname: str, incidents: Sequence[Incident],
                       health: ProviderHealth | None = None) -> None:
        """Replace one provider's incidents (what a successful poll does)."""
        self._lists[pname] = list(incidents)
        if health is not None:
            self._healths[pname] = health
            self.set_health(health)
        self._render_rows()

    # ------------------------------------------------------------------ rendering

    def _colour(self, severity: Severity) -> str:
        try:
            variables = self.app.theme_variables
        except Exception:  # not mounted in an app yet
            variables = {}
        return variables.get(f"sev-{severity.value}") or SEVERITY_FALLBACK[severity.value]

    def _row_cells(self, inc: Incident) -> tuple[Text, ...]:
        now = self.runtime.clock() if self.runtime else inc.started_at
        w = self._widths
        marker = "▶ " if inc.key == self.focused_key else ("✓ " if inc.key in self.selected else "  ")
        id_style = "bold reverse" if inc.key == self.focused_key else ("bold" if inc.key in self.selected else "")
        colour = self._colour(inc.severity)
        status_style = {IncidentStatus.TRIGGERED: f"bold {colour}",
                        IncidentStatus.ACKNOWLEDGED: "italic",
                        IncidentStatus.RESOLVED: "dim strike"}[inc.status]
        age = humanize_age(max(0.0, (now - inc.started_at).total_seconds()))
        focused_style = "bold" if inc.key == self.focused_key else ""
        return (
            KeyCell(marker + sanitize_line(inc.id), inc.key, w["id"], style=id_style),
            fit(inc.severity.value, w["severity"], f"bold {colour}"),
            fit(STATUS_LABELS[inc.status], w["status"], status_style),
            fit(sanitize_line(inc.title), w["title"], focused_style),
            fit(sanitize_line(inc.service or "") or "—", w["service"]),
            fit(age, w["age"]),
            fit(sanitize_line(", ".join(inc.assignees)) or "—", w["assignee"]),
            self._source_cell(inc.provider, w["source"]),
        )

    def _source_cell(self, pname: str, width: int) -> Text:
        """The source name; marked stale (⚠, dim) while its provider's last poll failed."""
        health = self._healths.get(pname)
        if health is not None and health.state is HealthState.STALE:
            return fit("⚠ " + sanitize_line(pname), width, "dim italic")
        return fit(sanitize_line(pname), width)

    def on_resize(self, event: events.Resize) -> None:
        self._layout_columns()

    def _layout_columns(self) -> bool:
        """Fit the columns to the pane's width; True when they changed."""
        ids = [len(sanitize_line(i.id)) for i in self.incidents] or [6]
        widths = column_widths(self.size.width, max(ids))
        if widths == self._widths:
            return False
        self._widths = widths
        table = self.query_one(DataTable)
        labels = dict(COLUMNS)
        for key, column in table.columns.items():
            column.width = widths[str(key.value)]
            column.label = fit(labels[str(key.value)], column.width, "bold")
            column.auto_width = False
        self._render_rows(relayout=False)
        if self._cells:
            first = next(iter(self._cells))
            # update_width=True makes the table recompute its virtual size from the new widths
            table.update_cell(first, "id", self._cells[first][0], update_width=True)
        table.refresh()
        return True

    def _matches(self, inc: Incident) -> bool:
        if not self._row_filter.text:
            return True
        hay = " ".join([inc.id, inc.title, inc.service or "", inc.provider, inc.status.value,
                        inc.severity.value, *inc.assignees, *inc.labels.values()])
        return self._row_filter.matches(hay)

    def merged(self) -> tuple[Incident, ...]:
        """Every provider's last good list, with optimistic overrides applied, sorted."""
        out: dict[str, Incident] = {}
        for incidents in self._lists.values():
            for inc in incidents:
                out[inc.key] = inc
        for key, (_, inc) in self._overrides.items():
            if key in out:
                out[key] = inc
        return tuple(sorted(out.values(), key=sort_key))

    def _render_rows(self, *, relayout: bool = True) -> None:
        """Update the table in place: remove gone rows, add new ones, change changed cells,
        re-order only if needed, and keep the cursor on the same incident."""
        merged = self.merged()
        if merged != self.incidents:
            self.incidents = merged
            self._pending_update = True
            if relayout and self.size.width and self._layout_columns():
                return  # _layout_columns rendered the rows
        self._by_key = {i.key: i for i in merged}
        self.selected &= set(self._by_key)
        visible = [i for i in merged if self._matches(i)]
        self._visible = {i.key for i in visible}
        table = self.query_one(DataTable)
        current: str | None = None
        if table.row_count:
            try:
                current = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
            except Exception:
                current = None
        wanted = [i.key for i in visible]
        wanted_set = set(wanted)
        for key in list(self._cells):
            if key not in wanted_set:
                table.remove_row(key)
                del self._cells[key]
        col_keys = [c for c, _ in COLUMNS]
        for inc in visible:
            cells = self._row_cells(inc)
            old = self._cells.get(inc.key)
            if old is None:
                table.add_row(*cells, key=inc.key)
            else:
                for col, new_cell, old_cell in zip(col_keys, cells, old, strict=True):
                    if new_cell != old_cell or new_cell.style != old_cell.style:
                        table.update_cell(inc.key, col, new_cell)
            self._cells[inc.key] = cells
        order = {key: n for n, key in enumerate(wanted)}
        if [str(r.key.value) for r in table.ordered_rows] != wanted:
            table.sort("id", key=lambda cell: order.get(getattr(cell, "row_key", ""), 0))
        if current is not None and current in order:
            table.move_cursor(row=order[current], scroll=False)
        self._render_empty(visible)
        self._render_detail()
        if self._pending_update:
            self._pending_update = False
            self.post_message(self.IncidentsUpdated(merged))
        self._refresh_bindings_if_changed()

    def _render_empty(self, visible: list[Incident]) -> None:
        empty = self.query_one(".incidents-empty", Static)
        table = self.query_one(DataTable)
        if visible:
            empty.display = False
            table.display = True
            return
        now = self.runtime.clock() if self.runtime else None
        if self.incidents and self._row_filter.text:
            message = Text(f"no incident matches the filter {sanitize_line(self._row_filter.text)!r} "
                           f"({len(self.incidents)} hidden)")
        elif any(h.state in (HealthState.OK, HealthState.STALE) for h in self._healths.values()):
            message = Text("no open incidents", style="bold")
            parts = []
            for pname, health in self._healths.items():
                age = health.age_seconds(now) if now is not None else None
                state = "✓" if health.state is HealthState.OK else health.state.value
                parts.append(f"{sanitize_line(pname)} {state} {humanize_age(age)} ago"
                             if age is not None else f"{sanitize_line(pname)} {health.state.value}")
            message.append(" — " + " · ".join(parts), style="")
        elif self.sources:
            # A source that answered with an error is not "waiting": say which failed and why
            # (with every source failing the pane used to read "waiting for alerts, pd…").
            failed = {n: h for n, h in self._healths.items() if h.state is HealthState.ERROR}
            waiting = [n for n in self.sources if n not in failed]
            lines = [f"{sanitize_line(n)} failed: "
                     f"{sanitize_line((h.error or 'error').removeprefix(f'{n}: '))}"
                     for n, h in failed.items()]
            if waiting:
                lines.append("waiting for " + ", ".join(sanitize_line(n) for n in waiting) + "…")
            else:
                lines.insert(0, "no incidents to show: every incident provider is failing")
            message = Text("\n".join(lines))
        else:
            message = Text("every incident provider failed to start: see the health line")
        empty.update(message)
        empty.display = True
        table.display = False

    def _render_detail(self) -> None:
        inc = self.cursor_incident()
        detail = self.query_one(".incident-detail", Static)
        text = Text(no_wrap=True, overflow="ellipsis")
        if inc is not None:
            text.append(sanitize_line(inc.title), style="bold")
            if inc.detail:
                text.append("  " + sanitize_line(inc.detail))
            if self.selected:
                text.append(f"  [{len(self.selected)} selected]", style="bold")
        # Static.update lays out and repaints the line: on every poll of every provider that
        # was ~50 characters/s on an idle cockpit, so only when the text changed
        shown = self._detail_shown
        if shown is not None and shown.plain == text.plain and shown.spans == text.spans:
            return
        self._detail_shown = text
        detail.update(text)

    # ------------------------------------------------------------------ selection

    def cursor_incident(self) -> Incident | None:
        """The incident under the cursor (None when the table is empty)."""
        table = self.query_one(DataTable)
        if not table.row_count or not table.display:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None
        return self._by_key.get(str(key))

    def target_incidents(self) -> tuple[Incident, ...]:
        """The selected rows (in table order), else the row under the cursor."""
        chosen = tuple(i for i in self.incidents if i.key in self.selected and i.key in self._visible)
        if chosen:
            return chosen
        inc = self.cursor_incident()
        return (inc,) if inc is not None else ()

    def apply_filter(self, text: str) -> None:
        """Show only incidents whose id, title, service, source, status, severity, assignee or
        labels contain every word of ``text`` (case-insensitive); ``/regex/`` matches a regular
        expression and a leading ``!`` inverts (the README's ``/`` key)."""
        row_filter = self.parse_row_filter(text)
        if row_filter is None:
            return
        self._row_filter = row_filter
        self._render_rows()

    @property
    def filter_hint(self) -> str:
        return "words in id, title, service, assignee, labels; /regex/; ! inverts"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_detail()
        self._refresh_bindings_if_changed()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_focus_incident()

    # ------------------------------------------------------------------ action state

    def _actions_of(self, pname: str) -> IncidentActions | None:
        provider = self.runtime.get(pname) if self.runtime else None
        return provider if isinstance(provider, IncidentActions) else None

    def disabled_reason(self, action: str) -> str | None:
        """Why ``action`` cannot run on the current target (None when it can)."""
        targets = self.target_incidents()
        if not targets:
            return "no incident under the cursor"
        if action == "note":
            return None  # the journal keeps what a provider (or a read-only context) cannot take
        if self.runtime is not None and self.runtime.read_only:
            return f"context {self.runtime.context_name} is read-only: actions are disabled"
        reasons = []
        for pname in dict.fromkeys(i.provider for i in targets):
            actions = self._actions_of(pname)
            if actions is None:
                reasons.append(f"{pname} cannot change incidents")
                continue
            reason = actions.supported_actions().get(action, f"{pname} does not support {action}")
            if reason is None:
                return None
            reasons.append(reason)
        return "; ".join(reasons) or None

    def _refresh_bindings_if_changed(self) -> None:
        """Rebuild the footer only when an action became (un)available: a footer rebuild costs
        ~30 ms, too much for every poll and every cursor move."""
        state = tuple(self.check_action(name, ()) for name in sorted(ACTION_NAMES))
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out (None) actions the current target's provider cannot do."""
        if action in ACTION_NAMES:
            try:
                return None if self.disabled_reason(action) else True
            except Exception:  # not mounted yet
                return True
        return True

    def on_key(self, event: events.Key) -> None:
        """A greyed-out action key says why it is disabled instead of doing nothing."""
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action not in ACTION_NAMES:
                continue
            keys = [k.strip() for k in binding.key.split(",")]
            if event.key in keys or (event.character is not None and event.character in keys):
                reason = self.disabled_reason(binding.action)
                if reason:
                    event.stop()
                    self.notify(sanitize_line(reason), title=ACTION_TITLES[binding.action],
                                severity="warning", markup=False)
                return

    # ------------------------------------------------------------------ actions

    def action_ack(self) -> None:
        """Acknowledge the target incidents."""
        self._start_action("ack")

    def action_resolve(self) -> None:
        """Resolve the target incidents."""
        self._start_action("resolve")

    def action_silence(self) -> None:
        """Silence the target alerts (dialog for matchers and duration)."""
        self._start_action("silence")

    def action_expire_silence(self) -> None:
        """Expire the silences of the target alerts."""
        self._start_action("expire_silence")

    def action_note(self) -> None:
        """Ask the timeline's durable note editor to open for the target incidents."""
        reason = self.disabled_reason("note")
        if reason:
            self.notify(sanitize_line(reason), title="Add note", severity="warning", markup=False)
            return
        # every target: a provider that cannot take notes (Alertmanager) or a read-only context
        # keeps the note in the local journal ("local only" in the timeline), never refused
        self.post_message(self.NoteRequested(tuple(self.target_incidents())))

    def _start_action(self, action: str) -> None:
        reason = self.disabled_reason(action)
        if reason:
            self.notify(sanitize_line(reason), title=ACTION_TITLES[action], severity="warning",
                        markup=False)
            return
        self.run_worker(self._run_action(action, self.target_incidents()), exclusive=True,
                        group="incidents-action", exit_on_error=False)

    async def _run_action(self, action: str, targets: Sequence[Incident]) -> None:
        groups: dict[str, list[Incident]] = {}
        for inc in targets:
            groups.setdefault(inc.provider, []).append(inc)
        plan: list[tuple[IncidentActions, list[Incident], SilenceRequest | None]] = []
        skipped: list[str] = []
        for pname, incs in groups.items():
            actions = self._actions_of(pname)
            reason = (actions.supported_actions().get(action, "not supported")
                      if actions is not None else "cannot change incidents")
            if actions is None or reason is not None:
                skipped.append(f"{pname}: {reason}")
                continue
            silence: SilenceRequest | None = None
            if action == "silence":
                default_of = getattr(actions, "default_silence", None)
                default = (default_of(incs) if callable(default_of) else
                           SilenceRequest(matchers=(), duration_s=7200, comment="",
                                          created_by=self.runtime.env.user if self.runtime else ""))
                silence = await self.app.push_screen_wait(SilenceDialog(incs, default))
                if silence is None:
                    self.notify("silence cancelled", markup=False)
                    return
            plan.append((actions, incs, silence))
        if skipped:
            self.notify(sanitize_line("; ".join(skipped)), title="skipped", severity="warning",
                        markup=False)
        if not plan:
            return
        previews: list[ActionPreview] = []
        try:
            for actions, incs, silence in plan:
                previews.append(actions.preview(action, incs, silence=silence))
        except ProviderError as exc:
            self.notify(sanitize_line(str(exc)), severity="error", markup=False)
            return
        count = sum(len(incs) for _, incs, _ in plan)
        title = f"{ACTION_TITLES[action]} {count} incident{'s' if count != 1 else ''}?"
        warning = None
        if self.runtime is not None and self.runtime.is_production:
            warning = f"context {self.runtime.context_name} is production"
        confirmed = await self.app.push_screen_wait(
            ConfirmActionDialog(previews, title=title, warning=warning))
        if not confirmed:
            self.notify(f"{ACTION_TITLES[action]} cancelled", markup=False)
            return
        results = await asyncio.gather(
            *(actions.perform(action, incs, silence=silence) for actions, incs, silence in plan),
            return_exceptions=True)
        for (actions, _, _), result in zip(plan, results, strict=True):
            if isinstance(result, BaseException):
                result = ActionResult(False, f"{actions.name}: {type(result).__name__}: {result}")
            self.notify(sanitize_line(result.message), title=ACTION_TITLES[action],
                        severity="information" if result.ok else "error", markup=False)
            self.apply_optimistic(result.updated)
        self.selected.clear()
        self._render_rows()
        self.trigger_polls(p for p in groups)

    def apply_optimistic(self, updated: Sequence[Incident]) -> None:
        """Show providers' optimistic new versions of rows until the next poll reconciles."""
        now = time.monotonic()
        for inc in updated:
            self._overrides[inc.key] = (now, inc)
        if updated:
            self._render_rows()

    def action_toggle_select(self) -> None:
        """Add/remove the cursor row to/from the bulk selection."""
        inc = self.cursor_incident()
        if inc is None:
            return
        self.selected.symmetric_difference_update({inc.key})
        self._render_rows()

    def action_focus_incident(self) -> None:
        """Focus the incident under the cursor: other panes narrow to it."""
        inc = self.cursor_incident()
        if inc is None:
            return
        self.focused_key = inc.key
        self._render_rows()
        self.post_message(self.IncidentFocused(inc))

    def action_unfocus(self) -> None:
        """Leave the focused incident; other panes go back to everything."""
        if self.selected:
            self.selected.clear()
            self._render_rows()
            return
        if self.focused_key is None:
            return
        self.focused_key = None
        self._render_rows()
        self.post_message(self.IncidentFocused(None))

    def action_open_url(self) -> None:
        """Copy the incident's URL to the clipboard (OSC 52; tmux passthrough when in tmux)
        and show it as a hyperlink."""
        inc = self.cursor_incident()
        if inc is None or not inc.url:
            self.notify("this incident has no URL", markup=False)
            return
        url = sanitize_line(inc.url)
        safe = markup_safe_url(url)
        if safe is None:
            self.notify(f"not an http(s) URL, not copied: {url[:200]}", severity="warning",
                        markup=False)
            return
        if len(safe.encode()) > MAX_CLIPBOARD_BYTES:
            self.notify(f"URL longer than {MAX_CLIPBOARD_BYTES} bytes: not copied",
                        severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(safe)
        if os.environ.get("TMUX"):
            # Textual writes a bare OSC 52; inside tmux only the DCS passthrough form reaches
            # the outer terminal (with `allow-passthrough on`), so send that too.
            driver = getattr(self.app, "_driver", None)
            if driver is not None:
                driver.write(osc52(safe, tmux=True))
        self.notify(f'copied [link="{safe}"]{safe}[/link]', title="URL", markup=True)

    @property
    def healths(self) -> Mapping[str, ProviderHealth]:
        """The last health of every incident provider."""
        return dict(self._healths)
