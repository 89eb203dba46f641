"""Deterministic log lines and the LogQL subset the simulated Loki understands.

Line ``i`` has timestamp ``origin + i * 1e9 // rate`` ns and its content is a pure function of
``(seed, i, story state at that time)``: nothing is stored, so ``query_range`` and the tail agree
for any time range. Every line carries ``seq=<i>`` (logfmt) or ``"seq":<i>`` (JSON).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sre_cockpit.simulator.story import MASK64, Story, hash_keys, mix64, name_key

SEQ_RE = re.compile(r'\bseq"?[=:](\d+)')
APPS = (("checkout", 0.35), ("payments", 0.25), ("search", 0.25), ("gateway", 0.15))
MAX_SCAN = 250_000
LABEL_NAMES = ("app", "env", "namespace", "pod")


class LogQLError(Exception):
    """A LogQL error; ``str()`` is the plain-text body Loki would send (HTTP 400)."""


@dataclass(frozen=True)
class Entry:
    """One generated log entry."""

    seq: int
    ts_ns: int
    labels: tuple[tuple[str, str], ...]
    line: str
    metadata: dict[str, str] = field(default_factory=dict)


def _u(h: int, shift: int = 11) -> float:
    return ((h >> shift) & ((1 << 53) - 1)) / float(1 << 53)


def _iso(ts_ns: int) -> str:
    sec, ns = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{ns // 1_000_000:03d}Z"


HISTORY_RATE = 20
"""Lines per second of the history when the live rate is 0 (the default ``--log-rate``)."""


class LogGenerator:
    """Generates the story's log lines at ``rate`` lines per second from the history origin.

    ``rate`` 0 is a quiet live tail: the history up to ``until_ns`` (the simulator's start) is
    written at :data:`HISTORY_RATE` lines/s and no line exists after it, so ``query_range``
    still answers with the story and a tail stays open with pings only.
    """

    def __init__(self, story: Story, rate: int = 20, *, until_ns: int | None = None) -> None:
        if rate < 0 or rate > 1_000_000:
            raise ValueError("log rate must be between 0 and 1,000,000 lines/s")
        if rate == 0 and until_ns is None:
            raise ValueError("log rate 0 needs until_ns (where the history ends)")
        self.story = story
        self.rate = rate
        """Live lines per second (0: none after ``until_ns``)."""
        self._spacing = rate or HISTORY_RATE
        self.origin_ns = story.origin_ms * 1_000_000
        self.end_index: int | None = None
        """Index one past the last line that exists (None: lines never end)."""
        if rate == 0 and until_ns is not None:
            self.end_index = self.first_at_or_after(until_ns)
        self.seed = story.seed
        self._base_app = hash_keys(self.seed, 0x10)
        self._base_line = hash_keys(self.seed, 0x20)
        self._base_trace = hash_keys(self.seed, 0x30)
        self._label_cache: dict[tuple[str, str, int], tuple[tuple[str, str], ...]] = {}

    def ts(self, i: int) -> int:
        """Timestamp (ns) of line ``i``."""
        return self.origin_ns + (i * 1_000_000_000) // self._spacing

    def first_at_or_after(self, ts_ns: int) -> int:
        """Smallest line index whose timestamp is ``>= ts_ns`` (never negative), capped at
        :attr:`end_index` when the lines end (live rate 0)."""
        d = ts_ns - self.origin_ns
        if d <= 0:
            return 0
        index = -(-(d * self._spacing) // 1_000_000_000)
        return index if self.end_index is None else min(index, self.end_index)

    def pick_app(self, i: int) -> tuple[str, int]:
        h = mix64(self._base_app ^ (i & MASK64))
        u = _u(h)
        acc = 0.0
        for app, share in APPS:
            acc += share
            if u < acc:
                return app, h
        return APPS[-1][0], h

    def labels(self, i: int) -> tuple[tuple[str, str], ...]:
        """Stream labels of line ``i`` (sorted)."""
        app, h = self.pick_app(i)
        return self._labels(app, h, self.ts(i))

    def _labels(self, app: str, h: int, ts_ns: int) -> tuple[tuple[str, str], ...]:
        version = self.story.version(app, ts_ns / 1e9) if app != "gateway" else "1.0.0"
        replica = (h >> 3) % 3
        key = (app, version, replica)
        hit = self._label_cache.get(key)
        if hit is None:
            rs = f"{name_key(app + version) % 0xFFFFFFF:07x}"[:6]
            tail = f"{name_key(app + version + str(replica)) % 0xFFFFF:05x}"
            pod = f"{app}-{rs}-{tail}"
            hit = (("app", app), ("env", "prod"), ("namespace", "shop"), ("pod", pod))
            self._label_cache[key] = hit
        return hit

    def entry(self, i: int) -> Entry:
        """The full entry for line ``i``."""
        app, h = self.pick_app(i)
        ts = self.ts(i)
        labels = self._labels(app, h, ts)
        line, meta = self._line(app, i, ts, h)
        return Entry(i, ts, labels, line, meta)

    # ------------------------------------------------------------------ content
    def _line(self, app: str, i: int, ts: int, h: int) -> tuple[str, dict[str, str]]:
        line, trace = self._text(app, i, ts, h)
        if "level=error" in line or '"level":"error"' in line:
            return line, {"trace_id": trace}
        return line, {}

    def _text(self, app: str, i: int, ts: int, h: int) -> tuple[str, str]:
        t = ts / 1e9
        st = self.story
        h2 = mix64(self._base_line ^ (i & MASK64))
        u = _u(h2)
        rid = f"{h2 & 0xFFFFFFFFFFFF:012x}"
        trace = f"{mix64(self._base_trace ^ (i & MASK64)):016x}"
        iso = _iso(ts)
        dur = 20 + (h2 >> 20) % 180
        if app == "checkout":
            ver = st.version("checkout", t)
            head = f"ts={iso} level={{lvl}} seq={i} app=checkout version={ver} request_id={rid}"
            err = st.checkout_error_ratio(t)
            if ver == "2.3.1" and 0 <= t - st.t_deploy_bad < 90 and u < 0.05:
                return (head.format(lvl="info") + ' msg="starting checkout" '
                        "config.payments_timeout=800ms config.payments_retries=3"), trace
            if err > 0.001 and u < err * 9:
                v = (h2 >> 40) % 3
                if v == 0:
                    return (head.format(lvl="error") + " method=POST path=/api/checkout status=502 "
                            f'duration_ms={2400 + dur} msg="payment authorization failed" '
                            'error="payments.Authorize: context deadline exceeded '
                            '(client timeout 800ms, attempt 3/3)"'), trace
                if v == 1:
                    return (head.format(lvl="error") + " method=POST path=/api/checkout status=503 "
                            'msg="retry budget exhausted" upstream=payments retries=3 '
                            'error="upstream request timeout"'), trace
                return (head.format(lvl="warn") + ' msg="retrying payments.Authorize" '
                        f"attempt={2 + (h2 >> 50) % 2} backoff_ms=50 upstream=payments"), trace
            if u > 0.995:
                return head.format(lvl="warn") + f' msg="slow cart lookup" duration_ms={300 + dur}', trace
            return (head.format(lvl="info") + " method=POST path=/api/checkout status=200 "
                    f'duration_ms={dur} msg="order placed" order_id=ord_{(h2 >> 8) % 10_000_000:07d}'), trace
        if app == "payments":
            deg = st.payments_degradation(t)
            base = f'{{"ts":"{iso}","level":"{{lvl}}","seq":{i},"app":"payments","request_id":"{rid}",'
            if deg > 0 and u < deg * 0.25:
                return (base.replace("{lvl}", "error") + '"msg":"authorization timed out",'
                        f'"latency_ms":{1800 + dur * 5},'
                        '"error":"ledger: timeout acquiring connection from pool"}'), trace
            if deg > 0 and u < deg * 0.5:
                return (base.replace("{lvl}", "warn") + '"msg":"db connection pool saturated",'
                        f'"pool":"ledger","in_use":50,"waiting":{120 + (h2 >> 30) % 150}}}'), trace
            lat = int(dur * (1 + deg * 6))
            brand = ("visa", "mastercard", "amex")[(h2 >> 33) % 3]
            return (base.replace("{lvl}", "info") + '"msg":"authorization approved",'
                    f'"latency_ms":{lat},"card_brand":"{brand}"}}'), trace
        if app == "search":
            head = f"ts={iso} level={{lvl}} seq={i} app=search request_id={rid}"
            if u < 0.01:
                return head.format(lvl="info") + ' msg="no results" status=404 q_len=' + str(3 + dur % 20), trace
            if u > 0.998:
                return head.format(lvl="warn") + f' msg="index shard slow" shard={dur % 8} duration_ms={400 + dur}', trace
            return (head.format(lvl="info") + f' msg="query served" status=200 hits={(h2 >> 24) % 500} '
                    f"duration_ms={dur // 3 + 5}"), trace
        # gateway
        upstream = ("checkout", "search", "payments")[(h2 >> 18) % 3]
        status = 200
        lvl = "info"
        if upstream == "checkout" and u < st.checkout_error_ratio(t) * 9:
            status, lvl = 502, "error"
        head = f"ts={iso} level={lvl} seq={i} app=gateway request_id={rid}"
        return (head + f' msg="proxied request" upstream={upstream} status={status} '
                f"duration_ms={dur + (2400 if status == 502 else 0)}"), trace

    # ------------------------------------------------------------------ scanning
    def scan(self, query: LogQuery, start_ns: int, end_ns: int, limit: int, *,
             forward: bool, max_scan: int = MAX_SCAN) -> list[Entry]:
        """Up to ``limit`` matching entries with ``start <= ts < end`` in the given direction."""
        lo = self.first_at_or_after(start_ns)
        hi = self.first_at_or_after(end_ns)  # exclusive
        if hi <= lo:
            return []
        out: list[Entry] = []
        rng = range(lo, hi) if forward else range(hi - 1, lo - 1, -1)
        scanned = 0
        for i in rng:
            scanned += 1
            if scanned > max_scan:
                break
            app, h = self.pick_app(i)
            if query.apps is not None and app not in query.apps:
                continue
            labels = self._labels(app, h, self.ts(i))
            if not query.match_labels(labels):
                continue
            line, meta = self._line(app, i, self.ts(i), h)
            if not query.match_line(line):
                continue
            out.append(Entry(i, self.ts(i), labels, line, meta))
            if len(out) >= limit:
                break
        return out

    def iter_range(self, query: LogQuery, lo: int, hi: int, stride: int = 1) -> Iterator[Entry]:
        """Matching entries with indices in ``[lo, hi)`` (for the tail); with ``stride`` > 1
        only every stride-th line is looked at (metric estimates over many lines)."""
        for i in range(lo, hi, stride):
            app, h = self.pick_app(i)
            if query.apps is not None and app not in query.apps:
                continue
            ts = self.ts(i)
            labels = self._labels(app, h, ts)
            if not query.match_labels(labels):
                continue
            line, meta = self._line(app, i, ts, h)
            if query.match_line(line):
                yield Entry(i, ts, labels, line, meta)

    def streams(self) -> list[tuple[tuple[str, str], ...]]:
        """Every stream label set the story produces (history origin to the last deploy)."""
        out = set()
        times = [self.story.origin_ms / 1000, *(at for at, *_ in self.story.deploys)]
        for app, _share in APPS:
            for t in times:
                if t * 1e9 < self.origin_ns:
                    continue
                for replica in range(3):
                    out.add(self._labels(app, replica << 3, int(t * 1e9) + 1))
        return sorted(out)

    def streams_between(self, start_ns: int, end_ns: int) -> list[tuple[tuple[str, str], ...]]:
        """The stream label sets that have lines in ``[start_ns, end_ns)`` (versions change at
        the story's deploys; every app writes from three replicas)."""
        lo, hi = self.first_at_or_after(start_ns), self.first_at_or_after(end_ns)
        if hi <= lo:
            return []
        first_ts, last_ts = self.ts(lo), self.ts(hi - 1)
        times = [first_ts, *(int(at * 1e9) for at, *_ in self.story.deploys
                             if first_ts < at * 1e9 <= last_ts)]
        return sorted({self._labels(app, replica << 3, t)
                       for app, _share in APPS for t in times for replica in range(3)})


# ---------------------------------------------------------------------- LogQL subset
@dataclass
class LogQuery:
    """A parsed stream selector plus line filters."""

    matchers: list[tuple[str, str, str, re.Pattern[str] | None]]
    filters: list[tuple[str, str, re.Pattern[str] | None]]
    apps: set[str] | None = None

    def match_labels(self, labels: tuple[tuple[str, str], ...]) -> bool:
        d = dict(labels)
        for name, op, value, rx in self.matchers:
            v = d.get(name, "")
            if op == "=":
                ok = v == value
            elif op == "!=":
                ok = v != value
            else:
                assert rx is not None
                ok = (rx.fullmatch(v) is not None) == (op == "=~")
            if not ok:
                return False
        return True

    def match_line(self, line: str) -> bool:
        for op, value, rx in self.filters:
            if op == "|=":
                ok = value in line
            elif op == "!=":
                ok = value not in line
            else:
                assert rx is not None
                ok = (rx.search(line) is not None) == (op == "|~")
            if not ok:
                return False
        return True


_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<op>=~|!~|!=|\|=|\|~|=|\||\{|\}|,|\(|\)|\[)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>\d+))')


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse_logql(src: str) -> LogQuery:
    """Parse ``{matchers} |= "x" != "y" |~ "re" !~ "re"`` (raises :class:`LogQLError`)."""
    toks: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            col = pos + 1 + (len(src[pos:]) - len(src[pos:].lstrip()))
            raise LogQLError(f"parse error at line 1, col {col}: syntax error: unexpected {src[pos:].strip()[:1]!r}")
        kind = m.lastgroup or ""
        toks.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    toks.append(("eof", "", len(src) + 1))
    k = 0

    def err(tok: tuple[str, str, int], what: str) -> LogQLError:
        desc = {"ident": "IDENTIFIER", "str": "STRING", "num": "NUMBER", "eof": "$end"}.get(tok[0], tok[1])
        return LogQLError(f"parse error at line 1, col {tok[2]}: syntax error: unexpected {desc}{what}")

    tok = toks[k]
    if tok[0] == "ident" and toks[k + 1][1] == "(":
        raise LogQLError("metric queries are not supported by the sre-cockpit simulator; "
                         "send a log query such as {app=\"checkout\"}")
    if tok[1] != "{":
        raise err(tok, ", expecting {")
    k += 1
    matchers: list[tuple[str, str, str, re.Pattern[str] | None]] = []
    while True:
        tok = toks[k]
        if tok[1] == "}":
            k += 1
            break
        if tok[0] != "ident":
            raise err(tok, "")
        op = toks[k + 1]
        val = toks[k + 2]
        if op[1] not in ("=", "!=", "=~", "!~"):
            raise err(op, "")
        if val[0] != "str":
            raise err(val, ", expecting STRING")
        value = _unquote(val[1])
        rx = None
        if op[1] in ("=~", "!~"):
            try:
                rx = re.compile(value, re.DOTALL)
            except re.error as exc:
                raise LogQLError(f"parse error at line 1, col {val[2]}: error parsing regexp: {exc}") from exc
        matchers.append((tok[1], op[1], value, rx))
        k += 3
        sep = toks[k]
        if sep[1] == ",":
            k += 1
            continue
        if sep[1] != "}":
            raise err(sep, ", expecting } or ,")
    if not matchers or all(_empty_compatible(m) for m in matchers):
        raise LogQLError("queries require at least one regexp or equality matcher that does not "
                         "have an empty-compatible value. For instance, app=~\".*\" does not meet "
                         "this requirement, but app=~\".+\" will")
    filters: list[tuple[str, str, re.Pattern[str] | None]] = []
    while toks[k][0] != "eof":
        op = toks[k]
        if op[1] == "|":
            nxt = toks[k + 1]
            raise LogQLError(f"parse error at line 1, col {nxt[2]}: the '| {nxt[1]}' stage is not "
                             "supported by the sre-cockpit simulator (line filters |= != |~ !~ are)")
        if op[1] not in ("|=", "!=", "|~", "!~"):
            raise err(op, "")
        val = toks[k + 1]
        if val[0] != "str":
            raise err(val, ", expecting STRING")
        value = _unquote(val[1])
        rx = None
        if op[1] in ("|~", "!~"):
            try:
                rx = re.compile(value)
            except re.error as exc:
                raise LogQLError(f"parse error at line 1, col {val[2]}: error parsing regexp: {exc}") from exc
        filters.append((op[1], value, rx))
        k += 2
    apps = None
    for name, mop, mvalue, mrx in matchers:
        if name == "app":
            cand = {a for a, _ in APPS}
            if mop == "=":
                cand = {mvalue} & cand
            elif mop == "!=":
                cand.discard(mvalue)
            else:
                assert mrx is not None
                cand = {a for a in cand if (mrx.fullmatch(a) is not None) == (mop == "=~")}
            apps = cand if apps is None else apps & cand
    return LogQuery(matchers, filters, apps)


def _empty_compatible(m: tuple[str, str, str, re.Pattern[str] | None]) -> bool:
    _name, op, value, rx = m
    if op == "=":
        return value == ""
    if op == "!=":
        return value != ""
    assert rx is not None
    return (rx.fullmatch("") is not None) == (op == "=~")


def parse_loki_time(value: str, default_ns: int) -> int:
    """Loki's timestamp parsing: RFC3339, float seconds, ≤10-digit seconds, else nanoseconds."""
    if value == "":
        return default_ns
    if re.fullmatch(r"-?\d+", value):
        n = int(value)
        return n * 1_000_000_000 if len(value.lstrip("-")) <= 10 else n
    try:
        return int(float(value) * 1e9)
    except ValueError:
        pass
    from datetime import datetime

    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise LogQLError(f'cannot parse "{value}" to a valid timestamp') from exc
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000
