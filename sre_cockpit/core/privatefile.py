"""Writing a file only its owner can read, atomically: the one way the cockpit writes a file.

Everything the cockpit writes can hold incident details, notes or credentials (postmortem drafts,
``:export``, ``snapshot -o``, the simulator's config with its token), so every file is created
mode 0600 — whatever the umask, and whatever the mode of a file it replaces — through a temporary
file in the same directory that is fsynced and renamed over the target, so a reader never sees
half a file and a crash never leaves a truncated one. Nothing here imports Textual.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private_file(path: str | os.PathLike[str], data: str | bytes, *,
                       make_parents: bool = False) -> Path:
    """Write ``data`` to ``path`` (``~`` expanded) as a new 0600 file, atomically and durably.

    Args:
        path: the file to create or replace.
        data: text (written as UTF-8) or bytes.
        make_parents: create missing parent directories (mode 0700).

    Returns:
        The path written.

    Raises:
        OSError: the directory is not writable, the disk is full, or ``path`` exists and is not
            a regular file (``strerror`` says so; replacing a FIFO or a device by a file is never
            what was meant).
    """
    target = Path(os.path.expanduser(os.fspath(path)))
    directory = target.parent
    if make_parents:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        st = target.lstat()
    except FileNotFoundError:
        st = None
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise OSError(errno.EINVAL, "not a regular file", str(target))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    # mkstemp: a new name (O_EXCL), mode 0600
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        try:
            os.fchmod(fd, PRIVATE_MODE)  # O_CREAT's mode is masked by the umask, never widened
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (some file systems refuse fsync on a directory: ignored)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
