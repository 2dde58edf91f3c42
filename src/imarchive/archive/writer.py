"""Building one batch: stage sources, media and Parquet parts in ``_archive/txn/``,
then publish and commit.

The commit protocol (each step crash-safe; the batch record is the commit point):
 1. stage every file under ``_archive/txn/<batch>/stage/`` (temp names, fsynced);
 2. write ``_archive/txn/<batch>/intent.json`` naming every file about to be published;
 3. publish each staged file to its final name (link or no-clobber rename), read-only;
 4. write ``_archive/batches/<seq>.json`` (never overwriting): the batch is committed;
 5. rewrite ``manifest.json``, then ``SHA256SUMS`` (derived from all batch records);
 6. remove the txn folder.
A crash before 4 leaves leftovers that the intent names; a crash after 4 leaves a
committed batch whose derived files lag, which the next writer rolls forward.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imarchive.archive import layout as L
from imarchive.archive.fsio import (
    copy_hashing,
    fsync_dir,
    make_read_only,
    open_regular,
    publish,
    sha256_file,
    write_atomic,
)
from imarchive.archive.ids import IdIndex, digests, merge, partition_keys, spill
from imarchive.archive.merge import merged
from imarchive.archive.store import Archive, BatchInfo, iso, refresh_derived
from imarchive.errors import SourceError
from imarchive.memory import release_free_memory
from imarchive.model import Attachment, AttachmentStatus, Message
from imarchive.schema import MESSAGE_SCHEMA, SCHEMA, stamp, to_table
from imarchive.sources.base import SourceRef

ROW_GROUP = 131_072
MERGE_FAN_IN = 64  # parts merged at once (each holds a file open and a read buffer)
SORT_KEYS = [("conversation_id", "ascending"), ("sent_at", "ascending")]
# Parquet encoding and zstd run on a background thread (pyarrow releases the GIL there)
# while the reader parses the next rows; this many tables at most wait for it.
IN_FLIGHT = 2
# The newest rows of a one-conversation chunk wait for the next chunk: exports run in
# database order, a few minutes back now and then, so a part seldom has to be split
# (and later compacted in memory) because a chunk starts before the previous one ended.
HOLD_BACK_US = 3600 * 1_000_000
# A partition's pending ids go to a file after this many chunks that did not touch it
# (a database read one conversation at a time comes back to every month again and again).
SPILL_AFTER = 4


def parquet_writer(path: Path) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        str(path),
        SCHEMA,
        compression="zstd",
        write_statistics=True,
        write_page_checksum=True,
        # small pages: merging many parts decodes a page of each at a time
        data_page_size=128 * 1024,
        use_dictionary=[
            "platform",
            "source_format",
            "account_id",
            "custodian",
            "conversation_id",
            "conversation_name",
            "conversation_type",
            "sender_id",
            "sender_name",
            "direction",
            "kind",
            "native_type",
            "source_sha256",
            "source_path",
            "source_timezone",
        ],
    )


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _Part:
    """A staged Parquet part: one partition, rows in (conversation, time, source) order."""

    partition: str
    path: Path
    writer: pq.ParquetWriter | None
    rows: int = 0
    last_key: tuple[str, int] | None = None
    min_ts: int | None = None
    max_ts: int | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            _fsync_path(self.path)


@dataclass
class _Staged:
    kind: str  # "messages" | "source" | "attachment"
    rel: str  # final relative path
    path: Path  # staged path
    sha256: str
    size: int
    part: _Part | None = None


@dataclass
class InputStage:
    """What one input staged; discarded whole when the input is rejected."""

    files: list[_Staged] = field(default_factory=list)
    parts: dict[str, _Part] = field(default_factory=dict)  # the part each partition appends to
    all_parts: list[_Part] = field(default_factory=list)
    pending: dict[str, np.ndarray] = field(default_factory=dict)
    held: dict[str, pa.Table] = field(default_factory=dict)  # rows waiting per partition
    idle: dict[str, int] = field(default_factory=dict)  # chunks since a partition was touched
    new: int = 0
    duplicate: int = 0


class BatchWriter:
    """Stages one batch. ``staging`` is ``_archive/txn/<batch>`` normally, or a folder
    outside the archive for ``--dry-run`` (which never publishes). A dry run (``dry_run``)
    counts and dedupes as a real one but writes no chat content anywhere: sources are
    hashed where they lie (and read there), media hashed, no Parquet part written."""

    def __init__(
        self,
        archive: Archive,
        batches: list[BatchInfo],
        staging: Path,
        started: datetime,
        *,
        dry_run: bool = False,
    ) -> None:
        self.dry_run = dry_run
        self.archive = archive
        self.batches = batches
        self.seq = (batches[-1].seq if batches else 0) + 1
        self.batch_id = (
            staging.name if staging.name and len(staging.name) == 32 else uuid.uuid4().hex
        )
        self.staging = staging
        self.stage_dir = staging / "stage"
        self.stage_dir.mkdir(parents=True, exist_ok=True)
        self.started = started
        self.ingested_at = started
        committed = [f for b in batches for f in b.files]
        self._committed_paths = {f.path for f in committed}
        self._files_by_partition: dict[str, list[str]] = {}
        for f in committed:
            if f.kind == "messages" and f.partition:
                self._files_by_partition.setdefault(f.partition, []).append(
                    str(archive.root / f.path)
                )
        self.index = IdIndex(lambda p: self._files_by_partition.get(p, []))
        self.files: list[_Staged] = []  # accepted inputs' staged files
        self._staged_content: dict[str, _Staged] = {}
        self.current: InputStage | None = None
        self._part_no = 0
        self._pool: ThreadPoolExecutor | None = None
        self._write_error: BaseException | None = None  # the first failed Parquet write
        self._in_flight: deque[Future[None]] = deque()
        # chunks being deduped and sorted on their own thread (which queues the writes)
        self._adder: ThreadPoolExecutor | None = None
        self._add_error: BaseException | None = None  # the first failed chunk of the input
        self._adds: deque[Future[None]] = deque()

    # -- per input --------------------------------------------------------------------------

    def begin_input(self) -> None:
        self.current = InputStage()

    def end_input(self, ok: bool) -> tuple[int, int]:
        """Close the input: keep its files and ids, or discard them (rejected)."""
        stage = self.current
        assert stage is not None
        self.current = None
        try:
            self._drain_adds()
            if ok:
                for partition in list(stage.held):
                    self._write_rows(stage, partition, stage.held.pop(partition))
            self._drain()  # a failed background write fails the input, as a direct one would
        except BaseException:
            with contextlib.suppress(Exception):
                self._discard_input(stage)
            raise
        if not ok:
            self._discard_input(stage)
            return 0, 0
        for part in stage.all_parts:
            part.close()
        for part in stage.all_parts:
            if part.rows:
                sha, size = sha256_file(part.path)
                stage.files.append(_Staged("messages", "", part.path, sha, size, part))
        for partition in list(stage.pending):
            self.index.accept(partition, stage.pending.pop(partition))
        self.files.extend(stage.files)
        return stage.new, stage.duplicate

    def _discard_input(self, stage: InputStage) -> None:
        for part in stage.all_parts:
            part.close()
        for part in stage.all_parts:
            part.path.unlink(missing_ok=True)
        for f in stage.files:
            self._staged_content.pop(f.rel, None)
            f.path.unlink(missing_ok=True)

    # -- sources and media --------------------------------------------------------------------

    def _stage_content(self, kind: str, sha: str, size: int, tmp: Path | None) -> Path:
        """Keep a staged content-addressed file unless the archive or this batch has it."""
        rel = L.content_path("sources" if kind == "source" else "attachments", sha)
        if rel in self._committed_paths:
            if tmp:
                tmp.unlink(missing_ok=True)
            return self.archive.root / rel
        existing = self._staged_content.get(rel)
        if existing:
            if tmp:
                tmp.unlink(missing_ok=True)
            return existing.path
        assert tmp is not None
        final_stage = self.stage_dir / rel
        final_stage.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final_stage)
        staged = _Staged(kind, rel, final_stage, sha, size)
        self._staged_content[rel] = staged
        assert self.current is not None
        self.current.files.append(staged)
        return final_stage

    def stage_source(self, path: Path, display: str, expected_sha: str | None) -> SourceRef:
        """Snapshot a source file. ``expected_sha`` (from a first hashing pass) detects
        a file that changed while it was being read."""
        before = path.stat()
        tmp: Path | None = None
        if self.dry_run:  # hashed, and read, where it lies: no copy of chat text
            sha, size = sha256_file(path)
        else:
            tmp = self.stage_dir / f".incoming-{uuid.uuid4().hex}"
            with open_regular(path) as fh:
                sha, size = copy_hashing(fh, tmp)
        after = path.stat()
        changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
        if changed or (expected_sha is not None and sha != expected_sha):
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise SourceError(
                f"{display}: the file changed while it was being read; try again later"
            )
        staged = path if tmp is None else self._stage_content("source", sha, size, tmp)
        return SourceRef(staged, sha, display, size)

    def store_bytes(self, data: bytes, name: str | None, media_type: str | None) -> Attachment:
        sha = hashlib.sha256(data).hexdigest()
        attachment = _stored(name, sha, len(data), media_type)
        if self.dry_run:
            return attachment  # hashed, not kept
        rel = L.content_path("attachments", sha)
        tmp = None
        if rel not in self._committed_paths and rel not in self._staged_content:
            tmp = self.stage_dir / f".incoming-{uuid.uuid4().hex}"
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        self._stage_content("attachment", sha, len(data), tmp)
        return attachment

    def store_file(self, path: Path, name: str | None, media_type: str | None) -> Attachment:
        if self.dry_run:
            sha, size = sha256_file(path)
            return _stored(name, sha, size, media_type)
        tmp = self.stage_dir / f".incoming-{uuid.uuid4().hex}"
        with open_regular(path) as fh:
            sha, size = copy_hashing(fh, tmp)
        self._stage_content("attachment", sha, size, tmp)
        return _stored(name, sha, size, media_type)

    # -- messages -----------------------------------------------------------------------------

    def add(self, messages: Sequence[Message]) -> None:
        """Dedupe a chunk of messages and append the new ones to staged parts."""
        if messages:
            self.add_table(to_table(messages))

    def add_table(self, rows: pa.Table) -> None:
        """Dedupe a chunk of rows (MESSAGE_SCHEMA, from a columnar reader) and append
        the new ones to staged parts: on the writer's own thread, while the reader goes
        on (``end_input`` waits for it and raises its first error)."""
        stage = self.current
        assert stage is not None
        if not rows.num_rows:
            return
        if self._adder is None:
            self._adder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imarchive-add")
        while len(self._adds) >= IN_FLIGHT:
            self._adds.popleft().result()
        self._adds.append(self._adder.submit(self._add_now, stage, rows))

    def _add_now(self, stage: InputStage, rows: pa.Table) -> None:
        """Runs on the adding thread; after one failure, no later chunk is added."""
        if self._add_error is not None:
            raise ArchiveWriteSkipped("an earlier chunk failed") from self._add_error
        try:
            self._add_table(stage, rows)
        except BaseException as exc:
            self._add_error = exc
            raise

    def _add_table(self, stage: InputStage, rows: pa.Table) -> None:
        if rows.schema != MESSAGE_SCHEMA:
            rows = rows.select(MESSAGE_SCHEMA.names).cast(MESSAGE_SCHEMA)
        table = stamp(rows, self.seq, self.ingested_at)
        parts = _by_partition(table)
        # ids of partitions that several chunks in a row did not touch go to a file
        # (exports run in time order: their months are done); memory stays flat however
        # long the export
        touched = {p for p, _ in parts}
        for partition, ids in stage.pending.items():
            if partition in touched:
                stage.idle[partition] = 0
            else:
                stage.idle[partition] = idle = stage.idle.get(partition, 0) + 1
                if idle == SPILL_AFTER:
                    stage.pending[partition] = spill(ids)
        for partition, sub in parts:
            probe = digests(sub.column("message_id"))
            pending = stage.pending.get(partition, np.empty(0, dtype="S16"))
            mask = self.index.new_mask(partition, probe, pending)
            n_new = int(mask.sum())
            stage.new += n_new
            stage.duplicate += len(probe) - n_new
            if not n_new:
                continue
            stage.pending[partition] = merge(pending, probe[mask])
            if self.dry_run:
                continue  # counted; nothing is written
            sub = sub.filter(pa.array(mask)) if n_new < len(probe) else sub
            self._append(stage, partition, _sorted(sub))

    def _append(self, stage: InputStage, partition: str, rows: pa.Table) -> None:
        held = stage.held.pop(partition, None)
        if held is not None:  # earlier in the source: first among equal keys
            rows = _sorted(pa.concat_tables([held, rows]))
        rows, tail = _hold_back(rows)
        if tail is not None:
            stage.held[partition] = tail
        if rows.num_rows:
            self._write_rows(stage, partition, rows)

    def _write_rows(self, stage: InputStage, partition: str, rows: pa.Table) -> None:
        conv = rows.column("conversation_id")
        ts = rows.column("sent_at").cast(pa.int64())
        first = (conv[0].as_py(), ts[0].as_py())
        last = (conv[-1].as_py(), ts[-1].as_py())
        part = stage.parts.get(partition)
        if part is None or (part.last_key is not None and first < part.last_key):
            # rows would break the file's order: start a new part (normally one per partition)
            if part is not None:
                self._drain()
                part.close()
            self._part_no += 1
            path = self.stage_dir / "parts" / f"{self._part_no:06d}.pq-staging"
            path.parent.mkdir(parents=True, exist_ok=True)
            part = _Part(partition, path, parquet_writer(path))
            stage.parts[partition] = part
            stage.all_parts.append(part)
        assert part.writer is not None
        self._write(part.writer, rows)
        part.rows += rows.num_rows
        part.last_key = last
        lo, hi = pc.min_max(ts).values()
        part.min_ts = lo.as_py() if part.min_ts is None else min(part.min_ts, lo.as_py())
        part.max_ts = hi.as_py() if part.max_ts is None else max(part.max_ts, hi.as_py())

    def _write(self, writer: pq.ParquetWriter, rows: pa.Table) -> None:
        """Append rows to a part on the background thread (in order: one worker)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imarchive-parquet")
        while len(self._in_flight) >= IN_FLIGHT:
            self._in_flight.popleft().result()
        self._in_flight.append(self._pool.submit(self._write_now, writer, rows))

    def _write_now(self, writer: pq.ParquetWriter, rows: pa.Table) -> None:
        """Runs on the background thread. After one write failed (a full disk), no later
        write may touch any Parquet writer: pyarrow can crash the process when a writer is
        used again after a failed write. The first error is raised by ``_drain``."""
        if self._write_error is not None:
            raise ArchiveWriteSkipped("an earlier Parquet write failed") from self._write_error
        try:
            writer.write_table(rows, row_group_size=ROW_GROUP)
        except BaseException as exc:
            self._write_error = exc
            raise

    def _drain(self) -> None:
        """Wait for every queued write, then raise the first error, if any (no write may
        still run when a part is closed or removed)."""
        _wait_all(self._in_flight)

    def _drain_adds(self) -> None:
        """Wait for every chunk being added, then raise the first error, if any."""
        try:
            _wait_all(self._adds)
        finally:
            self._add_error = None  # the next input starts afresh (this one is rejected)

    def _stop(self) -> None:
        """Wait for the adding thread, then for the Parquet thread it feeds; stop both."""
        adder, self._adder = self._adder, None
        try:
            _shut(adder, self._drain_adds)
        finally:  # only now: a chunk still being added may queue a write
            pool, self._pool = self._pool, None
            _shut(pool, self._drain)

    # -- commit -------------------------------------------------------------------------------

    @property
    def has_content(self) -> bool:
        return bool(self.files)

    def _compact(self) -> None:
        """Merge the parts of each partition into one file, so that a batch normally
        writes one file per partition, sorted throughout. The merge streams (see
        ``archive.merge``): memory stays bounded however large the partition."""
        by_partition: dict[str, list[_Staged]] = {}
        for f in self.files:
            if f.kind == "messages" and f.part is not None:
                by_partition.setdefault(f.part.partition, []).append(f)
        if any(len(staged) > 1 for staged in by_partition.values()):
            release_free_memory()  # what reading left behind, before the merge needs more
        for partition, staged in by_partition.items():
            # at most MERGE_FAN_IN parts open at once (a night of thousands of chat files
            # met the open-file limit and took gigabytes): consecutive groups first, which
            # keeps the merged order (conversation, time, source order)
            while len(staged) > 1:
                groups = [staged[i : i + MERGE_FAN_IN] for i in range(0, len(staged), MERGE_FAN_IN)]
                staged = [self._merge(partition, g) if len(g) > 1 else g[0] for g in groups]

    def _merge(self, partition: str, staged: list[_Staged]) -> _Staged:
        """One part of the rows of ``staged`` (parts of one partition, in source order)."""
        self._part_no += 1
        path = self.stage_dir / "parts" / f"{self._part_no:06d}.pq-staging"
        part = _Part(partition, path, parquet_writer(path))
        assert part.writer is not None
        for table in merged([f.path for f in staged]):
            part.writer.write_table(table, row_group_size=ROW_GROUP)
            part.rows += table.num_rows
        part.min_ts = min(f.part.min_ts for f in staged if f.part and f.part.min_ts is not None)
        part.max_ts = max(f.part.max_ts for f in staged if f.part and f.part.max_ts is not None)
        part.close()
        sha, size = sha256_file(path)
        merged_away = {id(f) for f in staged}
        for f in staged:
            f.path.unlink()
        self.files = [f for f in self.files if id(f) not in merged_away]
        out = _Staged("messages", "", path, sha, size, part)
        self.files.append(out)
        return out

    def _entries(self) -> list[tuple[_Staged, L.FileEntry]]:
        out: list[tuple[_Staged, L.FileEntry]] = []
        n_by_partition: dict[str, int] = {}
        for f in self.files:
            if f.kind == "messages" and f.part is not None:
                p = f.part
                n = n_by_partition.get(p.partition, 0)
                n_by_partition[p.partition] = n + 1
                f.rel = L.part_path(p.partition, self.seq, self.batch_id, n)
                entry = L.FileEntry(
                    f.rel,
                    "messages",
                    f.sha256,
                    f.size,
                    p.rows,
                    _us_iso(p.min_ts),
                    _us_iso(p.max_ts),
                    p.partition,
                )
            else:
                entry = L.FileEntry(f.rel, f.kind, f.sha256, f.size)
            out.append((f, entry))
        return out

    def commit(self, record: dict[str, Any], set_aside: list[dict[str, Any]]) -> BatchInfo:
        """Publish the staged files and write the batch record. ``record`` holds the
        run's facts (options, inputs, lock breaks); the writer adds the rest."""
        self._stop()
        self._compact()
        pairs = self._entries()
        root = self.archive.root
        intent = {
            "batch_id": self.batch_id,
            "seq": self.seq,
            "started": iso(self.started),
            # files set aside are named too: a crash before the record leaves them in
            # quarantine, where the next run (building this seq again) finds them
            "publish": [e.to_json() for _, e in pairs] + set_aside,
        }
        write_atomic(self.staging / "intent.json", L.dumps(intent), overwrite=True)
        touched_dirs: set[Path] = set()
        for staged, entry in pairs:
            final = root / entry.path
            make_read_only(staged.path)
            publish(staged.path, final)
            touched_dirs.add(final.parent)
        for d in touched_dirs:
            fsync_dir(d)
        prev = self.batches[-1].sha256 if self.batches else self.archive.identity_sha256
        full = {
            "format": "imarchive-batch",
            "format_version": L.FORMAT_VERSION,
            "seq": self.seq,
            "batch_id": self.batch_id,
            "prev_sha256": prev,
            "schema_version": self.archive.identity.get("schema_version"),
            **record,
            "files": [e.to_json() for _, e in sorted(pairs, key=lambda p: p[1].path)],
            "set_aside": set_aside,
        }
        data = L.dumps(full)
        rel = L.batch_path(self.seq)
        write_atomic(root / rel, data, overwrite=False)  # the commit point
        make_read_only(root / rel)
        info = BatchInfo(self.seq, rel, hashlib.sha256(data).hexdigest(), full)
        self.batches = [*self.batches, info]
        refresh_derived(self.archive, self.batches)
        shutil.rmtree(self.staging, ignore_errors=True)
        return info

    def discard(self) -> None:
        """Drop everything staged (nothing was published)."""
        with contextlib.suppress(Exception):  # the staged files are dropped anyway
            self._stop()
        shutil.rmtree(self.staging, ignore_errors=True)


def _stored(name: str | None, sha: str, size: int, media_type: str | None) -> Attachment:
    """A media file kept under ``attachments/`` (or, in a dry run, that would be)."""
    return Attachment(name, sha, size, media_type or _guess_type(name), AttachmentStatus.STORED)


def _by_partition(table: pa.Table) -> list[tuple[str, pa.Table]]:
    """The table's rows per partition (``partition_keys``), split on a month number
    rather than on per-row strings; no copy when the rows share one partition."""
    platforms = pc.unique(table.column("platform"))
    if len(platforms) != 1:
        keys = partition_keys(table)
        return [(p, table.filter(pc.equal(keys, p))) for p in pc.unique(keys).to_pylist()]
    ts = table.column("sent_at").combine_chunks().cast(pa.int64()).to_numpy()
    months = ts.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    out: list[tuple[str, pa.Table]] = []
    firsts = np.unique(months, return_index=True)[1]
    for m in months[np.sort(firsts)].tolist():  # in order of first appearance
        year, month = divmod(m, 12)
        name = f"platform={platforms[0].as_py()}/year={1970 + year:04d}/month={month + 1:02d}"
        out.append((name, table if len(firsts) == 1 else table.filter(pa.array(months == m))))
    return out


def _sorted(rows: pa.Table) -> pa.Table:
    """``rows.sort_by(SORT_KEYS)`` (stable); a stable numpy sort on ``sent_at`` when the
    rows share one conversation, nothing when they are in order already."""
    conv = rows.column("conversation_id")
    lo, hi = pc.min_max(conv).values()
    ts = rows.column("sent_at").combine_chunks().cast(pa.int64()).to_numpy()
    if conv.null_count or lo != hi:
        return rows if _in_order(conv.combine_chunks(), ts) else rows.sort_by(SORT_KEYS)
    if (ts[1:] >= ts[:-1]).all():
        return rows
    return rows.take(pa.array(np.argsort(ts, kind="stable")))


def _in_order(conv: pa.Array, ts: np.ndarray) -> bool:
    """Rows already in ``SORT_KEYS`` order (as a database read in that order gives them)."""
    if conv.null_count or len(conv) < 2:
        return not conv.null_count
    later, earlier = conv.slice(1), conv.slice(0, len(conv) - 1)
    if pc.any(pc.less(later, earlier)).as_py():
        return False
    same = pc.equal(later, earlier).to_numpy(zero_copy_only=False)
    return not (same & (ts[1:] < ts[:-1])).any()


def _hold_back(rows: pa.Table) -> tuple[pa.Table, pa.Table | None]:
    """Sorted one-conversation rows → (those older than the newest minus HOLD_BACK_US,
    the rest as a compact copy); other rows are written at once."""
    conv = rows.column("conversation_id")
    lo, hi = pc.min_max(conv).values()
    if not rows.num_rows or conv.null_count or lo != hi:
        return rows, None
    ts = rows.column("sent_at").combine_chunks().cast(pa.int64()).to_numpy()
    cut = int(np.searchsorted(ts, ts[-1] - HOLD_BACK_US, side="left"))
    tail = rows.slice(cut)
    return rows.slice(0, cut), tail.take(pa.array(np.arange(tail.num_rows)))


def _wait_all(futures: deque[Future[None]]) -> None:
    """Wait for every job; then raise the first error, if any (a job skipped because of
    an earlier failure raises that failure, which the caller may not have seen yet)."""
    error: BaseException | None = None
    while futures:
        try:
            futures.popleft().result()
        except BaseException as exc:
            error = error or exc
    if isinstance(error, ArchiveWriteSkipped) and error.__cause__ is not None:
        raise error.__cause__
    if error is not None:
        raise error


def _shut(pool: ThreadPoolExecutor | None, drain: Callable[[], None]) -> None:
    if pool is not None:
        try:
            drain()
        finally:
            pool.shutdown(wait=True)


class ArchiveWriteSkipped(OSError):
    """A queued write not attempted because an earlier one failed."""


def _us_iso(us: int | None) -> str | None:
    if us is None:
        return None
    from datetime import UTC, timedelta

    return iso(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us))


def _guess_type(name: str | None) -> str | None:
    return mimetypes.guess_type(name)[0] if name else None
