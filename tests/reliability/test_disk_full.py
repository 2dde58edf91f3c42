"""Disk full: the archive lives on a small tmpfs; a filler file leaves a chosen number of
bytes free, swept from none to more than a batch needs, so that ENOSPC strikes each
phase in turn (staging the source copy, Parquet parts, intent, publishing, the batch
record, manifest, SHA256SUMS). Each run either commits, or fails cleanly — exit 1, one
line naming the path, no traceback — leaving the archive at its last committed batch;
with space back, the same ingest ends with the rows of an uninterrupted run."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability import harness as H
from tests.support import small_tmpfs

SIZE_MB = 8


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "small", SIZE_MB) as mnt:
        yield mnt


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(fs: Path, leave: int) -> Path:
    """A filler file that leaves about ``leave`` bytes free on ``fs``."""
    filler = fs / "filler"
    size = max(free_bytes(fs) - leave, 0)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if size:
            os.posix_fallocate(fd, 0, size)
    finally:
        os.close(fd)
    return filler


def spread(points: int, need: int) -> list[int]:
    """``points`` amounts of free space from 0 to 2.5x what a batch keeps (staging
    copies, parts and their compaction need more than that at their peak)."""
    return sorted({int(need * 2.5 * k / max(points - 1, 1)) for k in range(points)})


class Attempts:
    """Runs the ingest with a given amount of free space and checks the aftermath."""

    def __init__(self, fs: Path, tmp: Path, template: Path, second: Path, want: object) -> None:
        self.fs, self.tmp, self.template, self.second, self.want = fs, tmp, template, second, want
        self.outcomes: Counter[str] = Counter()

    def __call__(self, leave: int) -> bool:
        """True when the batch committed."""
        archive = self.fs / "archive"
        shutil.copytree(self.template, archive, symlinks=True)
        filler = fill(self.fs, leave)
        run = H.ingest(archive, self.second, workdir=self.tmp)
        filler.unlink()
        H.assert_no_canary(run.stdout, run.stderr, dirs=H.leak_dirs(self.tmp))
        assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
        state = H.check_committed(archive)
        H.assert_leftovers_reported(archive, state)
        if run.code == 0:
            self.outcomes["committed"] += 1
        else:
            assert run.code == 1, f"{leave} bytes free: exit {run.code}: {run.stderr}"
            (line,) = run.stderr.strip().splitlines()
            assert "No space left on device" in line and str(self.fs) in line, line
            published = any(not p.startswith("_archive/") for p in state.leftovers)
            phase = (
                "after the batch record"
                if state.head_seq == 2
                else "while publishing"
                if published
                else "while staging"
            )
            self.outcomes[f"failed cleanly {phase}"] += 1
        rerun = H.ingest(archive, self.second, workdir=self.tmp)
        assert rerun.code == 0, rerun.stderr
        final = H.check_clean(archive)
        H.chain_ok(final, archive)
        H.assert_same_rows(H.rows(archive), self.want)  # type: ignore[arg-type]
        shutil.rmtree(archive)
        return run.code == 0


@pytest.mark.parametrize(
    ("points", "near"), [(3, 5), pytest.param(40, 32, marks=pytest.mark.stress)]
)
def test_disk_full_fails_cleanly_at_every_phase(
    small_fs: Path, tmp_path: Path, points: int, near: int
) -> None:
    first = H.write_chat(H.inputs_dir(tmp_path) / "first" / "A.txt", 300, seed=1)
    second = H.inputs_dir(tmp_path) / "second"
    # one input: no compaction, so the staging peak is not above what the commit needs
    H.write_chat(second / "B.txt", 2000, seed=2)
    template = small_fs / "template"
    assert H.ingest(template, first.parent, workdir=tmp_path).code == 0
    # the uninterrupted run, and how much space its batch kept
    reference = small_fs / "reference"
    shutil.copytree(template, reference, symlinks=True)
    before = free_bytes(small_fs)
    run = H.ingest(reference, second, workdir=tmp_path)
    assert run.code == 0, run.stderr
    need = before - free_bytes(small_fs)
    attempt = Attempts(small_fs, tmp_path, template, second, H.rows(reference))
    shutil.rmtree(reference)

    for leave in spread(points, need):
        attempt(leave)
    # the least free space that commits: just below it, ENOSPC strikes the commit's
    # last and smallest writes (intent, record, manifest, SHA256SUMS)
    lo, hi = int(need * 0.9), int(need * 1.3)
    assert attempt(hi), "the batch does not fit in 1.3x its final size"
    while hi - lo > 4096:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if attempt(mid) else (mid, hi)
    for k in range(1, near + 1):
        attempt(max(hi - 2048 * k, 0))
    print(f"\nneed {need} bytes, least free space that commits {hi}: {dict(attempt.outcomes)}")
    failed = sum(n for o, n in attempt.outcomes.items() if o.startswith("failed"))
    assert failed >= 3 and attempt.outcomes["committed"] >= 1
