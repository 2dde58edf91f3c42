"""Contract tests over the WeChat readers: score range, garbage raises only SourceError,
originals untouched, every row a message or a rejection."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imarchive.archive import layout as L
from imarchive.errors import SourceError
from imarchive.ingest import IngestOptions, _Context, ingest
from imarchive.sources import wechat
from imarchive.sources.base import Reader, ReadOptions
from imarchive.verify import LEVELS, verify
from tests.core.helpers import ingest as ingest_cli
from tests.core.helpers import ingest_json, read_rows
from tests.support import candidate_for
from tests.wechat import layouts
from tests.wechat.rows import read_all

KEYS = ReadOptions(timezone="UTC", keys=(layouts.PC_KEY, layouts.ANDROID_KEY))
READERS = {r.name: r for r in wechat.READERS}
FIXTURES = [
    ("wechat-pc3", "pc3_plain"),
    ("wechat-pc3", "pc3_encrypted"),
    ("wechat-pc4", "pc4_plain"),
    ("wechat-pc4", "pc4_encrypted"),
    ("wechat-ios", "ios_tree"),
    ("wechat-ios", "ios_backup"),
    ("wechat-ios", "ios_encrypted"),
    ("wechat-android", "android_plain"),
    ("wechat-android", "android_encrypted"),
]


def test_every_layout_and_export_has_a_reader() -> None:
    assert set(READERS) == {
        "wechat-pc3",
        "wechat-pc4",
        "wechat-ios",
        "wechat-android",
        "wechat-memotrace-csv",
        "wechat-pywxdump-csv",
        "wechat-exporter-txt",
    }
    for reader in READERS.values():
        assert reader.platform == "wechat" and reader.description


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files
    }


@pytest.mark.parametrize(("reader", "fixture"), FIXTURES)
def test_detected_and_originals_unchanged(
    reader: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    root: Path = request.getfixturevalue(fixture)
    scope = root.parent if root.is_file() else root
    before = snapshot(scope)
    cand = candidate_for(root)
    scores = {name: r.score(cand) for name, r in READERS.items()}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    assert max(scores, key=lambda n: scores[n]) == reader
    messages, ctx = read_all(READERS[reader], root, KEYS)
    assert messages and not ctx.report.rejected
    assert snapshot(scope) == before
    assert not list(scope.rglob("*-journal"))
    for path in READERS[reader].source_files(cand):
        assert path.is_file()


@pytest.mark.parametrize(("reader", "fixture"), FIXTURES)
def test_every_source_file_is_kept_and_a_rerun_skips_the_input(
    reader: str, fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Each file listed as a source of the input (the -shm too) is in sources/, byte for
    byte, so that the next run over the same dump recognises it and reads nothing."""
    root: Path = request.getfixturevalue(fixture)
    keys = tmp_path / "keys"
    keys.write_text(f"{layouts.PC_KEY}\n{layouts.ANDROID_KEY}\n")
    archive = tmp_path / "archive"
    first = ingest_json(archive, root, extra=["--key-file", str(keys)])
    ((entry,),) = (first["inputs"],)
    assert (entry["format"], entry["status"]) == (reader, "ingested")
    for source in entry["sources"]:
        kept = archive / L.content_path("sources", source["sha256"])
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == source["sha256"], source["path"]
    second = ingest_json(archive, root, extra=["--key-file", str(keys)])
    assert [i["status"] for i in second["inputs"]] == ["already_ingested"]
    assert second["batch_seq"] is None


def test_verify_warns_of_a_listed_source_not_kept(
    pc3_plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive whose batch record lists a source file that sources/ lacks (as ingest
    left the -shm out before) passes verify with a warning naming it."""
    monkeypatch.setattr(_Context, "stage_the_rest", lambda self: None)
    archive = tmp_path / "archive"
    ingest(IngestOptions((pc3_plain,), archive, ReadOptions(timezone="UTC")))
    for level in LEVELS:
        report = verify(archive, level)
        assert report.ok, level
        found = [(p.code, p.severity, p.found) for p in report.problems]
        assert found == [("source_not_kept", "warning", f"{pc3_plain}/Msg/Multi/MSG1.db-shm")], (
            level
        )
        assert not verify(archive, level, strict=True).ok


@pytest.mark.parametrize(
    ("fixture", "empty"),
    [
        ("pc3_plain", "Msg/Multi/MSG7.db"),
        ("pc4_plain", "db_storage/message/message_7.db"),
        ("ios_tree", "Documents/*/DB/message_7.sqlite"),
    ],
)
def test_an_empty_message_database_is_skipped_with_a_warning(
    fixture: str, empty: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A 0-byte shard beside good ones (SQLite reads it as a database without tables):
    the account is still read whole, with a warning naming the empty file."""
    root: Path = request.getfixturevalue(fixture)
    reader = READERS[
        {"pc3_plain": "wechat-pc3", "pc4_plain": "wechat-pc4"}.get(fixture, "wechat-ios")
    ]
    expected, _ = read_all(reader, root, KEYS)
    copy = tmp_path / root.name  # the account comes from the folder's name
    shutil.copytree(root, copy, symlinks=True)
    folder, name = empty.rsplit("/", 1)
    (target,) = [p for p in copy.glob(folder) if p.is_dir()]
    (target / name).write_bytes(b"")
    messages, ctx = read_all(reader, copy, KEYS)
    assert [m.message_id for m in messages] == [m.message_id for m in expected]
    assert [(w.locator, w.code) for w in ctx.report.warnings if w.code == "empty_database"] == [
        (name, "empty_database")
    ]


def test_a_schema_with_bytes_that_are_not_utf8_is_rejected(pc3_plain: Path, tmp_path: Path) -> None:
    """SQLite's error for a damaged schema quotes its bytes, and Python cannot decode the
    message (found by fuzzing): the dump is rejected with a one-line reason."""
    copy = tmp_path / pc3_plain.name
    shutil.copytree(pc3_plain, copy)
    shard = copy / "Msg" / "Multi" / "MSG0.db"
    data = shard.read_bytes()
    assert b"CREATE TABLE MSG" in data
    shard.write_bytes(data.replace(b"CREATE TABLE MSG", b"CREAT\xc5 TABLE MSG", 1))
    with pytest.raises(SourceError, match=r"^MSG0\.db: not a readable SQLite database"):
        read_all(READERS["wechat-pc3"], copy, KEYS)


def test_rows_that_cannot_be_mapped_are_rejected(pc3_plain: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "acct"
    shutil.copytree(pc3_plain, copy)
    shard = copy / "Msg" / "Multi" / "MSG0.db"
    with sqlite3.connect(shard) as conn:
        conn.execute(
            "INSERT INTO MSG (localId, Type, CreateTime, StrTalker) VALUES (900, 1, 1, '')"
        )
        conn.execute(
            "INSERT INTO MSG (localId, Type, CreateTime, StrTalker, StrContent) "
            "VALUES (901, 1, 99999999999999, 'wxid_alice01', 'secret words')"
        )
    conn.close()
    messages, ctx = read_all(READERS["wechat-pc3"], copy)
    assert len(messages) == len(read_all(READERS["wechat-pc3"], pc3_plain)[0])
    rejected = {r.locator: r.reason for r in ctx.report.rejected}
    assert set(rejected) == {"MSG0.db/MSG/localId=900", "MSG0.db/MSG/localId=901"}
    assert all("secret" not in r for r in rejected.values())
    # the counts say so too, on the input and in the totals (the cron log line shows them)
    out = ingest_json(tmp_path / "archive", copy)
    assert (out["inputs"][0]["rows_rejected"], out["totals"]["rows_rejected"]) == (2, 2)
    assert out["inputs"][0]["messages_new"] == len(messages)


def _try_read(reader: Reader, path: Path) -> None:
    try:
        read_all(reader, path, KEYS)
    except SourceError as err:
        assert "\n" not in err.reason


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=0, max_size=6000))
def test_random_bytes_raise_only_source_error(data: bytes, tmp_path: Path) -> None:
    target = tmp_path / "EnMicroMsg.db"
    target.write_bytes(data)
    assert 0.0 <= READERS["wechat-android"].score(candidate_for(target)) <= 1.0
    _try_read(READERS["wechat-android"], target)
    msg = tmp_path / "Msg"
    (msg / "Multi").mkdir(parents=True, exist_ok=True)
    for name in ("MicroMsg.db", "Multi/MSG0.db"):
        (msg / name).write_bytes(data)
    for reader in READERS.values():
        assert 0.0 <= reader.score(candidate_for(msg)) <= 1.0
    _try_read(READERS["wechat-pc3"], msg)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=0, max_size=3000))
def test_random_bytes_other_layouts(data: bytes, tmp_path: Path) -> None:
    storage = tmp_path / "db_storage"
    (storage / "message").mkdir(parents=True, exist_ok=True)
    (storage / "message" / "message_0.db").write_bytes(data)
    _try_read(READERS["wechat-pc4"], storage)
    docs = tmp_path / "Documents" / layouts.md5("wxid_x") / "DB"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "MM.sqlite").write_bytes(data)
    _try_read(READERS["wechat-ios"], tmp_path / "Documents")
    (tmp_path / "bk").mkdir(exist_ok=True)
    (tmp_path / "bk" / "Manifest.db").write_bytes(data)
    _try_read(READERS["wechat-ios"], tmp_path / "bk")


def test_no_temp_files_left(pc3_encrypted: Path) -> None:
    import tempfile

    tmp = Path(tempfile.gettempdir())
    before = {p.name for p in tmp.glob("imarchive-wechat-*")}
    read_all(READERS["wechat-pc3"], pc3_encrypted, KEYS)
    assert {p.name for p in tmp.glob("imarchive-wechat-*")} == before
    assert os.access(pc3_encrypted, os.R_OK)


# the message tables of each plain layout: file pattern, table pattern, time column, id column
TIME_COLUMNS = [
    ("pc3_plain", "MSG0.db", "MSG", "CreateTime", "localId"),
    ("pc4_plain", "message_0.db", "Msg_%", "create_time", "local_id"),
    ("ios_tree", "message_*.sqlite", "Chat_%", "CreateTime", "MesLocalID"),
    ("android_plain", "EnMicroMsg.db", "message", "createTime", "msgId"),
]


@pytest.mark.parametrize(("fixture", "db_glob", "table_like", "column", "key"), TIME_COLUMNS)
def test_a_row_without_an_integer_time_is_rejected_not_dated_1970(
    fixture: str,
    db_glob: str,
    table_like: str,
    column: str,
    key: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """An empty, REAL or non-numeric time column has no instant to give: the row is
    rejected with the reason, never stored as 1970-01-01 (nor as a rounded time)."""
    src: Path = request.getfixturevalue(fixture)
    if src.is_file():  # with its -wal beside it
        shutil.copytree(src.parent, tmp_path / "dump")
        copy = db = tmp_path / "dump" / src.name
    else:
        copy = tmp_path / "dump"
        shutil.copytree(src, copy)
        db = sorted(copy.rglob(db_glob))[0]
    bad = {None: "is empty", 1_700_000_000.5: "is not an integer", "soon": "is not an integer"}
    with sqlite3.connect(db) as conn:
        (table,) = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? "
            "ORDER BY name LIMIT 1",
            (table_like,),
        ).fetchone()
        ids = [r[0] for r in conn.execute(f'SELECT "{key}" FROM "{table}" ORDER BY 1 LIMIT 3')]
        for row_id, value in zip(ids, bad, strict=True):
            conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE "{key}" = ?', (value, row_id))
    conn.close()
    reader = READERS[f"wechat-{fixture.split('_')[0]}"]
    before, _ = read_all(reader, src)
    messages, ctx = read_all(reader, copy)
    assert len(messages) == len(before) - 3
    assert all(m.sent_at.year > 1970 for m in messages)
    want = {
        f"{db.name}/{table}/{key}={row_id}": f"{column} {why}"
        for row_id, why in zip(ids, bad.values(), strict=True)
    }
    got = {r.locator: r.reason for r in ctx.report.rejected}
    assert got == want
    assert (ctx.report.rows_rejected, ctx.report.lines_rejected) == (3, 0)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_wechat_message_id_is_the_spec_formula(pc3_plain: Path, tmp_path: Path) -> None:
    """With a server id: sha256 of `wechat`, account, conversation, server id joined by
    U+001F. Without one: `local:` + local id, the instant, the sender and sha256(raw)."""
    archive = tmp_path / "a"
    ingest_json(archive, pc3_plain)
    rows = read_rows(archive)
    local = 0
    for r in rows:
        if r["native_id"] is not None:
            fields = ["wechat", r["account_id"] or "", r["conversation_id"], r["native_id"]]
        else:
            local += 1
            m = re.search(r"localId=(-?\d+)$", r["source_locator"])
            assert m is not None
            instant = r["sent_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            fields = [
                "wechat",
                r["account_id"] or "",
                r["conversation_id"],
                f"local:{m.group(1)}",
                instant,
                r["sender_id"] or "",
                _sha(r["raw"]),
            ]
        assert r["message_id"] == _sha("\x1f".join(fields)), json.dumps(r, default=str)
    assert local >= 1 and len(rows) > local


def test_repeated_key_options_all_count(
    pc3_encrypted: Path, android_encrypted: Path, tmp_path: Path
) -> None:
    """``--key`` given twice (two accounts in one run): both keys are tried on every
    encrypted database, none is dropped; a bad one is refused, never echoed."""
    archive = tmp_path / "archive"
    keys = ["--key", layouts.PC_KEY, "--key", layouts.ANDROID_KEY]
    data = ingest_json(archive, pc3_encrypted, android_encrypted, extra=keys)
    assert [(i["format"], i["status"]) for i in data["inputs"]] == [
        ("wechat-pc3", "ingested"),
        ("wechat-android", "ingested"),
    ]
    bad = ingest_cli(tmp_path / "b", pc3_encrypted, extra=[*keys, "--key", "secret-xyz"])
    assert bad.returncode == 2 and "secret-xyz" not in bad.stderr
