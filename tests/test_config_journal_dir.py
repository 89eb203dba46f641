"""``journal_dir`` must be a directory the notes journal can be written to, or a path that can be
created as one. ``journal_dir: /etc/passwd`` used to load, and every note then failed to save.
Through the real process: ``tests/test_config_edges_commands.py``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from config_helpers import error_of, write

from sre_cockpit.config.checks import journal_dir_problem
from sre_cockpit.config.model import load_config

BASE = "contexts:\n  prod: {}\n"


def _config(tmp_path: Path, value: str) -> Path:
    return write(tmp_path, BASE + f"journal_dir: '{value}'\n")


def test_a_regular_file_is_refused_at_its_position(tmp_path: Path) -> None:
    path = _config(tmp_path, "/etc/passwd")
    assert error_of(path) == (f"{path}:3:14: journal_dir: /etc/passwd is a regular file, not a "
                              "directory (journal_dir is the directory the notes journal is kept "
                              "in)")


@pytest.mark.parametrize(("make", "kind"), [
    (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
    (lambda p: p.symlink_to("/dev/null"), "a character device"),
])
def test_special_files_are_refused(tmp_path: Path, make: object, kind: str) -> None:
    target = tmp_path / "journal"
    make(target)  # type: ignore[operator]
    assert journal_dir_problem(str(target)) == (
        f"{target} is {kind}, not a directory (journal_dir is the directory the notes journal "
        "is kept in)")


def test_a_path_below_a_file_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    assert journal_dir_problem(str(blocker / "a" / "b")) == (
        f"{blocker / 'a' / 'b'} cannot be created: {blocker} is a regular file, not a directory")


def test_existing_and_creatable_directories_load(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path, str(tmp_path))).journal_dir == str(tmp_path)
    deep = tmp_path / "not" / "yet" / "there"
    assert load_config(_config(tmp_path, str(deep))).journal_dir == str(deep)
    assert not deep.exists()  # checking never creates anything


def test_tilde_is_expanded_like_the_journal_does(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "file").write_text("x")
    assert journal_dir_problem("~/file") == (
        f"{tmp_path / 'file'} is a regular file, not a directory (journal_dir is the directory "
        "the notes journal is kept in)")
    assert journal_dir_problem("~/new/dir") is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="POSIX permissions; root may write anywhere")
def test_unwritable_directories_are_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert journal_dir_problem(str(locked)) == (
            f"{locked} is not writable, so notes could not be saved there")
        assert journal_dir_problem(str(locked / "sub")) == (
            f"{locked / 'sub'} cannot be created: {locked} is not writable")
    finally:
        locked.chmod(0o700)


def test_an_empty_value_means_the_default(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path, "")).journal_dir == ""
