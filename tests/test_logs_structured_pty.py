"""The real ``sre-cockpit`` in a pty: ``s`` in the log pane lays logfmt and JSON lines out
message-first (the simulator's checkout/search/gateway logfmt and payments JSON), ``s`` again
shows them raw; against a Loki stub, plain lines stay as they are and hostile JSON/logfmt lines
stay neutralised (``␛`` shown, no escape sequence reaches the terminal)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from loki_helpers import loki_stub, write_config
from pty_screen import PtyScreen
from test_logs_health_pty import cockpit_on_simulator, pane_text

pytestmark = [pytest.mark.slow]

STRUCTURED_ROW = re.compile(r"│\d\d:\d\d:\d\d\.\d{3} (info |warn |error) (\S.*)")


def structured_rows(term: PtyScreen) -> list[tuple[str, str]]:
    """(level, the rest) of every structured row in the log pane."""
    rows = []
    for line in pane_text(term, "Logs").splitlines():
        found = STRUCTURED_ROW.match("│" + line)
        if found:
            rows.append((found.group(1).strip(), found.group(2)))
    return rows


def test_structured_lines_of_the_simulator_and_back_to_raw(tmp_path: Path) -> None:
    with cockpit_on_simulator(tmp_path) as (_sim, term):
        term.wait_for(lambda t: "level=" in pane_text(t, "Logs"), 40, "log lines")
        term.type(b"2")
        term.pump(0.5)
        term.type(b"z")  # the pane maximised: whole messages in sight
        term.pump(0.5)
        term.type(b"s")
        term.wait_for(lambda t: len(structured_rows(t)) > 5, 15, "structured rows")
        term.wait_for(lambda t: any(r.startswith("authorization approved") for _, r in
                                    structured_rows(t)), 30, "a JSON row message-first")
        rows = structured_rows(term)
        leftover = [r for r in rows if re.search(r'(^|\s)(ts|level)=|"level"', r[1])]
        assert not leftover, leftover  # time and level moved to their columns
        messages = ("order placed", "query served", "proxied request", "authorization approved",
                    "payment authorization failed", "retry budget exhausted",
                    "retrying payments.Authorize", "db connection pool saturated",
                    "authorization timed out", "no results", "slow cart lookup",
                    "index shard slow", "starting checkout")
        assert all(rest.startswith(messages) for _, rest in rows), rows
        logs = pane_text(term, "Logs")
        assert "seq=" in logs and "app=" in logs  # the other fields follow the message
        term.type(b"s")
        term.wait_for(lambda t: not structured_rows(t) and " level=" in pane_text(t, "Logs"), 15,
                      "raw rows again")


def test_plain_and_hostile_lines_in_structured_mode(tmp_path: Path) -> None:
    with loki_stub() as stub:
        stub.push("just a plain line with words")
        stub.push('{"level":"error","msg":"json \\u001b]0;pwned\\u0007 title","seq":2}')
        stub.push('level=warn msg="logfmt \x1b[31mred\x1b[0m" seq=3')
        config = write_config(tmp_path / "c.yaml", stub.url)
        term = PtyScreen([sys.executable, "-m", "sre_cockpit", "--config", str(config)],
                         cols=120, rows=40)
        try:
            term.wait_for(lambda t: "plain line" in pane_text(t, "Logs"), 30, "the lines")
            term.type(b"2")
            term.pump(0.5)
            term.type(b"s")
            term.wait_for(lambda t: len(structured_rows(t)) == 2, 15, "structured rows")
            rows = dict(structured_rows(term))
            assert rows["error"].startswith("json ␛]0;pwned␇ title seq=2"), rows
            assert rows["warn"].startswith("logfmt ␛[31mred␛[0m seq=3"), rows
            logs = pane_text(term, "Logs")
            assert re.search(r"\d\d:\d\d:\d\d\.\d{3} just a plain line with words", logs), logs
            output = bytes(term.output)
            assert b"pwned\x07" not in output and b"\x1b]0;pwned" not in output
            assert b"\x1b[31mred" not in output
            assert "pwned" not in (term.screen.title or "")
        finally:
            term.close()
