"""Test helpers shared by the reader tests: a ReadContext that reads files in place."""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imarchive.model import Attachment, AttachmentStatus, Message
from imarchive.sources.base import (
    Candidate,
    Reader,
    ReadOptions,
    ReadReport,
    SourceRef,
)


@dataclass
class MemoryMedia:
    """Keeps stored media in a dict keyed by sha256."""

    stored: dict[str, bytes] = field(default_factory=dict)

    def store_bytes(self, data: bytes, name: str | None, media_type: str | None) -> Attachment:
        digest = hashlib.sha256(data).hexdigest()
        self.stored[digest] = data
        if media_type is None and name:
            media_type = mimetypes.guess_type(name)[0]
        return Attachment(name, digest, len(data), media_type, AttachmentStatus.STORED)

    def store_file(self, path: Path, name: str | None, media_type: str | None) -> Attachment:
        return self.store_bytes(path.read_bytes(), name, media_type)


@dataclass
class DirectContext:
    """Reads sources where they are (no snapshot copy): for reader unit tests."""

    options: ReadOptions
    report: ReadReport = field(default_factory=ReadReport)
    media: MemoryMedia = field(default_factory=MemoryMedia)
    display_root: Path | None = None

    def source(self, path: Path) -> SourceRef:
        data = path.read_bytes()
        return SourceRef(path, hashlib.sha256(data).hexdigest(), str(path), len(data))


def candidate_for(path: Path) -> Candidate:
    """A Candidate the way the ingest pipeline builds one."""
    import zipfile

    if path.is_dir():
        return Candidate(path, str(path), True)
    with path.open("rb") as fh:
        head = fh.read(65536)
    names: tuple[str, ...] | None = None
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = tuple(zf.namelist())
    return Candidate(path, str(path), False, head, names)


def read_all(
    reader: Reader, path: Path, options: ReadOptions | None = None
) -> tuple[list[Message], DirectContext]:
    ctx = DirectContext(options or ReadOptions(timezone="UTC"))
    cand = candidate_for(path)
    messages: Iterator[Message] = reader.read(cand, ctx)
    return list(messages), ctx


@contextlib.contextmanager
def small_tmpfs(path: Path, size_mb: int, mode: str = "0755") -> Iterator[Path]:
    """A tmpfs of ``size_mb`` mounted at ``path`` (created) for the block; the test is
    skipped, with the reason, where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    import pytest

    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode={mode}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def assert_same_rows(expected: Any, got: Any, *, show_values: bool = True) -> None:
    """Two MESSAGE_SCHEMA tables hold the same rows in the same order; a failure names the
    first column and row that differ (their values too, unless ``show_values`` is off)."""
    from imarchive.schema import MESSAGE_SCHEMA

    assert got.schema == MESSAGE_SCHEMA
    assert got.num_rows == expected.num_rows
    for name in MESSAGE_SCHEMA.names:
        want, have = expected.column(name).to_pylist(), got.column(name).to_pylist()
        if want != have:
            i = next(i for i, (a, b) in enumerate(zip(want, have, strict=True)) if a != b)
            shown = f": {want[i]!r} != {have[i]!r}" if show_values else ""
            raise AssertionError(f"column {name} differs first at row {i}{shown}")
