"""SPEC statements pinned against what the tool writes, with the SPEC's own words copied
here (not the tool's schema module): the column table, one file per (batch, partition),
the fields of a batch record."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

import imarchive
from tests.core.helpers import android_export, batch_records, ingest_json

# SPEC, "The common message schema": column, Arrow type, nullable ("string, null")
SPEC_COLUMNS = [
    ("message_id", "string", False),
    ("platform", "string", False),
    ("source_format", "string", False),
    ("account_id", "string", True),
    ("custodian", "string", True),
    ("conversation_id", "string", False),
    ("conversation_name", "string", True),
    ("conversation_type", "string", False),
    ("sender_id", "string", True),
    ("sender_name", "string", True),
    ("direction", "string", False),
    ("sent_at", "timestamp[us, tz=UTC]", False),
    ("sent_at_source", "string", False),
    ("source_timezone", "string", True),
    ("kind", "string", False),
    ("native_type", "string", True),
    ("body", "string", True),
    ("edited", "bool", False),
    ("deleted", "bool", False),
    (
        "attachments",
        "list<element: struct<name: string, sha256: string, size: int64, media_type: string, "
        "status: string>>",
        False,
    ),
    ("reply_to", "string", True),
    ("native_id", "string", True),
    ("source_sha256", "string", False),
    ("source_path", "string", False),
    ("source_locator", "string", False),
    ("raw", "string", False),
    ("batch_seq", "int64", False),
    ("ingested_at", "timestamp[us, tz=UTC]", False),
]


def test_parquet_files_have_the_spec_columns(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    ingest_json(archive, android_export(tmp_path / "WhatsApp Chat with Bob.txt", 20))
    files = sorted((archive / "messages").rglob("*.parquet"))
    assert files
    for f in files:
        schema = pq.read_schema(f)
        got = [(fld.name, str(fld.type), fld.nullable) for fld in schema]
        assert got == SPEC_COLUMNS, f


def test_one_file_per_batch_and_partition(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    first = android_export(tmp_path / "WhatsApp Chat with Bob.txt", 2000)
    # from 31 March to 1 April: two month partitions in one batch
    second = android_export(tmp_path / "WhatsApp Chat with Ann.txt", 2000, start=24_500)
    ingest_json(archive, first)
    ingest_json(archive, second)
    for record, _ in batch_records(archive):
        parquet = [f["path"] for f in record["files"] if f["path"].endswith(".parquet")]
        partitions = [p.rsplit("/", 1)[0] for p in parquet]
        assert len(partitions) == len(set(partitions)) >= 1, record["seq"]
    assert len(partitions) == 2  # the second batch's


def test_batch_record_says_who_ran_what_when(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    ingest_json(archive, android_export(tmp_path / "WhatsApp Chat with Bob.txt", 5))
    (record, _), *_ = batch_records(archive)
    assert record["tool_version"] == imarchive.__version__
    assert record["user"] and record["host"] and record["pid"] > 0
    started, finished = (datetime.fromisoformat(record[k]) for k in ("started", "finished"))
    assert started <= finished and started.utcoffset() is not None
