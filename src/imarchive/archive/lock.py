"""The writer lock: a directory ``_archive/lock`` holding ``owner.json``.

Neither ``flock`` (not shared between NFS clients everywhere, mandatory on recent
SMB mounts) nor hard links (missing on some SMB mounts) are relied on: the owner
file is written inside a private folder under ``_archive/txn/`` which is then
renamed to ``_archive/lock``; ``rename`` of a directory onto an existing non-empty
directory fails, so exactly one writer wins (borg ``ExclusiveLock``). A lock whose
owner is a dead process on this host is stale: it is broken, and the break is kept
in ``_archive/txn/lock-breaks.json`` until the next batch record lists it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imarchive.archive import layout as L
from imarchive.archive.store import iso, utc_now
from imarchive.errors import ArchiveError, LockTimeout

BREAKS_FILE = "lock-breaks.json"
BREAKER = ".breaking"  # held (a folder) while a stale lock is broken
BREAKER_EXPIRES_S = 60  # a breaker older than this was left by a crashed waiter


def _proc_start_ticks(pid: int) -> str | None:
    """The kernel's start time of a process: tells a live owner from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # field 22, counted after the parenthesised command name (which may hold spaces)
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Lock:
    root: Path
    timeout: float
    owner: dict[str, Any] | None = None
    broken: list[dict[str, Any]] | None = None

    @property
    def path(self) -> Path:
        return self.root / L.LOCK

    def acquire(self) -> None:
        deadline = time.monotonic() + max(self.timeout, 0.0)
        token = uuid.uuid4().hex
        owner = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "pid_start": _proc_start_ticks(os.getpid()),
            "started": iso(utc_now()),
            "token": token,
        }
        txn = self.root / L.TXN
        txn.mkdir(parents=True, exist_ok=True)
        delay = 0.05
        while True:
            private = txn / f".lock-{token}"
            private.mkdir()
            (private / "owner.json").write_text(json.dumps(owner))
            try:
                os.rename(private, self.path)
            except OSError as exc:
                shutil.rmtree(private, ignore_errors=True)
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                    raise ArchiveError(
                        f"{self.path}: cannot take the writer lock ({exc.strerror})"
                    ) from None
            else:
                self.owner = owner
                return
            if self._break_if_stale():
                continue
            if time.monotonic() >= deadline:
                holder = self.read_owner()
                who = (
                    f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('started')}"
                    if holder
                    else "another writer"
                )
                raise LockTimeout(f"{self.root}: archive is locked by {who}")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def read_owner(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / "owner.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _is_stale(self, holder: dict[str, Any] | None) -> bool:
        """A lock of a dead process on this host (another machine's process: never
        guess, wait for it)."""
        if holder is None or holder.get("host") != socket.gethostname():
            return False
        pid = int(holder.get("pid", -1))
        alive = _pid_alive(pid) and (
            holder.get("pid_start") is None or _proc_start_ticks(pid) == holder.get("pid_start")
        )
        return not alive

    def _break_if_stale(self) -> bool:
        """Break a stale lock. Only the holder of ``_archive/txn/.breaking`` may break
        one: without it, a waiter that saw the dead owner could move aside the fresh lock
        another waiter has just taken after breaking the same stale lock."""
        holder = self.read_owner()
        if holder is None or not self._is_stale(holder):
            return False
        breaker = self.root / L.TXN / BREAKER
        try:
            breaker.mkdir()
        except FileExistsError:
            # another waiter is breaking it; a breaker left by a crash expires
            with contextlib.suppress(OSError):
                if time.time() - breaker.stat().st_mtime > BREAKER_EXPIRES_S:
                    breaker.rmdir()
            return False
        try:
            # under the breaker nobody else can move the lock: check again, then move it
            current = self.read_owner()
            if current is None or current.get("token") != holder.get("token"):
                return False
            graveyard = self.root / L.TXN / f".broken-{uuid.uuid4().hex}"
            try:
                os.rename(self.path, graveyard)
            except OSError:
                return False
            shutil.rmtree(graveyard, ignore_errors=True)
            self._record_break(current)
            return True
        finally:
            with contextlib.suppress(OSError):
                breaker.rmdir()

    def _record_break(self, holder: dict[str, Any]) -> None:
        entry = {k: holder.get(k) for k in ("host", "pid", "started")} | {
            "broken_at": iso(utc_now())
        }
        path = self.root / L.TXN / BREAKS_FILE
        breaks = pending_breaks(self.root)
        breaks.append(entry)
        path.write_text(json.dumps(breaks))
        self.broken = breaks

    def release(self) -> None:
        if self.owner is None:
            return
        current = self.read_owner()
        if current and current.get("token") == self.owner["token"]:
            graveyard = self.root / L.TXN / f".released-{self.owner['token']}"
            with contextlib.suppress(OSError):
                os.rename(self.path, graveyard)
                shutil.rmtree(graveyard, ignore_errors=True)
        self.owner = None

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def running_writer(root: Path) -> dict[str, Any] | None:
    """The owner of the writer lock while an ingest holds it (one on another host is
    taken to be running: it cannot be told from here); None when the lock is free,
    unreadable or left by a dead process."""
    lock = Lock(root, 0.0)
    holder = lock.read_owner()
    if holder is None or lock._is_stale(holder):
        return None
    return holder


def pending_breaks(root: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads((root / L.TXN / BREAKS_FILE).read_text())
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def clear_breaks(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (root / L.TXN / BREAKS_FILE).unlink()
