"""The real ``sre-cockpit`` in a pty at 80×24 against the simulator: ``enter`` in the log pane
opens the newest line's detail (time, labels, fields pretty-printed, raw line), which scrolls
to the raw line; ``C`` copies the whole detail (OSC 52), ``c`` the line; ``esc`` closes it.
Against a Loki stub, a hostile JSON line's detail shows its escapes as ``␛`` and sends none."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import pytest
from loki_helpers import loki_stub, write_config
from pty_screen import PtyScreen
from test_logs_health_pty import pane_text
from war_room_helpers import log_sim_cockpit

pytestmark = [pytest.mark.slow]

END, ESC = b"\x1b[F", b"\x1b"
TITLE = "log line · ↑↓ scroll"


def copied(term: PtyScreen) -> list[str]:
    """Every text written to the clipboard with OSC 52 so far."""
    return [base64.b64decode(m.group(1)).decode("utf-8", "replace") for m in
            re.finditer(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\)", bytes(term.output))]


def test_detail_of_a_simulator_line_at_80x24(tmp_path: Path) -> None:
    with log_sim_cockpit(tmp_path, cols=80, rows=24) as term:
        term.type(b" ")  # pause: the line under the cursor stays put
        term.pump(0.5)
        term.type(b"\r")
        term.wait_for(lambda t: TITLE in t.text and "labels" in t.text, 15, "the detail")
        text = term.text
        assert "time" in text and re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}", text)
        assert 'namespace=shop' in text and "fields (" in text
        term.type(END)
        term.wait_for(lambda t: "raw line" in t.text, 10, "the raw line, scrolled to")
        term.type(b"C")
        term.wait_for(lambda t: any(c.startswith("time:\n") for c in copied(t)), 10,
                      "the detail copied")
        detail = [c for c in copied(term) if c.startswith("time:\n")][-1]
        assert "labels:\n" in detail and "raw line:\n" in detail and "seq" in detail
        term.type(b"c")
        term.wait_for(lambda t: any("seq" in c and not c.startswith("time:")
                                    for c in copied(t)), 10, "the line copied")
        term.type(ESC)
        term.wait_for(lambda t: TITLE not in t.text and "Logs" in t.text, 10, "closed")


def test_detail_of_a_hostile_json_line(tmp_path: Path) -> None:
    with loki_stub() as stub:
        stub.push('{"level":"error","msg":"x \\u001b]0;pwned\\u0007","nested":{"k\\u009b":'
                  '{"deep":"[bold]v[/bold]"}}}', labels={"app": "stub\x1b[31m"})
        config = write_config(tmp_path / "c.yaml", stub.url)
        term = PtyScreen([sys.executable, "-m", "sre_cockpit", "--config", str(config)],
                         cols=100, rows=30)
        try:
            term.wait_for(lambda t: "● loki ok" in t.lines[0], 30, "Loki answering")
            term.type(b"2")
            term.wait_for(lambda t: "pwned" in pane_text(t, "Logs"), 30, "the line")
            term.type(b"\r")
            term.wait_for(lambda t: TITLE in t.text and "fields (JSON)" in t.text, 15,
                          "the detail")
            text = term.text
            assert '"nested": {' in text and '"deep": "[bold]v[/bold]"' in text  # indented
            assert re.search(r'^\s*│?\s+"deep"', text, re.M)
            assert "app=stub␛[31m" in text
            output = bytes(term.output).decode("utf-8", "replace")
            assert "\x1b]0;pwned" not in output and "\x9b" not in output  # no C1 CSI either
            assert "pwned" not in (term.screen.title or "")
        finally:
            term.close()
