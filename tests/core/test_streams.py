"""stdout and stderr as cron and shells hand them over: closed, full, a pipe whose reader
stops, a file while stderr is a terminal. The work is done or refused as usual; a report
that cannot be written is one error line and exit 1, never an internal error."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from imarchive.errors import ExitCode
from tests.core.helpers import REPO

DUMP = REPO / "samples" / "wechat" / "WeChat Files" / "wxid_owner01"


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "imarchive", *args], env=env, check=False, timeout=120, **kw
    )


def _closed_fd(fd: int) -> None:
    os.close(fd)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streams") / "archive"
    assert _run(["ingest", str(DUMP), "--archive", str(root)], capture_output=True).returncode == 0
    return root


@pytest.mark.parametrize("how", ["closed", "full"])
def test_ingest_report_that_cannot_be_written(tmp_path: Path, how: str) -> None:
    """The batch is committed; the lost --json report is an error line and exit 1."""
    target = tmp_path / "archive"
    args = ["ingest", str(DUMP), "--archive", str(target), "--json"]
    if how == "closed":
        proc = _run(args, stderr=subprocess.PIPE, preexec_fn=lambda: _closed_fd(1))
    else:
        with open("/dev/full", "wb") as full:
            proc = _run(args, stdout=full, stderr=subprocess.PIPE)
    err = proc.stderr.decode()
    assert proc.returncode == ExitCode.PROBLEMS, err
    assert err.startswith("error: cannot write to stdout (") and err.count("\n") == 1, err
    info = _run(["info", "--archive", str(target), "--json"], capture_output=True)
    assert json.loads(info.stdout)["totals"]["messages"] == 40


def test_a_reader_that_stops_early(archive: Path) -> None:
    """``imarchive info | head``, the reader gone before the first line: one error line
    and exit 1, not an internal error or a silent failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "imarchive", "info", "--archive", str(archive)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before the interpreter has started and written anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == ExitCode.PROBLEMS
    assert err == "error: cannot write to stdout (Broken pipe)\n"


def test_verify_with_stderr_closed(archive: Path) -> None:
    proc = _run(
        ["verify", "--archive", str(archive), "--json"],
        stdout=subprocess.PIPE,
        preexec_fn=lambda: _closed_fd(2),
    )
    assert proc.returncode == ExitCode.OK
    assert json.loads(proc.stdout)["ok"] is True


def test_stdout_to_a_file_from_a_terminal(archive: Path, tmp_path: Path) -> None:
    """``imarchive info > info.txt`` typed at a terminal: the file gets plain lines, no
    terminal codes or box drawing, nothing cut short."""
    out = tmp_path / "info.txt"
    master, slave = pty.openpty()
    try:
        with open(out, "wb") as fh:
            proc = _run(["info", "--archive", str(archive)], stdout=fh, stderr=slave)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == ExitCode.OK
    text = out.read_text()
    assert text.startswith(f"archive: {archive}\n")
    assert "\x1b" not in text and "─" not in text and "…" not in text
