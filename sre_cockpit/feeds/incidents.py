"""The incident feed: every incident provider polled, merged, ordered, and acted on.

One :class:`~sre_cockpit.feeds.polling.Poller` per incident provider, so a dead backend never
blocks another; the last good list of each provider is kept and its health says whether it is
fresh. Actions are planned here (what each provider can do, what is skipped and why), previewed
(the exact request), performed, shown at once through optimistic overrides and reconciled by
the next poll, which is triggered right after the action.

The view gets an :class:`IncidentsSnapshot` after every change; the CLI's ``snapshot`` and
``postmortem`` call :meth:`IncidentFeed.refresh` and read the same snapshot, so the ordering
and the deadlines are the same everywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from sre_cockpit.core.actions import (
    ACTION_NAMES,
    ACTION_TITLES,
    ONCALL_ACTIONS,
    ActionArgs,
    ActionPreview,
    ActionResult,
    Assignee,
    EscalationLevel,
    SilenceRequest,
)
from sre_cockpit.core.models import HealthState, Incident, IncidentStatus, ProviderHealth
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.base import Feed, Job
from sre_cockpit.feeds.policy import fetch_deadline, one_line
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.providers.base import (
    AssigneeDirectory,
    Capability,
    EscalationPolicyReader,
    IncidentActions,
    IncidentSource,
    NoticeSource,
    OnCallSource,
    ProviderError,
    SilenceDefaults,
)

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime

ONCALL_EVERY_S = 300.0
"""How often a provider that knows who is on call (PagerDuty) is asked, with the poll."""

def incident_order(incident: Incident) -> tuple[int, int, float, str]:
    """The one incident ordering (pane, ``snapshot``, ``postmortem``): triggered first, then
    acknowledged, then resolved; within a status by severity; newest first; then by key."""
    return (incident.status.rank, incident.severity.rank, -incident.started_at.timestamp(),
            incident.key)


@dataclass(frozen=True, slots=True)
class IncidentsSnapshot:
    """Everything the incidents view shows, at one moment.

    Attributes:
        context: the context's name.
        read_only: actions are refused (``--read-only`` or ``read_only: true``).
        production: a production-like context (confirmations say so).
        incidents: every provider's last good list merged, optimistic overrides applied, in
            :func:`incident_order`.
        sources: one health per incident provider, including providers that failed to start.
        oncall: provider → who is on call (providers that can say).
        notices: provider → a notice about its last answer (e.g. a truncated list).
        actions: provider → action → None when supported, else why not.
        unconfigured: why the feed has nothing to show at all (no incident provider).
        user: who the operator is (the config's ``user``): "mine" are incidents assigned to
            this name.
    """

    context: str = ""
    read_only: bool = False
    production: bool = False
    incidents: tuple[Incident, ...] = ()
    sources: tuple[ProviderHealth, ...] = ()
    oncall: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    notices: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    actions: Mapping[str, Mapping[str, str | None]] = field(
        default_factory=lambda: MappingProxyType({}))
    unconfigured: str | None = None
    user: str = ""

    def source(self, provider: str) -> ProviderHealth | None:
        """The health of one provider."""
        return next((s for s in self.sources if s.provider == provider), None)

    def disabled_reason(self, action: str, targets: Sequence[Incident]) -> str | None:
        """Why ``action`` cannot run on ``targets`` (None when it can on at least one)."""
        if not targets:
            return "no incident under the cursor"
        if action == "note":
            return None  # the journal keeps what a provider (or a read-only context) cannot take
        if self.read_only:
            return f"context {self.context} is read-only: actions are disabled"
        reasons = []
        for provider in dict.fromkeys(i.provider for i in targets):
            supported = self.actions.get(provider)
            if supported is None:
                reasons.append(f"{provider} cannot change incidents")
                continue
            reason = supported.get(action, f"{provider} does not support {action}")
            if reason is None:
                return None
            reasons.append(reason)
        return "; ".join(dict.fromkeys(reasons)) or None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An incident an action leaves out, and why."""

    incident: Incident
    reason: str


@dataclass(frozen=True, slots=True)
class PlannedGroup:
    """The incidents of one provider an action goes to.

    Attributes:
        provider: the provider's name.
        incidents: the targets it takes.
        silence: the provider's proposed silence (``silence`` only), for the form to start from.
    """

    provider: str
    incidents: tuple[Incident, ...]
    silence: SilenceRequest | None = None


@dataclass(frozen=True, slots=True)
class ActionPlan:
    """What an action will do: which incidents go to which provider, which are skipped."""

    action: str
    groups: tuple[PlannedGroup, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def count(self) -> int:
        """Incidents the action goes to."""
        return sum(len(g.incidents) for g in self.groups)

    @property
    def title(self) -> str:
        """``Acknowledge 2 incidents?``."""
        count = self.count
        return f"{ACTION_TITLES[self.action]} {count} incident{'s' if count != 1 else ''}?"


class ActionError(Exception):
    """An action could not be previewed or sent; ``str()`` is one line for a toast."""


class IncidentFeed(Feed[IncidentsSnapshot]):
    """Every incident provider of a runtime, merged into one :class:`IncidentsSnapshot`."""

    name = "incidents"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.sources: dict[str, IncidentSource] = dict(
            runtime.of(IncidentSource))  # type: ignore[type-abstract]
        self.failed = runtime.failed_for(Capability.INCIDENTS)
        interval = float(runtime.config.refresh.incidents)
        self.interval = interval
        self.pollers: dict[str, Poller[tuple[float, list[Incident]]]] = {}
        for name, source in self.sources.items():
            self.pollers[name] = Poller(
                name, self._fetcher(name, source), interval=interval,
                deadline=fetch_deadline(runtime.get(name)),
                on_update=lambda update, n=name: self._on_poll(n, update),  # type: ignore[misc]
                wall=runtime.clock)
        self._lists: dict[str, list[Incident]] = {}
        self._merged: tuple[Incident, ...] | None = None
        """The last merge, until a list or an override changes (a poll that brings the same
        incidents does not sort thousands of them again)."""
        self._healths: dict[str, ProviderHealth] = {
            name: ProviderHealth(provider=name, state=HealthState.PENDING, fresh_for=2 * interval)
            for name in self.sources}
        self._healths.update({
            name: ProviderHealth(provider=name, state=HealthState.ERROR,
                                 error=f"failed to start: {reason}")
            for name, reason in self.failed.items()})
        self._oncall: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._overrides: dict[str, tuple[float, Incident]] = {}
        super().__init__(self._build())

    # ------------------------------------------------------------------------------ polling

    def jobs(self) -> Sequence[Job]:
        return [Job(f"incidents:{name}", poller.run) for name, poller in self.pollers.items()]

    async def refresh(self) -> IncidentsSnapshot:
        """Poll every provider once, concurrently, and publish."""
        await asyncio.gather(*(p.poll_once() for p in self.pollers.values()))
        return self.snapshot

    def trigger(self, providers: Iterable[str] | None = None) -> None:
        """Poll now (after an action, or a new page seen elsewhere)."""
        for name in providers if providers is not None else self.pollers:
            poller = self.pollers.get(name)
            if poller is not None:
                poller.trigger()

    def _fetcher(self, name: str,
                 source: IncidentSource) -> Callable[[], Awaitable[tuple[float, list[Incident]]]]:
        async def fetch() -> tuple[float, list[Incident]]:
            started = time.monotonic()
            incidents = await source.list_incidents()
            await self._refresh_oncall(name, source)
            return started, incidents
        return fetch

    async def _refresh_oncall(self, name: str, source: IncidentSource) -> None:
        """Who is on call, asked at most every :data:`ONCALL_EVERY_S`; a failure keeps the
        previous answer and never fails the poll."""
        if not isinstance(source, OnCallSource):
            return
        last = self._oncall.get(name)
        if last is not None and time.monotonic() - last[0] < ONCALL_EVERY_S:
            return
        try:
            names = await source.oncall()
        except (ProviderError, TimeoutError):
            return
        self._oncall[name] = (time.monotonic(), tuple(sanitize_line(str(n)) for n in names))

    def _on_poll(self, name: str, update: PollUpdate[tuple[float, list[Incident]]]) -> None:
        if update.fresh and update.value is not None:
            started, incidents = update.value
            if self._lists.get(name) != incidents:  # providers reuse unchanged incidents
                self._lists[name] = list(incidents)
                self._merged = None
            for key, (at, incident) in list(self._overrides.items()):
                if incident.provider == name and at <= started:
                    del self._overrides[key]
                    self._merged = None
        self._healths[name] = replace(update.health, fresh_for=2 * self.interval)
        self.publish(self._build())

    # ------------------------------------------------------------------------------ snapshot

    def merged(self) -> tuple[Incident, ...]:
        """Every provider's last good list with the optimistic overrides, ordered."""
        if self._merged is None:
            self._merged = self._merge()
        return self._merged

    def _merge(self) -> tuple[Incident, ...]:
        out: dict[str, Incident] = {}
        for incidents in self._lists.values():
            for incident in incidents:
                out[incident.key] = incident
        for key, (_, incident) in self._overrides.items():
            if key in out:
                out[key] = incident
        return tuple(sorted(out.values(), key=incident_order))

    def _build(self) -> IncidentsSnapshot:
        runtime = self.runtime
        unconfigured = None
        if not self.sources and not self.failed:
            unconfigured = (f"no incident provider configured — add one under contexts."
                            f"{runtime.context_name}.providers (type: alertmanager, pagerduty "
                            "or http)")
        notices = {}
        for name, source in self.sources.items():
            if isinstance(source, NoticeSource) and source.notice:
                notices[name] = sanitize_line(str(source.notice))
        actions: dict[str, Mapping[str, str | None]] = {}
        for name in self.sources:
            provider = runtime.get(name)
            if provider is not None and isinstance(provider, IncidentActions):
                actions[name] = MappingProxyType(dict(provider.supported_actions()))
        ordered = [self._healths[n] for n in runtime.context.providers if n in self._healths]
        ordered += [h for n, h in self._healths.items() if n not in runtime.context.providers]
        return IncidentsSnapshot(
            context=runtime.context_name, read_only=runtime.read_only,
            production=runtime.is_production, incidents=self.merged(), sources=tuple(ordered),
            oncall=MappingProxyType({n: names for n, (_, names) in self._oncall.items() if names}),
            notices=MappingProxyType(notices), actions=MappingProxyType(actions),
            unconfigured=unconfigured, user=runtime.env.user)

    # ------------------------------------------------------------------------------ actions

    def plan(self, action: str, targets: Sequence[Incident]) -> ActionPlan:
        """Which targets ``action`` goes to, per provider, and which it skips and why."""
        if action not in ACTION_NAMES:
            raise ValueError(f"unknown action {action!r}")
        snap = self.snapshot
        groups: dict[str, list[Incident]] = {}
        skipped: list[Skipped] = []
        for incident in targets:
            reason = self._skip_reason(action, incident, snap)
            if reason is not None:
                skipped.append(Skipped(incident, reason))
            else:
                groups.setdefault(incident.provider, []).append(incident)
        planned = []
        for provider, incidents in groups.items():
            silence = None
            if action == "silence":
                source = self.runtime.get(provider)
                silence = (source.default_silence(incidents)
                           if source is not None and isinstance(source, SilenceDefaults)
                           else SilenceRequest(matchers=(), duration_s=7200, comment="",
                                               created_by=self.runtime.env.user))
            planned.append(PlannedGroup(provider, tuple(incidents), silence))
        return ActionPlan(action, tuple(planned), tuple(skipped))

    def _skip_reason(self, action: str, incident: Incident,
                     snap: IncidentsSnapshot) -> str | None:
        if snap.read_only and action != "note":
            return f"context {snap.context} is read-only"
        supported = snap.actions.get(incident.provider)
        if supported is None:
            return f"{incident.provider} cannot change incidents"
        reason = supported.get(action, f"{incident.provider} does not support {action}")
        if reason is not None:
            return reason
        if action == "ack" and incident.status is IncidentStatus.ACKNOWLEDGED:
            return "already acknowledged"
        if (action in ("ack", "resolve", "reassign", "escalate", "snooze")
                and incident.status is IncidentStatus.RESOLVED):
            return "already resolved"
        return None

    def _actions_of(self, provider: str) -> IncidentActions:
        source = self.runtime.get(provider)
        if source is None or not isinstance(source, IncidentActions):
            raise ActionError(f"{provider} cannot change incidents")
        return source

    def previews(self, plan: ActionPlan,
                 silences: Mapping[str, SilenceRequest] | None = None,
                 args: Mapping[str, ActionArgs] | None = None) -> list[ActionPreview]:
        """Exactly what :meth:`perform` will send, per provider (for the confirm dialog).
        ``args`` (provider → its parameters) drives the on-call actions (``ONCALL_ACTIONS``).

        Raises:
            ActionError: a provider cannot build the request (one line).
        """
        out = []
        for group in plan.groups:
            actions = self._actions_of(group.provider)
            silence = (silences or {}).get(group.provider)
            try:
                if plan.action in ONCALL_ACTIONS:
                    out.append(actions.preview(plan.action, group.incidents, silence=silence,
                                               args=self._args_for(plan, group, args)))
                else:  # providers written before the on-call actions take no ``args``
                    out.append(actions.preview(plan.action, group.incidents, silence=silence))
            except ProviderError as exc:
                raise ActionError(one_line(str(exc))) from exc
        return out

    @staticmethod
    def _args_for(plan: ActionPlan, group: PlannedGroup,
                  args: Mapping[str, ActionArgs] | None) -> ActionArgs:
        chosen = (args or {}).get(group.provider)
        if chosen is None:
            raise ActionError(f"{ACTION_TITLES[plan.action]}: nothing chosen for "
                              f"{sanitize_line(group.provider)}")
        return chosen

    async def perform(self, plan: ActionPlan,
                      silences: Mapping[str, SilenceRequest] | None = None,
                      args: Mapping[str, ActionArgs] | None = None) -> list[ActionResult]:
        """Send the action to every provider of the plan concurrently; show the providers'
        optimistic rows at once and poll those providers right after. A provider that answers
        429 gets "rate limited until …" on its source line as well as in the result."""
        jobs = []
        for group in plan.groups:
            actions = self._actions_of(group.provider)
            silence = (silences or {}).get(group.provider)
            if plan.action in ONCALL_ACTIONS:
                jobs.append(actions.perform(plan.action, group.incidents, silence=silence,
                                            args=self._args_for(plan, group, args)))
            else:
                jobs.append(actions.perform(plan.action, group.incidents, silence=silence))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        out: list[ActionResult] = []
        for group, result in zip(plan.groups, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                retry_after = getattr(result, "retry_after", None)
                result = ActionResult(False, one_line(
                    f"{group.provider}: {type(result).__name__}: {result}"),
                    retry_after=retry_after if isinstance(retry_after, int | float) else None)
            out.append(result)
            if result.retry_after is not None:
                self._rate_limited(group.provider, result.retry_after)
            self.apply_optimistic(result.updated)
        self.trigger(g.provider for g in plan.groups)
        return out

    def _rate_limited(self, provider: str, retry_after: float) -> None:
        """Show "rate limited until …" on the provider's source line (the next good poll
        after that moment clears it)."""
        health = self._healths.get(provider)
        if health is None:
            return
        until = self.runtime.clock() + timedelta(seconds=max(0.0, retry_after))
        if health.rate_limited_until is None or health.rate_limited_until < until:
            self._healths[provider] = replace(health, rate_limited_until=until)
            self.publish(self._build())

    # ------------------------------------------------------------------------------ directory

    def can_search_assignees(self, provider: str) -> bool:
        """Whether ``provider`` has a directory of people and policies to reassign to."""
        source = self.runtime.get(provider)
        return source is not None and isinstance(source, AssigneeDirectory)

    async def search_assignees(self, provider: str, query: str) -> list[Assignee]:
        """Who ``provider``'s incidents can be reassigned to, matching ``query``, under the
        provider's deadline. Names are sanitised here, once.

        Raises:
            ActionError: no directory, or it did not answer (one line, e.g. a 429 with
                "rate limited until …", which also marks the source line).
        """
        source = self.runtime.get(provider)
        if source is None or not isinstance(source, AssigneeDirectory):
            raise ActionError(f"{provider} has no directory to search: type an id")
        try:
            async with asyncio.timeout(fetch_deadline(source)):
                found = await source.search_assignees(query)
        except TimeoutError as exc:
            raise ActionError(f"{provider}: the directory did not answer in time") from exc
        except ProviderError as exc:
            if exc.retry_after is not None:
                self._rate_limited(provider, exc.retry_after)
            raise ActionError(one_line(str(exc))) from exc
        return [replace(a, name=sanitize_line(a.name),
                        detail=sanitize_line(a.detail) if a.detail else None) for a in found]

    async def escalation_levels(self, incident: Incident) -> list[EscalationLevel]:
        """The levels of ``incident``'s escalation policy, for the escalate dialog.

        Raises:
            ActionError: the provider cannot say, or did not answer (one line).
        """
        source = self.runtime.get(incident.provider)
        if source is None or not isinstance(source, EscalationPolicyReader):
            raise ActionError(f"{incident.provider} cannot list escalation levels: type a level")
        try:
            async with asyncio.timeout(fetch_deadline(source)):
                levels = await source.escalation_levels(incident)
        except TimeoutError as exc:
            raise ActionError(f"{incident.provider}: no answer in time") from exc
        except ProviderError as exc:
            if exc.retry_after is not None:
                self._rate_limited(incident.provider, exc.retry_after)
            raise ActionError(one_line(str(exc))) from exc
        return [replace(level, targets=tuple(sanitize_line(t) for t in level.targets))
                for level in levels]

    def apply_optimistic(self, updated: Sequence[Incident]) -> None:
        """Show providers' optimistic new versions of rows until a later poll reconciles."""
        now = time.monotonic()
        for incident in updated:
            self._overrides[incident.key] = (now, incident)
            self._merged = None
        if updated:
            self.publish(self._build())

    async def aclose(self) -> None:
        self._lists.clear()
        self._merged = None


def targets_in(snapshot: IncidentsSnapshot, keys: Iterable[str]) -> tuple[Incident, ...]:
    """The incidents of ``snapshot`` with these keys, in the snapshot's order."""
    wanted = set(keys)
    return tuple(i for i in snapshot.incidents if i.key in wanted)


__all__ = ["ActionError", "ActionPlan", "IncidentFeed", "IncidentsSnapshot", "PlannedGroup",
           "Skipped", "incident_order", "targets_in"]
