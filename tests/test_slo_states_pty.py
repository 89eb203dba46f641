"""SLO state at a glance (issue 12 item 6), through the real ``sre-cockpit`` on a pty.

- ``CRIT`` keeps its colour on the cursor row. The cursor starts on the worst SLO, and the
  table's cursor colours used to paint over the state badge exactly there.
- An SLO whose PromQL does not parse says ``ERROR`` with the engine's reason (on the highlighted
  row and in the detail), never ``NODATA``: against the simulator, and against a REAL Prometheus
  next to a valid query that finds no data (which is ``NODATA``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from notes_helpers import Cockpit
from prom_helpers import have_prometheus, start_server
from sim_helpers import launch_simulator

pytestmark = [pytest.mark.slow]

SLO_CRITICAL = "ff3b3b"
"""war-room's ``slo-critical``."""
SLO_OK = "3fcf6f"
"""war-room's ``slo-ok``."""
CURSOR_BG = "2b4a6f"
"""war-room's ``block-cursor-background`` (the focused table's cursor row)."""
UNBALANCED = 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}])'
"""One closing parenthesis short."""


@pytest.fixture
def sim_config(tmp_path: Path) -> Iterator[Path]:
    """The simulator's config with one more SLO whose error query does not parse."""
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=5, write_config=config)
    try:
        data = yaml.safe_load(config.read_text())
        slos = data["contexts"]["sim"]["slos"]
        slos.append(dict(slos[0], name="broken-syntax", error_query=UNBALANCED))
        config.write_text(yaml.safe_dump(data))
        config.chmod(0o600)
        yield config
    finally:
        sim.stop()


def cell_at(app: Cockpit, word: str) -> tuple[int, int, Any]:
    """The first screen cell of ``word`` on the right half (the SLO pane): row, column, cell."""
    for y, line in enumerate(app.screen.display):
        x = line.find(word, app.screen.columns // 2)
        if x >= 0:
            return y, x, app.screen.buffer[y][x]
    raise AssertionError(f"{word!r} is not on the screen:\n{app.text()}")


def slo_row(app: Cockpit, name: str) -> int:
    return cell_at(app, name)[0]


def go_to(app: Cockpit, name: str) -> None:
    """Focus the SLO pane and put the cursor on ``name``'s row (g, then j down to it)."""
    app.write(b"3g")
    app.pump(0.5)
    header = cell_at(app, "SLO  ")[0]
    app.write(b"j" * (slo_row(app, name) - header - 1))


def badge_colour(cell: Any) -> str:
    """The colour a badge shows: drawn reversed, its colour is the cell's foreground."""
    return str(cell.fg) if cell.reverse else str(cell.bg)


def test_crit_keeps_its_colour_on_the_cursor_row(sim_config: Path, tmp_path: Path) -> None:
    app = Cockpit(sim_config, tmp_path / "data", cols=120, rows=40,
                  extra_env={"COLORTERM": "truecolor"})
    try:
        app.wait_for(lambda t: "CRIT" in t and "ERROR" in t and " OK " in t, 40)
        app.write(b"3g")  # the SLO pane, cursor on the first row: the worst SLO
        crit_row = slo_row(app, "checkout-availability")

        def cursor_on(row: int) -> bool:
            app.pump(0.2)
            _y, x, _ = cell_at(app, "SLO  ")  # the header: the name column starts under it
            return str(app.screen.buffer[row][x].bg) == CURSOR_BG

        app.wait_for(lambda _t: cursor_on(crit_row), 10)
        y, _x, crit = cell_at(app, "CRIT")
        assert y == crit_row
        assert badge_colour(crit) == SLO_CRITICAL, (crit, app.text())
        for name in ("payments-latency", "search-availability"):  # rows off the cursor
            row = slo_row(app, name)
            ok = next(app.screen.buffer[row][x] for x in range(app.screen.columns // 2,
                                                                  app.screen.columns)
                      if app.screen.display[row][x:x + 2] == "OK")
            assert badge_colour(ok) == SLO_OK
        # the cursor leaves: CRIT stays red, the row it moved to keeps its own badge colour
        app.write(b"G")
        last = slo_row(app, "search-availability")
        app.wait_for(lambda _t: cursor_on(last), 10)
        assert badge_colour(cell_at(app, "CRIT")[2]) == SLO_CRITICAL
        ok_on_cursor = next(app.screen.buffer[last][x] for x in range(app.screen.columns // 2,
                                                                      app.screen.columns)
                            if app.screen.display[last][x:x + 2] == "OK")
        assert badge_colour(ok_on_cursor) == SLO_OK
    finally:
        app.stop()


def test_a_promql_syntax_error_is_an_error_with_its_reason(sim_config: Path,
                                                           tmp_path: Path) -> None:
    app = Cockpit(sim_config, tmp_path / "data", cols=120, rows=40)
    try:
        text = app.wait_for(lambda t: "broken-syntax" in t and "ERROR" in t, 40)
        row = text.splitlines()[slo_row(app, "broken-syntax")]
        assert "ERROR" in row and "NODATA" not in row
        # the highlighted SLO's reason is on the line under the table, verbatim
        go_to(app, "broken-syntax")
        app.wait_for("PromQL error: invalid parameter", 10)
        app.write(b"\r")  # the detail: the whole reason, and the query as sent
        text = app.wait_for(lambda t: "SLO broken-syntax" in t and "PromQL error" in t, 10)
        assert 'code=~"5.."}[5m])' in text
    finally:
        app.stop()


@pytest.mark.integration
@pytest.mark.skipif(not have_prometheus(), reason="prometheus/promtool not installed")
def test_a_real_prometheus_parse_error_is_an_error_and_no_data_is_nodata(tmp_path: Path) -> None:
    prom = start_server("# HELP up up\n# TYPE up gauge\nup 1 1795521600\n# EOF\n", tmp_path)
    config = tmp_path / "config.yaml"
    good = 'sum(rate(http_requests_total{service="search",code=~"5.."}[{{.window}}]))'
    config.write_text(yaml.safe_dump({
        "default_context": "prod-eu", "refresh": {"slos": "2s"},
        "contexts": {"prod-eu": {"providers": {
            "prom": {"type": "prometheus", "url": prom.url, "timeout": "5s"}},
            "slos": [
                {"name": "search-availability", "provider": "prom", "objective": 99.5,
                 "window": "7d", "error_query": good,
                 "total_query": 'sum(rate(http_requests_total{service="search"}[{{.window}}]))'},
                {"name": "checkout-availability", "provider": "prom", "objective": 99.9,
                 "window": "7d", "error_query": UNBALANCED,
                 "total_query": 'sum(rate(http_requests_total{service="checkout"}'
                                '[{{.window}}]))'}]}}}))
    config.chmod(0o600)
    app = Cockpit(config, tmp_path / "data", cols=120, rows=40)
    try:
        text = app.wait_for(lambda t: "checkout-availa" in t and "ERROR" in t
                            and "NODATA" in t, 40)
        lines = text.splitlines()
        assert "ERROR" in lines[slo_row(app, "checkout-availa")]
        assert "NODATA" in lines[slo_row(app, "search-availa")]
        go_to(app, "checkout-availa")
        app.wait_for('PromQL error: invalid parameter "query"', 10)
        app.write(b"\r")  # the detail: Prometheus's own words
        app.wait_for(lambda t: "SLO checkout-availability" in t and "parse error" in t, 10)
    finally:
        app.stop()
        prom.stop()
