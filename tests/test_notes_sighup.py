"""SIGHUP (an SSH link dropped without tmux) against the real cockpit: what the operator typed and
what the disk refused are flushed before the process goes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from notes_helpers import Cockpit, editor_closed, editor_open, ready, stored_notes
from sim_helpers import SimHandle, launch_simulator
from test_notes_disk_full import can_mount_tmpfs, copy_store, fill

from sre_cockpit.feeds.journal import Journal

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path_factory.mktemp("sim") / "sim.yaml"
    handle = launch_simulator(seed=5, write_config=config)
    try:
        yield handle, config
    finally:
        handle.stop()


def test_sighup_saves_the_text_in_the_open_editor(sim: tuple[SimHandle, Path],
                                                  tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = Cockpit(sim[1], data)
    try:
        app.wait_for(ready)
        app.write(b"n")
        app.wait_for(editor_open)
        app.write(b"typed just before the link dropped")
        # the signal goes as soon as the editor shows the text, well inside the half-second
        # autosave (a loaded CI machine may take longer than any fixed pause to echo it)
        app.wait_for("typed just before the link dropped", timeout=10)
        app.signal(signal.SIGHUP)
        assert app.wait_exit(5) == 128 + signal.SIGHUP
    finally:
        app.stop()
    draft = Journal(data).load_draft()
    assert draft is not None and draft.text == "typed just before the link dropped"


KEEP = ('mount -t tmpfs -o size=1m,mode=0700 tmpfs "$0" && { "$@"; echo "cockpit exited $?"; '
        'exec sleep 60; }')
"""Like ``MOUNT``, but the shell outlives the cockpit, so the tmpfs can be read afterwards."""


def test_sighup_stores_a_refused_note_once_the_disk_has_room(sim: tuple[SimHandle, Path],
                                                             tmp_path: Path) -> None:
    data = tmp_path / "data"
    if not can_mount_tmpfs(data):
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare -Urm)")
    app = Cockpit(sim[1], data, prefix=["unshare", "-Urm", "sh", "-c", KEEP, str(data)])
    try:
        app.wait_for(ready)
        (cockpit,) = psutil.Process(app.proc.pid).children()
        inside = Path(f"/proc/{app.proc.pid}/root") / str(data).lstrip("/")
        filler = fill(inside)
        app.write(b"n")
        app.wait_for(editor_open)
        app.write(b"only in memory\x13")  # no draft either: the disk took nothing
        app.wait_for(editor_closed)
        app.wait_for("[not saved] only in memory")
        filler.unlink()  # room again, but the link dropped before anyone pressed r
        cockpit.send_signal(signal.SIGHUP)
        app.wait_for(f"cockpit exited {128 + signal.SIGHUP}", timeout=5)
        stored = stored_notes(copy_store(inside, tmp_path / "copy"))
        assert [text for text, _p, _s in stored] == ["only in memory"]
        assert not list(inside.glob("unsaved-*.json"))
    finally:
        app.stop()
