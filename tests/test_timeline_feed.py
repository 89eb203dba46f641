"""fetch_timeline: every source merged, failing sources reported, tracker-observed starts/ends/SLOs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from journal_helpers import T0, FakeEvents, incident

from sre_cockpit.config.model import Config, ContextConfig, DeployConfig
from sre_cockpit.core.models import IncidentStatus, LogLine, SloState, SloStatus, TimelineEvent
from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.timeline_sources import (
    TimelineTracker,
    fetch_timeline,
    fetch_timeline_report,
)
from sre_cockpit.providers.base import ProviderError, TailMessage


class FakeProm:
    def __init__(self) -> None:
        self.name = "prom"
        self.calls: list[tuple[Any, ...]] = []

    async def deploy_events(self, query: str, version_label: str, since: datetime,
                            until: datetime, service: str | None = None, *,
                            service_label: str | None = None) -> list[TimelineEvent]:
        self.calls.append((query, version_label, since, until, service))
        return [TimelineEvent(at=T0 - timedelta(minutes=4), kind="deploy", source="prom",
                              text="deploy checkout v2", service=service, id="d1")]


class FakeLoki:
    name = "loki"

    @property
    def default_query(self) -> str:
        return "{}"

    async def query_range(self, query: str, start_ns: int, end_ns: int, *, limit: int = 1000,
                          direction: str = "backward") -> list[LogLine]:
        ts = int((T0 - timedelta(minutes=2)).timestamp() * 1e9)
        return [LogLine(ts, "deployed search", {"app": "search", "ver": "9.1"})]

    async def tail(self, query: str, *, start_ns: int | None = None) -> Any:  # pragma: no cover
        yield TailMessage(())


class BrokenEvents:
    name = "pd2"

    async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]:
        raise ProviderError("pd2: HTTP 503 from https://pd.example/log_entries")


def runtime(deploys: list[DeployConfig]) -> Runtime:
    config = Config(contexts={"t": ContextConfig(deploys=deploys)})
    return Runtime(config, "t", clock=lambda: T0 + timedelta(minutes=30))


async def test_fetch_merges_every_source_and_reports_failures(tmp_path: Path) -> None:
    rt = runtime([
        DeployConfig(provider="prom", query="changes(app_build_info[1m]) > 0", service="checkout"),
        DeployConfig(provider="loki", query='{app="deployer"}', version_label="ver",
                     service_label="app"),
        DeployConfig(provider="missing", query="x"),
    ])
    prom = FakeProm()
    pd_events = [TimelineEvent(at=T0, kind="trigger", source="pd", text="triggered",
                               incident_id="P1", id="LE1"),
                 TimelineEvent(at=T0 + timedelta(minutes=3), kind="acknowledge", source="pd",
                               text="acked by ann", incident_id="P1", id="LE2")]
    rt.providers.update({"pd": FakeEvents("pd", pd_events), "pd2": BrokenEvents(),  # type: ignore[dict-item]
                         "prom": prom, "loki": FakeLoki()})
    journal = Journal(tmp_path, clock=lambda: T0 + timedelta(minutes=5))
    journal.add_note("rolled back", [incident()])
    alert = incident("a1", provider="am")
    report = await fetch_timeline_report(rt, [incident(), alert], journal=journal)
    kinds = [(e.kind, e.text) for e in report.events]
    assert kinds == [
        ("deploy", "deploy checkout v2"),
        ("deploy", "deploy search 9.1"),
        ("alert_start", "a1 checkout errors started"),
        ("trigger", "triggered"),
        ("acknowledge", "acked by ann"),
        ("note", "rolled back"),
    ]
    assert set(report.errors) == {"pd2 events", "missing deploys"}
    assert "503" in report.errors["pd2 events"]
    # The default window starts an hour before the earliest incident.
    assert prom.calls[0][2] == T0 - timedelta(hours=1)
    assert prom.calls[0][3] == T0 + timedelta(minutes=30)
    assert await fetch_timeline(rt, [incident()], journal=journal) != []


def test_tracker_observes_starts_ends_and_slo_changes() -> None:
    now = [T0]
    tracker = TimelineTracker(clock=lambda: now[0], lifecycle_sources={"pd"})
    alert = incident("a1", provider="am")
    first = tracker.observe_incidents([alert, incident("P1", provider="pd")])
    assert [(e.kind, e.incident_id) for e in first] == [("alert_start", "a1")]
    assert tracker.observe_incidents([alert]) == []  # nothing new
    now[0] = T0 + timedelta(minutes=7)
    gone = tracker.observe_incidents([])
    assert [(e.kind, e.at) for e in gone] == [("alert_end", T0 + timedelta(minutes=7))]
    assert tracker.observe_incidents([]) == []
    # The same alert firing again later is a new start.
    again = replace(alert, started_at=T0 + timedelta(minutes=20))
    assert [e.kind for e in tracker.observe_incidents([again])] == ["alert_start"]
    resolved = replace(again, status=IncidentStatus.RESOLVED,
                       updated_at=T0 + timedelta(minutes=25))
    ends = tracker.observe_incidents([resolved])
    assert [(e.kind, e.at) for e in ends] == [("alert_end", T0 + timedelta(minutes=25))]
    assert tracker.observe_incidents([]) == []  # already ended

    def slo(state: SloState, minute: int) -> SloStatus:
        return SloStatus(name="availability", objective=0.999, window="30d", sli=0.99,
                         error_budget_remaining=0.5, burn_rates={"5m": 14.4, "1h": None},
                         state=state, exhausted_at=None,
                         evaluated_at=T0 + timedelta(minutes=minute))

    assert tracker.observe_slos([slo(SloState.OK, 1)]) == []
    changed = tracker.observe_slos([slo(SloState.CRITICAL, 2)])
    assert [e.text for e in changed] == ["SLO availability: ok → critical (burn 5m ×14.4)"]
    assert tracker.observe_slos([slo(SloState.CRITICAL, 3)]) == []
    assert len([e for e in tracker.events() if e.kind == "slo_state"]) == 1
    fresh = TimelineTracker()
    assert [e.text for e in fresh.observe_slos([slo(SloState.WARNING, 1)])] == [
        "SLO availability is warning (burn 5m ×14.4)"]


async def test_provider_clock_offset_is_corrected(tmp_path: Path) -> None:
    rt = runtime([])
    ahead = FakeEvents("pd", [TimelineEvent(at=T0 + timedelta(minutes=3), kind="acknowledge",
                                            source="pd", text="ack", incident_id="P1", id="L")])
    ahead.clock_offset = 120.0  # type: ignore[attr-defined]
    rt.providers["pd"] = ahead  # type: ignore[assignment]
    journal = Journal(tmp_path, clock=lambda: T0 + timedelta(minutes=2))
    journal.add_note("looking", [incident()])
    events = await fetch_timeline(rt, [incident()], journal=journal)
    assert [(e.kind, e.at) for e in events] == [("acknowledge", T0 + timedelta(minutes=1)),
                                                ("note", T0 + timedelta(minutes=2))]
