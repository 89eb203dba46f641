"""Sloth spec import (``slos_from:``) and SLO resolution in the evaluator."""

from __future__ import annotations

from pathlib import Path

import pytest

from sre_cockpit.config.model import Config
from sre_cockpit.config.sloth import load_sloth_file
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slo_eval import SloEvaluator, SloSpec, resolve_slos

CLI_SPEC = """\
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      page_alert:
        labels:
          severity: pageteam
      ticket_alert:
        labels:
          severity: "slack"
  - name: "latency"
    objective: 99
    sli:
      raw:
        error_ratio_query: |
          1 - (sum(rate(latency_bucket{le="0.5"}[{{.window}}])) / sum(rate(latency_count[{{.window}}])))
    alerting:
      page_alert:
        disable: true
"""

CRD_SPEC = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: awesome
spec:
  service: "awesome"
  slos:
    - name: "availability"
      objective: 99.95
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{service="awesome",code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total{service="awesome"}[{{.window}}]))
      alerting:
        pageAlert:
          disable: true
        ticketAlert:
          disable: true
"""


def write(tmp_path: Path, text: str, name: str = "sloth.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_format(tmp_path: Path) -> None:
    slos = load_sloth_file(write(tmp_path, CLI_SPEC), provider="prom")
    assert [s.name for s in slos] == ["myservice-requests-availability", "myservice-latency"]
    first, latency = slos
    assert first.objective == 99.9 and first.window == 30 * 86400
    assert first.service == "myservice" and first.provider == "prom"
    assert first.error_query and "{{.window}}" in first.error_query
    assert first.alerting is None  # both alerts enabled: the scaled defaults
    assert first.description and first.description.startswith("Common SLO")
    assert latency.total_query == "vector(1)" and latency.error_query
    assert latency.alerting is not None
    assert [(r.long, r.short, r.burn_rate, r.severity) for r in latency.alerting] == [
        ("1d", "2h", 3.0, "warning"), ("3d", "6h", 1.0, "warning")]


def test_crd_format_multi_document_and_window(tmp_path: Path) -> None:
    text = CRD_SPEC + "---\n" + CLI_SPEC
    slos = load_sloth_file(write(tmp_path, text), window_s=28 * 86400)
    assert slos[0].name == "awesome-availability" and slos[0].objective == 99.95
    assert slos[0].alerting == []  # both disabled: no alerting state at all
    assert slos[0].window == 28 * 86400
    assert len(slos) == 3
    spec = SloSpec.from_config(slos[2])  # latency, page disabled, 28d thresholds
    assert [r.burn_rate for r in spec.rules] == [pytest.approx(2.8), pytest.approx(0.933333, rel=1e-4)]


@pytest.mark.parametrize("text,message", [
    ("version: prometheus/v2\nservice: a\nslos: []\n", "unsupported Sloth spec version 'prometheus/v2'"),
    ("version: prometheus/v1\nslos: [{name: a}]\n", "'service' is required"),
    ("version: prometheus/v1\nservice: s\nslos: []\n", "'slos' must be a non-empty list"),
    ("version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 99\n",
     "slos[0] (a): 'sli' with 'events' or 'raw' is required"),
    ("version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 99\n"
     "    sli: {plugin: {id: x}}\n", "Sloth SLI plugins are not supported"),
    ("version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 120\n"
     "    sli: {events: {error_query: a, total_query: b}}\n", "objective"),
    ("version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: '99'\n"
     "    sli: {events: {error_query: a, total_query: b}}\n", "'objective' must be a number"),
    ("version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 99\n"
     "    sli: {events: {error_query: a}}\n", "needs error_query and total_query"),
    ("version: prometheus/v1\nservice: s\nslos:\n  - {name: a, objective: 99, sli: {raw: {error_ratio_query: a}}}\n"
     "  - {name: a, objective: 99, sli: {raw: {error_ratio_query: a}}}\n", "duplicate SLO 's-a'"),
    ("version: prometheus/v1\nservice: [\n", "sloth.yml:"),
    ("- 1\n- 2\n", "not a Sloth spec"),
])
def test_bad_specs_give_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as err:
        load_sloth_file(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read Sloth spec"):
        load_sloth_file(tmp_path / "nope.yml")


def config(tmp_path: Path, slos_from: str | None, providers: dict[str, object] | None = None) -> Config:
    ctx: dict[str, object] = {
        "providers": providers if providers is not None else
        {"prom": {"type": "prometheus", "url": "http://127.0.0.1:9"}},
        "slos": [{"name": "inline", "provider": "prom", "objective": 99.9,
                  "error_query": "a", "total_query": "b"}],
    }
    if slos_from:
        ctx["slos_from"] = slos_from
    cfg = Config.model_validate({"contexts": {"c": ctx}})
    return cfg.model_copy(update={"source": str(tmp_path / "cockpit.yaml")})


def test_slos_from_is_relative_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path, CLI_SPEC)
    runtime = Runtime(config(tmp_path, "sloth.yml"))
    names = [s.name for s in resolve_slos(runtime)]
    assert names == ["inline", "myservice-requests-availability", "myservice-latency"]
    evaluator = SloEvaluator(runtime)
    assert evaluator.config_error is None
    # the SLOs name no provider: the only metrics provider of the context is used
    spec = evaluator.specs[1]
    provider, problem = evaluator.provider_for(spec)
    assert problem is None and provider is runtime.get("prom")


def test_broken_sloth_file_keeps_inline_slos(tmp_path: Path) -> None:
    write(tmp_path, "nonsense: true\n")
    evaluator = SloEvaluator(Runtime(config(tmp_path, "sloth.yml")))
    assert evaluator.config_error and "unsupported Sloth spec" in evaluator.config_error
    assert [s.name for s in evaluator.specs] == ["inline"]


def test_no_provider_for_imported_slos_when_ambiguous(tmp_path: Path) -> None:
    write(tmp_path, CLI_SPEC)
    providers = {"prom": {"type": "prometheus", "url": "http://127.0.0.1:9"},
                 "thanos": {"type": "prometheus", "url": "http://127.0.0.1:10"}}
    evaluator = SloEvaluator(Runtime(config(tmp_path, "sloth.yml", providers)))
    provider, problem = evaluator.provider_for(evaluator.specs[1])
    assert provider is None and problem and "2 metrics providers" in problem
