"""wechat-pc4: WeChat 4.x db_storage folders, plain and SQLCipher 4."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from imarchive.errors import SourceError
from imarchive.model import Message
from imarchive.sources.base import ReadOptions
from imarchive.sources.wechat import pc4
from tests.support import candidate_for, read_all
from tests.wechat import layouts
from tests.wechat.checks import by_native, check_all

READER = pc4.READER
KEYED = ReadOptions(timezone="UTC", keys=(layouts.PC_KEY,))


@pytest.fixture(scope="module")
def encrypted_messages(pc4_encrypted: Path) -> tuple[list[Message], dict[str, object]]:
    messages, ctx = read_all(READER, pc4_encrypted, KEYED)
    return messages, ctx.report.facts


def test_plain_every_message(pc4_plain: Path) -> None:
    messages, ctx = read_all(READER, pc4_plain)
    check_all(messages, "wechat-pc4")
    assert ctx.report.rejected == []


def test_encrypted_every_message(
    encrypted_messages: tuple[list[Message], dict[str, object]],
) -> None:
    messages, facts = encrypted_messages
    check_all(messages, "wechat-pc4")
    assert set(facts["key_fingerprints"]) == {  # type: ignore[call-overload]
        "contact.db",
        "session.db",
        "message_0.db",
        "message_1.db",
    }
    assert layouts.PC_KEY not in json.dumps(facts)


def test_encrypted_ids_match_plain(
    pc4_plain: Path, encrypted_messages: tuple[list[Message], dict[str, object]]
) -> None:
    plain = sorted(m.message_id for m in read_all(READER, pc4_plain)[0])
    assert plain == sorted(m.message_id for m in encrypted_messages[0])


def test_details(pc4_plain: Path) -> None:
    got = by_native(read_all(READER, pc4_plain)[0])
    assert got["1027"].native_type == "49/57"
    assert got["1001"].native_type == "1"
    assert got["1004"].body == "hi all"  # zstd content, prefix stripped
    assert "message_content_text" in json.loads(got["1020"].raw)
    assert got["1020"].attachments[0].status == "stored"
    assert got["1006"].attachments[0].status == "missing"
    assert got["1004"].source_locator.startswith("message_0.db/Msg_")


def test_scores_and_entry_points(pc4_plain: Path, tmp_path: Path) -> None:
    storage = pc4_plain / "db_storage"
    assert READER.score(candidate_for(storage)) >= 0.9
    assert READER.score(candidate_for(pc4_plain)) >= 0.9
    assert READER.score(candidate_for(tmp_path)) == 0.0
    assert len(read_all(READER, storage)[0]) == len(read_all(READER, pc4_plain)[0])


def test_wal_and_shards(pc4_plain: Path, tmp_path: Path) -> None:
    copy = tmp_path / "acct"
    shutil.copytree(pc4_plain, copy)
    for p in (copy / "db_storage" / "message").glob("*-wal"):
        p.unlink()
    got = by_native(read_all(READER, copy)[0])
    assert "2001" not in got and "1038" in got  # 1038 only in message_1.db


def test_deleted_contact_table_kept(pc4_plain: Path, tmp_path: Path) -> None:
    import sqlite3

    copy = tmp_path / "acct"
    shutil.copytree(pc4_plain, copy)
    db = copy / "db_storage" / "message" / "message_0.db"
    with sqlite3.connect(db) as conn:
        table = "Msg_" + layouts.md5("wxid_gone")
        conn.execute(layouts.PC4_MSG.format(table))
        conn.execute(
            f'INSERT INTO "{table}" (local_id, server_id, local_type, real_sender_id, '
            "create_time, message_content) VALUES (1, 9001, 1, 0, 1700000000, 'hello')"
        )
    conn.close()
    got = by_native(read_all(READER, copy)[0])
    assert got["9001"].conversation_id == layouts.md5("wxid_gone")
    assert got["9001"].conversation_name is None


def test_wrong_key(pc4_encrypted: Path) -> None:
    with pytest.raises(SourceError, match=r"cannot decrypt \w+\.db: no key matches"):
        read_all(READER, pc4_encrypted, ReadOptions(timezone="UTC", keys=("22" * 32,)))
