"""The SLO feed: every SLO evaluated per metrics provider, worst first, with its last good figures.

One :class:`~sre_cockpit.feeds.polling.Poller` per metrics provider evaluates that provider's
SLOs through :class:`~sre_cockpit.feeds.slo_eval.SloEvaluator` (queries de-duplicated, run
concurrently). After an error the last good figures stay, marked stale with the reason; an SLO
that never evaluated is shown with its own error. :meth:`SloFeed.show_moment` re-evaluates as
of a past moment (the incident clock) until it is called with None; figures of another moment
never pass for this one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from sre_cockpit.core import slo as maths
from sre_cockpit.core.models import HealthState, ProviderHealth, SloStatus
from sre_cockpit.feeds.base import Feed, Job
from sre_cockpit.feeds.policy import fetch_deadline
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.feeds.slo_eval import SloEvaluator, SloRow, SloSpec
from sre_cockpit.providers.base import Capability, MetricSource

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime


@dataclass(frozen=True, slots=True)
class SloEntry:
    """One SLO as shown: its row (figures, and the error that made them stale), the provider
    that evaluated it, and when its figures were fetched (None: never)."""

    row: SloRow
    provider: str
    fetched_at: datetime | None

    @property
    def status(self) -> SloStatus:
        """The figures shown."""
        return self.row.status


@dataclass(frozen=True, slots=True)
class SlosSnapshot:
    """Everything the SLO view shows.

    Attributes:
        entries: every evaluated SLO, worst first.
        specs: every configured SLO by name (rules, windows, queries).
        sources: one health per metrics provider the SLOs use (failed ones included).
        moment: the past moment the figures are for (None: live).
        config_error: why ``slos_from:`` could not be read (the config's SLOs still show).
        unconfigured: why there is nothing to show at all.
        service_slos: service → SLO names (``services.<name>.slos`` and ``SloConfig.service``).
    """

    entries: tuple[SloEntry, ...] = ()
    specs: Mapping[str, SloSpec] = field(default_factory=lambda: MappingProxyType({}))
    sources: tuple[ProviderHealth, ...] = ()
    moment: datetime | None = None
    config_error: str | None = None
    unconfigured: str | None = None
    service_slos: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: MappingProxyType({}))

    def entry(self, name: str) -> SloEntry | None:
        """One SLO by name."""
        return next((e for e in self.entries if e.status.name == name), None)

    @property
    def statuses(self) -> tuple[SloStatus, ...]:
        """Every SLO's figures, worst first."""
        return tuple(e.status for e in self.entries)


class SloFeed(Feed[SlosSnapshot]):
    """The SLOs of one runtime, evaluated per metrics provider."""

    name = "slos"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.evaluator = SloEvaluator(runtime)
        self.interval = float(runtime.config.refresh.slos)
        self.moment: datetime | None = None
        self._entries: dict[str, SloEntry] = {}
        self._healths: dict[str, ProviderHealth] = {}
        self._groups: dict[str, list[str]] = {}
        for spec in self.evaluator.specs:
            provider, _problem = self.evaluator.provider_for(spec)
            self._groups.setdefault(provider.name if provider is not None else "",
                                    []).append(spec.name)
        self.pollers: dict[str, Poller[tuple[datetime | None, datetime, list[SloRow]]]] = {}
        for name in self._groups:
            if not name:
                continue
            self.pollers[name] = Poller(
                name, self._fetcher(name, self._groups[name]), interval=self.interval,
                deadline=fetch_deadline(runtime.get(name)),
                on_update=lambda update, n=name: self._on_poll(n, update),  # type: ignore[misc]
                wall=runtime.clock)
            self._healths[name] = ProviderHealth(provider=name, state=HealthState.PENDING,
                                                 fresh_for=2 * self.interval)
        if self.evaluator.specs:
            for name, reason in runtime.failed_for(Capability.METRICS).items():
                self._healths[name] = ProviderHealth(provider=name, state=HealthState.ERROR,
                                                     error=f"failed to start: {reason}")
        super().__init__(self._build())

    # ------------------------------------------------------------------------------ polling

    def jobs(self) -> Sequence[Job]:
        jobs = [Job(f"slos:{name}", poller.run) for name, poller in self.pollers.items()]
        if "" in self._groups:
            jobs.append(Job("slos:unresolved", self._evaluate_unresolved))
        return jobs

    async def refresh(self, at: datetime | None = None) -> SlosSnapshot:
        """Evaluate every SLO once (as of ``at``, else the moment shown, else now) and publish."""
        if at is not None and at != self.moment:
            self.moment = at
            self._entries.clear()
        jobs: list[Awaitable[object]] = [p.poll_once() for p in self.pollers.values()]
        if "" in self._groups:
            jobs.append(self._evaluate_unresolved())
        await asyncio.gather(*jobs)
        return self.snapshot

    def _fetcher(self, provider: str, names: list[str]) -> Callable[
            [], Awaitable[tuple[datetime | None, datetime, list[SloRow]]]]:
        async def fetch() -> tuple[datetime | None, datetime, list[SloRow]]:
            moment = self.moment

            def first_figures(status: SloStatus) -> None:
                self._show_first(provider, moment, status)

            rows = await self.evaluator.refresh(moment, only=names, each=first_figures)
            return moment, self.runtime.clock(), rows
        return fetch

    def _show_first(self, provider: str, moment: datetime | None, status: SloStatus) -> None:
        """An SLO not on screen yet is shown as soon as its own figures are in, not when every
        SLO of its provider has been evaluated (one poll sends ~18 queries per SLO, four at a
        time); later polls publish once, at their end, as before."""
        if moment != self.moment or status.error is not None or status.name in self._entries:
            return
        now = self.runtime.clock()
        self._entries[status.name] = SloEntry(SloRow(status), provider, now)
        health = self._healths.get(provider)
        if health is not None and health.state is HealthState.PENDING:
            # it has answered: the figures on screen are fresh, and the header and the pane's
            # source line say so rather than "waiting" beside them (the poll's end updates it)
            self._healths[provider] = replace(health, state=HealthState.OK, last_ok_at=now,
                                              checked_at=now)
        self.publish(self._build())

    async def _evaluate_unresolved(self) -> None:
        """SLOs without a usable provider: evaluated once, each shows why."""
        moment = self.moment
        statuses = await self.evaluator.evaluate(moment, only=self._groups.get("", []))
        if moment != self.moment:
            return
        for status in statuses:
            self._entries[status.name] = SloEntry(SloRow(status), "", self.runtime.clock())
        self.publish(self._build())

    def _on_poll(self, name: str,
                 update: PollUpdate[tuple[datetime | None, datetime, list[SloRow]]]) -> None:
        self._healths[name] = replace(update.health, fresh_for=2 * self.interval)
        if update.fresh and update.value is not None:
            moment, fetched, rows = update.value
            if moment == self.moment:
                for row in rows:
                    self._entries[row.status.name] = SloEntry(row, name, fetched)
        else:
            # never answered: each SLO with its own error rather than a blank table
            for slo in self._groups.get(name, ()):
                attempt = self.evaluator.last_attempt.get(slo)
                if slo not in self._entries and attempt is not None:
                    self._entries[slo] = SloEntry(SloRow(attempt), name, None)
        self.publish(self._build())

    def show_moment(self, at: datetime | None) -> None:
        """Evaluate as of ``at`` (``time=`` on every instant query) until called with None."""
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if at == self.moment:
            return
        self.moment = at
        self._entries.clear()  # figures of another moment must not pass for this one
        self.publish(self._build())
        for poller in self.pollers.values():
            poller.trigger()

    # ------------------------------------------------------------------------------ snapshot

    def _build(self) -> SlosSnapshot:
        runtime = self.runtime
        unconfigured = None
        if not self.evaluator.specs:
            unconfigured = (f"no SLOs configured — add them under contexts."
                            f"{runtime.context_name}.slos (or slos_from:)")
            if self.evaluator.config_error:
                unconfigured += f"; slos_from failed: {self.evaluator.config_error}"
        elif not runtime.of(MetricSource) and not self._healths:  # type: ignore[type-abstract]
            unconfigured = (f"no metrics provider configured — add one under contexts."
                            f"{runtime.context_name}.providers (type: prometheus)")
        ordered = maths.worst_first(e.status for e in self._entries.values())
        services: dict[str, set[str]] = {}
        for spec in self.evaluator.specs:
            if spec.service:
                services.setdefault(spec.service, set()).add(spec.name)
        for service, mapped in runtime.context.services.items():
            services.setdefault(service, set()).update(mapped.slos)
        return SlosSnapshot(
            entries=tuple(self._entries[s.name] for s in ordered),
            specs=MappingProxyType({s.name: s for s in self.evaluator.specs}),
            sources=tuple(self._healths.values()), moment=self.moment,
            config_error=self.evaluator.config_error, unconfigured=unconfigured,
            service_slos=MappingProxyType({k: frozenset(v) for k, v in services.items()}))
