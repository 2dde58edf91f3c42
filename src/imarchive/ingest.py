"""The ingest pipeline: expand → detect → snapshot → read → dedupe → stage → commit."""

from __future__ import annotations

import errno
import getpass
import hashlib
import os
import shutil
import socket
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from imarchive import __version__, tempdirs
from imarchive.archive import layout as L
from imarchive.archive import recovery
from imarchive.archive.fsio import sha256_file
from imarchive.archive.lock import Lock, clear_breaks, pending_breaks
from imarchive.archive.store import ARCHIVE_UMASK, Archive, create, iso, no_folder, utc_now
from imarchive.errors import (
    ArchiveError,
    NotAnArchive,
    SourceError,
    UsageError,
    database_reason,
)
from imarchive.inputs import Found, expand, is_media_beside_export
from imarchive.memory import bound_memory
from imarchive.model import Message
from imarchive.sources import registry
from imarchive.sources.base import (
    Candidate,
    MediaSink,
    Reader,
    ReadOptions,
    ReadReport,
    SourceRef,
)
from imarchive.sources.wechat.exports.pywxdump import PyWxDumpCsvReader

if TYPE_CHECKING:
    from imarchive.archive.writer import BatchWriter

# Errors of writing, never of reading an input: the archive's file system is full or
# read-only. They stop the run (every other input would fail alike) with exit 1.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})
CHAT_CONTAINERS = (".txt", ".zip")  # never taken for media: they may be a chat export
NOT_RECOGNISED = "not a recognised"  # the start of registry.detect's rejection
CHUNK_MESSAGES = 16_384  # Message objects are large: keep few in memory

Progress = Callable[[str, int, int], None]  # (what, done, total)
_T = TypeVar("_T")


@dataclass(frozen=True)
class IngestOptions:
    paths: tuple[Path, ...]
    archive: Path
    read: ReadOptions
    format: str = "auto"
    dry_run: bool = False
    lock_timeout: float = 0.0


@dataclass
class InputResult:
    path: str
    sha256: str | None = None
    size: int | None = None
    format: str | None = None
    status: str = "rejected"  # ingested | already_ingested | rejected
    messages_read: int = 0
    messages_new: int = 0
    messages_duplicate: int = 0
    lines_total: int | None = None
    lines_rejected: int = 0
    rows_rejected: int = 0
    encoding: str | None = None
    rejected: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class IngestResult:
    archive: str
    batch_seq: int | None
    head: dict[str, Any]
    inputs: list[InputResult]
    dry_run: bool
    warnings: list[str] = field(default_factory=list)
    set_aside: int = 0
    lock_breaks: int = 0

    @property
    def totals(self) -> dict[str, int]:
        keys = (
            "messages_read",
            "messages_new",
            "messages_duplicate",
            "lines_total",
            "lines_rejected",
            "rows_rejected",
        )
        out = {k: sum(getattr(i, k) or 0 for i in self.inputs) for k in keys}  # None: no lines
        out["warnings"] = sum(len(i.warnings) for i in self.inputs)
        out["inputs"] = len(self.inputs)
        for status in ("ingested", "already_ingested", "rejected"):
            out[status] = sum(1 for i in self.inputs if i.status == status)
        return out

    @property
    def ok(self) -> bool:
        return all(i.status != "rejected" for i in self.inputs)

    def to_json(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "batch_seq": self.batch_seq,
            "head": self.head,
            "dry_run": self.dry_run,
            "inputs": [
                i.to_json() | {"warnings": i.warnings, "lines_rejected": i.lines_rejected}
                for i in self.inputs
            ],
            "totals": self.totals,
            "warnings": self.warnings,
            "set_aside": self.set_aside,
            "lock_breaks": self.lock_breaks,
        }


@dataclass
class _Context:
    """The ReadContext a reader sees for one input."""

    options: ReadOptions
    report: ReadReport
    media: MediaSink
    writer: BatchWriter
    known: dict[Path, tuple[str, int]]
    displays: dict[Path, str]
    refs: list[SourceRef] = field(default_factory=list)
    staged: set[Path] = field(default_factory=set)

    def source(self, path: Path) -> SourceRef:
        sha, _ = self.known.get(path, (None, 0))
        display = self.displays.get(path, str(path))
        ref = self.writer.stage_source(path, display, sha)
        self.refs.append(ref)
        self.staged.add(path)
        return ref

    def stage_the_rest(self) -> None:
        """Snapshot the input's files that the reader did not open itself (a database's
        -shm): every file listed as a source of the input is kept in ``sources/``."""
        for path in self.known:
            if path not in self.staged:
                self.source(path)


def _source_display(cand: Candidate, path: Path) -> str:
    if path == cand.path:
        return cand.display
    try:
        return str(Path(cand.display) / path.relative_to(cand.path))
    except ValueError:
        return str(path)


@dataclass
class _Prepared:
    """An input after detection and hashing: either settled (rejected, or already
    ingested) or waiting to be read by ``reader``."""

    cand: Candidate | None
    result: InputResult
    reader: Reader | None = None
    hashed: dict[Path, tuple[str, int]] = field(default_factory=dict)


def _prepare(cand: Candidate, opts: IngestOptions, known_sources: set[str]) -> _Prepared:
    result = InputResult(cand.display)
    try:
        detection = registry.detect(cand, opts.format)
    except SourceError as exc:
        result.error = exc.reason
        return _Prepared(cand, result)
    reader = detection.reader
    result.format = reader.name
    try:
        files = reader.source_files(cand)
        hashed = {p: sha256_file(p) for p in files}
    except SourceError as exc:
        result.error = exc.reason
        return _Prepared(cand, result)
    except OSError as exc:
        result.error = f"cannot read {exc.filename or cand.display} ({exc.strerror})"
        return _Prepared(cand, result)
    if len(files) == 1:
        result.sha256, result.size = hashed[files[0]]
    else:
        listing = "".join(f"{sha}\n" for sha, _ in sorted(hashed.values()))
        result.sha256 = hashlib.sha256(listing.encode()).hexdigest()
        result.size = sum(size for _, size in hashed.values())
    result.sources = [
        {"path": _source_display(cand, p), "sha256": sha, "size": size}
        for p, (sha, size) in hashed.items()
    ]
    if files and all(sha in known_sources for sha, _ in hashed.values()):
        result.status = "already_ingested"
        return _Prepared(cand, result)
    return _Prepared(cand, result, reader, hashed)


def _run_input(prepared: _Prepared, opts: IngestOptions, writer: BatchWriter) -> InputResult:
    cand, result, hashed = prepared.cand, prepared.result, prepared.hashed
    reader = prepared.reader
    assert reader is not None and cand is not None
    files = list(hashed)
    report = ReadReport()
    ctx = _Context(
        opts.read, report, writer, writer, hashed, {p: _source_display(cand, p) for p in files}
    )
    writer.begin_input()
    ok = False
    try:
        chunk: list[Message] = []
        for item in reader.read(cand, ctx):
            if isinstance(item, Message):
                chunk.append(item)
                if len(chunk) < CHUNK_MESSAGES:
                    continue
            else:  # a columnar reader hands over a whole table of rows
                result.messages_read += item.num_rows
                writer.add_table(item)
            result.messages_read += len(chunk)
            writer.add(chunk)
            chunk = []
        result.messages_read += len(chunk)
        writer.add(chunk)
        ctx.stage_the_rest()
        ok = True
    except SourceError as exc:
        result.error = _without(exc.reason, cand.display)
    except sqlite3.DatabaseError as exc:
        # a damaged database file of a dump: that input is rejected, the run goes on
        result.error = database_reason(exc)
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:
            raise  # the archive's disk, not this input: stops the run (see _ingest)
        result.error = f"cannot read {exc.filename or cand.display} ({exc.strerror})"
    finally:
        new, dup = writer.end_input(ok)
    if not ok:
        result.messages_read = 0
        return result
    result.status = "ingested"
    result.messages_new, result.messages_duplicate = new, dup
    result.encoding = report.encoding
    result.lines_total = report.lines_total
    result.lines_rejected = report.lines_rejected
    result.rows_rejected = report.rows_rejected
    result.rejected = [{"locator": r.locator, "reason": r.reason} for r in report.rejected]
    result.warnings = [
        {"locator": w.locator, "code": w.code, "message": w.message} for w in report.warnings
    ]
    result.facts = dict(report.facts)
    return result


def _drop_media_beside_exports(
    results: list[InputResult], opts: IngestOptions
) -> list[InputResult]:
    """Media files that sit beside a chat export in a walked folder belong to it. Only
    files that were merely not recognised: a damaged or unreadable file, a .txt or .zip
    (which may hold a chat) and a path the user named are always reported."""
    read = {r.path: r.format or "" for r in results if r.status != "rejected"}
    chat_dirs = {Path(p).parent for p, fmt in read.items() if fmt.startswith("whatsapp")}
    # a PyWxDump CSV's media: FileStorage/… beside it (its rows' `src`)
    pywxdump = PyWxDumpCsvReader.name
    storage = {Path(p).parent / "FileStorage" for p, fmt in read.items() if fmt == pywxdump}

    def media(path: Path) -> bool:
        if is_media_beside_export(str(path)) and path.parent in chat_dirs:
            return True
        return any(path.is_relative_to(d) for d in storage)

    given = {str(p) for p in opts.paths}
    return [
        r
        for r in results
        if not (
            r.status == "rejected"
            and r.format is None
            and (r.error or "").startswith(NOT_RECOGNISED)
            and r.path not in given
            and Path(r.path).suffix.lower() not in CHAT_CONTAINERS
            and media(Path(r.path))
        )
    ]


def _record(
    opts: IngestOptions, started: str, inputs: list[InputResult], breaks: list[Any]
) -> dict[str, Any]:
    r = opts.read
    return {
        "tool_version": __version__,
        "started": started,
        "finished": iso(utc_now()),
        "host": socket.gethostname(),
        "user": _user(),
        "pid": os.getpid(),
        "options": {
            "timezone": r.timezone,
            "timezone_assumed": r.timezone_assumed,
            "date_order": r.date_order,
            "custodian": r.custodian,
            "owner": r.owner,
            "conversation": r.conversation,
            "format": opts.format,
            "keys_given": len(r.keys),
        },
        "lock_breaks": breaks,
        "inputs": [i.to_json() for i in inputs],
    }


def _without(reason: str, display: str) -> str:
    """A reason without the input's own path in front (the report puts it there)."""
    return reason[len(display) + 2 :] if reason.startswith(display + ": ") else reason


def _user() -> str:
    """The login name for the batch record; a uid with no name (a container's) as
    ``uid:N``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def ingest(opts: IngestOptions, progress: Progress | None = None) -> IngestResult:
    """Ingest ``opts.paths`` into the archive; one batch at most. Rejected inputs are
    data in the result; only archive-level failures raise."""
    for p in opts.paths:
        try:
            os.lstat(p)
        except FileNotFoundError:
            raise UsageError(f"{p}: no such file or folder") from None
        except OSError as exc:  # a folder on the way this user may not enter
            raise UsageError(f"{p}: cannot be reached ({exc.strerror})") from None
    if opts.format != "auto" and opts.format not in registry.format_names():
        raise UsageError(
            f"--format {opts.format}: unknown (one of: {', '.join(registry.format_names())})"
        )
    tempdirs.check_tmpdir()
    swept = tempdirs.sweep()  # copies of databases a killed run left behind
    old_umask = os.umask(0)
    os.umask(old_umask | ARCHIVE_UMASK)
    try:
        result = _ingest(opts, progress)
    finally:
        os.umask(old_umask)
    if swept:
        result.warnings.append(
            f"removed {len(swept)} temporary folder(s) that an interrupted run left in "
            f"{tempfile.gettempdir()} (copies of databases)"
        )
    return result


def _ingest(opts: IngestOptions, progress: Progress | None) -> IngestResult:
    root = opts.archive
    started = utc_now()
    try:
        archive = _open_or_create(root, opts.dry_run)
    except OSError as exc:  # a folder this user may not read (permissions, a stale mount)
        raise ArchiveError(
            f"{exc.filename or root}: cannot read the archive ({exc.strerror or exc})"
        ) from None
    found = list(expand(list(opts.paths), root))
    lock = Lock(root, opts.lock_timeout) if archive and not opts.dry_run else None
    if lock:
        _archive_op(root, lock.acquire)
    try:
        return _archive_op(root, lambda: _ingest_locked(opts, archive, found, started, progress))
    finally:
        if lock:
            lock.release()


def _open_or_create(root: Path, dry_run: bool) -> Archive | None:
    """The archive at ``root``, created there when the folder is missing or empty (a
    dry run creates nothing: None)."""
    if root.exists() and not root.is_dir():
        raise NotAnArchive(no_folder(root))
    if dry_run:
        return Archive.open(root) if (root / L.ARCHIVE_JSON).exists() else None
    if root.exists() and not (root / L.ARCHIVE_JSON).exists() and any(root.iterdir()):
        raise NotAnArchive(f"{root}: not an imarchive archive (folder is not empty)")
    if not root.exists() or not any(root.iterdir()):
        try:
            create(root)
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise ArchiveError(f"{root}: cannot create the archive ({reason})") from None
    return Archive.open(root)


def _archive_op(root: Path, op: Callable[[], _T]) -> _T:
    """Run an archive step; an OSError there (disk full, read-only, permissions) becomes
    a one-line ``ArchiveError`` (exit 1). Inputs' read errors never get here: they
    reject their input in ``_run_input``."""
    try:
        return op()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise ArchiveError(
            f"{exc.filename or root}: cannot write to the archive ({reason}); "
            "it stays at its last committed batch"
        ) from exc


def _ingest_locked(
    opts: IngestOptions,
    archive: Archive | None,
    found: list[Found],
    started: Any,
    progress: Progress | None,
) -> IngestResult:
    tmp_root: Path | None = None
    if archive is None:  # dry run against an archive that does not exist yet
        tmp_root = tempdirs.make("dry")
        create(tmp_root / "archive")
        archive = Archive.open(tmp_root / "archive")
    batches = archive.batches()
    batch_id = uuid.uuid4().hex
    if opts.dry_run:
        staging = tempdirs.make("dry-stage") / batch_id
    else:
        staging = archive.root / L.txn_dir(batch_id)
    leftovers = recovery.Leftovers()
    if not opts.dry_run:
        leftovers = recovery.find(archive, batches)
        batches = archive.batches()
    committed_paths = {f.path for b in batches for f in b.files}
    known_sources = {p.rsplit("/", 1)[-1] for p in committed_paths if p.startswith(L.SOURCES + "/")}
    prepared: list[_Prepared] = []
    for n, item in enumerate(found):
        if progress:
            progress(item.display, n, len(found))
        if item.candidate is None:
            prepared.append(_Prepared(None, InputResult(item.display, error=item.error)))
        else:
            prepared.append(_prepare(item.candidate, opts, known_sources))
    if not leftovers.to_set_aside and not any(p.reader for p in prepared):
        # Nothing to read (the nightly re-run over the same drop folder): answer without
        # loading the Parquet machinery at all.
        if tmp_root is not None:
            shutil.rmtree(tmp_root, ignore_errors=True)
        shutil.rmtree(staging.parent if opts.dry_run else staging, ignore_errors=True)
        seq, sha = archive.head(batches)
        results = _drop_media_beside_exports([p.result for p in prepared], opts)
        return IngestResult(
            str(opts.archive), None, {"seq": seq, "sha256": sha}, results, opts.dry_run
        )
    from imarchive.archive.writer import BatchWriter  # pyarrow and numpy: only when needed

    bound_memory()
    writer = BatchWriter(archive, batches, staging, started, dry_run=opts.dry_run)
    try:
        for n, prep in enumerate(prepared):
            if prep.reader is not None:
                if progress:
                    progress(prep.result.path, n, len(prepared))
                _run_input(prep, opts, writer)
        if progress:
            progress("", len(found), len(found))
        results = _drop_media_beside_exports([p.result for p in prepared], opts)
        breaks = pending_breaks(archive.root) if not opts.dry_run else []
        ingested = any(r.status == "ingested" for r in results)
        if opts.dry_run or not (
            writer.has_content or leftovers.to_set_aside or (ingested and breaks)
        ):
            writer.discard()
            seq, sha = archive.head(batches)
            return IngestResult(
                str(opts.archive), None, {"seq": seq, "sha256": sha}, results, opts.dry_run
            )
        set_aside = recovery.set_aside(
            archive, leftovers, writer.seq, committed_paths, writer.staging, writer.batch_id
        )
        record = _record(opts, iso(started), results, breaks)
        if set_aside:
            record["recovered"] = {
                "txn": [d.name for d, _ in leftovers.txn_dirs],
                "temp_files": leftovers.temp_files,
            }
        info = writer.commit(record, set_aside)
        clear_breaks(archive.root)
        return IngestResult(
            str(opts.archive),
            info.seq,
            {"seq": info.seq, "sha256": info.sha256},
            results,
            False,
            set_aside=len(set_aside),
            lock_breaks=len(breaks),
        )
    except BaseException:
        if not os.path.exists(staging / "intent.json"):
            writer.discard()  # nothing was published: drop the staging area
        raise
    finally:
        if tmp_root is not None:
            shutil.rmtree(tmp_root, ignore_errors=True)
        if opts.dry_run:  # the mkdtemp folder around the staging area, not only the area
            shutil.rmtree(staging.parent, ignore_errors=True)
