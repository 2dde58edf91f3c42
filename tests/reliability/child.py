"""Run ``imarchive`` in a child process with test-only instruments, then exit with its code.

Usage: ``python child.py CONFIG_JSON``. The config (all keys optional except ``argv``):

- ``argv``: the command line given to ``imarchive.cli.run``;
- ``test_reader``: register the ``reltest-lines`` reader (``fakereader.py``);
- ``crash``: ``{"when": "before"|"after", "op": OP, "match": REGEX, "nth": N}`` — on the N-th
  call of OP (``open`` for writing, ``fsync``, ``link``, ``replace``, ``rename``, ``unlink``,
  ``rmtree``) whose path matches REGEX, ``os._exit(137)`` before or after the real call: the
  process dies there as under ``kill -9`` (no cleanup, no ``finally``, no buffers flushed);
- ``trace``: a file that receives one ``op<TAB>path`` line per such call (to enumerate the
  crash points of a run);
- ``ready_fd``: a pipe fd; one byte is written to it when the ingest starts (after imports);
- ``gate_fd``: a pipe fd; the ingest waits for one byte on it before it starts (so that
  several children start together);
- ``locked_fd`` / ``hold_fd``: once the writer lock is taken, write one byte to
  ``locked_fd``, then wait for one byte (or EOF) on ``hold_fd`` before going on;
  ``hold_at``: ``"commit"`` pauses there instead, with the batch staged under txn/, or
  ``"end_input"``, with the first input read (also in a dry run, which takes no lock), or
  ``"add_table"``, as a columnar reader hands over its first rows (its input still open);
- ``grow``: a source path that gets a line appended right before its snapshot copy, i.e.
  between the pipeline's first hashing pass and the copy (a file that changes while read);
- ``uid``/``gid``: drop privileges to them before running;
- ``umask``: the process umask to run with.

Hooks wrap the ``os`` functions and ``builtins.open`` that the archive code calls, so the
files on disk at the crash are exactly those the real code had written by then.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # the repository root: `tests.reliability`

CRASH_CODE = 137


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


class Hooks:
    def __init__(self, crash: dict[str, Any] | None, trace: str | None) -> None:
        self.crash = crash
        self.pattern = re.compile(crash["match"]) if crash else None
        self.count = 0
        self.trace = open(trace, "a", buffering=1) if trace else None  # noqa: SIM115

    def event(self, when: str, op: str, path: str) -> None:
        if when == "before" and self.trace is not None:
            self.trace.write(f"{op}\t{path}\n")
        c = self.crash
        if c is None or c["op"] != op or self.pattern is None:
            return
        if not self.pattern.search(path):
            return
        if when == "before":
            self.count += 1
        if self.count == c["nth"] and c["when"] == when:
            os._exit(CRASH_CODE)


def install_hooks(hooks: Hooks) -> None:
    real_fsync, real_link, real_replace = os.fsync, os.link, os.replace
    real_rename, real_unlink, real_rmtree = os.rename, os.unlink, shutil.rmtree
    real_open = builtins.open

    def fsync(fd: Any) -> None:
        fd = fd if isinstance(fd, int) else fd.fileno()
        path = _fd_path(fd)
        hooks.event("before", "fsync", path)
        try:
            real_fsync(fd)
        finally:
            hooks.event("after", "fsync", path)

    def two(op: str, real: Any) -> Any:
        def wrapped(src: Any, dst: Any, *a: Any, **kw: Any) -> Any:
            path = os.fspath(dst)
            hooks.event("before", op, str(path))
            try:
                return real(src, dst, *a, **kw)
            finally:  # "after" a call that failed too: the step ran, whatever its outcome
                hooks.event("after", op, str(path))

        return wrapped

    def one(op: str, real: Any) -> Any:
        def wrapped(path: Any, *a: Any, **kw: Any) -> Any:
            name = str(os.fspath(path))
            hooks.event("before", op, name)
            try:
                return real(path, *a, **kw)
            finally:
                hooks.event("after", op, name)

        return wrapped

    def open_(file: Any, mode: str = "r", *a: Any, **kw: Any) -> Any:
        writing = isinstance(file, str | bytes | os.PathLike) and any(c in mode for c in "wxa")
        if writing:
            hooks.event("before", "open", str(os.fspath(file)))
        try:
            return real_open(file, mode, *a, **kw)
        finally:
            if writing:
                hooks.event("after", "open", str(os.fspath(file)))

    os.fsync = fsync
    os.link = two("link", real_link)
    os.replace = two("replace", real_replace)
    os.rename = two("rename", real_rename)
    os.unlink = one("unlink", real_unlink)
    shutil.rmtree = one("rmtree", real_rmtree)
    builtins.open = open_


def install_grow(target: str) -> None:
    """Append to ``target`` right before the pipeline snapshots it (after its first hash)."""
    from imarchive.archive import writer

    real = writer.copy_hashing

    def copy_hashing(src: Any, dst: Path) -> tuple[str, int]:
        if os.path.realpath(getattr(src, "name", "")) == os.path.realpath(target):
            with open(target, "ab") as fh:
                fh.write(b"2030-01-01T00:00:00Z|late|appended while the file was being read\n")
        return real(src, dst)

    writer.copy_hashing = copy_hashing  # type: ignore[assignment]


def install_start(ready_fd: int | None, gate_fd: int | None) -> None:
    from imarchive import ingest

    real = ingest.ingest

    def ingest_(*a: Any, **kw: Any) -> Any:
        if gate_fd is not None:
            os.read(gate_fd, 1)
            os.close(gate_fd)
        if ready_fd is not None:
            os.write(ready_fd, b"R")
            os.close(ready_fd)
        return real(*a, **kw)

    ingest.ingest = ingest_  # type: ignore[assignment]


def install_hold(locked_fd: int, hold_fd: int, at: str = "lock") -> None:
    """Pause at the first step after the lock is taken (recovery.find, inside the
    ingest's try/finally, so that an interrupt there releases the lock as it should),
    or (``at="commit"``) when the batch is staged and its commit is about to start, or
    (``at="end_input"``) when the first input is read and about to be closed."""
    from imarchive.archive import recovery, writer

    def paused(real: Any) -> Any:
        def hold(*a: Any, **kw: Any) -> Any:
            os.write(locked_fd, b"L")
            os.read(hold_fd, 1)
            return real(*a, **kw)

        return hold

    if at == "commit":
        writer.BatchWriter.commit = paused(writer.BatchWriter.commit)  # type: ignore[method-assign]
    elif at == "end_input":
        writer.BatchWriter.end_input = paused(writer.BatchWriter.end_input)  # type: ignore[method-assign]
    elif at == "add_table":  # while a columnar reader has its input open
        writer.BatchWriter.add_table = paused(writer.BatchWriter.add_table)  # type: ignore[method-assign]
    else:
        recovery.find = paused(recovery.find)


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``: import everything first, as the interpreter's own files may be
    out of that user's reach (a root-only pyenv, for example)."""
    import contextlib
    import ctypes.util
    import io
    import zoneinfo

    import pyarrow.parquet  # noqa: F401

    import imarchive.ingest
    import imarchive.verify  # noqa: F401
    from imarchive import cli
    from imarchive.archive import lock, recovery, store, writer  # noqa: F401

    zoneinfo.ZoneInfo("UTC")
    ctypes.util.find_library("c")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cli.run(["ingest", "--help"])  # typer/click import what they need lazily
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def main() -> int:
    config = json.loads(sys.argv[1])
    if "umask" in config:
        os.umask(config["umask"])
    if "uid" in config:
        drop_privileges(config["uid"], config["gid"])
    from imarchive import cli
    from imarchive.sources import registry

    if config.get("test_reader"):
        from tests.reliability.fakereader import LinesReader

        registry.READERS = (*registry.READERS, LinesReader())
    if config.get("grow"):
        install_grow(config["grow"])
    if config.get("ready_fd") is not None or config.get("gate_fd") is not None:
        install_start(config.get("ready_fd"), config.get("gate_fd"))
    if config.get("locked_fd") is not None:
        install_hold(config["locked_fd"], config["hold_fd"], config.get("hold_at", "lock"))
    if config.get("crash") or config.get("trace"):
        install_hooks(Hooks(config.get("crash"), config.get("trace")))
    return cli.run(config["argv"])


if __name__ == "__main__":
    sys.exit(main())
