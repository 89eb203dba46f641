"""Hostile alert titles from a REAL Alertmanager, rendered by the incidents pane in a real pty:
the raw bytes written to the terminal never carry the hostile sequences, the emulated screen
shows them neutralised, markup stays literal and the app keeps running."""

from __future__ import annotations

import sys
from pathlib import Path

import pyte
import pytest
import yaml
from am_helpers import post_alerts, start_alertmanager
from test_pty_hostile import run_in_pty

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# (alertname tag, hostile summary, what must be visible instead)
TITLES = [
    ("T1", "clip \x1b]52;c;cHduZWQ=\x07 end", "clip ␛]52;c;cHduZWQ=␇ end"),
    ("T2", "title \x1b]0;pwned-title\x07 end", "title ␛]0;pwned-title␇ end"),
    ("T3", "c1 \x9b6n end", "c1 ⟨9B⟩6n end"),
    ("T4", "bidi \u202egnp.exe end", "bidi ⟨U+202E⟩gnp.exe end"),
    ("T5", "[@click=app.quit]q[/] [b]bold", "[@click=app.quit]q[/] [b]bold"),
]
FORBIDDEN = ["\x1b]52;c;cHduZWQ", "\x1b]0;pwned", "\x9b6n", "\u202e", "\x9b"]

SCRIPT = """
import sys
sys.path.insert(0, sys.argv[2])
from incidents_helpers import PaneApp
from sre_cockpit.config.model import load_config
from sre_cockpit.feeds.runtime import Runtime
PaneApp(Runtime(load_config(sys.argv[1]))).run()
"""


def test_hostile_titles_in_a_pty(tmp_path: Path) -> None:
    url, stop = start_alertmanager(tmp_path / "am")
    try:
        post_alerts(url, [{"labels": {"alertname": tag, "severity": "critical"},
                           "annotations": {"summary": f"{tag} {raw}"}} for tag, raw, _ in TITLES])
        cfg = tmp_path / "config.yaml"
        cfg.write_text(yaml.safe_dump({"default_context": "t", "user": "bob",
                                       "contexts": {"t": {"providers": {"am": {
                                           "type": "alertmanager", "url": url}}}}}))
        cfg.chmod(0o600)
        screen = pyte.Screen(200, 30)
        out, status = run_in_pty([sys.executable, "-c", SCRIPT, str(cfg),
                                  str(Path(__file__).parent)], 5, cols=200, rows=30,
                                 emulate=screen, keys=[(3.5, b"\r")])
    finally:
        stop()
    assert status is None, f"the app exited (status {status}): {out[-3000:]!r}"
    text = out.decode("utf-8", "surrogateescape")
    for forbidden in FORBIDDEN:
        assert forbidden not in text, f"{forbidden!r} reached the terminal"
    assert "pwned" not in (screen.title or "")
    display = "\n".join(screen.display)
    for tag, _raw, shown in TITLES:
        assert f"{tag} {shown}" in display, f"{tag} not shown neutralised:\n{display}"
