"""Prove the archive complete and unaltered, and name every tampering (SPEC
guarantee 5). ``verify`` returns a report of typed problems; it raises only
``NotAnArchive``. It never writes to the archive: no lock, no temp file, files
opened read-only (``O_NOATIME`` where allowed), symlinks never followed.

Levels (bagit's ``fast``; borg's ``check --verify-data``):

- ``fast``: structure, the file set both ways, sizes, the batch hash chain, the
  manifest and SHA256SUMS against the ones derived from the batch records. No file
  contents are hashed (except the small metadata files), so a changed byte that
  keeps a file's size is NOT detected at this level.
- ``default``: also the sha256 of every committed file, and every Parquet footer
  (readable, row count, schema, schema version).
- ``deep``: also every row: page checksums, ``message_id`` unique, partition matches
  ``sent_at`` and ``platform``, ``batch_seq`` matches the batch, sources and stored
  attachments that rows point to are in the archive.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from imarchive.archive import layout as L
from imarchive.verifying import parquet as P
from imarchive.verifying.derived import (
    Stored,
    check_manifest,
    check_sums,
    derive_manifest,
    derive_sums,
    fallback_files,
    load_stored,
    parse_sums,
)
from imarchive.verifying.fs import (
    Node,
    Tree,
    default_workers,
    read_small,
    run_pool,
    sha256_path,
    walk,
)
from imarchive.verifying.problems import CODES, Problem, Problems, VerifyReport, codes_table
from imarchive.verifying.records import (
    HEX64,
    Batch,
    Committed,
    Identity,
    check_chain,
    load_batches,
    load_identity,
)

__all__ = ["CODES", "LEVELS", "Level", "Problem", "VerifyReport", "codes_table", "verify"]

Level = Literal["fast", "default", "deep"]
LEVELS: tuple[Level, ...] = ("fast", "default", "deep")
Progress = Callable[[int, int], None]

NFS_NAME = re.compile(r"^\.nfs[0-9a-fA-F]{8,}$")  # NFS "silly rename" of an open, deleted file
TEMP_NAME = L.TEMP_NAME  # fsio.temp_name
INTENT = "intent.json"
BATCH_REL = re.compile(r"^_archive/batches/(\d{8})\.json$")


def verify(
    root: Path,
    level: Level = "default",
    expect_head: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Check the archive at ``root``; ``progress(done, total)`` counts bytes of file
    contents hashed or read. Raises ``NotAnArchive`` only; ``ValueError`` for a
    ``level`` that is not one of ``LEVELS`` (a caller's bug)."""
    if level not in LEVELS:
        raise ValueError(f"unknown verify level {level!r}")
    root = Path(root)
    problems = Problems()
    identity = load_identity(root, problems)
    try:
        tree = walk(root, prune=lambda rel: rel == L.LOCK)
    except OSError as exc:
        problems.add("file_unreadable", ".", f"cannot list the archive folder: {exc}")
        tree = Tree({}, set(), [])
    for rel, why in tree.unreadable:
        problems.add("file_unreadable", rel, f"cannot list or stat: {why}")

    batches = load_batches(root, tree, identity, problems)
    check_chain(batches, identity, problems)
    stored = load_stored(root, problems)
    committed = _committed(batches, stored, problems)
    run = _Run(root, level, problems, tree, committed, workers or default_workers(), progress)

    txn = _scan_txn(root, tree, batches, problems)
    last = batches[-1] if batches else None
    commit_open = last is not None and last.batch_id is not None and last.batch_id in txn.dirs
    if commit_open:
        assert last is not None and last.batch_id is not None
        problems.add(
            "commit_incomplete",
            L.txn_dir(last.batch_id),
            f"batch {last.seq} is committed but its commit did not finish "
            "(manifest/SHA256SUMS may lag; the next ingest completes it)",
        )
    _check_derived(identity, stored, batches, commit_open, problems)
    _check_witnesses(identity, stored, batches, problems)
    run.check_file_set(txn)
    if expect_head is not None:
        _check_head(expect_head, identity.sha256, batches, problems)
    if level != "fast":
        run.hash_and_footers(txn)
    if level == "deep":
        run.deep()

    head = None
    if last is not None:
        head = {"seq": last.seq, "sha256": last.sha256}
    elif identity.sha256 is not None:
        head = {"seq": 0, "sha256": identity.sha256}
    items = problems.items
    errors = sum(p.severity == "error" for p in items)
    ok = errors == 0 and not (strict and items)
    run.checked["batches"] = len(batches)
    return VerifyReport(str(root), level, ok, head, items, run.checked)


def _committed(batches: list[Batch], stored: Stored, problems: Problems) -> dict[str, Committed]:
    out: dict[str, Committed] = {}
    for b in batches:
        for entry in b.files if b.usable else fallback_files(stored, b.seq):
            prior = out.get(entry.path)
            if prior is None:
                out[entry.path] = Committed(entry, b.seq)
            elif (prior.entry.sha256, prior.entry.size) != (entry.sha256, entry.size):
                problems.add(
                    "batch_record_invalid",
                    b.rel,
                    f"{entry.path} was committed by batch {prior.seq} with other contents",
                    prior.entry.sha256,
                    entry.sha256,
                )
    return out


def _check_derived(
    identity: Identity, stored: Stored, batches: list[Batch], commit_open: bool, problems: Problems
) -> None:
    manifests = [derive_manifest(identity, stored, batches)]
    sums = [derive_sums(identity, stored.manifest_bytes, batches, stored)]
    if commit_open:  # the state before the newest batch is also acceptable
        manifests.append(derive_manifest(identity, stored, batches[:-1]))
        sums.append(derive_sums(identity, L.dumps(manifests[-1]), batches[:-1], stored))
    check_manifest(problems, manifests, stored, {b.seq for b in batches if not b.usable})
    check_sums(problems, sums, stored)


def _check_witnesses(
    identity: Identity, stored: Stored, batches: list[Batch], problems: Problems
) -> None:
    """Name the metadata file that changed. Its sha256 is recorded elsewhere: by the
    next batch record (prev_sha256), by SHA256SUMS and, for the head, by the manifest.
    When at least two of those agree with each other and not with the file, the
    file itself is what changed (not the witnesses)."""
    sums = parse_sums(stored.sums_bytes or b"", None)
    head = stored.manifest.get("head") if isinstance(stored.manifest, dict) else None
    head_sha = head.get("sha256") if isinstance(head, dict) else None
    chain: list[tuple[str, str | None]] = [(L.ARCHIVE_JSON, identity.sha256)]
    chain += [(b.rel, b.sha256) for b in batches]
    # Records after the newest one that the derived files still list: the chain was cut.
    last = batches[-1].seq if batches else 0
    listed = {int(m.group(1)) for rel in sums if (m := BATCH_REL.match(rel))}
    if isinstance(head, dict) and isinstance(head.get("seq"), int):
        listed |= set(range(last + 1, head["seq"] + 1))
    for seq in sorted(s for s in listed if s > last):
        problems.add(
            "file_missing",
            L.batch_path(seq),
            "a batch record that SHA256SUMS or the manifest lists is missing",
        )
    for i, (rel, actual) in enumerate(chain):
        if actual is None:
            continue
        votes: list[object] = [sums.get(rel)]
        if i + 1 < len(chain):
            votes.append((batches[i].record or {}).get("prev_sha256"))
        else:
            votes.append(head_sha)
        seen = [v for v in votes if isinstance(v, str)]
        if len(seen) >= 2 and len(set(seen)) == 1 and seen[0] != actual:
            problems.add(
                "hash_mismatch",
                rel,
                "contents changed: the sha256 that SHA256SUMS and the chain record differs",
                seen[0],
                actual,
            )


def _check_head(
    expect: str, identity_sha: str | None, batches: list[Batch], problems: Problems
) -> None:
    want = expect.strip().lower()
    # The genesis (archive.json) is the head of the empty archive; every later head
    # extends it, so it is always "contained" in the chain.
    known = {b.sha256 for b in batches} | ({identity_sha} if identity_sha else set())
    if want in known:
        return
    current = batches[-1].sha256 if batches else identity_sha
    why = (
        "is not a sha256"
        if not HEX64.match(want)
        else "is not the sha256 of any batch record: the archive was rolled back or altered, "
        "or the head belongs to another archive"
    )
    problems.add("head_not_found", L.BATCHES, f"the expected head {why}", want, current)


@dataclass
class _Txn:
    dirs: set[str] = field(default_factory=set)  # batch ids with a txn folder
    published: dict[str, tuple[str | None, int | None, str]] = field(default_factory=dict)


def _scan_txn(root: Path, tree: Tree, batches: list[Batch], problems: Problems) -> _Txn:
    """In-flight state: intent records of batches that never committed name their
    published files (leftovers); anything else under txn/ is a temp leftover."""
    out = _Txn()
    prefix = L.TXN + "/"
    out.dirs = {
        d[len(prefix) :] for d in tree.dirs if d.startswith(prefix) and "/" not in d[len(prefix) :]
    }
    done = {b.batch_id for b in batches if b.batch_id}
    for rel, _node in sorted(tree.files.items()):
        if not rel.startswith(prefix):
            continue
        parts = rel[len(prefix) :].split("/")
        if len(parts) == 2 and parts[1] == INTENT:
            try:
                intent = json.loads(read_small(root / rel))
                publish = intent["publish"] if isinstance(intent, dict) else None
                if not isinstance(publish, list):
                    raise ValueError("no publish list")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                problems.add("leftover_temp", rel, f"an unreadable intent record ({exc})")
                continue
            if parts[0] in done:
                continue  # committed: its files are in the batch record
            for item in publish:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    sha, size = item.get("sha256"), item.get("size")
                    out.published[item["path"]] = (
                        sha if isinstance(sha, str) else None,
                        size if isinstance(size, int) else None,
                        parts[0],
                    )
        else:
            problems.add(
                "leftover_temp", rel, "a temporary file of an interrupted or running ingest"
            )
    return out


@dataclass
class _Job:
    rel: str
    path: Path
    want_sha: str | None  # None: do not hash
    footer_rows: int | None
    footer: bool
    size: int


@dataclass
class _Result:
    sha: str | None = None
    error: str | None = None
    findings: list[P.Finding] = field(default_factory=list)
    schema_ok: bool = False


def _work(job: _Job) -> _Result:
    res = _Result()
    if job.want_sha is not None:
        try:
            res.sha, _ = sha256_path(job.path)
        except OSError as exc:
            res.error = str(exc)
            return res
    if job.footer:
        res.findings, res.schema_ok = P.check_footer(job.path, job.footer_rows)
    return res


class _Run:
    def __init__(
        self,
        root: Path,
        level: Level,
        problems: Problems,
        tree: Tree,
        committed: dict[str, Committed],
        workers: int,
        progress: Progress | None,
    ):
        self.root, self.level, self.problems, self.tree = root, level, problems, tree
        self.committed, self.workers, self.progress = committed, workers, progress
        self.checked: dict[str, int] = {"files": len(committed)}
        self.present: dict[str, Node] = {}  # committed, regular, right size
        self.schema_ok: set[str] = set()

    def _meta(self, rel: str) -> bool:
        if rel in (L.ARCHIVE_JSON, L.MANIFEST_JSON, L.SHA256SUMS):
            return True
        head, _, name = rel.rpartition("/")
        return head == L.BATCHES and bool(L.BATCH_NAME.match(name))

    def check_file_set(self, txn: _Txn) -> None:
        add = self.problems.add
        for rel, node in self.tree.files.items():
            name = rel.rpartition("/")[2]
            if L.is_not_content(rel):
                continue
            if self._meta(rel):
                if not node.regular:
                    add("not_a_regular_file", rel, "an archive metadata file is not a regular file")
                continue
            c = self.committed.get(rel)
            if c is not None:
                if not node.regular:
                    add(
                        "not_a_regular_file",
                        rel,
                        f"committed by batch {c.seq} as a file, found a symlink or special file",
                    )
                elif node.size != c.entry.size:
                    add(
                        "size_mismatch",
                        rel,
                        f"size differs from batch {c.seq}'s record",
                        c.entry.size,
                        node.size,
                    )
                else:
                    self.present[rel] = node
            elif NFS_NAME.match(name):
                add("transient_nfs_file", rel, "NFS placeholder of a deleted open file")
            elif rel in txn.published:
                _sha, size, bid = txn.published[rel]
                if node.regular and (size is None or size == node.size):
                    add(
                        "leftover_published",
                        rel,
                        f"published by uncommitted batch {bid}; the next ingest sets it aside",
                    )
                else:
                    add(
                        "unexpected_file",
                        rel,
                        f"named by the intent of batch {bid} but not the file it describes",
                        size,
                        node.size,
                    )
            elif TEMP_NAME.match(name) and not rel.startswith(L.MESSAGES + "/") and node.regular:
                add("leftover_temp", rel, "a temporary file of an interrupted write")
            else:
                what = "a symlink" if node.symlink else "a file"
                add("unexpected_file", rel, f"{what} that no batch record names", None, node.size)
        for rel, c in sorted(self.committed.items()):
            if rel not in self.tree.files:
                add(
                    "file_missing",
                    rel,
                    f"committed by batch {c.seq}, not in the archive",
                    c.entry.sha256,
                    None,
                )

    def hash_and_footers(self, txn: _Txn) -> None:
        jobs: list[_Job] = []
        for rel, c in sorted(self.committed.items()):
            node = self.tree.files.get(rel)
            if node is None or not node.regular:
                continue
            hash_it = rel in self.present
            footer = c.entry.kind == "messages"
            if hash_it or footer:
                jobs.append(
                    _Job(
                        rel,
                        self.root / rel,
                        c.entry.sha256 if hash_it else None,
                        c.entry.rows,
                        footer,
                        node.size if hash_it else 0,
                    )
                )
        for rel, (sha, _size, _bid) in sorted(txn.published.items()):
            node = self.tree.files.get(rel)
            if sha is not None and node is not None and node.regular and rel not in self.committed:
                jobs.append(_Job(rel, self.root / rel, sha, None, False, node.size))
        total = sum(j.size for j in jobs)
        if self.level == "deep":
            total += sum(j.size for j in jobs if j.footer and j.rel in self.committed)
        done = 0
        results: dict[str, _Result] = {}

        def on_done(job: _Job, res: _Result) -> None:
            nonlocal done
            results[job.rel] = res
            done += job.size
            if self.progress is not None:
                self.progress(done, total)

        run_pool(_work, jobs, self.workers, on_done)
        self.checked["bytes_hashed"] = sum(j.size for j in jobs if j.want_sha)
        self.checked["parquet_footers"] = sum(j.footer for j in jobs)
        self._total, self._done = total, done
        for job in sorted(jobs, key=lambda j: j.rel):
            res = results[job.rel]
            self._report(job, res)

    def _report(self, job: _Job, res: _Result) -> None:
        add = self.problems.add
        if res.error is not None:
            add("file_unreadable", job.rel, f"cannot read: {res.error}")
        elif job.want_sha is not None and res.sha != job.want_sha:
            if job.rel in self.committed:
                add(
                    "hash_mismatch",
                    job.rel,
                    f"contents differ from batch {self.committed[job.rel].seq}'s record",
                    job.want_sha,
                    res.sha,
                )
            else:
                add(
                    "unexpected_file",
                    job.rel,
                    "named by an intent record, but its contents differ from it",
                    job.want_sha,
                    res.sha,
                )
        for code, message, expected, found in res.findings:
            add(code, job.rel, message, expected, found)
        if res.schema_ok:
            self.schema_ok.add(job.rel)

    def deep(self) -> None:
        sources = {c.entry.sha256 for c in self.committed.values() if c.entry.kind == "source"}
        atts = {c.entry.sha256 for c in self.committed.values() if c.entry.kind == "attachment"}
        state = P.DeepState(sources, atts)
        files = [
            (rel, c)
            for rel, c in sorted(self.committed.items())
            if c.entry.kind == "messages" and rel in self.schema_ok
        ]
        done = self._done
        for rel, c in files:
            for code, message, expected, found in P.check_rows(
                self.root / rel, rel, c.seq, c.entry, state
            ):
                self.problems.add(code, rel, message, expected, found)
            done += self.tree.files[rel].size
            if self.progress is not None:
                self.progress(min(done, self._total), self._total)
        if self.progress is not None:
            self.progress(self._total, self._total)
        dups = P.duplicate_prefixes(state)
        if dups:
            where = P.find_duplicates([(rel, self.root / rel) for rel, _ in files], dups)
            for _mid, paths in sorted(where.items()):
                self.problems.add(
                    "duplicate_message_id",
                    paths[1],
                    f"message_id occurs {len(paths)} times (also in {paths[0]})",
                    1,
                    len(paths),
                )
        self.checked["rows"] = state.rows
