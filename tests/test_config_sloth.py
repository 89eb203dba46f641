"""``slos_from:`` in the config loader: a Sloth spec is imported at load time, its SLOs get a
provider, are merged into ``context.slos`` and every failure is one ``FILE:LINE:COL`` line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from config_helpers import error_of, write

from sre_cockpit.config.model import load_config
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slo_eval import SloEvaluator, resolve_slos

REPO = Path(__file__).resolve().parents[1]

SPEC = """\
version: "prometheus/v1"
service: "myservice"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Availability of HTTP requests."
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="myservice",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="myservice"}[{{.window}}]))
  - name: "latency"
    objective: 99.5
    sli:
      raw:
        error_ratio_query: 1 - sum(rate(lat_bucket{le="0.5"}[{{.window}}])) / sum(rate(lat_count[{{.window}}]))
    alerting:
      page_alert:
        disable: true
"""

ONE_PROM = """\
contexts:
  prod:
    providers:
      prom: {type: prometheus, url: "http://127.0.0.1:9"}
      logs: {type: loki, url: "http://127.0.0.1:9"}
    slos:
      - {name: inline, provider: prom, objective: 99, error_query: a, total_query: b}
    slos_from: SLOTH
    services:
      myservice:
        slos: [myservice-latency, inline]
"""

TWO_PROMS = """\
contexts:
  prod:
    providers:
      prom: {type: prometheus, url: "http://127.0.0.1:9"}
      thanos: {type: prometheus, url: "http://127.0.0.1:10"}
    slos_from: sloth.yml
"""


def _config(tmp_path: Path, slos_from: str = "sloth.yml", text: str = ONE_PROM) -> Path:
    return write(tmp_path, text.replace("SLOTH", slos_from))


def test_good_spec_loads_and_merges(tmp_path: Path) -> None:
    write(tmp_path, SPEC, "sloth.yml")
    config = load_config(_config(tmp_path))
    ctx = config.contexts["prod"]
    assert ctx.slos_imported
    assert [s.name for s in ctx.slos] == ["inline", "myservice-requests-availability",
                                          "myservice-latency"]
    avail, latency = ctx.slos[1:]
    assert avail.objective == 99.9 and latency.objective == 99.5
    assert avail.provider == "prom" and latency.provider == "prom"  # the only prometheus one
    assert avail.window == 30 * 86400 and avail.service == "myservice"
    assert avail.description == "Availability of HTTP requests."
    assert avail.error_query == \
        'sum(rate(http_requests_total{job="myservice",code=~"5.."}[{{.window}}]))'
    assert avail.total_query == 'sum(rate(http_requests_total{job="myservice"}[{{.window}}]))'
    assert latency.error_query is not None and latency.error_query.count("{{.window}}") == 2
    assert latency.total_query == "vector(1)"
    assert latency.alerting is not None
    assert {rule.severity for rule in latency.alerting} == {"warning"}  # page alerts disabled
    # the evaluator uses the merged list: nothing is added twice, the file is not read again
    (tmp_path / "sloth.yml").unlink()
    runtime = Runtime(config)
    assert [s.name for s in resolve_slos(runtime)] == [s.name for s in ctx.slos]
    evaluator = SloEvaluator(runtime)
    assert evaluator.config_error is None
    assert [s.provider for s in evaluator.specs] == ["prom", "prom", "prom"]


def test_path_with_tilde_and_explicit_provider(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "slos").mkdir(parents=True)
    write(home / "slos", SPEC, "spec.yml")
    monkeypatch.setenv("HOME", str(home))
    text = TWO_PROMS.replace("sloth.yml", "~/slos/spec.yml") + "    slos_from_provider: thanos\n"
    ctx = load_config(write(tmp_path, text)).contexts["prod"]
    assert [s.provider for s in ctx.slos] == ["thanos", "thanos"]


def test_relative_to_the_config_file_not_the_cwd(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "conf"
    (conf_dir / "slos").mkdir(parents=True)
    write(conf_dir / "slos", SPEC, "spec.yml")
    path = _config(conf_dir, "slos/spec.yml")
    monkeypatch.chdir(tmp_path)
    assert len(load_config(path).contexts["prod"].slos) == 3


def test_missing_file(tmp_path: Path) -> None:
    path = _config(tmp_path, "nope.yml")
    assert error_of(path) == (f"{path}:8:16: contexts.prod.slos_from: {tmp_path / 'nope.yml'}: "
                              "cannot read Sloth spec: No such file or directory")


def test_malformed_yaml(tmp_path: Path) -> None:
    spec = write(tmp_path, "version: prometheus/v1\nservice: [x\n", "sloth.yml")
    path = _config(tmp_path)
    assert error_of(path) == (f"{path}:8:16: contexts.prod.slos_from: {spec}:3:1: expected ',' "
                              "or ']', but got '<stream end>'")


def test_not_a_sloth_spec(tmp_path: Path) -> None:
    spec = write(tmp_path, "version: prometheus/v2\nservice: x\nslos: []\n", "sloth.yml")
    path = _config(tmp_path)
    assert error_of(path) == (f"{path}:8:16: contexts.prod.slos_from: {spec}: unsupported Sloth "
                              "spec version 'prometheus/v2' (expected version: prometheus/v1 or "
                              "kind: PrometheusServiceLevel)")


def test_slo_without_sli(tmp_path: Path) -> None:
    spec = write(tmp_path, "version: prometheus/v1\nservice: x\nslos:\n  - name: a\n"
                           "    objective: 99\n", "sloth.yml")
    path = _config(tmp_path)
    assert error_of(path) == (f"{path}:8:16: contexts.prod.slos_from: {spec}: slos[0] (a): 'sli' "
                              "with 'events' or 'raw' is required")


@pytest.mark.parametrize(("content", "tail"), [
    (b"\xff\xfe garbage", "not UTF-8 text"),
    (b"", "no SLOs in the Sloth spec"),
])
def test_binary_or_empty_spec(tmp_path: Path, content: bytes, tail: str) -> None:
    spec = tmp_path / "sloth.yml"
    spec.write_bytes(content)
    path = _config(tmp_path)
    assert error_of(path) == f"{path}:8:16: contexts.prod.slos_from: {spec}: {tail}"


def test_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    path = _config(tmp_path, "dir")
    assert error_of(path) == (f"{path}:8:16: contexts.prod.slos_from: {tmp_path / 'dir'}: "
                              "not a regular file")


def test_empty_path(tmp_path: Path) -> None:
    path = _config(tmp_path, "''")
    assert error_of(path) == (f"{path}:8:16: contexts.prod.slos_from: a path to a Sloth spec is "
                              "required, e.g. slos/checkout.sloth.yaml")


def test_ambiguous_provider(tmp_path: Path) -> None:
    write(tmp_path, SPEC, "sloth.yml")
    path = write(tmp_path, TWO_PROMS)
    assert error_of(path) == (f"{path}:6:16: contexts.prod.slos_from: the imported SLOs need a "
                              "provider and context 'prod' has 2 prometheus providers (prom, "
                              "thanos); set slos_from_provider: to one of them")


def test_no_prometheus_provider(tmp_path: Path) -> None:
    write(tmp_path, SPEC, "sloth.yml")
    path = write(tmp_path, "contexts:\n  prod:\n    providers:\n"
                           "      logs: {type: loki, url: 'http://h'}\n    slos_from: sloth.yml\n")
    assert error_of(path) == (f"{path}:5:16: contexts.prod.slos_from: the imported SLOs need a "
                              "prometheus provider and context 'prod' has none; add one under "
                              "contexts.prod.providers")


def test_unknown_or_unsuitable_slos_from_provider(tmp_path: Path) -> None:
    write(tmp_path, SPEC, "sloth.yml")
    path = write(tmp_path, TWO_PROMS + "    slos_from_provider: thanso\n")
    assert error_of(path) == (f"{path}:7:25: contexts.prod.slos_from_provider: unknown provider "
                              "'thanso' (did you mean 'thanos'?); providers in context 'prod': "
                              "prom, thanos")
    text = ONE_PROM.replace("SLOTH", "sloth.yml") + "    slos_from_provider: logs\n"
    path = write(tmp_path, text)
    assert error_of(path) == (f"{path}:12:25: contexts.prod.slos_from_provider: provider 'logs' "
                              "(type loki) cannot run PromQL queries; name a prometheus provider "
                              "(prom)")


def test_slos_from_provider_without_slos_from(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts:\n  prod:\n    providers:\n"
                           "      prom: {type: prometheus, url: 'http://h'}\n"
                           "    slos_from_provider: prom\n")
    assert error_of(path) == (f"{path}:5:25: contexts.prod.slos_from_provider: slos_from_provider "
                              "is only used with slos_from (the Sloth spec whose SLOs it queries)")


def test_duplicate_name_inline_and_imported(tmp_path: Path) -> None:
    write(tmp_path, SPEC, "sloth.yml")
    text = ONE_PROM.replace("name: inline", "name: myservice-latency").replace(
        "[myservice-latency, inline]", "[myservice-latency]")
    path = _config(tmp_path, text=text)
    assert error_of(path) == (f"{path}:8:16: contexts.prod.slos_from: duplicate SLO name "
                              "'myservice-latency': the Sloth spec defines it and so does slos[0]")


def test_service_reference_to_an_unknown_slo_suggests_imported_names(tmp_path: Path) -> None:
    write(tmp_path, SPEC, "sloth.yml")
    text = ONE_PROM.replace("[myservice-latency, inline]", "[myservice-latncy]")
    path = _config(tmp_path, text=text)
    assert error_of(path) == (f"{path}:11:16: contexts.prod.services.myservice.slos[0]: unknown "
                              "SLO 'myservice-latncy' (did you mean 'myservice-latency'?)")


def test_cli_reports_the_line_and_exits_2(tmp_path: Path) -> None:
    write(tmp_path, SPEC, "sloth.yml")
    path = write(tmp_path, TWO_PROMS)
    env = {k: v for k, v in os.environ.items() if k != "SRE_COCKPIT_DEBUG"}
    result = subprocess.run([sys.executable, "-m", "sre_cockpit", "check", "--config", str(path)],
                            capture_output=True, text=True, env=env, cwd=str(REPO), timeout=60,
                            check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (f"{path}:6:16: contexts.prod.slos_from: the imported SLOs need a "
                             "provider and context 'prod' has 2 prometheus providers (prom, "
                             "thanos); set slos_from_provider: to one of them\n")


async def test_snapshot_evaluates_slos_at_the_moment_asked() -> None:
    from datetime import UTC, datetime

    from sre_cockpit.config.model import Config
    from sre_cockpit.reports.snapshot import collect_snapshot

    live = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    moment = datetime(2026, 1, 1, 3, 4, 5, tzinfo=UTC)
    config = Config.model_validate({"contexts": {"c": {"slos": [
        {"name": "a", "provider": "gone", "objective": 99, "error_query": "x",
         "total_query": "y"}]}}})
    runtime = Runtime(config, clock=lambda: live)
    try:
        from sre_cockpit.feeds.cockpit import Cockpit

        cockpit = Cockpit(config, runtime=runtime)
        snap = await collect_snapshot(cockpit, at=moment)
        (status,) = snap.slos
        assert snap.generated_at == moment and status.evaluated_at == moment
        (status,) = (await collect_snapshot(cockpit)).slos
        assert status.evaluated_at == live
    finally:
        await runtime.aclose()
