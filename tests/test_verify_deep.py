"""verify --deep: row-level forgeries whose checksums were all made to agree (the
record's entry, the chain, the manifest, SHA256SUMS) pass the default level and are
caught only by reading the rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from imarchive.verify import VerifyReport, verify
from tests.verify_helpers import (
    APRIL,
    MARCH,
    fix_derived,
    forge_part,
    part,
    relink_chain,
    reseal,
    rewrite_record,
    writable,
)


def codes(rep: VerifyReport) -> set[tuple[str, str | None]]:
    return {(p.code, p.path) for p in rep.problems}


def set_column(name: str, value: Callable[[pa.Array], pa.Array]) -> Callable[[pa.Table], pa.Table]:
    def change(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index(name)
        col = t.column(name).combine_chunks()
        return t.set_column(i, t.schema.field(i), value(col))

    return change


def first_row_changed(col: pa.Array, new: object) -> pa.Array:
    values = col.to_pylist()
    values[0] = new
    return pa.array(values, col.type)


CASES: list[tuple[str, Callable[[pa.Table], pa.Table], str]] = [
    ("duplicate row", lambda t: pa.concat_tables([t, t.slice(0, 1)]), "duplicate_message_id"),
    (
        "batch_seq",
        set_column("batch_seq", lambda c: first_row_changed(c, 7)),
        "batch_seq_mismatch",
    ),
    (
        "source_sha256",
        set_column("source_sha256", lambda c: first_row_changed(c, "e" * 64)),
        "source_missing",
    ),
    (
        "sent_at moved a month",
        set_column("sent_at", lambda c: pc.add(c, pa.scalar(timedelta(days=40)))),
        "partition_mismatch",
    ),
    (
        "platform",
        set_column("platform", lambda c: first_row_changed(c, "wechat")),
        "partition_mismatch",
    ),
]


@pytest.mark.parametrize(("label", "change", "code"), CASES, ids=[c[0] for c in CASES])
def test_row_forgery_caught_only_by_deep(
    arc: Path, label: str, change: Callable[[pa.Table], pa.Table], code: str
) -> None:
    rel = part(arc, MARCH)
    forge_part(arc, rel, change)
    assert verify(arc).ok, verify(arc).to_json()
    rep = verify(arc, "deep")
    assert codes(rep) == {(code, rel)}, rep.to_json()


def test_duplicate_across_files(arc: Path) -> None:
    march, april = part(arc, MARCH), part(arc, APRIL)
    row = pq.read_table(arc / march).slice(0, 1)
    forge_part(arc, april, lambda t: pa.concat_tables([t, row]))
    rep = verify(arc, "deep")
    assert ("duplicate_message_id", april) in codes(rep) or (
        "duplicate_message_id",
        march,
    ) in codes(rep)
    assert ("partition_mismatch", april) in codes(rep)  # a March row in April
    dup = next(p for p in rep.problems if p.code == "duplicate_message_id")
    assert dup.found == 2 and ({march, april} - {dup.path}).pop() in dup.message


def test_stored_attachment_that_is_not_in_the_archive(arc: Path) -> None:
    rel = part(arc, APRIL)

    def change(t: pa.Table) -> pa.Table:
        rows = t.to_pylist()
        for r in rows:
            for a in r["attachments"]:
                if a["status"] == "stored":
                    a["sha256"] = "a" * 64
        return pa.Table.from_pylist(rows, schema=t.schema)

    forge_part(arc, rel, change)
    rep = verify(arc, "deep")
    assert codes(rep) == {("attachment_missing", rel)}
    assert rep.problems[0].found == "a" * 64


def test_recorded_rows_and_range_must_match_the_file(arc: Path) -> None:
    rel = part(arc, MARCH)

    def edit(rec: dict[str, object]) -> None:
        for f in rec["files"]:  # type: ignore[attr-defined]
            if f["path"] == rel:
                f["rows"] += 1
                f["max_sent_at"] = "2024-03-31T00:00:00.000000Z"

    rewrite_record(arc, 1, edit)
    relink_chain(arc, 2)
    fix_derived(arc)
    assert codes(verify(arc)) == {("parquet_rows_mismatch", rel)}
    deep = verify(arc, "deep")
    assert codes(deep) == {("parquet_rows_mismatch", rel), ("sent_at_range_mismatch", rel)}


def test_corrupt_page_with_forged_hash_fails_deep(arc: Path) -> None:
    rel = part(arc, MARCH)
    path = arc / rel
    data = bytearray(path.read_bytes())
    md = pq.ParquetFile(path).metadata
    col = md.row_group(0).column(md.schema.names.index("raw"))
    start = col.data_page_offset + col.total_compressed_size // 2
    data[start] ^= 0xFF
    writable(path).write_bytes(bytes(data))
    reseal(arc, rel)
    assert verify(arc).ok  # the footer is intact and every checksum agrees
    rep = verify(arc, "deep")
    assert codes(rep) == {("parquet_unreadable", rel)}, rep.to_json()
