"""Identity (archive.json), batch records and the hash chain: what the archive
says it committed. Every defect becomes a problem; only "this is not an archive at
all" raises ``NotAnArchive``."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from imarchive.archive import layout as L
from imarchive.archive.store import no_folder
from imarchive.errors import NotAnArchive
from imarchive.schema import SCHEMA_VERSION, schema_description
from imarchive.verifying.fs import Tree, list_dir, read_small
from imarchive.verifying.problems import Problems, safe_path, short, summary

HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
HEX32 = re.compile(r"^[0-9a-f]{32}\Z")
FILE_KINDS = ("messages", "source", "attachment")
KIND_DIRS = {"source": L.SOURCES, "attachment": L.ATTACHMENTS}


@dataclass
class Identity:
    data: bytes | None
    sha256: str | None
    doc: dict[str, Any]


@dataclass
class Batch:
    seq: int
    rel: str
    sha256: str
    data: bytes
    record: dict[str, Any] | None  # None: not a JSON object
    usable: bool  # files/inputs are well-formed enough to derive the manifest from
    files: list[L.FileEntry] = field(default_factory=list)
    # where the files this batch set aside into quarantine had been: their folders
    # may stay behind, emptied (explained, not unexpected)
    originals: list[str] = field(default_factory=list)

    @property
    def batch_id(self) -> str | None:
        bid = (self.record or {}).get("batch_id")
        return bid if isinstance(bid, str) else None


@dataclass(frozen=True)
class Committed:
    entry: L.FileEntry
    seq: int


def is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _sums_line_for(root: Path, rel: str) -> str | None:
    try:
        text = read_small(root / L.SHA256SUMS).decode("utf-8", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        sha, sep, path = line.partition("  ")
        if sep and path == rel:
            return sha
    return None


def _looks_like_archive(root: Path) -> bool:
    """Other evidence that ``root`` is (a damaged) one of ours, so that a broken or
    deleted archive.json is reported as tampering rather than "not an archive"."""
    if _sums_line_for(root, L.ARCHIVE_JSON) is not None:
        return True
    try:
        manifest = json.loads(read_small(root / L.MANIFEST_JSON))
    except (OSError, ValueError):
        manifest = None
    if isinstance(manifest, dict) and manifest.get("format") == "imarchive-manifest":
        return True
    try:
        return any(L.BATCH_NAME.match(name) for name in list_dir(root / L.BATCHES))
    except OSError:
        return False


def load_identity(root: Path, problems: Problems) -> Identity:
    if not root.is_dir():
        raise NotAnArchive(no_folder(root))
    rel = L.ARCHIVE_JSON
    try:
        data = read_small(root / rel)
    except FileNotFoundError:
        if not _looks_like_archive(root):
            raise NotAnArchive(f"{root}: not an imarchive archive (no {rel})") from None
        problems.add("archive_json_invalid", rel, f"{rel} is missing", found="missing")
        return Identity(None, None, {})
    except OSError as exc:
        problems.add("archive_json_invalid", rel, f"{rel} cannot be read: {exc}")
        return Identity(None, None, {})
    sha = hashlib.sha256(data).hexdigest()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != L.FORMAT:
        if not _looks_like_archive(root):
            raise NotAnArchive(f"{root}: not an imarchive archive ({rel} says otherwise)")
        what = "not a JSON object" if not isinstance(doc, dict) else "its format is not imarchive"
        problems.add("archive_json_invalid", rel, f"{rel} is damaged: {what}")
        return Identity(data, sha, {})
    version = doc.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > L.FORMAT_VERSION:
        recorded = _sums_line_for(root, rel)
        if recorded is None or recorded == sha:
            raise NotAnArchive(
                f"{root}: archive format version {version} is newer than this tool reads "
                f"({L.FORMAT_VERSION}); upgrade imarchive"
            )
    checks: list[tuple[str, object, object]] = [
        ("format_version", L.FORMAT_VERSION, version),
        ("schema_version", SCHEMA_VERSION, doc.get("schema_version")),
        ("schema", schema_description(), doc.get("schema")),
    ]
    for key, want, got in checks:
        if want != got:
            problems.add(
                "archive_json_invalid",
                rel,
                f"{rel}: '{key}' is not what format version {L.FORMAT_VERSION} defines",
                short(want),
                summary(got),
            )
    if not isinstance(doc.get("archive_id"), str) or not doc["archive_id"]:
        problems.add("archive_json_invalid", rel, f"{rel}: 'archive_id' is missing")
    if data != L.dumps(doc):
        problems.add("archive_json_invalid", rel, f"{rel} is not in canonical JSON form")
    return Identity(data, sha, doc)


# -- batch records ------------------------------------------------------------------


def load_batches(root: Path, tree: Tree, identity: Identity, problems: Problems) -> list[Batch]:
    out: list[Batch] = []
    prefix = L.BATCHES + "/"
    for rel, node in sorted(tree.files.items()):
        if not rel.startswith(prefix) or "/" in rel[len(prefix) :]:
            continue
        m = L.BATCH_NAME.match(rel[len(prefix) :])
        if not m:
            continue  # reported by the file-set check
        if not node.regular:
            problems.add("not_a_regular_file", rel, "a batch record is not a regular file")
            continue
        try:
            data = read_small(root / rel)
        except OSError as exc:
            problems.add("file_unreadable", rel, f"cannot read the batch record: {exc}")
            continue
        try:
            record = json.loads(data)
        except ValueError:
            record = None
        batch = Batch(
            int(m.group(1)),
            rel,
            hashlib.sha256(data).hexdigest(),
            data,
            record if isinstance(record, dict) else None,
            False,
        )
        if batch.record is None:
            problems.add("batch_record_invalid", rel, "the batch record is not a JSON object")
        else:
            _check_record(batch, identity, problems)
        out.append(batch)
    return out


def _bad(
    problems: Problems, b: Batch, message: str, expected: object = None, found: object = None
) -> None:
    problems.add(
        "batch_record_invalid",
        b.rel,
        message,
        None if expected is None else summary(expected),
        None if found is None else summary(found),
    )


def _check_record(b: Batch, identity: Identity, problems: Problems) -> None:
    rec = b.record
    assert rec is not None
    expect = {
        "format": "imarchive-batch",
        "format_version": L.FORMAT_VERSION,
        "seq": b.seq,
        "schema_version": identity.doc.get("schema_version", SCHEMA_VERSION),
    }
    for key, want in expect.items():
        if rec.get(key) != want:
            _bad(problems, b, f"'{key}' is wrong", want, rec.get(key))
    if not isinstance(rec.get("batch_id"), str) or not HEX32.match(rec["batch_id"]):
        _bad(problems, b, "'batch_id' is not 32 hex digits", found=rec.get("batch_id"))
    if not isinstance(rec.get("prev_sha256"), str) or not HEX64.match(rec["prev_sha256"]):
        _bad(problems, b, "'prev_sha256' is not a sha256", found=rec.get("prev_sha256"))
    if b.data != L.dumps(rec):
        _bad(problems, b, "the batch record is not in canonical JSON form")
    usable = True
    for key in ("files", "set_aside", "inputs"):
        value = rec.get(key, [] if key == "set_aside" else None)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            _bad(problems, b, f"'{key}' is not a list of objects")
            usable = False
    if not usable:
        return
    for i, inp in enumerate(rec["inputs"], 1):
        if inp.get("status") == "ingested" and not _sources_ok(inp.get("sources")):
            _bad(problems, b, f"ingested input {i} has malformed 'sources'")
            usable = False
    for key, kinds in (("files", FILE_KINDS), ("set_aside", ("quarantine",))):
        for d in rec.get(key, []):
            entry = _check_entry(b, d, kinds, problems)
            if entry is None:
                usable = False
            else:
                b.files.append(entry)
    b.usable = usable


def _sources_ok(sources: object) -> bool:
    return isinstance(sources, list) and all(
        isinstance(s, dict)
        and isinstance(s.get("sha256"), str)
        and is_int(s.get("size"))
        and isinstance(s.get("path"), str)
        for s in sources
    )


def _check_entry(
    b: Batch, d: dict[str, Any], kinds: tuple[str, ...], problems: Problems
) -> L.FileEntry | None:
    """A FileEntry when the entry is well-formed and its path safe; else None."""
    path = d.get("path")
    if not safe_path(path):
        _bad(problems, b, "a file entry has an unsafe or missing path", found=path)
        return None
    assert isinstance(path, str)
    kind, sha, size = d.get("kind"), d.get("sha256"), d.get("size")
    if kind not in kinds or not isinstance(sha, str) or not HEX64.match(sha) or not is_int(size):
        problems.add(
            "batch_record_invalid",
            b.rel,
            f"file entry {path}: bad kind, sha256 or size",
            None,
            f"kind={summary(kind)}; sha256={summary(sha)}; size={summary(size)}",
        )
        return None
    assert isinstance(size, int)
    if kind == "messages":
        return _check_part(b, d, path, sha, size, problems)
    if kind in KIND_DIRS:
        want = L.content_path(KIND_DIRS[kind], sha)
        if path != want:
            _bad(problems, b, f"file entry {path}: a {kind} must live at its sha256", want, path)
    else:  # quarantine
        original = d.get("original_path")
        if not safe_path(original) or path != L.quarantine_path(b.seq, str(original)):
            _bad(
                problems,
                b,
                f"set-aside entry {path}: not at {L.QUARANTINE}/{b.seq:08d}/<original_path>",
                found=original,
            )
        else:
            b.originals.append(str(original))
    return L.FileEntry(path, kind, sha, size)


def _check_part(
    b: Batch, d: dict[str, Any], path: str, sha: str, size: int, problems: Problems
) -> L.FileEntry | None:
    rows, partition = d.get("rows"), d.get("partition")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        _bad(problems, b, f"file entry {path}: 'rows' is not a count", found=rows)
        return None
    lo, hi = d.get("min_sent_at"), d.get("max_sent_at")
    for v in (lo, hi):
        if parse_ts(v) is None and not (rows == 0 and v is None):
            _bad(problems, b, f"file entry {path}: bad min/max_sent_at", found=v)
    head, _, name = path.rpartition("/")
    part_dir = head[len(L.MESSAGES) + 1 :] if head.startswith(L.MESSAGES + "/") else None
    m = L.PART_NAME.match(name)
    if part_dir is None or not L.PARTITION.match(part_dir) or not m:
        _bad(
            problems,
            b,
            f"file entry {path}: not a part file name "
            "messages/platform=P/year=YYYY/month=MM/part-<seq>-<batch>-<n>.parquet",
        )
    else:
        if int(m.group(1)) != b.seq:
            problems.add(
                "batch_seq_mismatch",
                path,
                f"the file name says batch {int(m.group(1))} but batch {b.seq} committed it",
                b.seq,
                int(m.group(1)),
            )
        if b.batch_id is not None and m.group(2) != b.batch_id[:12]:
            _bad(
                problems,
                b,
                f"file entry {path}: name does not carry the batch id",
                b.batch_id[:12],
                m.group(2),
            )
        if partition != part_dir:
            problems.add(
                "partition_mismatch",
                path,
                "the batch record's partition differs from the file's folder",
                summary(partition),
                part_dir,
            )
    return L.FileEntry(
        path, "messages", sha, size, rows, lo, hi, partition if isinstance(partition, str) else None
    )


def parse_ts(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def check_chain(batches: list[Batch], identity: Identity, problems: Problems) -> None:
    prev = identity.sha256
    prev_rel = L.ARCHIVE_JSON
    want_seq = 1
    for b in batches:
        if b.seq != want_seq:
            problems.add(
                "batch_seq_gap",
                L.batch_path(want_seq) if b.seq > want_seq else b.rel,
                f"batch {want_seq} is missing before batch {b.seq}"
                if b.seq > want_seq
                else "duplicate batch number",
                want_seq,
                b.seq,
            )
        link = (b.record or {}).get("prev_sha256")
        if prev is not None and link != prev:
            problems.add(
                "chain_broken",
                b.rel,
                f"prev_sha256 is not the sha256 of {prev_rel}",
                prev,
                summary(link),
            )
        prev, prev_rel, want_seq = b.sha256, b.rel, b.seq + 1
