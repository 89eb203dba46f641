"""A tiny host app for the timeline pane, with a frozen clock, a temp journal and fake providers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from journal_helpers import T0, FakeActions, incident
from textual.app import App, ComposeResult

from sre_cockpit.config.model import Config, ContextConfig, UiConfig
from sre_cockpit.core.models import TimelineEvent
from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.runtime import Runtime
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
    """Notes plus an (empty) log-entry source, like PagerDuty: no synthetic alert starts."""

    async def list_events(self, since: datetime, until: datetime | None = None) -> list[TimelineEvent]:
        return []


def make_runtime(tmp_path: Path, *, order: str = "newest_last") -> tuple[Runtime, Journal]:
    config = Config(contexts={"t": ContextConfig()},
                    ui=UiConfig(timeline_order=order),  # type: ignore[arg-type]
                    journal_dir=str(tmp_path / "journal"))
    runtime = Runtime(config, "t", clock=lambda: NOW)
    runtime.providers["pd"] = FakePagerDuty("pd")  # type: ignore[assignment]
    journal = Journal(tmp_path / "journal", clock=lambda: NOW)
    return runtime, journal


class TimelineHost(App[None]):
    """Mounts the timeline pane alone and records the moments it posts."""

    def __init__(self, runtime: Runtime, journal: Journal) -> None:
        super().__init__()
        self.runtime = runtime
        self.journal = journal
        self.moments: list[tuple[datetime | None, str]] = []

    def compose(self) -> ComposeResult:
        yield TimelinePane(id="timeline")

    def on_mount(self) -> None:
        pane = self.query_one(TimelinePane)
        pane.attach(self.runtime, journal=self.journal, start_polling=False)
        pane.table.focus()

    def on_timeline_pane_moment_selected(self, message: TimelinePane.MomentSelected) -> None:
        self.moments.append((message.at, message.label))


def loaded(pane: TimelinePane) -> None:
    """Feed the story: incidents, events, focus P1."""
    pane.set_incidents([incident("P1"), incident("P2", service="payments")])
    pane.set_events(story_events())
    pane.focus_incident(incident("P1"))
