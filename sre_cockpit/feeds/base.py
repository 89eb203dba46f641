"""What every feed shares: subscribers, the published snapshot, and the jobs its owner runs.

A feed owns one kind of data (incidents, SLOs, logs, timeline, notes): its pollers or stream,
merging, ordering, last good values, per-source health and the actions on it. It never imports
Textual. It publishes immutable snapshots; whoever owns it (the TUI app, or a CLI command)
runs its :meth:`Feed.jobs` and listens with :meth:`Feed.subscribe`.

The TUI app runs each job as a Textual worker and turns every snapshot into a typed message
for the view that shows it; ``sre-cockpit snapshot`` calls :meth:`Feed.refresh` once instead,
so the terminal and the JSON come from the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from sre_cockpit.core.models import HealthState, ProviderHealth

S = TypeVar("S")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A long-lived coroutine the feed's owner runs (a poller, a stream, the outbox).

    Attributes:
        name: shown in worker lists and logs, e.g. ``incidents:pd``.
        run: builds the coroutine; called once per start.
    """

    name: str
    run: Callable[[], Coroutine[Any, Any, None]]


class Feed(Generic[S]):
    """Base class: holds the latest snapshot and tells subscribers about each new one."""

    name: str = "feed"
    """Short name (``incidents``, ``slos``…), used for job names."""

    def __init__(self, initial: S) -> None:
        self._snapshot = initial
        self._subscribers: list[Callable[[S], None]] = []

    @property
    def snapshot(self) -> S:
        """The latest published snapshot (immutable)."""
        return self._snapshot

    def subscribe(self, callback: Callable[[S], None]) -> Callable[[], None]:
        """Call ``callback(snapshot)`` on every publication; returns the unsubscribe function.

        The callback runs in the feed's event loop, right after the publication; a callback
        that raises is logged and never stops the feed or the other subscribers.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, snapshot: S) -> None:
        """Make ``snapshot`` the current one and tell every subscriber."""
        self._snapshot = snapshot
        for callback in list(self._subscribers):
            try:
                callback(snapshot)
            except Exception:
                log.exception("%s: a subscriber failed", self.name)

    def jobs(self) -> Sequence[Job]:
        """The long-lived coroutines to run while the feed is live (override)."""
        return ()

    async def refresh(self) -> S:
        """Ask every source once now and publish the result (CLI commands, tests). Override."""
        return self._snapshot

    async def aclose(self) -> None:
        """Release what the feed holds (override)."""


@runtime_checkable
class BatchFeed(Protocol):
    """A feed that also hands over batches besides its snapshots (the log feed's lines).

    A snapshot is complete, so a newer one may replace an older one still on its way; a batch
    holds items no other batch has, so its owner delivers every one, in order, never merged,
    replaced or dropped.
    """

    def subscribe_batches(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``callback(batch)`` with every batch; returns the unsubscribe function."""
        ...


def worst_state(healths: Sequence[ProviderHealth]) -> HealthState | None:
    """The worst state among ``healths`` (error < stale < pending < ok); None when empty."""
    rank = {HealthState.ERROR: 0, HealthState.STALE: 1, HealthState.PENDING: 2,
            HealthState.OK: 3}
    if not healths:
        return None
    return min((h.state for h in healths), key=lambda s: rank[s])
