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

import tempfile
from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DIGEST = "S16"
SPILL_BYTES = 256 * 1024  # sorted id arrays at least this large can live in a file


def spill(arr: np.ndarray) -> np.ndarray:
    """A sorted digest array moved to an anonymous temporary file (deleted with its last
    reference, or by the system if the process dies) and memory-mapped read-only: a
    lookup touches a few pages, so ids not being added to cost no resident memory."""
    if arr.nbytes < SPILL_BYTES or isinstance(arr, np.memmap):
        return arr
    with tempfile.TemporaryFile(prefix="imarchive-ids-") as fh:
        np.ascontiguousarray(arr).tofile(fh)
        fh.flush()
        mapped: np.ndarray = np.memmap(fh, dtype=DIGEST, mode="r", shape=arr.shape)
    return mapped


# hex digit → value; 255 for anything else
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_NIBBLE[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16)
_NIBBLE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)


def digests(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Hex ids → array of 16-byte prefixes (dtype S16)."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    fast = _digests_of_buffer(ids)
    if fast is not None:
        return fast
    raw = b"".join(bytes.fromhex(h[:32]) for h in ids.to_pylist())
    return np.frombuffer(raw, dtype=DIGEST)


def _digests_of_buffer(ids: pa.Array) -> np.ndarray | None:
    """The same, read straight from the string column's data buffer when every id is 64
    hex characters (always, for ids this package wrote); None otherwise."""
    n = len(ids)
    if n == 0 or ids.null_count or ids.type not in (pa.string(), pa.large_string()):
        return None
    _, offs_buf, data_buf = ids.buffers()
    width = 4 if ids.type == pa.string() else 8
    offs = np.frombuffer(
        offs_buf, dtype=np.int32 if width == 4 else np.int64, count=n + 1, offset=ids.offset * width
    )
    if data_buf is None or not (np.diff(offs) == 64).all():
        return None
    text = np.frombuffer(data_buf, dtype=np.uint8)[offs[0] : offs[-1]].reshape(n, 64)
    nib = _NIBBLE[text[:, :32]]
    if (nib == 255).any():
        return None
    out = (nib[:, 0::2] << 4) | nib[:, 1::2]
    return np.ascontiguousarray(out).view(DIGEST).reshape(n)


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
            arr = spill(np.sort(np.concatenate(parts))) if parts else np.empty(0, dtype=DIGEST)
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
        """Add a sorted array of ids (an input's ``pending``) to the partition's."""
        if len(accepted):
            known = self._load(partition)
            self._ids[partition] = spill(merge(known, accepted) if len(known) else accepted)


def merge(sorted_arr: np.ndarray, more: np.ndarray) -> np.ndarray:
    """The sorted union (with repeats) of a sorted array and more ids: one pass over the
    large array, not a sort of both."""
    if len(more) == 0:
        return sorted_arr
    # asarray: plain arrays out (a sorted copy of a memmap is a memmap that ``spill``
    # would take for one already in a file)
    more = np.sort(np.asarray(more))
    if len(sorted_arr) == 0:
        return more
    base = np.asarray(sorted_arr)
    merged: np.ndarray = np.insert(base, np.searchsorted(base, more), more)
    return merged


def partition_keys(table: pa.Table) -> pa.Array:
    """``platform=…/year=…/month=…`` for every row, from sent_at in UTC."""
    ts = table.column("sent_at")
    year = pc.utf8_lpad(pc.cast(pc.year(ts), pa.string()), 4, "0")  # year=0029, as the layout
    month = pc.utf8_lpad(pc.cast(pc.month(ts), pa.string()), 2, "0")
    return pc.binary_join_element_wise(
        pc.binary_join_element_wise("platform=", table.column("platform"), ""),
        pc.binary_join_element_wise("year=", year, ""),
        pc.binary_join_element_wise("month=", month, ""),
        "/",
    )
