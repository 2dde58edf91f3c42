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


def test_no_room_for_a_plain_copy_rejects_that_dump_only(
    pc3_plain: Path, tmp_path: Path, tiny_tmp: Path
) -> None:
    """A WAL larger than TMPDIR's room: the merged plain copy cannot be written. That dump
    is rejected with the reason (TMPDIR, not the archive); the other inputs of the run are
    committed."""
    dump = tmp_path / "acct"
    shutil.copytree(pc3_plain, dump)
    db = dump / "Msg" / "Multi" / "MSG1.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE pad (x BLOB)")
    conn.execute("INSERT INTO pad VALUES (randomblob(2000000))")
    conn.commit()
    # a copy of the WAL as it stands (closing the connection would check it in)
    wal = (dump / "Msg" / "Multi" / "MSG1.db-wal").read_bytes()
    conn.close()
    (dump / "Msg" / "Multi" / "MSG1.db-wal").write_bytes(wal)
    assert len(wal) > 1 << 20
    chat = tmp_path / "WhatsApp Chat with Bob.txt"
    chat.write_text("12/03/2024, 10:00 - Bob: hi\n12/03/2024, 10:01 - Ann: yo\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    env["TMPDIR"] = str(tiny_tmp)
    argv = [sys.executable, "-m", "imarchive", "ingest", str(dump), str(chat)]
    proc = subprocess.run(
        [*argv, "--archive", str(tmp_path / "archive"), "--timezone", "UTC", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert "inputs" in doc, doc
    by_path = {Path(i["path"]).name: i for i in doc["inputs"]}
    assert by_path[chat.name]["status"] == "ingested"
    bad = by_path["acct"]
    assert bad["status"] == "rejected"
    assert f"cannot write its plain copy in {tiny_tmp}" in bad["error"], bad["error"]
    assert doc["batch_seq"] == 1
