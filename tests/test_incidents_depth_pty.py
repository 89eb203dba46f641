"""The real ``sre-cockpit`` in a pseudo-terminal, keys typed, the screen read (pyte): describe
at 80×24, the sort indicator, groups with silenced counts and "mine" against a REAL
Alertmanager and the simulator's PagerDuty; then every PagerDuty action, a 429 and a
read-only context against the simulator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from am_helpers import create_silence, post_alerts, start_alertmanager, wait_states
from notes_helpers import Cockpit
from sim_helpers import (
    PD_TOKEN,
    SimHandle,
    clear_faults,
    http,
    launch_simulator,
    pd_headers,
    set_fault,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALERTS = [
    {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
     "annotations": {"summary": "db-1 disk 97% full",
                     "runbook_url": "https://runbooks.example.com/disk-full",
                     "description": "postgres volume almost full"}},
    {"labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db-2"}},
    {"labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db-3"}},
    {"labels": {"alertname": "HighLatency", "severity": "warning", "service": "search"}},
]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=17, log_rate=1, pd_extra_incidents=12)
    try:
        yield handle
    finally:
        handle.stop()


def write_config(path: Path, providers: dict[str, object], *, user: str) -> Path:
    path.write_text(yaml.safe_dump({"default_context": "t", "user": user,
                                    "refresh": {"incidents": "2s"},
                                    "contexts": {"t": {"providers": providers}}}))
    path.chmod(0o600)
    return path


def pd_provider(sim: SimHandle) -> dict[str, object]:
    return {"type": "pagerduty", "url": sim.pd_url, "token": PD_TOKEN,
            "from_email": "dana.whitfield@example.com"}


def flat(text: str) -> str:
    """The screen as one line: toasts wrap, and what they say is read across the wrap."""
    return re.sub(r"[\s│▊▎▌▐╭╮╰╯─]+", " ", text)


def incidents_pane(text: str) -> str:
    """The incidents pane's box on the screen (the other panes also show alert titles)."""
    lines = text.splitlines()
    top = next(n for n, line in enumerate(lines) if "╭─ Incidents" in line)
    right = lines[top].index("╮", lines[top].index("Incidents")) + 1
    box = []
    for line in lines[top:]:
        box.append(line[:right])
        if line.startswith("╰") or line[:1] == "╰":
            break
    return "\n".join(box)


def open_incidents(sim: SimHandle) -> list[dict[str, object]]:
    status, _, raw = http("GET", sim.pd_url + "/incidents?statuses[]=triggered&"
                          "statuses[]=acknowledged&limit=100", headers=pd_headers())
    assert status == 200, raw
    return list(json.loads(raw)["incidents"])


def pick(sim: SimHandle, status: str, urgency: str, taken: set[str]) -> str:
    for item in open_incidents(sim):
        if item["status"] == status and item["urgency"] == urgency and item["id"] not in taken:
            taken.add(str(item["id"]))
            return str(item["id"])
    raise AssertionError(f"no {status} {urgency} incident")


def filter_to(cockpit: Cockpit, text: str) -> None:
    """``/`` TEXT enter; the prompt offers the previous filter, cleared first (ctrl+u, in its
    own read: in the same read as ``/`` it loses the keys after it, on main as well)."""
    cockpit.write(b"/")
    cockpit.wait_for("/ Incidents (")
    cockpit.write(b"\x15")
    cockpit.pump(0.3)
    cockpit.write(text.encode() + b"\r")
    cockpit.wait_for(f"/{text} — 1 of")


def test_describe_sort_groups_and_mine_on_screen(tmp_path: Path, sim: SimHandle) -> None:
    url, stop = start_alertmanager(tmp_path / "am")
    try:
        post_alerts(url, ALERTS)
        create_silence(url, {"alertname": "DiskFull", "severity": "warning"})
        assert wait_states(url, {"HighLatency": "active"})
        config = write_config(tmp_path / "config.yaml", {
            "am": {"type": "alertmanager", "url": url}, "pd": pd_provider(sim)},
            user="Dana Whitfield")
        # describe at 80×24: every label and annotation, the runbook
        small = Cockpit(config, tmp_path / "data", cols=80, rows=24)
        try:
            small.wait_for(lambda t: "db-1 disk 97% full" in t and "● pd ok" in t, 30)
            filter_to(small, "db-1")
            small.write(b"d")
            text = small.wait_for("c/enter copy")
            assert "── labels ──" in text and "instance" in text
            assert "runbook" in text and "https://runbooks.example.com/disk-full" in text
            small.write(b"G")  # to the end of the fields (OptionList: end)
            small.write(b"\x1b[F")
            text = small.wait_for("description")
            assert "postgres volume almost full" in flat(text)
            small.write(b"\x1b")
            small.wait_for(lambda t: "c/enter copy" not in t)
        finally:
            small.stop()
        cockpit = Cockpit(config, tmp_path / "data", cols=160, rows=50)
        try:
            cockpit.wait_for(lambda t: "db-1 disk 97% full" in t and "● pd ok" in t, 30)
            assert "sort triage ▼" in cockpit.text()
            cockpit.write(b"t")
            text = cockpit.wait_for("sort severity ▼")
            assert re.search(r"sev▼", text)
            cockpit.write(b"T")
            cockpit.wait_for("sort severity ▲")
            cockpit.write(b"v")
            text = cockpit.wait_for("DiskFull  3 incidents (1 firing, 2 silenced)")
            assert "by alertname" in text
            cockpit.write(b"V")  # collapse every group: one row each, with its counts
            text = cockpit.wait_for("▸ HighLatency  1 incident")
            assert "▸ DiskFull  3 incidents (1 firing, 2 silenced) · worst critical" in text
            assert re.search(r"▸ \(no alertname\)  \d+ incidents", text)
            assert "db-1 disk 97% full" not in incidents_pane(text)
            cockpit.write(b"v")  # flat again
            cockpit.wait_for(lambda t: "by alertname" not in t)
            cockpit.write(b"m")
            cockpit.wait_for("mine first")
            cockpit.write(b"m")
            text = cockpit.wait_for("mine only (Dana Whitfield) — ")
            assert re.search(r"mine only \(Dana Whitfield\) — \d+ of \d+ incidents shown", text)
            assert "db-1 disk 97% full" not in incidents_pane(text)  # alerts have no assignee
            cockpit.write(b"\x1b")  # esc leaves "mine only"
            cockpit.wait_for(lambda t: "mine only" not in t
                             and "HighLatency" in incidents_pane(t))
        finally:
            cockpit.stop()
    finally:
        stop()


def test_every_pagerduty_action_on_screen(tmp_path: Path, sim: SimHandle) -> None:
    taken: set[str] = set()
    config = write_config(tmp_path / "config.yaml", {"pd": pd_provider(sim)},
                          user="Dana Whitfield")
    cockpit = Cockpit(config, tmp_path / "data", cols=160, rows=50)
    try:
        cockpit.wait_for("● pd ok", 30)
        # reassign
        filter_to(cockpit, pick(sim, "triggered", "low", taken))
        cockpit.write(b"A")
        cockpit.wait_for("found")
        cockpit.write(b"ravi")
        cockpit.wait_for("Ravi Menon <ravi.menon@example.com>")
        cockpit.wait_for("1 found")
        cockpit.write(b"\r")
        text = cockpit.wait_for("Send (y)")
        assert "user_reference" in text and "PUT" in text
        cockpit.write(b"y")
        cockpit.wait_for(lambda t: "reassigned 1 incident on pd to Ravi Menon" in flat(t))
        cockpit.write(b"\x1b")
        # escalate (high urgency only)
        filter_to(cockpit, pick(sim, "acknowledged", "high", taken))
        cockpit.write(b"E")
        cockpit.wait_for("level 2:")
        cockpit.write(b"\r")
        text = cockpit.wait_for("Send (y)")
        assert '"escalation_level": 2' in text
        cockpit.write(b"y")
        cockpit.wait_for(lambda t: "escalated 1 incident on pd to level 2" in flat(t))
        cockpit.write(b"\x1b")
        # snooze an acknowledged incident
        filter_to(cockpit, pick(sim, "acknowledged", "high", taken))
        cockpit.write(b"Z")
        cockpit.wait_for("For how long")
        cockpit.write(b"\r")
        text = cockpit.wait_for("Send (y)")
        assert "/snooze" in text and '"duration": 3600' in text
        cockpit.write(b"y")
        cockpit.wait_for(lambda t: "snoozed 1 incident on pd for 1h" in flat(t))
        cockpit.write(b"\x1b")
        # a status update
        filter_to(cockpit, pick(sim, "triggered", "low", taken))
        cockpit.write(b"U")
        cockpit.wait_for("What stakeholders should know")
        cockpit.write(b"Rollback complete")
        cockpit.write(b"\x13")  # ctrl+s
        text = cockpit.wait_for("Send (y)")
        assert "/status_updates" in text and "Rollback complete" in text
        cockpit.write(b"y")
        cockpit.wait_for(lambda t: "status update sent on 1 incident" in flat(t))
        # a 429 while sending: the toast and the source line say until when
        cockpit.write(b"U")
        cockpit.wait_for("What stakeholders should know")
        cockpit.write(b"Still watching")
        cockpit.write(b"\x13")
        cockpit.wait_for("Send (y)")
        set_fault(sim.url, "pagerduty", "error429", seconds=15)
        try:
            cockpit.write(b"y")
            text = cockpit.wait_for(lambda t: "rate limited by PagerDuty (429)" in flat(t))
            cockpit.wait_for("(rate limited until")
        finally:
            clear_faults(sim.url)
    finally:
        cockpit.stop()


def test_read_only_context_refuses_on_screen(tmp_path: Path, sim: SimHandle) -> None:
    config = write_config(tmp_path / "config.yaml", {"pd": pd_provider(sim)},
                          user="Dana Whitfield")
    cockpit = Cockpit(config, tmp_path / "data", cols=160, rows=50, args=["--read-only"])
    try:
        cockpit.wait_for("● pd ok", 30)
        cockpit.write(b"A")
        text = cockpit.wait_for(lambda t: "read-only" in flat(t))
        assert "people and escalation" not in text
        cockpit.write(b"Z")
        cockpit.wait_for(lambda t: flat(t).count("read-only") >= 2)
        assert "For how long" not in cockpit.text()
    finally:
        cockpit.stop()
