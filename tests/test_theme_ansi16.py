"""Issue 12 item 15: under ``ansi-16`` the cockpit writes only the terminal's 16 colours.

After ``:theme ansi-16`` (switched while running) the timeline's markers and note states, the
incidents' severities, the SLO states and the source lines kept the colours they were built
with under ``war-room``: a 256-colour terminal got indices 203, 208, 214, 221, 75, 77 and 178.
The raw bytes the real cockpit writes to a pty are read here: no ``38;5;n``/``48;5;n`` with
n > 15 and no truecolour, with every pane showing the simulator's data, a focused incident
(relative times), a local note with its state, the log and table cursors, a filter, a toast,
the help screen and the SLO detail — started with ``--theme ansi-16`` and switched to it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from notes_helpers import Cockpit, editor_closed, editor_open
from war_room_helpers import beyond_16_colours, every_pane_has_data, resize, sim_cockpit

from sre_cockpit.ui.themes import load_themes

pytestmark = [pytest.mark.slow]


def test_the_ansi_16_theme_file_names_only_ansi_colours() -> None:
    theme = load_themes()[0]["ansi-16"].theme
    assert theme.ansi
    for value in (theme.primary, theme.background, *theme.variables.values()):
        assert value is None or value.startswith("ansi_") or value in ("bold", "none"), value


def session(app: Cockpit) -> None:
    """Everything that carries colour in every pane: the panes' data, a focused incident, a
    note (its delivery state in the timeline), the log and table cursors, a filter, a toast,
    the help screen and the SLO detail."""
    app.write(b"1\r")  # focus the first incident: relative times, focus marks
    app.wait_for("▶", 10)
    app.write(b"n")
    app.wait_for(editor_open)
    app.write(b"rollback started\x13")  # ctrl+s
    app.wait_for(editor_closed)
    app.wait_for("[local only]", 10)  # the note's state in the timeline
    app.write(b"o")  # a toast (the incident's URL)
    app.pump(0.5)
    app.write(b"2\x1b[A\x1b[A")  # the log cursor on a line
    app.pump(0.5)
    app.write(b"4\x1b[A")  # the timeline's cursor
    app.pump(0.5)
    app.write(b"3")
    app.pump(0.3)
    app.write(b"/")
    app.pump(0.3)
    app.write(b"\x15")  # ctrl+u: the prompt shows the last filter
    app.pump(0.3)
    app.write(b"avail\r")  # a filter bar
    app.wait_for("SLOs shown", 10)
    app.write(b"\r")  # the SLO detail
    app.wait_for("burn rates", 10)
    app.write(b"\x1b")  # close it
    app.wait_for(lambda text: "burn rates" not in text, 10)
    app.write(b"?")  # the help screen (a zebra-striped table)
    app.wait_for("binding id", 10)
    app.pump(0.5)
    app.write(b"\x1b")
    app.pump(1.0)


def describe(bad: list[object]) -> str:
    return ", ".join(f"{colour} ×{n}" for colour, n in Counter(map(str, bad)).most_common(12))


def test_started_with_ansi_16_every_byte_uses_the_16_colours(tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, cols=120, rows=40, args=["--theme", "ansi-16"]) as (app, _sim):
        app.wait_for(every_pane_has_data, 30)
        session(app)
        written = bytes(app.output)
    bad = beyond_16_colours(written)
    assert not bad, f"colours beyond the 16 ANSI ones: {describe(bad)}"
    assert len(written) > 50_000  # the whole session was read


def test_switched_to_ansi_16_while_running_every_byte_uses_the_16_colours(
        tmp_path: Path) -> None:
    with sim_cockpit(tmp_path, cols=120, rows=40) as (app, _sim):
        app.wait_for(every_pane_has_data, 30)
        session(app)  # built under war-room: colours baked into the panes' text
        before = beyond_16_colours(bytes(app.output))
        app.write(b":theme ansi-16")
        app.pump(0.5)
        app.write(b"\r")
        app.pump(2.0)
        mark = len(app.output)
        resize(app, 121, 40)  # a full repaint of everything on screen
        app.pump(1.5)
        resize(app, 120, 40)
        app.pump(1.5)
        session(app)
        written = bytes(app.output[mark:])
    assert before, "war-room must have used more than 16 colours (the check would be vacuous)"
    bad = beyond_16_colours(written)
    assert not bad, f"after :theme ansi-16, colours beyond the 16 ANSI ones: {describe(bad)}"
    assert len(written) > 50_000
