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
from imarchive.archive.fsio import (
    fsync_dir,
    make_read_only,
    sha256_file,
    walk_files,
    write_atomic,
)
from imarchive.archive.store import Archive, BatchInfo, manifest_head, refresh_derived
from imarchive.errors import ArchiveError


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
        if next(walk_files(d), None) is None:
            shutil.rmtree(d, ignore_errors=True)  # empty folders only: nothing to keep
            continue
        found.txn_dirs.append((d, intent))
    if batches and manifest_head(archive) != (batches[-1].seq, batches[-1].sha256):
        refresh_derived(archive, batches)  # derived files lag behind the newest record
        found.rolled_forward.append(batches[-1].record.get("batch_id", ""))
    for path in walk_files(root):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(L.QUARANTINE + "/"):
            continue  # set aside already: by a batch record, or by an intent (see set_aside)
        if L.TEMP_NAME.match(path.name) and not L.is_not_content(rel):
            found.temp_files.append(rel)
    return found


def set_aside(
    archive: Archive,
    found: Leftovers,
    seq: int,
    committed_paths: set[str],
    staging: Path,
    batch_id: str,
) -> list[dict[str, Any]]:
    """Move leftovers into ``_archive/quarantine/<seq>/`` and describe them for the
    batch record of batch ``seq`` (whose txn folder is ``staging``).

    The moves are announced first, in ``staging/intent.json``: if this run dies while
    moving, the files already in quarantine are named by an intent (``verify`` reports
    them as leftovers, not as unexpected files) and the next run, which builds batch
    ``seq`` again, finds them in place and lists them in its record."""
    root = archive.root
    plan: list[tuple[str, str, str | None, str]] = []  # (from, to, batch_id, reason)
    in_place: list[dict[str, Any]] = []
    for d, intent in found.txn_dirs:
        owner = intent.get("batch_id") if intent else d.name
        for entry in intent.get("publish", []) if intent else []:
            rel = entry.get("path", "")
            if not rel or rel in committed_paths or not (root / rel).is_file():
                continue
            original = entry.get("original_path")
            if entry.get("kind") == "quarantine" and rel == L.quarantine_path(seq, str(original)):
                in_place.append(entry)  # moved by an interrupted set-aside of batch ``seq``
            else:
                plan.append((rel, "", owner, "published by a batch that never committed"))
        for path in walk_files(d):
            rel = path.relative_to(root).as_posix()
            plan.append((rel, "", owner, "staged by a batch that never committed"))
    plan.extend(
        (rel, "", None, "temporary file of an interrupted write") for rel in found.temp_files
    )

    records: dict[str, dict[str, Any]] = {}
    for entry in in_place:
        sha, size = sha256_file(root / entry["path"])
        records[entry["path"]] = {
            "path": entry["path"],
            "kind": "quarantine",
            "sha256": sha,
            "size": size,
            "original_path": entry["original_path"],
            "batch_id": entry.get("batch_id"),
            "reason": entry.get("reason"),
        }
    moves: list[tuple[str, str]] = []
    for rel, _, owner, why in plan:
        src = root / rel
        if not src.is_file() or src.is_symlink():
            continue
        dest_rel = L.quarantine_path(seq, rel)
        sha, size = sha256_file(src)
        if dest_rel in records:
            if records[dest_rel]["sha256"] != sha:
                raise ArchiveError(f"{root / dest_rel}: a different file is already set aside here")
            moves.append((rel, ""))  # the same bytes are in quarantine already
            continue
        records[dest_rel] = {
            "path": dest_rel,
            "kind": "quarantine",
            "sha256": sha,
            "size": size,
            "original_path": rel,
            "batch_id": owner,
            "reason": why,
        }
        moves.append((rel, dest_rel))
    out = sorted(records.values(), key=lambda r: r["path"])
    if moves or out:
        intent = {"batch_id": batch_id, "seq": seq, "publish": out}
        write_atomic(staging / "intent.json", L.dumps(intent), overwrite=True)
    for rel, dest_rel in moves:
        src = root / rel
        if not dest_rel:
            src.unlink()
            continue
        dest = root / dest_rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        make_read_only(dest)
        fsync_dir(dest.parent)
    for d, _ in found.txn_dirs:
        shutil.rmtree(d, ignore_errors=True)
    return out
