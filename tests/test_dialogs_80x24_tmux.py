"""Every dialog at 80×24, and what bulk confirms say, read off the real demo in tmux (issue 12,
items 8 and 9).

Item 8: with an Alertmanager alert, a triggered and an acknowledged PagerDuty incident
selected, ``a`` asks about the one incident it will acknowledge by id *and title*, and lists
the two it skips with their titles and why. Item 9: at 80×24 the silence form showed no
Continue/Cancel and the confirm dialog ended at the matchers (``startsAt``, ``endsAt``,
``createdBy``, ``comment`` never seen before ``y``). Here each dialog is opened at 80×24: its
box is whole on screen, its buttons or key hints show, and the confirm dialog scrolls (page
down) to the end of the payload with Send still on screen. Also the note editor, describe, the
reassign/escalate/snooze/status-update forms and the help.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmux_helpers import TmuxPane

pytestmark = [pytest.mark.slow]


def boxed(screen: str, *texts: str) -> bool:
    """The dialog box is whole (its top ``▀`` and bottom ``▄`` edges both on screen) and
    every text in ``texts`` is inside it."""
    lines = screen.splitlines()
    tops = [n for n, line in enumerate(lines) if "▀▀▀▀▀▀▀▀▀▀" in line]
    bottoms = [n for n, line in enumerate(lines) if "▄▄▄▄▄▄▄▄▄▄" in line]
    if not tops or not bottoms or bottoms[-1] <= tops[0]:
        return False
    inside = " ".join(line.strip("█ ") for line in lines[tops[0]:bottoms[-1] + 1])
    flat = " ".join(inside.split())
    return all(" ".join(text.split()) in flat for text in texts)


def gone(screen: str) -> bool:
    """No dialog box on screen (the incidents pane is back)."""
    return "▀▀▀▀▀▀▀▀▀▀" not in screen and "─ Incidents " in screen


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TmuxPane]:
    """One demo at 80×24 for the whole file (each test opens its dialogs and closes them)."""
    data: Path = tmp_path_factory.mktemp("dialogs") / "data"
    command = shlex.join(["env", f"SRE_COCKPIT_DATA_DIR={data}", sys.executable, "-m",
                          "sre_cockpit", "demo"])
    with TmuxPane.start(command, cols=80, rows=24) as pane:
        pane.wait_for(lambda s: "● pd ok" in s and "● alerts ok" in s and "PWSTN9D" in s
                      and "P30AVQB" in s and "921949" in s, timeout=60)
        yield pane


def to_row(pane: TmuxPane, row: int, detail: str) -> None:
    """Put the cursor on the ``row``-th row (0 first) and wait for its detail line."""
    pane.send("g", *["j"] * row)
    pane.wait_for(lambda s: s.splitlines()[-3].startswith("│" + detail), timeout=10)


def close(pane: TmuxPane, *keys: str) -> None:
    pane.send(*(keys or ("Escape",)))
    pane.wait_for(gone, timeout=10)


def open_read_close(pane: TmuxPane, key: str, *texts: str) -> None:
    """Open a dialog with ``key``, wait until its box is whole with every text in ``texts``
    inside it, then close it with ``esc``."""
    pane.send(key)
    pane.wait_for(lambda s: boxed(s, *texts), timeout=15)
    close(pane)


def test_bulk_ack_lists_titles_and_says_what_it_skips_and_why(demo: TmuxPane) -> None:
    to_row(demo, 0, "checkout is answering")  # an Alertmanager alert
    demo.send("x", "j", "x", "j", "j", "x")  # + PWSTN9D (triggered) + P30AVQB (acked)
    demo.wait_for(lambda s: s.count("│✓ ") == 3, timeout=10)
    demo.send("a")
    screen = demo.wait_for(lambda s: boxed(s, "Acknowledge 1 incident?", "Send (y)",
                                           "Cancel (n)"), timeout=15)
    assert boxed(screen, "incidents pd:PWSTN9D PaymentsLatencyHigh: payments p99 latency"), \
        screen
    assert boxed(screen, "skipped (2)", "alerts:921949",
                 "'checkout is answering 3.8% of requests with 5xx (threshold 1%)': "
                 "Alertmanager has no acknowledge: silence instead (s)",
                 "pd:P30AVQB 'CheckoutHighErrorRate: checkout 5xx ratio above 1%': "
                 "already acknowledged"), screen
    close(demo, "n")
    demo.send("Escape")  # the selection goes
    demo.wait_for(lambda s: "selected]" not in s and "✓" not in s, timeout=10)


def test_silence_form_and_its_confirm_are_usable_at_80x24(demo: TmuxPane) -> None:
    to_row(demo, 0, "checkout is answering")
    demo.send("s")
    demo.wait_for(lambda s: boxed(s, "Silence checkout is answering", "Duration",
                                  "Continue (ctrl+s)", "Cancel (esc)"), timeout=15)
    time.sleep(1)  # the form focuses its first field once mounted: Tab counts from there
    demo.send("Tab", "Tab")  # duration → matchers → comment: the fields scroll, not the box
    demo.wait_for(lambda s: boxed(s, "Comment", "why (shown to others)",
                                  "Continue (ctrl+s)", "Cancel (esc)"), timeout=10)
    demo.send("C-s")
    first = demo.wait_for(lambda s: boxed(s, "Silence 1 incident?", "payload", "Send (y)",
                                          "Cancel (n)"), timeout=15)
    assert "createdBy" not in first  # below the matchers: it takes scrolling to see it
    demo.send("PageDown", "PageDown", "PageDown")
    demo.wait_for(lambda s: boxed(s, '"startsAt": "', '"endsAt": "', '"createdBy": "operator"',
                                  '"comment": "silenced from sre-cockpit for 2h"', "Send (y)",
                                  "Cancel (n)"), timeout=10)
    demo.send("PageUp", "PageUp", "PageUp")
    demo.wait_for(lambda s: boxed(s, "incidents alerts:921949", "Send (y)"), timeout=10)
    close(demo, "n")


def test_note_editor_and_describe_at_80x24(demo: TmuxPane) -> None:
    to_row(demo, 1, "PaymentsLatencyHigh")
    open_read_close(demo, "n", "Note for pd:PWSTN9D", "Send (ctrl+s)", "Discard", "Close (esc)")
    open_read_close(demo, "d", "pd:PWSTN9D", "── incident ──", "id PWSTN9D", "esc close")


def test_oncall_forms_at_80x24(demo: TmuxPane) -> None:
    to_row(demo, 1, "PaymentsLatencyHigh")
    open_read_close(demo, "A", "Reassign PWSTN9D", "found", "Ravi Menon",
                    "enter picks · esc cancels")
    open_read_close(demo, "E", "Escalate PWSTN9D", "Level (1 is the first)",
                    "enter picks · esc cancels")
    open_read_close(demo, "Z", "Snooze PWSTN9D", "esc")
    open_read_close(demo, "U", "PWSTN9D", "ctrl+s", "esc")


def test_help_at_80x24(demo: TmuxPane) -> None:
    demo.send("?")
    screen = demo.wait_for(lambda s: "─ Keys " in s and "binding id" in s, timeout=15)
    lines = screen.splitlines()
    top = next(n for n, line in enumerate(lines) if "─ Keys " in line)
    assert any(line.lstrip().startswith("╰") for line in lines[top + 1:]), screen  # whole
    assert "cockpit.pane_incidents" in screen and "● = active" in screen
    demo.send("Escape")
    demo.wait_for(lambda s: "─ Keys " not in s, timeout=10)
