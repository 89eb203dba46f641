"""Note text typed ahead is never lost: the real cockpit in a pty, keys sent in ONE write.

Before the fix, ctrl+s was a priority binding: it ran when the terminal read was parsed, before
the text read with it reached the editor, so "rolled back^S" saved "r" (8/8 trials lost the
tail); with a restored draft the new text vanished; and "n" + text in one read sent the text to
the incidents pane (``a`` asked to acknowledge an incident).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from notes_helpers import Cockpit, editor_closed, editor_open, ready, stored_notes
from sim_helpers import SimHandle, launch_simulator

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path_factory.mktemp("sim") / "sim.yaml"
    handle = launch_simulator(seed=5, write_config=config)
    try:
        yield handle, config
    finally:
        handle.stop()


@pytest.fixture
def cockpit(sim: tuple[SimHandle, Path], tmp_path: Path) -> Iterator[Cockpit]:
    app = Cockpit(sim[1], tmp_path / "data")
    try:
        app.wait_for(ready)
        yield app
    finally:
        app.stop()


def texts(tmp_path: Path) -> list[str]:
    return [text for text, _provider, _state in stored_notes(tmp_path / "data" / "notes.db")]


def test_text_and_ctrl_s_in_one_read_save_the_whole_text(cockpit: Cockpit,
                                                          tmp_path: Path) -> None:
    sent = []
    for trial in range(3):
        cockpit.write(b"n")
        cockpit.wait_for(editor_open)
        text = f"trial {trial}: rolled back checkout to 2.3.0"
        cockpit.write(text.encode() + b"\r" + b"error rate falling" + b"\x13")
        cockpit.wait_for(editor_closed)
        sent.append(f"{text}\nerror rate falling")
    cockpit.pump(0.5)
    assert texts(tmp_path) == sent


def test_a_restored_draft_keeps_the_text_typed_ahead(cockpit: Cockpit, tmp_path: Path) -> None:
    cockpit.write(b"n")
    cockpit.wait_for(editor_open)
    cockpit.write(b"first part")
    cockpit.wait_for("draft saved")
    cockpit.write(b"\x1b")  # close, keep the draft
    cockpit.wait_for(editor_closed)
    cockpit.write(b"n")
    cockpit.wait_for("restored the unsent draft")
    cockpit.write(b" and the rest\x13")
    cockpit.wait_for(editor_closed)
    cockpit.pump(0.5)
    assert texts(tmp_path) == ["first part and the rest"]
    assert not list((tmp_path / "data").glob("draft*.json"))  # stored: the draft is gone


def test_ctrl_s_on_an_empty_editor_says_so(cockpit: Cockpit, tmp_path: Path) -> None:
    cockpit.write(b"n")
    cockpit.wait_for(editor_open)
    cockpit.write(b"\x13")
    screen = cockpit.wait_for("empty note not saved")
    assert editor_open(screen)  # still open: the operator can type the note
    cockpit.write(b"now with text\x13")
    cockpit.wait_for(editor_closed)
    cockpit.pump(0.5)
    assert texts(tmp_path) == ["now with text"]


def test_n_text_and_ctrl_s_in_one_read_write_the_note(cockpit: Cockpit, tmp_path: Path) -> None:
    cockpit.write(b"nack from the pager: rolled back\x13")
    cockpit.wait_for(editor_closed)
    screen = cockpit.text()
    for _ in range(50):  # the editor opens, takes the held keys, stores the note
        cockpit.pump(0.1)
        if (tmp_path / "data" / "notes.db").exists() and texts(tmp_path):
            break
    assert texts(tmp_path) == ["ack from the pager: rolled back"]
    # no letter reached the incidents pane: 'a' (acknowledge) and 'r' (resolve) would have
    # opened a confirmation or said why they cannot
    for shown in (screen, cockpit.text()):
        assert not re.search(r"▌ (Acknowledge|Resolve)", shown), shown
        assert "no acknowledge" not in shown and "Cancel" not in shown, shown


def test_keys_held_for_an_editor_that_does_not_open_still_reach_the_pane(
        cockpit: Cockpit) -> None:
    cockpit.write(b"4")  # the timeline: no incident chosen, so 'n' cannot open the editor
    cockpit.wait_for("K kinds")  # its keys in the footer: it has the focus
    cockpit.write(b"nz")  # 'z' (zoom the pane) waits for an editor that never comes
    cockpit.wait_for("choose an incident first")
    cockpit.wait_for(lambda screen: "Incidents" not in screen, timeout=3)  # zoomed
    assert editor_closed(cockpit.text())
