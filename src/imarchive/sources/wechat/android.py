"""Android ``EnMicroMsg.db`` (formats/wechat.md, "Android"): one ``message`` table,
composite 32-bit type codes, millisecond epochs, SQLCipher 1 encryption."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from imarchive.model import Attachment, AttachmentStatus, ConversationType, Message, Platform
from imarchive.sources.base import Candidate, ReadContext
from imarchive.sources.wechat import protobuf, sqlcipher
from imarchive.sources.wechat.common import (
    BadTime,
    Builder,
    Emitter,
    guarded,
    integer,
    sent_time,
    split_prefix,
    stream,
    text,
)
from imarchive.sources.wechat.dbfiles import Databases, require_tables, tables, with_sidecars
from imarchive.sources.wechat.msgtypes import ANDROID_CODES, BASE_KINDS, Interpreted
from imarchive.sources.wechat.names import Directory

NAME = "enmicromsg.db"


def split_code(code: int) -> tuple[int, int | None]:
    """(base type, appmsg subtype) of a composite code; the low 16 bits hint the family."""
    if code in ANDROID_CODES:
        return ANDROID_CODES[code]
    if code in BASE_KINDS or code == 49:
        return code, None
    low = code & 0xFFFF
    if low == 49 or low in (10000, 10002):
        return low, None
    return code, None


class AndroidReader:
    name = "wechat-android"
    platform = Platform.WECHAT
    description = (
        "WeChat for Android: an EnMicroMsg.db file, plain or encrypted (--key with the "
        "7-character passphrase)"
    )

    def score(self, candidate: Candidate) -> float:
        if candidate.is_dir:
            return 0.0
        if candidate.path.name.lower() == NAME:
            return 0.95
        head = candidate.head
        if head.startswith(sqlcipher.SQLITE_MAGIC) and b"rcontact" in head and b"chatroom" in head:
            return 0.6
        return 0.0

    def source_files(self, candidate: Candidate) -> list[Path]:
        return with_sidecars([candidate.path])

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        return guarded(self._read(candidate, ctx))

    def _read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        db = candidate.path
        name = db.name
        with Databases(ctx, sqlcipher.ANDROID) as dbs:
            conn, ref = dbs.open(db, name)
            require_tables(conn, name, ("message",))
            have = set(tables(conn))
            account = _userinfo(conn, 2) if "userinfo" in have else None
            if account is None:
                ctx.report.warn("", "owner_unknown", "no owner wxid in userinfo (id 2)")
            directory = _directory(conn, have)
            if account is not None:  # the owner's nickname (id 4) where rcontact has none
                directory.add_contact(account, _userinfo(conn, 4), None, None)
            emitter = Emitter(Builder(self.name, account, ctx.options.custodian), directory)
            for row in stream(conn, "message", "msgId"):
                v = row.values
                local_id = integer(v, "msgId")
                locator = f"{name}/message/msgId={local_id}"
                talker = text(v, "talker")
                if not talker:
                    ctx.report.reject_row(locator, "no conversation id (talker empty)")
                    continue
                try:
                    sent_at = sent_time(v, "createTime", millis=True)
                except BadTime as exc:
                    ctx.report.reject_row(locator, str(exc))
                    continue
                code = integer(v, "type")
                base, sub = split_code(code)
                conv = emitter.conversation(talker)
                outbound = integer(v, "isSend") == 1
                content = text(v, "content")
                sender = None
                if conv.type is ConversationType.GROUP and not outbound:
                    sender, content = split_prefix(content)
                img = text(v, "imgPath")

                def attach(info: Interpreted, img: str = img) -> list[Attachment]:
                    # Media live in the phone's storage, never inside EnMicroMsg.db.
                    name = info.file_name or (Path(img).name if img else None)
                    return [Attachment(name, None, None, None, AttachmentStatus.MISSING)]

                yield emitter.emit(
                    conv=conv,
                    base=base,
                    content=content,
                    subtype=sub,
                    native_type=str(code),
                    sender=sender,
                    outbound=outbound,
                    sent_at=sent_at,
                    sent_at_source=str(v.get("createTime")),
                    server_id=integer(v, "msgSvrId"),
                    local_id=local_id,
                    ref=ref,
                    locator=locator,
                    row=row,
                    attach=attach,
                )


def _userinfo(conn: sqlite3.Connection, key: int) -> str | None:
    """``userinfo`` value ``key`` (2: the owner's wxid, 4: the owner's nickname)."""
    row = conn.execute("SELECT value FROM userinfo WHERE id = ?", (key,)).fetchone()
    if row is None or not row[0]:
        return None
    value = row[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _directory(conn: sqlite3.Connection, have: set[str]) -> Directory:
    directory = Directory()
    if "rcontact" in have:
        for row in stream(conn, "rcontact"):
            v = row.values
            directory.add_contact(
                text(v, "username"), text(v, "nickname"), text(v, "conRemark"), text(v, "alias")
            )
    if "chatroom" in have:
        for row in stream(conn, "chatroom"):
            v = row.values
            blob = v.get("roomdata")
            members = protobuf.room_members(blob if isinstance(blob, bytes) else None)
            if not members:
                # Older databases: parallel lists, ';' for ids and '、' for names.
                ids = text(v, "memberlist").split(";")
                shown = text(v, "displayname").split("、")
                if len(ids) == len(shown):
                    members = {i: n for i, n in zip(ids, shown, strict=True) if i and n}
            directory.add_group_nicks(text(v, "chatroomname"), members)
    return directory


READER = AndroidReader()
