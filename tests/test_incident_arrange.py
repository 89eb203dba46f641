"""The incidents pane's arrangement, headless: sort keys, stability, groups and their counts,
"mine" first / only, and what the filter and collapsed groups hide."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest
from incidents_helpers import FROZEN, incident

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, Suppression
from sre_cockpit.feeds.arrange import (
    Arrangement,
    Group,
    MineMode,
    SortKey,
    arrange,
    group_key,
    is_mine,
)
from sre_cockpit.feeds.incidents import incident_order


def alert(n: int, name: str, *, severity: Severity = Severity.WARNING, silenced: bool = False,
          minutes_ago: int = 10, service: str | None = "checkout",
          provider: str = "am") -> Incident:
    status = IncidentStatus.ACKNOWLEDGED if silenced else IncidentStatus.TRIGGERED
    return replace(incident(n, severity=severity, status=status, minutes_ago=minutes_ago,
                            service=service, assignees=()),
                   provider=provider, labels=MappingProxyType({"alertname": name}),
                   suppressed=Suppression.SILENCED if silenced else None)


def keys(rows: tuple[object, ...]) -> list[str]:
    return [r.key for r in rows]  # type: ignore[attr-defined]


def feed_order(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=incident_order)


MIXED = feed_order([
    incident(1, severity=Severity.WARNING, minutes_ago=5, service="search"),
    incident(2, severity=Severity.CRITICAL, status=IncidentStatus.ACKNOWLEDGED, minutes_ago=50,
             service="checkout", assignees=("Dana  Whitfield",)),
    incident(3, severity=Severity.CRITICAL, minutes_ago=30, service=None),
    incident(4, severity=Severity.INFO, minutes_ago=1, service="api",
             assignees=("dana whitfield", "Ravi")),
    replace(incident(5, severity=Severity.HIGH, minutes_ago=90), provider="am"),
])


@pytest.mark.parametrize(("sort", "expected"), [
    (SortKey.TRIAGE, ["mem:INC003", "am:INC005", "mem:INC001", "mem:INC004", "mem:INC002"]),
    (SortKey.SEVERITY, ["mem:INC003", "mem:INC002", "am:INC005", "mem:INC001", "mem:INC004"]),
    (SortKey.AGE, ["mem:INC004", "mem:INC001", "mem:INC003", "mem:INC002", "am:INC005"]),
    (SortKey.SERVICE, ["mem:INC004", "am:INC005", "mem:INC002", "mem:INC001", "mem:INC003"]),
    (SortKey.STATUS, ["mem:INC004", "mem:INC001", "mem:INC003", "am:INC005", "mem:INC002"]),
    (SortKey.PROVIDER, ["am:INC005", "mem:INC003", "mem:INC001", "mem:INC004", "mem:INC002"]),
])
def test_each_sort_key(sort: SortKey, expected: list[str]) -> None:
    arranged = arrange(MIXED, Arrangement(sort=sort))
    assert keys(arranged.rows) == expected
    reverse = arrange(MIXED, Arrangement(sort=sort, descending=True))
    assert keys(reverse.rows) == expected[::-1]


def test_sorting_is_stable_whatever_order_the_incidents_arrive_in() -> None:
    """The same data in any order gives the same rows (the tie-breaker is the unique key), so
    a poll that reorders nothing moves nothing."""
    many = [incident(n, severity=Severity.WARNING, minutes_ago=10, service="same")
            for n in range(40)]
    for sort in SortKey:
        if sort is SortKey.TRIAGE:  # triage is the feed's order: the feed sorts it
            continue
        want = keys(arrange(feed_order(many), Arrangement(sort=sort)).rows)
        shuffled = list(many)
        random.Random(7).shuffle(shuffled)
        assert keys(arrange(shuffled, Arrangement(sort=sort)).rows) == want


def test_mine_first_and_only_ignore_case_and_spaces() -> None:
    assert is_mine(MIXED[-1], "dana WHITFIELD") and not is_mine(MIXED[-1], "")
    first = arrange(MIXED, Arrangement(mine=MineMode.FIRST, user="Dana Whitfield"))
    assert keys(first.rows)[:2] == ["mem:INC004", "mem:INC002"]  # mine, in triage order
    assert len(first.rows) == 5 and first.hidden == 0
    only = arrange(MIXED, Arrangement(mine=MineMode.ONLY, user="Dana Whitfield"))
    assert keys(only.rows) == ["mem:INC004", "mem:INC002"]
    assert only.total == 5 and only.hidden == 3
    nobody = arrange(MIXED, Arrangement(mine=MineMode.ONLY, user=""))
    assert nobody.rows == () and nobody.hidden == 5


FLOOD = feed_order([
    alert(1, "DiskFull", severity=Severity.CRITICAL, minutes_ago=3),
    alert(2, "DiskFull", severity=Severity.WARNING, silenced=True, minutes_ago=1),
    alert(3, "DiskFull", severity=Severity.WARNING, silenced=True, minutes_ago=40),
    alert(4, "Latency", severity=Severity.WARNING, minutes_ago=20),
    alert(5, "Latency", severity=Severity.INFO, minutes_ago=2),
    replace(alert(6, "DiskFull", minutes_ago=7), provider="am2"),
    replace(incident(7, severity=Severity.HIGH, minutes_ago=9), provider="pd"),
])


def test_groups_count_silenced_as_silenced_and_show_worst_and_newest() -> None:
    arranged = arrange(FLOOD, Arrangement(grouped=True))
    groups = {g.label + "@" + g.provider: g for g in arranged.groups}
    disk = groups["alertname=DiskFull@am"]
    assert disk.count == 3 and disk.silenced == 2 and disk.firing == 1
    assert disk.worst is Severity.CRITICAL
    assert disk.newest == FROZEN - timedelta(minutes=1)  # a silenced alert is still the newest
    assert groups["alertname=Latency@am"].silenced == 0
    assert groups["alertname=DiskFull@am2"].count == 1  # one group per provider
    assert groups["no alertname@pd"].count == 1
    # each group sits where its first incident sits; its incidents follow it
    assert isinstance(arranged.rows[0], Group) and arranged.rows[0] is arranged.groups[0]
    assert sum(1 for r in arranged.rows if isinstance(r, Group)) == 4
    assert sum(1 for r in arranged.rows if not isinstance(r, Group)) == len(FLOOD)


def test_an_inhibited_alert_is_counted_as_inhibited_neither_firing_nor_silenced() -> None:
    from sre_cockpit.ui.incidents.table import group_text

    inhibited = replace(alert(8, "DiskFull", minutes_ago=2), status=IncidentStatus.ACKNOWLEDGED,
                        suppressed=Suppression.INHIBITED)
    arranged = arrange(feed_order([*FLOOD, inhibited]), Arrangement(grouped=True))
    disk = next(g for g in arranged.groups if g.label == "alertname=DiskFull" and g.provider == "am")
    assert (disk.count, disk.firing, disk.silenced, disk.inhibited) == (4, 1, 2, 1)
    line = group_text(disk, width=120, now=FROZEN, colour=lambda _name: "red", user="",
                      selected=()).plain
    assert "4 incidents (1 firing, 2 silenced, 1 inhibited)" in line


def test_group_by_service_falls_back_to_the_incident_service() -> None:
    mixed = [alert(1, "A", service="checkout"),
             replace(alert(2, "B", service="checkout"),
                     labels=MappingProxyType({"alertname": "B", "service": "payments"}))]
    arranged = arrange(mixed, Arrangement(grouped=True, group_by=("service",)))
    assert sorted(g.label for g in arranged.groups) == ["service=checkout", "service=payments"]


def test_collapsed_groups_keep_counts_right_under_a_filter() -> None:
    how = Arrangement(grouped=True)
    disk = group_key("am", (("alertname", "DiskFull"),))
    collapsed = how.toggle_group(disk)
    arranged = arrange(FLOOD, collapsed)
    assert arranged.in_collapsed == 3 and arranged.collapsed_groups == 1
    assert [i for i in arranged.rows if not isinstance(i, Group)
            and i.labels.get("alertname") == "DiskFull" and i.provider == "am"] == []
    assert len(arranged.matched) == len(FLOOD)  # still targets of a bulk action and counted
    # a filter: counts stay about what matches, collapsed or not
    warning = arrange(FLOOD, collapsed, matches=lambda i: i.severity is Severity.WARNING)
    assert len(warning.matched) == 4 and warning.hidden == 3
    assert warning.in_collapsed == 2  # the two silenced DiskFull warnings
    # collapse everything, then open one
    every = replace(how, collapse_all=True)
    assert arrange(FLOOD, every).in_collapsed == len(FLOOD)
    one_open = every.toggle_group(disk)
    assert arrange(FLOOD, one_open).in_collapsed == len(FLOOD) - 3


def test_sort_by_severity_puts_the_group_with_the_worst_alert_first() -> None:
    arranged = arrange(FLOOD, Arrangement(grouped=True, sort=SortKey.SEVERITY))
    assert arranged.groups[0].label == "alertname=DiskFull" and arranged.groups[0].provider == "am"
    by_age = arrange(FLOOD, Arrangement(grouped=True, sort=SortKey.AGE))
    assert by_age.groups[0].newest == max(i.started_at for i in FLOOD)


def test_summary_names_everything_in_effect() -> None:
    assert Arrangement().summary() == "sort triage ▼"
    how = Arrangement(sort=SortKey.AGE, descending=True, grouped=True,
                      group_by=("alertname", "service"), mine=MineMode.ONLY)
    assert how.summary() == "sort age ▲ · by alertname,service · mine only"
    assert SortKey.PROVIDER.next() is SortKey.TRIAGE and MineMode.ONLY.next() is MineMode.OFF
