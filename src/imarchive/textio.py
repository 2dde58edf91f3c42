"""Bytes → text for chat exports, streamed, without changing a character.

- A BOM decides: UTF-8 (``utf-8-sig``), UTF-16 LE/BE. Only the leading BOM is dropped
  (it is not a line); stray BOMs mid-file (concatenated exports) stay as U+FEFF and the
  readers treat them as header marks.
- UTF-16 without a BOM is recognised by its NUL bytes in alternate positions.
- Otherwise UTF-8 is tried; when the bytes are not valid UTF-8 the encoding is guessed
  with chardet (legacy single-byte code pages of old Windows copies).
- Newlines are never translated: no universal newlines and no ``str.splitlines()``, both of
  which destroy ``\\r\\n`` inside message bodies and split on U+2028.

The encoding chosen is returned so that the batch record can say which one was used.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from typing import BinaryIO

import chardet

from imarchive.errors import SourceError

BLOCK_SIZE = 4 * 1024 * 1024  # bytes read per block when streaming
SNIFF_SIZE = 64 * 1024

# name reported → codec used to decode (the codec drops the BOM itself)
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le-bom", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be-bom", "utf-16"),
)


class Encoding:
    """``name`` is what the batch record shows; ``codec`` what decodes the bytes;
    ``confirmed`` is False for a UTF-8 guess that the whole file has not yet proven."""

    __slots__ = ("codec", "confirmed", "name")

    def __init__(self, name: str, codec: str, confirmed: bool) -> None:
        self.name = name
        self.codec = codec
        self.confirmed = confirmed

    def __repr__(self) -> str:
        return f"Encoding({self.name!r})"


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[: 4096 - (len(head[:4096]) % 2)]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


_LATIN = frozenset({"latin-1", "iso8859-1", "iso8859-15"})
_C1 = bytes(range(0x80, 0xA0))


def _legacy(sample: bytes) -> Encoding:
    """chardet's guess for a non-UTF text. Its confidence figures are low for short
    Western texts even when right, so any named guess is taken; ISO-8859-1/15 becomes
    cp1252 when the bytes use 0x80-0x9F (Windows punctuation, the euro sign)."""
    guess = chardet.detect(sample)
    name = guess.get("encoding")
    if not name:
        raise SourceError("cannot determine the text encoding (not UTF-8 or UTF-16)")
    try:
        codec = codecs.lookup(name).name
    except LookupError as exc:
        raise SourceError("cannot determine the text encoding (unknown code page)") from exc
    if codec.startswith("utf-8"):
        raise SourceError("invalid UTF-8 byte sequence")
    if codec in _LATIN and any(b in _C1 for b in sample):
        codec = "cp1252"
    return Encoding(codec, codec, True)


def non_ascii_lines(stream: BinaryIO, limit: int = 256 * 1024) -> bytes:
    """The lines of a file that hold non-ASCII bytes (what tells code pages apart), up to
    ``limit`` bytes: a better chardet sample than the file's mostly-ASCII head."""
    out = bytearray()
    for line in stream:
        if not line.isascii():
            out += line
            if len(out) >= limit:
                break
    return bytes(out)


def sniff(head: bytes) -> Encoding:
    """The encoding of a file from its first bytes (see module docstring)."""
    for bom, name, codec in _BOMS:
        if head.startswith(bom):
            return Encoding(name, codec, True)
    wide = _utf16_without_bom(head)
    if wide:
        return Encoding(wide, wide, True)
    # Not confirmed: a UTF-8 failure (here or part-way) leads to ``fallback``.
    return Encoding("utf-8", "utf-8", False)


def fallback(stream: BinaryIO) -> Encoding:
    """The legacy guess after a tentative UTF-8 read failed part-way."""
    return _legacy(non_ascii_lines(stream))


def decode_head(head: bytes) -> str:
    """Best-effort text of a file's first bytes, for detection only."""
    try:
        enc = sniff(head)
    except SourceError:
        return ""
    text: str = codecs.getincrementaldecoder(enc.codec)(errors="replace").decode(head)
    return text


def iter_blocks(
    open_stream: Callable[[], BinaryIO], enc: Encoding, block_size: int = BLOCK_SIZE
) -> Iterator[str]:
    """Decoded text in blocks that each end just after a ``\\n`` (except the last).

    Raises ``UnicodeDecodeError`` on invalid bytes (the caller falls back for a UTF-8
    guess, or rejects the input)."""
    decoder = codecs.getincrementaldecoder(enc.codec)(errors="strict")
    pending = ""
    with open_stream() as fh:
        while chunk := fh.read(block_size):
            text = pending + decoder.decode(chunk)
            cut = text.rfind("\n") + 1
            if cut == 0:
                pending = text
                continue
            pending = text[cut:]
            yield text[:cut]
    text = pending + decoder.decode(b"", final=True)
    if text:
        yield text
