"""A tiny host app for the timeline pane, with a frozen clock, a temp journal and fake providers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from journal_helpers import T0, FakeActions, incident
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sre_cockpit.config.model import Config, ContextConfig, UiConfig
from sre_cockpit.core.models import Incident, TimelineEvent
from sre_cockpit.feeds.incidents import IncidentFeed
from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.notes import NotesFeed
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slos import SloFeed
from sre_cockpit.feeds.timeline import TimelineFeed
from sre_cockpit.providers.base import ProviderError
from sre_cockpit.ui.messages import TimelineChanged
from sre_cockpit.ui.notes_editor import NoteEditor
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.timeline.view import TimelinePane

NOW = T0 + timedelta(minutes=30)


def story_events() -> list[TimelineEvent]:
    def ev(minutes: float, kind: str, text: str, source: str = "pd",
           incident_id: str | None = "P1", **kw: Any) -> TimelineEvent:
        return TimelineEvent(at=T0 + timedelta(minutes=minutes), kind=kind, source=source,
                             text=text, incident_id=incident_id,
                             id=f"{kind}-{minutes}", **kw)

    return [
        ev(-6, "deploy", "deploy checkout 2.3.1", source="prom", incident_id=None,
           service="checkout"),
        ev(-1, "alert_start", "CheckoutHighErrorRate started", source="am", incident_id="a1"),
        ev(0, "trigger", "Triggered through the API"),
        ev(4, "acknowledge", "Acknowledged by Ann"),
        ev(12, "slo_state", "SLO checkout-availability: ok → critical", source="cockpit",
           incident_id=None),
        ev(14, "trigger", "payments latency", incident_id="P2"),
    ]


class FakePagerDuty(FakeActions):
    """Notes plus a log-entry source, like PagerDuty: no synthetic alert starts. ``events`` is
    what ``list_events`` answers (``fail`` makes it raise)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.events: list[TimelineEvent] = []
        self.fail: str | None = None

    async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]:
        if self.fail:
            raise ProviderError(self.fail)
        return list(self.events)


def make_runtime(tmp_path: Path, *, order: str = "newest_last") -> tuple[Runtime, Journal]:
    config = Config(contexts={"t": ContextConfig()},
                    ui=UiConfig(timeline_order=order),  # type: ignore[arg-type]
                    journal_dir=str(tmp_path / "journal"))
    runtime = Runtime(config, "t", clock=lambda: NOW)
    runtime.providers["pd"] = FakePagerDuty("pd")  # type: ignore[assignment]
    journal = Journal(tmp_path / "journal", clock=lambda: NOW)
    return runtime, journal


class TimelineHost(App[None]):
    """The timeline pane alone on a TimelineFeed (with the incident, SLO and notes feeds it
    listens to), delivered as the cockpit app delivers it; records the moments it asks for and
    opens the note editor on ``n`` as the app does.

    Attributes:
        feed: the timeline feed; ``incidents_feed``, ``slos_feed``, ``notes``: the others.
        pd: the fake PagerDuty (``pd.events`` is what its log entries say).
        moments: every (at, label) the pane asked for.
    """

    def __init__(self, runtime: Runtime, journal: Journal) -> None:
        super().__init__()
        self.runtime = runtime
        self.journal = journal
        self.incidents_feed = IncidentFeed(runtime)
        self.slos_feed = SloFeed(runtime)
        self.notes = NotesFeed(runtime, journal=journal)
        self.feed = TimelineFeed(runtime, incidents=self.incidents_feed, slos=self.slos_feed,
                                 notes=self.notes)
        provider = runtime.providers["pd"]
        assert isinstance(provider, FakePagerDuty)
        self.pd = provider
        self.moments: list[tuple[datetime | None, str]] = []
        self.focused_incident: Incident | None = None

    def compose(self) -> ComposeResult:
        yield TimelinePane(id="timeline")

    def on_mount(self) -> None:
        pane = self.query_one(TimelinePane)
        pane.bind(self.feed)
        self.feed.subscribe(lambda snap: pane.post_message(TimelineChanged(snap)))
        pane.table.focus()

    async def on_unmount(self) -> None:
        await self.notes.aclose()

    def on_pane_moment_requested(self, message: Pane.MomentRequested) -> None:
        self.moments.append((message.at, message.label))

    def on_pane_note_requested(self, message: Pane.NoteRequested) -> None:
        targets = message.incidents or ((self.focused_incident,) if self.focused_incident else ())
        self.push_screen(NoteEditor(self.notes, targets, clock=lambda: NOW),
                         lambda text: self.notes.add_note(text, targets) if text else None)

    def set_incidents(self, incidents: list[Incident]) -> None:
        """What the incident feed publishes after a poll."""
        feed = self.incidents_feed
        feed.publish(replace(feed.snapshot, incidents=tuple(incidents)))

    async def set_events(self, events: list[TimelineEvent]) -> None:
        """PagerDuty's log entries say ``events``; the timeline polls them."""
        self.pd.events = list(events)
        await self.feed.refresh()

    def focus(self, incident: Incident | None) -> None:
        """The app's focused incident."""
        self.focused_incident = incident
        self.query_one(TimelinePane).show_focus(incident)


async def loaded(app: TimelineHost) -> None:
    """Feed the story: incidents, events, focus P1."""
    app.set_incidents([incident("P1"), incident("P2", service="payments")])
    await app.set_events(story_events())
    app.focus(incident("P1"))


@contextlib.asynccontextmanager
async def loaded_timeline(tmp_path: Path, *, order: str = "newest_last",
                          size: tuple[int, int] = (120, 30),
                          ) -> AsyncIterator[tuple[TimelineHost, Pilot[None], TimelinePane]]:
    """Run the timeline pane on a fresh runtime and journal under ``tmp_path`` (``app.runtime``,
    ``app.journal``) with the story loaded and P1 focused: ``async with
    loaded_timeline(tmp_path) as (app, pilot, pane):``."""
    runtime, journal = make_runtime(tmp_path, order=order)
    app = TimelineHost(runtime, journal)
    async with app.run_test(size=size) as pilot:
        pane = app.query_one(TimelinePane)
        await loaded(app)
        yield app, pilot, pane
