"""File access for the notes store that a hostile or broken data directory cannot hang.

Every file is checked before it is opened (``lstat``: a symbolic link, FIFO, device, socket or
directory is refused with a line naming what it is), opened with ``O_NOFOLLOW | O_NONBLOCK |
O_NOCTTY`` and checked again with ``fstat`` (same inode, a regular file), and read with a byte
bound. Files are written 0600 through a temporary file, fsync, rename and a directory fsync.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
PRIVATE_MODE = 0o600


class RefusedFile(OSError):
    """A path that is not a regular file (or cannot be opened safely). ``str()`` is one line."""


def kind_of(mode: int) -> str:
    """``a FIFO (named pipe)``, ``a character device`` … for a ``st_mode``."""
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"))
    return next((name for check, name in kinds if check(mode)), "not a regular file")


def refusal(path: Path) -> str | None:
    """Why ``path`` must not be opened (None: a regular file, or it does not exist)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror or exc}"
    if stat.S_ISREG(info.st_mode):
        return None
    what = kind_of(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        with contextlib.suppress(OSError):
            what += f" to {os.readlink(path)}"
    return f"{path.name} is {what}, not a regular file"


def open_regular(path: Path) -> int:
    """Open an existing regular file for reading without ever blocking or following a link.

    Raises:
        FileNotFoundError: it does not exist.
        RefusedFile: it is not a regular file (the message says what it is).
        OSError: it cannot be opened.
    """
    reason = refusal(path)
    if reason is not None:
        raise RefusedFile(reason)
    try:
        fd = os.open(path, READ_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:  # ELOOP: replaced by a link since the lstat; ENXIO: a socket
        raise RefusedFile(refusal(path) or f"{path.name} cannot be opened: "
                          f"{exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(f"{path.name} is {kind_of(info.st_mode)}, not a regular file")
        os.set_blocking(fd, True)  # a regular file never blocks; reads are plain again
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_chunks(fd: int, limit: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The file's bytes in chunks, at most ``limit`` bytes in all."""
    left = limit
    while left > 0:
        data = os.read(fd, min(chunk, left))
        if not data:
            return
        left -= len(data)
        yield data


def read_small(path: Path, limit: int) -> bytes | None:
    """A small regular file whole (None: missing, refused, unreadable or over ``limit``)."""
    try:
        fd = open_regular(path)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size > limit:
            return None
        data = b"".join(read_chunks(fd, limit + 1))
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= limit else None


def fsync_dir(directory: Path) -> None:
    """Make a directory's entries durable (file systems that refuse are ignored)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_dir(directory: Path) -> None:
    """Create ``directory`` and its missing parents (0700), each made durable.

    Raises:
        OSError: it cannot be created, or exists and is not a directory.
    """
    if directory.is_dir():
        return
    missing: list[Path] = []
    path = directory
    while not path.exists() and not path.is_symlink():
        missing.append(path)
        path = path.parent
    if not path.is_dir():
        raise NotADirectoryError(20, f"{path} is not a directory")
    for item in reversed(missing):
        os.mkdir(item, 0o700)
        fsync_dir(item.parent)


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``: a 0600 temporary file (never through a link),
    fsync, rename, directory fsync.

    Raises:
        OSError: it could not be written (the temporary file is removed).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, WRITE_FLAGS, PRIVATE_MODE)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def create_private(path: Path) -> bool:
    """Create an empty 0600 file unless something exists there. Returns True when created."""
    try:
        fd = os.open(path, WRITE_FLAGS, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    fsync_dir(path.parent)
    return True


def move_aside(path: Path, label: str, stamp: str) -> Path | None:
    """Rename ``path`` (whatever it is: the object itself, never what a link points to) to
    ``NAME.LABEL-STAMP`` next to it (``-2``, ``-3`` … when taken). Returns the new path, or
    None when nothing was there.

    Raises:
        OSError: the rename failed.
    """
    if not os.path.lexists(path):
        return None
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    count = 1
    while os.path.lexists(target):
        count += 1
        target = path.with_name(f"{path.name}.{label}-{stamp}-{count}")
    os.rename(path, target)
    fsync_dir(path.parent)
    return target
