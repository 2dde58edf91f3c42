"""A tiny protobuf wire-format decoder: WeChat's BytesExtra, RoomData and
dbContactRemark blobs have no ``.proto`` to compile, and we only need a few fields."""

from __future__ import annotations

from collections.abc import Iterator

Value = int | bytes


class ProtobufError(ValueError):
    """The blob is not valid protobuf wire format."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtobufError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def iter_fields(data: bytes) -> Iterator[tuple[int, Value]]:
    """(field number, value): varints as int, length-delimited and fixed as bytes."""
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ProtobufError("field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
            yield field, value
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > end:
                raise ProtobufError("truncated length-delimited field")
            yield field, data[pos : pos + size]
            pos += size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > end:
                raise ProtobufError("truncated fixed field")
            yield field, data[pos : pos + size]
            pos += size
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def fields(data: bytes) -> dict[int, list[Value]]:
    out: dict[int, list[Value]] = {}
    for num, value in iter_fields(data):
        out.setdefault(num, []).append(value)
    return out


def first_text(msg: dict[int, list[Value]], num: int) -> str | None:
    for value in msg.get(num, ()):
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
    return None


def first_int(msg: dict[int, list[Value]], num: int) -> int | None:
    for value in msg.get(num, ()):
        if isinstance(value, int):
            return value
    return None


def room_members(blob: bytes | None) -> dict[str, str]:
    """RoomData / ext_buffer / roomdata: top-level field 1 repeats {1: wxid, 2: group
    nickname}; other top-level fields are noise (formats/wechat.md, 4.x chat_room)."""
    out: dict[str, str] = {}
    if not blob:
        return out
    try:
        for num, value in iter_fields(blob):
            if num != 1 or not isinstance(value, bytes):
                continue
            member = fields(value)
            wxid = first_text(member, 1)
            nick = first_text(member, 2)
            if wxid and nick:
                out[wxid] = nick
    except ProtobufError:
        return out
    return out


def bytes_extra_items(blob: bytes | None) -> dict[int, str]:
    """Windows 3.x BytesExtra: field 3 repeats {1: type, 2: value}; first value per type."""
    out: dict[int, str] = {}
    if not blob:
        return out
    try:
        for num, value in iter_fields(blob):
            if num != 3 or not isinstance(value, bytes):
                continue
            item = fields(value)
            kind = first_int(item, 1)
            text = first_text(item, 2)
            if kind is not None and text is not None:
                out.setdefault(kind, text)
    except ProtobufError:
        return out
    return out


# --- encoding, for fixtures and samples -------------------------------------------------


def _enc_varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode(items: list[tuple[int, int | bytes | str]]) -> bytes:
    """Encode (field, value) pairs: int as varint, str/bytes as length-delimited."""
    out = bytearray()
    for num, value in items:
        if isinstance(value, int):
            out += _enc_varint(num << 3) + _enc_varint(value)
        else:
            data = value.encode("utf-8") if isinstance(value, str) else value
            out += _enc_varint(num << 3 | 2) + _enc_varint(len(data)) + data
    return bytes(out)
