"""Guarantee 3 (one writer): concurrent ingests serialise on the writer lock; a stale
lock of a dead process on this host is broken and recorded; a live holder's lock is
never broken, and the waiter exits 3 once ``--lock-timeout`` expires."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.reliability import harness as H

WAIT = 60.0


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid  # reaped: no process has this pid now (reuse within the test is unlikely)


ROUNDS = [0, *(pytest.param(k, marks=pytest.mark.stress) for k in range(1, 16))]


@pytest.mark.parametrize("round_", ROUNDS)  # races differ from run to run: repeat under stress
@pytest.mark.parametrize("stale_lock", [False, True], ids=["no-lock", "stale-lock"])
def test_four_concurrent_ingests_end_with_the_union(
    tmp_path: Path, stale_lock: bool, round_: int
) -> None:
    """Four runs released at once on overlapping drop folders (optionally racing to break
    the same stale lock): the union of their messages, each once; every batch committed
    or absent; the chain intact; one lock break on record when there was a stale lock."""
    base = H.inputs_dir(tmp_path)
    folders = []
    for k in range(4):  # overlapping windows of one chat, plus a chat of each run's own
        folder = base / f"drop{k}"
        H.write_chat(folder / "a.txt", 1500, seed=1, start=500 * k)
        H.write_chat(folder / f"own{k}.txt", 400, seed=10 + k)
        folders.append(folder)
    reference = tmp_path / "reference"
    run = H.ingest(reference, *folders, workdir=tmp_path)
    assert run.code == 0, run.stderr
    want = H.message_ids(reference)

    archive = tmp_path / "archive"
    dead = _dead_pid()
    if stale_lock:
        assert (
            H.ingest(
                archive, H.write_chat(base / "seed" / "z.txt", 10, seed=99), workdir=tmp_path
            ).code
            == 0
        )
        want |= H.message_ids(archive)
        lock = archive / "_archive/lock"
        lock.mkdir()
        owner = {"host": socket.gethostname(), "pid": dead, "pid_start": None}
        owner |= {"started": "2024-01-01T00:00:00.000000Z", "token": "stale"}
        (lock / "owner.json").write_text(json.dumps(owner))
    gate_r, gate_w = os.pipe()
    procs = []
    for folder in folders:
        argv = H.ingest_argv(
            archive, *H.rel_inputs(tmp_path, folder), extra=["--lock-timeout", str(WAIT)]
        )
        config = {"argv": argv, "gate_fd": gate_r}
        procs.append(H.start_child(config, tmp_path, pass_fds=(gate_r,)))
    os.close(gate_r)
    os.write(gate_w, b"GGGG")  # all four start their ingest at once
    os.close(gate_w)
    results = [p.communicate(timeout=WAIT * 2) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        H.assert_no_canary(out, err)
    state = H.check_clean(archive)
    H.chain_ok(state, archive)
    first = 2 if stale_lock else 1
    assert first <= state.head_seq <= first + 3
    got = H.message_ids(archive)
    assert got == want  # the union, each message once (rows() checks uniqueness)
    new = sum(i["messages_new"] for r in state.records for i in r["inputs"])
    assert new == len(want)
    seqs = [json.loads(out)["batch_seq"] for out, _ in results]
    assert sorted(s for s in seqs if s is not None) == list(range(first, state.head_seq + 1))
    breaks = [b["pid"] for r in state.records for b in r["lock_breaks"]]
    assert breaks == ([dead] if stale_lock else [])
    H.assert_no_canary(dirs=H.leak_dirs(tmp_path))


def test_live_holder_is_never_broken_waiter_exits_3(tmp_path: Path) -> None:
    first = H.write_chat(H.inputs_dir(tmp_path) / "first" / "a.txt", 300, seed=1)
    second = H.write_chat(H.inputs_dir(tmp_path) / "second" / "b.txt", 300, seed=2)
    archive = tmp_path / "archive"
    holder, hold_w = H.hold_lock(tmp_path, archive, first.parent)
    try:
        waiter = H.ingest(archive, second.parent, workdir=tmp_path, extra=["--lock-timeout", "1"])
        assert waiter.code == 3, waiter.stderr
        line = H.one_line_error(waiter.stderr, str(archive))
        assert f"pid {holder.pid}" in line
        assert len(waiter.stderr.strip().splitlines()) == 1
        owner = json.loads((archive / "_archive/lock/owner.json").read_text())
        assert owner["pid"] == holder.pid, "the live holder's lock was taken away"
    finally:
        os.close(hold_w)  # let the holder go on
        _out, err = holder.communicate(timeout=WAIT)
    assert holder.returncode == 0, err
    state = H.check_clean(archive)
    assert state.head_seq == 1
    assert state.record(1)["lock_breaks"] == []
    assert [i["path"] for i in state.record(1)["inputs"]] == [
        str(first.parent.relative_to(tmp_path / "cwd"))
    ]


def test_lock_of_a_killed_process_is_broken_and_recorded(tmp_path: Path) -> None:
    chat = H.write_chat(H.inputs_dir(tmp_path) / "drop" / "a.txt", 300, seed=1)
    archive = tmp_path / "archive"
    holder, hold_w = H.hold_lock(tmp_path, archive, chat.parent)
    owner = json.loads((archive / "_archive/lock/owner.json").read_text())
    holder.kill()  # SIGKILL while holding the lock
    holder.communicate(timeout=WAIT)
    os.close(hold_w)
    assert (archive / "_archive/lock").is_dir(), "the dead process left its lock"
    run = H.ingest(archive, chat.parent, workdir=tmp_path)  # no --lock-timeout needed
    assert run.code == 0, run.stderr
    state = H.check_clean(archive)
    (brk,) = state.record(1)["lock_breaks"]
    assert (brk["pid"], brk["host"], brk["started"]) == (
        owner["pid"],
        socket.gethostname(),
        owner["started"],
    )
    assert brk["broken_at"] >= owner["started"]


def test_lock_of_another_host_is_never_broken(tmp_path: Path) -> None:
    """A lock whose owner runs on another machine (an NFS share) cannot be proven dead
    from here: it is waited for, never broken."""
    chat = H.write_chat(H.inputs_dir(tmp_path) / "drop" / "a.txt", 100, seed=1)
    archive = tmp_path / "archive"
    assert H.ingest(archive, chat.parent, workdir=tmp_path).code == 0
    lock = archive / "_archive/lock"
    lock.mkdir()
    owner = {"host": "other-host.invalid", "pid": 1, "started": "2024-01-01T00:00:00.000000Z"}
    (lock / "owner.json").write_text(json.dumps(owner | {"token": "x", "pid_start": None}))
    H.write_chat(chat.parent / "b.txt", 100, seed=2)
    run = H.ingest(archive, chat.parent, workdir=tmp_path, extra=["--lock-timeout", "0.5"])
    assert run.code == 3, run.stderr
    assert "other-host.invalid" in H.one_line_error(run.stderr, str(archive))
    assert json.loads((lock / "owner.json").read_text())["host"] == "other-host.invalid"


def test_reused_pid_does_not_keep_a_stale_lock(tmp_path: Path) -> None:
    """The owner's pid now belongs to another live process (pid reuse): the kernel's
    start time of that pid differs from the one in the lock, so the lock is stale."""
    chat = H.write_chat(H.inputs_dir(tmp_path) / "drop" / "a.txt", 100, seed=1)
    archive = tmp_path / "archive"
    assert H.ingest(archive, chat.parent, workdir=tmp_path).code == 0
    lock = archive / "_archive/lock"
    lock.mkdir()
    owner = {
        "host": socket.gethostname(),
        "pid": os.getpid(),  # alive: this test process
        "pid_start": "1",  # but not started at boot tick 1
        "started": "2024-01-01T00:00:00.000000Z",
        "token": "reused",
    }
    (lock / "owner.json").write_text(json.dumps(owner))
    H.write_chat(chat.parent / "b.txt", 100, seed=2)
    run = H.ingest(archive, chat.parent, workdir=tmp_path)
    assert run.code == 0, run.stderr
    state = H.check_clean(archive)
    assert [b["pid"] for b in state.record(2)["lock_breaks"]] == [os.getpid()]


def test_verify_while_an_ingest_runs_reports_no_leftovers(tmp_path: Path) -> None:
    """A cron verify that meets a running ingest (staged parts and a source snapshot under
    _archive/txn/) passes --strict and says an ingest is running; the same files left by
    a dead ingest are still leftovers."""
    from tests.core.helpers import run_cli

    first = H.write_chat(H.inputs_dir(tmp_path) / "first" / "a.txt", 300, seed=1)
    second = H.write_chat(H.inputs_dir(tmp_path) / "second" / "b.txt", 300, seed=2)
    archive = tmp_path / "archive"
    assert H.ingest(archive, first.parent, workdir=tmp_path).code == 0
    holder, hold_w = H.hold_lock(tmp_path, archive, second.parent, at="commit")
    try:
        staged = [p for p in (archive / "_archive" / "txn").rglob("*") if p.is_file()]
        assert any(p.name.endswith(".pq-staging") for p in staged), staged
        proc = run_cli(["verify", "--archive", str(archive), "--strict", "--json"])
        assert proc.returncode == 0, proc.stdout
        data = json.loads(proc.stdout)
        assert data["problems"] == []
        assert data["running_ingest"]["pid"] == holder.pid
        plain = run_cli(["verify", "--archive", str(archive), "--strict"])
        assert plain.returncode == 0
        assert f"note: an ingest is running (pid {holder.pid} on " in plain.stderr
    finally:
        os.close(hold_w)
        _out, err = holder.communicate(timeout=WAIT)
    assert holder.returncode == 0, err
    proc = run_cli(["verify", "--archive", str(archive), "--strict", "--json"])
    assert proc.returncode == 0 and json.loads(proc.stdout)["running_ingest"] is None
    # the same kind of file, left by no running ingest: a leftover
    left = archive / "_archive" / "txn" / ("d" * 32) / "stage" / "parts" / "000001.pq-staging"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"PAR1")
    proc = run_cli(["verify", "--archive", str(archive), "--strict", "--json"])
    assert proc.returncode == 1
    assert [p["code"] for p in json.loads(proc.stdout)["problems"]] == ["leftover_temp"]
