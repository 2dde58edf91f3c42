"""What the four WeChat layouts share: streaming rows as JSON-able records, splitting the
group-sender prefix, epoch times, and building ``Message`` objects."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from imarchive.errors import SourceError, database_reason
from imarchive.identity import wechat_id
from imarchive.model import (
    Attachment,
    AttachmentStatus,
    ConversationType,
    Direction,
    Message,
    Platform,
)
from imarchive.sources.base import MediaSink, SourceRef
from imarchive.sources.wechat.dbfiles import columns
from imarchive.sources.wechat.msgtypes import Interpreted, interpret
from imarchive.sources.wechat.names import Directory, conversation_type

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# `<sender_wxid>:\n` before the content of inbound group messages (not on Windows 3.x).
PREFIX = re.compile(r"([A-Za-z0-9][-_A-Za-z0-9.@]{1,63}):\n")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class BadTime(ValueError):
    """A row's time column holds no usable epoch (the message is the reason)."""


def sent_time(values: Mapping[str, object], name: str, *, millis: bool = False) -> datetime:
    """The exact UTC instant of the epoch column ``name``; ``BadTime`` when it is empty,
    not an integer (a REAL or a text that is not a number) or out of range: such a row is
    rejected, never given a made-up time."""
    v = values.get(name)
    if isinstance(v, str | bytes) and not v.strip():
        v = None
    if isinstance(v, str | bytes):
        try:
            v = int(v)
        except ValueError:
            raise BadTime(f"{name} is not an integer") from None
    if v is None:
        raise BadTime(f"{name} is empty")
    if not isinstance(v, int):
        raise BadTime(f"{name} is not an integer")
    try:
        return epoch_to_utc(v, millis=millis)
    except (OverflowError, ValueError):
        raise BadTime(f"{name} out of range") from None


def epoch_to_utc(value: int, *, millis: bool = False) -> datetime:
    """Exact UTC instant; ``OverflowError``/``ValueError`` for values out of range."""
    if millis:
        return EPOCH + timedelta(milliseconds=value)
    return EPOCH + timedelta(seconds=value)


def split_prefix(content: str) -> tuple[str | None, str]:
    m = PREFIX.match(content)
    if m is None:
        return None, content
    return m.group(1), content[m.end() :]


@dataclass(slots=True)
class Row:
    values: dict[str, object]  # decoded: text as str (invalid UTF-8 replaced), blobs as bytes
    record: dict[str, object]  # JSON-ready: blobs and invalid text as base64
    # The JSON of the non-blob columns made by SQLite (fast path); ``record`` then holds
    # only what is added to it (blobs as base64, decompressed XML, other names).
    base_json: str | None = None

    def raw(self) -> str:
        if self.base_json is None:
            return json.dumps(self.record, ensure_ascii=False, separators=(",", ":"))
        if not self.record:
            return self.base_json
        extra = json.dumps(self.record, ensure_ascii=False, separators=(",", ":"))
        return f"{self.base_json[:-1]},{extra[1:]}" if self.base_json != "{}" else extra


def stream(
    conn: sqlite3.Connection,
    table: str,
    order_by: str | None = None,
    binary: frozenset[str] = frozenset(),
    where: str = "",
    params: tuple[object, ...] = (),
) -> Iterator[Row]:
    """Every row of ``table`` in ``order_by`` order, one at a time (a cursor, never a
    fetchall). Text columns are read as bytes so that invalid UTF-8 cannot abort the scan."""
    cols = columns(conn, table)
    names = [c for c, _ in cols]
    text = [not decl or any(t in decl for t in ("TEXT", "CHAR", "CLOB")) for _, decl in cols]
    select = ", ".join(
        f'CAST("{c}" AS BLOB)' if is_text else f'"{c}"'
        for c, is_text in zip(names, text, strict=True)
    )
    order = f" ORDER BY {order_by}" if order_by else ""
    cond = f" WHERE {where}" if where else ""
    cursor = conn.execute(f'SELECT {select} FROM "{table}"{cond}{order}', params)
    for row in cursor:
        values: dict[str, object] = {}
        record: dict[str, object] = {}
        b64: list[str] = []
        for name, is_text, v in zip(names, text, row, strict=True):
            if isinstance(v, bytes):
                if name in binary:
                    # Kept as bytes for the layout to decode (4.x zstd message_content).
                    values[name] = v
                    if not v.startswith(ZSTD_MAGIC):
                        try:
                            record[name] = v.decode("utf-8")
                            continue
                        except UnicodeDecodeError:
                            pass
                elif is_text:
                    try:
                        s = v.decode("utf-8")
                    except UnicodeDecodeError:
                        values[name] = v.decode("utf-8", "replace")
                    else:
                        values[name] = record[name] = s
                        continue
                else:
                    values[name] = v
                record[name] = base64.b64encode(v).decode("ascii")
                b64.append(name)
            else:
                values[name] = record[name] = v
        if b64:
            record["_base64"] = b64
        yield Row(values, record)


def text(values: dict[str, object], name: str) -> str:
    v = values.get(name)
    if v is None:
        return ""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def integer(values: dict[str, object], name: str) -> int:
    v = values.get(name)
    if isinstance(v, int):
        return v
    if isinstance(v, str | bytes):
        try:
            return int(v)
        except ValueError:
            return 0
    return 0


def attach_file(
    media: MediaSink, path: Path | None, name: str | None, mime: str | None
) -> Attachment:
    if path is not None and path.is_file():
        return media.store_file(path, name or path.name, mime)
    return Attachment(name, None, None, mime, AttachmentStatus.MISSING)


@dataclass(frozen=True)
class Conversation:
    id: str
    name: str | None
    type: ConversationType


@dataclass
class Builder:
    """Turns the facts a layout found about one row into a ``Message``."""

    source_format: str
    account_id: str | None
    custodian: str | None

    def build(
        self,
        *,
        conv: Conversation,
        info: Interpreted,
        sender_id: str | None,
        sender_name: str | None,
        outbound: bool | None,
        sent_at: datetime,
        sent_at_source: str,
        server_id: int | str | None,
        local_id: int | str,
        ref: SourceRef,
        locator: str,
        raw: str,
        attachments: list[Attachment],
        id_raw: str | None = None,
        source_timezone: str | None = None,
    ) -> Message:
        """The message of one row or record: ``outbound`` None is an unknown direction;
        the id hashes ``id_raw`` instead of ``raw`` where given (SPEC identity)."""
        if info.system:
            direction = Direction.SYSTEM
            sender_id = sender_name = None
        elif outbound is None:
            direction = Direction.UNKNOWN
        else:
            direction = Direction.OUTBOUND if outbound else Direction.INBOUND
        native_id = str(server_id) if server_id not in (None, 0, "", "0") else None
        mid = wechat_id(
            self.account_id,
            conv.id,
            native_id,
            local_id=local_id,
            sent_at=sent_at,
            sender_id=sender_id,
            raw=raw if id_raw is None else id_raw,
        )
        return Message(
            message_id=mid,
            platform=Platform.WECHAT,
            source_format=self.source_format,
            account_id=self.account_id,
            custodian=self.custodian,
            conversation_id=conv.id,
            conversation_name=conv.name,
            conversation_type=conv.type,
            sender_id=sender_id,
            sender_name=sender_name,
            direction=direction,
            sent_at=sent_at,
            sent_at_source=sent_at_source,
            source_timezone=source_timezone,
            kind=info.kind,
            native_type=info.native_type,
            body=info.body,
            edited=False,
            deleted=info.deleted,
            attachments=attachments,
            reply_to=info.reply_to,
            native_id=native_id,
            source_sha256=ref.sha256,
            source_path=ref.display,
            source_locator=locator,
            raw=raw,
        )


AttachFn = Callable[[Interpreted], list[Attachment]]


@dataclass
class Emitter:
    """The tail every layout shares: type mapping, names, attachments, the Message."""

    builder: Builder
    directory: Directory

    def emit(
        self,
        *,
        conv: Conversation,
        base: int,
        content: str,
        subtype: int | None,
        native_type: str | None,
        sender: str | None,
        outbound: bool,
        sent_at: datetime,
        sent_at_source: str,
        server_id: int,
        local_id: int,
        ref: SourceRef,
        locator: str,
        row: Row,
        attach: AttachFn | None = None,
    ) -> Message:
        info = interpret(base, content, subtype=subtype, native_type=native_type)
        if outbound:
            sender = self.builder.account_id
        elif sender is None and conv.type is not ConversationType.GROUP:
            sender = conv.id
        name: str | None = None
        if sender is not None and not info.system:
            room = conv.id if conv.type is ConversationType.GROUP else None
            name, others = self.directory.sender(sender, room)
            if others:
                row.record["_names"] = others
        attachments = attach(info) if attach is not None and info.media else []
        return self.builder.build(
            conv=conv,
            info=info,
            sender_id=sender,
            sender_name=name,
            outbound=outbound,
            sent_at=sent_at,
            sent_at_source=sent_at_source,
            server_id=server_id,
            local_id=local_id,
            ref=ref,
            locator=locator,
            raw=row.raw(),
            attachments=attachments,
        )

    def conversation(self, conversation_id: str) -> Conversation:
        return Conversation(
            conversation_id,
            self.directory.conversation_name(conversation_id),
            conversation_type(conversation_id),
        )


# SQLite caps function arguments (127 by default): json_object takes two per column.
MAX_JSON_COLUMNS = 60


@dataclass(frozen=True)
class FastSelect:
    """The query of ``stream_fast`` and the conversion of its result rows, shared with the
    columnar readers (which run the same query in batches and convert only odd rows)."""

    table: str
    order_by: str
    needed: tuple[str, ...]
    decl: dict[str, str]
    plain: tuple[str, ...]
    blobs: tuple[str, ...]

    @classmethod
    def plan(
        cls, conn: sqlite3.Connection, table: str, order_by: str, needed: tuple[str, ...]
    ) -> FastSelect | None:
        """None where ``stream`` must be used (too many columns, a needed one missing)."""
        cols = columns(conn, table)
        plain = tuple(c for c, decl in cols if "BLOB" not in decl)
        blobs = tuple(c for c, decl in cols if "BLOB" in decl)
        if len(plain) > MAX_JSON_COLUMNS or not all(n in dict(cols) for n in needed):
            return None
        return cls(table, order_by, needed, dict(cols), plain, blobs)

    def sql(self, *, where: str = "") -> str:
        """Result columns: rowid, a flag (a blob in a text column), the JSON of the
        non-blob columns, the ``needed`` columns, the blob columns."""
        pairs = ", ".join(
            f"'{c}', iif(typeof(\"{c}\") = 'blob', NULL, \"{c}\")" for c in self.plain
        )
        # json_object() refuses BLOB values: a blob in a text column sends the row to
        # ``stream``.
        odd = " OR ".join(f"typeof(\"{c}\") = 'blob'" for c in self.plain) or "0"
        sel_needed = [
            f'CAST("{c}" AS BLOB)'
            if "BLOB" not in self.decl[c] and "INT" not in self.decl[c]
            else f'"{c}"'
            for c in self.needed
        ]
        sel_blobs = [f'"{c}"' for c in self.blobs]
        cond = f" WHERE {where}" if where else ""
        return (
            f"SELECT rowid, {odd}, CAST(json_object({pairs}) AS BLOB), "
            f"{', '.join(sel_needed + sel_blobs)}"
            f' FROM "{self.table}"{cond} ORDER BY {self.order_by}'
        )

    def convert(self, conn: sqlite3.Connection, row: tuple[object, ...]) -> Iterator[Row]:
        """The ``Row`` of one result row (re-read through ``stream`` where it is odd)."""
        needed = self.needed
        decl = self.decl
        n_needed = len(needed)
        try:
            if row[1]:
                raise UnicodeDecodeError("utf-8", b"", 0, 1, "blob in a text column")
            base = row[2]
            assert isinstance(base, bytes)
            base_json = base.decode("utf-8")
            values: dict[str, object] = {}
            for name, v in zip(needed, row[3 : 3 + n_needed], strict=True):
                values[name] = (
                    v.decode("utf-8") if isinstance(v, bytes) and "BLOB" not in decl[name] else v
                )
        except UnicodeDecodeError:
            yield from stream(conn, self.table, where="rowid = ?", params=(row[0],))
            return
        record: dict[str, object] = {}
        b64: list[str] = []
        for name, v in zip(self.blobs, row[3 + n_needed :], strict=True):
            values[name] = v
            if isinstance(v, bytes):
                record[name] = base64.b64encode(v).decode("ascii")
                b64.append(name)
            else:
                record[name] = v
        if b64:
            record["_base64"] = b64
        yield Row(values, record, base_json)


def stream_fast(
    conn: sqlite3.Connection, table: str, order_by: str, needed: tuple[str, ...]
) -> Iterator[Row]:
    """Like ``stream`` but SQLite builds the row JSON (``json_object``) and only the
    ``needed`` columns become Python values: the hot path for million-row tables. A row
    whose text is not valid UTF-8 is re-read through ``stream`` (the exact slow path)."""
    plan = FastSelect.plan(conn, table, order_by, needed)
    if plan is None:
        yield from stream(conn, table, order_by)
        return
    for row in conn.execute(plan.sql()):
        yield from plan.convert(conn, row)


_T = TypeVar("_T")


def guarded(rows: Iterator[_T]) -> Iterator[_T]:
    """A database found damaged part-way (SQLite raises ``DatabaseError`` while rows are
    read) rejects its input with a one-line reason, like any other unreadable source."""
    try:
        yield from rows
    except sqlite3.DatabaseError as exc:
        raise SourceError(database_reason(exc)) from exc
