"""Runbooks and copying, on the real ``sre-cockpit`` in a pseudo-terminal against a REAL
Alertmanager: the ``rb`` column marks the alerts with an http(s) runbook, ``b`` writes the link
to the clipboard (OSC 52) and shows it as an OSC 8 hyperlink, a ``javascript:`` runbook is
refused without touching the clipboard, an alert without one says how to add it, and ``c`` in
the describe view copies the highlighted field. The bytes the cockpit wrote are read, not only
the screen."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml
from am_helpers import post_alerts, start_alertmanager, wait_states
from notes_helpers import Cockpit
from test_incidents_depth_pty import filter_to, flat, incidents_pane

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUNBOOK = "https://runbooks.example.com/disk-full?team=storage"
ALERTS = [
    {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
     "annotations": {"summary": "db-1 disk 97% full", "runbook_url": RUNBOOK}},
    {"labels": {"alertname": "HighLatency", "severity": "warning", "service": "search"},
     "annotations": {"summary": "search latency p99 above 2s"}},
    {"labels": {"alertname": "EvilRunbook", "severity": "warning"},
     "annotations": {"summary": "evil runbook link", "runbook_url": "javascript:alert(1)"}},
]


def clipboard_writes(output: bytes) -> list[str]:
    """Every text the cockpit put on the clipboard (OSC 52), decoded."""
    return [base64.b64decode(m.group(1)).decode()
            for m in re.finditer(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\)", output)]


def hyperlinks(output: bytes) -> list[str]:
    """Every OSC 8 hyperlink target the cockpit wrote."""
    return [m.group(1).decode() for m in re.finditer(rb"\x1b\]8;[^;]*;([^\x07\x1b]+)", output)]


def row_of(text: str, title: str) -> str:
    """The incidents pane's line showing ``title``."""
    return next(line for line in incidents_pane(text).splitlines() if title in line)


def test_runbook_marker_key_and_copy_on_screen(tmp_path: Path) -> None:
    url, stop = start_alertmanager(tmp_path / "am")
    try:
        post_alerts(url, ALERTS)
        assert wait_states(url, {"DiskFull": "active", "EvilRunbook": "active"})
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({
            "default_context": "t", "refresh": {"incidents": "2s"},
            "contexts": {"t": {"providers": {"am": {"type": "alertmanager", "url": url}}}}}))
        config.chmod(0o600)
        cockpit = Cockpit(config, tmp_path / "data", cols=160, rows=50)
        try:
            text = cockpit.wait_for(lambda t: "evil runbook link" in t
                                    and "db-1 disk 97% full" in t, 30)
            # the rb column: a marker for the http(s) runbook only
            assert "↗" in row_of(text, "db-1 disk 97% full")
            assert "↗" not in row_of(text, "search latency p99")
            assert "↗" not in row_of(text, "evil runbook link")
            # b: copied (OSC 52) and shown as a hyperlink
            filter_to(cockpit, "db-1")
            before = len(cockpit.output)
            cockpit.write(b"b")
            cockpit.wait_for(lambda t: "runbook copied:" in flat(t))
            cockpit.pump(0.3)
            written = bytes(cockpit.output[before:])
            safe = RUNBOOK  # already URL-safe: copied as given
            assert clipboard_writes(written) == [safe]
            assert safe in hyperlinks(written)
            cockpit.write(b"\x1b")
            # no runbook: says how to get one, copies nothing
            filter_to(cockpit, "HighLatency")
            before = len(cockpit.output)
            cockpit.write(b"b")
            cockpit.wait_for(lambda t: "has no runbook link" in flat(t))
            assert clipboard_writes(bytes(cockpit.output[before:])) == []
            cockpit.write(b"\x1b")
            # a javascript: runbook is refused and never reaches the clipboard
            filter_to(cockpit, "EvilRunbook")
            before = len(cockpit.output)
            cockpit.write(b"b")
            cockpit.wait_for(lambda t: "not an http(s) link, not copied" in flat(t))
            cockpit.pump(0.3)
            written = bytes(cockpit.output[before:])
            assert clipboard_writes(written) == []
            assert not any("javascript" in h for h in hyperlinks(written))
            cockpit.write(b"\x1b")
            # describe: c copies the highlighted field (the first one: the id in full)
            filter_to(cockpit, "db-1")
            cockpit.write(b"d")
            cockpit.wait_for("c/enter copy")
            before = len(cockpit.output)
            cockpit.write(b"c")
            cockpit.wait_for(lambda t: "copied id:" in flat(t))
            cockpit.pump(0.3)
            copied = clipboard_writes(bytes(cockpit.output[before:]))
            assert len(copied) == 1 and re.fullmatch(r"[0-9a-f]{16}", copied[0]), copied
            assert copied[0] in flat(cockpit.text())  # the id the view shows, in full
        finally:
            cockpit.stop()
    finally:
        stop()
