"""The pure-Python page decryption agrees with SQLCipher (``sqlcipher3``) for every profile."""

from __future__ import annotations

import base64
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from imarchive.errors import SourceError
from imarchive.sources.wechat import sqlcipher
from tests.wechat import layouts
from tests.wechat.dbspec import DbSpec, run_tool, write_encrypted

PROFILES = {
    "windows-3.x": (sqlcipher.WIN3, layouts.PC_KEY),
    "wechat-4.x": (sqlcipher.V4, layouts.PC_KEY),
    "android": (sqlcipher.ANDROID, layouts.ANDROID_KEY),
    "macos-3.x": (sqlcipher.MAC3, layouts.PC_KEY),
}


def spec() -> DbSpec:
    rng = random.Random(7)
    s = DbSpec(
        [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, txt TEXT, blob BLOB)",
            "CREATE INDEX t_txt ON t(txt)",
        ]
    )
    for i in range(400):  # enough rows for dozens of pages, interior and overflow pages
        size = 3000 if i % 50 == 0 else 120
        s.add("t", id=i, txt=f"row {i} {rng.random()}", blob=rng.randbytes(size))
    for i in range(400, 440):
        s.add("t", wal=True, id=i, txt=f"wal {i}", blob=rng.randbytes(200))
    return s


@pytest.fixture(scope="module", params=sorted(PROFILES))
def encrypted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    name = str(request.param)
    out = tmp_path_factory.mktemp(name) / "enc.db"
    write_encrypted(spec(), out, name, PROFILES[name][1])
    return name, out


def sqlcipher_rows(name: str, path: Path, tmp: Path) -> list[list[object]]:
    copy = tmp / "copy.db"  # SQLCipher may checkpoint its WAL on close: read a copy
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
    job = {"path": str(copy), "profile": layouts_profile(name), "key": PROFILES[name][1]}
    dumped = run_tool("dump", job)
    assert isinstance(dumped, dict)
    rows: list[list[object]] = []
    for row in dumped["t"]:
        rows.append([base64.b64decode(c["b64"]) if isinstance(c, dict) else c for c in row])
    return rows


def layouts_profile(name: str) -> list[object]:
    from tests.wechat.dbspec import PROFILES as TOOL_PROFILES

    return list(TOOL_PROFILES[name])


def decrypt(name: str, path: Path, out: Path) -> None:
    profile, key = PROFILES[name]
    _, dec = sqlcipher.find_key(path, path.name, (key,), profile)
    sqlcipher.decrypt_file(path, Path(f"{path}-wal"), out, dec, path.name)


def test_agrees_with_sqlcipher(encrypted: tuple[str, Path], tmp_path: Path) -> None:
    name, path = encrypted
    profile = PROFILES[name][0]
    assert path.stat().st_size % profile.page_size == 0
    assert Path(f"{path}-wal").stat().st_size > 0
    out = tmp_path / "plain.db"
    decrypt(name, path, out)  # checks the HMAC of every page, main file and WAL frames
    with sqlite3.connect(f"file:{out}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        mine = [list(r) for r in conn.execute("SELECT * FROM t ORDER BY rowid")]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    assert page_size == profile.page_size
    assert len(mine) == 440
    assert mine == sqlcipher_rows(name, path, tmp_path)


def test_damaged_page_is_named(encrypted: tuple[str, Path], tmp_path: Path) -> None:
    name, path = encrypted
    profile, key = PROFILES[name]
    if profile.hmac_hash is None:
        pytest.skip("SQLCipher 1 pages carry no HMAC")
    bad = tmp_path / "bad.db"
    data = bytearray(path.read_bytes())
    data[2 * profile.page_size + 100] ^= 0x01  # a byte inside page 3
    bad.write_bytes(bytes(data))
    _, dec = sqlcipher.find_key(bad, "bad.db", (key,), profile)
    with pytest.raises(SourceError, match="HMAC fails on page 3"):
        sqlcipher.decrypt_file(bad, None, tmp_path / "out.db", dec, "bad.db")


def test_wrong_key(encrypted: tuple[str, Path]) -> None:
    name, path = encrypted
    profile, key = PROFILES[name]
    wrong = "0" * len(key)
    with pytest.raises(SourceError, match=r"cannot decrypt enc\.db: no key matches"):
        sqlcipher.find_key(path, "enc.db", (wrong,), profile)


def test_key_fingerprint_is_not_the_key() -> None:
    fp = sqlcipher.key_fingerprint(layouts.PC_KEY)
    assert len(fp) == 8 and fp not in layouts.PC_KEY
