"""Providers no pane asks are probed, so their badge says whether they answer instead of
"waiting" for ever (the sample's old ``staging`` context: one prometheus, no SLOs)."""

from __future__ import annotations

from typing import Any

import pytest

from sre_cockpit.config.model import Config
from sre_cockpit.core.models import HealthState
from sre_cockpit.feeds.cockpit import Cockpit
from sre_cockpit.feeds.probes import ProbeFeed, unasked
from sre_cockpit.feeds.runtime import Runtime

DOWN = "http://127.0.0.1:9"  # nothing listens on the discard port


def runtime(**context: Any) -> Runtime:
    return Runtime(Config.model_validate({"contexts": {"c": context}}), "c")


SLO = {"name": "avail", "provider": "prom", "objective": 99.9, "window": "30d",
       "error_query": "sum(rate(errors[{{.window}}]))", "total_query": "sum(rate(all[{{.window}}]))"}


@pytest.mark.parametrize(("context", "probed"), [
    ({"providers": {"prom": {"type": "prometheus", "url": DOWN}}}, ["prom"]),
    ({"providers": {"prom": {"type": "prometheus", "url": DOWN}}, "slos": [SLO]}, []),
    ({"providers": {"prom": {"type": "prometheus", "url": DOWN}},
      "deploys": [{"provider": "prom", "query": "count by (version) (app_build_info)"}]}, []),
    ({"providers": {"prom": {"type": "prometheus", "url": DOWN},
                    "other": {"type": "prometheus", "url": DOWN},
                    "am": {"type": "alertmanager", "url": DOWN},
                    "loki": {"type": "loki", "url": DOWN}}, "slos": [SLO]}, ["other"]),
])
def test_only_providers_no_pane_asks_are_probed(context: dict[str, Any],
                                                probed: list[str]) -> None:
    assert unasked(runtime(**context)) == probed


async def test_an_unreachable_unasked_provider_turns_to_error_with_the_reason() -> None:
    rt = runtime(providers={"prom": {"type": "prometheus", "url": DOWN, "timeout": "2s"}})
    feed = ProbeFeed(rt)
    try:
        (pending,) = feed.snapshot.sources
        assert pending.state is HealthState.PENDING and pending.label == "prom probe"
        seen: list[HealthState] = []
        feed.subscribe(lambda snap: seen.extend(h.state for h in snap.sources))
        (health,) = (await feed.refresh()).sources
        assert health.state is HealthState.ERROR and seen == [HealthState.ERROR]
        assert health.error is not None and health.error.startswith("prom: ")
        assert "127.0.0.1:9" in health.error
    finally:
        await rt.aclose()


def test_the_cockpit_runs_and_reports_the_probes() -> None:
    cfg = Config.model_validate({"contexts": {"staging": {
        "read_only": True, "providers": {"prom": {"type": "prometheus", "url": DOWN}}}}})
    cockpit = Cockpit(cfg, "staging")
    assert [job.name for job in cockpit.jobs() if job.name.startswith("probes:")] == \
        ["probes:prom"]
    assert [(h.provider, h.state) for h in cockpit.sources()] == [("prom", HealthState.PENDING)]
