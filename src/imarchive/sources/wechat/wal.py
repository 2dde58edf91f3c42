"""SQLite write-ahead-log merging, for plain and encrypted databases alike.

WeChat keeps recent messages in ``-wal`` sidecars; the staged copies in the archive's
``sources/`` sit under content hashes, so SQLite could never find a WAL beside them. We
therefore replay the committed frames ourselves onto a temporary copy (last committed
frame per page wins) and mark the copy as a rollback-journal database.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

WAL_MAGIC = 0x377F0682
WAL_HEADER = 32
FRAME_HEADER = 24


def _checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    it = iter(words)
    for x0, x1 in zip(it, it, strict=True):
        s0 = (s0 + x0 + s1) & 0xFFFFFFFF
        s1 = (s1 + x1 + s0) & 0xFFFFFFFF
    return s0, s1


def committed_frames(wal_path: Path, page_size: int) -> tuple[dict[int, int], int]:
    """{page number: offset of its newest committed page image} and the database size in
    pages after the last commit (0 when the WAL holds no valid commit)."""
    with wal_path.open("rb") as fh:
        header = fh.read(WAL_HEADER)
        if len(header) < WAL_HEADER:
            return {}, 0
        magic, _version, wal_page, _ckpt, salt1, salt2, c0, c1 = struct.unpack(">8I", header)
        if magic & ~1 != WAL_MAGIC or wal_page != page_size:
            return {}, 0
        big = bool(magic & 1)
        s0, s1 = _checksum(header[:24], 0, 0, big)
        if (s0, s1) != (c0, c1):
            return {}, 0
        committed: dict[int, int] = {}
        pending: dict[int, int] = {}
        db_pages = 0
        offset = WAL_HEADER
        while True:
            fh.seek(offset)
            fhdr = fh.read(FRAME_HEADER)
            page = fh.read(page_size)
            if len(fhdr) < FRAME_HEADER or len(page) < page_size:
                break
            pgno, commit, f1, f2, k0, k1 = struct.unpack(">6I", fhdr)
            # A frame from an older WAL generation keeps the old salts: the log ends there.
            if (f1, f2) != (salt1, salt2):
                break
            s0, s1 = _checksum(fhdr[:8], s0, s1, big)
            s0, s1 = _checksum(page, s0, s1, big)
            if (s0, s1) != (k0, k1):
                break
            pending[pgno] = offset + FRAME_HEADER
            if commit:
                committed.update(pending)
                pending.clear()
                db_pages = commit
            offset += FRAME_HEADER + page_size
    return committed, db_pages


def apply(
    wal_path: Path,
    fout: BinaryIO,
    page_size: int,
    transform: Callable[[bytes, int], bytes] | None = None,
) -> int:
    """Write the committed frames of ``wal_path`` into ``fout``; the number of pages applied."""
    frames, db_pages = committed_frames(wal_path, page_size)
    if not frames:
        return 0
    with wal_path.open("rb") as fh:
        for pgno in sorted(frames):
            if pgno > db_pages:
                continue
            fh.seek(frames[pgno])
            page = fh.read(page_size)
            if transform is not None:
                page = transform(page, pgno)
            fout.seek((pgno - 1) * page_size)
            fout.write(page)
    fout.truncate(db_pages * page_size)
    return len(frames)


def mark_rollback_journal(path: Path) -> None:
    """Header bytes 18-19 = 1: the copy opens without looking for a WAL or -shm."""
    with path.open("r+b") as fh:
        fh.seek(18)
        fh.write(b"\x01\x01")


def merge_plain(src: Path, wal_path: Path, dst: Path) -> None:
    """A plain database with its WAL replayed, as a new file ``dst``."""
    shutil.copyfile(src, dst)
    with src.open("rb") as fh:
        head = fh.read(100)
    size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if size == 1 else size
    with dst.open("r+b") as fout:
        apply(wal_path, fout, page_size)
    mark_rollback_journal(dst)
