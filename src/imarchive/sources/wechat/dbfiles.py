"""Opening the staged copy of one WeChat database: plain or encrypted, with its WAL.

The staged copy is opened read-only and ``immutable`` (SQLite then creates no -shm or
journal beside it). A WAL or an encrypted file is turned into a plain temporary copy that
is deleted when the reader finishes; originals are never written.
"""

from __future__ import annotations

import errno
import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from imarchive import tempdirs
from imarchive.errors import SourceError
from imarchive.sources.base import ReadContext, SourceRef
from imarchive.sources.wechat import sqlcipher, wal

# Writing a plain copy in TMPDIR fails so when TMPDIR is full, read-only or not ours.
TEMP_WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)


def connect_ro(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1",
        uri=True,
        check_same_thread=check_same_thread,
    )
    conn.execute("PRAGMA query_only = 1")
    return conn


def sidecar(db: Path, suffix: str) -> Path:
    return db.with_name(db.name + suffix)


def with_sidecars(files: list[Path]) -> list[Path]:
    """The databases followed by their -wal and -shm files where present."""
    out: list[Path] = []
    for db in files:
        out.append(db)
        out.extend(s for s in (sidecar(db, "-wal"), sidecar(db, "-shm")) if s.is_file())
    return out


def _check_size(path: Path, name: str) -> None:
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100:
        raise SourceError(f"{name}: truncated SQLite file ({len(head)} bytes)")
    raw = int.from_bytes(head[16:18], "big")
    page_size = 65536 if raw == 1 else raw
    pages = int.from_bytes(head[28:32], "big")
    # The in-header page count is only trustworthy when "version-valid-for" matches.
    if pages and head[24:28] == head[92:96]:
        actual = path.stat().st_size
        if actual < pages * page_size:
            raise SourceError(
                f"{name}: truncated SQLite file ({actual // page_size} of {pages} pages)"
            )


class Databases:
    """Opens the databases of one input; removes the temporary copies on close."""

    def __init__(self, ctx: ReadContext, profile: sqlcipher.Profile | None) -> None:
        self.ctx = ctx
        self.profile = profile
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._conns: list[sqlite3.Connection] = []
        self._n = 0

    def __enter__(self) -> Databases:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
        self._conns.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _tmp_root(self) -> str:
        return self._tmp.name if self._tmp is not None else tempfile.gettempdir()

    def _tmp_path(self, name: str) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=tempdirs.prefix("wechat"))
        self._n += 1
        return Path(self._tmp.name) / f"{self._n:04d}-{Path(name).name}"

    def open(
        self, db: Path, name: str, wal_file: Path | None = None
    ) -> tuple[sqlite3.Connection, SourceRef]:
        """A read-only connection to the plain content of ``db`` (its staged copy).
        ``wal_file`` defaults to the ``-wal`` beside ``db`` (iTunes backups store it
        under its own hashed name)."""
        ref = self.ctx.source(db)
        if wal_file is None:
            wal_file = sidecar(db, "-wal")
        wal_ref = self.ctx.source(wal_file) if wal_file.is_file() else None
        staged = ref.staged
        if staged.stat().st_size == 0:
            raise SourceError(f"{name}: empty file")
        has_wal = wal_ref is not None and wal_ref.size > 0
        try:
            if sqlcipher.is_plain_sqlite(staged):
                _check_size(staged, name)
                path = staged
                if has_wal and wal_ref is not None:
                    path = self._tmp_path(name)
                    wal.merge_plain(staged, wal_ref.staged, path)
            else:
                path = self._decrypt(staged, wal_ref.staged if has_wal and wal_ref else None, name)
        except OSError as exc:
            # shutil names the file copied from first and the copy second (filename2)
            names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
            ours = not names or any(n.startswith(self._tmp_root()) for n in names)
            if not ours or exc.errno not in TEMP_WRITE_ERRNOS:
                raise  # not the temporary copy: the input's or the archive's own error
            # the temporary copy has no room (or no place): this input only, not the run
            raise SourceError(
                f"{name}: cannot write its plain copy in {tempfile.gettempdir()} "
                f"({exc.strerror or exc}; set TMPDIR to a folder with more space)"
            ) from None
        try:
            conn = connect_ro(path)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as err:
            raise SourceError(f"{name}: not a readable SQLite database ({err})") from None
        except UnicodeDecodeError:  # SQLite's message quotes a damaged schema's bytes
            raise SourceError(f"{name}: not a readable SQLite database (damaged schema)") from None
        self._conns.append(conn)
        return conn, ref

    def _decrypt(self, staged: Path, wal_staged: Path | None, name: str) -> Path:
        if self.profile is None:
            raise SourceError(f"{name}: not a SQLite database (no 'SQLite format 3' header)")
        key, dec = sqlcipher.find_key(staged, name, self.ctx.options.keys, self.profile)
        fps = self.ctx.report.facts.setdefault("key_fingerprints", {})
        if isinstance(fps, dict):
            fps[name] = sqlcipher.key_fingerprint(key)
        path = self._tmp_path(name)
        sqlcipher.decrypt_file(staged, wal_staged, path, dec, name)
        return path


def skipped_empty(db: Path, name: str, ctx: ReadContext, wal_file: Path | None = None) -> bool:
    """A 0-byte message database without a WAL holding pages (SQLite reads it as a
    database with no tables): no messages; a warning says it was skipped."""
    log = wal_file if wal_file is not None else sidecar(db, "-wal")
    if db.stat().st_size or (log.is_file() and log.stat().st_size):
        return False
    ctx.report.warn(name, "empty_database", "0-byte database file: no messages in it")
    return True


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [str(r[0]) for r in rows]


def require_tables(conn: sqlite3.Connection, name: str, needed: tuple[str, ...]) -> None:
    have = tables(conn)
    missing = [t for t in needed if t not in have]
    if missing:
        listed = ", ".join(have[:20]) + (", …" if len(have) > 20 else "") if have else "none"
        raise SourceError(
            f"{name}: unknown database layout (no table {', '.join(missing)}; tables: {listed})"
        )


def columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(name, declared type) of each column."""
    rows = conn.execute(f'PRAGMA table_info("{table}")')
    return [(str(r[1]), str(r[2] or "").upper()) for r in rows]
