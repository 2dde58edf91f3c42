"""Windows PC WeChat 3.x: ``WeChat Files/<wxid>/Msg`` with ``Multi/MSG<n>.db`` time
shards and ``MicroMsg.db`` (formats/wechat.md, "Windows PC WeChat 3.x")."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import lz4.block

from imarchive.errors import SourceError
from imarchive.model import Attachment, ConversationType, Message, MessageKind, Platform
from imarchive.sources.base import Candidate, ReadContext, RowTable, SourceRef
from imarchive.sources.wechat import protobuf, sqlcipher
from imarchive.sources.wechat.common import (
    BadTime,
    Builder,
    Emitter,
    Row,
    attach_file,
    guarded,
    integer,
    sent_time,
    stream,
    stream_fast,
    text,
)
from imarchive.sources.wechat.dbfiles import (
    Databases,
    columns,
    require_tables,
    skipped_empty,
    with_sidecars,
)
from imarchive.sources.wechat.msgtypes import Interpreted
from imarchive.sources.wechat.names import Directory

SHARD = re.compile(r"MSG(\d+)\.db", re.IGNORECASE)
WXID = re.compile(r"[A-Za-z][-_A-Za-z0-9]{5,}")
LZ4_MAX = 64 << 20
NEEDED: tuple[str, ...] = ("localId", "MsgSvrID", "Type", "SubType", "IsSender", "CreateTime")
NEEDED += ("StrTalker", "StrContent")


def shards(msg_dir: Path) -> list[Path]:
    multi = msg_dir / "Multi"
    if not multi.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in multi.iterdir() if (m := SHARD.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def msg_dir_of(path: Path) -> Path | None:
    for cand in (path, path / "Msg"):
        if (cand / "MicroMsg.db").is_file() and shards(cand):
            return cand
    return None


def is_backup_migration(path: Path) -> bool:
    """WeChat's own "Backup & Migration" store: encrypted and undocumented."""
    return (path / "Backup.db").is_file() and any(path.glob("BAK_*"))


def owner_of(msg_dir: Path) -> str | None:
    # The account folder `WeChat Files/<wxid>` holds `Msg`; its name is the owner's wxid.
    if msg_dir.name.lower() == "msg":
        return msg_dir.parent.name or None
    return msg_dir.name if WXID.fullmatch(msg_dir.name) else None


def decompress(blob: bytes) -> str | None:
    """CompressContent: a raw LZ4 block (no frame), NUL-padded."""
    try:
        data: bytes = lz4.block.decompress(
            blob, uncompressed_size=min(len(blob) * 255 + 64, LZ4_MAX)
        )
    except lz4.block.LZ4BlockError:
        return None
    return data.rstrip(b"\x00").decode("utf-8", "replace")


class Pc3Reader:
    name = "wechat-pc3"
    platform = Platform.WECHAT
    description = (
        "WeChat for Windows 3.x: a `Msg` folder (Multi/MSG*.db + MicroMsg.db) or its "
        "`WeChat Files/<wxid>` account folder, plain or encrypted (--key)"
    )

    def score(self, candidate: Candidate) -> float:
        if not candidate.is_dir:
            return 0.0
        path = candidate.path
        found = msg_dir_of(path)
        if found is not None:
            return 0.95 if found.name.lower() == "msg" else 0.9
        if is_backup_migration(path):
            return 0.6
        return 0.0

    def source_files(self, candidate: Candidate) -> list[Path]:
        msg_dir = msg_dir_of(candidate.path)
        if msg_dir is None:
            return []
        return with_sidecars([msg_dir / "MicroMsg.db", *shards(msg_dir)])

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message | RowTable]:
        """Tables of rows (the columnar path); the same rows as ``read_messages``."""
        from imarchive.sources.wechat.pc3_columnar import read

        return guarded(read(candidate, ctx))

    def read_messages(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        """One ``Message`` per row: the reference the columnar path is tested against."""
        for shard, opened in self.open_shards(candidate, ctx):
            conn, ref = opened
            for row in stream_fast(conn, "MSG", msg_order(conn), NEEDED):
                message = row_message(row, shard.shard_name, ref, shard, ctx)
                if message is not None:
                    yield message

    def open_shards(
        self, candidate: Candidate, ctx: ReadContext
    ) -> Iterator[tuple[Shard, tuple[sqlite3.Connection, SourceRef]]]:
        """Each MSG shard, opened (plain, WAL merged), with what its rows need."""
        if is_backup_migration(candidate.path):
            raise SourceError(
                "WeChat 'Backup & Migration' folder (Backup.db + BAK_*) is not supported: "
                "it is encrypted and undocumented; ingest the PC's Msg folder instead"
            )
        msg_dir = msg_dir_of(candidate.path)
        if msg_dir is None:
            raise SourceError("no Multi/MSG*.db and MicroMsg.db in this folder")
        account = owner_of(msg_dir)
        if account is None:
            ctx.report.warn("", "owner_unknown", "account folder name not found; account_id empty")
        files_root = msg_dir.parent.parent if msg_dir.name.lower() == "msg" else None
        with Databases(ctx, sqlcipher.WIN3) as dbs:
            conn, _ = dbs.open(msg_dir / "MicroMsg.db", "MicroMsg.db")
            directory = load_directory(conn)
            emitter = Emitter(Builder(self.name, account, ctx.options.custodian), directory)
            for path in shards(msg_dir):
                if skipped_empty(path, path.name, ctx):
                    continue
                opened = dbs.open(path, path.name)
                require_tables(opened[0], path.name, ("MSG",))
                yield Shard(path.name, emitter, files_root), opened


@dataclass(frozen=True)
class Shard:
    shard_name: str
    emitter: Emitter
    files_root: Path | None


def msg_order(conn: sqlite3.Connection) -> str:
    """The order rows are read in: one conversation after another, each in time order
    (``localId`` among equals), which is the archive's own order, so the batch writer
    appends every chunk to one part per month and merges nothing; ``localId`` alone where
    the table lacks those columns. The order changes no value of any row."""
    names = {name for name, _ in columns(conn, "MSG")}
    if {"StrTalker", "CreateTime"} <= names:
        return '"StrTalker" COLLATE BINARY, "CreateTime", "localId"'
    return '"localId"'


def row_message(
    row: Row, shard_name: str, ref: SourceRef, shard: Shard, ctx: ReadContext
) -> Message | None:
    """The message of one MSG row, or None (the row is reported as rejected)."""
    emitter = shard.emitter
    files_root = shard.files_root
    v = row.values
    local_id = integer(v, "localId")
    locator = f"{shard_name}/MSG/localId={local_id}"
    talker = text(v, "StrTalker")
    if not talker:
        ctx.report.reject_row(locator, "no conversation id (StrTalker empty)")
        return None
    try:
        sent_at = sent_time(v, "CreateTime")
    except BadTime as exc:
        ctx.report.reject_row(locator, str(exc))
        return None
    base = integer(v, "Type")
    content = text(v, "StrContent")
    compressed = v.get("CompressContent")
    if base == 49 and isinstance(compressed, bytes) and compressed:
        xml = decompress(compressed)
        if xml is not None:
            content = xml
            row.record["CompressContent_text"] = xml
    conv = emitter.conversation(talker)
    outbound = integer(v, "IsSender") == 1
    extra = v.get("BytesExtra")
    blob = extra if isinstance(extra, bytes) else None
    # Windows 3.x: no `wxid:\n` prefix; the group sender is BytesExtra item type 1.
    # Parsed only where needed.
    sender = None
    if conv.type is ConversationType.GROUP and not outbound:
        sender = protobuf.bytes_extra_items(blob).get(1)
    sub = integer(v, "SubType") if base == 49 else None

    def attach(info: Interpreted, blob: bytes | None = blob) -> list[Attachment]:
        return _attachments(info, protobuf.bytes_extra_items(blob), files_root, ctx)

    return emitter.emit(
        conv=conv,
        base=base,
        content=content,
        subtype=sub or None,
        native_type=None if base == 49 else str(base),
        sender=sender,
        outbound=outbound,
        sent_at=sent_at,
        sent_at_source=str(v.get("CreateTime")),
        server_id=integer(v, "MsgSvrID"),
        local_id=local_id,
        ref=ref,
        locator=locator,
        row=row,
        attach=attach,
    )


def _attachments(
    info: Interpreted, items: dict[int, str], files_root: Path | None, ctx: ReadContext
) -> list[Attachment]:
    # BytesExtra item 4 is the media/file path, 3 the thumbnail, both relative to
    # `WeChat Files` and written with backslashes.
    rel = items.get(4) or (items.get(3) if info.kind is MessageKind.IMAGE else None)
    name = info.file_name
    path: Path | None = None
    if rel:
        parts = PureWindowsPath(rel).parts
        name = name or parts[-1]
        if files_root is not None and parts and ".." not in parts:
            path = files_root.joinpath(*parts)
    return [attach_file(ctx.media, path, name, None)]


def load_directory(conn: sqlite3.Connection) -> Directory:
    require_tables(conn, "MicroMsg.db", ("Contact",))
    directory = Directory()
    for row in stream(conn, "Contact"):
        v = row.values
        directory.add_contact(
            text(v, "UserName"), text(v, "NickName"), text(v, "Remark"), text(v, "Alias")
        )
    has_rooms = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='ChatRoom'"
    ).fetchone()
    if has_rooms:
        for row in stream(conn, "ChatRoom"):
            v = row.values
            blob = v.get("RoomData")
            directory.add_group_nicks(
                text(v, "ChatRoomName"),
                protobuf.room_members(blob if isinstance(blob, bytes) else None),
            )
    return directory


READER = Pc3Reader()
