"""Finding one incident by id for the postmortem: the incident feed's list, the incidents the
notes were written for, and providers that can fetch a resolved incident by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sre_cockpit.core.models import HealthState, Incident
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.timeline import as_utc
from sre_cockpit.providers.base import IncidentLookup

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.feeds.runtime import Runtime


class UnknownIncident(LookupError):
    """The id matches no incident; ``known`` lists the ids that do exist."""

    def __init__(self, wanted: str, known: Sequence[str],
                 errors: Sequence[str] = ()) -> None:
        shown = ", ".join(known[:30]) + (" …" if len(known) > 30 else "")
        message = (f"unknown incident {sanitize_line(wanted)!r}; known: "
                   f"{sanitize_line(shown) if known else 'none'}")
        if errors:
            message += f" (could not list: {sanitize_line('; '.join(errors))})"
        super().__init__(message)
        self.known = list(known)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Incidents the providers list and the notes were written for, and why a provider could
    not list."""

    incidents: tuple[Incident, ...]
    errors: tuple[str, ...]


async def known_incidents(cockpit: Cockpit) -> Candidates:
    """Every incident the incident feed lists now (one poll, its deadlines), plus those this
    context's notes were written for (on the backends its providers talk to now)."""
    snapshot = await cockpit.incidents.refresh()
    candidates = list(snapshot.incidents)
    errors = [sanitize_line(s.error if s.error.startswith(f"{s.provider}:")
                            else f"{s.provider}: {s.error}")
              for s in snapshot.sources if s.state is HealthState.ERROR and s.error]
    seen = {i.key for i in candidates}
    scope = cockpit.notes.scope
    for record in cockpit.notes.journal.notes():
        for incident in record.incidents:
            if incident.key not in seen and scope.owns_target(record, incident.provider):
                candidates.append(incident)
                seen.add(incident.key)
    return Candidates(tuple(candidates), tuple(errors))


def pick_incident(candidates: Sequence[Incident], wanted: str,
                  errors: Sequence[str] = ()) -> Incident:
    """The incident whose ``id`` or ``key`` is ``wanted`` (exact, then case-insensitive).

    Raises:
        UnknownIncident: nothing matches (lists the known ids).
    """
    for incident in candidates:
        if wanted in (incident.key, incident.id):
            return incident
    lowered = wanted.casefold()
    for incident in candidates:
        if lowered in (incident.key.casefold(), incident.id.casefold()):
            return incident
    raise UnknownIncident(wanted, sorted({i.key for i in candidates}), errors)


async def fetch_by_id(runtime: Runtime, wanted: str) -> Incident | None:
    """A resolved incident the listings no longer show, from providers that can fetch one by id
    (:class:`~sre_cockpit.providers.base.IncidentLookup`; ``provider:id`` picks the provider)."""
    provider_name, _, ident = wanted.partition(":") if ":" in wanted else ("", "", wanted)
    for name, provider in runtime.providers.items():
        if not isinstance(provider, IncidentLookup) or (provider_name and name != provider_name):
            continue
        try:
            found = await provider.get_incident(ident)
        except Exception:  # not found there, or unreachable: try the next provider
            continue
        if found is not None:
            return found
    return None


async def find_incident(cockpit: Cockpit, wanted: str) -> tuple[Incident, Candidates]:
    """The incident whose ``id`` or ``key`` is ``wanted``, and every incident known.

    Raises:
        UnknownIncident: nothing matches (lists the known ids).
    """
    known = await known_incidents(cockpit)
    try:
        return pick_incident(known.incidents, wanted, known.errors), known
    except UnknownIncident:
        found = await fetch_by_id(cockpit.runtime, wanted)
        if found is None:
            raise
        return found, known


def related_incidents(incident: Incident, candidates: Sequence[Incident],
                      until: datetime) -> list[Incident]:
    """Other incidents of the same service that started from an hour before until ``until``."""
    if not incident.service:
        return []
    start = as_utc(incident.started_at) - timedelta(hours=1)
    return [i for i in candidates
            if i.key != incident.key and i.service == incident.service
            and start <= as_utc(i.started_at) <= as_utc(until)]
