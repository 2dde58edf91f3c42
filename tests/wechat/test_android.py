"""wechat-android: EnMicroMsg.db, plain and SQLCipher 1."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from imarchive.errors import SourceError
from imarchive.sources.base import ReadOptions
from imarchive.sources.wechat import android
from tests.support import candidate_for, read_all
from tests.wechat import layouts
from tests.wechat.checks import by_native, check_all

READER = android.READER
KEYED = ReadOptions(timezone="UTC", keys=("0000000", layouts.ANDROID_KEY))


def test_plain_every_message(android_plain: Path) -> None:
    messages, ctx = read_all(READER, android_plain)
    check_all(messages, "wechat-android")
    assert ctx.report.rejected == []


def test_encrypted_every_message(android_encrypted: Path) -> None:
    assert not android_encrypted.read_bytes().startswith(b"SQLite format 3")
    messages, ctx = read_all(READER, android_encrypted, KEYED)
    check_all(messages, "wechat-android")
    assert layouts.ANDROID_KEY not in json.dumps(ctx.report.facts)
    assert "EnMicroMsg.db" in ctx.report.facts["key_fingerprints"]  # type: ignore[operator]


def test_details(android_plain: Path) -> None:
    got = by_native(read_all(READER, android_plain)[0])
    assert got["1027"].native_type == "822083633"
    assert got["1022"].native_type == "-1879048186"
    assert got["1022"].kind == "location"
    assert got["1034"].native_type == "268445456" and got["1034"].deleted
    assert got["1004"].body == "hi all"  # the `wxid:\n` prefix is stripped in groups only
    assert got["1006"].attachments[0].status == "missing"
    assert got["1001"].sent_at_source.endswith("000")


def test_wal_is_read(android_plain: Path, tmp_path: Path) -> None:
    got = by_native(read_all(READER, android_plain)[0])
    assert {"2001", "2002"} <= set(got)
    copy = tmp_path / "EnMicroMsg.db"
    shutil.copyfile(android_plain, copy)
    assert "2001" not in by_native(read_all(READER, copy)[0])


def test_owner_nickname_from_userinfo(android_plain: Path, tmp_path: Path) -> None:
    """Without an rcontact row of their own, the owner's messages carry the nickname of
    ``userinfo`` id 4, not the bare wxid."""
    copy = tmp_path / "dump"
    shutil.copytree(android_plain.parent, copy)
    with sqlite3.connect(copy / android_plain.name) as conn:
        conn.execute("DELETE FROM rcontact WHERE username = ?", (layouts.sc.OWNER,))
    conn.close()
    outbound = [
        m for m in read_all(READER, copy / android_plain.name)[0] if m.direction == "outbound"
    ]
    names = {(m.conversation_type, m.sender_id, m.sender_name) for m in outbound}
    assert names == {
        ("direct", layouts.sc.OWNER, "Owen Owner"),
        ("group", layouts.sc.OWNER, "Owen"),  # the group nickname still comes first
    }


def test_twice_same_ids(android_encrypted: Path) -> None:
    a = [m.message_id for m in read_all(READER, android_encrypted, KEYED)[0]]
    b = [m.message_id for m in read_all(READER, android_encrypted, KEYED)[0]]
    assert a == b


def test_wrong_passphrase(android_encrypted: Path) -> None:
    opts = ReadOptions(timezone="UTC", keys=("zzzzzzz",))
    with pytest.raises(SourceError, match=r"cannot decrypt EnMicroMsg\.db: no key matches"):
        read_all(READER, android_encrypted, opts)


def test_score(android_plain: Path, tmp_path: Path) -> None:
    assert READER.score(candidate_for(android_plain)) >= 0.9
    enc = tmp_path / "EnMicroMsg.db"
    enc.write_bytes(b"\x13" * 4096)
    assert READER.score(candidate_for(enc)) >= 0.9  # encrypted: scored by name
    assert READER.score(candidate_for(tmp_path)) == 0.0


def test_not_sqlite_and_unknown_layout(tmp_path: Path) -> None:
    bad = tmp_path / "EnMicroMsg.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20)
    with pytest.raises(SourceError, match="truncated"):
        read_all(READER, bad)
    bad.unlink()
    with sqlite3.connect(bad) as conn:
        conn.execute("CREATE TABLE foo(x)")
        conn.execute("CREATE TABLE bar(y)")
    conn.close()
    with pytest.raises(SourceError, match="tables: bar, foo"):
        read_all(READER, bad)
