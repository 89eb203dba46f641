"""One long-lived polling task per provider capability.

A :class:`Poller` fetches under a deadline, reports every outcome through ``on_update``, sleeps
the rest of the interval and backs off (capped exponential, full jitter) after consecutive
errors, honouring a server's ``Retry-After``. It keeps the last good value, and its health says
OK, STALE (a good value exists but the latest fetch failed or is overdue) or ERROR (never had a
good value). Only cancellation ends :meth:`Poller.run`; every ``Exception`` is a failed poll.
Nothing here imports Textual; time is injected so tests never wait.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sre_cockpit.core.durations import format_duration
from sre_cockpit.core.models import HealthState, ProviderHealth, utcnow
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.http import redact

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True, slots=True)
class PollUpdate(Generic[T]):
    """What a poll produced: the last good value, the health, and whether the value is new."""

    value: T | None
    health: ProviderHealth
    fresh: bool


class Poller(Generic[T]):
    """Poll ``fetch`` forever for one provider capability.

    Args:
        provider: provider name shown in health badges.
        fetch: coroutine function returning the new value (raises on failure).
        interval: seconds between the start of two successful polls.
        deadline: overall time allowed for one fetch (default: ``interval``).
        on_update: called after every poll (success or failure) with a :class:`PollUpdate`.
        clock: monotonic seconds (scheduling, ages).
        wall: timezone-aware now (timestamps in the health).
        sleep: coroutine to wait (tests inject a fake one).
        backoff_cap: longest wait between retries after consecutive errors.
        stale_after: an OK value older than this is reported STALE (default
            ``2 * interval + deadline``).
        rng: random source for the jitter.
    """

    def __init__(self, provider: str, fetch: Callable[[], Awaitable[T]], *, interval: float,
                 deadline: float | None = None,
                 on_update: Callable[[PollUpdate[T]], None],
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 backoff_cap: float = 300.0, stale_after: float | None = None,
                 rng: random.Random | None = None) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.provider = provider
        self.fetch = fetch
        self.interval = float(interval)
        self.deadline = float(deadline) if deadline is not None else self.interval
        self.on_update = on_update
        self.clock = clock
        self.wall = wall
        self.sleep = sleep
        self.backoff_cap = max(float(backoff_cap), 0.0)
        self.stale_after = (float(stale_after) if stale_after is not None
                            else 2 * self.interval + self.deadline)
        self.rng = rng or random.Random()
        self.min_delay = min(self.interval, 1.0, self.backoff_cap) if self.backoff_cap else 0.0
        self.consecutive_errors = 0
        self.polls = 0
        self.next_delay: float | None = None  # the wait chosen after the latest poll
        self._value: T | None = None
        self._has_value = False
        self._last_ok_mono: float | None = None
        self._rate_limited_until_mono: float | None = None
        self._health = ProviderHealth(provider=provider, state=HealthState.PENDING)
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------------------ state

    @property
    def value(self) -> T | None:
        """The last good value (None until the first success)."""
        return self._value

    @property
    def health(self) -> ProviderHealth:
        """Health now: an OK value older than ``stale_after`` is reported STALE."""
        health = self._health
        if (health.state is HealthState.OK and self._last_ok_mono is not None
                and self.clock() - self._last_ok_mono > self.stale_after):
            age = self.clock() - self._last_ok_mono
            return _replace(health, state=HealthState.STALE,
                            error=f"no new answer for {format_duration(age)} (overdue)")
        return health

    def trigger(self) -> None:
        """Poll now instead of waiting for the interval (e.g. after an action). During a
        server-imposed rate limit the poll waits for the limit to end."""
        self._wake.set()

    # -------------------------------------------------------------------------------- run

    async def run(self) -> None:
        """Poll until cancelled. Never raises anything but ``CancelledError``."""
        while True:
            self._wake.clear()
            await self.poll_once()
            await self._wait(self.next_delay if self.next_delay is not None else self.interval)

    async def poll_once(self) -> PollUpdate[T]:
        """Fetch once under the deadline, update value and health, call ``on_update``."""
        start = self.clock()
        self.polls += 1
        error: str | None = None
        retry_after: float | None = None
        value: T | None = None
        try:
            async with asyncio.timeout(self.deadline):
                value = await self.fetch()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise
            error = "fetch was cancelled"
        except TimeoutError:
            error = f"no answer within {format_duration(self.deadline)}"
        except ProviderError as exc:
            error = _one_line(str(exc)) or type(exc).__name__
            retry_after = exc.retry_after
        except Exception as exc:  # a provider bug must not kill the poller
            error = _one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            log.debug("%s: fetch failed", self.provider, exc_info=True)
        end = self.clock()
        latency_ms = max(0.0, (end - start) * 1000.0)
        now = self.wall()
        if error is None:
            self._value = value
            self._has_value = True
            self._last_ok_mono = end
            self._rate_limited_until_mono = None
            self.consecutive_errors = 0
            self._health = ProviderHealth(provider=self.provider, state=HealthState.OK,
                                          last_ok_at=now, checked_at=now, latency_ms=latency_ms,
                                          mode=self._health.mode)
            self.next_delay = max(0.0, start + self.interval - end)
        else:
            self.consecutive_errors += 1
            delay = self.backoff_delay(self.consecutive_errors)
            limited_until: datetime | None = None
            if retry_after is not None and retry_after > 0:
                wait = min(float(retry_after), MAX_RETRY_AFTER)
                delay = max(delay, wait)
                self._rate_limited_until_mono = end + wait
                limited_until = now + timedelta(seconds=wait)
            else:
                self._rate_limited_until_mono = None
            state = HealthState.STALE if self._has_value else HealthState.ERROR
            self._health = ProviderHealth(provider=self.provider, state=state,
                                          last_ok_at=self._health.last_ok_at, checked_at=now,
                                          error=error, latency_ms=latency_ms,
                                          rate_limited_until=limited_until,
                                          mode=self._health.mode)
            self.next_delay = delay
        update = PollUpdate(value=self._value, health=self._health, fresh=error is None)
        try:
            self.on_update(update)
        except Exception:  # a broken subscriber must not stop polling
            log.exception("%s: on_update failed", self.provider)
        return update

    def backoff_delay(self, errors: int) -> float:
        """Wait after ``errors`` consecutive failures: full jitter in
        ``[0, min(cap, interval * 2**errors)]``, at least ``min(interval, 1s)``."""
        if self.backoff_cap <= 0:
            return 0.0
        upper = min(self.backoff_cap, self.interval * (2 ** min(errors, 62)))
        return min(self.backoff_cap, max(self.min_delay, self.rng.uniform(0.0, upper)))

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay`` or until :meth:`trigger` (not before a rate limit ends)."""
        if self._wake.is_set():
            delay = self._rate_limit_remaining()
            if delay <= 0:
                return
        if delay <= 0:
            await self.sleep(0)
            return
        sleeper = asyncio.ensure_future(self.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            woke = waker.done() and not sleeper.done()
        finally:
            for task in (sleeper, waker):
                if not task.done():
                    task.cancel()
        if sleeper.done() and not sleeper.cancelled() and sleeper.exception() is not None:
            log.debug("%s: sleep failed: %r", self.provider, sleeper.exception())
        if woke:
            remaining = self._rate_limit_remaining()
            if remaining > 0:
                self._wake.clear()
                await self.sleep(remaining)

    def _rate_limit_remaining(self) -> float:
        if self._rate_limited_until_mono is None:
            return 0.0
        return max(0.0, self._rate_limited_until_mono - self.clock())


def _replace(health: ProviderHealth, **changes: object) -> ProviderHealth:
    import dataclasses

    return dataclasses.replace(health, **changes)  # type: ignore[arg-type]


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return sanitize_line(redact(lines[0] if lines else text.strip()))
