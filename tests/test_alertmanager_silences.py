"""Silenced is not acknowledged: the status, the detail line, the snapshot JSON and the silences
on the timeline, against the recorded Alertmanager payloads (httpx.MockTransport)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from test_alertmanager_provider import FROZEN, fixture_handler, make

from sre_cockpit.core.models import Incident, IncidentStatus, Severity, Suppression, TimelineEvent
from sre_cockpit.feeds.timeline_sources import TimelineTracker, lifecycle_names
from sre_cockpit.providers.alertmanager_silences import (
    KnownAlert,
    describe_silence,
    silence_events,
)
from sre_cockpit.providers.base import EventKinds, EventSource, SilenceRequest
from sre_cockpit.reports.snapshot import incident_to_dict
from sre_cockpit.ui.incidents.table import detail_text, searchable, status_label

SID = "f0aa80f7-1992-45dc-ac8b-8b2dfd427b4a"
T0 = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)


def silence(sid: str, *, state: str, starts: str, ends: str, updated: str,
            by: str = "carol", comment: str = "disk swap",
            matchers: Any = None) -> dict[str, Any]:
    return {"id": sid, "status": {"state": state}, "startsAt": starts, "endsAt": ends,
            "updatedAt": updated, "createdBy": by, "comment": comment,
            "matchers": matchers if matchers is not None else [
                {"name": "alertname", "value": "DiskFull", "isRegex": False, "isEqual": True}]}


async def test_silenced_and_inhibited_alerts_say_so(fixtures_dir: Path) -> None:
    provider = make(fixture_handler(fixtures_dir, []))
    incidents = {i.id: i for i in await provider.list_incidents()}
    silenced = incidents["74eed9368316aaba"]
    # v1 JSON keeps three statuses: a silenced alert is still acknowledged, and says why
    assert silenced.status is IncidentStatus.ACKNOWLEDGED
    assert silenced.suppressed is Suppression.SILENCED
    assert silenced.status_text == "silenced"
    assert silenced.detail == ("silenced by sre_cockpit-tests: silence example2 during test, "
                               f"until 2026-11-26 05:32 UTC (silence {SID})")
    inhibited = incidents["6543bc164be4f176"]
    assert inhibited.suppressed is Suppression.INHIBITED and inhibited.status_text == "inhibited"
    firing = incidents["7666d3970f6e15cf"]
    assert firing.suppressed is None and firing.status_text == "triggered"
    assert [status_label(i) for i in (silenced, inhibited, firing)] == [
        "silenced", "inhibited", "triggered"]
    # who and why come before the silence's UUID on the one-line detail
    line = detail_text(silenced, 0).plain
    assert line.index("sre_cockpit-tests") < line.index("silence example2") < line.index(SID)
    assert "silenced" in searchable(silenced) and "inhibited" in searchable(inhibited)
    assert incident_to_dict(silenced)["status"] == "acknowledged"
    assert incident_to_dict(silenced)["suppressed"] == "silenced"
    assert incident_to_dict(firing)["suppressed"] is None


def test_a_persons_acknowledgement_stays_acked() -> None:
    acked = Incident(id="P1", provider="pd", title="t", status=IncidentStatus.ACKNOWLEDGED,
                     severity=Severity.HIGH, service=None, started_at=T0)
    assert status_label(acked) == "acked" and acked.status_text == "acknowledged"
    assert incident_to_dict(acked)["suppressed"] is None


def test_detail_when_the_silence_could_not_be_read() -> None:
    assert describe_silence(SID, None) == f"silenced (silence {SID})"
    assert describe_silence(SID, {"createdBy": "bob"}) == f"silenced by bob (silence {SID})"


async def test_silence_made_here_turns_the_row_silenced(fixtures_dir: Path) -> None:
    provider = make(fixture_handler(fixtures_dir, []))
    incidents = {i.id: i for i in await provider.list_incidents()}
    target = incidents["8320f0af89d48747"]
    request = SilenceRequest(matchers=(("instance", "example1", False, True),), duration_s=3600,
                             comment="reboot", created_by="alice")
    result = await provider.perform("silence", [target], silence=request)
    assert result.ok, result.message
    (updated,) = result.updated
    assert updated.suppressed is Suppression.SILENCED
    assert updated.detail is not None and updated.detail.startswith("silenced by alice: reboot, "
                                                                    "until 2026-11-26 06:00 UTC")
    expired = await provider.perform("expire_silence", [updated])
    assert expired.ok and expired.updated[0].suppressed is None
    assert expired.updated[0].status is IncidentStatus.TRIGGERED


async def test_recorded_silence_is_on_the_timeline(fixtures_dir: Path) -> None:
    seen: list[httpx.Request] = []
    provider = make(fixture_handler(fixtures_dir, seen))
    assert isinstance(provider, EventSource) and isinstance(provider, EventKinds)
    await provider.list_incidents()
    events = await provider.list_events(FROZEN - timedelta(hours=2), None)
    assert seen[-1].url.path == "/api/v2/silences" and seen[-1].method == "GET"
    (created,) = events
    assert created.kind == "silence" and created.source == "am"
    assert created.at == datetime(2026, 11, 26, 4, 32, 35, 91000, tzinfo=UTC)
    assert created.text == ('silence created by sre_cockpit-tests: silence example2 during test'
                            ' — alertname="DiskRunningFull", instance="example2" until '
                            f'2026-11-26 05:32 UTC (silence {SID})')
    # it silences two alerts: it belongs to neither alone
    assert created.incident_id is None and created.id == f"silence:{SID}:created"
    # the window is honoured
    assert await provider.list_events(FROZEN, None) == []


def test_created_scheduled_and_expired_silences() -> None:
    alerts = {"fp1": KnownAlert({"alertname": "DiskFull", "service": "db"}, "db"),
              "fp2": KnownAlert({"alertname": "Other"}, None)}
    answer = [
        silence("s-active", state="active", starts="2026-11-26T04:10:00Z",
                ends="2026-11-26T06:00:00Z", updated="2026-11-26T04:10:00Z"),
        silence("s-expired", state="expired", starts="2026-11-26T04:05:00Z",
                ends="2026-11-26T04:20:00Z", updated="2026-11-26T04:20:00Z", by="dave",
                comment="", matchers=[{"name": "service", "value": "web", "isRegex": False,
                                       "isEqual": True},
                                      {"name": "pod", "value": "web-.*", "isRegex": True,
                                       "isEqual": False}]),
        silence("s-pending", state="pending", starts="2026-11-26T08:00:00Z",
                ends="2026-11-26T09:00:00Z", updated="2026-11-26T04:30:00Z"),
        {"id": "broken"}, "not an object",
    ]
    events = silence_events(answer, source="am", since=T0, until=T0 + timedelta(hours=1),
                            alerts=alerts)
    got = [(e.at.strftime("%H:%M"), e.kind, e.id, e.incident_id, e.service) for e in events]
    assert got == [
        ("04:05", "silence", "silence:s-expired:created", None, "web"),
        ("04:10", "silence", "silence:s-active:created", "fp1", "db"),
        ("04:20", "silence_end", "silence:s-expired:expired", None, "web"),
        ("04:30", "silence", "silence:s-pending:created", "fp1", "db"),
    ]
    texts = {e.id: e.text for e in events}
    assert texts["silence:s-expired:expired"] == (
        'silence expired — service="web", pod!~"web-.*" (set by dave) (silence s-expired)')
    assert texts["silence:s-pending:created"].startswith(
        'silence scheduled by carol: disk swap — alertname="DiskFull" from 2026-11-26 08:00 UTC')


def test_silence_text_from_the_server_is_sanitised() -> None:
    hostile = silence("s1", state="active", starts="2026-11-26T04:10:00Z",
                      ends="2026-11-26T06:00:00Z", updated="2026-11-26T04:10:00Z",
                      by="eve\x1b]52;c;aGk=\x07", comment="[@click=app.quit]x[/]\nnext")
    (event,) = silence_events([hostile], source="am", since=T0, until=T0 + timedelta(hours=1),
                              alerts={})
    assert "\x1b" not in event.text and "\x07" not in event.text and "\n" not in event.text


def test_alertmanager_alerts_keep_their_observed_starts_and_ends(fixtures_dir: Path) -> None:
    """An EventSource whose events are silences is not a lifecycle source: its alerts still get
    the alert_start/alert_end the cockpit observes (PagerDuty's log entries hold its own)."""
    provider = make(fixture_handler(fixtures_dir, []))

    class Lifecycle:
        name = "pd"

        async def list_events(self, since: datetime,
                              until: datetime | None = None) -> list[TimelineEvent]:
            return []

    assert lifecycle_names({"am": provider, "pd": Lifecycle()}) == {"pd"}
    tracker = TimelineTracker(clock=lambda: FROZEN,
                              lifecycle_sources={"am": provider, "pd": Lifecycle()})
    alert = Incident(id="fp", provider="am", title="DiskFull", status=IncidentStatus.TRIGGERED,
                     severity=Severity.CRITICAL, service=None, started_at=T0)
    page = Incident(id="P1", provider="pd", title="page", status=IncidentStatus.TRIGGERED,
                    severity=Severity.CRITICAL, service=None, started_at=T0)
    new = tracker.observe_incidents([alert, page])
    assert [(e.kind, e.source) for e in new] == [("alert_start", "am")]

