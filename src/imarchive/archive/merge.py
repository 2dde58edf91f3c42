"""Merging the sorted parts of one partition into one sorted file, in bounded memory.

Each staged part is sorted by (conversation_id, sent_at) and the parts are in source
order, so the merged order is a stable sort of all rows by (conversation_id, sent_at,
part, row). Only the two key columns of every part are read to plan it (a few bytes a
row); the rows themselves are then streamed: every output chunk takes a contiguous run
of rows from each part, so each part is read once, front to back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imarchive.memory import release_free_memory
from imarchive.schema import SCHEMA

OUT_ROWS = 8_192  # rows per output chunk at most
OUT_BYTES = 4 << 20  # and about this many bytes of rows (wide rows: fewer of them)
READ_ROWS = 1_024  # rows per read batch of a part: bounds memory with many parts


def _order(paths: list[Path]) -> np.ndarray:
    """The part index of every row, in merged order (rows of a part keep their order)."""
    convs: list[pa.Array] = []
    times: list[np.ndarray] = []
    for path in paths:
        keys = pq.read_table(path, columns=["conversation_id", "sent_at"])
        convs.append(keys.column("conversation_id").combine_chunks())
        times.append(keys.column("sent_at").cast(pa.int64()).to_numpy())
    distinct = pc.unique(pa.chunked_array(convs, pa.string())).sort()
    ranks = [pc.index_in(c, value_set=distinct).to_numpy(zero_copy_only=False) for c in convs]
    part = np.concatenate([np.full(len(t), i, dtype=np.int32) for i, t in enumerate(times)])
    row = np.concatenate([np.arange(len(t), dtype=np.int64) for t in times])
    # lexsort sorts by the last key first: conversation, then time, then part, then row
    order = np.lexsort((row, part, np.concatenate(times), np.concatenate(ranks)))
    merged_parts: np.ndarray = part[order]
    return merged_parts


class _Cursor:
    """Reads one part front to back and hands out runs of its rows."""

    def __init__(self, path: Path) -> None:
        # no pre-buffering: a whole row group of every part at once is what must be avoided
        reader = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 16)
        self._batches = reader.iter_batches(batch_size=READ_ROWS, columns=SCHEMA.names)
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0

    def take(self, n: int) -> list[pa.RecordBatch]:
        while self._buffered < n:
            batch = next(self._batches)
            self._buffer.append(batch)
            self._buffered += batch.num_rows
        out: list[pa.RecordBatch] = []
        need = n
        while need:
            head = self._buffer[0]
            if head.num_rows <= need:
                out.append(head)
                need -= head.num_rows
                self._buffer.pop(0)
            else:
                out.append(head.slice(0, need))
                self._buffer[0] = head.slice(need)
                need = 0
        self._buffered -= n
        return out


def _out_rows(paths: list[Path]) -> int:
    """Rows per output chunk: OUT_BYTES worth, by the parts' own uncompressed sizes."""
    rows = size = 0
    for path in paths:
        meta = pq.read_metadata(path)
        rows += meta.num_rows
        size += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if not rows or not size:
        return OUT_ROWS
    return min(OUT_ROWS, max(READ_ROWS, OUT_BYTES * rows // size))


def merged(paths: list[Path]) -> Iterator[pa.Table]:
    """The rows of ``paths`` in merged order, as tables of at most OUT_ROWS rows."""
    part = _order(paths)
    cursors = [_Cursor(p) for p in paths]
    step = _out_rows(paths)
    for start in range(0, len(part), step):
        chunk_part = part[start : start + step]
        counts = np.bincount(chunk_part, minlength=len(paths))
        pieces: list[pa.RecordBatch] = []
        for i, count in enumerate(counts):
            if count:
                pieces.extend(cursors[i].take(int(count)))
        block = pa.Table.from_batches(pieces, schema=SCHEMA)
        # ``block`` holds the chunk's rows grouped by part, each part's rows in order:
        # exactly the stable sort of ``chunk_part``. Output row j is block row index[j].
        grouped = np.argsort(chunk_part, kind="stable")
        index = np.empty(len(chunk_part), dtype=np.int64)
        index[grouped] = np.arange(len(chunk_part), dtype=np.int64)
        yield block.take(pa.array(index))
        del block, pieces
        release_free_memory()
