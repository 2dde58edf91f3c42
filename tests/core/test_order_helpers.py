"""Small kernels the batch writer relies on: merging sorted id arrays, and telling rows
already in the archive's order from rows that need sorting."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from imarchive.archive import ids, writer

DIGESTS = st.lists(st.binary(min_size=16, max_size=16), max_size=60)


@settings(max_examples=200, deadline=None)
@given(old=DIGESTS, new=DIGESTS)
def test_merge_is_the_sorted_union(old: list[bytes], new: list[bytes]) -> None:
    base = np.sort(np.array(old, dtype=ids.DIGEST))
    more = np.array(new, dtype=ids.DIGEST)
    got = ids.merge(base, more)
    assert got.tobytes() == b"".join(sorted(old + new))  # (tolist() strips trailing NULs)


def _chunks(arr: np.ndarray) -> list[bytes]:
    raw = arr.tobytes()
    return [raw[i : i + 16] for i in range(0, len(raw), 16)]


def test_merge_of_a_spilled_array() -> None:
    rng = np.random.default_rng(1)
    base = np.sort(np.frombuffer(rng.bytes(16 * 40_000), ids.DIGEST))
    spilled = ids.spill(base)
    assert isinstance(spilled, np.memmap)
    more = np.frombuffer(rng.bytes(16 * 100), ids.DIGEST)
    got = ids.merge(spilled, more)
    assert not isinstance(got, np.memmap)
    assert isinstance(ids.spill(got), np.memmap)  # so it can go to a file again
    alone = ids.merge(np.empty(0, ids.DIGEST), spilled)  # a memmap's sorted copy
    assert not isinstance(alone, np.memmap) and isinstance(ids.spill(alone), np.memmap)
    assert _chunks(got) == sorted(_chunks(base) + _chunks(more))


ROWS = st.lists(
    st.tuples(st.one_of(st.none(), st.sampled_from(["a", "b", "ab", "é", "z"])), st.integers(0, 4)),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(rows=ROWS)
def test_in_order_agrees_with_a_sort(rows: list[tuple[str | None, int]]) -> None:
    conv = pa.array([c for c, _ in rows], pa.string())
    ts = np.array([t for _, t in rows], dtype=np.int64)
    # the archive order: conversation (nulls last), then time
    expected = rows == sorted(rows, key=lambda r: (r[0] is None, r[0] or "", r[1]))
    expected = expected and all(c is not None for c, _ in rows)
    assert writer._in_order(conv, ts) == expected
