"""The README's screen capture is what ``sre-cockpit demo`` shows (issue 12, README item).

The capture had drifted: it showed ages (``● prom 2s``, ``ok 0s ago``) and a ``timeline`` badge
the cockpit no longer draws, and ``acked`` for a silenced alert. This runs the real demo in
tmux at 120x40 and compares it with the capture row by row, with what changes from run to run
masked (clocks, ages, percentages and gauges, counters, the log lines' contents).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from tmux_helpers import TmuxPane

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
CAPTURE_INTRO = "`sre-cockpit demo` at 120×40 (captured with `tmux capture-pane -p`):\n\n```text\n"
MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z"), "<ts>"),
    (re.compile(r"\d\d:\d\d(:\d\d)?"), "<hh:mm>"),
    (re.compile(r"T[+-][0-9a-z]+"), "T±"),
    (re.compile(r"\d+(\.\d+)?%"), "<n>%"),
    (re.compile(r"[█░▁▂▃▄▅▆▇]+"), "<bar>"),
    (re.compile(r"\b\d+[smhd]\b"), "<age>"),
    (re.compile(r"buffered [\d,]+"), "buffered <n>"),
    (re.compile(r"\d+/s\b"), "<n>/s"),
    (re.compile(r"\b\d+ events\b"), "<n> events"),
)
LOG_ROW = re.compile(r"^│(ts=|\{\"ts\")")


def readme_capture() -> list[str]:
    text = (REPO / "README.md").read_text()
    start = text.index(CAPTURE_INTRO) + len(CAPTURE_INTRO)
    return text[start:text.index("```\n", start)].splitlines()


def masked(lines: list[str]) -> list[str]:
    """The rows with what changes from run to run masked; a log row keeps only its pane
    edges and the right-hand pane (its content is the stream)."""
    out = []
    for line in lines:
        line = line.rstrip()
        if LOG_ROW.match(line) and "││" in line:
            line = "│<log line>││" + line.split("││", 1)[1]
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        out.append(re.sub(r" +", " ", line))
    return out


def ready(screen: str) -> bool:
    """The demo has settled: the SLO state on the timeline, PagerDuty's events, a silenced alert
    and every SLO's row (each SLO is drawn as soon as its own figures are in, the last one a
    moment after the first)."""
    return ("◆ slo_state" in screen and "● pd events ok" in screen and "budget left" in screen
            and "silenced" in screen and all(name in screen for name in (
                "checkout-availability", "payments-latency", "payments-availability",
                "search-availability")))


def test_the_readme_capture_is_what_the_demo_shows(tmp_path: Path) -> None:
    capture = readme_capture()
    assert len(capture) == 40 and all(len(row) <= 120 for row in capture)
    assert not any(re.search(r"\d+s ago|● \w+ \d+s\b", row) for row in capture)
    demo = shlex.join(["env", f"SRE_COCKPIT_DATA_DIR={tmp_path / 'data'}", sys.executable,
                       "-m", "sre_cockpit", "demo"])
    with TmuxPane.start(demo, cols=120, rows=40) as pane:
        screen = pane.wait_for(ready, timeout=60)
        live = screen.splitlines()
    assert masked(live) == masked(capture)
