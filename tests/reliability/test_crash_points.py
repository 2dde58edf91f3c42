"""Guarantee 1 (atomic batches): an ingest stopped dead (``os._exit`` in a child process,
as under ``kill -9``) right after each step of the commit protocol leaves the archive at
its last committed batch plus recognisable leftovers; the next ingest sets the leftovers
aside (moved, hashed, listed in its batch record; never deleted), breaks and records the
dead writer's lock, and ends with exactly the rows of an uninterrupted run."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.reliability import harness as H

TXN = r"/_archive/txn/[0-9a-f]{32}/"
PUBLISHED = r"/(messages|sources|attachments)/"

# (name, when, op, path regex, n-th matching call): the step right after (or before)
# which the child dies. ``fsync`` of a temp = data written; after it = durable; ``link``/
# ``replace`` = renamed into place.
POINTS = [
    ("before_staging", "before", "open", TXN + r"stage/", 1),
    ("staged_temp_written", "before", "fsync", TXN + r"stage/", 1),
    ("staged_temp_fsynced", "after", "fsync", TXN + r"stage/", 1),
    ("intent_temp_written", "before", "fsync", TXN + r"\.tmp-.*intent\.json\.part$", 1),
    ("intent_renamed", "after", "replace", TXN + r"intent\.json$", 1),
    ("first_file_published", "after", "link", PUBLISHED, 1),
    ("third_file_published", "after", "link", PUBLISHED, 3),
    ("before_batch_record", "before", "open", r"/_archive/batches/\.tmp-", 1),
    ("batch_record_temp_fsynced", "after", "fsync", r"/_archive/batches/\.tmp-", 1),
    ("after_batch_record", "after", "link", r"/_archive/batches/\d{8}\.json$", 1),
    ("before_manifest", "before", "open", r"/_archive/\.tmp-[0-9a-f]{32}-manifest\.json\.part$", 1),
    ("manifest_renamed", "after", "replace", r"/_archive/manifest\.json$", 1),
    ("before_sha256sums", "before", "open", r"/\.tmp-[0-9a-f]{32}-SHA256SUMS\.part$", 1),
    ("after_sha256sums", "after", "replace", r"/SHA256SUMS$", 1),
    ("txn_removed", "after", "rmtree", TXN.rstrip("/") + "$", 1),
]
COMMITTED_AT = {"after_batch_record", "before_manifest", "manifest_renamed"}
COMMITTED_AT |= {"before_sha256sums", "after_sha256sums", "txn_removed"}


def make_inputs(base: Path) -> tuple[Path, Path]:
    """``first``: one chat; ``second``: the same chat re-exported later (overlapping),
    plus another chat. Returns the two folders."""
    first = base / "first"
    H.write_chat(first / "a.txt", 1500, seed=1)
    second = base / "second"
    H.write_chat(second / "a.txt", 1500, seed=1, start=1000)
    H.write_chat(second / "b.txt", 1200, seed=2)
    return first, second


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    """The rows of an uninterrupted run: ingest ``first``, then ``second``."""
    base = tmp_path_factory.mktemp("reference")
    first, second = make_inputs(H.inputs_dir(base))
    archive = base / "archive"
    for folder in (first, second):
        run = H.ingest(archive, folder, workdir=base)
        assert run.code == 0, run.stderr
    H.check_clean(archive)
    return H.rows(archive)


def lock_owner(archive: Path) -> list[int]:
    """The pid holding the writer lock (a dead writer's, after a crash), if any."""
    owner = archive / "_archive/lock/owner.json"
    return [json.loads(owner.read_text())["pid"]] if owner.exists() else []


def crash_run(
    tmp_path: Path, crash: dict[str, Any]
) -> tuple[Path, Path, H.State, H.Run, list[int]]:
    """Ingest ``first``, then crash while ingesting ``second``; check the state the
    crash left. Returns archive, the second folder, the state, the run, the dead pid."""
    first, second = make_inputs(H.inputs_dir(tmp_path))
    archive = tmp_path / "archive"
    run = H.ingest(archive, first, workdir=tmp_path)
    assert run.code == 0, run.stderr
    crashed = H.ingest(archive, second, workdir=tmp_path, crash=crash)
    assert crashed.code == H.CRASH_CODE, f"crash point never reached: {crashed.stderr}"
    state = H.check_committed(archive)
    H.assert_leftovers_reported(archive, state)
    H.assert_no_canary(crashed.stdout, crashed.stderr, dirs=H.leak_dirs(tmp_path))
    return archive, second, state, crashed, lock_owner(archive)


def rerun_and_check(
    archive: Path,
    second: Path,
    state: H.State,
    dead_pids: list[int],
    reference: pa.Table,
    tmp: Path,
) -> H.State:
    rerun = H.ingest(archive, second, workdir=tmp)
    assert rerun.code == 0, rerun.stderr
    H.assert_no_canary(rerun.stdout, rerun.stderr, dirs=H.leak_dirs(tmp))
    final = H.check_clean(archive)
    H.chain_ok(final, archive)
    H.assert_same_rows(H.rows(archive), reference)
    if final.head_seq > state.head_seq:
        new = final.record(final.head_seq)
        # leftovers: moved aside, hashed and listed; none silently dropped
        moved = {e["original_path"]: e for e in new["set_aside"]}
        # a file already moved by an interrupted set-aside is listed by where it came from
        prefix = f"_archive/quarantine/{new['seq']:08d}/"
        expected = {p.removeprefix(prefix) for p in state.leftovers}
        assert set(moved) == expected
        for e in new["set_aside"]:
            assert e["path"].startswith(f"_archive/quarantine/{new['seq']:08d}/")
            assert (archive / e["path"]).is_file()
        # the dead writers' locks were broken, and each break is on record
        assert [b["pid"] for b in new["lock_breaks"]] == dead_pids
    else:  # everything was committed before the crash; nothing to set aside
        assert not state.leftovers
        assert json.loads(rerun.stdout)["batch_seq"] is None
    # and from then on the archive is settled: the same ingest again writes nothing
    again = H.ingest(archive, second, workdir=tmp)
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["batch_seq"] is None
    assert H.check_clean(archive) == final
    return final


@pytest.mark.parametrize(("name", "when", "op", "match", "nth"), POINTS, ids=[p[0] for p in POINTS])
def test_crash_point(
    tmp_path: Path, reference: pa.Table, name: str, when: str, op: str, match: str, nth: int
) -> None:
    crash = {"when": when, "op": op, "match": match, "nth": nth}
    archive, second, state, _, dead = crash_run(tmp_path, crash)
    if name in COMMITTED_AT:
        assert state.head_seq == 2, "the batch record was written: batch 2 is committed"
        # at most the record's own temp name (linked to the record, not yet unlinked)
        assert all(p.startswith("_archive/batches/.tmp-") for p in state.leftovers)
    else:
        assert state.head_seq == 1, "no batch record: the archive is still at batch 1"
        assert not state.derived_lagging
        if name not in ("before_staging", "staged_temp_written"):
            assert state.leftovers, "the interrupted batch left evidence behind"
    assert dead, "the crash left the dead writer's lock"
    rerun_and_check(archive, second, state, dead, reference, tmp_path)


def test_crash_while_setting_leftovers_aside(tmp_path: Path, reference: pa.Table) -> None:
    """A second crash, in the middle of the recovery that moves the first crash's
    leftovers aside, loses nothing either: the third run accounts for everything."""
    first_crash = {"when": "after", "op": "link", "match": PUBLISHED, "nth": 2}
    archive, second, state, _, dead = crash_run(tmp_path, first_crash)
    assert state.leftovers
    again = {"when": "after", "op": "replace", "match": r"/_archive/quarantine/", "nth": 1}
    crashed = H.ingest(archive, second, workdir=tmp_path, crash=again)
    assert crashed.code == H.CRASH_CODE, crashed.stderr
    mid = H.check_committed(archive)
    assert mid.head_seq == 1
    H.assert_leftovers_reported(archive, mid)
    final = rerun_and_check(archive, second, mid, dead + lock_owner(archive), reference, tmp_path)
    new = final.record(2)
    # every file of the first interrupted batch is accounted for in the record
    assert state.leftovers <= {e["original_path"] for e in new["set_aside"]}


@pytest.mark.stress
def test_crash_at_every_traced_step(
    tmp_path_factory: pytest.TempPathFactory, reference: pa.Table
) -> None:
    """Every file-system step a batch takes inside the archive (each open for writing,
    fsync, link, rename, replace, unlink, rmtree), traced once, then crashed before and
    after, one at a time."""
    base = tmp_path_factory.mktemp("trace")
    first, second = make_inputs(H.inputs_dir(base))
    archive = base / "archive"
    assert H.ingest(archive, first, workdir=base).code == 0
    trace = base / "trace.txt"
    assert H.ingest(archive, second, workdir=base, trace=str(trace)).code == 0
    steps = [line.split("\t", 1) for line in trace.read_text().splitlines()]
    steps = [(op, path) for op, path in steps if "/archive/" in path]
    assert len(steps) > 20
    seen: Counter[str] = Counter()
    for i, (op, _path) in enumerate(steps):
        seen[op] += 1
        for when in ("before", "after"):
            tmp = base / f"{i}-{when}"
            crash = {"when": when, "op": op, "match": "/archive/", "nth": seen[op]}
            target, second_, state, _, dead = crash_run(tmp, crash)
            rerun_and_check(target, second_, state, dead, reference, tmp)
            shutil.rmtree(tmp)
