"""Guarantee 6 (bad input gets a clear error): each hostile or broken file sits in a drop
folder beside two good chat exports. The run exits 1; one stderr line names the file
with a one-line reason (no traceback); nothing from the file reaches the archive; the
good chats are committed; no message text leaks."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from imarchive.inputs import utf8_display
from tests.reliability import harness as H

GOOD = ("Alpha", "Beta")


def drop_folder(tmp_path: Path) -> Path:
    drop = H.inputs_dir(tmp_path) / "drop"
    for k, name in enumerate(GOOD):
        H.write_chat(drop / f"{name}.txt", 200, seed=k + 1)
    return drop


def plain_argv(archive: Path, *inputs: Path) -> list[str]:
    """The cron form: no --json, so errors and results are plain lines on stderr."""
    argv = H.ingest_argv(archive, *inputs)
    argv.remove("--json")
    return argv


def ingest_plain(tmp_path: Path, archive: Path, *inputs: Path, **config: object) -> H.Run:
    return H.run_child(
        {"argv": plain_argv(archive, *H.rel_inputs(tmp_path, *inputs))} | config, tmp_path
    )


def check_rejected(tmp_path: Path, run: H.Run, archive: Path, bad: list[Path]) -> list[str]:
    """The contract of guarantee 6 for one run; returns the error lines."""
    assert run.code == 1, f"exit {run.code}: {run.stderr}"
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    cwd = tmp_path / "cwd"
    lines = []
    for path in bad:
        display = utf8_display(str(path.relative_to(cwd)))
        hits = [ln for ln in run.stderr.splitlines() if ln.startswith(f"error: {display}: ")]
        assert len(hits) == 1, f"want one error line naming {display}: {run.stderr!r}"
        lines.append(hits[0])
    state = H.check_clean(archive)
    table = H.rows(archive)
    paths = set(table.column("source_path").to_pylist())
    for path in bad:
        display = utf8_display(str(path.relative_to(cwd)))
        assert not any(p == display or p.startswith(display + "!") for p in paths)
        if path.is_file() and not path.is_symlink() and os.access(path, os.R_OK):
            sha = H.sha256_path(path)
            assert f"sources/{sha[:2]}/{sha}" not in state.committed, "its bytes were stored"
    for name in GOOD:
        good = f"in/drop/WhatsApp Chat with {name}.txt"
        assert good in paths, f"the good chat {name} was not committed"
    inputs = [i for r in state.records for i in r["inputs"]]
    rejected = {i["path"] for i in inputs if i["status"] == "rejected"}
    assert {utf8_display(str(p.relative_to(cwd))) for p in bad} <= rejected, (
        "not in the batch record"
    )
    H.assert_no_canary(run.stdout, run.stderr, dirs=H.leak_dirs(tmp_path))
    return lines


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def chat_bytes(n: int = 50, seed: int = 7) -> bytes:
    return "".join(H.chat_lines(n, seed)).encode()


# -- one case per kind of hostile file ------------------------------------------------------

Maker = Callable[[Path], Path]


def empty(drop: Path) -> Path:
    path = drop / "WhatsApp Chat with Empty.txt"
    path.write_bytes(b"")
    return path


def garbage(drop: Path) -> Path:
    path = drop / "garbage.bin"
    path.write_bytes(random.Random(1).randbytes(200_000))
    return path


def garbage_txt(drop: Path) -> Path:
    path = drop / "WhatsApp Chat with Noise.txt"
    path.write_bytes(random.Random(2).randbytes(50_000))
    return path


def truncated_zip(drop: Path) -> Path:
    path = write_zip(drop / "WhatsApp Chat - Cut.zip", {"_chat.txt": chat_bytes(400)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_slip_dotdot(drop: Path) -> Path:
    return write_zip(
        drop / "WhatsApp Chat - Slip.zip",
        {"_chat.txt": chat_bytes(), "../../escaped.txt": b"owned"},
    )


def zip_slip_absolute(drop: Path) -> Path:
    return write_zip(
        drop / "WhatsApp Chat - Abs.zip",
        {"_chat.txt": chat_bytes(), "/tmp/escaped-absolute.txt": b"owned"},
    )


def zip_bomb_ratio(drop: Path) -> Path:
    """A 64 MB member of zeros deflates to ~64 KB: a ratio of ~1000 (cap: 200)."""
    path = drop / "WhatsApp Chat - Bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("_chat.txt", chat_bytes())
        with zf.open("IMG-20240101-WA0001.jpg", "w") as fh:
            block = bytes(1 << 20)
            for _ in range(64):
                fh.write(block)
    return path


def zip_bomb_size(drop: Path) -> Path:
    """A central directory that declares 20 GiB in total (cap: 16 GiB), built by
    rewriting the declared sizes of a small zip (as a hostile tool would)."""
    path = drop / "WhatsApp Chat - Huge.zip"
    zf = zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True)
    zf.writestr("_chat.txt", chat_bytes())
    zf.writestr("VID-20240101-WA0001.mp4", b"x" * 1000)
    info = zf.getinfo("VID-20240101-WA0001.mp4")
    info.file_size = 20 * 1024**3  # what the central directory will claim
    info.compress_size = 20 * 1024**3
    zf.close()
    return path


def symlink_outside(drop: Path) -> Path:
    outside = drop.parent / "outside"  # beside the walked folder, not inside it
    target = H.write_chat(outside / "Secret.txt", 30, seed=9)
    link = drop / "WhatsApp Chat with Link.txt"
    link.symlink_to(target)
    return link


def symlink_loop(drop: Path) -> Path:
    sub = drop / "sub"
    sub.mkdir()
    (sub / "up").symlink_to("..", target_is_directory=True)
    return sub / "up"


def file_symlink_loop(drop: Path) -> Path:
    link = drop / "WhatsApp Chat with Loop.txt"
    link.symlink_to(link.name)  # points at itself
    return link


def name_not_utf8(drop: Path) -> Path:
    return H.write_chat(Path(os.fsdecode(bytes(drop) + b"/Pr\xefya.txt")), 30, seed=5)


def csv_file(drop: Path) -> Path:
    path = drop / "trades.csv"
    path.write_text("date,trader,body\n2024-01-01,Alice,hello\n2024-01-02,Bob,bye\n")
    return path


def pdf_file(drop: Path) -> Path:
    path = drop / "statement.pdf"
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    return path


NOT_RECOGNISED = "not a recognised chat export"
# case → (how to make the file, what its one-line reason must say)
CASES: dict[str, tuple[Maker, str]] = {
    "empty": (empty, "empty file (0 bytes)"),
    "binary-garbage": (garbage, NOT_RECOGNISED),
    "binary-garbage-named-as-chat": (garbage_txt, NOT_RECOGNISED),
    "truncated-zip": (truncated_zip, "truncated zip"),
    "zip-slip-dotdot": (zip_slip_dotdot, "unsafe path"),
    "zip-slip-absolute": (zip_slip_absolute, "unsafe path"),
    "zip-bomb-ratio": (zip_bomb_ratio, "compression ratio"),
    "zip-bomb-size": (zip_bomb_size, "size limit"),
    "symlink-outside-the-folder": (symlink_outside, "outside the input folder, not followed"),
    "directory-symlink-loop": (symlink_loop, "symbolic link to a folder, not followed"),
    "file-symlink-loop": (file_symlink_loop, "symbolic link that cannot be resolved"),
    "name-not-utf8": (name_not_utf8, "not valid UTF-8"),
    "csv": (csv_file, NOT_RECOGNISED),
    "pdf-given-by-name": (pdf_file, NOT_RECOGNISED),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_rejected_alone(tmp_path: Path, case: str) -> None:
    drop = drop_folder(tmp_path)
    make, reason = CASES[case]
    bad = make(drop)
    archive = tmp_path / "archive"
    if case == "pdf-given-by-name":
        # a PDF found beside chats may be a document of an export (taken for media); one
        # the user names is an input of its own
        other = H.inputs_dir(tmp_path) / "other"
        other.mkdir()
        bad = bad.rename(other / bad.name)
        run = ingest_plain(tmp_path, archive, drop, bad)
    else:
        run = ingest_plain(tmp_path, archive, drop)
    (line,) = check_rejected(tmp_path, run, archive, [bad])
    assert reason in line and len(line) < 200, line
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/escaped-absolute.txt").exists()


def test_pdf_and_csv_given_by_name(tmp_path: Path) -> None:
    good = drop_folder(tmp_path)
    other = H.inputs_dir(tmp_path) / "other"
    other.mkdir()
    bad = [pdf_file(other), csv_file(other)]
    archive = tmp_path / "archive"
    run = ingest_plain(tmp_path, archive, good, *bad)
    check_rejected(tmp_path, run, archive, bad)


def test_file_that_changes_while_read(tmp_path: Path) -> None:
    """The pipeline hashes each source, then snapshots it; the file grows in between
    (the child appends to it right before the copy): rejected, as the hashes differ."""
    drop = drop_folder(tmp_path)
    moving = H.write_chat(drop / "Moving.txt", 100, seed=5)
    archive = tmp_path / "archive"
    run = ingest_plain(tmp_path, archive, drop, grow=str(moving))
    (line,) = check_rejected(tmp_path, run, archive, [moving])
    assert "changed while it was being read" in line
    assert line.count(moving.name) == 1, line  # the path once, not twice


def test_utf16_without_bom_reads_like_utf8(tmp_path: Path) -> None:
    """Not hostile, but easy to get wrong: read as UTF-16, the same messages as UTF-8."""
    utf8 = H.write_chat(H.inputs_dir(tmp_path) / "a" / "Sixteen.txt", 100, seed=3)
    utf16 = H.inputs_dir(tmp_path) / "b" / utf8.name
    utf16.parent.mkdir(parents=True)
    utf16.write_bytes(utf8.read_text(encoding="utf-8").encode("utf-16-le"))
    a, b = tmp_path / "arch-a", tmp_path / "arch-b"
    assert H.ingest(a, utf8, workdir=tmp_path).code == 0
    run = H.ingest(b, utf16, workdir=tmp_path)
    if run.code == 1:  # a rejection must still be clean and name the file
        check_rejected(tmp_path, run, b, [utf16])
        pytest.fail("UTF-16 without BOM was rejected: " + run.stderr)
    assert run.code == 0, run.stderr
    assert H.message_ids(a) == H.message_ids(b)
    (inp,) = json.loads(run.stdout)["inputs"]
    assert inp["encoding"].startswith("utf-16")


# -- an unreadable file: needs a user that permissions apply to ------------------------------


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A folder that user ``nobody`` owns (tmp_path sits in root's private folder)."""
    if os.geteuid() != 0:
        pytest.skip("runs as root only, to drop to 'nobody' (a non-root user can't bypass 0000)")
    import pwd

    nobody = pwd.getpwnam("nobody")
    path = Path(tempfile.mkdtemp(prefix="imarchive-rel-"))
    path.chmod(0o755)
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _ingest_as_nobody(work: Path, drop: Path, locked: Path) -> H.Run:
    """Everything under ``work`` owned by ``nobody`` except ``locked`` (root's, mode
    0000); the ingest of ``drop`` runs as ``nobody``."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    for dirpath, dirs, files in os.walk(work):
        for name in dirs + files:
            os.lchown(Path(dirpath, name), nobody.pw_uid, nobody.pw_gid)
    os.chown(locked, 0, 0)
    locked.chmod(0)
    for sub in ("cwd", "tmp"):
        (work / sub).mkdir(exist_ok=True)
        os.chown(work / sub, nobody.pw_uid, nobody.pw_gid)
    return ingest_plain(work, work / "archive", drop, uid=nobody.pw_uid, gid=nobody.pw_gid)


def test_unreadable_file(nobody_dir: Path) -> None:
    """chmod 000 does not stop root: the ingest runs as ``nobody`` (privileges dropped in
    the child), and the file is owned by root with mode 0000."""
    drop = drop_folder(nobody_dir)
    locked = H.write_chat(drop / "Locked.txt", 50, seed=4)
    run = _ingest_as_nobody(nobody_dir, drop, locked)
    (line,) = check_rejected(nobody_dir, run, nobody_dir / "archive", [locked])
    assert "Permission denied" in line or "cannot read" in line


def test_unreadable_sub_folder(nobody_dir: Path) -> None:
    """A sub-folder of the drop folder that the user cannot list (it may hold a WeChat
    dump, which readers look into before the walk would): rejected, the rest committed."""
    drop = drop_folder(nobody_dir)
    locked = drop / "locked"
    H.write_chat(locked / "Inner.txt", 20, seed=6)
    try:
        run = _ingest_as_nobody(nobody_dir, drop, locked)
        (line,) = check_rejected(nobody_dir, run, nobody_dir / "archive", [locked])
    finally:
        locked.chmod(0o755)
    assert "cannot list the folder (Permission denied)" in line


# -- a 50 MB line: bounded memory -------------------------------------------------------------

LAUNCHER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.stderr.write(code.stderr.decode("utf-8", "replace"))
sys.exit(code.returncode)
"""


def _launch(
    tmp_path: Path, script: str, first: str | None, child: list[str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``python -c script [first] child...`` as the harness runs a child (its cwd and
    TMPDIR); the script starts the child command under what it measures or limits."""
    args = [sys.executable, "-c", script, *([first] if first is not None else []), *child]
    return subprocess.run(
        args,
        cwd=tmp_path / "cwd",
        env=H.child_env(tmp_path / "tmp"),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def peak_rss_mb(tmp_path: Path, archive: Path, *inputs: Path) -> tuple[int, str, float]:
    """Run the ingest under a fresh launcher; the child's peak RSS (MB) from wait4."""
    out = tmp_path / "rss.txt"
    argv = plain_argv(archive, *H.rel_inputs(tmp_path, *inputs))
    proc = _launch(
        tmp_path, LAUNCHER, str(out), H.config_arg({"test_reader": True, "argv": argv}), 300
    )
    return proc.returncode, proc.stderr, int(out.read_text()) / 1024


@pytest.mark.parametrize("shape", ["no-newline", "one-message"])
def test_one_50mb_line_bounded_memory(tmp_path: Path, shape: str) -> None:
    drop = drop_folder(tmp_path)
    baseline_code, err, baseline = peak_rss_mb(tmp_path, tmp_path / "base", drop)
    assert baseline_code == 0, err
    big = drop / "WhatsApp Chat with Huge.txt"
    with open(big, "wb") as fh:
        if shape == "one-message":
            fh.write(b"01/01/2024, 10:00 - Alice Example: ")
        block = b"x" * (1 << 20)
        for _ in range(50):
            fh.write(block)
    archive = tmp_path / "archive"
    code, err, peak = peak_rss_mb(tmp_path, archive, drop)
    print(f"\npeak RSS: {peak:.0f} MB with a 50 MB line ({shape}); {baseline:.0f} MB without")
    assert "Traceback" not in err and "internal error" not in err, err
    if shape == "no-newline":
        assert code == 1 and "Huge.txt" in err, err
    else:  # one message with a 50 MB body: kept verbatim, or rejected with a reason
        assert code in (0, 1), err
    H.check_clean(archive)
    # A 50 MB body is held several times over (bytes, str, body and raw, Arrow columns,
    # their filtered and sorted copies, Parquet pages): about 16x today. The cap is a
    # generous bound (24x), not a target; a quadratic or leaking path exceeds it.
    assert peak < baseline + 24 * 50, f"peak RSS {peak:.0f} MB"


# -- found by the fuzzers (test_fuzz.py) --------------------------------------------------------


def test_zip_member_flagged_encrypted(tmp_path: Path) -> None:
    from tests.reliability.test_fuzz import WA_ZIPS, Flip, mutate

    drop = drop_folder(tmp_path)
    bad = H.inputs_dir(tmp_path) / WA_ZIPS[0].name
    # one bit of the PNG member's general-purpose flags: "encrypted"
    bad.write_bytes(mutate(WA_ZIPS[0].read_bytes(), [Flip(0.844197131932358, 1)]))
    archive = tmp_path / "archive"
    run = ingest_plain(tmp_path, archive, drop, bad)
    check_rejected(tmp_path, run, archive, [bad])


def test_wechat_dump_with_a_malformed_database(tmp_path: Path) -> None:
    from tests.reliability.test_fuzz import PC3, Shuffle, mutate

    drop = drop_folder(tmp_path)
    bad = H.inputs_dir(tmp_path) / "WeChat Files" / PC3.name
    shutil.copytree(PC3, bad)
    db = bad / "Msg" / "MicroMsg.db"
    db.write_bytes(mutate(db.read_bytes(), [Shuffle(73)]))
    archive = tmp_path / "archive"
    run = ingest_plain(tmp_path, archive, drop, bad)
    check_rejected(tmp_path, run, archive, [bad])


def test_fifos_and_devices_never_block_the_run(tmp_path: Path) -> None:
    """A FIFO named as an input, and a dump whose database is a FIFO or a link to
    /dev/zero: each is rejected at once ("not a regular file"), not read forever while
    the run holds the writer lock; the good inputs are committed."""
    from tests.reliability.test_fuzz import PC3

    drop = drop_folder(tmp_path)
    other = H.inputs_dir(tmp_path) / "other"
    other.mkdir()
    fifo = other / "WhatsApp Chat with Nobody.txt"
    os.mkfifo(fifo)
    dumps = []
    for name, make in (
        ("zero", lambda db: db.symlink_to("/dev/zero")),
        ("fifo", lambda db: os.mkfifo(db)),
    ):
        dump = H.inputs_dir(tmp_path) / name / "WeChat Files" / PC3.name
        shutil.copytree(PC3, dump)
        db = dump / "Msg" / "Multi" / "MSG0.db"
        db.unlink()
        make(db)
        dumps.append(dump)
    archive = tmp_path / "archive"
    run = H.run_child(
        {"argv": plain_argv(archive, *H.rel_inputs(tmp_path, drop, fifo, *dumps))},
        tmp_path,
        timeout=60,
    )
    lines = check_rejected(tmp_path, run, archive, [fifo, *dumps])
    assert all("not a regular file" in line for line in lines), lines


def test_a_night_of_more_chat_files_than_open_files_allowed(tmp_path: Path) -> None:
    """cron's usual limit is 1,024 open files; a drop folder of more chats than that in
    one night is committed (the commit merges a few parts at a time)."""
    drop = H.inputs_dir(tmp_path) / "many"
    for k in range(300):
        H.write_chat(drop / f"C{k:03d}.txt", 2, seed=k + 1)
    archive = tmp_path / "archive"
    script = (
        "import resource, subprocess, sys\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))\n"
        "sys.exit(subprocess.call(sys.argv[1:]))\n"
    )
    config = H.config_arg({"argv": plain_argv(archive, *H.rel_inputs(tmp_path, drop))})
    proc = _launch(tmp_path, script, None, config, 600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = H.check_clean(archive)
    assert len(state.record(1)["inputs"]) == 300
