"""wechat-ios: extracted Documents trees, iTunes backups, and the encrypted macOS 3.x form."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from imarchive.errors import SourceError
from imarchive.sources.base import ReadOptions
from imarchive.sources.wechat import ios
from tests.support import candidate_for, read_all
from tests.wechat import layouts
from tests.wechat.checks import by_native, check_all

READER = ios.READER
KEYED = ReadOptions(timezone="UTC", keys=(layouts.PC_KEY,))


def test_tree_every_message(ios_tree: Path) -> None:
    messages, ctx = read_all(READER, ios_tree)
    check_all(messages, "wechat-ios")
    assert ctx.report.rejected == []


def test_backup_every_message(ios_backup: Path) -> None:
    messages, _ = read_all(READER, ios_backup)
    check_all(messages, "wechat-ios")
    names = {p.name for p in READER.source_files(candidate_for(ios_backup))}
    assert "Manifest.db" in names and len(names) == 1 + 3 + 2 * 2  # dbs, wal and shm


def test_encrypted_macos_every_message(ios_encrypted: Path) -> None:
    messages, ctx = read_all(READER, ios_encrypted, KEYED)
    check_all(messages, "wechat-ios")
    assert layouts.PC_KEY not in json.dumps(ctx.report.facts)


def test_media(ios_backup: Path, ios_tree: Path) -> None:
    for root in (ios_backup, ios_tree):
        got = by_native(read_all(READER, root)[0])
        assert got["1006"].attachments[0].status == "stored"
        assert got["1020"].attachments[0].status == "stored"
        assert got["1020"].attachments[0].name == "report.pdf"
        assert got["1007"].attachments[0].status == "missing"


def test_tree_entry_points_and_scores(ios_tree: Path, tmp_path: Path) -> None:
    docs = ios_tree / "Documents"
    account = docs / layouts.md5("wxid_owner01")
    for path in (ios_tree, docs, account):
        assert READER.score(candidate_for(path)) >= 0.9
        assert len(read_all(READER, path)[0]) == len(read_all(READER, ios_tree)[0])
    assert READER.score(candidate_for(tmp_path)) == 0.0


def test_wal_and_second_file(ios_tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c"
    shutil.copytree(ios_tree, copy)
    db = copy / "Documents" / layouts.md5("wxid_owner01") / "DB"
    for p in db.glob("*-wal"):
        p.unlink()
    got = by_native(read_all(READER, copy)[0])
    assert "2001" not in got and "2002" not in got
    assert "1004" in got  # from message_1.sqlite


def test_encrypted_backup_rejected(tmp_path: Path) -> None:
    (tmp_path / "Manifest.db").write_bytes(b"\x8a" * 8192)
    assert READER.score(candidate_for(tmp_path)) > 0.2
    with pytest.raises(SourceError, match="make an unencrypted backup"):
        read_all(READER, tmp_path)


def test_wrong_key(ios_encrypted: Path) -> None:
    with pytest.raises(SourceError, match="no key matches"):
        read_all(READER, ios_encrypted, ReadOptions(timezone="UTC", keys=("11" * 32,)))


def _without_group_contact(ios_tree: Path, tmp_path: Path) -> Path:
    """A copy whose Friend table no longer holds the group (a group the owner left)."""
    copy = tmp_path / "tree"
    shutil.copytree(ios_tree, copy)
    (contacts,) = copy.rglob("WCDB_Contact.sqlite")
    with sqlite3.connect(contacts) as conn:
        conn.execute("DELETE FROM Friend WHERE userName = ?", (layouts.sc.GROUP,))
    conn.close()
    return copy


def test_chat_missing_from_friend_is_named_by_the_session_list(
    ios_tree: Path, tmp_path: Path
) -> None:
    copy = _without_group_contact(ios_tree, tmp_path)
    (account,) = (copy / "Documents").iterdir()
    (account / "session").mkdir()
    with sqlite3.connect(account / "session" / "session.db") as conn:
        conn.execute("CREATE TABLE SessionAbstract (UsrName TEXT, CreateTime INTEGER)")
        conn.execute("INSERT INTO SessionAbstract VALUES (?, 1)", (layouts.sc.GROUP,))
    conn.close()
    messages, _ = read_all(READER, copy)
    group = [m for m in messages if m.conversation_id == layouts.sc.GROUP]
    assert group and {m.conversation_type for m in group} == {"group"}
    assert "session.db" in {p.name for p in READER.source_files(candidate_for(copy))}
    senders = {m.sender_id for m in group if m.direction == "inbound"}
    assert senders == {layouts.sc.ALICE, layouts.sc.BOB}


def test_chat_named_nowhere_is_still_read_as_a_group(ios_tree: Path, tmp_path: Path) -> None:
    """Under its table hash, but a group: the sender prefix is split off the body."""
    copy = _without_group_contact(ios_tree, tmp_path)
    messages, _ = read_all(READER, copy)
    group = [m for m in messages if m.conversation_id == ios.md5(layouts.sc.GROUP)]
    assert group and {m.conversation_type for m in group} == {"group"}
    inbound = [m for m in group if m.direction == "inbound"]
    assert {m.sender_id for m in inbound} == {layouts.sc.ALICE, layouts.sc.BOB}
    assert not any((m.body or "").startswith("wxid_") for m in inbound)


@pytest.mark.parametrize("content", [b"", b"not a database at all, just bytes" * 50])
def test_unreadable_session_list_is_a_warning(
    ios_tree: Path, tmp_path: Path, content: bytes
) -> None:
    """session.db only helps name chats: a damaged one does not reject the backup."""
    copy = _without_group_contact(ios_tree, tmp_path)
    (account,) = (copy / "Documents").iterdir()
    (account / "session").mkdir()
    (account / "session" / "session.db").write_bytes(content)
    messages, ctx = read_all(READER, copy)
    assert len(messages) == len(read_all(READER, ios_tree)[0])
    assert [w.code for w in ctx.report.warnings] == ["session_list_unreadable"]
