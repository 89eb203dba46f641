"""How the incidents table looks: column widths, cells, the empty state and the detail line.

Pure functions of an :class:`~sre_cockpit.feeds.incidents.IncidentsSnapshot` (plus what the
view remembers: selection, the focused incident, the width), so they are tested without a
terminal. Every provider string is sanitised and put in ``Text`` as plain text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from rich.text import Text

from sre_cockpit.core.durations import humanize_age
from sre_cockpit.core.models import HealthState, Incident, IncidentStatus, Suppression
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.incidents import IncidentsSnapshot

COLUMNS = (("id", "id"), ("severity", "sev"), ("status", "status"), ("title", "title"),
           ("service", "service"), ("age", "age"), ("assignee", "assignee"), ("source", "source"))
STATUS_LABELS = {IncidentStatus.TRIGGERED: "triggered", IncidentStatus.ACKNOWLEDGED: "acked",
                 IncidentStatus.RESOLVED: "resolved"}
SUPPRESSED_LABELS = {Suppression.SILENCED: "silenced", Suppression.INHIBITED: "inhibited"}
"""A suppressed alert is acknowledged by no one: its status cell says why it is quiet."""


def status_label(incident: Incident) -> str:
    """The status cell: ``triggered``, ``acked`` (a person), ``silenced``, ``inhibited`` or
    ``resolved``."""
    if incident.suppressed is not None:
        return SUPPRESSED_LABELS[incident.suppressed]
    return STATUS_LABELS[incident.status]


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


class KeyCell(Text):
    """The id cell; carries the row key so the table can be re-ordered by key."""

    def __init__(self, text: str, row_key: str, width: int, style: str = "") -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis")
        self.truncate(max(1, width - 1), overflow="ellipsis")
        self.row_key = row_key


def row_cells(incident: Incident, *, widths: dict[str, int], now: datetime,
              colour: Callable[[str], str], focused: str | None, selected: Collection[str],
              stale: Collection[str]) -> tuple[Text, ...]:
    """The cells of one row: the focused incident marked ``▶``, selected ones ``✓``, and the
    source cell marked ``⚠`` while its provider's data is stale."""
    key = incident.key
    marker = "▶ " if key == focused else ("✓ " if key in selected else "  ")
    id_style = "bold reverse" if key == focused else ("bold" if key in selected else "")
    sev = colour(f"sev-{incident.severity.value}")
    status_style = {IncidentStatus.TRIGGERED: f"bold {sev}",
                    IncidentStatus.ACKNOWLEDGED: "italic",
                    IncidentStatus.RESOLVED: "dim strike"}[incident.status]
    age = humanize_age(max(0.0, (now - incident.started_at).total_seconds()))
    source = sanitize_line(incident.provider)
    source_cell = (fit("⚠ " + source, widths["source"], "dim italic")
                   if incident.provider in stale else fit(source, widths["source"]))
    return (
        KeyCell(marker + sanitize_line(incident.id), key, widths["id"], style=id_style),
        fit(incident.severity.value, widths["severity"], f"bold {sev}"),
        fit(status_label(incident), widths["status"], status_style),
        fit(sanitize_line(incident.title), widths["title"], "bold" if key == focused else ""),
        fit(sanitize_line(incident.service or "") or "—", widths["service"]),
        fit(age, widths["age"]),
        fit(sanitize_line(", ".join(incident.assignees)) or "—", widths["assignee"]),
        source_cell,
    )


def stale_providers(snapshot: IncidentsSnapshot) -> frozenset[str]:
    """Providers whose rows are last good data, not fresh (their latest poll failed)."""
    return frozenset(s.provider for s in snapshot.sources if s.state is HealthState.STALE)


def empty_message(snapshot: IncidentsSnapshot, *, filtered: str, now: datetime) -> Text:
    """What the pane says instead of an empty table — never just "no incidents" when a
    source is failing or a filter hides rows."""
    if snapshot.incidents and filtered:
        return Text(f"no incident matches the filter {sanitize_line(filtered)!r} "
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


def detail_text(incident: Incident | None, selected: int) -> Text:
    """The line under the table: the highlighted incident's title and detail, the selection."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if incident is not None:
        text.append(sanitize_line(incident.title), style="bold")
        if incident.detail:
            text.append("  " + sanitize_line(incident.detail))
    if selected:
        text.append(f"  [{selected} selected]", style="bold")
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
