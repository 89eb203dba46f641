"""Delivery of stored notes to the incident providers: claimed, idempotent, retried with backoff.

Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta

from sre_cockpit.core.models import utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.notes_store.journal import Journal, pid_alive
from sre_cockpit.feeds.notes_store.records import (
    JournalError,
    NoteRecord,
    NoteScope,
    TargetState,
)
from sre_cockpit.providers.base import EventSource, IncidentActions, ProviderError
from sre_cockpit.providers.incident_util import note_ref

LEASE_MARGIN_S = 30.0
"""A claim lasts the request timeout plus this; then another process may take it over."""


class Outbox:
    """Delivers stored notes to the incident providers, with backoff, exactly once.

    A provider's ``perform("note", ...)`` tells temporary from permanent failures: a retryable
    :class:`ProviderError` (network error, deadline, 5xx, 429 as ``RateLimitedError``), a
    timeout or an unexpected exception keeps the note ``pending: <reason>`` and retries it with
    capped, jittered exponential backoff (``base_delay`` doubling up to ``max_delay``, at least
    the server's ``retry_after``) for as long as it takes; a non-retryable ``ProviderError`` or
    a not-ok result (400 invalid input, 401, 403, 404) marks it ``failed: <reason>`` at once,
    and the operator re-queues it (``r`` in the timeline, :meth:`Journal.requeue`).

    Exactly once rests on four things: the idempotency key stored with the note (sent with
    every attempt); a *claim* taken in a write transaction before anything is decided, so two
    cockpits on one store never work on the same delivery (a claim by a process that died, or
    older than its lease, is taken over); an attempt recorded before each request; and, when
    another process's request may have arrived without a recorded answer, a look at the
    provider's own notes (``EventSource``) before sending again.
    """

    def __init__(self, journal: Journal, actions: Mapping[str, IncidentActions], *,
                 context: str | None = None, configured: Collection[str] | None = None,
                 events: Mapping[str, EventSource] | None = None,
                 clock: Callable[[], datetime] = utcnow, base_delay: float = 2.0,
                 max_delay: float = 120.0, timeout: float = 30.0,
                 read_only: bool = False, backends: Mapping[str, str] | None = None) -> None:
        self.journal = journal
        self.actions = actions
        self.context = context
        self.scope = NoteScope(context or "", dict(backends or {}))
        """Which deliveries are this outbox's: a note written for another backend of the same
        provider name (another simulator, a changed URL) waits for a cockpit on that one."""
        self.configured = set(configured) if configured is not None else set(actions)
        self.events = events or {}
        self.clock = clock
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.read_only = read_only
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now (a note was just added, or another process changed the store)."""
        self._wake.set()

    def _mine(self) -> list[tuple[NoteRecord, TargetState]]:
        """The pending deliveries this outbox handles (a read-only cockpit leaves the notes
        other cockpits wrote alone: it would only turn them "local only")."""
        return [(record, target) for record, target in self.journal.pending(self.context)
                if (not self.read_only or record.id in self.journal.created_here)
                and self.scope.owns_target(record, target.provider)]

    def _due(self) -> list[tuple[NoteRecord, TargetState]]:
        now = self.clock()
        return [(record, target) for record, target in self._mine()
                if (target.next_try is None or target.next_try <= now)
                and not self._held_elsewhere(target)]

    def _held_elsewhere(self, target: TargetState) -> bool:
        return bool(target.claim_owner and target.claim_owner != self.journal.owner
                    and target.claim_until and target.claim_until > time.time()
                    and pid_alive(target.claim_pid))

    async def deliver_once(self) -> int:
        """Try every due delivery once. Returns how many deliveries are still pending."""
        async with self._lock:
            self.journal.refresh()
            for record, target in self._due():
                await self._deliver(record, target)
            return len(self._mine())

    async def _deliver(self, record: NoteRecord, target: TargetState) -> None:
        name = target.provider
        try:
            claim = self.journal.claim(record.id, name, lease=self.timeout + LEASE_MARGIN_S)
        except JournalError as exc:
            self._later(target, str(exc))
            return
        if claim is None:
            return  # delivered meanwhile, or another live cockpit is sending it
        try:
            await self._deliver_claimed(record, target, claim.recheck)
        finally:
            self.journal.release(record.id, name)

    async def _deliver_claimed(self, record: NoteRecord, target: TargetState,
                               recheck: bool) -> None:
        name = target.provider
        provider = self.actions.get(name)
        if provider is None:
            if name in self.configured:
                self._mark(record, name, "local", "provider cannot take notes")
            else:
                self._retry_later(record, target, f"provider {name} is not configured")
            return
        if self.read_only:
            self._mark(record, name, "local", "read-only context")
            return
        support = provider.supported_actions().get("note", "notes not supported")
        if support is not None:
            self._mark(record, name, "local", support)
            return
        incidents = [i for i in record.incidents if i.provider == name]
        # A request another process left in flight may have arrived: look before resending.
        # (Retries within this process rely on the idempotency key, sparing a rate-limited
        # provider a full event listing per retry.)
        if recheck and await self._already_there(record, name):
            self._mark(record, name, "delivered")
            return
        try:
            self.journal.mark_attempt(record.id, name)
        except JournalError as exc:
            self._later(target, str(exc))
            return
        try:
            async with asyncio.timeout(self.timeout):
                result = await provider.perform("note", incidents, text=record.text,
                                                idempotency_key=target.idempotency_key)
        except ProviderError as exc:
            if exc.retryable:
                self._retry_later(record, target, str(exc), exc.retry_after)
            else:
                self._mark(record, name, "failed", str(exc))
            return
        except TimeoutError:
            self._retry_later(record, target, f"no answer from {name} in {self.timeout:g}s")
            return
        except Exception as exc:  # a plugin bug must not kill the outbox
            self._retry_later(record, target, f"{type(exc).__name__}: {exc}")
            return
        if result.ok:
            self._mark(record, name, "delivered")
        else:  # a refusal: temporary failures are raised as retryable ProviderError
            self._mark(record, name, "failed", result.message or f"{name} refused the note")

    def _mark(self, record: NoteRecord, provider: str, state: str,
              reason: str | None = None) -> None:
        with contextlib.suppress(JournalError):  # kept in memory, written later (unsynced)
            self.journal.mark(record.id, provider, state, reason)

    def _later(self, target: TargetState, reason: str) -> None:
        """The store itself refused (busy, disk full): wait a little, in memory only."""
        target.reason = sanitize_line(reason)
        target.next_try = self.clock() + timedelta(seconds=max(self.base_delay, 1.0))

    def _retry_later(self, record: NoteRecord, target: TargetState, reason: str,
                     retry_after: float | None = None) -> None:
        attempts = max(1, target.attempts)
        delay = min(self.max_delay, self.base_delay * 2 ** min(attempts, 10))
        delay = random.uniform(delay / 2, delay)  # jitter
        if retry_after:
            delay = max(delay, min(retry_after, self.max_delay))
        target.next_try = self.clock() + timedelta(seconds=delay)
        self._mark(record, target.provider, "pending", reason)

    async def _already_there(self, record: NoteRecord, provider: str) -> bool:
        source = self.events.get(provider)
        if source is None:
            return False
        try:
            async with asyncio.timeout(self.timeout):
                seen = await source.list_events(record.at - timedelta(minutes=5), None)
        except Exception:  # cannot check: send again, the idempotency key protects us
            return False
        ids = {i.id for i in record.incidents if i.provider == provider}
        key = record.targets[provider].idempotency_key
        refs = {note_ref(key, i): i for i in ids}
        wanted = " ".join(record.text.split()).casefold()
        found: set[str] = set()
        for event in seen:
            if event.kind != "note" or (event.incident_id is not None
                                        and event.incident_id not in ids):
                continue
            if event.note_ref is not None:  # a note sent by a cockpit: its marker decides
                if event.note_ref in refs:
                    found.add(refs[event.note_ref])
            elif " ".join(event.text.split()).casefold().endswith(wanted):
                found.update([event.incident_id] if event.incident_id else ids)
        return bool(ids) and found >= ids  # every incident has it, else send (the key dedupes)

    def next_due(self) -> float:
        """Seconds until the next pending delivery is due (``max_delay`` when none); a delivery
        another cockpit is sending is due when its claim lapses."""
        now = self.clock()
        wall = time.time()
        waits = []
        for _record, target in self._mine():
            wait = max(0.0, (target.next_try - now).total_seconds()) if target.next_try else 0.0
            if self._held_elsewhere(target) and target.claim_until is not None:
                wait = max(wait, target.claim_until - wall)
            waits.append(wait)
        return min(waits) if waits else self.max_delay

    async def run(self) -> None:
        """Deliver for ever: now, then whenever woken (a new note, another process's change)
        or a retry is due. Never raises."""
        unsubscribe = self.journal.subscribe(self.wake)
        try:
            while True:
                try:
                    await self.deliver_once()
                except Exception as exc:  # keep going; the state shows the reason
                    self.journal.last_error = sanitize_line(
                        f"outbox: {type(exc).__name__}: {exc}")
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.2, self.next_due())):
                        await self._wake.wait()
        finally:
            unsubscribe()
