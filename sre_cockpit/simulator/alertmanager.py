"""Alertmanager API v2 state: the story's alerts, posted alerts, silences and inhibition."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sre_cockpit.simulator.clock import SimClock
from sre_cockpit.simulator.story import Story, hash_keys

RESOLVE_TIMEOUT_S = 300.0
PROMETHEUS_EXTERNAL_URL = "http://prometheus.shop.example:9090"  # fixed: answers stay deterministic
CONFIG_ORIGINAL = """global:
  resolve_timeout: 5m
route:
  receiver: shop-slack
  group_by:
  - alertname
  routes:
  - receiver: shop-pagerduty
    matchers:
    - severity="critical"
inhibit_rules:
- source_matchers:
  - severity="critical"
  target_matchers:
  - severity="warning"
  equal:
  - alertname
  - instance
receivers:
- name: shop-pagerduty
- name: shop-slack
templates: []
"""


class AlertmanagerError(Exception):
    """An API error: ``status`` and a ``body`` (a JSON string or a {code,message} object)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def fingerprint(labels: dict[str, str]) -> str:
    """Prometheus ``LabelSet.Fingerprint()`` (FNV-1a 64 over sorted name/value pairs)."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
            h = ((h ^ 0xFF) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def iso_ms(t: float) -> str:
    """RFC3339 with milliseconds, as Alertmanager writes timestamps."""
    ms = round(t * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def parse_time(value: Any, field_name: str) -> float:
    """Parse an RFC3339 timestamp from a request body (422 like go-swagger when invalid)."""
    from datetime import datetime

    if not isinstance(value, str):
        raise AlertmanagerError(422, {"code": 602, "message": f"{field_name} in body must be of type date-time"})
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise AlertmanagerError(422, {"code": 602, "message": f'{field_name} in body must be of type date-time: "{value}"'}) from exc


@dataclass
class Matcher:
    """A label matcher of a silence or a filter."""

    name: str
    value: str
    is_regex: bool
    is_equal: bool = True
    rx: re.Pattern[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        v = labels.get(self.name, "")
        if self.is_regex:
            assert self.rx is not None
            hit = self.rx.fullmatch(v) is not None
        else:
            hit = v == self.value
        return hit if self.is_equal else not hit

    def to_json(self) -> dict[str, Any]:
        return {"isEqual": self.is_equal, "isRegex": self.is_regex, "name": self.name,
                "value": self.value}


@dataclass
class Alert:
    """One alert held by the simulated Alertmanager."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float
    updated_at: float
    generator_url: str | None = None


@dataclass
class Silence:
    """One silence."""

    id: str
    matchers: list[Matcher]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    updated_at: float

    def state(self, now: float) -> str:
        if self.ends_at <= now:
            return "expired"
        if self.starts_at > now:
            return "pending"
        return "active"


_FILTER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$')


def parse_filter(text: str) -> Matcher:
    """Parse one ``filter=`` matcher (``name="value"``, ``name=~"re"`` …)."""
    m = _FILTER.match(text)
    if not m:
        raise AlertmanagerError(400, f"bad matcher format: {text}")
    name, op, raw = m.groups()
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"') or raw.endswith('\\"'):
            raise AlertmanagerError(400, f"matcher value contains unescaped double quote: {raw}")
        value = re.sub(r'\\(.)', r'\1', raw[1:-1])
    else:
        if '"' in raw:
            raise AlertmanagerError(400, f"matcher value contains unescaped double quote: {raw}")
        value = raw
    return _matcher(name, value, op in ("=~", "!~"), op in ("=", "=~"), 400, "")


def _matcher(name: str, value: str, is_regex: bool, is_equal: bool, status: int,
             prefix: str) -> Matcher:
    rx = None
    if is_regex:
        try:
            rx = re.compile(value, re.DOTALL)
        except re.error as exc:
            raise AlertmanagerError(status, f"{prefix}error parsing regexp: {exc}") from exc
    return Matcher(name, value, is_regex, is_equal, rx)


class AlertmanagerState:
    """Alerts derived from the story plus anything posted, silences and inhibition."""

    def __init__(self, story: Story, clock: SimClock) -> None:
        self.story = story
        self.clock = clock
        self.posted: dict[str, Alert] = {}
        self.silences: dict[str, Silence] = {}
        self._ids = 0
        st = story
        maint = Silence(self._new_id(), [Matcher("alertname", "DiskSpaceLow", False),
                                         Matcher("instance", "search-db-2", False)],
                        st.start - 5 * 3600, st.start + 19 * 3600, "maria.lopez",
                        "disk expansion scheduled (CHG-4821)", st.start - 5 * 3600)
        self.silences[maint.id] = maint

    def _new_id(self) -> str:
        self._ids += 1
        h = hash_keys(self.story.seed, 0xA11, self._ids)
        return str(uuid.UUID(int=(h << 64) | hash_keys(self.story.seed, 0xA12, self._ids), version=4))

    # ------------------------------------------------------------------ alerts
    def story_alerts(self, now: float) -> list[Alert]:
        st = self.story
        out = []
        graph = f"{PROMETHEUS_EXTERNAL_URL}/graph?g0.expr="
        if st.t_alert_fire <= now < st.t_alerts_resolve:
            out.append(Alert(
                {"alertname": "CheckoutHighErrorRate", "namespace": "shop", "service": "checkout",
                 "severity": "critical", "team": "shop"},
                {"summary": "checkout is answering 3.8% of requests with 5xx (threshold 1%)",
                 "description": "sum(rate(http_requests_total{service=\"checkout\",code=~\"5..\"}[5m])) / "
                                "sum(rate(http_requests_total{service=\"checkout\"}[5m])) > 0.01 for 2m",
                 "runbook_url": "https://runbooks.example.com/checkout/high-error-rate"},
                st.t_alert_fire, now + 240, now - (now - st.t_alert_fire) % 60,
                graph + "sum%28rate%28http_requests_total%7Bservice%3D%22checkout%22%2Ccode%3D~%225..%22%7D%5B5m%5D%29%29"))
        if st.t_pay_alert <= now < st.t_alerts_resolve:
            out.append(Alert(
                {"alertname": "PaymentsLatencyHigh", "namespace": "shop", "service": "payments",
                 "severity": "warning", "team": "shop"},
                {"summary": "payments p99 latency is above 1s (SLO: 99% under 500ms)",
                 "runbook_url": "https://runbooks.example.com/payments/latency"},
                st.t_pay_alert, now + 240, now - (now - st.t_pay_alert) % 60,
                graph + "histogram_quantile%280.99%2C+sum+by+%28le%29+%28rate%28http_request_duration_seconds_bucket%5B5m%5D%29%29%29"))
        out.append(Alert(
            {"alertname": "DiskSpaceLow", "instance": "search-db-2", "namespace": "shop",
             "service": "search", "severity": "warning", "team": "shop"},
            {"summary": "search-db-2 /var/lib/postgresql is 91% full"},
            st.start - 5 * 3600 - 300, now + 240, now - (now - st.start) % 60, None))
        return out

    def post_alerts(self, body: Any) -> None:
        if not isinstance(body, list):
            raise AlertmanagerError(400, {"code": 400, "message": "parsing alerts body from \"\" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts"} if isinstance(body, dict) else "invalid body")
        now = self.clock.now()
        parsed: list[Alert] = []
        for i, item in enumerate(body):
            if not isinstance(item, dict) or "labels" not in item:
                raise AlertmanagerError(422, {"code": 602, "message": f"{i}.labels in body is required"})
            labels = item["labels"]
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise AlertmanagerError(422, {"code": 602, "message": f"{i}.labels in body must be of type object"})
            if not labels:
                raise AlertmanagerError(400, "at least one label pair required")
            ann = item.get("annotations") or {}
            starts = parse_time(item["startsAt"], f"{i}.startsAt") if item.get("startsAt") else now
            ends = parse_time(item["endsAt"], f"{i}.endsAt") if item.get("endsAt") else now + RESOLVE_TIMEOUT_S
            if ends < starts:
                raise AlertmanagerError(400, "start time must be before end time")
            parsed.append(Alert(dict(labels), dict(ann), starts, ends, now, item.get("generatorURL")))
        for alert in parsed:
            fp = fingerprint(alert.labels)
            old = self.posted.get(fp)
            if old is not None and old.ends_at > now:
                alert.starts_at = min(alert.starts_at, old.starts_at)
            self.posted[fp] = alert

    def _all_alerts(self, now: float) -> list[Alert]:
        merged: dict[str, Alert] = {fingerprint(a.labels): a for a in self.story_alerts(now)}
        for fp, a in self.posted.items():
            if a.ends_at > now:
                merged[fp] = a
        return list(merged.values())

    def alert_json(self, a: Alert, all_alerts: list[Alert], now: float) -> dict[str, Any]:
        fp = fingerprint(a.labels)
        silenced = sorted(s.id for s in self.silences.values()
                          if s.state(now) == "active" and all(m.matches(a.labels) for m in s.matchers))
        inhibited = []
        if a.labels.get("severity") == "warning":
            for src in all_alerts:
                if src.labels.get("severity") == "critical" and all(
                        src.labels.get(k, "") == a.labels.get(k, "") for k in ("alertname", "instance")):
                    inhibited.append(fingerprint(src.labels))
        state = "suppressed" if silenced or inhibited else "active"
        receiver = "shop-pagerduty" if a.labels.get("severity") == "critical" else "shop-slack"
        out: dict[str, Any] = {
            "annotations": a.annotations, "endsAt": iso_ms(a.ends_at), "fingerprint": fp,
            "receivers": [{"name": receiver}], "startsAt": iso_ms(a.starts_at),
            "status": {"inhibitedBy": sorted(inhibited), "silencedBy": silenced, "state": state},
            "updatedAt": iso_ms(a.updated_at)}
        if a.generator_url:
            out["generatorURL"] = a.generator_url
        out["labels"] = a.labels
        return out

    def list_alerts(self, filters: list[str], *, silenced: bool = True, inhibited: bool = True,
                    active: bool = True, unprocessed: bool = True,
                    receiver: str | None = None) -> list[dict[str, Any]]:
        matchers = [parse_filter(f) for f in filters]
        rx = None
        if receiver:
            try:
                rx = re.compile(receiver)
            except re.error as exc:
                raise AlertmanagerError(400, f"failed to parse receiver param: {exc}") from exc
        now = self.clock.now()
        alerts = self._all_alerts(now)
        out = []
        for a in alerts:
            if not all(m.matches(a.labels) for m in matchers):
                continue
            j = self.alert_json(a, alerts, now)
            st = j["status"]
            if not silenced and st["silencedBy"]:
                continue
            if not inhibited and st["inhibitedBy"]:
                continue
            if not active and st["state"] == "active":
                continue
            if rx is not None and not any(rx.fullmatch(r["name"]) for r in j["receivers"]):
                continue
            out.append(j)
        return sorted(out, key=lambda j: j["fingerprint"])

    def groups(self, filters: list[str], **kw: Any) -> list[dict[str, Any]]:
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for a in self.list_alerts(filters, **kw):
            key = (a["receivers"][0]["name"], a["labels"].get("alertname", ""))
            groups.setdefault(key, []).append(a)
        return [{"alerts": alerts, "labels": {"alertname": name}, "receiver": {"name": rcv}}
                for (rcv, name), alerts in sorted(groups.items())]

    # ------------------------------------------------------------------ silences
    def silence_json(self, s: Silence, now: float) -> dict[str, Any]:
        return {"id": s.id, "status": {"state": s.state(now)}, "updatedAt": iso_ms(s.updated_at),
                "comment": s.comment, "createdBy": s.created_by, "endsAt": iso_ms(s.ends_at),
                "matchers": [m.to_json() for m in s.matchers], "startsAt": iso_ms(s.starts_at)}

    def list_silences(self, filters: list[str]) -> list[dict[str, Any]]:
        matchers = [parse_filter(f) for f in filters]
        now = self.clock.now()
        out = []
        for s in self.silences.values():
            labels = {m.name: m.value for m in s.matchers if m.is_equal and not m.is_regex}
            if all(m.matches(labels) for m in matchers):
                out.append(s)
        order = {"active": 0, "pending": 1, "expired": 2}
        out.sort(key=lambda s: (order[s.state(now)], s.ends_at if s.state(now) != "expired" else -s.ends_at))
        return [self.silence_json(s, now) for s in out]

    def get_silence(self, sid: str) -> dict[str, Any]:
        s = self.silences.get(sid)
        if s is None:
            raise AlertmanagerError(404, None)
        return self.silence_json(s, self.clock.now())

    def post_silence(self, body: Any) -> str:
        if not isinstance(body, dict):
            raise AlertmanagerError(400, {"code": 400, "message": "parsing silence body from \"\" failed, because json: cannot unmarshal array into Go value of type models.PostableSilence"})
        for key in ("comment", "createdBy", "endsAt", "matchers", "startsAt"):
            if key not in body:
                raise AlertmanagerError(422, {"code": 602, "message": f"{key} in body is required"})
        raw = body["matchers"]
        if not isinstance(raw, list):
            raise AlertmanagerError(422, {"code": 602, "message": "matchers in body must be of type array"})
        matchers = []
        for i, m in enumerate(raw):
            if not isinstance(m, dict):
                raise AlertmanagerError(422, {"code": 602, "message": f"matchers.{i} in body must be of type object"})
            for key in ("name", "value", "isRegex"):
                if key not in m:
                    raise AlertmanagerError(422, {"code": 602, "message": f"matchers.{i}.{key} in body is required"})
            matchers.append(_matcher(str(m["name"]), str(m["value"]), bool(m["isRegex"]),
                                     bool(m.get("isEqual", True)), 400,
                                     f"Failed to create silence: invalid label matcher {i}: "))
        starts = parse_time(body["startsAt"], "startsAt")
        ends = parse_time(body["endsAt"], "endsAt")
        now = self.clock.now()
        if not matchers:
            raise AlertmanagerError(400, "Failed to create silence: silence invalid: at least one matcher required")
        if all(m.matches({}) for m in matchers):
            raise AlertmanagerError(400, "Failed to create silence: silence invalid: at least one matcher must not match the empty string")
        if ends <= starts:
            raise AlertmanagerError(400, "Failed to create silence: start time must be before end time")
        if ends < now:
            raise AlertmanagerError(400, "Failed to create silence: end time can't be in the past")
        sid = body.get("id") or ""
        if sid and sid not in self.silences:
            raise AlertmanagerError(404, f"silence {sid} not found")
        if not sid or self.silences[sid].state(now) == "expired":
            sid = self._new_id()
        self.silences[sid] = Silence(sid, matchers, max(starts, now) if starts < now else starts,
                                     ends, str(body["createdBy"]), str(body["comment"]), now)
        return sid

    def expire_silence(self, sid: str) -> None:
        s = self.silences.get(sid)
        if s is None:
            raise AlertmanagerError(404, None)
        now = self.clock.now()
        if s.state(now) == "expired":
            raise AlertmanagerError(500, f"silence {sid} already expired")
        if s.starts_at > now:
            s.starts_at = now
        s.ends_at = now
        s.updated_at = now

    def status(self) -> dict[str, Any]:
        return {"cluster": {"peers": [], "status": "disabled"},
                "config": {"original": CONFIG_ORIGINAL},
                "uptime": iso_ms(self.clock.start),
                "versionInfo": {"branch": "sre-cockpit-simulator", "buildDate": "20260101-00:00:00",
                                "buildUser": "sre-cockpit", "goVersion": "go1.19.8",
                                "revision": "simulated", "version": "0.25.0"}}

