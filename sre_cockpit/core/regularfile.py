"""Read a small file the operator named, without ever blocking or reading without end.

``open()`` on a FIFO waits for a writer (``--config`` on a named pipe hung the cockpit), a
character device such as ``/dev/zero`` never ends, and opening some devices has side effects.
So: ``stat`` first and refuse anything that is not a regular file without opening it; open with
``O_NONBLOCK`` (a FIFO swapped in after the ``stat`` opens at once instead of waiting) and check
again with ``fstat`` on what was actually opened; read at most ``limit + 1`` bytes. Nothing here
knows what the file is for: callers word their own messages from the exceptions.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NOCTTY", 0))


class NotRegularFile(Exception):
    """The path names a directory, FIFO, device or socket. ``str()`` says which, e.g.
    ``a named pipe (FIFO), not a regular file``; ``kind`` is the first part alone."""

    def __init__(self, mode: int) -> None:
        self.is_dir = stat.S_ISDIR(mode)
        self.kind = describe_mode(mode)
        super().__init__(f"{self.kind}, not a regular file")


class FileTooLarge(Exception):
    """The file holds more than the caller's limit (``size`` is what ``fstat`` said, or the
    bytes read when it grew while being read)."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"{format_size(size)} is larger than the limit of {format_size(limit)}")


def describe_mode(mode: int) -> str:
    """What kind of file ``st_mode`` is, in words (``a named pipe (FIFO)``)."""
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a regular file")]
    for test, words in kinds:
        if test(mode):
            return words
    return "a special file"


def format_size(size: int) -> str:
    """``4194304`` → ``4 MiB``, ``65536`` → ``64 KiB``, ``5000`` → ``5000 bytes``."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


@contextlib.contextmanager
def open_regular(path: str | os.PathLike[str]) -> Iterator[tuple[int, os.stat_result]]:
    """Open a regular file for reading without blocking; yields the descriptor and its
    ``fstat``. The descriptor is closed on exit.

    Raises:
        NotRegularFile: a directory, FIFO, device or socket (checked before and after opening).
        OSError: the file cannot be opened (missing, permissions, a loop of symlinks, …).
    """
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise NotRegularFile(before.st_mode)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(st.st_mode)
        yield fd, st
    finally:
        os.close(fd)


def read_limited(fd: int, st: os.stat_result, limit: int) -> bytes:
    """All bytes of an open regular file, at most ``limit``.

    Raises:
        FileTooLarge: ``fstat`` already says more than ``limit``, or more arrived while reading.
        OSError: a read failed.
    """
    if st.st_size > limit:
        raise FileTooLarge(st.st_size, limit)
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.read(fd, min(1024 * 1024, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise FileTooLarge(total, limit)
    return b"".join(chunks)


def read_regular_file(path: str | os.PathLike[str] | Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, read without blocking.

    Raises:
        NotRegularFile: not a regular file.
        FileTooLarge: larger than ``limit``.
        OSError: cannot be opened or read.
    """
    with open_regular(path) as (fd, st):
        return read_limited(fd, st, limit)
