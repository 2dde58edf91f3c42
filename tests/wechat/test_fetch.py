"""wechat-pc3: the batch reader's thread hands over every batch, raises its error in the
reader, and stops when the reader stops early."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from imarchive.sources.wechat import pc3_fetch


def _live() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "imarchive-sqlite"]


def _numbers(stop: threading.Event) -> Iterator[pc3_fetch.Raw]:
    import numpy as np

    k = 0
    while not stop.is_set():
        yield pc3_fetch.Raw(np.array([k]))
        k += 1


def test_every_batch_in_order() -> None:
    def five(stop: threading.Event) -> Iterator[pc3_fetch.Raw]:
        for raw in _numbers(stop):
            if int(raw.rowids[0]) == 5:
                return
            yield raw

    got = [int(raw.rowids[0]) for raw in pc3_fetch._ahead(five)]
    assert got == [0, 1, 2, 3, 4]
    assert not _live()


def test_error_is_raised_in_the_reader() -> None:
    def failing(stop: threading.Event) -> Iterator[pc3_fetch.Raw]:
        yield from list(_take(_numbers(stop), 2))
        raise OSError("disk gone")

    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for raw in pc3_fetch._ahead(failing):
            seen.append(int(raw.rowids[0]))
    assert seen == [0, 1]
    assert not _live()


def test_closing_early_stops_the_thread() -> None:
    endless = pc3_fetch._ahead(_numbers)
    assert [int(next(endless).rowids[0]) for _ in range(3)] == [0, 1, 2]
    assert _live()
    endless.close()
    assert not _live()


def _take(items: Iterator[pc3_fetch.Raw], n: int) -> Iterator[pc3_fetch.Raw]:
    for _, item in zip(range(n), items, strict=False):
        yield item
