"""How the incidents table looks: cells, the header, the empty state and the detail line (the
column widths are columns.py's).

Pure functions of an :class:`~sre_cockpit.feeds.incidents.IncidentsSnapshot` (plus what the
view remembers: selection, the focused incident, the width), so they are tested without a
terminal. Every provider string is sanitised and put in ``Text`` as plain text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime

from rich.text import Text

from sre_cockpit.core.durations import humanize_age
from sre_cockpit.core.models import HealthState, Incident, IncidentStatus, Suppression
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.arrange import SORT_COLUMNS, Group, Row, SortKey
from sre_cockpit.feeds.incidents import IncidentsSnapshot
from sre_cockpit.ui.clipboard import safe_link
from sre_cockpit.ui.incidents.columns import ID_MIN, short_id

COLUMNS = (("id", "id"), ("severity", "sev"), ("status", "status"), ("runbook", "rb"),
           ("title", "title"), ("service", "service"), ("age", "age"),
           ("assignee", "assignee"), ("source", "source"))
"""(column key, header) in order; ``rb`` marks incidents with an http(s) runbook link."""
STATUS_LABELS = {IncidentStatus.TRIGGERED: "triggered", IncidentStatus.ACKNOWLEDGED: "acked",
                 IncidentStatus.RESOLVED: "resolved"}
RUNBOOK_MARK = "↗"
SUPPRESSED_LABELS = {Suppression.SILENCED: "silenced", Suppression.INHIBITED: "inhibited"}
"""A suppressed alert is acknowledged by no one: its status cell says why it is quiet."""


def status_label(incident: Incident) -> str:
    """The status cell: ``triggered``, ``acked`` (a person), ``silenced``, ``inhibited`` or
    ``resolved``."""
    if incident.suppressed is not None:
        return SUPPRESSED_LABELS[incident.suppressed]
    return STATUS_LABELS[incident.status]


def fit(text: str, width: int, style: str = "") -> Text:
    """One cell: ``text`` cut to ``width - 1`` cells with an ellipsis and padded to ``width``
    (the last cell separates columns); nothing for a dropped column (``width`` 0)."""
    if width <= 0:
        return Text(end="")
    cell = Text(text, style=style, no_wrap=True, overflow="ellipsis", end="")
    cell.truncate(max(1, width - 1), overflow="ellipsis", pad=True)
    cell.append(" ")
    return cell


def table_age(seconds: float) -> str:
    """An incident's age as the table shows it: ``<1m``, then :func:`humanize_age` (so ages
    change at most once a minute, and a fresh incident does not repaint every second)."""
    return "<1m" if seconds < 60 else humanize_age(seconds)


def next_age_change(seconds: float) -> float:
    """Seconds until :func:`table_age` of an incident ``seconds`` old changes."""
    for unit, limit in ((60.0, 3600.0), (3600.0, 86400.0)):
        if seconds < limit:
            return unit - seconds % unit
    return 86400.0 - seconds % 86400.0


def has_runbook(incident: Incident) -> bool:
    """Whether the incident's runbook link is one the cockpit will open (http/https)."""
    url = incident.runbook_url
    return bool(url) and safe_link(sanitize_line(url or "")) is not None


def row_cells(incident: Incident, *, widths: dict[str, int], now: datetime,
              colour: Callable[[str], str], focused: str | None, selected: Collection[str],
              stale: Collection[str], id_prefix: int = ID_MIN) -> tuple[Text, ...]:
    """The cells of one row: the focused incident marked ``▶``, selected ones ``✓``, the id
    cut to ``id_prefix`` characters and ``…``, the runbook column ``↗`` when there is a
    runbook, and the source cell marked ``⚠`` while its provider's data is stale (the title,
    when the source column is dropped)."""
    key = incident.key
    marker = "▶ " if key == focused else ("✓ " if key in selected else "  ")
    id_style = "bold reverse" if key == focused else ("bold" if key in selected else "")
    sev = colour(f"sev-{incident.severity.value}")
    status_style = {IncidentStatus.TRIGGERED: f"bold {sev}",
                    IncidentStatus.ACKNOWLEDGED: "italic",
                    IncidentStatus.RESOLVED: "dim strike"}[incident.status]
    age = table_age(max(0.0, (now - incident.started_at).total_seconds()))
    is_stale = incident.provider in stale
    title = sanitize_line(incident.title)
    title_cell = fit(title, widths["title"], "bold" if key == focused else "")
    if is_stale and not widths.get("source"):
        title_cell = Text("⚠ ", style="dim italic", end="")
        title_cell.append_text(fit(title, widths["title"] - 2, "bold" if key == focused else ""))
    return (
        fit(marker + short_id(sanitize_line(incident.id), id_prefix), widths["id"], id_style),
        fit(incident.severity.value, widths["severity"], f"bold {sev}"),
        fit(status_label(incident), widths["status"], status_style),
        fit(RUNBOOK_MARK if has_runbook(incident) else "", widths["runbook"], "bold"),
        title_cell,
        fit(service_cell(incident), widths["service"]),
        fit(age, widths["age"]),
        fit(assignee_cell(incident), widths["assignee"]),
        fit(source_cell(incident, is_stale), widths["source"],
            "dim italic" if is_stale else ""),
    )


def service_cell(incident: Incident) -> str:
    """What the service cell says (``—`` for none)."""
    return sanitize_line(incident.service or "") or "—"


def assignee_cell(incident: Incident) -> str:
    """What the assignee cell says (``—`` for no one)."""
    return sanitize_line(", ".join(incident.assignees)) or "—"


def source_cell(incident: Incident, stale: bool) -> str:
    """What the source cell says: the provider, ``⚠`` first while its data is stale."""
    source = sanitize_line(incident.provider)
    return "⚠ " + source if stale else source


def join_cells(cells: tuple[Text, ...]) -> Text:
    """One table line from its cells."""
    line = Text(no_wrap=True, overflow="crop", end="")
    for cell in cells:
        line.append_text(cell)
    return line


def group_text(group: Group, *, width: int, now: datetime, colour: Callable[[str], str],
               user: str, selected: Collection[str]) -> Text:
    """A group row: ``▾ CheckoutErrors  12 incidents (9 firing, 3 silenced) · worst critical ·
    newest 4m · 2 mine · alerts`` (``▸`` when collapsed, ``✓`` when all of it is selected;
    the values of the grouping labels, ``(no alertname)`` when it has none of them)."""
    count = group.count
    all_selected = bool(selected) and all(i.key in selected for i in group.incidents)
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(("✓" if all_selected else "▸" if group.collapsed else "▾") + " ", style="bold")
    values = [v for _, v in group.values]
    label = (" / ".join(v if v is not None else "—" for v in values)
             if any(v is not None for v in values) else f"({group.label})")
    text.append(sanitize_line(label), style="bold")
    text.append(f"  {count} incident{'s' if count != 1 else ''}")
    parts = []
    if group.firing != count:
        parts.append(f"{group.firing} firing")
    if group.silenced:
        parts.append(f"{group.silenced} silenced")
    if group.inhibited:
        parts.append(f"{group.inhibited} inhibited")
    if parts:
        text.append(" (" + ", ".join(parts) + ")")
    worst = group.worst
    text.append(" · worst ")
    text.append(worst.value, style=f"bold {colour(f'sev-{worst.value}')}")
    age = table_age(max(0.0, (now - group.newest).total_seconds()))
    text.append(f" · newest {age}")
    mine = group.mine(user) if user else 0
    if mine:
        text.append(f" · {mine} mine", style="bold")
    text.append(" · " + sanitize_line(group.provider), style="dim")
    text.truncate(max(1, width), overflow="ellipsis", pad=True)
    return text


def header_text(widths: dict[str, int], sort: SortKey, descending: bool) -> Text:
    """The header line: column names, the sorted column marked ``▼`` (``▲`` reversed)."""
    marked = SORT_COLUMNS.get(sort)
    arrow = "▲" if descending else "▼"
    line = Text(no_wrap=True, overflow="crop", end="")
    for key, label in COLUMNS:
        width = widths[key]
        if not width:
            continue
        if key == marked:  # the arrow always shows: the name gives way first
            room = max(1, width - 2)
            label = (label if len(label) <= room else label[:room - 1] + "…") + arrow
        line.append_text(fit(label, width, "bold"))
    return line


def next_row_change(rows: Iterable[Row], now: datetime) -> float | None:
    """Seconds until the age of any of these rows (a group: its newest) reads differently;
    None without rows."""
    waits = [next_age_change(max(0.0, (now - (r.newest if isinstance(r, Group)
                                                else r.started_at)).total_seconds()))
             for r in rows]
    return min(waits) if waits else None


def cell_texts(cells: tuple[Text, ...]) -> dict[str, str]:
    """Column key → what the cell reads (tests, and what a person reads)."""
    return {name: cell.plain.rstrip() for (name, _), cell in zip(COLUMNS, cells, strict=True)}


def group_detail(group: Group, selected: int) -> Text:
    """The line under the table on a group row: its label and what enter and x do there."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(sanitize_line(group.label), style="bold")
    text.append(f"  enter {'expands' if group.collapsed else 'collapses'} the group · "
                "x selects it")
    if selected:
        text.append(f"  [{selected} selected]", style="bold")
    return text


def stale_providers(snapshot: IncidentsSnapshot) -> frozenset[str]:
    """Providers whose rows are last good data, not fresh (their latest poll failed)."""
    return frozenset(s.provider for s in snapshot.sources if s.state is HealthState.STALE)


def empty_message(snapshot: IncidentsSnapshot, *, filtered: str, now: datetime,
                  mine_only: bool = False) -> Text:
    """What the pane says instead of an empty table — never just "no incidents" when a
    source is failing, a filter or "mine only" hides rows."""
    if snapshot.incidents and (filtered or mine_only):
        what = []
        if filtered:
            what.append(f"the filter {sanitize_line(filtered)!r}")
        if mine_only:
            who = sanitize_line(snapshot.user) or "you"
            what.append(f"mine only (assigned to {who})")
        return Text(f"no incident matches {' and '.join(what)} "
                    f"({len(snapshot.incidents)} hidden) — esc clears it")
    answered = [s for s in snapshot.sources if s.state in (HealthState.OK, HealthState.STALE)]
    failed = [s for s in snapshot.sources if s.state is HealthState.ERROR]
    waiting = [s for s in snapshot.sources if s.state is HealthState.PENDING]
    if answered and not failed:
        message = Text("no open incidents", style="bold")
        parts = []
        for source in answered:
            age = source.age_seconds(now)
            state = "✓" if source.state is HealthState.OK else source.state.value
            parts.append(f"{sanitize_line(source.provider)} {state} {humanize_age(age)} ago"
                         if age is not None else f"{sanitize_line(source.provider)} {state}")
        message.append(" — " + " · ".join(parts))
        return message
    lines = [f"{sanitize_line(s.provider)} failed: "
             f"{sanitize_line((s.error or 'error').removeprefix(f'{s.provider}: '))}"
             for s in failed]
    if answered:
        lines.insert(0, "no open incidents from " + ", ".join(
            sanitize_line(s.provider) for s in answered) + " — but:")
    elif failed and not waiting:
        lines.insert(0, "no incidents to show: every incident provider is failing")
    if waiting:
        lines.append("waiting for " + ", ".join(sanitize_line(s.provider) for s in waiting) + "…")
    return Text("\n".join(lines) or "no incidents")


def detail_text(incident: Incident | None, selected: int, id_prefix: int | None = None) -> Text:
    """The line under the table: the highlighted incident's title, its detail, the selection,
    then its whole id when the table cuts it (to ``id_prefix`` characters; last, so what was
    there keeps its place)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if incident is not None:
        text.append(sanitize_line(incident.title), style="bold")
        if incident.detail:
            text.append("  " + sanitize_line(incident.detail))
    if selected:
        text.append(f"  [{selected} selected]", style="bold")
    if incident is not None:
        full = sanitize_line(incident.id)
        if id_prefix is not None and short_id(full, id_prefix) != full:
            text.append("  id " + full)  # the line is muted already: dim on it is unreadable
    return text


def searchable(incident: Incident) -> str:
    """The text a ``/`` filter looks in: id, title, service, source, status (and ``silenced``
    or ``inhibited``), severity, assignees and label values."""
    return " ".join([incident.id, incident.title, incident.service or "", incident.provider,
                     incident.status.value, incident.suppressed or "", incident.severity.value,
                     *incident.assignees, *incident.labels.values()])


def oncall_text(snapshot: IncidentsSnapshot) -> str:
    """Provider notices and who is on call, for the pane's source line."""
    parts = list(snapshot.notices.values())
    for provider, names in snapshot.oncall.items():
        more = f" +{len(names) - 2}" if len(names) > 2 else ""
        parts.append(f"on call ({sanitize_line(provider)}): {', '.join(names[:2])}{more}")
    return "  ".join(parts)
