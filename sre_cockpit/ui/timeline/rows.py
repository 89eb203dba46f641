"""How the timeline looks: which events are shown for the focused incident, and their cells.

Pure functions of a :class:`~sre_cockpit.feeds.timeline.TimelineSnapshot` and the view's state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from rich.text import Text

from sre_cockpit.core.models import Incident, TimelineEvent
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.timeline import (
    KIND_COLOURS,
    KIND_SYMBOLS,
    RELATED_KINDS,
    filter_events,
    format_time,
    relative_label,
)

TEXT_WIDTH = 160
MAX_ROWS = 2000
OPERATOR_KINDS = frozenset({"note", "pin"})
"""What the operator writes: it belongs to the incident it was written for."""
STATE_COLOURS = {"delivered": "slo-ok", "pending": "sev-warning", "failed": "sev-critical",
                 "not saved": "sev-critical", "local only": "stale"}


def shown_events(events: Sequence[TimelineEvent], incidents: Sequence[Incident], *,
                 focused: Incident | None, kinds: Collection[str] | None,
                 text: str | None) -> list[TimelineEvent]:
    """The events shown: the focused incident's (and the lifecycle of its service's other
    incidents; not notes and pins written for no incident), of the chosen kinds, containing
    the text; the newest :data:`MAX_ROWS`."""
    related: set[str] = set()
    focused_id = focused.id if focused is not None else None
    if focused is not None and focused.service:
        related = {i.id for i in incidents
                   if i.service == focused.service and i.key != focused.key}
    shown = filter_events(
        events, kinds=kinds, text=text,
        incident_ids={focused.id, *related} if focused is not None else None,
        service=focused.service if focused is not None else None)
    if related:  # other incidents of the service: their lifecycle only, not their notes
        shown = [e for e in shown if e.incident_id not in related or
                 (e.kind in RELATED_KINDS and e.incident_id != focused_id)]
    if focused is not None:  # a note or pin belongs to the incident it was written for: one
        # pinned with no incident focused is not this incident's (it shows with none focused)
        shown = [e for e in shown if e.incident_id or e.kind not in OPERATOR_KINDS]
    return shown[-MAX_ROWS:]


def incident_starts(incidents: Sequence[Incident]) -> dict[str, datetime]:
    """Each incident id's start (the first incident listed with that id), for
    :func:`start_of`: built once per render, not searched per event (2,000 events and an
    alert flood of 7,000 incidents were 14 million comparisons a render)."""
    starts: dict[str, datetime] = {}
    for incident in incidents:
        starts.setdefault(incident.id, incident.started_at)
    return starts


def start_of(event: TimelineEvent, starts: Mapping[str, datetime],
             focused: Incident | None) -> datetime | None:
    """What ``T±`` is measured from: the focused incident's start, else the start of the
    incident the event belongs to (``starts``: :func:`incident_starts`; None when it belongs
    to none)."""
    if focused is not None:
        return focused.started_at
    if event.incident_id:
        return starts.get(event.incident_id)
    return None


def cells(event: TimelineEvent, *, start: datetime | None, timezone: str, moment: bool,
          stale: bool, colour: Callable[[str], str]) -> tuple[Text, ...]:
    """The four cells of one event row: time (``▶`` at the chosen moment, ``▲`` when the
    event's source is failing: last good data), ``T±``, kind, text (a note's delivery state
    first; the source, ``▲ stale`` when failing)."""
    kind_colour = colour(KIND_COLOURS.get(event.kind, "sev-info"))
    # last good data of a failing source: muted (the theme's readable muted colour, not the
    # terminal's dim, which fell below 4.5:1), its kind keeps its colour, ▲ marks the row
    muted = colour("text-muted") if stale else ""
    marker = "▶" if moment else ("▲" if stale else " ")  # ▲: its source is failing
    time_text = Text(marker + format_time(event.at, timezone).rsplit(" ", 1)[0], style=muted)
    rel = Text(relative_label(event.at, start) or "—",
               style=muted or ("dim" if start is None else ""))
    kind = Text(f"{KIND_SYMBOLS.get(event.kind, '•')} {sanitize_line(event.kind)}",
                style=kind_colour)
    body = Text(no_wrap=True, overflow="ellipsis", style=muted)
    if event.state:  # first, so a narrow pane still shows whether the note got through
        state = sanitize_line(event.state)
        head = next((k for k in STATE_COLOURS if state.startswith(k)), "pending")
        # the state word only: the reason ("failed: HTTP 404 …") is on the status line when
        # the cursor is on the note, and the note's own text stays in view
        body.append(f"[{state.split(':', 1)[0]}] ", style=f"bold {colour(STATE_COLOURS[head])}")
    text = sanitize_line(event.text)
    if len(text) > TEXT_WIDTH:
        text = text[:TEXT_WIDTH - 1] + "…"
    body.append(text)
    if event.source and event.source != "operator":
        body.append(f"  [{sanitize_line(event.source)}{' ▲ stale' if stale else ''}]",
                    style=colour("stale") if stale else "dim")
    return (time_text, rel, kind, body)


def signature(row: tuple[Text, ...]) -> tuple[object, ...]:
    """What a row looks like (text, base style and spans of every cell)."""
    return tuple((cell.plain, str(cell.style), tuple(cell.spans)) for cell in row)
