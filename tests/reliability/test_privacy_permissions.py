"""Privacy and permissions: archive files are created without world access whatever the
caller's umask (ingest applies 0027 on top of it, and a stricter umask is kept), committed
files are read-only, and message text never reaches output or files outside the archive
(also for a dry run, and a run stopped by SIGTERM)."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from tests.reliability import harness as H


def modes(root: Path) -> dict[str, int]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(dirpath, name)
            out[path.relative_to(root).as_posix()] = stat.S_IMODE(path.lstat().st_mode)
    out["."] = stat.S_IMODE(root.stat().st_mode)
    return out


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_no_world_access_and_read_only_commits(tmp_path: Path, umask: int) -> None:
    drop = H.inputs_dir(tmp_path) / "drop"
    H.write_chat(drop / "One.txt", 100, seed=1)
    H.write_chat(drop / "Two.txt", 100, seed=2)
    archive = tmp_path / "archive"
    run = H.ingest(archive, drop, workdir=tmp_path, umask=umask)
    assert run.code == 0, run.stderr
    H.write_chat(drop / "Three.txt", 50, seed=3)
    run = H.ingest(archive, drop, workdir=tmp_path, umask=umask)
    assert run.code == 0, run.stderr
    state = H.check_clean(archive)
    found = modes(archive)
    world = {p: oct(m) for p, m in found.items() if m & 0o007}
    assert not world, f"world access: {world}"
    if umask & 0o070 == 0o070:  # a stricter umask is respected: no group access either
        group = {p: oct(m) for p, m in found.items() if m & 0o070}
        assert not group, f"group access despite umask {oct(umask)}: {group}"
    # every file a batch record names, and the records themselves, are read-only
    for rel in state.committed:
        if rel in ("_archive/manifest.json", "SHA256SUMS"):
            continue  # derived, replaced (never written in place) by each batch
        assert found[rel] & 0o222 == 0, f"{rel} is writable: {oct(found[rel])}"
    assert len(state.committed) > 6


def test_dry_run_leaves_nothing_outside_the_archive(tmp_path: Path) -> None:
    drop = H.inputs_dir(tmp_path) / "drop"
    H.write_chat(drop / "One.txt", 100, seed=1)
    H.write_chat(drop / "Two.txt", 100, seed=2)
    (drop / "junk.bin").write_bytes(b"\x00\x01" * 100)
    archive = tmp_path / "archive"
    run = H.ingest(archive, drop, workdir=tmp_path, extra=["--dry-run"])
    assert run.code == 1, run.stderr  # junk.bin is rejected
    assert not archive.exists(), "a dry run wrote the archive"
    H.assert_no_canary(run.stdout, run.stderr, dirs=H.leak_dirs(tmp_path))
    assert not list((tmp_path / "tmp").iterdir()), "the dry run left temp files"


def test_a_dry_run_copies_no_chat_text_while_it_runs(tmp_path: Path) -> None:
    """A dry run reads the inputs where they lie: no snapshot of the source and no
    Parquet part in TMPDIR while it runs either (a kill -9 there would leave them)."""
    drop = H.inputs_dir(tmp_path) / "drop"
    H.write_chat(drop / "One.txt", 3000, seed=1)
    archive = tmp_path / "archive"
    proc, hold_w = H.hold_lock(tmp_path, archive, drop, at="end_input", extra=["--dry-run"])
    try:
        H.assert_no_canary(dirs=H.leak_dirs(tmp_path))
        staged = [p for p in (tmp_path / "tmp").rglob("*") if p.is_file() and "stage" in p.parts]
        assert staged == []
    finally:
        os.close(hold_w)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert '"messages_new": 3000' in out or "new=3000" in err + out, (out, err)
    assert not archive.exists()


def test_sigterm_mid_ingest_exits_130_and_leaks_nothing(tmp_path: Path) -> None:
    """SIGTERM (what cron's timeout sends) while the ingest runs: exit 130, a one-line
    message, the archive at a committed state, no message text anywhere outside it."""
    drop = H.inputs_dir(tmp_path) / "drop"
    H.write_chat(drop / "One.txt", 3000, seed=1)
    H.write_chat(drop / "Two.txt", 3000, seed=2)
    archive = tmp_path / "archive"
    # the child pauses right after taking the lock; SIGTERM arrives while it waits there
    proc, hold_w = H.hold_lock(tmp_path, archive, drop)
    try:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(hold_w)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (archive / "_archive/lock").exists(), "the interrupted run kept its lock"
    H.check_committed(archive)
    H.assert_no_canary(out, err, dirs=H.leak_dirs(tmp_path))
    run = H.ingest(archive, drop, workdir=tmp_path)
    assert run.code == 0, run.stderr
    H.check_clean(archive)


def test_archive_error_carries_no_text(tmp_path: Path) -> None:
    """Errors carry paths and counts, never file contents: a folder that is not an
    archive (exit 4) is named, what it holds is not quoted."""
    drop = H.inputs_dir(tmp_path) / "drop"
    H.write_chat(drop / "One.txt", 50, seed=1)
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "stray.txt").write_text(H.CANARY)  # not an archive: exit 4
    run = H.ingest(archive, drop, workdir=tmp_path)
    assert run.code == 4, run.stderr
    assert "Traceback" not in run.stderr
    H.assert_no_canary(run.stdout, run.stderr)


def test_a_killed_wechat_ingest_leaves_no_database_copy_for_long(tmp_path: Path) -> None:
    """kill -9 while a dump is read (its WAL merged into a plain copy in TMPDIR): the next
    run removes that copy and says so; a folder of a live run is left alone."""
    import shutil

    from tests.reliability.test_fuzz import PC3

    dump = H.inputs_dir(tmp_path) / "WeChat Files" / PC3.name
    shutil.copytree(PC3, dump)
    (dump / "Msg" / "Multi" / "MSG0.db").unlink()  # MSG1.db has a WAL: read from a copy
    archive = tmp_path / "archive"
    proc, hold_w = H.hold_lock(tmp_path, archive, dump, at="add_table")
    tmp = tmp_path / "tmp"
    try:
        copies = [p for p in tmp.rglob("*.db") if p.is_file()]
        assert copies, "no plain copy was made: the test reads no WAL"
        proc.kill()
        proc.wait(timeout=60)
    finally:
        os.close(hold_w)
    assert all(p.exists() for p in copies)
    from imarchive import tempdirs

    live = tmp / (tempdirs.prefix("wechat") + "keep")  # this test's own process: alive
    live.mkdir()
    elsewhere = tmp / "imarchive-wechat-1.some_other_host-keep"  # not checkable from here
    elsewhere.mkdir()
    other = H.inputs_dir(tmp_path) / "later"
    H.write_chat(other / "Later.txt", 5, seed=3)
    run = H.ingest(archive, other, workdir=tmp_path)
    assert run.code == 0, run.stderr
    assert not any(p.exists() for p in copies)
    assert live.is_dir() and elsewhere.is_dir()
    said = run.stdout + run.stderr
    assert "removed 1 temporary folder(s) that an interrupted run left in" in said


def test_a_tmpdir_that_cannot_be_used_is_refused(tmp_path: Path) -> None:
    """TMPDIR set to a missing folder: Python would quietly use /tmp instead, where the
    user said chat data must not go; the run is refused (exit 2), nothing written."""
    from tests.core.helpers import run_cli

    drop = H.inputs_dir(tmp_path) / "drop"
    H.write_chat(drop / "One.txt", 5, seed=1)
    archive = tmp_path / "archive"
    missing = tmp_path / "no-such-folder"
    args = ["ingest", str(drop), "--archive", str(archive), "--timezone", "UTC"]
    proc = run_cli(args, env={"TMPDIR": str(missing)})
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: TMPDIR {missing}: not a folder this user can write")
    assert not archive.exists()
