"""The file set, the contents and the rows: the checks that read the tree.

``Run`` holds one verification's state: the committed files (path → entry), the
tree as walked, and the counters that end up in ``VerifyReport.checked``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from imarchive.archive import layout as L
from imarchive.verifying import parquet as P
from imarchive.verifying.fs import Node, Tree, read_small, run_pool, sha256_path
from imarchive.verifying.problems import Problems
from imarchive.verifying.records import Batch, Committed

Level = Literal["fast", "default", "deep"]
Progress = Callable[[int, int], None]

NFS_NAME = re.compile(r"^\.nfs[0-9a-fA-F]{8,}$")  # NFS "silly rename" of an open, deleted file
TEMP_NAME = L.TEMP_NAME  # fsio.temp_name: never .parquet, never in messages/
INTENT = "intent.json"
# Folders of the layout that may be empty (_archive/lock and _archive/txn: not content).
LAYOUT_DIRS = (L.MESSAGES, L.SOURCES, L.ATTACHMENTS, L.META, L.BATCHES, L.QUARANTINE)


@dataclass
class Txn:
    dirs: set[str] = field(default_factory=set)  # batch ids with a txn folder
    published: dict[str, tuple[str | None, int | None, str]] = field(default_factory=dict)


def scan_txn(root: Path, tree: Tree, batches: list[Batch], problems: Problems) -> Txn:
    """In-flight state: intent records of batches that never committed name their
    published files (leftovers); anything else under txn/ is a temp leftover."""
    out = Txn()
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
            except OSError as exc:
                problems.add("leftover_temp", rel, f"an unreadable intent record ({exc})")
                continue
            except (ValueError, KeyError, TypeError):  # no text of the file in the report
                problems.add(
                    "leftover_temp", rel, "an intent record that is not JSON with a publish list"
                )
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


OS_METADATA_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".localized"})


def _os_metadata(rel: str) -> bool:
    """A file an operating system or NAS leaves beside the files it shows; never one
    named like a Parquet file (a reader's ``*.parquet`` glob would take it)."""
    parts = rel.split("/")
    name = parts[-1]
    if name.endswith(".parquet"):
        return False
    return name in OS_METADATA_NAMES or name.startswith("._") or "@eaDir" in parts[:-1]


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


class Run:
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

    def _hidden(self, rel: str) -> bool:
        """Below a folder that could not be listed (named as ``file_unreadable``): not
        known to be missing."""
        return any(rel.startswith(bad + "/") for bad, _why in self.tree.unreadable)

    def check_file_set(self, txn: Txn) -> None:
        add = self.problems.add
        for rel, node in self.tree.files.items():
            name = rel.rpartition("/")[2]
            if rel == L.LOCK or rel.startswith(L.LOCK + "/"):
                if rel != L.LOCK_OWNER or not node.regular:
                    why = "in the writer lock's folder, which holds only owner.json"
                    add("unexpected_file", rel, why, None, node.size)
                continue
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
            elif _os_metadata(rel) and node.regular:
                add("os_metadata_file", rel, "left by a desktop or NAS showing the folder")
            else:
                what = "a symlink" if node.symlink else "a file"
                add("unexpected_file", rel, f"{what} that no batch record names", None, node.size)
        for rel, c in sorted(self.committed.items()):
            if rel in self.tree.dirs:
                add(
                    "not_a_regular_file",
                    rel,
                    f"committed by batch {c.seq} as a file, found a folder",
                    c.entry.sha256,
                    "folder",
                )
            elif rel not in self.tree.files and not self._hidden(rel):
                add(
                    "file_missing",
                    rel,
                    f"committed by batch {c.seq}, not in the archive",
                    c.entry.sha256,
                    None,
                )
        for rel in (L.ARCHIVE_JSON, L.MANIFEST_JSON, L.SHA256SUMS):
            if rel in self.tree.dirs:
                add(
                    "not_a_regular_file",
                    rel,
                    "an archive metadata file is a folder",
                    None,
                    "folder",
                )

    def check_folders(self, txn: Txn, originals: set[str]) -> None:
        """Every folder is part of the layout: a fixed folder, or one that leads to a
        file (present, committed, published by an interrupted batch, or set aside from
        there by a later one). Any other folder (a folder named like a Parquet file, an
        empty partition that no committed file explains) is unexpected: readers of the
        archive would trip over it. Only the topmost such folder is named."""
        explained = set(LAYOUT_DIRS) | {rel for rel, _why in self.tree.unreadable}
        # a folder standing where a file belongs is named by check_file_set already
        reported = {
            rel
            for rel in (*self.committed, L.ARCHIVE_JSON, L.MANIFEST_JSON, L.SHA256SUMS)
            if rel in self.tree.dirs
        }
        leads = (*self.tree.files, *self.committed, *txn.published, *originals)
        for rel in (*leads, *(r for r, _ in self.tree.unreadable)):
            head = rel.rpartition("/")[0]
            while head and head not in explained:
                explained.add(head)
                head = head.rpartition("/")[0]
        for rel in sorted(self.tree.dirs):
            if rel in explained or L.is_not_content(rel):
                continue
            if rel in reported or any(rel.startswith(r + "/") for r in reported):
                continue
            reported.add(rel)
            if rel.rpartition("/")[2].endswith(".parquet"):
                why = "a folder named like a Parquet file, that no batch record names"
                self.problems.add("unexpected_folder", rel, why, None, "folder")
            else:  # no file below it (files would explain it, or be named themselves)
                where = "a partition" if rel.startswith(L.MESSAGES + "/") else "a"
                why = f"{where} folder with no file that the layout needs (empty)"
                self.problems.add("empty_folder", rel, why, None, "folder")

    def hash_and_footers(self, txn: Txn) -> None:
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
