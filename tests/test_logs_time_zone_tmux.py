"""``u`` in the log pane: timestamps in local time, and the zone always named (issue 12, item 16).

``u`` showed log timestamps in local time with no zone label while the rest of the screen said
UTC. This runs ``sre-cockpit demo`` in tmux with ``TZ=Europe/Berlin``: ``t`` shows the
timestamps and the log pane's border says ``times UTC`` (each stamp equals the line's own
``…Z`` time); ``u`` turns them to local time, the border says ``times local (CET, UTC+01:00)``
and each stamp is an hour later than the line's UTC time; ``u`` again goes back to UTC.
"""

from __future__ import annotations

import re
import shlex
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tmux_helpers import TmuxPane

from sre_cockpit.core.loglines import zone_label
from sre_cockpit.ui.logs.status import shown_zone

pytestmark = [pytest.mark.slow]

STAMPED = re.compile(r'│(\d\d:\d\d:\d\d\.\d{3}) (?:ts=|\{"ts":")\d{4}-\d\d-\d\dT'
                     r"(\d\d:\d\d:\d\d\.\d{3})Z")


def stamps(screen: str) -> list[tuple[str, str]]:
    """(the stamp the pane shows, the line's own UTC time) of every stamped log row."""
    return [(m.group(1), m.group(2)) for m in map(STAMPED.match, screen.splitlines()) if m]


def shift(utc: str, hours: int) -> str:
    moment = datetime.strptime(utc, "%H:%M:%S.%f") + timedelta(hours=hours)
    return moment.strftime("%H:%M:%S.%f")[:12]


def logs_border(screen: str) -> str:
    """The log pane's bottom border (the first border row under its title)."""
    lines = screen.splitlines()
    top = next(n for n, line in enumerate(lines) if "─ Logs" in line)
    return next(line for line in lines[top:] if line.startswith("╰"))


def test_zone_labels() -> None:
    assert zone_label(utc=True) == "UTC"
    assert shown_zone(utc=True, timestamps=False) == ""  # the default names nothing new
    assert shown_zone(utc=True, timestamps=True) == "UTC"
    assert shown_zone(utc=False, timestamps=False).startswith("local (")


def test_u_shows_local_time_with_the_zone_named(tmp_path: Path) -> None:
    demo = shlex.join(["env", "TZ=Europe/Berlin", f"SRE_COCKPIT_DATA_DIR={tmp_path / 'data'}",
                       sys.executable, "-m", "sre_cockpit", "demo"])
    with TmuxPane.start(demo, cols=120, rows=40) as pane:
        pane.wait_for(lambda s: "● loki live" in s and "live, from 5m back" in s, timeout=60)
        pane.send("2")  # the log pane
        pane.send("t")
        screen = pane.wait_for(lambda s: "times UTC" in logs_border(s) and len(stamps(s)) > 5,
                               timeout=15)
        assert all(shown == utc for shown, utc in stamps(screen)), stamps(screen)
        pane.send("u")
        screen = pane.wait_for(
            lambda s: "times local (CET, UTC+01:00)" in logs_border(s)
            and len(stamps(s)) > 5 and all(a != b for a, b in stamps(s)), timeout=15)
        rows = stamps(screen)
        assert all(shown == shift(utc, 1) for shown, utc in rows), rows
        assert "UTC" in screen.splitlines()[0]  # the header clock still says UTC, and so
        pane.send("u")  # does the border once the stamps are back in UTC
        screen = pane.wait_for(lambda s: "times UTC" in logs_border(s)
                               and len(stamps(s)) > 5
                               and all(a == b for a, b in stamps(s)), timeout=15)
        pane.send("t")  # no stamps, UTC: the border names no zone (the lines carry theirs)
        screen = pane.wait_for(lambda s: "live, from 5m back ─" in logs_border(s)
                               and not stamps(s), timeout=15)
