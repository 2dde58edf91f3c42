"""Fixture databases as data: schema, rows in the main file, rows only in the WAL.

Plain files are written with stdlib ``sqlite3``; encrypted ones by ``cipher_tool`` in a
subprocess, because SQLCipher's cipher defaults are process-wide.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

Value = int | str | bytes | None


@dataclass
class Invalid:
    """Text that is not valid UTF-8, stored with TEXT storage class (as WeChat does)."""

    data: bytes


@dataclass
class DbSpec:
    schema: list[str]
    rows: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    wal_rows: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def add(self, table: str, wal: bool = False, **values: object) -> None:
        (self.wal_rows if wal else self.rows).append((table, values))


def _insert(conn: sqlite3.Connection, rows: list[tuple[str, dict[str, object]]]) -> None:
    for table, values in rows:
        cols = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join(
            "CAST(? AS TEXT)" if isinstance(v, Invalid) else "?" for v in values.values()
        )
        params = [v.data if isinstance(v, Invalid) else v for v in values.values()]
        conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', params)


def write_plain_parts(spec: DbSpec, base: Path, delta: Path | None) -> None:
    with sqlite3.connect(base) as conn:
        for stmt in spec.schema:
            conn.execute(stmt)
        _insert(conn, spec.rows)
    conn.close()
    if delta is not None:
        with sqlite3.connect(delta) as conn:
            for stmt in spec.schema:
                conn.execute(stmt)
            _insert(conn, spec.wal_rows)
        conn.close()


def write_plain(spec: DbSpec, out: Path) -> None:
    """The main file plus, when there are WAL rows, a ``-wal`` that alone holds them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "db.sqlite"
        conn = sqlite3.connect(work, isolation_level=None)
        for stmt in spec.schema:
            conn.execute(stmt)
        conn.execute("BEGIN")
        _insert(conn, spec.rows)
        conn.execute("COMMIT")
        if spec.wal_rows:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("BEGIN")
            _insert(conn, spec.wal_rows)
            conn.execute("COMMIT")
            # Copy while the connection is open: closing would checkpoint the WAL away.
            for suffix in ("-wal", "-shm"):
                shutil.copyfile(f"{work}{suffix}", f"{out}{suffix}")
        shutil.copyfile(work, out)
        conn.close()


# name: (cipher_default_compatibility, page size, how the key is given)
PROFILES = {
    "windows-3.x": (3, 4096, "hexkey"),
    "wechat-4.x": (4, 4096, "hexkey"),
    "android": (1, 1024, "passphrase"),
    "macos-3.x": (3, 1024, "rawkey"),
}


def write_encrypted(spec: DbSpec, out: Path, profile: str, key: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        delta = Path(tmp) / "delta.db" if spec.wal_rows else None
        write_plain_parts(spec, base, delta)
        job = {
            "base": str(base),
            "delta": str(delta) if delta else None,
            "out": str(out),
            "profile": PROFILES[profile],
            "key": key,
        }
        run_tool("encrypt", job)


def run_tool(command: str, job: Mapping[str, object]) -> object:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.wechat.cipher_tool", command],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cipher_tool {command} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout or "null")
