"""Silenced is not acked, through the real cockpit in tmux against a REAL Alertmanager: the row
says ``silenced``, the detail line says who and why before the silence's id, the timeline shows
the silence created, and expiring it from the keyboard shows it expired."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from am_helpers import create_silence, post_alerts, start_alertmanager, wait_states
from tmux_helpers import TmuxPane, cockpit_argv

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def am(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url, stop = start_alertmanager(tmp_path / "am")
    try:
        post_alerts(url, [
            {"labels": {"alertname": "DiskFull", "severity": "critical", "service": "db"},
             "annotations": {"summary": "db-1 disk full"}},
            {"labels": {"alertname": "CheckoutErrors", "severity": "critical",
                        "service": "checkout"}},
        ])
        sid = create_silence(url, {"alertname": "DiskFull"}, created_by="carol",
                             comment="disk swap")
        assert wait_states(url, {"DiskFull": "suppressed", "CheckoutErrors": "active"})
        yield url, sid
    finally:
        stop()


def row_of(screen: str, title: str) -> str:
    return next((line for line in screen.splitlines() if title in line and "critical" in line), "")


def test_silenced_row_detail_and_timeline_in_tmux(am: tuple[str, str], tmp_path: Path) -> None:
    url, sid = am
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "default_context": "test", "user": "oncall-bob",
        "refresh": {"incidents": "1s", "timeline": "2s"},
        "contexts": {"test": {"providers": {"am": {"type": "alertmanager", "url": url}}}}}))
    config.chmod(0o600)
    command = f"env SRE_COCKPIT_DATA_DIR={tmp_path / 'data'} {cockpit_argv(config)}"
    with TmuxPane.start(command, cols=160, rows=48) as pane:
        screen = pane.wait_for(lambda s: "silenced" in row_of(s, "db-1 disk full")
                               and "silence created by carol" in s)
        assert "triggered" in row_of(screen, "CheckoutErrors")
        assert "acked" not in screen
        # the detail line of the silenced row: who and why, then the end, then the id
        pane.type("/silenced")
        pane.send("Enter")
        screen = pane.wait_for("db-1 disk full  silenced by carol: disk swap, until ")
        detail = next(line for line in screen.splitlines() if "silenced by carol" in line)
        assert detail.index("carol: disk swap") < detail.index("until")
        pane.wait_for("1 of 2 incidents shown, 1 hidden")
        # expire it from the keyboard: the timeline says so, the row is triggered again
        pane.send("S")
        pane.wait_for("Expire silence 1 incident?")
        assert sid in pane.text()
        pane.send("y")
        screen = pane.wait_for("silence expired")
        assert wait_states(url, {"DiskFull": "active"})
        pane.send("Escape")
        screen = pane.wait_for(lambda s: "triggered" in row_of(s, "db-1 disk full"))
        assert "silenced" not in row_of(screen, "db-1 disk full")
    with urllib.request.urlopen(f"{url}/api/v2/silences", timeout=10) as resp:
        states = {s["id"]: s["status"]["state"] for s in json.load(resp)}
    assert states == {sid: "expired"}
