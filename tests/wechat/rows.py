"""Reading a WeChat input in tests whatever its reader yields: ``Message`` objects, or
(the columnar ``wechat-pc3`` path) tables of ``MESSAGE_SCHEMA`` rows turned back into
``Message`` objects."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from imarchive.model import (
    Attachment,
    AttachmentStatus,
    ConversationType,
    Direction,
    Message,
    MessageKind,
    Platform,
)
from imarchive.schema import MESSAGE_SCHEMA, to_table
from imarchive.sources.base import Reader, ReadOptions
from tests.support import DirectContext, candidate_for


def messages_of(table: pa.Table) -> list[Message]:
    out: list[Message] = []
    for row in table.to_pylist():
        row["attachments"] = [
            Attachment(
                a["name"], a["sha256"], a["size"], a["media_type"], AttachmentStatus(a["status"])
            )
            for a in row["attachments"]
        ]
        row["platform"] = Platform(row["platform"])
        row["conversation_type"] = ConversationType(row["conversation_type"])
        row["direction"] = Direction(row["direction"])
        row["kind"] = MessageKind(row["kind"])
        out.append(Message(**row))
    return out


def read_items(
    reader: Reader, path: Path, options: ReadOptions | None = None
) -> tuple[list[Message | pa.Table], DirectContext]:
    ctx = DirectContext(options or ReadOptions(timezone="UTC"))
    return list(reader.read(candidate_for(path), ctx)), ctx


def read_all(
    reader: Reader, path: Path, options: ReadOptions | None = None
) -> tuple[list[Message], DirectContext]:
    """Like ``tests.support.read_all``, for readers that yield tables too."""
    items, ctx = read_items(reader, path, options)
    messages: list[Message] = []
    for item in items:
        if isinstance(item, Message):
            messages.append(item)
        else:
            messages.extend(messages_of(item))
    return messages, ctx


def read_table(
    reader: Reader, path: Path, options: ReadOptions | None = None
) -> tuple[pa.Table, DirectContext]:
    """Everything the reader yields, as one table."""
    items, ctx = read_items(reader, path, options)
    tables = [to_table([i]) if isinstance(i, Message) else i for i in items]
    return (pa.concat_tables(tables) if tables else MESSAGE_SCHEMA.empty_table()), ctx
