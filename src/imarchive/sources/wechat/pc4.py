"""WeChat 4.x for Windows and macOS: ``xwechat_files/<wxid>_<4hex>/db_storage`` with one
``Msg_<md5(username)>`` table per chat in every ``message/message_N.db`` (formats/wechat.md,
"WeChat 4.x")."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import zstandard

from imarchive.errors import SourceError
from imarchive.model import (
    Attachment,
    AttachmentStatus,
    ConversationType,
    Message,
    MessageKind,
    Platform,
)
from imarchive.sources.base import Candidate, ReadContext, SourceRef
from imarchive.sources.wechat import protobuf, sqlcipher
from imarchive.sources.wechat.common import (
    ZSTD_MAGIC,
    BadTime,
    Builder,
    Conversation,
    Emitter,
    attach_file,
    guarded,
    integer,
    sent_time,
    split_prefix,
    stream,
    text,
)
from imarchive.sources.wechat.dbfiles import (
    Databases,
    require_tables,
    skipped_empty,
    tables,
    with_sidecars,
)
from imarchive.sources.wechat.msgtypes import Interpreted
from imarchive.sources.wechat.names import Directory

MESSAGE_DB = re.compile(r"message_(\d+)\.db")
MSG_TABLE = re.compile(r"Msg_([0-9a-f]{32})")
ACCOUNT = re.compile(r"(.+)_[0-9a-fA-F]{4}")
ZSTD_MAX = 64 << 20
BINARY = frozenset({"message_content"})


def storage_of(path: Path) -> Path | None:
    for cand in (path, path / "db_storage"):
        if message_dbs(cand):
            return cand
    return None


def message_dbs(storage: Path) -> list[Path]:
    folder = storage / "message"
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := MESSAGE_DB.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def owner_of(storage: Path) -> str | None:
    # The account folder is `<wxid>_<4 hex>`: the owner is the name without the suffix.
    name = storage.parent.name
    m = ACCOUNT.fullmatch(name)
    return m.group(1) if m else (name or None)


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def decode_content(value: object) -> tuple[str, str | None]:
    """(text, decompressed text for raw or None); zstd frames start with 28 B5 2F FD."""
    if isinstance(value, str):
        return value, None
    if not isinstance(value, bytes):
        return "", None
    if value.startswith(ZSTD_MAGIC):
        try:
            data = zstandard.ZstdDecompressor().decompressobj().decompress(value)
        except zstandard.ZstdError:
            return value.decode("utf-8", "replace"), None
        out = data[:ZSTD_MAX].decode("utf-8", "replace")
        return out, out
    return value.decode("utf-8", "replace"), None


class Pc4Reader:
    name = "wechat-pc4"
    platform = Platform.WECHAT
    description = (
        "WeChat 4.x (Windows/macOS): a `db_storage` folder (message/message_N.db) or its "
        "`xwechat_files/<wxid>_<hash>` account folder, plain or encrypted (--key)"
    )

    def score(self, candidate: Candidate) -> float:
        if not candidate.is_dir:
            return 0.0
        storage = storage_of(candidate.path)
        if storage is None:
            return 0.0
        return 0.95 if storage == candidate.path else 0.9

    def source_files(self, candidate: Candidate) -> list[Path]:
        storage = storage_of(candidate.path)
        if storage is None:
            return []
        extra = [storage / "contact" / "contact.db", storage / "session" / "session.db"]
        return with_sidecars([*message_dbs(storage), *(p for p in extra if p.is_file())])

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        return guarded(self._read(candidate, ctx))

    def _read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        storage = storage_of(candidate.path)
        if storage is None:
            raise SourceError("no db_storage/message/message_N.db in this folder")
        account = owner_of(storage)
        with Databases(ctx, sqlcipher.V4) as dbs:
            directory, users = _load_names(dbs, storage)
            emitter = Emitter(Builder(self.name, account, ctx.options.custodian), directory)
            for db in message_dbs(storage):
                if skipped_empty(db, db.name, ctx):
                    continue
                conn, ref = dbs.open(db, db.name)
                require_tables(conn, db.name, ("Name2Id",))
                name2id = {
                    int(r[0]): str(r[1])
                    for r in conn.execute("SELECT rowid, user_name FROM Name2Id")
                }
                by_hash = {md5(u): u for u in [*users, *name2id.values()]}
                for table in tables(conn):
                    m = MSG_TABLE.fullmatch(table)
                    if m is None:
                        continue
                    user = by_hash.get(m.group(1))
                    conv = (
                        emitter.conversation(user)
                        if user
                        # Deleted contact: keep the chat under its table hash, no name.
                        else Conversation(m.group(1), None, ConversationType.UNKNOWN)
                    )
                    yield from self._table(
                        conn, ref, db.name, table, conv, name2id, emitter, ctx, storage.parent
                    )

    def _table(
        self,
        conn: sqlite3.Connection,
        ref: SourceRef,
        db_name: str,
        table: str,
        conv: Conversation,
        name2id: dict[int, str],
        emitter: Emitter,
        ctx: ReadContext,
        account_dir: Path,
    ) -> Iterator[Message]:
        account = emitter.builder.account_id
        for row in stream(conn, table, "local_id", BINARY):
            v = row.values
            local_id = integer(v, "local_id")
            locator = f"{db_name}/{table}/local_id={local_id}"
            try:
                sent_at = sent_time(v, "create_time")
            except BadTime as exc:
                ctx.report.reject_row(locator, str(exc))
                continue
            # local_type is 64-bit: low 32 bits the type, high 32 the appmsg subtype.
            local_type = integer(v, "local_type")
            low, high = local_type & 0xFFFFFFFF, (local_type >> 32) & 0xFFFFFFFF
            content, unpacked = decode_content(v.get("message_content"))
            if unpacked is not None:
                row.record["message_content_text"] = unpacked
            # real_sender_id joins Name2Id of the same database only (contact.db numbers differ).
            sender = name2id.get(integer(v, "real_sender_id"))
            outbound = sender is not None and sender == account
            if conv.type is ConversationType.GROUP and not outbound:
                prefix, rest = split_prefix(content)
                if prefix is not None:
                    content, sender = rest, sender or prefix

            def attach(info: Interpreted) -> list[Attachment]:
                return _attachments(info, account_dir, ctx)

            yield emitter.emit(
                conv=conv,
                base=low,
                content=content,
                subtype=high if low == 49 and high else None,
                native_type=f"{low}/{high}" if high else str(low),
                sender=sender,
                outbound=outbound,
                sent_at=sent_at,
                sent_at_source=str(v.get("create_time")),
                server_id=integer(v, "server_id"),
                local_id=local_id,
                ref=ref,
                locator=locator,
                row=row,
                attach=attach,
            )


def _attachments(info: Interpreted, account_dir: Path, ctx: ReadContext) -> list[Attachment]:
    # Received files are kept whole under `<account>/msg/file/<YYYY-MM>/<name>`; images,
    # voice and video sit in hashed, obfuscated caches we do not resolve.
    name = info.file_name
    if info.kind is MessageKind.DOCUMENT and name and "/" not in name and "\\" not in name:
        folder = account_dir / "msg" / "file"
        if folder.is_dir():
            for month in sorted(folder.iterdir()):
                if (month / name).is_file():
                    return [attach_file(ctx.media, month / name, name, None)]
    return [Attachment(name, None, None, None, AttachmentStatus.MISSING)]


def _load_names(dbs: Databases, storage: Path) -> tuple[Directory, list[str]]:
    """Names from contact.db (contact beats stranger) and every username we can see."""
    directory = Directory()
    users: list[str] = []
    contact_db = storage / "contact" / "contact.db"
    if contact_db.is_file():
        conn, _ = dbs.open(contact_db, "contact.db")
        have = set(tables(conn))
        for table in ("contact", "stranger"):
            if table not in have:
                continue
            for row in stream(conn, table):
                v = row.values
                user = text(v, "username")
                users.append(user)
                directory.add_contact(
                    user, text(v, "nick_name"), text(v, "remark"), text(v, "alias")
                )
        if "chat_room" in have:
            for row in stream(conn, "chat_room"):
                v = row.values
                blob = v.get("ext_buffer")
                room = text(v, "username")
                users.append(room)
                directory.add_group_nicks(
                    room, protobuf.room_members(blob if isinstance(blob, bytes) else None)
                )
    session_db = storage / "session" / "session.db"
    if session_db.is_file():
        conn, _ = dbs.open(session_db, "session.db")
        if "SessionTable" in tables(conn):
            users.extend(str(r[0]) for r in conn.execute("SELECT username FROM SessionTable"))
    return directory, [u for u in users if u]


READER = Pc4Reader()
