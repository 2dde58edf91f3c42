"""The Arrow schema of a message row: the only place the column names live."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from imarchive.model import Message

SCHEMA_VERSION = 1

ATTACHMENT_TYPE = pa.struct(
    [
        pa.field("name", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("media_type", pa.string()),
        pa.field("status", pa.string()),
    ]
)

TIMESTAMP = pa.timestamp("us", tz="UTC")

SCHEMA = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("platform", pa.string(), nullable=False),
        pa.field("source_format", pa.string(), nullable=False),
        pa.field("account_id", pa.string()),
        pa.field("custodian", pa.string()),
        pa.field("conversation_id", pa.string(), nullable=False),
        pa.field("conversation_name", pa.string()),
        pa.field("conversation_type", pa.string(), nullable=False),
        pa.field("sender_id", pa.string()),
        pa.field("sender_name", pa.string()),
        pa.field("direction", pa.string(), nullable=False),
        pa.field("sent_at", TIMESTAMP, nullable=False),
        pa.field("sent_at_source", pa.string(), nullable=False),
        pa.field("source_timezone", pa.string()),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("native_type", pa.string()),
        pa.field("body", pa.string()),
        pa.field("edited", pa.bool_(), nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("attachments", pa.list_(ATTACHMENT_TYPE), nullable=False),
        pa.field("reply_to", pa.string()),
        pa.field("native_id", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
        pa.field("source_path", pa.string(), nullable=False),
        pa.field("source_locator", pa.string(), nullable=False),
        pa.field("raw", pa.string(), nullable=False),
        pa.field("batch_seq", pa.int64(), nullable=False),
        pa.field("ingested_at", TIMESTAMP, nullable=False),
    ],
    metadata={"imarchive.schema_version": str(SCHEMA_VERSION)},
)

COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
PARTITION_KEYS: tuple[str, ...] = ("platform", "year", "month")

# Column order of a Message that maps one-to-one onto SCHEMA (all but the batch stamps).
_MESSAGE_COLUMNS = COLUMNS[:-2]


def schema_description() -> list[dict[str, str | bool]]:
    """The schema as plain JSON, for archive.json and the manifest."""
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in SCHEMA]


def partition_of(platform: str, sent_at: datetime) -> str:
    """Relative partition directory under ``messages/`` (from sent_at in UTC)."""
    return f"platform={platform}/year={sent_at.year:04d}/month={sent_at.month:02d}"


def to_table(messages: Sequence[Message], batch_seq: int, ingested_at: datetime) -> pa.Table:
    """Messages → a table with every column of the schema, in schema order."""
    columns: dict[str, list[object]] = {name: [] for name in _MESSAGE_COLUMNS}
    for m in messages:
        for name in _MESSAGE_COLUMNS:
            columns[name].append(getattr(m, name))
    arrays: list[pa.Array] = []
    for f in SCHEMA:
        if f.name == "batch_seq":
            arrays.append(pa.array([batch_seq] * len(messages), pa.int64()))
        elif f.name == "ingested_at":
            arrays.append(pa.array([ingested_at] * len(messages), TIMESTAMP))
        elif f.name == "attachments":
            arrays.append(
                pa.array(
                    [
                        [
                            {
                                "name": a.name,
                                "sha256": a.sha256,
                                "size": a.size,
                                "media_type": a.media_type,
                                "status": str(a.status),
                            }
                            for a in atts  # type: ignore[attr-defined]
                        ]
                        for atts in columns["attachments"]
                    ],
                    f.type,
                )
            )
        else:
            values = columns[f.name]
            if f.type == pa.string():
                values = [None if v is None else str(v) for v in values]
            arrays.append(pa.array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
