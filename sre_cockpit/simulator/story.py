"""The incident story and the synthetic metric series it produces.

Everything is a pure function of ``(seed, start, speed)``: the simulator never stores history.
Counters are the exact integral of piecewise-constant rates (one rate per 60 s segment, taken
from the story at the segment start), sampled on a 15 s grid aligned to the Unix epoch, so a
real Prometheus fed the exported samples computes exactly what :mod:`.promql` computes.

Story (offsets relative to ``start``; the part after ``start`` is divided by ``speed``):

* -2d: checkout 2.3.0 deployed; -26h: payments 1.8.4 deployed (healthy history).
* -30m: checkout 2.3.1 deployed (its ``app_build_info`` series appears); the new
  build cut the payments client timeout to 800 ms and retries three times.
* -29m … -26m: checkout 5xx ratio climbs from 0.05 % to ~3.8 %.
* -24m: ``CheckoutHighErrorRate`` fires; -23m PagerDuty incident triggered; -19m acknowledged by
  the on-call user; notes at -17m and -6m.
* -15m: payments latency degrades (retry storm); -9m ``PaymentsLatencyHigh`` fires and a
  low-urgency PagerDuty incident is triggered (left for the operator to acknowledge).
* +40m note, +42m rollback to 2.3.0 (deploy marker), recovery, alerts resolve at +47m, incidents
  resolved at +50m.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

MASK64 = (1 << 64) - 1
SCRAPE_MS = 15_000
SEGMENT_MS = 60_000
LOOKBACK_MS = 300_000
DEFAULT_HISTORY_S = 4 * 86400


def mix64(x: int) -> int:
    """SplitMix64 finaliser: a fast, well-distributed 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def hash_keys(seed: int, *keys: int) -> int:
    """Combine a seed and integer keys into one 64-bit hash."""
    h = mix64(seed & MASK64)
    for key in keys:
        h = mix64(h ^ (key & MASK64))
    return h


def unit(seed: int, *keys: int) -> float:
    """Deterministic uniform number in [0, 1) from a seed and keys."""
    return (hash_keys(seed, *keys) >> 11) / float(1 << 53)


def name_key(text: str) -> int:
    """Stable integer key for a string (FNV-1a 64)."""
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


@dataclass(frozen=True)
class StoryEvent:
    """One scheduled thing that happens in the story (wall-clock seconds)."""

    at: float
    kind: str  # deploy | alert_fire | alert_resolve | pd_trigger | pd_ack | pd_note | pd_resolve
    service: str
    text: str
    data: dict[str, str] = field(default_factory=dict)


SERVICES: dict[str, dict[str, float]] = {
    # base requests/s and healthy shares of non-2xx codes
    "checkout": {"rps": 42.0, "404": 0.002, "err": 0.0005},
    "payments": {"rps": 26.0, "404": 0.0, "err": 0.0002},
    "search": {"rps": 85.0, "404": 0.01, "err": 0.0001},
}
CODES: dict[str, tuple[str, ...]] = {
    "checkout": ("200", "404", "500", "503"),
    "payments": ("200", "500"),
    "search": ("200", "404", "500"),
}
BUCKETS = ("0.1", "0.25", "0.5", "1", "2.5", "+Inf")
HEALTHY_CDF = (0.55, 0.93, 0.995, 0.9992, 0.99995, 1.0)
DEGRADED_CDF = (0.12, 0.41, 0.86, 0.95, 0.992, 1.0)
PEAK_ERROR_RATIO = 0.038


class Story:
    """The deterministic incident story for one seed, start time and speed."""

    def __init__(self, seed: int = 1, start: float = 0.0, speed: float = 1.0,
                 history_s: float = DEFAULT_HISTORY_S) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.seed = seed
        self.start = start
        self.speed = speed
        origin = int((start - history_s) * 1000)
        self.origin_ms = origin - origin % SEGMENT_MS
        jitter = unit(seed, 1) * 40.0 - 20.0  # shift the incident a little per seed

        def at(minutes: float) -> float:
            # Only what happens after start is compressed: the past is history the cockpit
            # reads at launch, and compressing it cut the burn short (at --speed 10 the
            # checkout SLO never left "ok", so the demo story lost its critical SLO).
            offset = minutes * 60.0 + jitter
            return start + (offset / speed if offset > 0 else offset)

        self.t_deploy_bad = at(-30)
        self.t_err_start = at(-29)
        self.t_err_full = at(-26)
        self.t_alert_fire = at(-24)
        self.t_pd_trigger = at(-23)
        self.t_pd_ack = at(-19)
        self.t_note1 = at(-17)
        self.t_pay_degrade = at(-15)
        self.t_pay_full = at(-12)
        self.t_pay_alert = at(-9)
        self.t_pay_pd = at(-8.5)
        self.t_note2 = at(-6)
        self.t_note3 = at(40)
        self.t_rollback = at(42)
        self.t_recover = at(43)
        self.t_pay_recover = at(44)
        self.t_alerts_resolve = at(47)
        self.t_pd_resolve = at(50)
        # Historical deploys are not compressed by speed: they are "days ago".
        self.t_checkout_prev = start - 2 * 86400 + unit(seed, 2) * 3600
        self.t_payments_prev = start - 26 * 3600 + unit(seed, 3) * 3600
        self.deploys: list[tuple[float, str, str, str]] = [  # (at, service, version, previous)
            (self.t_checkout_prev, "checkout", "2.3.0", "2.2.7"),
            (self.t_payments_prev, "payments", "1.8.4", "1.8.3"),
            (self.t_deploy_bad, "checkout", "2.3.1", "2.3.0"),
            (self.t_rollback, "checkout", "2.3.0", "2.3.1"),
        ]
        self.initial_versions = {"checkout": "2.2.7", "payments": "1.8.3", "search": "4.12.0"}
        self._series: list[Series] | None = None

    # ----------------------------------------------------------------- story state
    def version(self, service: str, t: float) -> str:
        """The version of ``service`` running at wall time ``t``."""
        version = self.initial_versions[service]
        for at, svc, ver, _prev in self.deploys:
            if svc == service and at <= t:
                version = ver
        return version

    def checkout_error_ratio(self, t: float) -> float:
        """Fraction of checkout requests answered 5xx at time ``t`` (before noise)."""
        base = SERVICES["checkout"]["err"]
        if t < self.t_err_start or t >= self.t_recover:
            return base
        if t < self.t_err_full:
            frac = (t - self.t_err_start) / (self.t_err_full - self.t_err_start)
            return base + (PEAK_ERROR_RATIO - base) * frac
        return PEAK_ERROR_RATIO

    def payments_degradation(self, t: float) -> float:
        """0 (healthy) … 1 (fully degraded) latency state of payments at ``t``."""
        if t < self.t_pay_degrade or t >= self.t_pay_recover:
            return 0.0
        if t < self.t_pay_full:
            return (t - self.t_pay_degrade) / (self.t_pay_full - self.t_pay_degrade)
        return 1.0

    def incident_active(self, t: float) -> bool:
        """True while checkout is failing."""
        return self.t_err_start <= t < self.t_recover

    def events(self) -> list[StoryEvent]:
        """Every scheduled story event, oldest first."""
        out = [StoryEvent(at, "deploy", svc, f"{svc} {prev} -> {ver}",
                          {"version": ver, "previous": prev})
               for at, svc, ver, prev in self.deploys]
        out += [
            StoryEvent(self.t_alert_fire, "alert_fire", "checkout", "CheckoutHighErrorRate"),
            StoryEvent(self.t_pay_alert, "alert_fire", "payments", "PaymentsLatencyHigh"),
            StoryEvent(self.t_alerts_resolve, "alert_resolve", "checkout", "CheckoutHighErrorRate"),
            StoryEvent(self.t_alerts_resolve, "alert_resolve", "payments", "PaymentsLatencyHigh"),
        ]
        return sorted(out, key=lambda e: e.at)

    # ----------------------------------------------------------------- rates
    def _traffic(self, service: str, seg_start_ms: int) -> float:
        t = seg_start_ms / 1000.0
        diurnal = 1.0 + 0.25 * math.sin(2 * math.pi * ((t % 86400) / 86400.0 - 0.3))
        noise = 1.0 + (unit(self.seed, name_key(service), seg_start_ms) - 0.5) * 0.08
        return SERVICES[service]["rps"] * diurnal * noise

    def request_rate(self, service: str, code: str, seg_start_ms: int) -> float:
        """Requests/s of ``service`` answered ``code`` during the 60 s segment starting here."""
        total = self._traffic(service, seg_start_ms)
        t = seg_start_ms / 1000.0
        share404 = SERVICES[service]["404"]
        if service == "checkout":
            err = self.checkout_error_ratio(t)
            if err > SERVICES["checkout"]["err"]:
                err *= 1.0 + (unit(self.seed, 77, seg_start_ms) - 0.5) * 0.2
        else:
            err = SERVICES[service]["err"] * (0.5 + unit(self.seed, 78, name_key(service), seg_start_ms))
        if code == "200":
            return total * (1.0 - err - share404)
        if code == "404":
            return total * share404
        if code == "500":
            return total * err * (0.8 if service == "checkout" else 1.0)
        if code == "503":
            return total * err * 0.2
        return 0.0

    def bucket_rate(self, le_index: int, seg_start_ms: int) -> float:
        """Payments latency histogram bucket rate (cumulative ``le``) for one segment."""
        total = self._traffic("payments", seg_start_ms)
        d = self.payments_degradation(seg_start_ms / 1000.0)
        frac = HEALTHY_CDF[le_index] + (DEGRADED_CDF[le_index] - HEALTHY_CDF[le_index]) * d
        return total * frac

    def resets_ms(self, service: str) -> list[int]:
        """Counter reset times (pods restarted by a deploy), on segment boundaries."""
        out = []
        for at, svc, _ver, _prev in self.deploys:
            if svc == service:
                ms = int(at * 1000)
                ms -= ms % SEGMENT_MS
                if ms > self.origin_ms:
                    out.append(ms)
        return sorted(out)

    # ----------------------------------------------------------------- series
    def series(self) -> list[Series]:
        """All synthetic series (built once)."""
        if self._series is not None:
            return self._series
        out: list[Series] = []
        for service, codes in CODES.items():
            for code in codes:
                labels = {"__name__": "http_requests_total", "job": "shop",
                          "service": service, "code": code}
                out.append(CounterSeries(
                    labels, _bind_rate(self, service, code), self.origin_ms,
                    self.resets_ms(service),
                    initial=float(int(unit(self.seed, name_key(service), name_key(code)) * 1e6))))
        for i, le in enumerate(BUCKETS):
            labels = {"__name__": "http_request_duration_seconds_bucket", "job": "shop",
                      "service": "payments", "le": le}
            out.append(CounterSeries(labels, _bind_bucket(self, i), self.origin_ms,
                                     self.resets_ms("payments"), initial=0.0))
        out.append(CounterSeries(
            {"__name__": "http_request_duration_seconds_count", "job": "shop", "service": "payments"},
            _bind_bucket(self, len(BUCKETS) - 1), self.origin_ms, self.resets_ms("payments"),
            initial=0.0))
        out.extend(self._build_info_series())
        self._series = out
        return out

    def _build_info_series(self) -> list[Series]:
        out: list[Series] = []
        for service in CODES:
            changes = [(at, ver) for at, svc, ver, _p in self.deploys if svc == service]
            first_ms = _grid_ceil(self.origin_ms)
            version = self.initial_versions[service]
            born_by_deploy = False
            for at, ver in [*changes, (math.inf, "")]:
                end_ms = None if at == math.inf else _grid_ceil(int(at * 1000)) - SCRAPE_MS
                if end_ms is None or end_ms >= first_ms:
                    out.append(GaugeSeries(
                        {"__name__": "app_build_info", "job": "shop", "service": service,
                         "version": version},
                        first_ms, end_ms, first_value=0.0 if born_by_deploy else 1.0))
                if at == math.inf:
                    break
                first_ms = _grid_ceil(int(at * 1000))
                version = ver
                born_by_deploy = True
        return out


def _bind_rate(story: Story, service: str, code: str) -> Callable[[int], float]:
    return lambda seg: story.request_rate(service, code, seg)


def _bind_bucket(story: Story, index: int) -> Callable[[int], float]:
    return lambda seg: story.bucket_rate(index, seg)


def _grid_ceil(ms: int) -> int:
    return -(-ms // SCRAPE_MS) * SCRAPE_MS


def _grid_floor(ms: int) -> int:
    return ms - ms % SCRAPE_MS


@dataclass(frozen=True)
class WindowStats:
    """What Prometheus' range functions need from the samples in ``[mint, maxt]``."""

    count: int
    first_t: int
    first_v: float
    last_t: int
    last_v: float
    reset_correction: float  # sum of values just before each counter reset
    changes: int


class Series:
    """A synthetic series sampled every 15 s on the epoch-aligned grid."""

    labels: dict[str, str]
    first_ms: int

    def last_sample_ms(self) -> int | None:
        """Last grid time the series has a sample at (None = still alive)."""
        raise NotImplementedError

    def value(self, t_ms: int) -> float:
        """Sample value at grid time ``t_ms``."""
        raise NotImplementedError

    def _span(self, mint: int, maxt: int) -> tuple[int, int] | None:
        first = max(_grid_ceil(mint), self.first_ms)
        last = _grid_floor(maxt)
        end = self.last_sample_ms()
        if end is not None:
            last = min(last, end)
        if last < first:
            return None
        return first, last

    def window(self, mint: int, maxt: int) -> WindowStats | None:
        """Summary of the samples with ``mint <= t <= maxt`` (None when there are none)."""
        span = self._span(mint, maxt)
        if span is None:
            return None
        first, last = span
        return WindowStats((last - first) // SCRAPE_MS + 1, first, self.value(first), last,
                           self.value(last), self._reset_correction(first, last),
                           self._changes(first, last))

    def latest(self, t_ms: int) -> tuple[int, float] | None:
        """The instant-vector sample at ``t_ms`` (lookback 5 min, inclusive)."""
        span = self._span(t_ms - LOOKBACK_MS, t_ms)
        if span is None:
            return None
        return span[1], self.value(span[1])

    def samples(self, mint: int, maxt: int) -> Iterator[tuple[int, float]]:
        """Every sample in ``[mint, maxt]`` (for export)."""
        span = self._span(mint, maxt)
        if span is None:
            return
        for t in range(span[0], span[1] + 1, SCRAPE_MS):
            yield t, self.value(t)

    def _reset_correction(self, first: int, last: int) -> float:
        return 0.0

    def _changes(self, first: int, last: int) -> int:
        return 0


class CounterSeries(Series):
    """A counter: exact integral of a per-segment rate, reset to 0 at given times."""

    def __init__(self, labels: dict[str, str], rate: Callable[[int], float], origin_ms: int,
                 resets_ms: list[int], *, initial: float) -> None:
        self.labels = labels
        self.rate = rate
        self.origin_ms = origin_ms
        self.first_ms = _grid_ceil(origin_ms)
        self.resets = resets_ms
        self.initial = initial
        self._rates: list[float] = []
        self._cum: list[float] = [0.0]

    def last_sample_ms(self) -> int | None:
        return None

    def _integral(self, t_ms: int) -> float:
        offset = t_ms - self.origin_ms
        k = offset // SEGMENT_MS
        while len(self._rates) <= k:
            seg = self.origin_ms + len(self._rates) * SEGMENT_MS
            r = self.rate(seg)
            self._rates.append(r)
            self._cum.append(self._cum[-1] + r * (SEGMENT_MS / 1000.0))
        return self._cum[k] + self._rates[k] * ((offset - k * SEGMENT_MS) / 1000.0)

    def value(self, t_ms: int) -> float:
        base = self.origin_ms
        start_value = self.initial
        for r in self.resets:
            if r <= t_ms:
                base = r
                start_value = 0.0
        return start_value + (self._integral(t_ms) - self._integral(base))

    def _reset_correction(self, first: int, last: int) -> float:
        total = 0.0
        for r in self.resets:
            if first < r <= last:
                at = _grid_ceil(r)
                before = at - SCRAPE_MS
                if self.value(at) < self.value(before):
                    total += self.value(before)
        return total


class GaugeSeries(Series):
    """``app_build_info``: 0 on its first scrape after a deploy (not ready yet), then 1."""

    def __init__(self, labels: dict[str, str], first_ms: int, last_ms: int | None, *,
                 first_value: float) -> None:
        self.labels = labels
        self.first_ms = first_ms
        self.last_ms = last_ms
        self.first_value = first_value

    def last_sample_ms(self) -> int | None:
        return self.last_ms

    def value(self, t_ms: int) -> float:
        return self.first_value if t_ms == self.first_ms else 1.0

    def _changes(self, first: int, last: int) -> int:
        if self.first_value != 1.0 and first == self.first_ms and last > first:
            return 1
        return 0


def export_openmetrics(story: Story, start_ms: int, end_ms: int) -> Iterator[str]:
    """OpenMetrics text lines (Unix-seconds timestamps) for every series, ending with ``# EOF``.

    Feed the output to ``promtool tsdb create-blocks-from openmetrics``.
    """
    by_name: dict[str, list[Series]] = {}
    for s in story.series():
        by_name.setdefault(s.labels["__name__"], []).append(s)
    for name, group in by_name.items():
        family = name.removesuffix("_total") if name.endswith("_total") else name
        if name.startswith("http_request_duration_seconds"):
            family = name
        kind = "counter" if name.endswith("_total") else (
            "gauge" if name == "app_build_info" else "unknown")
        yield f"# TYPE {family} {kind}"
        for s in group:
            lbl = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()) if k != "__name__")
            for t, v in s.samples(start_ms, end_ms):
                yield f"{name}{{{lbl}}} {v!r} {t // 1000}"
    yield "# EOF"
