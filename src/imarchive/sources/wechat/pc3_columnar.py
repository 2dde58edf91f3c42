"""wechat-pc3, columnar: the rows of ``Pc3Reader.read_messages``, as Arrow tables.

The per-row path builds one ``Message`` per row (~30 µs each). Here SQLite reads rows in
batches of thousands on a thread of its own (``pc3_fetch``; ``json_object`` makes ``raw``)
and each column is computed for the whole batch at once: kinds from type codes per
*distinct* code, names per distinct (sender, room), conversations per distinct talker,
times, ids and locators as array kernels. Python work per row is left only where the data
demands it: the XML of app messages and system notices (through the same ``interpret``),
BytesExtra of inbound group messages (memoised per blob) and of media rows (a faster
decoder with the same results), one sha256 per row.

Rows this path does not model (a value of an unexpected SQLite type, invalid UTF-8, a blob
in a text column, a time outside years 1000-9999, an empty talker) go through the per-row
code (``pc3.row_message``) and are put back in place, so every table holds exactly the rows,
values and order of the per-row path.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from binascii import b2a_base64
from collections.abc import Iterator, Sequence
from pathlib import Path, PureWindowsPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from imarchive.identity import wechat_id
from imarchive.memory import release_free_memory
from imarchive.model import Attachment, AttachmentStatus, ConversationType, Message
from imarchive.model import MessageKind as K
from imarchive.schema import (
    ATTACHMENT_TYPE,
    MESSAGE_SCHEMA,
    TIMESTAMP,
    Codes,
    decoded,
    sha256_hex,
    to_table,
)
from imarchive.sources.base import Candidate, ReadContext, SourceRef
from imarchive.sources.wechat import pc3, pc3_fetch
from imarchive.sources.wechat.common import FastSelect, epoch_to_utc, stream_fast
from imarchive.sources.wechat.msgtypes import BASE_KINDS, MEDIA_TYPES, Interpreted, interpret
from imarchive.sources.wechat.protobuf import ProtobufError, _varint

BATCH = 4096  # rows per query batch and per table
TRIM_EVERY = 8  # batches between handing freed heap memory back
CHUNK_MESSAGES = 16_384  # per-row shards: messages per table
# Types whose kind or body needs the content (XML): ``interpret`` per row. Every other
# code maps to a kind alone; its body is the content (text, unknown codes) or null.
PER_ROW_TYPES = frozenset({37, 42, 48, 49, 50, 64, 10000, 10002})
MAX_BLOB_COLUMNS = 8  # the `_base64` lists are enumerated: 2**n of them
CACHE_MAX = 4096  # memoised BytesExtra blobs (group senders repeat theirs)

KINDS: tuple[K, ...] = tuple(K)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
KIND_DICT = pa.array([str(k) for k in KINDS], pa.string())
DIRECTIONS = pa.array(["outbound", "inbound", "system"], pa.string())


def read(candidate: Candidate, ctx: ReadContext) -> Iterator[pa.Table]:
    """Every message of a ``wechat-pc3`` input, as ``MESSAGE_SCHEMA`` tables."""
    for shard, (conn, ref) in pc3.READER.open_shards(candidate, ctx):
        yield from ShardReader(conn, ref, shard, ctx).tables()


# --- exact, faster equivalents of per-row helpers --------------------------------------------


def bytes_extra_items(blob: bytes) -> dict[int, str]:
    """``protobuf.bytes_extra_items`` (same result for every input), without generators."""
    out: dict[int, str] = {}
    end = len(blob)
    pos = 0
    try:
        while pos < end:
            key = blob[pos]
            if key < 0x80:
                pos += 1
            else:
                key, pos = _varint(blob, pos)
            num, wire = key >> 3, key & 7
            if num == 0:
                raise ProtobufError("field number 0")
            if wire == 0:
                _, pos = _varint(blob, pos)
                continue
            if wire == 2:
                if pos < end and blob[pos] < 0x80:
                    size = blob[pos]
                    pos += 1
                else:
                    size, pos = _varint(blob, pos)
            elif wire in (1, 5):
                size = 8 if wire == 1 else 4
            else:
                raise ProtobufError(f"unsupported wire type {wire}")
            if pos + size > end:
                raise ProtobufError("truncated field")
            if num == 3:
                kind, text = _item(blob[pos : pos + size])
                if kind is not None and text is not None:
                    out.setdefault(kind, text)
            pos += size
    except ProtobufError:
        return out
    return out


def _item(data: bytes) -> tuple[int | None, str | None]:
    """(first varint of field 1, first non-varint of field 2 as text) of a whole message;
    ``ProtobufError`` when any of it is malformed (as ``protobuf.fields`` would)."""
    kind: int | None = None
    text: bytes | None = None
    end = len(data)
    pos = 0
    while pos < end:
        key = data[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint(data, pos)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise ProtobufError("field number 0")
        if wire == 0:
            if pos < end and data[pos] < 0x80:
                value = data[pos]
                pos += 1
            else:
                value, pos = _varint(data, pos)
            if num == 1 and kind is None:
                kind = value
            continue
        if wire == 2:
            if pos < end and data[pos] < 0x80:
                size = data[pos]
                pos += 1
            else:
                size, pos = _varint(data, pos)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        if pos + size > end:
            raise ProtobufError("truncated field")
        if num == 2 and text is None:
            text = data[pos : pos + size]
        pos += size
    return kind, (text.decode("utf-8", "replace") if text is not None else None)


def windows_parts(rel: str) -> tuple[str, ...]:
    """``PureWindowsPath(rel).parts``; plain relative paths without pathlib."""
    if ":" in rel or rel[:1] in ("\\", "/"):  # a drive or a root: pathlib's own rules
        return PureWindowsPath(rel).parts
    return tuple(p for p in rel.replace("/", "\\").split("\\") if p and p != ".")


_IGNORED = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def is_file(path: str) -> bool:
    """``Path(path).is_file()``: False where pathlib ignores the error, else it raises."""
    try:
        st = os.stat(path)
    except OSError as err:
        if err.errno not in _IGNORED:
            raise
        return False
    except ValueError:
        return False
    return (st.st_mode & 0o170000) == 0o100000


# --- one shard ---------------------------------------------------------------------------


def _repeat(value: str | None, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, pa.string())
    return pa.repeat(pa.scalar(value, pa.string()), n)


class ShardReader:
    """The tables of one opened MSG shard."""

    def __init__(
        self, conn: sqlite3.Connection, ref: SourceRef, shard: pc3.Shard, ctx: ReadContext
    ) -> None:
        self.conn = conn
        self.ref = ref
        self.shard = shard
        self.ctx = ctx
        self.emitter = shard.emitter
        self.account = shard.emitter.builder.account_id
        self.custodian = shard.emitter.builder.custodian
        self.directory = shard.emitter.directory
        self.order = pc3.msg_order(conn)
        self.plan = FastSelect.plan(conn, "MSG", self.order, pc3.NEEDED)
        self.id_prefix = ("wechat\x1f" + (self.account or "") + "\x1f").encode(
            "utf-8", "surrogatepass"
        )
        self.locator_prefix = f"{shard.shard_name}/MSG/localId="
        # os.path.join(root, *parts), for parts without separators
        root = None if shard.files_root is None else str(shard.files_root)
        self.files_root = root if root is None or root.endswith("/") else root + "/"
        self._items: dict[bytes, dict[int, str]] = {}
        self._talkers: dict[str, tuple[str | None, ConversationType]] = {}
        self._names: dict[tuple[str, str | None], tuple[str, str]] = {}

    # -- plan ---------------------------------------------------------------------------

    def _columnar(self) -> bool:
        plan = self.plan
        if plan is None or not plan.blobs or len(plan.blobs) > MAX_BLOB_COLUMNS:
            return False
        decl = plan.decl
        ints = all("INT" in decl[c] and "BLOB" not in decl[c] for c in pc3_fetch.INT_COLUMNS)
        texts = all("INT" not in decl[c] and "BLOB" not in decl[c] for c in pc3_fetch.TEXT_COLUMNS)
        names = {c.lower() for c in decl}
        return (
            ints
            and texts
            and plan.needed[: len(pc3_fetch.INT_COLUMNS)] == pc3_fetch.INT_COLUMNS
            and not names & pc3_fetch.RESERVED  # the batch query's own names
        )

    # -- the scan ------------------------------------------------------------------------

    def tables(self) -> Iterator[pa.Table]:
        if not self._columnar():
            yield from self._per_row_tables()
            return
        assert self.plan is not None
        layout = pc3_fetch.Layout(self.plan, self.order)
        for k, raw in enumerate(pc3_fetch.batches(self.conn, layout, BATCH), 1):
            table = self._batch(layout, raw)
            if table is not None and table.num_rows:
                yield table
            if k % TRIM_EVERY == 0:
                release_free_memory()  # the batches' buffers, freed on two threads

    def _per_row_tables(self) -> Iterator[pa.Table]:
        chunk: list[Message] = []
        for row in stream_fast(self.conn, "MSG", self.order, pc3.NEEDED):
            message = pc3.row_message(row, self.shard.shard_name, self.ref, self.shard, self.ctx)
            if message is not None:
                chunk.append(message)
                if len(chunk) >= CHUNK_MESSAGES:
                    yield to_table(chunk)
                    chunk = []
        if chunk:
            yield to_table(chunk)

    # -- one batch -----------------------------------------------------------------------

    def _batch(self, layout: pc3_fetch.Layout, raw: pc3_fetch.Raw) -> pa.Table | None:
        n = raw.count
        if raw.headers is None:  # rows SQLite could not concatenate: all per row
            assert raw.rowids is not None
            return self._merge(None, np.zeros(0, np.int64), raw.rowids, np.ones(n, bool))
        batch = pc3_fetch.Batch(layout, raw)
        rowids = batch.rowid  # of every row (``keep`` leaves this array as it is)
        odd = batch.odd
        texts: list[pa.Array] | None
        try:
            texts = [a.cast(pa.string()) for a in (batch.json, batch.talker, batch.content)]
        except pa.ArrowInvalid:  # invalid UTF-8 somewhere: those rows go per row
            odd = odd | _invalid_utf8((batch.json, batch.talker, batch.content), n)
            texts = None
        if not odd.any():
            assert texts is not None
            return self._columns(batch, texts[1], texts[2])
        good = np.flatnonzero(~odd)
        table = None
        if len(good):
            batch.keep(~odd)
            talker_s, content_s = (a.cast(pa.string()) for a in (batch.talker, batch.content))
            table = self._columns(batch, talker_s, content_s)
        return self._merge(table, good, rowids, odd)

    def _merge(
        self,
        table: pa.Table | None,
        good: np.ndarray,
        rowids: np.ndarray,
        odd: np.ndarray,
    ) -> pa.Table | None:
        """Read the ``odd`` rows (of ``rowids``) through the per-row code and put them
        back in their places among the ``good`` ones of ``table``."""
        assert self.plan is not None
        messages: list[Message] = []
        places: list[int] = []
        sql = self.plan.sql(where="rowid = ?")
        for place in np.flatnonzero(odd).tolist():
            for raw in self.conn.execute(sql, (int(rowids[place]),)).fetchall():
                for row in self.plan.convert(self.conn, raw):
                    message = pc3.row_message(
                        row, self.shard.shard_name, self.ref, self.shard, self.ctx
                    )
                    if message is not None:
                        messages.append(message)
                        places.append(place)
        if not messages:
            return table
        extra = to_table(messages)
        if table is None:
            return extra
        both = pa.concat_tables([table, extra])
        order = np.argsort(np.concatenate([good, np.array(places, np.int64)]), kind="stable")
        return both.take(pa.array(order))

    def _columns(self, batch: pc3_fetch.Batch, talker_s: pa.Array, content_s: pa.Array) -> pa.Table:
        n = batch.n
        local = batch.local
        server = batch.server
        types = batch.types
        outbound = batch.is_sender == 1
        created = batch.created
        json_b = batch.json
        blob_names = tuple(batch.blobs)
        blob_arrays = tuple(batch.blobs.values())
        compress = batch.blobs.get("CompressContent")
        extra = batch.blobs.get("BytesExtra")

        # conversations, per distinct talker
        talk_dict = talker_s.dictionary_encode()
        talker_idx = talk_dict.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        talkers: list[str] = talk_dict.dictionary.to_pylist()
        conv_info = [self._conversation(t) for t in talkers]
        conv_names = pa.array([c[0] for c in conv_info], pa.string())
        conv_types = pa.array([str(c[1]) for c in conv_info], pa.string())
        group = np.array([c[1] is ConversationType.GROUP for c in conv_info], bool)[talker_idx]

        # kinds: per distinct code, then `interpret` for the rows that need their content
        kind = np.empty(n, np.int8)
        media = np.zeros(n, bool)  # a file of the dump: an attachment (``Interpreted.media``)
        body_is_content = np.zeros(n, bool)
        uniq, inverse = np.unique(types, return_inverse=True)
        per_row = np.zeros(len(uniq), bool)
        for j, code in enumerate(uniq.tolist()):
            base_kind = BASE_KINDS.get(code)
            per_row[j] = code in PER_ROW_TYPES
            kind_j = K.UNKNOWN if base_kind is None else base_kind
            kind[inverse == j] = KIND_INDEX[kind_j]
            media[inverse == j] = code in MEDIA_TYPES
            body_is_content[inverse == j] = base_kind is None or code == 1
        special = per_row[inverse]
        special_idx = np.flatnonzero(special)
        infos: list[Interpreted] = []
        texts: list[str] = []  # CompressContent_text pieces of raw, per special row
        take_special = pa.array(special_idx)
        contents = content_s.take(take_special).to_pylist()
        compressed = compress.take(take_special).to_pylist() if compress is not None else None
        for j, i in enumerate(special_idx.tolist()):
            base = int(types[i])
            raw_content = contents[j]
            content = "" if raw_content is None else raw_content
            piece = ""
            if base == 49 and compressed is not None:
                blob = compressed[j]
                if blob:
                    xml = pc3.decompress(blob)
                    if xml is not None:
                        content = xml
                        piece = ',"CompressContent_text":' + json.dumps(xml, ensure_ascii=False)
            sub = int(batch.subtypes[i]) if base == 49 else None
            infos.append(
                interpret(
                    base,
                    content,
                    subtype=sub or None,
                    native_type=None if base == 49 else str(base),
                )
            )
            texts.append(piece)
        if infos:
            kind[special_idx] = [KIND_INDEX[info.kind] for info in infos]
            media[special_idx] = [info.media for info in infos]
        system = np.zeros(n, bool)
        deleted = np.zeros(n, bool)
        if infos:
            system[special_idx] = [info.system for info in infos]
            deleted[special_idx] = [info.deleted for info in infos]

        # senders: the owner, the talker of a direct chat, BytesExtra in groups
        senders = Codes()
        sender = np.full(n, -1, np.int64)
        talker_sender = np.array([senders.code(t) for t in talkers], np.int64)
        direct_in = ~outbound & ~group
        sender[direct_in] = talker_sender[talker_idx[direct_in]]
        if self.account is not None:
            sender[outbound] = senders.code(self.account)
        group_in = np.flatnonzero(group & ~outbound)
        if len(group_in) and extra is not None:
            items = self._bytes_extra
            found = [items(b).get(1) for b in extra.take(pa.array(group_in)).to_pylist()]
            sender[group_in] = [-1 if s is None else senders.code(s) for s in found]
        sender[system] = -1

        # names, per distinct (sender, room)
        n_talkers = len(talkers)
        named = sender >= 0
        room = np.where(group, talker_idx, -1)
        pair = sender * (n_talkers + 1) + (room + 1)
        name_code = np.full(n, -1, np.int64)
        names_piece_code = np.zeros(n, np.int64)
        name_dict: list[str] = []
        piece_dict: list[str] = [""]
        if named.any():
            pairs, pair_inv = np.unique(pair[named], return_inverse=True)
            p_name = np.empty(len(pairs), np.int64)
            p_piece = np.empty(len(pairs), np.int64)
            for j, p in enumerate(pairs.tolist()):
                s, r = divmod(p, n_talkers + 1)
                name, piece = self._sender_name(senders.values[s], talkers[r - 1] if r else None)
                p_name[j] = len(name_dict)
                name_dict.append(name)
                if piece:
                    p_piece[j] = len(piece_dict)
                    piece_dict.append(piece)
                else:
                    p_piece[j] = 0
            name_code[named] = p_name[pair_inv]
            names_piece_code[named] = p_piece[pair_inv]

        # raw: SQLite's JSON of the plain columns + the blobs (base64) and what was added
        raw = self._raw(
            json_b, blob_arrays, blob_names, special_idx, texts, names_piece_code, piece_dict, n
        )
        raw_s = raw.cast(pa.string())

        # message ids: sha256 per row over the key SQLite joined (server ids)
        keys = pc.binary_join_element_wise(
            self.id_prefix,
            batch.talker,
            b"\x1f",
            pc.cast(pc.cast(pa.array(server), pa.string()), pa.binary()),
            b"",
        )
        ids = sha256_hex(keys)
        local_rows = np.flatnonzero(server == 0)
        if len(local_rows):
            raws = raw_s.take(pa.array(local_rows)).to_pylist()
            local_ids: list[str] = []
            for j, i in enumerate(local_rows.tolist()):
                s_code = int(sender[i])
                local_ids.append(
                    wechat_id(
                        self.account,
                        talkers[int(talker_idx[i])],
                        None,
                        local_id=int(local[i]),
                        sent_at=epoch_to_utc(int(created[i])),
                        sender_id=senders.values[s_code] if s_code >= 0 else None,
                        raw=raws[j],
                    )
                )
            is_local = np.zeros(n, bool)
            is_local[local_rows] = True
            ids = pc.replace_with_mask(ids, pa.array(is_local), pa.array(local_ids, pa.string()))

        # kind-dependent columns
        native_type = pc.cast(pa.array(types), pa.string())
        body = pc.if_else(pa.array(body_is_content), pc.fill_null(content_s, ""), None)
        reply_to = pa.nulls(n, pa.string())
        if infos:
            mask = pa.array(special)
            native_type = pc.replace_with_mask(
                native_type, mask, pa.array([i.native_type for i in infos], pa.string())
            )
            body = pc.replace_with_mask(body, mask, pa.array([i.body for i in infos], pa.string()))
            reply_to = pc.replace_with_mask(
                reply_to, mask, pa.array([i.reply_to for i in infos], pa.string())
            )
        file_names: dict[int, str | None] = {
            i: info.file_name for i, info in zip(special_idx.tolist(), infos, strict=True)
        }
        attachments = self._attachments(media, kind, file_names, extra, n)

        direction = np.where(system, 2, np.where(outbound, 0, 1))
        server_s = pc.cast(pa.array(server), pa.string())
        columns: dict[str, pa.Array] = {
            "message_id": ids,
            "platform": _repeat("wechat", n),
            "source_format": _repeat(pc3.READER.name, n),
            "account_id": _repeat(self.account, n),
            "custodian": _repeat(self.custodian, n),
            "conversation_id": talker_s,
            "conversation_name": pc.take(conv_names, talk_dict.indices),
            "conversation_type": pc.take(conv_types, talk_dict.indices),
            "sender_id": decoded(sender, senders.values),
            "sender_name": decoded(name_code, name_dict),
            "direction": pc.take(DIRECTIONS, pa.array(direction.astype(np.int8))),
            "sent_at": pa.array(created * 1_000_000, TIMESTAMP),
            "sent_at_source": pc.cast(pa.array(created), pa.string()),
            "source_timezone": pa.nulls(n, pa.string()),
            "kind": pc.take(KIND_DICT, pa.array(kind)),
            "native_type": native_type,
            "body": body,
            "edited": pa.repeat(pa.scalar(False), n),
            "deleted": pa.array(deleted),
            "attachments": attachments,
            "reply_to": reply_to,
            "native_id": pc.if_else(pa.array(server != 0), server_s, None),
            "source_sha256": _repeat(self.ref.sha256, n),
            "source_path": _repeat(self.ref.display, n),
            "source_locator": pc.binary_join_element_wise(
                self.locator_prefix, pc.cast(pa.array(local), pa.string()), ""
            ),
            "raw": raw_s,
        }
        return pa.Table.from_arrays(
            [columns[f.name] for f in MESSAGE_SCHEMA], schema=MESSAGE_SCHEMA
        )

    def _raw(
        self,
        json_b: pa.Array,
        blob_cols: Sequence[pa.Array],
        blob_names: tuple[str, ...],
        special_idx: np.ndarray,
        texts: list[str],
        names_piece_code: np.ndarray,
        piece_dict: list[str],
        n: int,
    ) -> pa.Array:
        """``Row.raw()``: the JSON without its ``}``, then the record as json.dumps writes
        it: each blob column (base64 or null), ``_base64``, ``CompressContent_text``,
        ``_names``."""
        parts: list[pa.Array | bytes] = [pc.binary_slice(json_b, 0, -1)]
        b64_code = np.zeros(n, np.int64)
        for j, (name, values) in enumerate(zip(blob_names, blob_cols, strict=True)):
            if values.null_count == n:
                encoded = pa.nulls(n, pa.binary())
            else:
                encoded = pa.array(
                    [
                        None if v is None else b2a_base64(v, newline=False)
                        for v in values.to_pylist()
                    ],
                    pa.binary(),
                )
            b64_code |= (~np.asarray(encoded.is_null(), bool)).astype(np.int64) << j
            quoted = pc.binary_join_element_wise(b'"', encoded, b'"', b"")
            parts.append(("," + json.dumps(name, ensure_ascii=False) + ":").encode())
            parts.append(pc.fill_null(quoted, b"null"))
        lists = []
        for code in range(1 << len(blob_names)):
            named = [b for j, b in enumerate(blob_names) if code >> j & 1]
            lists.append(
                ',"_base64":' + json.dumps(named, ensure_ascii=False, separators=(",", ":"))
                if named
                else ""
            )
        parts.append(decoded(b64_code, lists).cast(pa.binary()))
        if any(texts):
            full = [""] * n
            for i, piece in zip(special_idx.tolist(), texts, strict=True):
                full[i] = piece
            parts.append(pa.array(full, pa.string()).cast(pa.binary()))
        if len(piece_dict) > 1:
            parts.append(decoded(names_piece_code, piece_dict).cast(pa.binary()))
        parts.append(b"}")
        return pc.binary_join_element_wise(*parts, b"")

    def _attachments(
        self,
        media: np.ndarray,
        kind: np.ndarray,
        file_names: dict[int, str | None],
        extra: pa.Array | None,
        n: int,
    ) -> pa.Array:
        offsets = np.zeros(n + 1, np.int32)
        np.cumsum(media, out=offsets[1:])
        rows = np.flatnonzero(media)
        blobs = extra.take(pa.array(rows)).to_pylist() if extra is not None else [None] * len(rows)
        found: list[Attachment] = []
        for i, blob in zip(rows.tolist(), blobs, strict=True):
            found.append(self._attachment(KINDS[kind[i]], file_names.get(i), blob))
        values = pa.StructArray.from_arrays(
            [
                pa.array([a.name for a in found], pa.string()),
                pa.array([a.sha256 for a in found], pa.string()),
                pa.array([a.size for a in found], pa.int64()),
                pa.array([a.media_type for a in found], pa.string()),
                pa.array([str(a.status) for a in found], pa.string()),
            ],
            fields=list(ATTACHMENT_TYPE),
        )
        return pa.ListArray.from_arrays(pa.array(offsets), values, pa.list_(ATTACHMENT_TYPE))

    # -- per distinct value ------------------------------------------------------------

    def _bytes_extra(self, blob: bytes | None) -> dict[int, str]:
        if not blob:
            return {}
        found = self._items.get(blob)
        if found is None:
            if len(self._items) >= CACHE_MAX:
                self._items.clear()
            found = self._items[blob] = bytes_extra_items(blob)
        return found

    def _conversation(self, talker: str) -> tuple[str | None, ConversationType]:
        found = self._talkers.get(talker)
        if found is None:
            conv = self.emitter.conversation(talker)
            found = self._talkers[talker] = (conv.name, conv.type)
        return found

    def _sender_name(self, sender: str, room: str | None) -> tuple[str, str]:
        """(display name, the ``_names`` piece of raw or "")."""
        found = self._names.get((sender, room))
        if found is None:
            name, others = self.directory.sender(sender, room)
            piece = ""
            if others:
                dumped = json.dumps(others, ensure_ascii=False, separators=(",", ":"))
                piece = ',"_names":' + dumped
            found = self._names[(sender, room)] = (name, piece)
        return found

    def _attachment(self, kind: K, file_name: str | None, blob: bytes | None) -> Attachment:
        """``pc3._attachments`` (its one attachment), without pathlib on the hot path."""
        items = bytes_extra_items(blob) if blob else {}  # unique per media row: no memo
        rel = items.get(4) or (items.get(3) if kind is K.IMAGE else None)
        name = file_name
        if rel:
            parts = windows_parts(rel)
            name = name or parts[-1]
            root = self.files_root
            if root is not None and parts and ".." not in parts:
                path: Path | None = None
                if ":" in rel or rel[:1] in ("\\", "/"):  # pathlib's own rules
                    path = Path(root).joinpath(*parts)
                    if not path.is_file():
                        path = None
                else:  # relative parts without separators: a plain join
                    joined = root + "/".join(parts)
                    if is_file(joined):
                        path = Path(joined)
                if path is not None:
                    return self.ctx.media.store_file(path, name or path.name, None)
        return Attachment(name, None, None, None, AttachmentStatus.MISSING)


def _invalid_utf8(arrays: Sequence[pa.Array], n: int) -> np.ndarray:
    """Rows where a value of one of ``arrays`` is not valid UTF-8."""
    bad = np.zeros(n, bool)
    for arr in arrays:
        bad |= np.fromiter((not _valid_utf8(v) for v in arr.to_pylist()), bool, n)
    return bad


def _valid_utf8(value: object) -> bool:
    if not isinstance(value, bytes):
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
