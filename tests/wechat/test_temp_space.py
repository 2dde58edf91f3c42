"""SQLite sorts the rows of a large MSG table into the read order with temporary files
in TMPDIR. When they find no room,
the input is rejected with a reason that says so (not "damaged database"), exit 1, no
traceback, nothing committed; with room, the same ingest succeeds."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import small_tmpfs


@pytest.fixture
def tiny_tmp(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "tiny", 1, mode="0700") as mnt:
        yield mnt


def _big_dump(pc3_plain: Path, dst: Path) -> Path:
    """The pc3 fixture with MSG0 grown to 20,480 rows whose sort keys (talkers made 2,000
    characters long) fill ~40 MB: more than SQLite sorts in memory."""
    shutil.copytree(pc3_plain, dst)
    for name in ("MSG1.db-wal", "MSG1.db-shm"):  # no decrypted or merged temp copies
        (dst / "Msg" / "Multi" / name).unlink()
    with sqlite3.connect(dst / "Msg" / "Multi" / "MSG0.db") as conn:
        cols = [r[1] for r in conn.execute('PRAGMA table_info("MSG")') if r[1] != "localId"]
        names = ", ".join(f'"{c}"' for c in cols)
        conn.execute("UPDATE MSG SET StrTalker = printf('%.2000c', 'x') || StrTalker")
        for _ in range(9):
            conn.execute(f"INSERT INTO MSG ({names}) SELECT {names} FROM MSG")
        conn.execute("UPDATE MSG SET MsgSvrID = 1000000 + localId")
    conn.close()
    return dst


def _ingest(dump: Path, archive: Path, tmpdir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    env["TMPDIR"] = str(tmpdir)
    argv = [sys.executable, "-m", "imarchive", "ingest", str(dump), "--archive", str(archive)]
    return subprocess.run(
        [*argv, "--json"], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_no_room_for_the_sort_is_said_plainly(
    pc3_plain: Path, tmp_path: Path, tiny_tmp: Path
) -> None:
    dump = _big_dump(pc3_plain, tmp_path / "acct")
    assert (dump / "Msg" / "Multi" / "MSG0.db").stat().st_size > 5 << 20
    archive = tmp_path / "archive"
    failed = _ingest(dump, archive, tiny_tmp)
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    doc = json.loads(failed.stdout)
    (only,) = doc["inputs"]
    assert only["status"] == "rejected"
    assert "no room for temporary files" in only["error"]
    assert "TMPDIR" in only["error"] and "damaged" not in only["error"]
    assert doc["batch_seq"] is None
    roomy = tmp_path / "tmp"
    roomy.mkdir()
    done = _ingest(dump, archive, roomy)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["messages_new"] > 5_000
