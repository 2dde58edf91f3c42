"""The archive core, end to end on WhatsApp exports: layout, schema, checksums,
idempotence, overlap, the chain, read-only files, dry runs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imarchive.schema import SCHEMA
from tests.core.helpers import (
    android_export,
    assert_chain,
    batch_records,
    ingest,
    ingest_json,
    read_rows,
    run_cli,
    sha256sum_check,
)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return android_export(tmp_path / "WhatsApp Chat with Bob Sample.txt", 40)


def test_first_ingest_lays_out_the_archive(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    data = ingest_json(archive, export, extra=["--custodian", "Jane"])
    assert data["batch_seq"] == 1
    assert data["totals"]["messages_new"] == 41  # 40 messages + the encryption notice
    for rel in (
        "_archive/archive.json",
        "_archive/manifest.json",
        "_archive/batches/00000001.json",
        "SHA256SUMS",
    ):
        assert (archive / rel).is_file(), rel
    parts = list((archive / "messages").rglob("*.parquet"))
    assert [p.parent.relative_to(archive / "messages").as_posix() for p in parts] == [
        "platform=whatsapp/year=2024/month=03"
    ]
    src_sha = data["inputs"][0]["sha256"]
    assert (archive / "sources" / src_sha[:2] / src_sha).read_bytes() == export.read_bytes()
    assert data["head"]["seq"] == 1
    assert sha256sum_check(archive).returncode == 0


def test_every_column_with_the_spec_types(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    ingest_json(archive, export)
    import pyarrow.dataset as ds

    table = ds.dataset(archive / "messages", format="parquet", partitioning="hive").to_table()
    for field in SCHEMA:
        assert table.schema.field(field.name).type == field.type, field.name
    # one file alone is a complete record: every column, platform included
    one = pq.read_table(next((archive / "messages").rglob("*.parquet")))
    assert one.schema.names == SCHEMA.names
    con = duckdb.connect()
    glob = str(archive / "messages" / "**" / "*.parquet")
    cols = {
        r[0]: r[1]
        for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning=true)"
        ).fetchall()
    }
    for name in SCHEMA.names:
        assert name in cols, name
    assert cols["sent_at"] == "TIMESTAMP WITH TIME ZONE"
    assert cols["attachments"].startswith("STRUCT(")
    count = con.execute(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true)"
    ).fetchone()
    assert count is not None and count[0] == 41


def test_parquet_files_are_zstd_with_statistics(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    ingest_json(archive, export)
    meta = pq.ParquetFile(next((archive / "messages").rglob("*.parquet"))).metadata
    col = meta.row_group(0).column(0)
    assert col.compression == "ZSTD"
    assert col.is_stats_set


def test_rows_are_ordered_by_conversation_time_and_source(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    ingest_json(archive, export)
    rows = read_rows(archive)
    keys = [(r["conversation_id"], r["sent_at"]) for r in rows]
    assert keys == sorted(keys)


def test_reingest_adds_nothing_and_writes_no_batch(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    ingest_json(archive, export)
    before = sorted(p.relative_to(archive) for p in archive.rglob("*") if p.is_file())
    proc = ingest(archive, export)
    assert proc.returncode == 0
    assert "nothing new" in proc.stderr
    data = ingest_json(archive, export)
    assert data["batch_seq"] is None
    assert data["inputs"][0]["status"] == "already_ingested"
    after = sorted(p.relative_to(archive) for p in archive.rglob("*") if p.is_file())
    assert before == after
    assert len(batch_records(archive)) == 1


def test_overlapping_export_adds_exactly_the_new_messages(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = android_export(tmp_path / "a" / "WhatsApp Chat with Bob Sample.txt", 30, 0)
    second = android_export(tmp_path / "b" / "WhatsApp Chat with Bob Sample.txt", 30, 20)
    ingest_json(archive, first)
    data = ingest_json(archive, second)
    inp = data["inputs"][0]
    # 30 messages + notice read; 10 messages + the notice were already there
    assert inp["messages_read"] == 31
    assert inp["messages_new"] == 20
    assert inp["messages_duplicate"] == 11
    rows = read_rows(archive)
    assert len(rows) == 51
    assert len({r["message_id"] for r in rows}) == 51
    record, _ = batch_records(archive)[-1]
    assert record["inputs"][0]["messages_duplicate"] == 11
    assert_chain(archive)
    assert sha256sum_check(archive).returncode == 0


def test_chain_links_every_batch(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    for k in range(3):
        d = tmp_path / f"e{k}"
        d.mkdir()
        ingest_json(archive, android_export(d / "WhatsApp Chat with Bob Sample.txt", 5, k * 5))
    assert len(batch_records(archive)) == 3
    assert_chain(archive)
    manifest = json.loads((archive / "_archive" / "manifest.json").read_text())
    assert manifest["head"]["seq"] == 3
    assert manifest["head"]["sha256"] == batch_records(archive)[-1][1]
    assert manifest["totals"]["messages"] == 16  # 15 + one notice (same chat, same time)


def test_committed_files_are_read_only_and_private(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    ingest_json(archive, export)
    for p in archive.rglob("*"):
        mode = stat.S_IMODE(p.stat().st_mode)
        assert not mode & stat.S_IRWXO, p  # no world access
        rel = p.relative_to(archive).as_posix()
        if p.is_file() and rel.startswith(("messages/", "sources/", "_archive/batches/")):
            assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), rel
        assert not p.name.startswith(".tmp-"), rel
    assert not list((archive / "_archive" / "txn").iterdir())


def test_dry_run_writes_nothing(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    data = ingest_json(archive, export, extra=["--dry-run"])
    assert data["dry_run"] is True
    assert data["totals"]["messages_new"] == 41
    assert not archive.exists()
    ingest_json(archive, export)
    snapshot = {p: p.stat().st_mtime_ns for p in archive.rglob("*")}
    other = android_export(tmp_path / "WhatsApp Chat with Carol.txt", 3)
    data = ingest_json(archive, other, extra=["--dry-run"])
    assert data["totals"]["messages_new"] == 4
    assert {p: p.stat().st_mtime_ns for p in archive.rglob("*")} == snapshot


def test_a_non_archive_folder_is_refused(tmp_path: Path, export: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("x")
    proc = ingest(folder, export)
    assert proc.returncode == 4
    assert "not an imarchive archive" in proc.stderr
    assert sorted(os.listdir(folder)) == ["todo.txt"]


def test_newer_format_is_refused(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    ingest_json(archive, export)
    ident = archive / "_archive" / "archive.json"
    data = json.loads(ident.read_text())
    data["format_version"] = 99
    ident.chmod(0o640)
    ident.write_text(json.dumps(data))
    proc = ingest(archive, export)
    assert proc.returncode == 4
    assert "newer" in proc.stderr


def test_schema_metadata_records_the_version(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "archive"
    ingest_json(archive, export)
    schema = pq.read_schema(next((archive / "messages").rglob("*.parquet")))
    assert schema.metadata[b"imarchive.schema_version"] == b"1"
    ident = json.loads((archive / "_archive" / "archive.json").read_text())
    assert ident["schema_version"] == 1
    assert [f["name"] for f in ident["schema"]] == SCHEMA.names
    assert pa.types.is_timestamp(schema.field("sent_at").type)


def test_creating_an_archive_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imarchive.archive import store

    def fail(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_derived", fail)
    with pytest.raises(OSError):
        store.create(tmp_path / "archive")
    assert sorted(os.listdir(tmp_path)) == []  # neither the archive nor its temp folder
    monkeypatch.undo()
    store.create(tmp_path / "archive")
    assert sorted(os.listdir(tmp_path / "archive")) == [
        "SHA256SUMS",
        "_archive",
        "attachments",
        "messages",
        "sources",
    ]


def test_a_year_before_1000_keeps_the_layout(tmp_path: Path) -> None:
    """A header read as year 29 (found by fuzzing: ``029.01.24``): the partition, the batch
    record and the ids still use four year digits, and the archive verifies."""
    export = tmp_path / "WhatsApp Chat with Y.txt"
    export.write_text(
        "029.01.24, 08:55 - Alice: a\n29.01.24, 08:56 - Bob: b\n29.01.24, 08:57 - Alice: c\n"
    )
    archive = tmp_path / "a"
    assert ingest(archive, export).returncode == 0
    parts = sorted(str(p.relative_to(archive)) for p in archive.glob("messages/**/*.parquet"))
    assert [p.rsplit("/", 1)[0] for p in parts] == [
        "messages/platform=whatsapp/year=0029/month=01",
        "messages/platform=whatsapp/year=2024/month=01",
    ]
    ((record, _),) = batch_records(archive)
    assert {f["min_sent_at"][:5] for f in record["files"] if f["kind"] == "messages"} == {
        "0029-",
        "2024-",
    }
    assert sha256sum_check(archive).returncode == 0
    proc = run_cli(["verify", "--archive", str(archive), "--deep"])
    assert proc.returncode == 0, proc.stderr
