"""Hostile notes files against the real cockpit in a pty.

Before: notes.jsonl as a FIFO froze the UI (deaf to ctrl+q, SIGTERM and SIGHUP), symlinked to
/dev/full it grew to 6 GB RSS in 8 s, damaged records were skipped without a word and garbage
before the first newline dropped a note. Now the cockpit starts, says what it refused or skipped
(a toast and the timeline's status line), answers keys and signals, and keeps its memory.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from notes_helpers import Cockpit, editor_closed, editor_open, ready, stored_notes
from sim_helpers import SimHandle, launch_simulator
from test_notes_migration import line, old_note

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path_factory.mktemp("sim") / "sim.yaml"
    handle = launch_simulator(seed=5, write_config=config)
    try:
        yield handle, config
    finally:
        handle.stop()


def flat(screen: str) -> str:
    """The toasts' text, their line breaks and borders taken out (a toast's lines start
    after a "▌")."""
    return " ".join(row.rsplit("▌", 1)[1].strip(" │─╯╮") for row in screen.splitlines()
                    if "▌" in row)


@pytest.mark.parametrize("how", ["ctrl+q", "SIGTERM", "SIGHUP"])
def test_a_fifo_journal_is_refused_and_the_cockpit_stays_responsive(
        sim: tuple[SimHandle, Path], tmp_path: Path, how: str) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    os.mkfifo(data / "notes.jsonl")
    app = Cockpit(sim[1], data)
    try:
        app.wait_for(ready)
        app.wait_for(lambda s: "notes.jsonl is a FIFO (named pipe), not a regular file"
                     in flat(s))
        if how == "ctrl+q":
            app.write(b"\x11")
        else:
            app.signal(getattr(signal, how))
        status = app.wait_exit(5)
        assert status is not None, f"still running 5 s after {how}:\n{app.text()}"
        assert status in (0, 128 + getattr(signal, how, 0), -getattr(signal, how, 0))
        assert (data / "notes.jsonl").exists()  # left alone
    finally:
        app.stop()


def test_a_journal_linked_to_dev_full_is_refused_and_memory_stays_flat(
        sim: tuple[SimHandle, Path], tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "notes.jsonl").symlink_to("/dev/full")
    app = Cockpit(sim[1], data)
    try:
        app.wait_for(ready)
        app.wait_for(lambda s: "notes.jsonl is a symbolic link to /dev/full" in flat(s))
        app.pump(3.0)
        rss = psutil.Process(app.proc.pid).memory_info().rss
        assert rss < 300 * 2**20, f"RSS {rss / 2**20:.0f} MB"
        app.write(b"n")
        app.wait_for(editor_open)
        app.write(b"the store works\x13")
        app.wait_for(editor_closed)
        app.pump(0.5)
        assert [t for t, _p, _s in stored_notes(data / "notes.db")] == ["the store works"]
    finally:
        app.stop()


def test_damaged_old_journal_says_what_was_skipped_and_keeps_every_good_note(
        sim: tuple[SimHandle, Path], tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    # written in the simulator's context: notes belong to the context they were written in
    first, second, third = (old_note(text, context="sim") for text in ("n-one", "n-two",
                                                                        "n-three"))
    (data / "notes.jsonl").write_bytes(
        b"\x00\x00garbage" + line(first)          # garbage before the first newline
        + b"[" * 100_000 + b"\n"                   # nesting too deep for the decoder
        + line(second) + b"{\"type\":\"note\",\"id\":\"tor\n"  # a torn record
        + line(third))
    app = Cockpit(sim[1], data)
    try:
        app.wait_for(ready)
        screen = app.wait_for(lambda s: "2 damaged record(s) skipped" in flat(s))
        assert "line 1, 2, 4" in flat(screen) and "notes.jsonl.migrated" in flat(screen)
        for text in ("n-one", "n-two", "n-three"):  # the timeline lists every good note
            app.wait_for(text)
        assert [t for t, _p, _s in stored_notes(data / "notes.db")] == \
            ["n-one", "n-two", "n-three"]
        assert (data / "notes.jsonl.migrated").exists()
    finally:
        app.stop()


def test_a_damaged_store_is_moved_aside_said_and_replaced(sim: tuple[SimHandle, Path],
                                                          tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "notes.db").write_bytes(b"\x00garbage, not SQLite\n" * 500)
    app = Cockpit(sim[1], data)
    try:
        app.wait_for(ready)
        app.wait_for(lambda s: "notes.db is damaged (file is not a database): moved aside"
                     in flat(s))
        (kept,) = data.glob("notes.db.corrupt-*")
        assert kept.read_bytes() == b"\x00garbage, not SQLite\n" * 500
        app.write(b"n")
        app.wait_for(editor_open)
        app.write(b"in the new store\x13")
        app.wait_for(editor_closed)
        app.pump(0.5)
        assert [t for t, _p, _s in stored_notes(data / "notes.db")] == ["in the new store"]
    finally:
        app.stop()
