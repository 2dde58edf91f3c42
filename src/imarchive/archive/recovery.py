"""Leftovers of interrupted batches: rolled forward when the batch had committed,
otherwise moved to ``_archive/quarantine/<seq>/`` and listed in the next batch record
(never deleted: they may be evidence of what happened)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imarchive.archive import layout as L
from imarchive.archive.fsio import fsync_dir, make_read_only, sha256_file, walk_files
from imarchive.archive.store import Archive, BatchInfo, manifest_head, refresh_derived


@dataclass
class Leftovers:
    """What an interrupted run left behind, found under the writer lock."""

    rolled_forward: list[str] = field(default_factory=list)  # committed batches finished now
    txn_dirs: list[tuple[Path, dict[str, Any] | None]] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)  # fsio temp names in the tree

    @property
    def to_set_aside(self) -> bool:
        return bool(self.txn_dirs or self.temp_files)


def _txn_dirs(root: Path) -> list[Path]:
    txn = root / L.TXN
    if not txn.is_dir():
        return []
    return [
        p
        for p in sorted(txn.iterdir())
        if p.is_dir() and len(p.name) == 32 and not p.name.startswith(".")
    ]


def find(archive: Archive, batches: list[BatchInfo], own_txn: Path | None = None) -> Leftovers:
    """Roll committed batches forward and list what must be set aside."""
    root = archive.root
    found = Leftovers()
    committed_ids = {b.record.get("batch_id") for b in batches}
    for d in _txn_dirs(root):
        if own_txn is not None and d == own_txn:
            continue
        intent = None
        with contextlib.suppress(OSError, ValueError):
            intent = json.loads((d / "intent.json").read_bytes())
        if intent and intent.get("batch_id") in committed_ids:
            found.rolled_forward.append(d.name)
            refresh_derived(archive, batches)
            shutil.rmtree(d, ignore_errors=True)
            continue
        found.txn_dirs.append((d, intent))
    if batches and manifest_head(archive) != (batches[-1].seq, batches[-1].sha256):
        refresh_derived(archive, batches)  # derived files lag behind the newest record
        found.rolled_forward.append(batches[-1].record.get("batch_id", ""))
    for path in walk_files(root):
        rel = path.relative_to(root).as_posix()
        if L.TEMP_NAME.match(path.name) and not L.is_not_content(rel):
            found.temp_files.append(rel)
    return found


def set_aside(
    archive: Archive, found: Leftovers, seq: int, committed_paths: set[str]
) -> list[dict[str, Any]]:
    """Move leftovers into ``_archive/quarantine/<seq>/`` and describe them for the
    batch record of batch ``seq``."""
    root = archive.root
    records: list[dict[str, Any]] = []

    def move(rel: str, batch_id: str | None, why: str) -> None:
        src = root / rel
        if not src.is_file() or src.is_symlink():
            return
        dest_rel = L.quarantine_path(seq, rel)
        dest = root / dest_rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        make_read_only(dest)
        fsync_dir(dest.parent)
        sha, size = sha256_file(dest)
        records.append(
            {
                "path": dest_rel,
                "kind": "quarantine",
                "sha256": sha,
                "size": size,
                "original_path": rel,
                "batch_id": batch_id,
                "reason": why,
            }
        )

    for d, intent in found.txn_dirs:
        batch_id = intent.get("batch_id") if intent else d.name
        for entry in intent.get("publish", []) if intent else []:
            rel = entry.get("path", "")
            if rel and rel not in committed_paths and (root / rel).is_file():
                move(rel, batch_id, "published by a batch that never committed")
        for path in walk_files(d):
            move(
                path.relative_to(root).as_posix(),
                batch_id,
                "staged by a batch that never committed",
            )
        shutil.rmtree(d, ignore_errors=True)
    for rel in found.temp_files:
        move(rel, None, "temporary file of an interrupted write")
    return sorted(records, key=lambda r: r["path"])
