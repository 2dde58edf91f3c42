"""Opening and creating archives, reading the committed state from batch records,
and deriving the manifest and SHA256SUMS from it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imarchive import __version__
from imarchive.archive import layout as L
from imarchive.archive.fsio import fsync_dir, make_read_only, write_atomic
from imarchive.errors import NotAnArchive
from imarchive.identity import format_instant

ARCHIVE_UMASK = 0o027  # no world access; group may read (SPEC guarantee 5 of the reliability issue)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return format_instant(ts)


@dataclass(frozen=True)
class BatchInfo:
    seq: int
    rel: str  # relative path of the record file
    sha256: str  # sha256 of the record file's bytes: the chain link to the next batch
    record: dict[str, Any]

    @property
    def files(self) -> list[L.FileEntry]:
        return [L.FileEntry.from_json(f) for f in self.record.get("files", [])] + [
            L.FileEntry.from_json(f) for f in self.record.get("set_aside", [])
        ]


def no_folder(root: Path) -> str:
    """Why ``root``, which is not a folder, holds no archive."""
    if root.exists():
        return f"{root}: not an imarchive archive (a file, not a folder)"
    return f"{root}: no archive here (the folder does not exist)"


class Archive:
    """An opened archive. Reading needs no lock; writers use ``archive.writer``."""

    def __init__(self, root: Path, identity: dict[str, Any], identity_sha256: str) -> None:
        self.root = root
        self.identity = identity
        self.identity_sha256 = identity_sha256

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, root: Path) -> Archive:
        path = root / L.ARCHIVE_JSON
        if not root.is_dir():
            raise NotAnArchive(no_folder(root))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotAnArchive(f"{root}: not an imarchive archive (no {L.ARCHIVE_JSON})") from None
        except OSError as exc:
            raise NotAnArchive(f"{path}: cannot read ({exc.strerror})") from None
        try:
            identity = json.loads(data)
        except ValueError:
            raise NotAnArchive(f"{path}: not valid JSON") from None
        if not isinstance(identity, dict) or identity.get("format") != L.FORMAT:
            raise NotAnArchive(
                f"{root}: not an imarchive archive ({L.ARCHIVE_JSON} says otherwise)"
            )
        version = identity.get("format_version")
        if not isinstance(version, int) or version > L.FORMAT_VERSION:
            raise NotAnArchive(
                f"{root}: archive format version {version!r} is newer than this tool reads "
                f"({L.FORMAT_VERSION}); upgrade imarchive"
            )
        return cls(root, identity, hashlib.sha256(data).hexdigest())

    # -- committed state -----------------------------------------------------------------

    def batches(self) -> list[BatchInfo]:
        """Every batch record, by seq. Raises ``ValueError`` on an unreadable record
        (a writer must not build on a damaged chain; verify reports it instead)."""
        out: list[BatchInfo] = []
        bdir = self.root / L.BATCHES
        for entry in sorted(os.listdir(bdir)) if bdir.is_dir() else []:
            m = L.BATCH_NAME.match(entry)
            if not m:
                continue
            data = (bdir / entry).read_bytes()
            record = json.loads(data)
            out.append(
                BatchInfo(
                    int(m.group(1)),
                    f"{L.BATCHES}/{entry}",
                    hashlib.sha256(data).hexdigest(),
                    record,
                )
            )
        return out

    def head(self, batches: list[BatchInfo] | None = None) -> tuple[int, str]:
        batches = self.batches() if batches is None else batches
        if not batches:
            return 0, self.identity_sha256
        return batches[-1].seq, batches[-1].sha256


def create(root: Path) -> None:
    """Create an empty archive atomically: build it in a sibling temp folder, then
    rename it into place. A folder at ``root`` is a complete archive or nothing."""
    root = root.absolute()
    root.parent.mkdir(parents=True, exist_ok=True)
    from imarchive.schema import SCHEMA_VERSION, schema_description  # pyarrow: only here

    tmp = root.with_name(f".{root.name}.creating-{uuid.uuid4().hex[:12]}")
    old_umask = os.umask(0)
    os.umask(old_umask | ARCHIVE_UMASK)
    try:
        tmp.mkdir()
        for sub in (L.MESSAGES, L.SOURCES, L.ATTACHMENTS, L.BATCHES, L.TXN):
            (tmp / sub).mkdir(parents=True)
        identity = {
            "format": L.FORMAT,
            "format_version": L.FORMAT_VERSION,
            "archive_id": uuid.uuid4().hex,
            "created": iso(utc_now()),
            "created_by": f"imarchive {__version__}",
            "schema_version": SCHEMA_VERSION,
            "schema": schema_description(),
        }
        identity_bytes = L.dumps(identity)
        write_atomic(tmp / L.ARCHIVE_JSON, identity_bytes, overwrite=False)
        manifest = build_manifest(identity, hashlib.sha256(identity_bytes).hexdigest(), [])
        write_derived(tmp, identity_bytes, [], manifest)
        make_read_only(tmp / L.ARCHIVE_JSON)
        try:
            if root.exists():
                root.rmdir()  # only an empty folder may be turned into an archive
            os.rename(tmp, root)
        except OSError:
            if (root / L.ARCHIVE_JSON).exists():  # another process created it first
                shutil.rmtree(tmp, ignore_errors=True)
                return
            raise
        fsync_dir(root.parent)
    finally:
        os.umask(old_umask)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def build_manifest(
    identity: dict[str, Any], identity_sha256: str, batches: list[BatchInfo]
) -> dict[str, Any]:
    files: list[dict[str, Any]] = []
    sources: dict[str, dict[str, Any]] = {}
    messages = attachments = nbytes = 0
    for b in batches:
        for f in b.files:
            entry = {
                "path": f.path,
                "kind": f.kind,
                "sha256": f.sha256,
                "size": f.size,
                "batch_seq": b.seq,
            }
            if f.kind == "messages":
                entry["rows"] = f.rows
                messages += f.rows or 0
            elif f.kind == "attachment":
                attachments += 1
            files.append(entry)
            nbytes += f.size
        for inp in b.record.get("inputs", []):
            if inp.get("status") != "ingested":
                continue
            for src in inp.get("sources", []):
                s = sources.setdefault(
                    src["sha256"],
                    {
                        "sha256": src["sha256"],
                        "size": src["size"],
                        "paths": [],
                        "format": inp.get("format"),
                        "batch_seq": b.seq,
                    },
                )
                if src["path"] not in s["paths"]:
                    s["paths"].append(src["path"])
    head_seq, head_sha = (batches[-1].seq, batches[-1].sha256) if batches else (0, identity_sha256)
    return {
        "format": "imarchive-manifest",
        "format_version": L.FORMAT_VERSION,
        "archive_id": identity.get("archive_id"),
        "schema_version": identity.get("schema_version"),
        "schema": identity.get("schema"),
        "head": {"seq": head_seq, "sha256": head_sha},
        "files": sorted(files, key=lambda e: e["path"]),
        "sources": sorted(sources.values(), key=lambda s: s["sha256"]),
        "totals": {
            "batches": len(batches),
            "messages": messages,
            "files": len(files),
            "sources": len(sources),
            "attachments": attachments,
            "bytes": nbytes,
        },
    }


def sums_text(entries: list[tuple[str, str]]) -> bytes:
    """GNU ``sha256sum`` format: ``<hex>  <path>``; paths are relative to the root."""
    return "".join(f"{sha}  {path}\n" for path, sha in sorted(entries)).encode("utf-8")


def write_derived(
    root: Path, identity_bytes: bytes, batches: list[BatchInfo], manifest: dict[str, Any]
) -> None:
    """(Re)write manifest.json, then SHA256SUMS, each atomically."""
    manifest_bytes = L.dumps(manifest)
    write_atomic(root / L.MANIFEST_JSON, manifest_bytes, overwrite=True)
    entries = [(L.ARCHIVE_JSON, hashlib.sha256(identity_bytes).hexdigest())]
    entries.append((L.MANIFEST_JSON, hashlib.sha256(manifest_bytes).hexdigest()))
    for b in batches:
        entries.append((b.rel, b.sha256))
        entries.extend((f.path, f.sha256) for f in b.files)
    write_atomic(root / L.SHA256SUMS, sums_text(entries), overwrite=True)


def refresh_derived(archive: Archive, batches: list[BatchInfo] | None = None) -> None:
    batches = archive.batches() if batches is None else batches
    identity_bytes = (archive.root / L.ARCHIVE_JSON).read_bytes()
    manifest = build_manifest(archive.identity, archive.identity_sha256, batches)
    write_derived(archive.root, identity_bytes, batches, manifest)


def manifest_head(archive: Archive) -> tuple[int, str] | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        m = json.loads((archive.root / L.MANIFEST_JSON).read_bytes())
        return int(m["head"]["seq"]), str(m["head"]["sha256"])
    return None
