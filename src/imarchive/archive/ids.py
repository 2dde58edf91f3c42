"""Which message ids the archive (and the batch being built) already holds.

A message id is a sha256; its first 16 bytes are kept in sorted numpy arrays, one
per partition (a duplicate has the same ``sent_at``, hence the same partition), so
that memory is 16 bytes per id and a lookup is a binary search. Existing ids are
read lazily, only for the partitions a new batch touches, and only the
``message_id`` column of their files: an overlapping export costs in proportion to
its own size, not the archive's. 128 bits make a false "duplicate" (which would drop
a message) about as likely as a sha256 collision of 2^64 messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DIGEST = "S16"


def digests(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Hex ids → array of 16-byte prefixes (dtype S16)."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    raw = b"".join(bytes.fromhex(h[:32]) for h in ids.to_pylist())
    return np.frombuffer(raw, dtype=DIGEST)


def _contains(sorted_arr: np.ndarray, probe: np.ndarray) -> np.ndarray:
    if len(sorted_arr) == 0:
        return np.zeros(len(probe), dtype=bool)
    idx = np.searchsorted(sorted_arr, probe)
    idx[idx >= len(sorted_arr)] = len(sorted_arr) - 1
    result: np.ndarray = sorted_arr[idx] == probe
    return result


class IdIndex:
    """Committed ids (loaded on demand) + ids accepted in this batch."""

    def __init__(self, files_of_partition: Callable[[str], Iterable[str]]) -> None:
        self._files_of = files_of_partition
        self._ids: dict[str, np.ndarray] = {}

    def _load(self, partition: str) -> np.ndarray:
        arr = self._ids.get(partition)
        if arr is None:
            parts = [
                digests(pq.read_table(path, columns=["message_id"]).column("message_id"))
                for path in self._files_of(partition)
            ]
            arr = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=DIGEST)
            self._ids[partition] = arr
        return arr

    def new_mask(self, partition: str, probe: np.ndarray, pending: np.ndarray) -> np.ndarray:
        """True where a probe id is neither in the archive, nor accepted earlier in the
        batch, nor in ``pending`` (this input so far), nor earlier in ``probe`` itself."""
        seen = _contains(self._load(partition), probe) | _contains(pending, probe)
        # first occurrence within the probe itself
        _, first = np.unique(probe, return_index=True)
        firsts = np.zeros(len(probe), dtype=bool)
        firsts[first] = True
        mask: np.ndarray = ~seen & firsts
        return mask

    def accept(self, partition: str, accepted: np.ndarray) -> None:
        if len(accepted):
            self._ids[partition] = np.sort(np.concatenate([self._load(partition), accepted]))


def merge(sorted_arr: np.ndarray, more: np.ndarray) -> np.ndarray:
    if len(more) == 0:
        return sorted_arr
    return np.sort(np.concatenate([sorted_arr, more]))


def partition_keys(table: pa.Table) -> pa.Array:
    """``platform=…/year=…/month=…`` for every row, from sent_at in UTC."""
    ts = table.column("sent_at")
    year = pc.cast(pc.year(ts), pa.string())
    month = pc.utf8_lpad(pc.cast(pc.month(ts), pa.string()), 2, "0")
    return pc.binary_join_element_wise(
        pc.binary_join_element_wise("platform=", table.column("platform"), ""),
        pc.binary_join_element_wise("year=", year, ""),
        pc.binary_join_element_wise("month=", month, ""),
        "/",
    )
