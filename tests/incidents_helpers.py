"""Helpers for incidents-pane tests: an in-memory incident backend, a tiny host app and the
pilot set-up every pane test starts with (:func:`polled_pane`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sre_cockpit.config.model import Config
from sre_cockpit.core.models import Incident, IncidentStatus, ProbeResult, Severity
from sre_cockpit.feeds.incidents import IncidentFeed, IncidentsSnapshot
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.providers.base import (
    ActionArgs,
    ActionPreview,
    ActionResult,
    Assignee,
    AssigneeKind,
    Capability,
    EscalationLevel,
    Provider,
    ProviderEnv,
    ProviderError,
    RateLimitedError,
    SilenceRequest,
    StrictModel,
)
from sre_cockpit.ui.incidents.view import IncidentsPane
from sre_cockpit.ui.messages import IncidentsChanged
from sre_cockpit.ui.pane import Pane

FROZEN = datetime(2026, 11, 26, 14, 3, tzinfo=UTC)


class MemoryOptions(StrictModel):
    type: str = "memory"


class MemoryIncidents(Provider):
    """An in-memory incident system: ack/resolve really change its state."""

    TYPE: ClassVar[str] = "memory"
    Options: ClassVar[type[StrictModel]] = MemoryOptions
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INCIDENTS, Capability.INCIDENT_ACTIONS})

    def __init__(self, name: str, incidents: Sequence[Incident], *,
                 unsupported: Mapping[str, str] | None = None) -> None:
        super().__init__(name, MemoryOptions(), ProviderEnv(user="tester"))
        self.state = {i.id: replace(i, provider=name) for i in incidents}
        self.unsupported = dict(unsupported or {})
        self.performed: list[tuple[str, tuple[str, ...]]] = []
        self.lists = 0
        self.fail: str | None = None
        self.fail_retry_after: float | None = None

    async def list_incidents(self) -> list[Incident]:
        self.lists += 1
        if self.fail and self.fail_retry_after is not None:
            raise RateLimitedError(self.fail, status=429, retry_after=self.fail_retry_after)
        if self.fail:
            raise ProviderError(self.fail)
        return [i for i in self.state.values() if i.status is not IncidentStatus.RESOLVED]

    def supported_actions(self) -> Mapping[str, str | None]:
        base: dict[str, str | None] = {"ack": None, "resolve": None, "note": None,
                                       "silence": "memory has no silences",
                                       "expire_silence": "memory has no silences"}
        base.update(self.unsupported)
        return base

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None) -> ActionPreview:
        return ActionPreview(self.name, action, "PUT", f"memory://{self.name}/incidents",
                             {"incidents": [{"id": i.id, "action": action} for i in incidents]})

    async def perform(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                      silence: SilenceRequest | None = None,
                      idempotency_key: str | None = None) -> ActionResult:
        self.performed.append((action, tuple(i.id for i in incidents)))
        status = {"ack": IncidentStatus.ACKNOWLEDGED, "resolve": IncidentStatus.RESOLVED}[action]
        for inc in incidents:
            self.state[inc.id] = replace(self.state[inc.id], status=status)
        return ActionResult(True, f"{action} {len(incidents)}",
                            tuple(replace(i, status=status) for i in incidents))

    async def probe(self) -> ProbeResult:
        return ProbeResult(self.name, self.TYPE, True, 0.0)


def incident(n: int, *, title: str | None = None, severity: Severity = Severity.HIGH,
             status: IncidentStatus = IncidentStatus.TRIGGERED, minutes_ago: int = 10,
             service: str | None = "checkout", assignees: tuple[str, ...] = ("Tim Wright",),
             url: str | None = None) -> Incident:
    return Incident(id=f"INC{n:03d}", provider="mem", title=title or f"incident number {n}",
                    status=status, severity=severity, service=service,
                    started_at=FROZEN - timedelta(minutes=minutes_ago), assignees=assignees,
                    url=url or f"https://incidents.example/INC{n:03d}")


def runtime_with(providers: Sequence[Provider], *, read_only: bool = False,
                 context: str = "staging") -> Runtime:
    config = Config.model_validate({"contexts": {context: {"read_only": read_only}},
                                    "user": "tester"})
    runtime = Runtime(config, context, clock=lambda: FROZEN)
    for provider in providers:
        runtime.providers[provider.name] = provider
        runtime.types[provider.name] = provider.TYPE
    return runtime


class PaneApp(App[None]):
    """Hosts one IncidentsPane on an IncidentFeed, as the cockpit app does: the feed's jobs run
    as workers (``start_polling``) and every snapshot reaches the pane as a message.

    Attributes:
        feed: the feed the pane shows.
        snapshots: every snapshot the feed published (for assertions).
        messages: the messages the pane posted (focus, note requests).
    """

    CSS = "IncidentsPane { height: 1fr; }"

    def __init__(self, runtime: Runtime | None, *, start_polling: bool = True,
                 before_attach: Callable[[IncidentsPane], Any] | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self.start_polling = start_polling
        self.feed = IncidentFeed(runtime) if runtime is not None else None
        self.snapshots: list[IncidentsSnapshot] = []
        self.messages: list[Any] = []

    def compose(self) -> ComposeResult:
        yield IncidentsPane()

    def on_mount(self) -> None:
        pane = self.query_one(IncidentsPane)
        if self.feed is not None:
            pane.bind(self.feed)
            self.feed.subscribe(self._published)
            if self.start_polling:
                for job in self.feed.jobs():
                    self.run_worker(job.run(), name=job.name, exit_on_error=False)
        pane.query_one("#incidents-table").focus()

    def _published(self, snapshot: IncidentsSnapshot) -> None:
        self.snapshots.append(snapshot)
        self.query_one(IncidentsPane).post_message(IncidentsChanged(snapshot))

    async def poll_now(self) -> None:
        """Poll every provider once (what a poller tick does)."""
        assert self.feed is not None
        await self.feed.refresh()

    def on_pane_focus_requested(self, message: Pane.FocusRequested) -> None:
        self.messages.append(message)
        self.query_one(IncidentsPane).show_focus(message.incident)  # as the app does

    def on_pane_note_requested(self, message: Pane.NoteRequested) -> None:
        self.messages.append(message)


@contextlib.asynccontextmanager
async def polled_pane(runtime: Runtime, *, size: tuple[int, int] = (160, 40),
                      ) -> AsyncIterator[tuple[PaneApp, Pilot[None], IncidentsPane]]:
    """Run a :class:`PaneApp` on ``runtime`` (no polling job) at ``size``, poll every provider
    once and let the pane show it: ``async with polled_pane(runtime_with([mem])) as (app,
    pilot, pane):``."""
    app = PaneApp(runtime, start_polling=False)
    async with app.run_test(size=size) as pilot:
        pane = app.query_one(IncidentsPane)
        await app.poll_now()
        await pilot.pause()
        yield app, pilot, pane


class OnCallMemory(MemoryIncidents):
    """An in-memory incident system with the on-call actions (reassign, escalate, snooze,
    status update), a directory and escalation levels, like PagerDuty's; ``rate_limit`` makes
    the next call answer 429 (``retry_after`` seconds)."""

    DIRECTORY = (Assignee("PUSER1", AssigneeKind.USER, "Dana Whitfield", "dana@example.com"),
                 Assignee("PUSER2", AssigneeKind.USER, "Ravi Menon", "ravi@example.com"),
                 Assignee("PPOL1", AssigneeKind.ESCALATION_POLICY, "Shop Primary", levels=2))

    def __init__(self, name: str, incidents: Sequence[Incident], **kwargs: Any) -> None:
        super().__init__(name, incidents, **kwargs)
        self.rate_limit: float | None = None
        self.searches: list[str] = []
        self.args: list[ActionArgs | None] = []
        self.updates: list[tuple[str, str]] = []

    def supported_actions(self) -> Mapping[str, str | None]:
        base = dict(super().supported_actions())
        base.update({"reassign": None, "escalate": None, "snooze": None, "status_update": None})
        base.update(self.unsupported)
        return base

    def _limited(self) -> None:
        if self.rate_limit is not None:
            wait, self.rate_limit = self.rate_limit, None
            raise RateLimitedError(f"{self.name}: rate limited (429)", status=429,
                                   retry_after=wait)

    async def search_assignees(self, query: str) -> list[Assignee]:
        self.searches.append(query)
        self._limited()
        return [a for a in self.DIRECTORY if query.lower() in a.name.lower()]

    async def escalation_levels(self, incident: Incident) -> list[EscalationLevel]:
        self._limited()
        return [EscalationLevel(1, ("Dana Whitfield",), 30), EscalationLevel(2, ("Ravi Menon",))]

    def preview(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                silence: SilenceRequest | None = None,
                args: ActionArgs | None = None) -> ActionPreview:
        payload: dict[str, Any] = {"incidents": [i.id for i in incidents], "action": action}
        if args is not None:
            payload.update(assignee=args.assignee.id if args.assignee else None,
                           level=args.level, duration=args.duration_s, message=args.message)
        return ActionPreview(self.name, action, "POST", f"memory://{self.name}/{action}", payload)

    async def perform(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                      silence: SilenceRequest | None = None, idempotency_key: str | None = None,
                      args: ActionArgs | None = None) -> ActionResult:
        if action not in ("reassign", "escalate", "snooze", "status_update"):
            return await super().perform(action, incidents, text=text, silence=silence,
                                         idempotency_key=idempotency_key)
        try:
            self._limited()
        except RateLimitedError as exc:
            return ActionResult(False, str(exc), retry_after=exc.retry_after)
        self.performed.append((action, tuple(i.id for i in incidents)))
        self.args.append(args)
        assert args is not None
        updated = []
        for inc in incidents:
            now = self.state[inc.id]
            if action == "reassign" and args.assignee is not None:
                now = replace(now, assignees=(args.assignee.name,),
                              status=IncidentStatus.TRIGGERED)
            elif action == "escalate":
                now = replace(now, status=IncidentStatus.TRIGGERED)
            elif action == "status_update":
                self.updates.append((inc.id, args.message or ""))
            self.state[inc.id] = now
            updated.append(now)
        return ActionResult(True, f"{action} {len(incidents)} on {self.name}", tuple(updated))
