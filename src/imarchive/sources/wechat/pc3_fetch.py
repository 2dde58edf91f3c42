"""wechat-pc3, columnar: the MSG rows in batches, read by SQLite on a thread of its own.

A row-by-row fetch costs the main thread a Python tuple and a dozen objects per row, and a
fetch on another thread would take the GIL back after every row. Here SQLite hands Python
one row per *batch*: a first query writes the rowids, sorted into the read order, to a TEMP
table (in TMPDIR, not in memory), then each batch of its rows is one query whose single
result row holds the batch's headers (hex: rowid, a flag, the six integer columns, the byte
length of every other field) and, per field (the row JSON, talker, content, each blob
column), the values back to back, each built with ``group_concat``. The sqlite3 module lets
go of the GIL while SQLite steps, so sorting, seeking, building the JSON and concatenating
run on the other core while the main thread computes the columns of the previous batch, and
``Batch`` lays Arrow arrays over the concatenations without a copy or a Python object per
value.

Rows the columnar code does not model are flagged by SQLite (``odd``): a value of another
type than the layout expects, a time outside years 1000-9999, an empty talker, a blob in a
text column. The caller reads those through the per-row code, by rowid.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from binascii import unhexlify
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from imarchive.sources.wechat.common import FastSelect
from imarchive.sources.wechat.dbfiles import connect_ro

INT_COLUMNS = ("localId", "MsgSvrID", "Type", "SubType", "IsSender", "CreateTime")
TEXT_COLUMNS = ("StrTalker", "StrContent")
RESERVED = frozenset({"rid", "j", "h", "e", "m"})  # names the batch query gives (lowercase)
# CreateTime handled here: years 1000-9999 (strftime pads 4 digits); others go per row.
MIN_TIME = -30_610_224_000
MAX_TIME = 253_402_300_799
BATCH_BYTES = 16 << 20  # about this much content per batch (one row at least)
ROW_BYTES = 256  # the JSON and header of a row, for that estimate
AHEAD = 1  # batches read ahead of the one being converted
# From 3.45 on, SQLite reads a blob given to json_object() as JSONB instead of failing:
# the query without blob checks is only safe before.
UNCHECKED_JSON = sqlite3.sqlite_version_info < (3, 45, 0)
LENGTH_LIMIT: int | None = None  # SQLite's string limit on the reading connection (tests)
ORDER_TABLE = "temp.imarchive_order"
_JSON_BLOB = "JSON cannot hold BLOB values"
_TOO_BIG = "string or blob too big"


@dataclass(frozen=True)
class Layout:
    """The batch query of one MSG table and the shape of its result."""

    plan: FastSelect
    order: str

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields after the JSON: talker, content, the blob columns."""
        return (*TEXT_COLUMNS, *self.plan.blobs)

    @property
    def header_fields(self) -> int:
        """rowid, the odd flag, the integer columns, the JSON's and each field's length."""
        return 2 + len(INT_COLUMNS) + 1 + len(self.fields)

    def order_sql(self) -> str:
        """A TEMP table of every rowid in the read order (its own rowid: the position)
        and an estimate of each row's size."""
        size = " + ".join(f'ifnull(length("{c}"), 0)' for c in self.fields[1:])
        return (
            f"CREATE TEMP TABLE {ORDER_TABLE} AS SELECT rowid AS r, {size} AS size "
            f'FROM "{self.plan.table}" ORDER BY {self.order}'
        )

    def batch_sql(self, *, checked: bool) -> str:
        """One result row for the rows at positions ``?`` to ``?`` of the order: the
        headers, then the concatenated JSON and fields. ``checked=False`` leaves the blob
        checks of the JSON out (faster): json_object() then fails where a text column holds
        a blob."""
        plan = self.plan
        if checked:
            pairs = ", ".join(
                f"'{c}', iif(typeof(m.\"{c}\") = 'blob', NULL, m.\"{c}\")" for c in plan.plain
            )
        else:
            pairs = ", ".join(f"'{c}', m.\"{c}\"" for c in plan.plain)
        odd = [f"typeof(\"{c}\") <> 'integer'" for c in INT_COLUMNS]
        odd.append(f'"CreateTime" NOT BETWEEN {MIN_TIME} AND {MAX_TIME}')
        odd.append('ifnull(length(CAST("StrTalker" AS BLOB)), 0) = 0')
        odd += [f"typeof(\"{c}\") NOT IN ('blob', 'null')" for c in plan.blobs]
        if checked:
            odd += [f"typeof(\"{c}\") = 'blob'" for c in plan.plain]
        # every field as bytes: the lengths count the bytes concatenated
        as_bytes = [f'CAST("{c}" AS BLOB)' for c in self.fields]
        header = (
            "printf('"
            + "%016x" * self.header_fields
            + "', rid, ("
            + " OR ".join(odd)
            + "), "
            + ", ".join(f'"{c}"' for c in INT_COLUMNS)
            + ", length(j), "
            + ", ".join(f"ifnull(length({b}), -1)" for b in as_bytes)
            + ")"
        )
        # one concatenation per field (group_concat leaves NULLs out)
        fields = ", ".join(f"CAST(group_concat({b}, '') AS BLOB)" for b in as_bytes)
        # CROSS JOIN keeps the order table the outer loop: rows come in its order.
        # OFFSET 0 keeps SQLite from flattening the innermost query into the others, which
        # would build the JSON twice (for its length and for its value).
        return (
            f"SELECT CAST(group_concat(h, '') AS BLOB), CAST(group_concat(j, '') AS BLOB), "
            f"{fields} FROM (SELECT {header} AS h, * FROM "
            f"(SELECT m.rowid AS rid, m.*, CAST(json_object({pairs}) AS BLOB) AS j "
            f'FROM {ORDER_TABLE} AS e CROSS JOIN "{plan.table}" AS m ON m.rowid = e.r '
            "WHERE e.rowid BETWEEN ? AND ? LIMIT -1 OFFSET 0))"
        )


@dataclass
class Raw:
    """One batch of ``count`` rows as SQLite gave it (the headers, then the concatenated
    values of the JSON and of each field), or (``headers`` None) the ``rowids`` of rows to
    read per row."""

    count: int
    headers: bytes | None = None
    values: tuple[bytes | None, ...] = ()
    rowids: np.ndarray | None = None


def batches(conn: sqlite3.Connection, layout: Layout, size: int) -> Iterator[Raw]:
    """The batches of at most ``size`` rows, read on a thread of their own (with a
    connection of its own, which stopping early interrupts)."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    own = connect_ro(Path(path), check_same_thread=False)
    try:
        yield from _ahead(lambda stop: _read(own, layout, size, stop), own.interrupt)
    finally:
        own.close()


def _read(
    conn: sqlite3.Connection, layout: Layout, size: int, stop: threading.Event
) -> Iterator[Raw]:
    conn.execute("PRAGMA query_only = 0")  # for the TEMP table: the file is opened read-only
    conn.execute(layout.order_sql())  # in TMPDIR, in bounded memory
    (count,) = conn.execute(f"SELECT count(*) FROM {ORDER_TABLE}").fetchone()
    if LENGTH_LIMIT is not None:  # for the batches only
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, LENGTH_LIMIT)
    reader = _Reader(conn, layout)
    sizes_sql = f"SELECT group_concat(size) FROM {ORDER_TABLE} WHERE rowid BETWEEN ? AND ?"
    a = 1  # positions in the order: 1 to count
    while a <= count and not stop.is_set():
        (sizes,) = conn.execute(sizes_sql, (a, a + size - 1)).fetchone()
        total = np.cumsum(np.fromstring(str(sizes), dtype=np.int64, sep=",") + ROW_BYTES)
        b = a + max(1, int(np.searchsorted(total, BATCH_BYTES, "right")))
        yield from reader.rows(a, b)
        a = b


class _Reader:
    """The batch queries over one order table."""

    def __init__(self, conn: sqlite3.Connection, layout: Layout) -> None:
        self.conn = conn
        self.layout = layout
        # once the unchecked JSON has met a blob: checked from then on
        self.checked = not UNCHECKED_JSON

    def rows(self, a: int, b: int) -> Iterator[Raw]:
        """The rows at positions ``a`` to ``b - 1``: one batch, or halves where SQLite's
        string limit stops the concatenation (a single row past it goes per row)."""
        while True:
            sql = self.layout.batch_sql(checked=self.checked)
            try:
                ((headers, *values),) = self.conn.execute(sql, (a, b - 1)).fetchall()
            except sqlite3.OperationalError as err:
                if _JSON_BLOB in str(err) and not self.checked:
                    self.checked = True
                    continue
                raise
            except sqlite3.DataError as err:
                if _TOO_BIG not in str(err):
                    raise
                if b - a == 1:
                    (rowid,) = self.conn.execute(
                        f"SELECT r FROM {ORDER_TABLE} WHERE rowid = ?", (a,)
                    ).fetchone()
                    yield Raw(1, rowids=np.array([rowid], np.int64))
                else:
                    mid = (a + b) // 2
                    yield from self.rows(a, mid)
                    yield from self.rows(mid, b)
                return
            yield Raw(b - a, headers, tuple(values))
            return


def _ahead(
    produce: Callable[[threading.Event], Iterator[Raw]], interrupt: Callable[[], None]
) -> Iterator[Raw]:
    """The items of ``produce`` made on a thread, at most ``AHEAD`` in waiting; its error
    is raised here; closing this generator stops the thread (``interrupt`` ends a query
    it is waiting on)."""
    out: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce(stop):
                if not put(("item", item)):
                    return
        except BaseException as exc:
            put(("error", exc))
            return
        put(("end", None))

    thread = threading.Thread(target=run, name="imarchive-sqlite", daemon=True)
    thread.start()
    try:
        while True:
            what, value = out.get()
            if what == "end":
                return
            if what == "error":
                assert isinstance(value, BaseException)
                raise value
            assert isinstance(value, Raw)
            yield value
    finally:
        stop.set()
        if thread.is_alive():
            interrupt()
        thread.join()


# --- one batch -----------------------------------------------------------------------------


class Batch:
    """The columns of one ``Raw`` batch: numpy integers, Arrow binary arrays over SQLite's
    concatenations (the JSON, the talker, the content and each blob column, null where
    SQLite had NULL)."""

    def __init__(self, layout: Layout, raw: Raw) -> None:
        assert raw.headers is not None
        n = raw.count
        self.n = n
        h = np.frombuffer(unhexlify(raw.headers), ">i8")
        if len(h) != n * layout.header_fields:
            # the rowids listed in the order table are not all in MSG: a damaged b-tree
            raise sqlite3.DatabaseError(
                f"MSG returned {len(h) // layout.header_fields} of the {n} rows it listed"
            )
        h = h.reshape(n, layout.header_fields).astype(np.int64)
        self.rowid = h[:, 0]
        self.odd = h[:, 1] != 0
        ints = [h[:, 2 + k] for k in range(len(INT_COLUMNS))]
        self.local, self.server, self.types, self.subtypes, self.is_sender, self.created = ints
        at = 2 + len(INT_COLUMNS)
        columns = [_binary(h[:, at + f], data) for f, data in enumerate(raw.values)]
        self.json = columns[0]
        self.talker = columns[1]
        self.content = columns[2]
        self.blobs = dict(zip(layout.plan.blobs, columns[3:], strict=True))

    def keep(self, mask: np.ndarray) -> None:
        """Only the rows of ``mask``."""
        m = pa.array(mask)
        for name in ("rowid", "local", "server", "types", "subtypes", "is_sender", "created"):
            setattr(self, name, getattr(self, name)[mask])
        self.odd = self.odd[mask]
        self.json, self.talker, self.content = (
            a.filter(m) for a in (self.json, self.talker, self.content)
        )
        self.blobs = {k: v.filter(m) for k, v in self.blobs.items()}
        self.n = int(mask.sum())


def _binary(lengths: np.ndarray, data: bytes | None) -> pa.Array:
    """A binary array over concatenated values (length -1: null), without a copy."""
    n = len(lengths)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(np.maximum(lengths, 0), out=offsets[1:])
    null = lengths < 0
    nulls = int(null.sum())
    bitmap = pa.py_buffer(np.packbits(~null, bitorder="little")) if nulls else None
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(data or b"")]
    return pa.Array.from_buffers(pa.binary(), n, buffers, null_count=nulls)
