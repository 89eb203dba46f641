"""The real ``sre-cockpit`` in a pty against the simulator's Loki faults, read off the screen:

- Loki never reachable (``--fault loki:refuse``): the log pane says ``never connected: <reason>``
  (never "reconnecting"/"reconnected 16:11:23"), the reason is shown whole, and the header badge
  is not green;
- Loki answering 500 to the tail's upgrade and to every poll (``--fault loki:error500``): the
  badge is not green, the reason is on screen; once the fault clears the pane is live again;
- polling (``tail: poll``) that starts failing after lines were shown: stale with the reason,
  the badge too; green again once the polls answer.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pty_screen import PtyScreen
from sim_helpers import SimHandle, launch_simulator, set_fault

pytestmark = [pytest.mark.slow]


@contextlib.contextmanager
def cockpit_on_simulator(tmp_path: Path, *, faults: tuple[str, ...] = (),
                         loki: dict[str, Any] | None = None,
                         ) -> Iterator[tuple[SimHandle, PtyScreen]]:
    """The simulator (with ``faults``) and the cockpit on its written config (``loki``: more
    options of its Loki provider), at 120x40."""
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=3, log_rate=20, faults=faults, write_config=config)
    term: PtyScreen | None = None
    try:
        if loki:
            data = yaml.safe_load(config.read_text())
            for context in data["contexts"].values():
                context["providers"]["loki"].update(loki)
            config.write_text(yaml.safe_dump(data, sort_keys=False))
            config.chmod(0o600)
        term = PtyScreen([sys.executable, "-m", "sre_cockpit", "--config", str(config)],
                         cols=120, rows=40)
        yield sim, term
    finally:
        if term is not None:
            term.close()
        sim.stop()


def pane_text(term: PtyScreen, title: str) -> str:
    """The inside of the pane titled ``title`` (its border's rectangle), row by row."""
    lines = term.lines
    for top, line in enumerate(lines):
        found = line.find(f"╭─ {title} ")
        if found < 0:
            continue
        right = line.find("╮", found)
        rows = []
        for row in lines[top + 1:]:
            if row[found] == "╰":
                break
            rows.append(row[found + 1:right].rstrip())
        return "\n".join(rows)
    return ""


def header(term: PtyScreen) -> str:
    return term.lines[0]


def loki_badge(term: PtyScreen) -> str:
    """The header's badge for the Loki provider (symbol and state)."""
    match = re.search(r"([●▲✖○]) loki (\S+)", header(term))
    return match.group(0) if match else ""


def test_a_loki_that_never_answers_says_never_connected(tmp_path: Path) -> None:
    with cockpit_on_simulator(tmp_path, faults=("loki:refuse",)) as (_sim, term):
        term.wait_for(lambda t: "why:" in pane_text(t, "Logs"), 30, "the reason under the log pane")
        term.pump(1.0)
        logs = pane_text(term, "Logs")
        assert "✖ loki error: never connected: tail: " in logs, logs
        assert "✖ never connected — retrying (attempt " in logs, logs
        assert "reconnect" not in logs, logs
        why = logs[logs.index("why:"):]
        assert "/loki/api/v1/tail" in why.replace("\n", ""), why  # the whole reason, wrapped
        assert loki_badge(term).startswith("✖ loki"), header(term)
        assert "● alerts" in header(term)  # the other backends are unaffected


def test_loki_answering_500_is_never_green_and_the_pane_is_live_after_it(tmp_path: Path) -> None:
    with cockpit_on_simulator(tmp_path, faults=("loki:error500",)) as (sim, term):
        term.wait_for(lambda t: "HTTP 500" in pane_text(t, "Logs"), 40, "the 500 in the log pane")
        for _ in range(3):  # while the polls keep failing, it stays so
            term.pump(1.0)
            logs = pane_text(term, "Logs")
            assert "✖ loki error: never connected: query_range: HTTP 500" in logs, logs
            assert "simulated fault: internal server error" in logs.replace("\n", " "), logs
            assert loki_badge(term).startswith("✖ loki"), header(term)
        set_fault(sim.url, "loki", "none")
        took = term.wait_for(lambda t: "● loki live" in pane_text(t, "Logs")
                             and loki_badge(t) == "● loki ok", 45, "the log pane live again")
        logs = pane_text(term, "Logs")
        assert "why:" not in logs and "● live" in logs, logs
        print(f"live {took:.1f} s after the Loki fault cleared")


def test_polls_failing_after_lines_were_shown_are_stale_with_the_reason(tmp_path: Path) -> None:
    with cockpit_on_simulator(tmp_path, loki={"tail": "poll", "poll_interval": "1s"}) as (
            sim, term):
        term.wait_for(lambda t: "● loki polling" in pane_text(t, "Logs")
                      and loki_badge(t) == "● loki ok", 30, "polling")
        term.wait_for(lambda t: "level=" in pane_text(t, "Logs"), 30, "lines in the log pane")
        set_fault(sim.url, "loki", "error500")
        term.wait_for(lambda t: "▲ loki stale" in pane_text(t, "Logs"), 30, "stale")
        logs = pane_text(term, "Logs")
        assert "query_range: HTTP 500" in logs, logs
        assert "▲ polling — last poll failed" in logs, logs
        assert "level=" in logs  # the lines already shown stay
        assert loki_badge(term).startswith("▲ loki"), header(term)
        set_fault(sim.url, "loki", "none")
        term.wait_for(lambda t: "● loki polling" in pane_text(t, "Logs")
                      and loki_badge(t) == "● loki ok", 40, "polling again")
