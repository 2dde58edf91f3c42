"""One writer at a time: concurrent ingests serialise; a dead writer's lock is broken
and recorded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from imarchive.archive.lock import Lock
from imarchive.errors import LockTimeout
from tests.core.helpers import (
    android_export,
    assert_chain,
    batch_records,
    ingest,
    read_rows,
    sha256sum_check,
)


def _popen_ingest(archive: Path, export: Path, timeout: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imarchive",
            "ingest",
            str(export),
            "--archive",
            str(archive),
            "--timezone",
            "UTC",
            "--lock-timeout",
            timeout,
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _seed(archive: Path, tmp_path: Path) -> None:
    """A first batch, so that the archive exists before the racers start."""
    seed = android_export(tmp_path / "seed.txt", 1)
    assert ingest(archive, seed).returncode == 0


def test_two_ingests_started_together(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a = android_export(tmp_path / "x" / "WhatsApp Chat with Bob.txt", 3000, 0)
    b = android_export(tmp_path / "y" / "WhatsApp Chat with Bob.txt", 3000, 1500)
    procs = [_popen_ingest(archive, a, "60"), _popen_ingest(archive, b, "60")]
    codes = [p.wait(timeout=120) for p in procs]
    assert all(c == 0 for c in codes), [p.stderr.read() if p.stderr else "" for p in procs]
    rows = read_rows(archive)
    ids = [r["message_id"] for r in rows]
    assert len(ids) == len(set(ids)) == 4500 + 1
    assert len(batch_records(archive)) == 2
    assert_chain(archive)
    assert sha256sum_check(archive).returncode == 0


def test_loser_exits_3_with_short_timeout(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    exports = []
    for k in range(2):
        (tmp_path / str(k)).mkdir()
        exports.append(android_export(tmp_path / str(k) / "WhatsApp Chat with Bob.txt", 60_000, k))
    _seed(archive, tmp_path)
    procs = [_popen_ingest(archive, e, "0") for e in exports]
    codes = sorted(p.wait(timeout=120) for p in procs)
    # both may finish if they happen not to overlap; otherwise exactly one loses with 3
    assert codes in ([0, 0], [0, 3])
    assert_chain(archive)
    ids = [r["message_id"] for r in read_rows(archive)]
    assert len(ids) == len(set(ids))


def test_stale_lock_of_a_dead_process_is_broken_and_recorded(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    _seed(archive, tmp_path)
    # a writer that takes the lock and is killed
    dead = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os,sys; from pathlib import Path; from imarchive.archive.lock import Lock\n"
            "Lock(Path(sys.argv[1]), 0).acquire(); os._exit(9)",
            str(archive),
        ],
        check=False,
    )
    assert dead.returncode == 9
    owner = json.loads((archive / "_archive" / "lock" / "owner.json").read_text())
    assert owner["host"] == socket.gethostname()
    export = android_export(tmp_path / "WhatsApp Chat with Carol.txt", 5)
    proc = _popen_ingest(archive, export, "0")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    record = batch_records(archive)[-1][0]
    assert [b["pid"] for b in record["lock_breaks"]] == [owner["pid"]]
    assert not (archive / "_archive" / "lock").exists()


def test_live_lock_is_never_broken(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    _seed(archive, tmp_path)
    mine = Lock(archive, 0)
    mine.acquire()
    try:
        with pytest.raises(LockTimeout):
            Lock(archive, 0.3).acquire()
        assert mine.read_owner() == mine.owner
    finally:
        mine.release()


def test_a_slow_breaker_never_moves_a_fresh_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two waiters see the same dead owner; the first breaks the lock and takes it. The
    second, acting on what it saw, must leave the fresh lock alone, even when a third
    writer would grab the lock path in any moment it stood empty."""
    archive = tmp_path / "archive"
    _seed(archive, tmp_path)
    dead = subprocess.run(
        [sys.executable, "-c",
         "import os,sys; from pathlib import Path; from imarchive.archive.lock import Lock\n"
         "Lock(Path(sys.argv[1]), 0).acquire(); os._exit(9)", str(archive)],
        check=False,
    )  # fmt: skip
    assert dead.returncode == 9
    slow = Lock(archive, 0)
    stale_view = slow.read_owner()
    assert stale_view is not None
    fast = Lock(archive, 0)
    fast.acquire()  # breaks the stale lock and takes a fresh one
    third = Lock(archive, 0)
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        real_rename(src, dst)  # type: ignore[arg-type]
        if Path(str(src)) == archive / "_archive" / "lock":
            third.acquire()  # the lock path stood empty: a third writer takes it

    try:
        views = iter([stale_view])
        real = slow.read_owner
        slow.read_owner = lambda: next(views, None) or real()  # type: ignore[method-assign]
        monkeypatch.setattr(os, "rename", rename)
        assert slow._break_if_stale() is False
        monkeypatch.undo()
        assert third.owner is None  # nobody else ever got the lock
        assert fast.read_owner() == fast.owner
    finally:
        monkeypatch.undo()
        fast.release()
