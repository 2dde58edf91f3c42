"""Guarantee 1 under ``kill -9`` at random moments: an ingest subprocess is SIGKILLed at a
random instant of its run (25 times by default, 300 under ``-m stress``); after each kill
the archive is at a committed state, and re-running the same ingest ends with exactly the
rows of an uninterrupted run, a contiguous batch sequence, an intact chain, and every
leftover set aside on record."""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from tests.reliability import harness as H

READY_TIMEOUT = 30.0
RUN_TIMEOUT = 120.0


def make_inputs(base: Path) -> tuple[Path, Path]:
    first = base / "first"
    H.write_chat(first / "a.txt", 2000, seed=1)
    second = base / "second"
    H.write_chat(second / "a.txt", 4000, seed=1, start=1000)  # overlaps ``first``
    H.write_chat(second / "b.txt", 3000, seed=2)
    H.write_chat(second / "c.txt", 3000, seed=3)
    return first, second


class Killer:
    """Starts ``imarchive ingest`` in a child and SIGKILLs it ``delay`` seconds after the
    child signalled (through a pipe) that the ingest itself has started."""

    def __init__(self, workdir: Path, archive: Path, inputs: Path) -> None:
        self.workdir = workdir
        self.argv = H.ingest_argv(archive, inputs.relative_to(workdir / "cwd"))

    def run(self, delay: float | None) -> tuple[int, float, str]:
        """Returns (exit code or -9, seconds from ready to exit, stdout + stderr); the
        output is small (one JSON object, a few lines), well below a pipe's buffer."""
        r, w = os.pipe()
        config = {"test_reader": True, "argv": self.argv, "ready_fd": w}
        (self.workdir / "cwd").mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            H.config_arg(config),
            cwd=self.workdir / "cwd",
            env=H.child_env(self.workdir / "tmp"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(w,),
        )
        os.close(w)
        try:
            ready, _, _ = select.select([r], [], [], READY_TIMEOUT)
            assert ready and os.read(r, 1) == b"R", "the child never started its ingest"
            t0 = time.monotonic()
            if delay is not None:
                try:
                    proc.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
            code = proc.wait(timeout=RUN_TIMEOUT)
            elapsed = time.monotonic() - t0
            assert proc.stderr is not None and proc.stdout is not None
            out = proc.stdout.read() + proc.stderr.read()
            return code, elapsed, out.decode("utf-8", "replace")
        finally:
            os.close(r)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, pa.Table, float]:
    """A template archive holding ``first``; the reference rows after ``second``; and
    how long the uninterrupted ingest of ``second`` runs."""
    base = tmp_path_factory.mktemp("kill")
    first, second = make_inputs(H.inputs_dir(base))
    template = base / "template"
    assert H.ingest(template, first, workdir=base).code == 0
    reference = base / "reference"
    shutil.copytree(template, reference, symlinks=True)
    code, duration, err = Killer(base, reference, second).run(None)
    assert code == 0, err
    H.check_clean(reference)
    return base, template, second, H.rows(reference), duration


@pytest.mark.parametrize("kills", [25, pytest.param(300, marks=pytest.mark.stress)])
def test_random_sigkill(
    setup: tuple[Path, Path, Path, pa.Table, float], tmp_path: Path, kills: int
) -> None:
    base, template, second, reference, duration = setup
    rng = random.Random(kills)  # reproducible: the same instants on every run
    outcomes: Counter[str] = Counter()
    for i in range(kills):
        archive = tmp_path / f"a{i}"
        shutil.copytree(template, archive, symlinks=True)
        # half the kills anywhere in the run, half in its last third (the commit)
        lo = 0.0 if i % 2 else duration * 0.66
        delay = rng.uniform(lo, duration * 1.05)
        code, _, err = Killer(base, archive, second).run(delay)
        assert code in (0, -signal.SIGKILL), f"kill {i}: exit {code}: {err}"
        H.assert_no_canary(err)
        owner_file = archive / "_archive/lock/owner.json"
        dead_owner = json.loads(owner_file.read_text()) if owner_file.exists() else None
        state = H.check_committed(archive)
        H.assert_leftovers_reported(archive, state)
        if code == 0:
            outcomes["finished before the kill"] += 1
        elif state.head_seq == 2:
            outcomes["killed after the commit point"] += 1
        elif state.leftovers:
            outcomes["killed with leftovers"] += 1
        else:
            outcomes["killed before publishing"] += 1
        code2, _, out = Killer(base, archive, second).run(None)
        assert code2 == 0, f"kill {i}: {out}"
        final = H.check_clean(archive)
        H.chain_ok(final, archive)
        H.assert_same_rows(H.rows(archive), reference)
        set_aside = [e for r in final.records for e in r.get("set_aside", [])]
        assert {e["original_path"] for e in set_aside} == state.leftovers, f"kill {i}"
        # a lock the dead writer held was broken, and the break is on record (in the
        # new batch, or pending for the next one when there was nothing to commit)
        breaks = [b for r in final.records for b in r.get("lock_breaks", [])]
        pending = archive / "_archive/txn/lock-breaks.json"
        breaks += json.loads(pending.read_text()) if pending.exists() else []
        want = [dead_owner["pid"]] if dead_owner else []
        assert [b["pid"] for b in breaks] == want, f"kill {i}: lock breaks {breaks}"
        assert not (archive / "_archive/lock").exists()
        H.assert_no_canary(out, dirs=H.leak_dirs(base))
        shutil.rmtree(archive)
    print(f"\n{kills} kills over a {duration:.2f}s ingest: {dict(outcomes)}")
    assert outcomes["finished before the kill"] < kills, "no kill landed inside the ingest"
