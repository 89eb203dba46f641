"""Postmortem draft: golden test on the simulator story, the CLI, and hostile text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from journal_helpers import T0, incident
from sim_helpers import SimHandle, launch_simulator

from sre_cockpit.config.model import load_config
from sre_cockpit.core.models import Incident, IncidentStatus, Severity, TimelineEvent
from sre_cockpit.feeds.cockpit import Cockpit
from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.providers.base import IncidentSource
from sre_cockpit.reports.postmortem import SloImpact, build_postmortem, render_postmortem

GOLDEN = Path(__file__).with_name("postmortem_golden_sim.md")
SIM_START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
SEED = 3


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[1:]]


@pytest.fixture(scope="module")
def frozen_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    config = tmp_path_factory.mktemp("sim") / "config.yaml"
    handle = launch_simulator(seed=SEED, start_time=SIM_START.timestamp(), frozen=True,
                              write_config=config)
    try:
        yield handle
    finally:
        handle.stop()


async def checkout_incident(runtime: Runtime) -> Incident:
    pd = runtime.of(IncidentSource)["pd"]  # type: ignore[type-abstract]
    found = [i for i in await pd.list_incidents()
             if i.service == "checkout" and i.severity is Severity.CRITICAL]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.slow
async def test_golden_draft_on_the_simulator_story(frozen_sim: SimHandle, tmp_path: Path) -> None:
    assert frozen_sim.config is not None
    runtime = Runtime(load_config(str(frozen_sim.config)), None, clock=lambda: SIM_START)
    journal = Journal(tmp_path / "journal", clock=lambda: SIM_START - timedelta(minutes=3))
    try:
        target = await checkout_incident(runtime)
        journal.add_note("Rolling back checkout to 2.3.0 | see #inc-42", [target])
        journal.add_note("> checkout-7f9 upstream timeout after 800ms\n— log line at x",
                         [target], kind="pin")
        text = await build_postmortem(Cockpit(runtime.config, runtime=runtime, journal=journal),
                                     target.id)
    finally:
        await runtime.aclose()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    timeline = table_rows(text, "Timeline")
    assert len(timeline) >= 5
    times = [row[0] for row in timeline]
    assert times == sorted(times)
    assert "## Impact" in text and "checkout-availability" in text
    impact = table_rows(text, "Impact")
    assert impact[0][0] == "checkout-availability" and impact[0][3].endswith("%")
    assert text == GOLDEN.read_text()


@pytest.mark.slow
def test_cli_writes_the_draft_and_rejects_unknown_ids(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    handle = launch_simulator(seed=SEED, write_config=config)
    env = dict(os.environ, SRE_COCKPIT_DATA_DIR=str(tmp_path / "data"))
    try:
        bad = subprocess.run([sys.executable, "-m", "sre_cockpit", "postmortem", "NOPE",
                              "--config", str(config)], capture_output=True, text=True,
                             env=env, timeout=120, check=False)
        assert bad.returncode == 2 and bad.stdout == ""
        assert len(bad.stderr.strip().splitlines()) == 1
        assert bad.stderr.startswith("sre-cockpit: unknown incident 'NOPE'; known: ")
        known = bad.stderr.strip().split("known: ", 1)[1].split(", ")
        pd_ids = [k for k in known if k.startswith("pd:")]
        assert pd_ids
        runtime = Runtime(load_config(str(config)), None)
        try:
            import asyncio

            target = asyncio.run(checkout_incident(runtime))
        finally:
            asyncio.run(runtime.aclose())
        out = tmp_path / "pm.md"
        done = subprocess.run([sys.executable, "-m", "sre_cockpit", "postmortem", target.id,
                               "-o", str(out), "--config", str(config)], capture_output=True,
                              text=True, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip() == f"postmortem draft written to {out}"
        text = out.read_text()
        timeline = table_rows(text, "Timeline")
        assert len(timeline) >= 5
        assert [r[0] for r in timeline] == sorted(r[0] for r in timeline)
        assert "## Impact" in text and "| checkout-availability | 99.9% |" in text
        assert "sim-pagerduty-token" not in text  # no secrets
        unwritable = subprocess.run([sys.executable, "-m", "sre_cockpit", "postmortem",
                                     target.key, "-o", str(tmp_path / "missing" / "x.md"),
                                     "--config", str(config)], capture_output=True, text=True,
                                    env=env, timeout=120, check=False)
        assert unwritable.returncode == 2
        assert unwritable.stderr.startswith("sre-cockpit: cannot write ")
        assert "Traceback" not in unwritable.stderr
    finally:
        handle.stop()


def test_render_escapes_hostile_text_and_hides_secrets() -> None:
    hostile = Incident(
        id="P|1", provider="pd", title="[@click=app.quit] | *boom* \x1b]52;c;QUJD\x07",
        status=IncidentStatus.RESOLVED, severity=Severity.CRITICAL, service="check|out",
        started_at=T0, url="https://user:hunter2@pd.example/incidents/P1?token=abc")
    events = [
        TimelineEvent(T0, "trigger", "pd", "Triggered | by `api`", "P|1", "L1"),
        TimelineEvent(T0 + timedelta(minutes=3), "acknowledge", "pd", "Ack", "P|1", "L2"),
        TimelineEvent(T0 + timedelta(minutes=5), "note", "operator", "line1\n| col |\n<b>x</b>",
                      "P|1", "n1", state="delivered"),
        TimelineEvent(T0 + timedelta(minutes=40), "resolve", "pd", "Resolved", "P|1", "L3"),
    ]
    impact = SloImpact("avail|ability", 0.999, 0.02, 0.9, 0.7, {"5m": 20.0, "1h": None})
    text = render_postmortem(hostile, events, [impact], all_slos=False,
                             generated_at=T0 + timedelta(hours=1))
    assert "\x1b" not in text and "\x07" not in text
    assert "hunter2" not in text and "token=abc" not in text
    assert "\\[@click=app.quit\\] \\| \\*boom\\*" in text
    summary = dict((r[0], r[1]) for r in table_rows(text, "Summary"))
    assert summary["Time to acknowledge"] == "3m"
    assert summary["Duration"] == "40m"
    assert summary["Resolved"] == "2026-03-01 14:40:00 UTC (T+40m)"
    for row in table_rows(text, "Timeline") + table_rows(text, "Impact"):
        assert len(row) in (5, 8)  # escaped pipes never add a column
    (impact_row,) = table_rows(text, "Impact")
    assert impact_row[3] == "20.0%" and impact_row[6] == "20.0×" and impact_row[7] == "—"
    assert "  > line1\n  > \\| col \\|\n  > \\<b\\>x\\</b\\>" in text


def test_unmapped_service_uses_every_slo_and_ongoing_incident() -> None:
    ongoing = incident("P9", service=None)
    text = render_postmortem(ongoing, [], [], all_slos=True, generated_at=T0 + timedelta(hours=2))
    assert "No SLO is configured" in text
    assert "| Resolved | not resolved yet |" in text
    assert "| Duration | 2h (ongoing) |" in text
    assert "No events were found" in text


class Lister:
    name = "pd"

    async def list_incidents(self) -> list[Incident]:
        return [incident("P1")]

    async def get_incident(self, ident: str) -> Incident:
        if ident != "OLD":
            raise LookupError(ident)
        return Incident(id="OLD", provider="pd", title="old outage",
                        status=IncidentStatus.RESOLVED, severity=Severity.HIGH, service=None,
                        started_at=T0, updated_at=T0 + timedelta(minutes=90))


class Broken:
    name = "am"

    async def list_incidents(self) -> list[Incident]:
        from sre_cockpit.providers.base import ProviderError

        raise ProviderError("am: connection refused")


async def test_resolved_incident_is_fetched_by_id_and_failures_are_named(tmp_path: Path) -> None:
    from sre_cockpit.config.model import Config, ContextConfig
    from sre_cockpit.reports.postmortem import UnknownIncident, find_incident

    runtime = Runtime(Config(contexts={"t": ContextConfig()}), "t",
                      clock=lambda: T0 + timedelta(hours=3))
    runtime.providers.update({"pd": Lister(), "am": Broken()})  # type: ignore[dict-item]
    cockpit = Cockpit(runtime.config, runtime=runtime, journal=Journal(tmp_path))
    assert (await find_incident(cockpit, "pd:OLD"))[0].title == "old outage"
    with pytest.raises(UnknownIncident) as info:
        await find_incident(cockpit, "NOPE")
    assert str(info.value) == ("unknown incident 'NOPE'; known: pd:P1 "
                               "(could not list: am: connection refused)")
    text = await build_postmortem(cockpit, "OLD")
    assert "| Resolved | 2026-03-01 15:30:00 UTC (T+1h30m) |" in text
    assert "| Duration | 1h30m |" in text
