"""The Arrow schema of a message row: the only place the column names live."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from imarchive.model import Attachment, Message

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
# What a reader produces: every column but the batch stamps (batch_seq, ingested_at).
MESSAGE_SCHEMA = pa.schema(list(SCHEMA)[:-2], metadata=SCHEMA.metadata)
PARTITION_KEYS: tuple[str, ...] = ("platform", "year", "month")


def schema_description() -> list[dict[str, str | bool]]:
    """The schema as plain JSON, for archive.json and the manifest."""
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in SCHEMA]


def partition_of(platform: str, sent_at: datetime) -> str:
    """Relative partition directory under ``messages/`` (from sent_at in UTC)."""
    return f"platform={platform}/year={sent_at.year:04d}/month={sent_at.month:02d}"


def _attachment_rows(atts: list[Attachment]) -> list[dict[str, object]]:
    return [
        {
            "name": a.name,
            "sha256": a.sha256,
            "size": a.size,
            "media_type": a.media_type,
            "status": str(a.status),
        }
        for a in atts
    ]


def to_table(messages: Sequence[Message]) -> pa.Table:
    """Messages → a table of MESSAGE_SCHEMA (every column but the batch stamps)."""
    arrays: list[pa.Array] = []
    for f in MESSAGE_SCHEMA:
        name = f.name
        if name == "attachments":
            arrays.append(
                pa.array(
                    [_attachment_rows(m.attachments) if m.attachments else [] for m in messages],
                    f.type,
                )
            )
        else:
            get = attrgetter(name)
            # StrEnum values are str: Arrow takes them as they are
            arrays.append(pa.array([get(m) for m in messages], f.type))
    return pa.Table.from_arrays(arrays, schema=MESSAGE_SCHEMA)


def stamp(table: pa.Table, batch_seq: int, ingested_at: datetime) -> pa.Table:
    """A MESSAGE_SCHEMA table → a full SCHEMA table of the batch."""
    n = table.num_rows
    columns = [
        *table.columns,
        pa.repeat(pa.scalar(batch_seq, pa.int64()), n),
        pa.repeat(pa.scalar(ingested_at, TIMESTAMP), n),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


class Codes:
    """Strings numbered in order of first use: the dictionary of a dictionary array, for
    the columnar readers' low-cardinality columns."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found


def decoded(codes: np.ndarray, dictionary: Sequence[str | None] | pa.Array) -> pa.Array:
    """Strings from codes into a dictionary (a negative code is null): the columns of
    ``Codes`` and other per-distinct-value tables of the columnar readers."""
    missing = codes < 0
    idx = pa.array(codes.astype(np.int32), mask=missing if missing.any() else None)
    values = dictionary if isinstance(dictionary, pa.Array) else pa.array(dictionary, pa.string())
    return pc.take(values, idx)


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2").view(np.uint16)


def sha256_hex(data: pa.Array) -> pa.StringArray:
    """Lowercase hex sha256 of each string of ``data`` (one tight loop over the buffer)."""
    n = len(data)
    bufs = data.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=data.offset * 4)
    mv = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
    sha = hashlib.sha256
    starts = offs[:-1].tolist()
    ends = offs[1:].tolist()
    raw = b"".join([sha(mv[a:b]).digest() for a, b in zip(starts, ends, strict=True)])
    hexed = _HEX[np.frombuffer(raw, dtype=np.uint8)]
    out = pa.StringArray.from_buffers(
        n,
        pa.py_buffer(np.arange(0, 64 * n + 1, 64, dtype=np.int32)),
        pa.py_buffer(hexed.tobytes()),
    )
    return out
