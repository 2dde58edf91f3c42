"""Merging sorted parts: the order is a stable sort by (conversation, time), whatever the
chunk and read sizes; the rows are unchanged."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imarchive.archive import merge
from imarchive.archive.writer import parquet_writer
from imarchive.schema import SCHEMA


def _part(path: Path, part: int, keys: list[tuple[str, int]]) -> Path:
    keys = sorted(keys)
    n = len(keys)
    cols: dict[str, pa.Array] = {}
    for f in SCHEMA:
        if f.name == "conversation_id":
            cols[f.name] = pa.array([c for c, _ in keys])
        elif f.name == "sent_at":
            cols[f.name] = pa.array([t for _, t in keys], pa.int64()).cast(f.type)
        elif f.name == "message_id":
            cols[f.name] = pa.array([f"{part}:{i}" for i in range(n)])
        elif f.name == "attachments":
            cols[f.name] = pa.array([[] for _ in range(n)], f.type)
        elif pa.types.is_boolean(f.type):
            cols[f.name] = pa.array([False] * n)
        elif f.name == "batch_seq":
            cols[f.name] = pa.array([1] * n, pa.int64())
        elif f.name == "ingested_at":
            cols[f.name] = pa.array([0] * n, pa.int64()).cast(f.type)
        else:
            cols[f.name] = pa.array([f"v{part}-{i}" for i in range(n)])
    pq.write_table(pa.Table.from_pydict(cols, schema=SCHEMA), path)
    return path


@settings(max_examples=40, deadline=None)
@given(
    parts=st.lists(
        st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 6)), max_size=25),
        min_size=1,
        max_size=6,
    ),
    out_rows=st.integers(1, 9),
    read_rows=st.integers(1, 5),
)
def test_merge_is_a_stable_sort(
    tmp_path_factory: pytest.TempPathFactory,
    parts: list[list[tuple[str, int]]],
    out_rows: int,
    read_rows: int,
) -> None:
    tmp = tmp_path_factory.mktemp("m")
    paths = [_part(tmp / f"{i}.pq", i, keys) for i, keys in enumerate(parts)]
    expected = sorted(
        (c, t, p, i) for p, keys in enumerate(parts) for i, (c, t) in enumerate(sorted(keys))
    )
    old = merge.OUT_ROWS, merge.READ_ROWS
    merge.OUT_ROWS, merge.READ_ROWS = out_rows, read_rows
    try:
        tables = list(merge.merged(paths))
    finally:
        merge.OUT_ROWS, merge.READ_ROWS = old
    out = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    assert all(t.num_rows <= out_rows for t in tables)
    assert out.column("message_id").to_pylist() == [f"{p}:{i}" for _, _, p, i in expected]
    # whole rows travel together
    assert out.column("body").to_pylist() == [f"v{p}-{i}" for _, _, p, i in expected]


def test_merge_of_interleaved_chats(tmp_path: Path) -> None:
    rng = random.Random(7)
    parts = [[(rng.choice("xyz"), rng.randint(0, 1000)) for _ in range(500)] for _ in range(8)]
    paths = [_part(tmp_path / f"{i}.pq", i, keys) for i, keys in enumerate(parts)]
    out = pa.concat_tables(list(merge.merged(paths)))
    keys = list(
        zip(
            out.column("conversation_id").to_pylist(),
            out.column("sent_at").cast(pa.int64()).to_pylist(),
            strict=True,
        )
    )
    assert keys == sorted(keys) and out.num_rows == 4000


def test_wide_rows_are_merged_in_smaller_chunks(tmp_path: Path) -> None:
    """Output chunks hold about OUT_BYTES of rows: wide rows (large raw records) come in
    fewer rows per chunk, so merging them costs no more memory than narrow ones."""
    keys = [("x", t) for t in range(5000)]
    narrow = [_part(tmp_path / f"n{i}.pq", i, keys) for i in range(2)]
    wide = [tmp_path / f"w{i}.pq" for i in range(2)]
    for src, dst in zip(narrow, wide, strict=True):
        table = pq.read_table(src, schema=SCHEMA)
        raw = pa.array([f"{n:08d}" + "r" * 3992 for n in range(table.num_rows)])
        i = table.schema.get_field_index("raw")
        with parquet_writer(dst) as out:  # the archive's settings: raw is not dictionary-coded
            out.write_table(table.set_column(i, table.schema.field(i), raw))
    assert max(t.num_rows for t in merge.merged(narrow)) == merge.OUT_ROWS
    biggest = max(t.num_rows for t in merge.merged(wide))
    assert biggest < merge.OUT_ROWS
    assert biggest * 4000 <= 1.1 * merge.OUT_BYTES


def _ingest_many(tmp_path: Path, name: str, n: int) -> Path:
    """``n`` chats of one month (the same partition) in one run; the archive."""
    from imarchive.ingest import IngestOptions, ingest
    from imarchive.sources.base import ReadOptions
    from tests.core.helpers import android_export

    drop = tmp_path / "drop"
    if not drop.exists():
        drop.mkdir()
        for k in range(n):
            android_export(drop / f"WhatsApp Chat with P{k:03d}.txt", 3 + k % 4, start=k % 5)
    archive = tmp_path / name
    ingest(IngestOptions((drop,), archive, ReadOptions(timezone="UTC")))
    return archive


def test_many_inputs_merge_in_groups_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A night of many chat files: the parts of a partition are merged a few at a time
    (never all open at once), into the same single file, rows in the same order."""
    from imarchive.archive import writer

    whole = _ingest_many(tmp_path, "whole", 11)
    monkeypatch.setattr(writer, "MERGE_FAN_IN", 3)
    grouped = _ingest_many(tmp_path, "grouped", 11)
    parts = [sorted((a / "messages").rglob("*.parquet")) for a in (whole, grouped)]
    assert len(parts[0]) == len(parts[1]) == 1
    drop = ["ingested_at"]
    tables = [pq.read_table(p[0]).drop(drop) for p in parts]
    assert tables[0].num_rows == 59 and tables[0].equals(tables[1])  # 48 messages, 11 notices
