"""The real ``sre-cockpit`` in a pty against the simulator (whose Loki answers the volume metric
query): ``v`` in the log pane shows the volume strip above the lines — bars coloured by level,
the start time, the totals and ``now`` — at 120 columns and at 80x24 in ``ansi-16``; focusing an
incident marks its start with ``▲``; ``v`` hides it again."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from pty_screen import PtyScreen
from sim_helpers import launch_simulator
from test_logs_health_pty import pane_text

pytestmark = [pytest.mark.slow]

BARS = re.compile(r"[▁▂▃▄▅▆▇█]{10,}")
AXIS = re.compile(r"\d\d:\d\d UTC · [\d,]+ lines · [\d,]+ errors · [\d,]+ warn .*now|"
                  r"\d\d:\d\d .*now")


def strip_rows(term: PtyScreen) -> tuple[str, str]:
    """The volume strip's bars of every line and its axis in the log pane ("" when not
    shown); the row of errors between them is checked to be bars too."""
    rows = pane_text(term, "Logs").splitlines()
    for i, row in enumerate(rows[:-2]):
        if BARS.search(row) and AXIS.search(rows[i + 2]):
            assert set(rows[i + 1].strip()) <= set(" ▁▂▃▄▅▆▇█"), rows[i + 1]
            return row, rows[i + 2]
    return "", ""


@pytest.mark.parametrize(("cols", "rows", "theme"), [(120, 40, None), (80, 24, "ansi-16")])
def test_volume_strip_against_the_simulator(tmp_path: Path, cols: int, rows: int,
                                            theme: str | None) -> None:
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=3, log_rate=20, write_config=config)
    if theme:
        data = yaml.safe_load(config.read_text())
        data.setdefault("ui", {})["theme"] = theme
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        config.chmod(0o600)
    term = PtyScreen([sys.executable, "-m", "sre_cockpit", "--config", str(config)],
                     cols=cols, rows=rows)
    try:
        term.wait_for(lambda t: "● loki ok" in t.lines[0], 40, "Loki answering")
        term.type(b"2")
        term.pump(0.5)
        term.type(b"v")
        term.wait_for(lambda t: bool(strip_rows(t)[0]), 30, "the volume strip")
        bars, axis = strip_rows(term)
        assert len(bars) == len(axis) and " " not in bars.strip(), (bars, axis)  # a column a cell
        assert "▲" not in axis
        if cols == 120:
            found = re.search(r"([\d,]+) lines · ([\d,]+) errors", axis)
            assert found and int(found.group(1).replace(",", "")) > 1000, axis
            assert int(found.group(2).replace(",", "")) > 0, axis  # the story's errors
        term.type(b"1")  # the incidents pane: focus the first incident
        term.pump(0.5)
        term.type(b"\r")
        term.pump(0.5)
        term.type(b"2")
        term.wait_for(lambda t: "▲" in strip_rows(t)[1], 30, "the incident's start marked")
        term.type(b"v")
        term.wait_for(lambda t: not strip_rows(t)[0], 10, "the strip hidden")
    finally:
        term.close()
        sim.stop()
