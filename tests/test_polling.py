"""Poller: backoff growth and cap, stale/error transitions, recovery, trigger, never dies."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from sre_cockpit.core.models import HealthState
from sre_cockpit.feeds.polling import Poller, PollUpdate
from sre_cockpit.providers.base import ProviderError, RateLimitedError

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeTime:
    """A monotonic clock, a wall clock and a sleep that only advance the fake time."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.t - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


class UpperRandom(random.Random):
    """Jitter always picks the upper bound (to see the backoff envelope)."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Script:
    """A fetch that follows a script of results (values or exceptions), one per call."""

    def __init__(self, ft: FakeTime, steps: list[object], *, cost: float = 0.0) -> None:
        self.ft = ft
        self.steps = list(steps)
        self.calls = 0
        self.cost = cost

    async def __call__(self) -> object:
        self.calls += 1
        self.ft.t += self.cost
        step = self.steps.pop(0) if self.steps else "last"
        if isinstance(step, BaseException):
            raise step
        return step


def make(ft: FakeTime, fetch: Callable[[], Awaitable[object]], updates: list[PollUpdate[object]],
         **kw: object) -> Poller[object]:
    opts: dict[str, object] = {"interval": 10.0, "clock": ft.clock, "wall": ft.wall,
                               "sleep": ft.sleep, "rng": UpperRandom()}
    opts.update(kw)
    return Poller("prom", fetch, on_update=updates.append, **opts)  # type: ignore[arg-type]


async def run_polls(poller: Poller[object], n: int) -> None:
    """Run the poller until it has polled ``n`` times, then cancel it."""
    task = asyncio.create_task(poller.run())
    for _ in range(10_000):
        await asyncio.sleep(0)
        if poller.polls >= n:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert poller.polls >= n


async def test_success_sleeps_rest_of_interval_and_reports_ok() -> None:
    ft = FakeTime()
    updates: list[PollUpdate[object]] = []
    fetch = Script(ft, ["a", "b", "c"], cost=2.0)
    poller = make(ft, fetch, updates)
    await run_polls(poller, 3)
    assert [u.value for u in updates[:3]] == ["a", "b", "c"]
    assert all(u.fresh for u in updates[:3])
    assert ft.sleeps[:2] == [8.0, 8.0]  # 10 s interval minus 2 s fetch
    h = updates[0].health
    assert h.state is HealthState.OK and h.error is None
    assert h.latency_ms == pytest.approx(2000.0)
    assert h.last_ok_at == T0 + timedelta(seconds=2)


async def test_backoff_grows_and_is_capped_then_resets_on_recovery() -> None:
    ft = FakeTime()
    updates: list[PollUpdate[object]] = []
    fail = ProviderError("prom: connection refused")
    fetch = Script(ft, [fail] * 8 + ["ok", fail])
    poller = make(ft, fetch, updates, backoff_cap=100.0)
    await run_polls(poller, 10)
    # upper bound interval * 2**n, capped at 100
    assert ft.sleeps[:8] == [20.0, 40.0, 80.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    assert ft.sleeps[8] == 10.0  # success: back to the interval
    assert ft.sleeps[9] == 20.0  # the error count restarted
    assert updates[8].health.state is HealthState.OK


def test_full_jitter_stays_in_bounds() -> None:
    ft = FakeTime()
    poller: Poller[object] = Poller("p", Script(ft, []), interval=5.0, on_update=lambda u: None,
                                    clock=ft.clock, backoff_cap=60.0, rng=random.Random(7))
    for errors in range(1, 30):
        upper = min(60.0, 5.0 * 2 ** errors)
        values = [poller.backoff_delay(errors) for _ in range(50)]
        assert all(1.0 <= v <= upper for v in values)
        assert len(set(values)) > 1  # jittered, not fixed
    assert max(poller.backoff_delay(40) for _ in range(200)) <= 60.0


async def test_error_before_any_success_then_stale_keeps_last_good_value() -> None:
    ft = FakeTime()
    updates: list[PollUpdate[object]] = []
    fetch = Script(ft, [ProviderError("prom: HTTP 500"), "v1",
                        ProviderError("prom: ConnectError for http://x: refused"), "v2"])
    poller = make(ft, fetch, updates)
    await run_polls(poller, 4)
    first, ok, stale, recovered = updates[:4]
    assert first.health.state is HealthState.ERROR
    assert first.health.error == "prom: HTTP 500"
    assert first.value is None and not first.fresh
    assert first.health.last_ok_at is None
    assert ok.health.state is HealthState.OK and ok.value == "v1"
    assert stale.health.state is HealthState.STALE
    assert stale.value == "v1" and not stale.fresh
    assert stale.health.error == "prom: ConnectError for http://x: refused"
    assert stale.health.last_ok_at == ok.health.last_ok_at
    assert stale.health.age_seconds(ft.wall()) is not None
    assert recovered.health.state is HealthState.OK and recovered.value == "v2"
    assert recovered.health.error is None


async def test_overdue_ok_value_becomes_stale_with_age() -> None:
    ft = FakeTime()
    poller = make(ft, Script(ft, ["v"]), [], interval=10.0, stale_after=30.0)
    assert poller.health.state is HealthState.PENDING
    await poller.poll_once()
    assert poller.health.state is HealthState.OK
    ft.t += 29.0
    assert poller.health.state is HealthState.OK
    ft.t += 2.0
    health = poller.health
    assert health.state is HealthState.STALE
    assert health.error == "no new answer for 31s (overdue)"
    assert health.age_seconds(ft.wall()) == pytest.approx(31.0)


async def test_never_dies_on_any_exception_and_reports_it() -> None:
    ft = FakeTime()
    updates: list[PollUpdate[object]] = []
    errors: list[object] = [ValueError("bad\npayload"), KeyError("x"), RuntimeError(),
                            ZeroDivisionError("boom"), "fine"]
    poller = make(ft, Script(ft, errors), updates)
    await run_polls(poller, 5)
    reasons = [u.health.error for u in updates[:4]]
    assert reasons == ["ValueError: bad", "KeyError: 'x'", "RuntimeError", "ZeroDivisionError: boom"]
    assert updates[4].health.state is HealthState.OK


async def test_broken_subscriber_does_not_stop_polling() -> None:
    ft = FakeTime()
    seen: list[int] = []

    def on_update(update: PollUpdate[object]) -> None:
        seen.append(1)
        raise RuntimeError("widget gone")

    poller: Poller[object] = Poller("p", Script(ft, ["a", "b", "c"]), interval=1.0,
                                    on_update=on_update, clock=ft.clock, sleep=ft.sleep)
    await run_polls(poller, 3)
    assert len(seen) >= 3


async def test_deadline_turns_a_hanging_fetch_into_an_error() -> None:
    updates: list[PollUpdate[object]] = []

    async def hang() -> object:
        await asyncio.Event().wait()
        return None

    poller: Poller[object] = Poller("slow", hang, interval=10.0, deadline=0.05,
                                    on_update=updates.append)
    update = await asyncio.wait_for(poller.poll_once(), 5.0)
    assert update.health.state is HealthState.ERROR
    assert update.health.error == "no answer within 50ms"


async def test_retry_after_is_honoured_and_reported() -> None:
    ft = FakeTime()
    updates: list[PollUpdate[object]] = []
    limited = RateLimitedError("pd: rate limited (429)", status=429, retry_after=120.0)
    poller = make(ft, Script(ft, [limited, "ok"]), updates, interval=5.0)
    await run_polls(poller, 2)
    health = updates[0].health
    assert health.rate_limited_until == T0 + timedelta(seconds=120)
    assert health.error == "pd: rate limited (429)"
    assert ft.sleeps[0] == 120.0  # not the 10 s backoff
    assert updates[1].health.rate_limited_until is None


async def test_trigger_polls_now() -> None:
    ft = FakeTime()
    updates: list[PollUpdate[object]] = []
    gate = asyncio.Event()

    async def blocking_sleep(seconds: float) -> None:
        ft.sleeps.append(seconds)
        await gate.wait()  # never released: only trigger() can wake the poller

    poller: Poller[object] = Poller("p", Script(ft, ["a", "b", "c"]), interval=60.0,
                                    on_update=updates.append, clock=ft.clock,
                                    sleep=blocking_sleep)
    task = asyncio.create_task(poller.run())
    for _ in range(20):
        await asyncio.sleep(0)
    assert poller.polls == 1
    poller.trigger()
    for _ in range(20):
        await asyncio.sleep(0)
    assert poller.polls == 2
    assert [u.value for u in updates] == ["a", "b"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_trigger_waits_for_rate_limit_to_end() -> None:
    ft = FakeTime()
    updates: list[PollUpdate[object]] = []
    limited = RateLimitedError("rate limited", retry_after=30.0)
    poller = make(ft, Script(ft, [limited, "ok"]), updates, interval=5.0)
    await poller.poll_once()
    poller.trigger()
    await poller._wait(poller.next_delay or 0.0)
    assert ft.sleeps == [30.0]


async def test_cancellation_ends_run() -> None:
    started = asyncio.Event()

    async def hang() -> object:
        started.set()
        await asyncio.Event().wait()
        return None

    poller: Poller[object] = Poller("p", hang, interval=1.0, deadline=100.0,
                                    on_update=lambda u: None)
    task = asyncio.create_task(poller.run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_rejects_bad_interval() -> None:
    with pytest.raises(ValueError):
        Poller("p", Script(FakeTime(), []), interval=0, on_update=lambda u: None)
