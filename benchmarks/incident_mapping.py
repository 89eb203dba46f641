"""What the describe data (``Incident.details``/``raw``) costs per poll in an alert flood.

Maps N Alertmanager alerts (default 5,000, each with 9 labels and 4 annotations, like a
kube-prometheus alert) and M PagerDuty incidents (default 2,000, the recorded incident object)
to ``Incident`` values the way every poll does, and prints per poll: the mapping time (median of
``--runs``), the part of it spent building ``details`` and ``raw``, the memory the incidents
hold (tracemalloc), and the CPU share that mapping takes at a 30 s poll interval against the
issue's idle budget of 3 %::

    python benchmarks/incident_mapping.py [--alerts 5000] [--incidents 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sre_cockpit.providers.alertmanager import (  # noqa: E402
    AlertmanagerOptions,
    AlertmanagerProvider,
)
from sre_cockpit.providers.alertmanager_mapping import alert_details  # noqa: E402
from sre_cockpit.providers.base import ProviderEnv  # noqa: E402
from sre_cockpit.providers.incident_util import raw_json  # noqa: E402
from sre_cockpit.providers.pagerduty import PagerDutyOptions, PagerDutyProvider  # noqa: E402
from sre_cockpit.providers.pagerduty_details import incident_details  # noqa: E402

POLL_S = 30.0
IDLE_BUDGET = 0.03


def alerts(n: int) -> list[dict[str, Any]]:
    """``n`` distinct firing alerts shaped like Alertmanager's ``GET /api/v2/alerts``."""
    out = []
    for i in range(n):
        labels = {"alertname": f"KubePodCrashLooping{i % 40}", "cluster": f"prod-{i % 3}",
                  "container": f"app-{i % 97}", "job": "kube-state-metrics",
                  "namespace": f"team-{i % 25}", "pod": f"app-{i}-7f9c6d5b8-x2k4q",
                  "prometheus": "monitoring/k8s", "service": f"svc-{i % 60}",
                  "severity": ("critical", "warning", "info")[i % 3]}
        annotations = {
            "description": f"Pod team-{i % 25}/app-{i} ({labels['container']}) is in waiting "
                           "state (reason: CrashLoopBackOff) for more than 15 minutes.",
            "runbook_url": f"https://runbooks.example.com/kubernetes/kubepodcrashlooping-{i % 40}",
            "summary": "Pod is crash looping.",
            "dashboard": f"https://grafana.example.com/d/k8s-pod?var-pod=app-{i}"}
        out.append({"labels": labels, "annotations": annotations,
                    "startsAt": "2026-11-26T04:32:33.076Z", "endsAt": "2026-11-26T04:37:33.076Z",
                    "updatedAt": "2026-11-26T04:32:33.076Z", "fingerprint": f"{i:016x}",
                    "generatorURL": f"http://prometheus:9090/graph?g0.expr=up%7Bpod%3D%22app-{i}%22%7D",
                    "receivers": [{"name": "team-pager"}],
                    "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}})
    return out


def pd_items(n: int) -> list[dict[str, Any]]:
    """``n`` copies of the recorded PagerDuty incident with distinct ids."""
    path = ROOT / "tests" / "fixtures" / "pagerduty_get_incident.json"
    item = json.loads(path.read_text())["incident"]
    return [{**item, "id": f"P{i:06d}", "incident_number": i} for i in range(n)]


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def held_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    kept = fn()
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return current / 1e6


def report(name: str, count: int, total_ms: float, describe_ms: float, mb: float) -> str:
    share = total_ms / 1000 / POLL_S
    verdict = "PASS" if share <= IDLE_BUDGET else "FAIL"
    return (f"| {name} | {count:,} | {total_ms:.0f} ms | {describe_ms:.0f} ms "
            f"({describe_ms / total_ms:.0%}) | {mb:.1f} MB | {share:.2%} of a core "
            f"(target ≤ {IDLE_BUDGET:.0%}) | {verdict} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()

    am = AlertmanagerProvider("am", AlertmanagerOptions.model_validate(
        {"type": "alertmanager", "url": "http://am:9093"}), ProviderEnv())
    raw_alerts = alerts(opts.alerts)
    am_total = median_ms(lambda: [am.alert_to_incident(a) for a in raw_alerts], opts.runs)
    am_describe = median_ms(lambda: [(alert_details(a, a["fingerprint"], "active", a["labels"],
                                               a["annotations"], {}), raw_json(a))
                                     for a in raw_alerts], opts.runs)
    am_mb = held_mb(lambda: [am.alert_to_incident(a) for a in raw_alerts])

    pd = PagerDutyProvider("pd", PagerDutyOptions.model_validate(
        {"type": "pagerduty", "token": "t0ken"}), ProviderEnv())
    items = pd_items(opts.incidents)
    pd_total = median_ms(lambda: [pd.to_incident(i) for i in items], opts.runs)
    pd_describe = median_ms(lambda: [(incident_details(i), raw_json(i)) for i in items], opts.runs)
    pd_mb = held_mb(lambda: [pd.to_incident(i) for i in items])

    print(f"Incident mapping per poll (median of {opts.runs}; Python {sys.version.split()[0]})")
    print("| provider | items | mapping | of which details+raw | held in memory "
          f"| CPU at a {POLL_S:.0f} s poll | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(report("alertmanager", opts.alerts, am_total, am_describe, am_mb))
    print(report("pagerduty", opts.incidents, pd_total, pd_describe, pd_mb))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
