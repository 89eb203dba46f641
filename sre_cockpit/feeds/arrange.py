"""How the incidents pane arranges a snapshot for a person: sort, group, "mine", filter.

Headless and pure: :func:`arrange` turns the feed's incidents and the pane's choices
(:class:`Arrangement`) into the rows to show (:class:`Arranged`), with the counts the truth
contract needs (how many the filter and "mine only" hide, how many sit in collapsed groups).
Nothing here imports Textual, so the rules are tested without a terminal and an alert flood
costs one sort per snapshot, never work per key press.

- **Sort** (:class:`SortKey`): ``triage`` is the feed's order (triggered first, then by
  severity, newest first); the others put their field first and fall back to triage, so the
  order is total and stable across polls. ``descending`` reverses the whole order.
- **Mine** (:class:`MineMode`): incidents assigned to the configured ``user`` (matched on the
  assignee's name, ignoring case and repeated spaces) first, or only those.
- **Groups**, like Alertmanager's ``group_by``: incidents of one provider with the same values
  of the grouping labels (``service`` falls back to the incident's service) share a group. A
  group sits where its first incident would sit in the flat order, so sorting by severity puts
  the group with the worst alert first. Its row counts what it holds (silenced alerts counted
  as silenced, not as firing), its worst severity and its newest start.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, Suppression


class SortKey(enum.StrEnum):
    """What the incidents are ordered by (``t`` cycles through them in this order)."""

    TRIAGE = "triage"
    SEVERITY = "severity"
    AGE = "age"
    SERVICE = "service"
    STATUS = "status"
    PROVIDER = "provider"

    def next(self) -> SortKey:
        """The key after this one (wrapping)."""
        keys = list(SortKey)
        return keys[(keys.index(self) + 1) % len(keys)]


class MineMode(enum.StrEnum):
    """Incidents assigned to the operator: as the others, first, or only (``m`` cycles)."""

    OFF = "off"
    FIRST = "first"
    ONLY = "only"

    def next(self) -> MineMode:
        """The mode after this one (wrapping)."""
        modes = list(MineMode)
        return modes[(modes.index(self) + 1) % len(modes)]


SORT_COLUMNS: dict[SortKey, str] = {SortKey.SEVERITY: "severity", SortKey.AGE: "age",
                                    SortKey.SERVICE: "service", SortKey.STATUS: "status",
                                    SortKey.PROVIDER: "source"}
"""The table column each sort key marks with an arrow (triage marks none)."""

GROUP_PREFIX = "group:"
"""Group row keys start with this (incident keys are ``provider:id``; a provider named
``group`` cannot exist alongside, the separator below keeps them apart anyway)."""
_SEP = "\x1f"


def _triage(incident: Incident) -> tuple[int, int, float, str]:
    return (incident.status.rank, incident.severity.rank, -incident.started_at.timestamp(),
            incident.key)


def _service(incident: Incident) -> tuple[int, str]:
    name = incident.service or ""
    return (0 if name else 1, name.casefold())


SORTS: dict[SortKey, Callable[[Incident], tuple[object, ...]]] = {
    SortKey.TRIAGE: _triage,
    SortKey.SEVERITY: lambda i: (i.severity.rank, *_triage(i)),
    SortKey.AGE: lambda i: (-i.started_at.timestamp(), i.key),
    SortKey.SERVICE: lambda i: (*_service(i), *_triage(i)),
    SortKey.STATUS: lambda i: (i.status.rank, -i.started_at.timestamp(), i.key),
    SortKey.PROVIDER: lambda i: (i.provider.casefold(), *_triage(i)),
}
"""The full sort key of each :class:`SortKey` (every one ends in the unique incident key)."""


def normalise_name(name: str) -> str:
    """A person's name as compared for "mine": case-folded, spaces collapsed."""
    return " ".join(name.split()).casefold()


def is_mine(incident: Incident, user: str) -> bool:
    """Whether ``incident`` is assigned to ``user`` (False when ``user`` is empty)."""
    me = normalise_name(user)
    return bool(me) and any(normalise_name(a) == me for a in incident.assignees)


@dataclass(frozen=True, slots=True)
class Arrangement:
    """The pane's choices; kept by the view across polls.

    Attributes:
        sort: what the incidents are ordered by.
        descending: the whole order reversed.
        grouped: incidents shown in groups.
        group_by: the labels that make a group.
        mine: "mine" first or only.
        user: who "mine" is (the config's ``user``).
        collapse_all: groups start collapsed (``V``).
        toggled: group keys whose state differs from ``collapse_all`` (enter on a group row).
    """

    sort: SortKey = SortKey.TRIAGE
    descending: bool = False
    grouped: bool = False
    group_by: tuple[str, ...] = ("alertname",)
    mine: MineMode = MineMode.OFF
    user: str = ""
    collapse_all: bool = False
    toggled: frozenset[str] = frozenset()

    def is_collapsed(self, group_key: str) -> bool:
        """Whether a group shows only its row."""
        return self.collapse_all != (group_key in self.toggled)

    def toggle_group(self, group_key: str) -> Arrangement:
        """This arrangement with one group collapsed or expanded."""
        return replace(self, toggled=self.toggled ^ {group_key})

    def summary(self) -> str:
        """One line for the pane's border: ``sort severity ▼ · by alertname · mine first``."""
        arrow = "▲" if self.descending else "▼"
        parts = [f"sort {self.sort.value} {arrow}"]
        if self.grouped:
            parts.append("by " + ",".join(self.group_by))
        if self.mine is not MineMode.OFF:
            parts.append(f"mine {self.mine.value}")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Group:
    """A group row.

    Attributes:
        key: the row key (``group:…``), stable across polls.
        provider: the provider of every incident in it.
        values: ``(label, value or None)`` for each grouping label.
        incidents: the incidents it holds that the filter lets through, in order.
        collapsed: only the row is shown.
    """

    key: str
    provider: str
    values: tuple[tuple[str, str | None], ...]
    incidents: tuple[Incident, ...]
    collapsed: bool

    @property
    def count(self) -> int:
        """Incidents in the group."""
        return len(self.incidents)

    @property
    def silenced(self) -> int:
        """Of those, alerts muted by a silence."""
        return sum(1 for i in self.incidents if i.silenced)

    @property
    def inhibited(self) -> int:
        """Of those, alerts another firing alert inhibits (quiet, but not by a silence)."""
        return sum(1 for i in self.incidents if i.suppressed is Suppression.INHIBITED)

    @property
    def firing(self) -> int:
        """Triggered incidents that are not silenced."""
        return sum(1 for i in self.incidents
                   if i.status is IncidentStatus.TRIGGERED and not i.silenced)

    @property
    def worst(self) -> Severity:
        """The most severe severity in the group."""
        return min((i.severity for i in self.incidents), key=lambda s: s.rank)

    @property
    def newest(self) -> datetime:
        """When the group's newest incident started."""
        return max(i.started_at for i in self.incidents)

    def mine(self, user: str) -> int:
        """Incidents in the group assigned to ``user``."""
        return sum(1 for i in self.incidents if is_mine(i, user))

    @property
    def label(self) -> str:
        """``alertname=CheckoutErrors service=checkout`` (labels it lacks are left out, and a
        group with none of them says so: ``no alertname``)."""
        present = [f"{name}={value}" for name, value in self.values if value is not None]
        if present:
            return " ".join(present)
        return "no " + ",".join(name for name, _ in self.values)


Row = Incident | Group
"""One row of the table: an incident or a group."""


@dataclass(frozen=True, slots=True)
class Arranged:
    """The rows to show and what the pane says about what is hidden.

    Attributes:
        rows: in order; a collapsed group contributes only its row.
        matched: every incident the filter and "mine only" let through, in order (also those
            in collapsed groups): the targets of a bulk selection and of the filter counts.
        total: incidents in the snapshot.
        in_collapsed: matched incidents inside collapsed groups (not on screen as rows).
        collapsed_groups: how many groups are collapsed.
        groups: every group, in order (empty when not grouped).
    """

    rows: tuple[Row, ...] = ()
    matched: tuple[Incident, ...] = ()
    total: int = 0
    in_collapsed: int = 0
    collapsed_groups: int = 0
    groups: tuple[Group, ...] = ()

    @property
    def hidden(self) -> int:
        """Incidents the filter or "mine only" hide."""
        return self.total - len(self.matched)

    def collapsed_note(self) -> str:
        """``12 of them in 3 collapsed groups`` ("" when no group is collapsed)."""
        if not self.in_collapsed:
            return ""
        groups = self.collapsed_groups
        return (f"{self.in_collapsed} of them in {groups} collapsed "
                f"group{'s' if groups != 1 else ''}")


def group_values(incident: Incident, group_by: Sequence[str]) -> tuple[tuple[str, str | None], ...]:
    """The grouping label values of one incident (``service`` falls back to its service)."""
    out = []
    for name in group_by:
        value = incident.labels.get(name)
        if value is None and name == "service":
            value = incident.service
        out.append((name, value))
    return tuple(out)


def group_key(provider: str, values: Sequence[tuple[str, str | None]]) -> str:
    """The stable row key of a group."""
    parts = [provider, *(f"{n}={'' if v is None else v}{'' if v is not None else _SEP}"
                         for n, v in values)]
    return GROUP_PREFIX + _SEP.join(parts)


def arrange(incidents: Sequence[Incident], how: Arrangement, *,
            matches: Callable[[Incident], bool] | None = None) -> Arranged:
    """Arrange ``incidents`` (the feed's snapshot) as ``how`` says.

    Args:
        incidents: every incident of the snapshot, in the feed's order (which is the triage
            order: sorting by triage then costs nothing).
        how: the pane's choices.
        matches: the ``/`` filter (None: no filter).

    Returns:
        The rows and counts.
    """
    chosen = [i for i in incidents if matches is None or matches(i)]
    if how.mine is MineMode.ONLY:
        chosen = [i for i in chosen if is_mine(i, how.user)]
    if how.sort is not SortKey.TRIAGE:
        chosen.sort(key=SORTS[how.sort], reverse=how.descending)
    elif how.descending:
        chosen.reverse()
    if how.mine is MineMode.FIRST and how.user:
        mine = [i for i in chosen if is_mine(i, how.user)]
        if mine:
            keys = {i.key for i in mine}
            chosen = mine + [i for i in chosen if i.key not in keys]
    matched = tuple(chosen)
    if not how.grouped:
        return Arranged(rows=matched, matched=matched, total=len(incidents))
    members: dict[str, list[Incident]] = {}
    values_of: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for incident in matched:
        values = group_values(incident, how.group_by)
        key = group_key(incident.provider, values)
        found = members.get(key)
        if found is None:
            members[key] = [incident]
            values_of[key] = values
        else:
            found.append(incident)
    rows: list[Row] = []
    groups = []
    in_collapsed = collapsed_groups = 0
    for key, items in members.items():  # dicts keep insertion order: first member's place
        group = Group(key, items[0].provider, values_of[key], tuple(items),
                      how.is_collapsed(key))
        groups.append(group)
        rows.append(group)
        if group.collapsed:
            in_collapsed += len(items)
            collapsed_groups += 1
        else:
            rows.extend(items)
    return Arranged(rows=tuple(rows), matched=matched, total=len(incidents),
                    in_collapsed=in_collapsed, collapsed_groups=collapsed_groups,
                    groups=tuple(groups))


__all__ = ["GROUP_PREFIX", "SORTS", "SORT_COLUMNS", "Arranged", "Arrangement", "Group",
           "MineMode", "Row", "SortKey", "arrange", "group_key", "group_values", "is_mine",
           "normalise_name"]
