"""Providers that nothing else asks: probed, so their header badge says whether they answer.

A provider the context configures but no pane reads — a metrics provider with no SLO and no
deploy query, or a plugin with no capability a pane uses — sat in the header as ``○ prom …``
("waiting") for ever, although nothing was waiting for it. The :class:`ProbeFeed` asks such a
provider what ``sre-cockpit check`` and ``snapshot`` ask every provider they do not otherwise
use: its ``probe()`` (Prometheus: its build info; Alertmanager: its status), once per
``refresh.slos``, and publishes one health per provider: ok, stale after a success, or error,
with the reason. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sre_cockpit.core.durations import format_duration
from sre_cockpit.core.models import HealthState, ProbeResult, ProviderHealth
from sre_cockpit.feeds.base import Feed, Job
from sre_cockpit.feeds.policy import probe_deadline
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.providers.base import EventSource, IncidentSource, LogSource, ProviderError

if TYPE_CHECKING:
    from sre_cockpit.feeds.runtime import Runtime


@dataclass(frozen=True, slots=True)
class ProbesSnapshot:
    """One health per probed provider (in config order)."""

    sources: tuple[ProviderHealth, ...] = ()


def unasked(runtime: Runtime, asked: Iterable[str] = ()) -> list[str]:
    """The providers no pane asks, in config order: not in ``asked`` (the providers the other
    feeds poll), without a capability a pane always uses (incidents, logs, timeline events),
    and named by no SLO and no deploy query. Providers that failed to build are left out (the
    header already shows why)."""
    used = set(asked)
    for capability in (IncidentSource, LogSource, EventSource):
        used |= set(runtime.of(capability))
    used |= {slo.provider for slo in runtime.context.slos}
    used |= {deploy.provider for deploy in runtime.context.deploys}
    return [name for name in runtime.providers if name not in used]


class ProbeFeed(Feed[ProbesSnapshot]):
    """Probes the providers of :func:`unasked`, each with its own poller.

    Args:
        runtime: the context's providers.
        asked: providers other feeds already poll.
        names: probe exactly these instead (``sre-cockpit snapshot``: every provider that is
            not an incident source).
    """

    name = "probes"

    def __init__(self, runtime: Runtime, *, asked: Iterable[str] = (),
                 names: Iterable[str] | None = None) -> None:
        self.runtime = runtime
        self.interval = float(runtime.config.refresh.slos)
        self._healths: dict[str, ProviderHealth] = {}
        self.pollers: dict[str, Poller[ProbeResult]] = {}
        chosen = unasked(runtime, asked) if names is None else [
            n for n in names if n in runtime.providers]
        for name in chosen:
            provider = runtime.providers[name]
            self.pollers[name] = Poller(
                name, self._prober(name), interval=self.interval,
                deadline=probe_deadline(provider) + 1.0,  # the prober's own deadline ends first
                on_update=lambda update, n=name: self._on_poll(n, update),  # type: ignore[misc]
                wall=runtime.clock)
            self._healths[name] = ProviderHealth(provider=name, state=HealthState.PENDING,
                                                 fresh_for=2 * self.interval,
                                                 label=f"{name} probe")
        super().__init__(self._build())

    def _prober(self, name: str) -> Callable[[], Awaitable[ProbeResult]]:
        provider = self.runtime.providers[name]

        async def probe() -> ProbeResult:
            deadline = probe_deadline(provider)
            try:
                async with asyncio.timeout(deadline):
                    result = await provider.probe()
            except TimeoutError as exc:
                raise ProviderError(f"{name}: no answer within {format_duration(deadline)}",
                                    retryable=True) from exc
            except NotImplementedError as exc:
                raise ProviderError(f"{name}: cannot be probed (probe() is not implemented by "
                                    "this provider)", retryable=False) from exc
            if not result.ok:
                error = result.error or "did not answer"
                raise ProviderError(error if error.startswith(f"{name}:")
                                    else f"{name}: {error}")
            return result
        return probe

    def _on_poll(self, name: str, update: PollUpdate[ProbeResult]) -> None:
        health = replace(update.health, fresh_for=2 * self.interval, label=f"{name} probe")
        if update.fresh and update.value is not None and update.value.latency_ms is not None:
            # the provider measured its own request (without our scheduling around it)
            health = replace(health, latency_ms=update.value.latency_ms)
        self._healths[name] = health
        self.publish(self._build())

    def _build(self) -> ProbesSnapshot:
        return ProbesSnapshot(sources=tuple(self._healths.values()))

    def jobs(self) -> Sequence[Job]:
        return [Job(f"probes:{name}", poller.run) for name, poller in self.pollers.items()]

    async def refresh(self) -> ProbesSnapshot:
        """Probe every provider once now and publish."""
        await asyncio.gather(*(poller.poll_once() for poller in self.pollers.values()))
        return self.snapshot
