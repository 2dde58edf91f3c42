"""Runs SQLCipher (the ``sqlcipher3`` package) for the tests, one job per process:
its cipher defaults are process-wide. ``encrypt`` builds an encrypted database (and an
encrypted WAL holding the delta rows); ``dump`` reads every table of an encrypted file."""

from __future__ import annotations

import base64
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlcipher3


def _setup(conn: Any, profile: list[Any], key: str) -> None:
    compat, page_size, how = profile
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA cipher_default_compatibility = {int(compat)}")
    conn.execute(f"PRAGMA cipher_default_page_size = {int(page_size)}")
    if how == "hexkey":
        conn.execute(f"PRAGMA hexkey = '{key}'")
    elif how == "rawkey":
        conn.execute(f"PRAGMA key = \"x'{key}'\"")
    else:
        conn.execute("PRAGMA key = '" + key.replace("'", "''") + "'")


def _tables(conn: Any, schema: str) -> list[str]:
    rows = conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type='table'")
    return sorted(str(r[0]) for r in rows if not str(r[0]).startswith("sqlite_"))


def encrypt(job: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "enc.db"
        conn = sqlcipher3.connect(str(work), isolation_level=None)
        _setup(conn, job["profile"], job["key"])
        conn.execute("ATTACH DATABASE ? AS plain KEY ''", (job["base"],))
        conn.execute("SELECT sqlcipher_export('main', 'plain')")
        conn.execute("DETACH DATABASE plain")
        out = job["out"]
        if job["delta"]:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            conn.execute("ATTACH DATABASE ? AS delta KEY ''", (job["delta"],))
            conn.execute("BEGIN")
            for table in _tables(conn, "delta"):
                conn.execute(f'INSERT INTO main."{table}" SELECT * FROM delta."{table}"')
            conn.execute("COMMIT")
            # Copy while open: closing the last connection would checkpoint the WAL.
            for suffix in ("-wal", "-shm"):
                shutil.copyfile(f"{work}{suffix}", f"{out}{suffix}")
        shutil.copyfile(work, out)
        conn.close()
    print("null")


def _cell(v: Any) -> Any:
    return {"b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v


def dump(job: dict[str, Any]) -> None:
    conn = sqlcipher3.connect(job["path"])
    _setup(conn, job["profile"], job["key"])
    out = {}
    for table in _tables(conn, "main"):
        rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        out[table] = [[_cell(v) for v in row] for row in rows]
    conn.close()
    print(json.dumps(out))


if __name__ == "__main__":
    job = json.loads(sys.stdin.read())
    {"encrypt": encrypt, "dump": dump}[sys.argv[1]](job)
