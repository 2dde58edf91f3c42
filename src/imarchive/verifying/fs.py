"""Read-only access to the archive. Nothing here writes, locks or creates a file:
files and folders are opened ``O_RDONLY | O_NOFOLLOW`` and, where the kernel
allows it (we own the file), ``O_NOATIME``, so that not even access times move."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

CHUNK = 1 << 20  # hashlib releases the GIL on buffers this large
_NOATIME = getattr(os, "O_NOATIME", 0)
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

T = TypeVar("T")
R = TypeVar("R")


def open_fd(
    path: str | Path, *, directory: bool = False, dir_fd: int | None = None, follow: bool = False
) -> int:
    """Open read-only without following a symlink (unless ``follow``: the archive
    root itself may be a link). ``O_NOATIME`` is only allowed for the file's owner
    (EPERM otherwise): then open without it."""
    flags = _FLAGS | (os.O_DIRECTORY if directory else 0)
    if follow:
        flags &= ~os.O_NOFOLLOW
    if _NOATIME:
        try:
            return os.open(path, flags | _NOATIME, dir_fd=dir_fd)
        except PermissionError:
            pass
    return os.open(path, flags, dir_fd=dir_fd)


def open_binary(path: Path) -> BinaryIO:
    """A read-only binary file object (for pyarrow), opened as ``open_fd`` does."""
    return os.fdopen(open_fd(path), "rb")


def list_dir(path: Path) -> list[str]:
    """Names in a folder (the folder's access time left alone)."""
    fd = open_fd(path, directory=True)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def read_small(path: Path) -> bytes:
    """The bytes of a small regular file. Raises ``OSError`` (ELOOP for a symlink,
    ``IsADirectoryError``/EINVAL-like ``OSError`` for anything not regular)."""
    with os.fdopen(open_fd(path), "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(f"{path}: not a regular file")
        return fh.read()


def sha256_path(path: Path) -> tuple[str, int]:
    """(sha256 hex, bytes read), reading 1 MiB at a time into one reused buffer."""
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    with os.fdopen(open_fd(path), "rb", buffering=0) as fh:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while n := fh.readinto(view):
            h.update(view[:n])
            total += n
    return h.hexdigest(), total


@dataclass(frozen=True)
class Node:
    """One non-directory entry of the tree (``lstat``: links are not followed)."""

    rel: str
    mode: int
    size: int

    @property
    def regular(self) -> bool:
        return stat.S_ISREG(self.mode)

    @property
    def symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)


@dataclass
class Tree:
    files: dict[str, Node]
    dirs: set[str]
    unreadable: list[tuple[str, str]]  # (relative path, reason)


def walk(root: Path) -> Tree:
    """Every non-directory entry below ``root`` by relative path (``/``-separated)."""
    tree = Tree({}, set(), [])
    fd = open_fd(root, directory=True, follow=True)
    try:
        _walk(fd, "", tree)
    finally:
        os.close(fd)
    return tree


def _walk(dir_fd: int, prefix: str, tree: Tree) -> None:
    with os.scandir(dir_fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        rel = prefix + e.name
        try:
            st = e.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # gone since the listing (a running ingest's temp file): not there
        except OSError as exc:
            tree.unreadable.append((rel, exc.strerror or str(exc)))
            continue
        if not stat.S_ISDIR(st.st_mode):
            tree.files[rel] = Node(rel, st.st_mode, st.st_size)
            continue
        tree.dirs.add(rel)
        try:
            sub = open_fd(e.name, directory=True, dir_fd=dir_fd)
        except FileNotFoundError:
            tree.dirs.discard(rel)
            continue
        except OSError as exc:
            tree.unreadable.append((rel, exc.strerror or str(exc)))
            continue
        try:
            _walk(sub, rel + "/", tree)
        finally:
            os.close(sub)


def run_pool(
    fn: Callable[[T], R],
    items: list[T],
    workers: int,
    on_done: Callable[[T, R], None],
) -> None:
    """Run ``fn`` over ``items`` on a small thread pool; ``on_done`` runs in the
    calling thread, in completion order (it may report progress)."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            on_done(item, fn(item))
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imarchive-verify") as pool:
        futures = {pool.submit(fn, item): item for item in items}
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())


def default_workers() -> int:
    return max(2, min(4, os.cpu_count() or 2))
