"""Build a real archive with the ingest pipeline, and tamper with it the ways an
attacker (or a failing disk) would, for the verify tests."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imarchive.archive import layout as L
from imarchive.archive.store import Archive, iso, refresh_derived
from imarchive.archive.writer import parquet_writer
from imarchive.ingest import IngestOptions, IngestResult, ingest
from imarchive.sources.base import ReadOptions

MARCH = "messages/platform=whatsapp/year=2024/month=03"
APRIL = "messages/platform=whatsapp/year=2024/month=04"
MAY = "messages/platform=whatsapp/year=2024/month=05"


def whatsapp_zip(path: Path) -> Path:
    """An Android export with media: 44 messages over March and April, two images
    of the same size (so that two files can be swapped)."""
    lines = [
        "14/03/2024, 08:59 - Messages and calls are end-to-end encrypted. No one outside of "
        "this chat, not even WhatsApp, can read or listen to them. Tap to learn more."
    ]
    for k in range(40):
        day, month = (14, 3) if k < 20 else (2, 4)
        author = "Alice" if k % 2 else "Bob"
        lines.append(f"{day:02d}/{month:02d}/2024, {9 + k // 60:02d}:{k % 60:02d} - {author}: m{k}")
    lines.append("02/04/2024, 10:00 - Alice: IMG-20240402-WA0001.jpg (file attached)")
    lines.append("02/04/2024, 10:01 - Bob: IMG-20240402-WA0002.jpg (file attached)")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("WhatsApp Chat with Alice.txt", "\n".join(lines) + "\n")
        z.writestr("IMG-20240402-WA0001.jpg", b"\xff\xd8image-one" * 100)
        z.writestr("IMG-20240402-WA0002.jpg", b"\xff\xd8image-two" * 100)
    return path


def whatsapp_txt(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_ingest(archive: Path, *inputs: Path) -> IngestResult:
    opts = IngestOptions(tuple(inputs), archive, ReadOptions(timezone="UTC"))
    return ingest(opts)


def build_archive(root: Path, work: Path) -> Path:
    """Two batches: batch 1 = a zip with media (March, April parts, 2 attachments,
    1 source); batch 2 = a text export (a May part, 1 source)."""
    work.mkdir(parents=True, exist_ok=True)
    r1 = run_ingest(root, whatsapp_zip(work / "WhatsApp Chat with Alice.zip"))
    assert r1.batch_seq == 1, r1.to_json()
    second = whatsapp_txt(
        work / "WhatsApp Chat with Carol.txt",
        ["02/05/2024, 10:00 - Carol: later one", "02/05/2024, 10:01 - Dave: later two"],
    )
    r2 = run_ingest(root, second)
    assert r2.batch_seq == 2, r2.to_json()
    return root


# -- looking ---------------------------------------------------------------------------


def records(root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_bytes()) for p in sorted((root / L.BATCHES).glob("*.json"))]


def record_sha(root: Path, seq: int) -> str:
    return hashlib.sha256((root / L.batch_path(seq)).read_bytes()).hexdigest()


def files_of(root: Path, kind: str, seq: int | None = None) -> list[str]:
    out = []
    for rec in records(root):
        if seq is None or rec["seq"] == seq:
            out += [f["path"] for f in rec["files"] if f["kind"] == kind]
    return sorted(out)


def part(root: Path, folder: str) -> str:
    (name,) = [p.name for p in (root / folder).iterdir()]
    return f"{folder}/{name}"


NOATIME = getattr(os, "O_NOATIME", 0)


def age_atimes(root: Path) -> None:
    """Set every access time before its mtime, so that on a ``relatime`` mount any
    read (a file's contents, a folder's listing) would move it."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            os.utime(p, ns=(1_000_000_000, st.st_mtime_ns), follow_symlinks=False)
    os.utime(root, ns=(1_000_000_000, root.stat().st_mtime_ns))


def _list(path: Path) -> list[str]:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | NOATIME)
    try:
        return sorted(os.listdir(fd))
    finally:
        os.close(fd)


def _digest(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY | NOATIME)
    with os.fdopen(fd, "rb") as fh:
        return int.from_bytes(hashlib.sha256(fh.read()).digest()[:8], "big")


def snapshot(root: Path) -> dict[str, tuple[int, ...]]:
    """Every entry's full lstat (times in ns, atime included) and every file's hash,
    read without moving access times (``O_NOATIME``: we own the files)."""
    out: dict[str, tuple[int, ...]] = {}
    todo = [root]
    while todo:
        d = todo.pop()
        names = _list(d)
        for name in names:
            p = d / name
            st = p.lstat()
            digest = _digest(p) if stat.S_ISREG(st.st_mode) else 0
            out[p.relative_to(root).as_posix()] = (
                st.st_mode, st.st_size, st.st_ino, st.st_nlink, st.st_uid,
                st.st_mtime_ns, st.st_ctime_ns, st.st_atime_ns, digest,
            )  # fmt: skip
            if stat.S_ISDIR(st.st_mode):
                todo.append(p)
    st = root.lstat()
    out["."] = (st.st_mode, st.st_mtime_ns, st.st_ctime_ns, st.st_atime_ns)
    return out


# -- tampering -------------------------------------------------------------------------


def writable(path: Path) -> Path:
    if path.exists() and not path.is_symlink():
        path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)
    return path


def flip_byte(path: Path, where: str = "middle") -> None:
    data = bytearray(path.read_bytes())
    i = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[i] ^= 0x01
    writable(path).write_bytes(bytes(data))


def truncate(path: Path, keep: int | None = None) -> None:
    size = path.stat().st_size
    with open(writable(path), "r+b") as fh:
        fh.truncate(size // 2 if keep is None else keep)


def zero(path: Path) -> None:
    writable(path).write_bytes(b"\0" * path.stat().st_size)


def swap(a: Path, b: Path) -> None:
    da, db = a.read_bytes(), b.read_bytes()
    writable(a).write_bytes(db)
    writable(b).write_bytes(da)


def fix_derived(root: Path) -> None:
    """What an attacker does after an edit: recompute manifest.json and SHA256SUMS."""
    refresh_derived(Archive.open(root))


def rewrite_record(root: Path, seq: int, edit: Callable[[dict[str, Any]], None]) -> None:
    path = root / L.batch_path(seq)
    rec = json.loads(path.read_bytes())
    edit(rec)
    writable(path).write_bytes(L.dumps(rec))


def relink_chain(root: Path, start: int = 2) -> None:
    """Recompute prev_sha256 of batch ``start`` and later, as a forger would."""
    n = len(records(root))
    for seq in range(start, n + 1):
        prev = (root / (L.ARCHIVE_JSON if seq == 1 else L.batch_path(seq - 1))).read_bytes()
        rewrite_record(root, seq, _set("prev_sha256", hashlib.sha256(prev).hexdigest()))


def _set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(rec: dict[str, Any]) -> None:
        rec[key] = value

    return edit


def reseal(root: Path, rel: str) -> None:
    """After changing a committed file: make its record entry, the chain, the
    manifest and SHA256SUMS agree with it again (a forger's full cover-up)."""
    data = (root / rel).read_bytes()
    seq = next(r["seq"] for r in records(root) if rel in {f["path"] for f in r["files"]})

    def edit(rec: dict[str, Any]) -> None:
        for f in rec["files"]:
            if f["path"] == rel:
                f["sha256"], f["size"] = hashlib.sha256(data).hexdigest(), len(data)

    rewrite_record(root, seq, edit)
    relink_chain(root, seq + 1)
    fix_derived(root)


def forge_part(root: Path, rel: str, change: Callable[[pa.Table], pa.Table]) -> None:
    """Rewrite a Parquet part with changed rows and make every checksum agree: the
    batch record's entry, the chain after it, the manifest and SHA256SUMS. Only the
    row-level (deep) checks and --expect-head can tell."""
    path = root / rel
    table = change(pq.read_table(path))
    writable(path).unlink()
    with parquet_writer(path) as w:
        w.write_table(table)
    data = path.read_bytes()
    seq = int(L.PART_NAME.match(path.name).group(1))  # type: ignore[union-attr]

    def edit(rec: dict[str, Any]) -> None:
        for f in rec["files"]:
            if f["path"] == rel:
                f["sha256"] = hashlib.sha256(data).hexdigest()
                f["size"] = len(data)
                f["rows"] = table.num_rows
                lo, hi = pc.min_max(table.column("sent_at")).values()
                f["min_sent_at"], f["max_sent_at"] = iso(lo.as_py()), iso(hi.as_py())

    rewrite_record(root, seq, edit)
    relink_chain(root, seq + 1)
    fix_derived(root)


def copy_archive(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest, symlinks=True)
    return dest


def make_tree_writable(root: Path) -> None:
    for dirpath, _dirs, _files in os.walk(root):
        Path(dirpath).chmod(0o755)
