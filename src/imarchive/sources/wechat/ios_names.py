"""Names from iOS ``WCDB_Contact.sqlite``: ``Friend.dbContactRemark`` is protobuf
(1 nickname, 2 alias, 3 remark); ``dbContactChatRoom`` field 6 is the RoomData XML with
each member's group display name."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

from imarchive.sources.wechat import protobuf
from imarchive.sources.wechat.common import stream, text
from imarchive.sources.wechat.dbfiles import tables
from imarchive.sources.wechat.names import Directory


def _remark(blob: object) -> tuple[str | None, str | None, str | None]:
    if not isinstance(blob, bytes) or not blob:
        return None, None, None
    try:
        f = protobuf.fields(blob)
    except protobuf.ProtobufError:
        return None, None, None
    return protobuf.first_text(f, 1), protobuf.first_text(f, 3), protobuf.first_text(f, 2)


def _room_members(blob: object) -> dict[str, str]:
    if not isinstance(blob, bytes) or not blob:
        return {}
    try:
        xml = protobuf.first_text(protobuf.fields(blob), 6)
    except protobuf.ProtobufError:
        return {}
    if not xml:
        return {}
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return {}
    out: dict[str, str] = {}
    for member in root.iter("Member"):
        user = member.get("UserName")
        shown = member.findtext("DisplayName")
        if user and shown:
            out[user] = shown
    return out


def load_directory(conn: sqlite3.Connection | None) -> tuple[Directory, list[str]]:
    """The names, and every username seen (to map ``Chat_<md5>`` tables back)."""
    directory = Directory()
    users: list[str] = []
    if conn is None or "Friend" not in tables(conn):
        return directory, users
    for row in stream(conn, "Friend"):
        v = row.values
        user = text(v, "userName")
        if not user:
            continue
        users.append(user)
        nickname, remark, alias = _remark(v.get("dbContactRemark"))
        directory.add_contact(user, nickname, remark, alias)
        directory.add_group_nicks(user, _room_members(v.get("dbContactChatRoom")))
    return directory, users
