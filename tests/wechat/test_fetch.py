"""wechat-pc3: the batch reader's thread hands over every batch, raises its error in the
reader, and stops when the reader stops early, even in the middle of a long query."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from imarchive.sources.wechat import pc3_fetch


def _live() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "imarchive-sqlite"]


def _numbers(stop: threading.Event) -> Iterator[pc3_fetch.Raw]:
    k = 0
    while not stop.is_set():
        yield pc3_fetch.Raw(1, rowids=np.array([k]))
        k += 1


def test_every_batch_in_order() -> None:
    def five(stop: threading.Event) -> Iterator[pc3_fetch.Raw]:
        for raw in _numbers(stop):
            if _first(raw) == 5:
                return
            yield raw

    got = [_first(raw) for raw in pc3_fetch._ahead(five, _nothing)]
    assert got == [0, 1, 2, 3, 4]
    assert not _live()


def test_error_is_raised_in_the_reader() -> None:
    def failing(stop: threading.Event) -> Iterator[pc3_fetch.Raw]:
        yield from list(_take(_numbers(stop), 2))
        raise OSError("disk gone")

    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for raw in pc3_fetch._ahead(failing, _nothing):
            seen.append(_first(raw))
    assert seen == [0, 1]
    assert not _live()


def test_closing_early_stops_the_thread() -> None:
    endless = pc3_fetch._ahead(_numbers, _nothing)
    assert [_first(next(endless)) for _ in range(3)] == [0, 1, 2]
    assert _live()
    endless.close()
    assert not _live()


def test_closing_interrupts_a_long_query(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", check_same_thread=False)
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT count(*) FROM n WHERE i < 0"
    )

    def slow(stop: threading.Event) -> Iterator[pc3_fetch.Raw]:
        yield from _take(_numbers(stop), 1)
        conn.execute(endless).fetchall()  # never ends by itself
        yield from _numbers(stop)

    batches = pc3_fetch._ahead(slow, conn.interrupt)
    assert _first(next(batches)) == 0
    time.sleep(0.2)  # the thread is in the query now
    started = time.monotonic()
    batches.close()
    assert time.monotonic() - started < 5
    assert not _live()
    conn.close()


def _first(raw: pc3_fetch.Raw) -> int:
    assert raw.rowids is not None
    return int(raw.rowids[0])


def _nothing() -> None:
    pass


def _take(items: Iterator[pc3_fetch.Raw], n: int) -> Iterator[pc3_fetch.Raw]:
    for _, item in zip(range(n), items, strict=False):
        yield item
