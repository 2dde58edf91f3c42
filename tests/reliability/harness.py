"""Helpers of the reliability tests: inputs, a child-process launcher, and an
independent check that an archive is at a committed state."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import select
import stat
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).resolve().parent / "child.py"
# Every message body of the generated inputs carries this: it must never show up in
# output, logs or files outside the archive (chat text is regulated data).
CANARY = "CANARY-4b1d-privileged-body"
MAGIC = "#imarchive-reltest v1\n"
# The generated chats: real WhatsApp exports by default; ``reltest`` uses the test-only
# reader of fakereader.py (a pipeline check independent of the production reader).
CHAT_FORMAT = os.environ.get("IMARCHIVE_RELTEST_FORMAT", "whatsapp")
TEMP_NAME = re.compile(r"^\.tmp-[0-9a-f]{32}-.*\.part$")
BATCH_NAME = re.compile(r"^(\d{8})\.json$")
IGNORED_COLUMNS = ("batch_seq", "ingested_at")
INPUTS = "in"  # inputs live in <workdir>/cwd/in: scanned for leaks like the rest of cwd, minus it
CRASH_CODE = 137  # child.py dies with this at a crash point


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_path(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


# -- inputs -------------------------------------------------------------------------------


def chat_lines(n: int, seed: int, start: int = 0) -> list[str]:
    """``n`` messages of a deterministic chat, from message ``start`` on: the same index
    gives the same line, so windows overlap like re-exports of one chat. WhatsApp
    Android export lines (read with ``--date-order dmy``), or the ``reltest-lines``
    format when ``CHAT_FORMAT`` says so."""
    out = []
    for i in range(start, start + n):
        rnd = random.Random(seed * 1_000_003 + i)
        # ascending, 37 minutes apart: several months, hence several Parquet files
        ts = datetime(2024, 1, 1) + timedelta(minutes=37 * i)
        sender = rnd.choice(("Alice Example", "Bob Example", "Carol Example"))
        words = " ".join(rnd.choice(("lorem", "ipsum", "dolor", "sit", "amet")) for _ in range(8))
        body = f"{CANARY} {i} {words}"
        if CHAT_FORMAT == "reltest":
            out.append(f"{ts:%Y-%m-%dT%H:%M:%S}Z|{sender}|{body}\n")
        else:
            out.append(f"{ts:%d/%m/%Y, %H:%M} - {sender}: {body}\n")
    return out


def write_chat(path: Path, n: int, seed: int = 1, start: int = 0) -> Path:
    """Write a chat named after ``path``'s stem (``x.txt`` becomes ``WhatsApp Chat with
    x.txt``: the title, hence the conversation, comes from the name); returns its path."""
    if CHAT_FORMAT != "reltest":
        path = path.with_name(f"WhatsApp Chat with {path.stem}.txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    head = MAGIC if CHAT_FORMAT == "reltest" else ""
    path.write_text(head + "".join(chat_lines(n, seed, start)), encoding="utf-8")
    return path


# -- running imarchive in a child process -------------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def child_env(tmpdir: Path) -> dict[str, str]:
    """The child's environment: its own TMPDIR (scanned for leaks afterwards), no
    archive or zone defaults from the caller, plain (non-TTY) output."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    env |= {"TMPDIR": str(tmpdir), "TERM": "dumb", "PYTHONPATH": str(REPO)}
    return env


def config_arg(config: dict[str, Any]) -> list[str]:
    return [sys.executable, str(CHILD), json.dumps(config)]


def ingest_argv(archive: Path, *inputs: Path, extra: Iterable[str] = ()) -> list[str]:
    return [
        "ingest",
        *(str(p) for p in inputs),
        "--archive",
        str(archive),
        "--timezone",
        "UTC",
        "--date-order",
        "dmy",
        "--json",
        *extra,
    ]


def run_child(
    config: dict[str, Any], workdir: Path, *, timeout: float = 120, pass_fds: tuple[int, ...] = ()
) -> Run:
    """Run ``child.py`` with ``config``; cwd and TMPDIR inside ``workdir``."""
    config = {"test_reader": True} | config
    cwd = workdir / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        config_arg(config),
        cwd=cwd,
        env=child_env(workdir / "tmp"),
        capture_output=True,
        text=True,
        timeout=timeout,
        pass_fds=pass_fds,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def start_child(
    config: dict[str, Any], workdir: Path, pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen[str]:
    """Like ``run_child`` but returns the running process (stdout/stderr piped)."""
    config = {"test_reader": True} | config
    cwd = workdir / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        config_arg(config),
        cwd=cwd,
        env=child_env(workdir / "tmp"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=pass_fds,
    )


def hold_lock(
    tmp_path: Path,
    archive: Path,
    inputs: Path,
    wait: float = 60.0,
    at: str = "lock",
    extra: Iterable[str] = (),
) -> tuple[subprocess.Popen[str], int]:
    """Start an ingest that stops right after taking the lock (``at="commit"``: with
    its batch staged, before the commit; ``"end_input"``: its first input read);
    returns it and the fd that lets it go on (write a byte, or close it)."""
    locked_r, locked_w = os.pipe()
    hold_r, hold_w = os.pipe()
    argv = ingest_argv(archive, *rel_inputs(tmp_path, inputs), extra=extra)
    holder = start_child(
        {"argv": argv, "locked_fd": locked_w, "hold_fd": hold_r, "hold_at": at},
        tmp_path,
        pass_fds=(locked_w, hold_r),
    )
    os.close(locked_w)
    os.close(hold_r)
    ready, _, _ = select.select([locked_r], [], [], wait)
    assert ready and os.read(locked_r, 1) == b"L", "the holder never took the lock"
    os.close(locked_r)
    return holder, hold_w


def rel_inputs(workdir: Path, *inputs: Path) -> list[Path]:
    cwd = workdir / "cwd"
    return [p.relative_to(cwd) if p.is_relative_to(cwd) else p for p in inputs]


def ingest(archive: Path, *inputs: Path, workdir: Path, **config: Any) -> Run:
    """``imarchive ingest`` in a child. Inputs under ``workdir/cwd`` are given relative to
    it, so that ``source_path`` is the same in every test's archive."""
    extra = config.pop("extra", ())
    cwd = workdir / "cwd"
    given = [p.relative_to(cwd) if p.is_relative_to(cwd) else p for p in inputs]
    return run_child({"argv": ingest_argv(archive, *given, extra=extra)} | config, workdir)


def inputs_dir(workdir: Path) -> Path:
    return workdir / "cwd" / INPUTS


def leak_dirs(workdir: Path) -> list[Path]:
    """Where a child may write besides the archive: its TMPDIR and its cwd."""
    return [workdir / "tmp", workdir / "cwd"]


# -- the committed state, checked independently of the writer ------------------------------


@dataclass
class State:
    """What a committed archive holds, plus what an interrupted run left."""

    head_seq: int
    head_sha256: str
    records: list[dict[str, Any]]
    committed: dict[str, str]  # path → sha256 of every committed file
    leftovers: set[str] = field(default_factory=set)  # evidence an interrupted run left
    derived_lagging: bool = False  # batch record written, manifest/SUMS not yet

    def record(self, seq: int) -> dict[str, Any]:
        return self.records[seq - 1]


def _derived(root: Path, records: list[tuple[str, str, dict[str, Any]]]) -> tuple[bytes, bytes]:
    """manifest.json and SHA256SUMS as they must be for these batch records."""
    from imarchive.archive import layout as L
    from imarchive.archive.store import BatchInfo, build_manifest, sums_text

    identity_bytes = (root / L.ARCHIVE_JSON).read_bytes()
    infos = [BatchInfo(r["seq"], rel, sha, r) for rel, sha, r in records]
    manifest = L.dumps(
        build_manifest(json.loads(identity_bytes), sha256_bytes(identity_bytes), infos)
    )
    entries = [
        (L.ARCHIVE_JSON, sha256_bytes(identity_bytes)),
        (L.MANIFEST_JSON, sha256_bytes(manifest)),
    ]
    for info in infos:
        entries.append((info.rel, info.sha256))
        entries.extend((f.path, f.sha256) for f in info.files)
    return manifest, sums_text(entries)


def check_committed(root: Path, *, allow_leftovers: bool = True) -> State:
    """Assert that ``root`` is at a committed state and return it.

    Committed means: batch records 1..N without a gap; each ``prev_sha256`` is the sha256
    of the previous record file (batch 1: of ``archive.json``); every file a record names
    exists with its sha256 and size, read-only and without world access; manifest.json
    and SHA256SUMS are those the records call for (or, after a crash between the record
    and them, those of the previous state: the next ingest rolls them forward); every
    other file is a recognisable leftover — a temp file, a file under
    ``_archive/txn/<batch>/``, or a file the intent of an uncommitted batch names."""
    meta = root / "_archive"
    identity = meta / "archive.json"
    assert identity.is_file(), f"{root}: no archive.json"
    names = sorted(os.listdir(meta / "batches"))
    seqs = []
    for name in names:
        m = BATCH_NAME.match(name)
        if m:
            seqs.append(int(m.group(1)))
        else:  # a record's temp file is a leftover (found below); nothing else may be here
            assert TEMP_NAME.match(name), f"unexpected file in _archive/batches: {name}"
    assert seqs == list(range(1, len(seqs) + 1)), f"batch sequence has a gap: {seqs}"
    prev = sha256_path(identity)
    records: list[tuple[str, str, dict[str, Any]]] = []
    committed: dict[str, str] = {
        "_archive/archive.json": prev,
    }
    for seq in seqs:
        rel = f"_archive/batches/{seq:08d}.json"
        data = (root / rel).read_bytes()
        record = json.loads(data)
        assert record["seq"] == seq
        assert record["prev_sha256"] == prev, f"chain broken at batch {seq}"
        prev = sha256_bytes(data)
        records.append((rel, prev, record))
        committed[rel] = prev
        for f in [*record["files"], *record.get("set_aside", [])]:
            path = root / f["path"]
            assert path.is_file() and not path.is_symlink(), f"committed file missing: {f['path']}"
            st = path.stat()
            assert st.st_size == f["size"], f"size differs: {f['path']}"
            assert sha256_path(path) == f["sha256"], f"sha256 differs: {f['path']}"
            mode = stat.S_IMODE(st.st_mode)
            assert mode & 0o222 == 0, f"committed file is writable ({oct(mode)}): {f['path']}"
            assert mode & 0o007 == 0, f"committed file has world access ({oct(mode)}): {f['path']}"
            committed[f["path"]] = f["sha256"]
    manifest = (meta / "manifest.json").read_bytes()
    sums = (root / "SHA256SUMS").read_bytes()
    now_manifest, now_sums = _derived(root, records)
    lagging = False
    if (manifest, sums) != (now_manifest, now_sums):
        assert records, "manifest/SHA256SUMS differ from the empty archive's"
        old_manifest, old_sums = _derived(root, records[:-1])
        # crash after the batch record: neither derived file rewritten, or only the manifest
        assert (manifest, sums) in ((old_manifest, old_sums), (now_manifest, old_sums)), (
            "manifest.json / SHA256SUMS match neither the committed state nor the one before"
        )
        lagging = True
    committed["_archive/manifest.json"] = sha256_bytes(manifest)
    committed["SHA256SUMS"] = sha256_bytes(sums)
    committed_ids = {r["batch_id"] for _, _, r in records}
    intended: set[str] = set()
    finished: set[str] = set()  # txn folders of committed batches: rolled forward, not evidence
    txn = meta / "txn"
    for d in sorted(txn.iterdir()) if txn.is_dir() else []:
        if not d.is_dir() or d.name.startswith("."):
            continue
        try:
            intent = json.loads((d / "intent.json").read_bytes())
        except (OSError, ValueError):
            continue
        if intent.get("batch_id") in committed_ids:
            finished.add(d.name)
        else:
            intended |= {e["path"] for e in intent.get("publish", [])}
    leftovers: set[str] = set()
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if rel in committed or rel.startswith("_archive/lock/"):
                continue
            if rel.startswith("_archive/txn/"):
                parts = rel.split("/")
                if len(parts) > 3 and len(parts[2]) == 32 and parts[2] not in finished:
                    leftovers.add(rel)
                continue  # lock-breaks.json, private lock folders: not content
            if rel in intended or TEMP_NAME.match(name):
                leftovers.add(rel)
                continue
            raise AssertionError(f"unexpected file in the archive: {rel}")
    assert allow_leftovers or not leftovers, f"leftovers remain: {sorted(leftovers)}"
    last = records[-1][2] if records else None
    return State(
        last["seq"] if last else 0,
        prev,
        [r for _, _, r in records],
        committed,
        leftovers,
        lagging,
    )


def check_clean(root: Path) -> State:
    """A committed state with nothing left over, derived files current, and SHA256SUMS
    passing ``sha256sum -c --strict`` (the stock tool) — plus ``verify`` once it exists."""
    state = check_committed(root, allow_leftovers=False)
    assert not state.derived_lagging, "manifest.json / SHA256SUMS lag behind the batch records"
    proc = subprocess.run(
        ["sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verify_report(root, expect_ok=True)
    return state


def verify_report(root: Path, *, expect_ok: bool) -> Any:
    """Run ``imarchive.verify`` when it exists; errors fail, leftovers are warnings."""
    try:
        from imarchive.verify import verify
    except ImportError:
        return None
    rep = verify(root, level="default", expect_head=None, strict=False)
    errors = [p for p in rep.problems if getattr(p, "severity", "error") == "error"]
    if expect_ok:
        assert rep.ok and not errors, f"verify: {errors}"
    return rep


def assert_leftovers_reported(root: Path, state: State) -> None:
    """``verify`` names every leftover as a warning (not hidden, not an error), and
    ``--strict`` fails on them; an interrupted commit is reported too."""
    try:
        from imarchive.verify import verify
    except ImportError:
        return
    rep = verify(root, level="default", expect_head=None, strict=True)
    errors = [p for p in rep.problems if p.severity == "error"]
    assert not errors, f"verify: {errors}"
    warned = {p.path for p in rep.problems if p.severity == "warning"}
    unreported = {p for p in state.leftovers if not p.endswith("/intent.json")} - warned
    assert not unreported, f"leftovers verify does not report: {sorted(unreported)}"
    if state.leftovers or state.derived_lagging:
        assert warned and not rep.ok, "verify --strict passes despite leftovers"


def chain_ok(state: State, root: Path) -> None:
    prev = sha256_path(root / "_archive" / "archive.json")
    for seq, r in enumerate(state.records, 1):
        assert r["seq"] == seq and r["prev_sha256"] == prev
        prev = sha256_path(root / f"_archive/batches/{seq:08d}.json")
    assert prev == state.head_sha256


def rows(root: Path) -> pa.Table:
    """Every committed row (files named by the manifest), without batch_seq and
    ingested_at, ordered by message_id."""
    manifest = json.loads((root / "_archive" / "manifest.json").read_bytes())
    tables = [pq.read_table(root / f["path"]) for f in manifest["files"] if f["kind"] == "messages"]
    if not tables:
        return pa.table({})
    table = pa.concat_tables(tables).drop_columns(list(IGNORED_COLUMNS))
    ids = table.column("message_id").to_pylist()
    assert len(ids) == len(set(ids)), "a message_id occurs twice"
    return table.sort_by("message_id")


def message_ids(root: Path) -> set[str]:
    t = rows(root)
    return set(t.column("message_id").to_pylist()) if t.num_columns else set()


def assert_same_rows(a: pa.Table, b: pa.Table) -> None:
    assert a.num_rows == b.num_rows, f"{a.num_rows} rows != {b.num_rows}"
    differ = [c for c in a.column_names if not a.column(c).equals(b.column(c))]
    assert not differ and a.schema == b.schema, f"same number of rows, columns differ: {differ}"


# -- privacy ------------------------------------------------------------------------------


def assert_no_canary(*texts: str, dirs: Iterable[Path] = ()) -> None:
    """The canary body appears in none of ``texts`` and in no file below ``dirs``
    (except the inputs, kept in ``INPUTS`` folders)."""
    needle = CANARY.encode()
    for text in texts:
        assert CANARY not in text, "a message body leaked into the output"
    for d in dirs:
        for dirpath, dirs_, files in os.walk(d):
            dirs_[:] = [x for x in dirs_ if x != INPUTS]
            for name in files:
                path = Path(dirpath, name)
                if path.is_symlink() or not path.is_file():
                    continue
                assert needle not in path.read_bytes(), f"a message body leaked into {path}"


def one_line_error(stderr: str, name: str) -> str:
    """The single ``error:`` line that names ``name``; no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if name in ln]
    assert lines, f"no line names {name}: {stderr!r}"
    return lines[0]
