"""manifest.json and SHA256SUMS are derived from the batch records (``archive.store``),
so verify recomputes both and compares: an edit to either one, or to a record, shows."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imarchive.archive import layout as L
from imarchive.archive.store import BatchInfo, build_manifest, sums_text
from imarchive.verifying.fs import read_small
from imarchive.verifying.problems import Problems, redacted, safe_path, summary
from imarchive.verifying.records import FILE_KINDS, HEX64, Batch, Identity, is_int

SUMS_LINE = re.compile(rb"^([0-9a-fA-F]{64}) [ *](.+)$", re.DOTALL)


@dataclass
class Stored:
    manifest_bytes: bytes | None
    manifest: Any  # parsed JSON, or None
    sums_bytes: bytes | None


def load_stored(root: Path, problems: Problems) -> Stored:
    out: list[bytes | None] = []
    for rel, missing in ((L.MANIFEST_JSON, "manifest_missing"), (L.SHA256SUMS, "sums_missing")):
        try:
            out.append(read_small(root / rel))
        except FileNotFoundError:
            problems.add(missing, rel, f"{rel} is missing", found="missing")
            out.append(None)
        except OSError as exc:
            problems.add("file_unreadable", rel, f"cannot read {rel}: {exc}")
            out.append(None)
    manifest: Any = None
    if out[0] is not None:
        try:
            manifest = json.loads(out[0])
        except ValueError:
            manifest = None
    return Stored(out[0], manifest, out[1])


def fallback_files(stored: Stored, seq: int) -> list[L.FileEntry]:
    """The files of a batch whose record is unreadable, as the manifest lists them:
    only so that they are still checked (and not also reported as unexpected)."""
    files = stored.manifest.get("files") if isinstance(stored.manifest, dict) else None
    out: list[L.FileEntry] = []
    for d in files if isinstance(files, list) else []:
        if isinstance(d, dict) and d.get("batch_seq") == seq:
            # only entries that could be committed files: the manifest may be damaged too
            sha, size = d.get("sha256"), d.get("size")
            if not (
                safe_path(d.get("path"))
                and d.get("kind") in (*FILE_KINDS, "quarantine")
                and isinstance(sha, str)
                and HEX64.match(sha)
                and is_int(size)
            ):
                continue
            try:
                out.append(L.FileEntry.from_json(d))
            except (KeyError, TypeError, ValueError):
                continue
    return out


def _identity_doc(identity: Identity, stored: Stored) -> dict[str, Any]:
    if identity.doc or not isinstance(stored.manifest, dict):
        return identity.doc
    # archive.json is missing or damaged (already reported): don't repeat it as
    # manifest differences in the fields that come from it.
    return {k: stored.manifest.get(k) for k in ("archive_id", "schema_version", "schema")}


def derive_manifest(identity: Identity, stored: Stored, batches: list[Batch]) -> dict[str, Any]:
    infos = [
        BatchInfo(b.seq, b.rel, b.sha256, b.record)
        for b in batches
        if b.usable and b.record is not None
    ]
    return build_manifest(_identity_doc(identity, stored), identity.sha256 or "", infos)


def derive_sums(
    identity: Identity, manifest_bytes: bytes | None, batches: list[Batch], stored: Stored
) -> bytes:
    entries: list[tuple[str, str]] = []
    if identity.sha256 is not None:
        entries.append((L.ARCHIVE_JSON, identity.sha256))
    if manifest_bytes is not None:
        entries.append((L.MANIFEST_JSON, hashlib.sha256(manifest_bytes).hexdigest()))
    for b in batches:
        entries.append((b.rel, b.sha256))
        files = b.files if b.usable else fallback_files(stored, b.seq)
        entries.extend((f.path, f.sha256) for f in files)
    return sums_text(entries)


def check_manifest(
    problems: Problems, candidates: list[dict[str, Any]], stored: Stored, skip_seqs: set[int]
) -> None:
    """``candidates[0]`` is the manifest the records call for; further candidates are
    states an interrupted commit may legitimately have left."""
    if stored.manifest_bytes is None:
        return
    if any(stored.manifest_bytes == L.dumps(c) for c in candidates):
        return
    rel, derived, found = L.MANIFEST_JSON, candidates[0], stored.manifest
    before = len(problems.items)
    if not isinstance(found, dict):
        problems.add("manifest_mismatch", rel, f"{rel} is not a JSON object")
        return
    unknown = [k for k in found if k not in derived]
    if unknown:
        problems.add(
            "manifest_mismatch",
            rel,
            f"{len(unknown)} key(s) that the batch records do not derive",
            None,
            redacted("key names", "\n".join(sorted(map(str, unknown)))),
        )
    for key in sorted(derived):
        if key != "files" and derived.get(key) != found.get(key):
            problems.add(
                "manifest_mismatch",
                rel,
                f"'{key}' differs from the batch records",
                summary(derived.get(key)),
                summary(found.get(key)),
            )
    want = {f["path"]: f for f in derived["files"]}
    listed = found.get("files")
    if not isinstance(listed, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) for f in listed
    ):
        problems.add("manifest_mismatch", rel, "'files' is malformed")
        return
    have: dict[str, dict[str, Any]] = {}
    for i, f in enumerate(listed):
        if safe_path(f["path"]):
            have[f["path"]] = f
        else:
            problems.add(
                "manifest_mismatch",
                rel,
                f"'files' entry {i + 1} has no safe archive path",
                None,
                summary(f),
            )
    for path in sorted(set(want) | set(have)):
        d, s = want.get(path), have.get(path)
        if d == s or (d is None and s is not None and s.get("batch_seq") in skip_seqs):
            continue
        what = (
            "lists a file no batch record names"
            if d is None
            else "omits a committed file"
            if s is None
            else "has a different entry for"
        )
        problems.add(
            "manifest_mismatch",
            rel,
            f"the manifest {what}: {path}",
            None if d is None else summary(d),
            None if s is None else summary(s),
        )
    if len(problems.items) == before:
        problems.add("manifest_mismatch", rel, f"{rel} is not in canonical JSON form")


MAX_BAD_LINES = 20  # malformed SHA256SUMS lines reported one by one; the rest counted


def parse_sums(text: bytes, problems: Problems | None) -> dict[str, str]:
    """``path → sha256`` of the well-formed lines: ``<64 hex>  <path>`` (or `` *`` for
    binary mode) where the path is a safe archive path. Any other line is reported by
    its number, length and sha256 only: it may be anything, a chat export included."""
    out: dict[str, str] = {}
    bad = 0
    for n, raw in enumerate(text.split(b"\n"), 1):
        if not raw:
            continue
        m = SUMS_LINE.match(raw)
        path = m.group(2).decode("ascii") if m and safe_path(m.group(2).decode("latin-1")) else None
        if m is None or path is None:
            bad += 1
            if problems is not None and bad <= MAX_BAD_LINES:
                what = "'<sha256>  <path>'" if m is None else "'<sha256>  <path>' with a safe path"
                problems.add(
                    "sums_mismatch",
                    L.SHA256SUMS,
                    f"line {n} ({len(raw)} bytes) is not {what}; found is the line's sha256",
                    found=hashlib.sha256(raw).hexdigest(),
                )
            continue
        if path in out and problems is not None:
            problems.add("sums_mismatch", L.SHA256SUMS, f"line {n}: {path} listed twice")
        out[path] = m.group(1).decode("ascii")
    if problems is not None and bad > MAX_BAD_LINES:
        problems.add(
            "sums_mismatch",
            L.SHA256SUMS,
            f"{bad - MAX_BAD_LINES} more lines are not '<sha256>  <path>' ({bad} in all)",
            found=bad,
        )
    return out


def check_sums(problems: Problems, candidates: list[bytes], stored: Stored) -> None:
    if stored.sums_bytes is None or stored.sums_bytes in candidates:
        return
    before = len(problems.items)
    want = parse_sums(candidates[0], None)
    have = parse_sums(stored.sums_bytes, problems)
    for path in sorted(set(want) | set(have)):
        w, h = want.get(path), have.get(path)
        if w == h:
            continue
        what = (
            "has a line for a file the archive does not commit"
            if w is None
            else "lacks the line for"
            if h is None
            else "has another sha256 for"
        )
        problems.add("sums_mismatch", L.SHA256SUMS, f"{L.SHA256SUMS} {what}: {path}", w, h)
    if len(problems.items) == before:
        problems.add(
            "sums_mismatch",
            L.SHA256SUMS,
            f"{L.SHA256SUMS} is not in the canonical order and format",
        )
