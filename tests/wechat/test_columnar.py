"""wechat-pc3: the columnar path yields exactly the rows of the per-row path (every
column, same order, same rejections), on the fixtures, on generated dumps and on rows
built to be odd; its faster helpers agree with the ones they replace."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sqlite3
import sys
from pathlib import Path, PureWindowsPath
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imarchive.errors import SourceError
from imarchive.schema import MESSAGE_SCHEMA, to_table
from imarchive.sources.base import ReadOptions
from imarchive.sources.wechat import pc3, pc3_columnar, pc3_fetch, protobuf
from tests.support import DirectContext, assert_same_rows, candidate_for
from tests.wechat import layouts
from tests.wechat.rows import read_table

READER = pc3.READER
KEYED = ReadOptions(timezone="UTC", keys=(layouts.PC_KEY,), custodian="Carla")
ROOT = Path(__file__).resolve().parents[2]


def per_row(path: Path, options: ReadOptions | None = None) -> tuple[pa.Table, DirectContext]:
    ctx = DirectContext(options or ReadOptions(timezone="UTC"))
    messages = list(READER.read_messages(candidate_for(path), ctx))
    return (to_table(messages) if messages else MESSAGE_SCHEMA.empty_table()), ctx


def assert_same(path: Path, options: ReadOptions | None = None) -> pa.Table:
    expected, ctx_rows = per_row(path, options)
    got, ctx_cols = read_table(READER, path, options)
    assert_same_rows(expected, got)
    assert got.equals(expected)
    assert ctx_cols.report.rejected == ctx_rows.report.rejected
    assert ctx_cols.report.warnings == ctx_rows.report.warnings
    assert ctx_cols.report.facts == ctx_rows.report.facts
    return got


@pytest.fixture(params=[3, 1000])
def batch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Tiny batches put odd rows and the checked rerun anywhere in a batch."""
    monkeypatch.setattr(pc3_columnar, "BATCH", request.param)
    size: int = request.param
    return size


def test_plain_fixture(pc3_plain: Path, batch: int) -> None:
    assert assert_same(pc3_plain).num_rows == 40


def test_encrypted_fixture(pc3_encrypted: Path) -> None:
    assert assert_same(pc3_encrypted, KEYED).num_rows == 40


def test_fixture_without_wal(pc3_plain: Path, tmp_path: Path) -> None:
    copy = tmp_path / "acct"
    shutil.copytree(pc3_plain, copy)
    for name in ("MSG1.db-wal", "MSG1.db-shm"):
        (copy / "Msg" / "Multi" / name).unlink()
    assert assert_same(copy).num_rows == 38


def _generator() -> ModuleType:
    path = ROOT / "benchmarks" / "gen_wechat_pc3.py"
    spec = importlib.util.spec_from_file_location("gen_wechat_pc3", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("seed", "shards"), [(1, 2), (2, 3), (3, 1)])
def test_generated_dumps(seed: int, shards: int, tmp_path: Path) -> None:
    gen = _generator()
    gen.generate(tmp_path / "dump", 4000, seed, shards)
    got = assert_same(gen.account_dir(tmp_path / "dump"))
    assert got.num_rows == 4000


def test_media_folders_present_missing_and_not_folders(tmp_path: Path) -> None:
    """Some images of one month are there, another month's folder is missing, a third
    month's "folder" is a file: each image is found or missing as pathlib finds it."""
    gen = _generator()
    gen.generate(tmp_path / "dump", 3000, 4, 1)
    account = gen.account_dir(tmp_path / "dump")
    with sqlite3.connect(account / "Msg" / "Multi" / "MSG0.db") as conn:
        rows = conn.execute("SELECT localId, BytesExtra FROM MSG WHERE Type = 3").fetchall()
        assert len(rows) >= 30
        for i, (local, blob) in enumerate(rows):  # same-length edits keep the protobuf valid
            month = f"\\20{40 + i % 3}-01\\".encode()
            blob = re.sub(rb"\\\d{4}-\d{2}\\", lambda _, m=month: m, blob)
            conn.execute("UPDATE MSG SET BytesExtra = ? WHERE localId = ?", (blob, local))
            rows[i] = (local, blob)
    present = 0
    for i, (_, blob) in enumerate(rows):
        parts = PureWindowsPath(pc3_columnar.bytes_extra_items(blob)[4]).parts[1:]
        path = account.joinpath(*parts)
        if parts[-2] == "2040-01" and i % 2 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"image {i}".encode())
            present += 1
        elif parts[-2] == "2042-01":
            path.parent.parent.mkdir(parents=True, exist_ok=True)
            path.parent.write_bytes(b"not a folder")
    got = assert_same(account)
    statuses = pc.struct_field(pc.list_flatten(got["attachments"]), "status").to_pylist()
    assert statuses.count("stored") == present > 0
    assert statuses.count("missing") > present


def test_rows_listed_but_not_found_reject_the_dump(
    pc3_plain: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged MSG b-tree can list a rowid (in the order table) that the table does not
    return: the dump is rejected as damaged (found by fuzzing), not an internal error."""
    original = pc3_fetch.Layout.order_sql

    def with_a_ghost(self: pc3_fetch.Layout) -> str:
        head = f"CREATE TEMP TABLE {pc3_fetch.ORDER_TABLE} AS "
        rows = original(self).removeprefix(head)
        return f"{head}SELECT * FROM ({rows}) UNION ALL SELECT 987654321, 0"

    monkeypatch.setattr(pc3_fetch.Layout, "order_sql", with_a_ghost)
    with pytest.raises(SourceError, match=r"^damaged database \(MSG returned \d+ of the \d+"):
        read_table(READER, pc3_plain)


def _odd_copy(src: Path, dst: Path) -> Path:
    """The fixture with rows that the columnar path leaves to the per-row code."""
    shutil.copytree(src, dst)
    shard = dst / "Msg" / "Multi" / "MSG0.db"
    with sqlite3.connect(shard) as conn:
        extra = protobuf.encode([(3, protobuf.encode([(1, 1), (2, layouts.sc.BOB)]))])
        rows: list[tuple[str, tuple[object, ...]]] = [
            # a blob in a text column the reader does not read (json_object refuses it)
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent, DisplayContent",
                (500, 9500, 1, 1_700_000_500, layouts.sc.ALICE, "x", b"\x00blob"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (501, 9501, 1, 1_700_000_501, layouts.sc.ALICE, b"blob content"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (502, 9502, "text?", 1_700_000_502, layouts.sc.ALICE, "type as text"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (503, 9503, 1, 1_700_000_503.5, layouts.sc.ALICE, "a real time"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (504, 9504, 1, None, layouts.sc.ALICE, "no time"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (505, 9505, 1, -40_000_000_000, layouts.sc.ALICE, "year 702"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (506, 9506, 1, 300_000_000_000, layouts.sc.ALICE, "year 11476"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (507, None, 1, 1_700_000_507, layouts.sc.ALICE, "no server id column value"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent, BytesExtra",
                (508, 9508, 1, 1_700_000_508, layouts.sc.GROUP, "extra as text", "text!"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent, BytesExtra",
                (509, 9509, 1, 1_700_000_509, layouts.sc.GROUP, "group", extra),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (510, 9510, 1, 1_700_000_510, "", "empty talker"),
            ),
            (
                "localId, MsgSvrID, Type, SubType, CreateTime, StrTalker, StrContent",
                (
                    511,
                    0,
                    49,
                    5,
                    1_700_000_511,
                    layouts.sc.ALICE,
                    "<msg><appmsg><title>t</title><type>5</type></appmsg></msg>",
                ),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent, CompressContent",
                (512, 9512, 49, 1_700_000_512, layouts.sc.ALICE, "", b"\x00\x01not lz4"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (513, -7, 12345, 1_700_000_513, "gh_x", "negative id, unknown code"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent",
                (514, 9514, 1, -1, layouts.sc.ALICE, "before 1970"),
            ),
            (  # the integer extremes (the batch headers carry them as 64-bit hex)
                "localId, MsgSvrID, Type, SubType, CreateTime, StrTalker, StrContent",
                (517, -(2**63), 2**63 - 1, -1, -30_610_224_000, layouts.sc.ALICE, "min"),
            ),
            (
                "localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent, BytesExtra",
                (518, 2**63 - 1, 1, 253_402_300_799, layouts.sc.ALICE, "", b""),
            ),
            (
                "localId, MsgSvrID, Type, IsSender, CreateTime, StrTalker, StrContent",
                (
                    515,
                    9515,
                    10000,
                    1,
                    1_700_000_515,
                    layouts.sc.GROUP,
                    '<revokemsg>"X" recalled</revokemsg>',
                ),
            ),
        ]
        for columns, values in rows:
            marks = ", ".join("?" for _ in values)
            conn.execute(f"INSERT INTO MSG ({columns}) VALUES ({marks})", values)
        conn.execute(
            "INSERT INTO MSG (localId, MsgSvrID, Type, CreateTime, StrTalker, StrContent) "
            "VALUES (516, 9516, 1, 1700000516, CAST(? AS TEXT), 'bad talker')",
            (b"wxid_\xff\xfe",),
        )
    conn.close()
    return dst


def test_odd_rows(pc3_plain: Path, tmp_path: Path, batch: int) -> None:
    copy = _odd_copy(pc3_plain, tmp_path / "acct")
    got = assert_same(copy)
    assert got.num_rows > 40
    _, ctx = per_row(copy)
    assert {r.locator: r.reason for r in ctx.report.rejected} == {
        "MSG0.db/MSG/localId=503": "CreateTime is not an integer",  # REAL: no made-up time
        "MSG0.db/MSG/localId=504": "CreateTime is empty",
        "MSG0.db/MSG/localId=506": "CreateTime out of range",  # after year 9999
        "MSG0.db/MSG/localId=510": "no conversation id (StrTalker empty)",
    }
    assert not {"9503", "9504"} & set(got.column("native_id").to_pylist())


def test_unchecked_batch_reruns_checked(
    pc3_plain: Path, tmp_path: Path, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before SQLite 3.45 a batch is read without the blob checks of the JSON; the batch
    holding a blob in a text column fails and is read again with them, as is every batch
    after it (none lost, none twice)."""
    monkeypatch.setattr(pc3_fetch, "UNCHECKED_JSON", True)
    copy = _odd_copy(pc3_plain, tmp_path / "acct")
    by_shard: dict[int, tuple[pc3_fetch.Layout, list[bool]]] = {}  # kept alive: ids stay
    sql = pc3_fetch.Layout.batch_sql

    def spy(self: pc3_fetch.Layout, *, checked: bool) -> str:
        by_shard.setdefault(id(self), (self, []))[1].append(checked)
        return sql(self, checked=checked)

    monkeypatch.setattr(pc3_fetch.Layout, "batch_sql", spy)
    got = assert_same(copy)
    assert got.num_rows > 40
    assert len(by_shard) == 2 and all(asked[0] is False for _, asked in by_shard.values())
    (asked,) = [asked for _, asked in by_shard.values() if True in asked]  # the odd shard
    first = asked.index(True)
    assert all(asked[first:])  # checked from the failed batch on
    if batch < 40:  # the failed batch was not the first
        assert first > 1
    assert pc.count_distinct(got.column("message_id")).as_py() == got.num_rows


def test_batches_cut_by_size_and_sqlite_limit(
    pc3_plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches end where their content reaches BATCH_BYTES; a batch past SQLite's string
    limit is read in halves, and a row past it alone goes through the per-row code."""
    copy = _odd_copy(pc3_plain, tmp_path / "acct")
    shard = copy / "Msg" / "Multi" / "MSG0.db"
    with sqlite3.connect(shard) as conn:
        conn.execute(
            "INSERT INTO MSG (localId, MsgSvrID, Type, SubType, IsSender, CreateTime, "
            "StrTalker, StrContent) VALUES (600, 9600, 1, 0, 0, 1700000600, "
            "'wxid_friend01', ?)",
            ("long " * 2000,),
        )
    conn.close()
    monkeypatch.setattr(pc3_fetch, "BATCH_BYTES", 3000)
    monkeypatch.setattr(pc3_fetch, "LENGTH_LIMIT", 6000)
    sizes: list[tuple[int, bool]] = []
    fetch = pc3_fetch._Reader.rows

    def spy(self: Any, a: int, b: int) -> Any:
        for raw in fetch(self, a, b):
            sizes.append((raw.count, raw.headers is None))
            yield raw

    monkeypatch.setattr(pc3_fetch._Reader, "rows", spy)
    got = assert_same(copy)
    assert "long long" in "".join(got.column("body").drop_null().to_pylist())
    assert (1, True) in sizes  # the long row, per row
    assert max(n for n, _ in sizes) < got.num_rows / 4


def test_checked_scan_only(
    pc3_plain: Path, tmp_path: Path, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blob-checked query from the start (SQLite 3.45+ reads blobs as JSONB)."""
    monkeypatch.setattr(pc3_fetch, "UNCHECKED_JSON", False)
    copy = _odd_copy(pc3_plain, tmp_path / "acct")
    assert assert_same(copy).num_rows > 40


def test_table_without_rowid_key(pc3_plain: Path, tmp_path: Path, batch: int) -> None:
    """localId not the INTEGER PRIMARY KEY (rows stored in reverse): rowids still find
    every row, in the read order."""
    copy = _odd_copy(pc3_plain, tmp_path / "acct")
    shard = copy / "Msg" / "Multi" / "MSG0.db"
    with sqlite3.connect(shard) as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'MSG'").fetchone()[0]
        conn.execute("ALTER TABLE MSG RENAME TO MSG_old")
        conn.execute(sql.replace("localId INTEGER PRIMARY KEY AUTOINCREMENT", "localId INT"))
        conn.execute("INSERT INTO MSG SELECT * FROM MSG_old ORDER BY localId DESC")
        conn.execute("DROP TABLE MSG_old")
    conn.close()
    assert assert_same(copy).num_rows > 40


@pytest.mark.parametrize("name", ["j", "RID"])
def test_column_named_like_the_batch_query_own(pc3_plain: Path, tmp_path: Path, name: str) -> None:
    """A MSG column named like one the batch query makes up goes through the per-row code."""
    copy = tmp_path / "acct"
    shutil.copytree(pc3_plain, copy)
    with sqlite3.connect(copy / "Msg" / "Multi" / "MSG0.db") as conn:
        conn.execute(f"ALTER TABLE MSG ADD COLUMN {name} TEXT")
        conn.execute(f"UPDATE MSG SET {name} = 'x' || localId")
    conn.close()
    got = assert_same(copy)
    assert got.num_rows == 40
    assert f'"{name}":"x' in "".join(got.column("raw").to_pylist())


def test_table_without_blob_columns(pc3_plain: Path, tmp_path: Path) -> None:
    """A MSG table this path does not model at all goes through the per-row code."""
    copy = tmp_path / "acct"
    shutil.copytree(pc3_plain, copy)
    shard = copy / "Msg" / "Multi" / "MSG0.db"
    with sqlite3.connect(shard) as conn:
        for column in ("CompressContent", "BytesExtra", "BytesTrans"):
            conn.execute(f"ALTER TABLE MSG DROP COLUMN {column}")
    conn.close()
    assert assert_same(copy).num_rows == 40


# --- helpers ---------------------------------------------------------------------------

ITEM = st.builds(
    lambda kind, value, tail: protobuf.encode([(1, kind), (2, value)]) + tail,
    st.integers(0, 300),
    st.text(max_size=20),
    st.sampled_from([b"", b"\x18\x01", b"\x08\x02", b"\x15abcd", b"\x09abcdefgh", b"\x80"]),
)
BLOB = st.one_of(
    st.binary(max_size=60),
    st.lists(
        st.tuples(st.sampled_from([1, 3, 3, 3, 5]), st.one_of(ITEM, st.integers(0, 1 << 40))),
        max_size=5,
    ).map(lambda items: protobuf.encode(list(items))),
    st.tuples(st.binary(max_size=40), st.integers(0, 40)).map(lambda t: t[0][: t[1]]),
)


@settings(max_examples=600, deadline=None)
@given(blob=BLOB)
def test_bytes_extra_items_agrees(blob: bytes) -> None:
    assert pc3_columnar.bytes_extra_items(blob) == protobuf.bytes_extra_items(blob)


@settings(max_examples=600, deadline=None)
@given(rel=st.text(alphabet="ab.\\/: ?", min_size=1, max_size=12))
def test_windows_parts_agrees(rel: str) -> None:
    assert pc3_columnar.windows_parts(rel) == PureWindowsPath(rel).parts


def test_is_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    for name in ("f", "missing", ".", "f/below"):
        assert pc3_columnar.is_file(str(tmp_path / name)) == (tmp_path / name).is_file()


TAGS = st.sampled_from(["msg", "appmsg", "refermsg", "svrid", "title", "x"])
TREE = st.recursive(
    st.builds(lambda tag: f"<{tag}/>", TAGS),
    lambda inner: st.builds(
        lambda tag, kids: f"<{tag}>{''.join(kids)}</{tag}>", TAGS, st.lists(inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(xml=TREE)
def test_element_lookups_agree(xml: str) -> None:
    """The ElementPath-free lookups of msgtypes find the same elements."""
    import xml.etree.ElementTree as ET

    from imarchive.sources.wechat import msgtypes

    root = ET.fromstring(xml)
    if root.tag != "appmsg":
        assert next(root.iter("appmsg"), None) is root.find(".//appmsg")
    for el in root.iter():
        assert msgtypes._grandchild(el, "refermsg", "svrid") is el.find("refermsg/svrid")
