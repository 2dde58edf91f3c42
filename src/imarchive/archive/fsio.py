"""Crash-safe file primitives: temp file in the same directory → fsync → rename →
fsync the directory (borg ``SaveFile``). Publishing never overwrites: ``os.link``
where the file system has hard links, else a unique temp name and ``os.replace``
after an existence check (some SMB mounts lack hard links)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # some network file systems refuse to open directories
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # EINVAL on file systems without directory fsync
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def temp_name(final: Path) -> Path:
    """A sibling temp name that never ends in ``.parquet`` (DuckDB globs dot-files too)."""
    return final.with_name(f".tmp-{uuid.uuid4().hex}-{final.name}.part")


def write_atomic(final: Path, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` to ``final`` all-or-nothing. With ``overwrite=False`` an
    existing ``final`` raises ``FileExistsError`` and is left untouched."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    with open(tmp, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        if overwrite:
            os.replace(tmp, final)
        else:
            publish(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(final.parent)


def publish(staged: Path, final: Path) -> None:
    """Move a fully written, fsynced file to its final name without ever replacing an
    existing file. Raises ``FileExistsError`` when ``final`` exists."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(staged, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (
            errno.EPERM,
            errno.ENOTSUP,
            errno.EOPNOTSUPP,
            errno.EXDEV,
            errno.EMLINK,
        ):
            raise
        # No hard links here: check, then rename. The writer lock makes the window harmless.
        if final.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(final)) from None
        os.replace(staged, final)
        return
    os.unlink(staged)


def make_read_only(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


class NotRegularFile(OSError):
    """A path that is a FIFO, a device or a socket: reading one would block the run
    forever (a FIFO with no writer) or never end (``/dev/zero``)."""


def open_regular(path: Path) -> BinaryIO:
    """``open(path, "rb")`` for a regular file (a symbolic link to one included); a FIFO,
    device or socket raises ``NotRegularFile``, without blocking on a FIFO's open."""

    def opener(name: str, flags: int) -> int:
        fd = os.open(name, flags | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise NotRegularFile(
                    errno.EINVAL, "not a regular file: a FIFO, device or socket", name
                )
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    return open(path, "rb", opener=opener)


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open_regular(path) as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def copy_hashing(src: BinaryIO, dst: Path) -> tuple[str, int]:
    """Copy a stream into a new file, fsync it, return (sha256, size)."""
    h = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "xb") as out:
        while chunk := src.read(CHUNK):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return h.hexdigest(), size


def walk_files(root: Path) -> Iterator[Path]:
    """Every regular file or symlink below ``root``, without following links."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(filenames):
            yield base / name
        for name in dirnames:
            if (base / name).is_symlink():
                yield base / name
