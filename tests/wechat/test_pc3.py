"""wechat-pc3: Windows 3.x Msg folders, plain and encrypted."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from imarchive.errors import SourceError
from imarchive.sources.base import ReadOptions
from imarchive.sources.wechat import pc3
from tests.support import candidate_for
from tests.wechat import layouts
from tests.wechat import scenario as sc
from tests.wechat.checks import by_native, check_all
from tests.wechat.rows import read_all

READER = pc3.READER
KEYED = ReadOptions(timezone="UTC", keys=("00" * 32, layouts.PC_KEY), custodian="Carla")


def test_plain_every_message(pc3_plain: Path) -> None:
    messages, ctx = read_all(READER, pc3_plain)
    check_all(messages, "wechat-pc3")
    assert ctx.report.rejected == []


def test_encrypted_every_message(pc3_encrypted: Path) -> None:
    messages, ctx = read_all(READER, pc3_encrypted, KEYED)
    check_all(messages, "wechat-pc3")
    fps = ctx.report.facts["key_fingerprints"]
    assert isinstance(fps, dict) and set(fps) == {"MicroMsg.db", "MSG0.db", "MSG1.db"}
    assert layouts.PC_KEY not in json.dumps(ctx.report.facts)
    assert all(m.custodian == "Carla" for m in messages)


def test_details(pc3_plain: Path) -> None:
    got = by_native(read_all(READER, pc3_plain)[0])
    assert got["1027"].native_type == "49/57"
    assert got["1035"].native_type == "9999"
    assert got["1001"].native_type == "1"
    raw = json.loads(got["1036"].raw)
    assert base64.b64decode(raw["StrContent"]) == b"bad \xff\xfe text"
    assert "StrContent" in raw["_base64"]
    assert "<refermsg>" in json.loads(got["1027"].raw)["CompressContent_text"]
    assert got["1001"].source_locator == "MSG0.db/MSG/localId=1"
    assert got["2001"].source_locator.startswith("MSG1.db/MSG/localId=")
    assert got["1001"].sent_at_source == str(sc.T0)
    image = got["1006"].attachments
    assert len(image) == 1 and image[0].status == "stored"
    doc = got["1020"].attachments
    assert len(doc) == 1 and doc[0].status == "missing" and doc[0].name == "report.pdf"
    # group nickname and nickname kept in raw when the remark wins
    assert json.loads(got["1006"].raw)["_names"]["group_nickname"] == "Alice in group"


def test_reading_twice_gives_same_ids(pc3_plain: Path) -> None:
    first = [m.message_id for m in read_all(READER, pc3_plain)[0]]
    second = [m.message_id for m in read_all(READER, pc3_plain)[0]]
    assert first == second and len(set(first)) == len(first)


def test_wal_and_second_shard_are_read(pc3_plain: Path, tmp_path: Path) -> None:
    msg = pc3_plain / "Msg" / "Multi"
    assert (msg / "MSG1.db-wal").stat().st_size > 0
    got = by_native(read_all(READER, pc3_plain)[0])
    assert {"2001", "2002"} <= set(got)  # only in MSG1.db-wal
    assert "1038" in got  # only in MSG1.db
    # without the WAL those messages are gone: the fixture really splits them
    copy = tmp_path / "acct"
    shutil.copytree(pc3_plain, copy)
    (copy / "Msg" / "Multi" / "MSG1.db-wal").unlink()
    (copy / "Msg" / "Multi" / "MSG1.db-shm").unlink()
    got2 = by_native(read_all(READER, copy)[0])
    assert "2001" not in got2 and "1038" in got2


def test_scores(pc3_plain: Path, tmp_path: Path) -> None:
    assert READER.score(candidate_for(pc3_plain)) >= 0.9
    assert READER.score(candidate_for(pc3_plain / "Msg")) >= 0.9
    assert READER.score(candidate_for(tmp_path)) == 0.0
    f = tmp_path / "x.db"
    f.write_bytes(b"junk")
    assert READER.score(candidate_for(f)) == 0.0
    names = {p.name for p in READER.source_files(candidate_for(pc3_plain))}
    assert names == {"MicroMsg.db", "MSG0.db", "MSG1.db", "MSG1.db-wal", "MSG1.db-shm"}


def test_wrong_key(pc3_encrypted: Path) -> None:
    opts = ReadOptions(timezone="UTC", keys=("ab" * 32,))
    with pytest.raises(SourceError, match=r"cannot decrypt MicroMsg\.db: no key matches"):
        read_all(READER, pc3_encrypted, opts)
    with pytest.raises(SourceError, match="encrypted"):
        read_all(READER, pc3_encrypted)


def test_backup_and_migration_rejected(tmp_path: Path) -> None:
    (tmp_path / "Backup.db").write_bytes(b"\x00" * 64)
    (tmp_path / "BAK_0_TEXT").write_bytes(b"\x00" * 64)
    cand = candidate_for(tmp_path)
    assert READER.score(cand) > 0.2
    with pytest.raises(SourceError, match="Backup & Migration"):
        read_all(READER, tmp_path)


def test_truncated_shard(pc3_plain: Path, tmp_path: Path) -> None:
    copy = tmp_path / "acct"
    shutil.copytree(pc3_plain, copy)
    shard = copy / "Msg" / "Multi" / "MSG0.db"
    shard.write_bytes(shard.read_bytes()[:5000])
    with pytest.raises(SourceError, match=r"MSG0\.db: truncated"):
        read_all(READER, copy)


def test_unknown_layout_names_tables(pc3_plain: Path, tmp_path: Path) -> None:
    import sqlite3

    copy = tmp_path / "acct"
    shutil.copytree(pc3_plain, copy)
    shard = copy / "Msg" / "Multi" / "MSG0.db"
    shard.unlink()
    with sqlite3.connect(shard) as conn:
        conn.execute("CREATE TABLE Other(x)")
    conn.close()
    with pytest.raises(SourceError, match=r"unknown database layout.*tables: Other"):
        read_all(READER, copy)
