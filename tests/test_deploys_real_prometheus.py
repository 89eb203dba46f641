"""The deploy queries the README and sample_config.yaml give, against a REAL Prometheus holding
build-info series the way exporters write them (always 1, one series per pod and version),
through the provider's ``deploy_events``: a rollout and a rollback are deploys, a pod restart is
not, and the old README form (``changes(app_build_info[1m]) > 0``) finds nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prom_helpers import PrometheusServer, have_prometheus, openmetrics, start_server

from sre_cockpit.config.model import DeployConfig
from sre_cockpit.providers.prometheus import PrometheusOptions, PrometheusProvider

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not have_prometheus(), reason="prometheus/promtool not installed")]

REPO = Path(__file__).resolve().parents[1]
END = 1795521600  # 2026-11-24T12:00:00Z
AT = datetime.fromtimestamp(END, UTC)
ROLLOUT = END - 2 * 3600  # checkout 2.3.0 -> 2.3.1
RESTART = END - 3600  # a 2.3.1 pod restarts: not a deploy
ROLLBACK = END - 30 * 60  # checkout 2.3.1 -> 2.3.0


def build_info(service: str, version: str, pod: str, start: int, end: int) -> list[str]:
    labels = f'namespace="shop",pod="{pod}",service="{service}",version="{version}"'
    return [f"app_build_info{{{labels}}} 1 {t}" for t in range(start, end + 1, 15)]


def history() -> str:
    lines = [
        *build_info("checkout", "2.3.0", "checkout-a", END - 6 * 3600, ROLLOUT + 60),
        *build_info("checkout", "2.3.0", "checkout-b", END - 6 * 3600, ROLLOUT + 120),
        *build_info("checkout", "2.3.1", "checkout-c", ROLLOUT, ROLLBACK + 90),
        *build_info("checkout", "2.3.1", "checkout-d", ROLLOUT + 60, RESTART),
        *build_info("checkout", "2.3.1", "checkout-e", RESTART + 30, ROLLBACK + 90),
        *build_info("checkout", "2.3.0", "checkout-f", ROLLBACK, END),
        *build_info("payments", "1.8.4", "payments-a", END - 6 * 3600, END),
    ]
    return openmetrics([("app_build_info", "gauge", "version of the running build", lines)])


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = start_server(history(), tmp_path_factory.mktemp("deploys"))
    try:
        yield server
    finally:
        server.stop()


def readme_deploy() -> DeployConfig:
    text = (REPO / "README.md").read_text()
    block = re.search(r"```yaml\n(default_context: prod\n.*?)```", text, re.S)
    assert block is not None, "the README's configuration example"
    data: Any = yaml.safe_load(block.group(1))
    return DeployConfig.model_validate(data["contexts"]["prod"]["deploys"][0])


def sample_deploy() -> DeployConfig:
    data: Any = yaml.safe_load((REPO / "sample_config.yaml").read_text())
    return DeployConfig.model_validate(data["contexts"]["prod"]["deploys"][0])


async def deploys(url: str, deploy: DeployConfig) -> list[tuple[str, float]]:
    provider = PrometheusProvider("prom", PrometheusOptions(type="prometheus", url=url))
    try:
        events = await provider.deploy_events(deploy.query, deploy.version_label,
                                              AT - timedelta(hours=5), AT, deploy.service,
                                              service_label=deploy.service_label)
    finally:
        await provider.aclose()
    return [(e.text, e.at.timestamp()) for e in events]


def near(got: list[tuple[str, float]], want: list[tuple[str, int]]) -> bool:
    """Same deploys, each within a step (30 s) of when its first pod started."""
    return (len(got) == len(want) and all(text == w_text and 0 <= at - w_at <= 30
                                          for (text, at), (w_text, w_at) in zip(got, want,
                                                                                strict=True)))


async def test_readme_deploy_query_finds_rollout_and_rollback(prom: PrometheusServer) -> None:
    deploy = readme_deploy()
    assert "changes(" not in deploy.query
    got = await deploys(prom.url, deploy)
    assert near(got, [("deploy checkout 2.3.1", ROLLOUT), ("deploy checkout 2.3.0", ROLLBACK)]), got


async def test_sample_config_deploy_query_names_each_service(prom: PrometheusServer) -> None:
    got = await deploys(prom.url, sample_deploy())
    # payments ran one version all along: no deploy; checkout's pod restart is not one either
    assert near(got, [("deploy checkout 2.3.1", ROLLOUT), ("deploy checkout 2.3.0", ROLLBACK)]), got


async def test_changes_of_a_constant_build_info_finds_nothing(prom: PrometheusServer) -> None:
    """Why the README changed: on real data this form is empty (it only worked on the
    simulator, whose build info started at 0)."""
    old = DeployConfig(provider="prom", query='changes(app_build_info{service="checkout"}[1m]) > 0',
                       version_label="version", service="checkout")
    assert await deploys(prom.url, old) == []
    # while the series are there, one per pod and version
    pods = prom.query('count by (version) (app_build_info{service="checkout"})', ROLLOUT + 600)
    assert {p["metric"]["version"]: p["value"][1] for p in pods} == {"2.3.1": "2"}  # type: ignore[index]
