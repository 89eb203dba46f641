"""The real ``sre-cockpit`` in a pty against the simulator: ``a`` in the log pane groups the
buffer into patterns with counts and first/last seen — from Loki's pattern endpoint, and mined
locally when the simulator runs as a Loki without pattern ingesters (``--loki-no-patterns``);
``a`` again closes the panel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_logs_health_pty import pane_text
from war_room_helpers import log_sim_cockpit

pytestmark = [pytest.mark.slow]

ROW = re.compile(r"(✱ new|     ) +([\d,]+)  (\d\d:\d\d:\d\d)–(\d\d:\d\d:\d\d)  (.+)")
HEADER = re.compile(r"patterns \((loki|local \([^)]*\))\): ([\d,]+) over ([\d,]+) lines")


@pytest.mark.parametrize("server_patterns", [True, False])
def test_patterns_of_the_buffer(tmp_path: Path, server_patterns: bool) -> None:
    with log_sim_cockpit(tmp_path, extra_args=() if server_patterns
                         else ("--loki-no-patterns",)) as term:
        term.type(b"z")
        term.pump(2.0)
        term.type(b"a")
        term.wait_for(lambda t: HEADER.search(pane_text(t, "Logs")) is not None, 30,
                      "the patterns header")
        text = pane_text(term, "Logs")
        header = HEADER.search(text)
        assert header is not None
        origin = header.group(1)
        assert origin == "loki" if server_patterns else origin == "local (no pattern endpoint)"
        rows = [ROW.search(line) for line in text.splitlines()]
        found = [r for r in rows if r is not None]
        assert len(found) >= 3, text
        assert all("<_>" in r.group(5) for r in found), text  # variable parts masked
        counts = [int(r.group(2).replace(",", "")) for r in found if not r.group(1).strip()]
        assert counts == sorted(counts, reverse=True), counts  # most lines first
        if not server_patterns:  # mined from the buffer: the counts add up to it at most
            assert sum(counts) <= int(header.group(3).replace(",", "")), text
        term.type(b"a")
        term.wait_for(lambda t: HEADER.search(pane_text(t, "Logs")) is None, 10, "closed")
