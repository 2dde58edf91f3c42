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

import hashlib
import re
import socket
from pathlib import Path
from typing import Any

from imarchive.archive import layout as L
from imarchive.archive.lock import running_writer
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
from imarchive.verifying.files import Level, Progress, Run, scan_txn
from imarchive.verifying.fs import Tree, default_workers, list_dir, read_small, walk
from imarchive.verifying.problems import (
    CODES,
    IN_FLIGHT,
    Problem,
    Problems,
    VerifyReport,
    codes_table,
    short,
    summary,
)
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

LEVELS: tuple[Level, ...] = ("fast", "default", "deep")
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
    # verify takes no lock: an ingest may commit while it runs. Problems seen while
    # the committed state moved are checked again on the new state (a few times).
    for _attempt in range(RETRIES):
        before = _state(root)
        rep = _verify_once(root, level, expect_head, strict, progress, workers)
        if rep.ok or _state(root) == before:
            break
    return rep


RETRIES = 3


def _state(root: Path) -> tuple[object, ...]:
    """What changes when a batch commits: the record names and the derived files."""
    out: list[object] = []
    try:
        out.append(tuple(sorted(list_dir(root / L.BATCHES))))
    except OSError as exc:
        out.append(exc.errno)
    for rel in (L.MANIFEST_JSON, L.SHA256SUMS):
        try:
            out.append(hashlib.sha256(read_small(root / rel)).digest())
        except OSError as exc:
            out.append(exc.errno)
    return tuple(out)


def _verify_once(
    root: Path,
    level: Level,
    expect_head: str | None,
    strict: bool,
    progress: Progress | None,
    workers: int | None,
) -> VerifyReport:
    problems = Problems()
    running = _running_ingest(root)  # before the walk and after it: one may end between
    identity = load_identity(root, problems)
    try:
        tree = walk(root)
    except OSError as exc:
        problems.add("file_unreadable", ".", f"cannot list the archive folder: {exc}")
        tree = Tree({}, set(), [])
    for rel, why in tree.unreadable:
        problems.add("file_unreadable", rel, f"cannot list or stat: {why}")

    batches = load_batches(root, tree, identity, problems)
    check_chain(batches, identity, problems)
    stored = load_stored(root, problems)
    committed = _committed(batches, stored, problems)
    _check_input_sources(batches, committed, problems)
    run = Run(root, level, problems, tree, committed, workers or default_workers(), progress)

    txn = scan_txn(root, tree, batches, problems)
    last = batches[-1] if batches else None
    commit_open = last is not None and last.batch_id is not None and last.batch_id in txn.dirs
    if last is not None and last.batch_id is not None and commit_open:
        problems.add(
            "commit_incomplete",
            L.txn_dir(last.batch_id),
            f"batch {last.seq} is committed but its commit did not finish "
            "(manifest/SHA256SUMS may lag; the next ingest completes it)",
        )
    _check_derived(identity, stored, batches, commit_open, problems)
    _check_witnesses(identity, stored, batches, problems)
    run.check_file_set(txn)
    run.check_folders(txn, {o for b in batches for o in b.originals})
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
    running = running or _running_ingest(root)
    if running is not None and running["here"]:
        items = [p for p in items if p.code not in IN_FLIGHT]
    items = sorted(items, key=_rank)  # causes first: the chain, then what it derives
    errors = sum(p.severity == "error" for p in items)
    ok = errors == 0 and not (strict and items)
    run.checked["batches"] = len(batches)
    for key in ("bytes_hashed", "parquet_footers"):  # 0 at --fast: the keys are stable
        run.checked.setdefault(key, 0)
    return VerifyReport(str(root), level, ok, head, items, run.checked, running)


def _rank(problem: Problem) -> int:
    """Where a problem stands in the report: the identity and the batch records first
    (a broken one explains many others), then the files derived from them, then the
    rest; the order found within each."""
    path = problem.path or ""
    if path == L.ARCHIVE_JSON or path.startswith(L.BATCHES + "/") or path == L.BATCHES:
        return 0
    if path in (L.MANIFEST_JSON, L.SHA256SUMS):
        return 1
    return 2


def _running_ingest(root: Path) -> dict[str, Any] | None:
    """Who holds the writer lock now (host, pid, since), if an ingest does; ``here``:
    a live process of this host. Only then are its unfinished files not reported: a
    lock naming another host cannot be checked from here (a copy of an archive whose
    ingest was killed carries one)."""
    owner = running_writer(root)
    if owner is None:
        return None
    found = {k: owner.get(k) for k in ("host", "pid", "started")}
    return found | {"here": owner.get("host") == socket.gethostname()}


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


def _check_input_sources(
    batches: list[Batch], committed: dict[str, Committed], problems: Problems
) -> None:
    """Every file an ingested input lists as its source is kept in sources/ (by this
    batch or an earlier one)."""
    kept: dict[str, int] = {}
    for c in committed.values():
        if c.entry.kind == "source":
            kept[c.entry.sha256] = min(c.seq, kept.get(c.entry.sha256, c.seq))
    for b in batches:
        if not b.usable or b.record is None:
            continue
        for i, inp in enumerate(b.record["inputs"], 1):
            if inp.get("status") != "ingested":
                continue
            for source in inp["sources"]:
                if kept.get(source["sha256"], b.seq + 1) > b.seq:
                    problems.add(
                        "source_not_kept",
                        b.rel,
                        f"a source file of input {i} of the record is not in sources/",
                        summary(source["sha256"]),
                        # the path the record gives for it, a validated string (made printable)
                        short(source["path"]),
                    )


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
