"""The real ``sre-cockpit`` in a pty against the simulator: the log pane's border shows the LogQL
query being tailed (shortened to fit the pane) and the time range under the lines; a query typed
at ``l`` replaces it there; at 80 columns it is shortened with ``…``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pty_screen import PtyScreen
from sim_helpers import launch_simulator

pytestmark = [pytest.mark.slow]


def logs_border(term: PtyScreen) -> tuple[str, str]:
    """The log pane's top and bottom border rows."""
    lines = term.lines
    for top, line in enumerate(lines):
        found = line.find("╭─ Logs")
        if found < 0:
            continue
        for row in lines[top + 1:]:
            if row[found] == "╰":
                return line[found:], row[found:]
    return "", ""


@pytest.mark.parametrize("cols", [120, 80])
def test_the_query_and_range_are_in_the_border(tmp_path: Path, cols: int) -> None:
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=3, log_rate=20, write_config=config)
    term = PtyScreen([sys.executable, "-m", "sre_cockpit", "--config", str(config)],
                     cols=cols, rows=40 if cols == 120 else 24)
    try:
        term.wait_for(lambda t: "● loki ok" in t.lines[0], 40, "Loki answering")
        term.type(b"2")  # at 80x24 the log pane is shown alone
        term.wait_for(lambda t: "live, from 5m back" in logs_border(t)[1], 20, "the range")
        top, _ = logs_border(term)
        assert '╭─ Logs · {namespace="shop"} ─' in top, top
        query = ('{app="checkout"} |= "payment authorization failed" != "healthz" '
                 '!= "readyz" != "livez"')  # longer than the border at 80 and 120 columns
        term.type(b"l")
        term.pump(0.5)
        term.type(query.encode())  # the old query is selected: typing replaces it
        term.pump(0.5)
        term.type(b"\r")
        if cols == 120:
            term.wait_for(lambda t: query[:40] in logs_border(t)[0], 30, "the new query")
        else:
            term.wait_for(lambda t: '{app="checkout"} |= "pay' in logs_border(t)[0]
                          and "…" in logs_border(t)[0], 30, "the new query, shortened")
        top, bottom = logs_border(term)
        assert top.rstrip().endswith("╮") and "live, from 5m back" in bottom, (top, bottom)
    finally:
        term.close()
        sim.stop()
