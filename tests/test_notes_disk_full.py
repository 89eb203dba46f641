"""A nearly full disk never doubles note text: the real cockpit on a real, tiny tmpfs.

Before: a note that failed to save left its draft behind, so the next note opened with that text
and became ``NOTE-ANOTE-B``; after ``r`` the store held both and A was in every later note. Now
the refused note is parked in its draft's place (a rename needs no space), the next editor opens
empty, and ``r`` stores each note once.

The cockpit runs in its own user + mount namespace (``unshare -Urm``) with its data directory on
a 1 MiB tmpfs; the test fills and empties that tmpfs through ``/proc/PID/root``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from notes_helpers import Cockpit, editor_closed, editor_open, ready, stored_notes
from sim_helpers import SimHandle, launch_simulator

pytestmark = [pytest.mark.slow]

MOUNT = 'mount -t tmpfs -o size=1m,mode=0700 tmpfs "$0" && exec "$@"'


def can_mount_tmpfs(where: Path) -> bool:
    where.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["unshare", "-Urm", "sh", "-c", MOUNT, str(where), "true"],
                              capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path / "sim.yaml"
    handle = launch_simulator(seed=5, write_config=config)
    try:
        yield handle, config
    finally:
        handle.stop()


def fill(directory: Path) -> Path:
    """Fill the file system under ``directory`` to the last byte."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    finally:
        os.close(fd)
    return filler


def copy_store(directory: Path, to: Path) -> Path:
    """A copy of the store (SQLite resolves /proc/PID/root to the host's view, so the file
    inside the namespace is read from a copy of notes.db and its WAL)."""
    to.mkdir()
    for name in ("notes.db", "notes.db-wal"):
        if (directory / name).exists():
            shutil.copyfile(directory / name, to / name)
    return to / "notes.db"


def test_a_refused_note_is_not_typed_into_the_next_one(sim: tuple[SimHandle, Path],
                                                       tmp_path: Path) -> None:
    data = tmp_path / "data"
    if not can_mount_tmpfs(data):
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare -Urm)")
    app = Cockpit(sim[1], data, prefix=["unshare", "-Urm", "sh", "-c", MOUNT, str(data)])
    try:
        app.wait_for(ready)
        inside = Path(f"/proc/{app.proc.pid}/root") / str(data).lstrip("/")
        app.write(b"n")
        app.wait_for(editor_open)
        app.write(b"NOTE-A")
        app.wait_for("draft saved")  # the draft reached the disk while there was room
        filler = fill(inside)
        app.write(b"\x13")
        app.wait_for(editor_closed)
        app.wait_for("[not saved] NOTE-A")
        app.wait_for("disk full")
        assert [p.name for p in inside.glob("unsaved-*.json")] != []  # parked: the draft moved
        assert not list(inside.glob("draft*.json"))
        app.write(b"n")
        screen = app.wait_for(editor_open)
        assert "restored the unsent draft" not in screen  # the next note starts empty
        app.write(b"NOTE-B\x13")
        app.wait_for(editor_closed)
        app.wait_for("[not saved] NOTE-B")
        filler.unlink()  # room again
        app.write(b"4")
        app.pump(0.3)
        app.write(b"r")
        app.wait_for("2 note(s) saved")
        app.wait_for(lambda s: "[not saved]" not in s)
        stored = [text for text, _p, _s in stored_notes(copy_store(inside, tmp_path / "copy"))]
        assert stored == ["NOTE-A", "NOTE-B"]  # each once, neither inside the other
        assert not list(inside.glob("unsaved-*.json"))
    finally:
        app.stop()
        with contextlib.suppress(OSError):
            (data / "filler").unlink()

