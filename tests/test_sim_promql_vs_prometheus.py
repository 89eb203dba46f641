"""The simulator's PromQL numbers equal a real Prometheus fed the same samples.

The simulator's story is exported as OpenMetrics (every 15 s over the whole history), backfilled
with ``promtool tsdb create-blocks-from openmetrics`` and served by a real ``prometheus``; the
demo config's queries are then asked of both at several instants and windows. Tolerance 1e-9
relative: both sides do the same float operations, only summation order may differ.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from sim_helpers import SimHandle, http, launch_simulator

from sre_cockpit.simulator.sim_config import config_dict
from sre_cockpit.simulator.story import Story, export_openmetrics

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("prometheus") and shutil.which("promtool")),
                       reason="needs the prometheus and promtool binaries"),
]

START = 1_780_000_123.0  # a fixed past instant (not on the 15 s grid)
SEED = 11
HISTORY_H = 8.0
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
REL_TOL = 1e-9


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("prom")
    story = Story(SEED, START, 1.0, HISTORY_H * 3600)
    om = work / "story.om"
    with om.open("w") as fh:
        for line in export_openmetrics(story, story.origin_ms, int(START * 1000)):
            fh.write(line + "\n")
    data = work / "data"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)],
                   check=True, capture_output=True, timeout=120)
    (work / "empty.yml").write_text("global: {}\n")
    port = _free_port()
    log = (work / "prometheus.log").open("wb")
    proc = subprocess.Popen(["prometheus", f"--storage.tsdb.path={data}",
                             "--storage.tsdb.retention.time=100y",
                             f"--web.listen-address=127.0.0.1:{port}",
                             f"--config.file={work / 'empty.yml'}"], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if http("GET", f"{url}/-/ready", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("prometheus did not become ready")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=SEED, start_time=START, frozen=True, history_hours=HISTORY_H)
    yield handle
    handle.stop()


def _queries() -> list[str]:
    cfg = config_dict("http://x", pd_token="t")["contexts"]["sim"]
    out: list[str] = []
    for slo in cfg["slos"]:
        bad = slo.get("error_query") or slo.get("good_query")
        for w in WINDOWS:
            num = bad.replace("{{.window}}", w)
            den = slo["total_query"].replace("{{.window}}", w)
            out += [num, den, f"({num}) / ({den})", f"1 - ({num}) / ({den})"]
    for w in ("5m", "1h", "1d"):
        out.append(f'sum(increase(http_requests_total{{service="checkout",code=~"5.."}}[{w}]))')
        out.append(f"sum by (service) (rate(http_requests_total[{w}]))")
        out.append(f"sum without (code) (rate(http_requests_total[{w}]))")
        # the cockpit's SLO evaluation asks every window of one side in one query
        out.append(" or ".join(f'label_replace({bad.replace("{{.window}}", w)}, '
                               f'"sre_cockpit_window", "{w}", "", "")' for w in WINDOWS))
    out += [d["query"] for d in cfg["deploys"]]
    rates = "rate(http_requests_total[5m])"
    out += [f"sum by (service) ({rates}) or sum by (code) ({rates})",
            f"sum by (service) ({rates}) or on(service) sum by (service, code) ({rates})",
            f"sum by (service) ({rates}) and on(service) app_build_info",
            f'app_build_info and ignoring(version) sum by (service) ({rates})',
            'app_build_info unless on(service) sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))',
            'label_replace(app_build_info, "major", "$1", "version", "([0-9]+)[.].*")',
            'label_replace(app_build_info, "v", "${1}_$2x_$$", "version", "([0-9]+)[.]([0-9]+).*")',
            'label_replace(app_build_info, "service", "", "service", "check.*")',
            'label_replace(app_build_info, "service", "other", "nolabel", "x")']
    out += ["app_build_info", "changes(app_build_info[2h]) > 0", "vector(1)",
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
            'sum(rate(http_requests_total{service="search"}[5m])) * 60',
            'irate(http_requests_total{service="payments"}[1m])']
    return out


def _times(story: Story) -> list[float]:
    return [START, START - 7 * 60 - 1.234, story.t_deploy_bad + 30, story.t_err_start + 0.001,
            story.t_pay_alert, START - 3 * 3600, story.origin_ms / 1000 + 20 * 60,
            story.origin_ms / 1000 + 1]


def _get(url: str, path: str, **params: Any) -> dict[str, Any]:
    status, _h, raw = http("GET", f"{url}{path}?" + urllib.parse.urlencode(params))
    body: dict[str, Any] = json.loads(raw)
    assert status == 200, body
    return body["data"]


def _as_map(data: dict[str, Any]) -> dict[tuple[tuple[str, str], ...], Any]:
    if data["resultType"] == "scalar":
        return {(): data["result"][1]}
    if data["resultType"] == "vector":
        return {tuple(sorted(r["metric"].items())): r["value"] for r in data["result"]}
    return {tuple(sorted(r["metric"].items())): r["values"] for r in data["result"]}


def _close(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or abs(x - y) <= REL_TOL * max(abs(x), abs(y))


def test_instant_queries_match_real_prometheus(prometheus: str, sim: SimHandle) -> None:
    story = Story(SEED, START, 1.0, HISTORY_H * 3600)
    compared = 0
    problems: list[str] = []
    for query in _queries():
        for t in _times(story):
            real = _as_map(_get(prometheus, "/api/v1/query", query=query, time=f"{t:.3f}"))
            mine = _as_map(_get(sim.url, "/api/v1/query", query=query, time=f"{t:.3f}"))
            if real.keys() != mine.keys():
                problems.append(f"{query} @ {t}: series {sorted(real)} != {sorted(mine)}")
                continue
            for key, (ts, value) in real.items():
                compared += 1
                if ts != mine[key][0] or not _close(value, mine[key][1]):
                    problems.append(f"{query} @ {t} {key}: prometheus {value} simulator {mine[key][1]}")
    assert not problems, "\n".join(problems[:20])
    assert compared > 500


def test_range_queries_match_real_prometheus(prometheus: str, sim: SimHandle) -> None:
    story = Story(SEED, START, 1.0, HISTORY_H * 3600)
    cases = [
        ('sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / '
         'sum(rate(http_requests_total{service="checkout"}[5m]))', START - 7200, START, 60),
        ("changes(app_build_info[1m]) > 0", story.t_deploy_bad - 600, START, 15),
        ('sum by (code) (increase(http_requests_total{service="checkout"}[1h]))', START - 6 * 3600, START, 300),
        ("vector(2) * 3", START - 600, START, 30),
    ]
    for query, start, end, step in cases:
        real = _as_map(_get(prometheus, "/api/v1/query_range", query=query, start=f"{start:.3f}",
                            end=f"{end:.3f}", step=step))
        mine = _as_map(_get(sim.url, "/api/v1/query_range", query=query, start=f"{start:.3f}",
                            end=f"{end:.3f}", step=step))
        assert real.keys() == mine.keys(), query
        assert real, query
        for key, points in real.items():
            assert [p[0] for p in points] == [p[0] for p in mine[key]], query
            assert all(_close(a[1], b[1]) for a, b in zip(points, mine[key], strict=True)), query


# Malformed queries beyond the unit table in test_sim_promql_syntax.py, and what Prometheus
# accepts but the simulator does not evaluate.
MORE_QUERIES = [
    "rate(up[5m])[5m]", "-(up[5m])", "sum(up))", "1 + (", "sum(rate(up[5m]", "(1",
    "rate(up[5m]", 'up{a="b"} + (', "sum(up, 1)", "vector(up)", "histogram_quantile(up, up)",
    "rate(up[5m], 1)", "sum by (a) (up[5m])", "up{", "up{a=", "rate(", "sum by (", "sum by (a",
    "sum by (a)", "up +", ",", "up up", "sum by (a) (up) by", "sum(up) by (a) by (b)",
    'up{a="\\x41\\101\\u0041\\U00000041"}', "up{a='\"'}", 'up{a="\\\'"}', "sum by (a) (",
    "up[5m] + up", "1 + bool 2", '-("a")', '+"a"', "sum(1)", "rate(1)", 'abs("a")', "(up)",
    "sum(up)[5m]", "1[5m]", '"a"[5m]', "1 + 2 )", "sum(up,)", "rate(,)", 'up{a="b"}}', '{a="b"',
    'up{a="b",,}', "sum(up) by", "foo(up)", '{job=~""}', "up{a=b}", "time(1)", "foo()",
    "sum(1 2", "rate(1 2", "sum(up up", "abs(up,1 2", "sum(up ]", "up # comment",
    "(up)[5m:1m]", "up[5m:1m]", "up offset 5m", "topk(2, up)", "up and up",
    "up + on(a) group_left up",
    "1 or up", "up unless 1", "up or bool up", "1 and 2", "up or up[5m]",
    'label_replace(app_build_info, "1x", "a", "service", ".*")',
    'label_replace(app_build_info, "x", "a", "service", "(.*")',
    'label_replace(app_build_info, "x", "a", "service")',
    'label_replace(app_build_info[5m], "x", "a", "service", ".*")',
    'label_replace(app_build_info, x, "a", "service", ".*")',
    'label_replace(app_build_info, "service", "x", "version", ".*")',
]


def test_malformed_queries_answer_like_real_prometheus(prometheus: str, sim: SimHandle) -> None:
    from test_sim_promql_syntax import PROMETHEUS_ERRORS

    differences: list[str] = []
    for query in [*PROMETHEUS_ERRORS, *MORE_QUERIES]:
        url = "/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": f"{START:.3f}"})
        real_status, _h, real_raw = http("GET", prometheus + url)
        mine_status, _h, mine_raw = http("GET", sim.url + url)
        real, mine = json.loads(real_raw), json.loads(mine_raw)
        if real_status == 200 and mine_status != 200:
            # valid PromQL outside the simulator's subset: refused, and saying why
            if mine_status != 400 or "not supported by the sre-cockpit simulator" not in mine["error"]:
                differences.append(f"{query!r}: simulator {mine_status} {mine}")
        elif real_status != 200 and (real_status, real) != (mine_status, mine):
            differences.append(f"{query!r}:\n  prometheus {real_status} {real}\n"
                               f"  simulator  {mine_status} {mine}")
    assert not differences, "\n".join(differences)
