"""Bytes → text for chat exports, streamed, without changing a character.

- A BOM decides: UTF-8 (``utf-8-sig``), UTF-16 LE/BE. Only the leading BOM is dropped
  (it is not a line); stray BOMs mid-file (concatenated exports) stay as U+FEFF and the
  readers treat them as header marks.
- UTF-16 without a BOM is recognised by its NUL bytes in alternate positions.
- Otherwise UTF-8 is tried. When the bytes are not valid UTF-8, the non-ASCII lines decide:
  mostly valid UTF-8 sequences with a few invalid bytes (a damaged UTF-8 export) stay UTF-8,
  read ``lossy``: each invalid byte becomes U+FFFD and the lines that had some are
  reported (the archived source copy keeps the bytes); else the encoding is guessed with
  chardet (legacy single-byte code pages of old Windows copies).
- No universal newlines and no ``str.splitlines()``: both destroy ``\\r\\n`` inside message
  bodies and split on U+2028. A file's own line ending is decided from the whole file
  (``line_ending``): ``\\r\\n`` when no ``\\n`` stands alone (re-saved on Windows), ``\\r``
  when there is no ``\\n`` at all (old Mac); ``iter_blocks`` then hands out text with
  ``\\n`` line ends, which the caller maps back for verbatim text (``\\n`` → the line
  ending is exact, as no other ``\\n`` is in such a file).

The encoding chosen is returned so that the batch record can say which one was used.
"""

from __future__ import annotations

import codecs
import re
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
    ``confirmed`` is False for a UTF-8 guess that the whole file has not yet proven;
    ``lossy``: UTF-8 with invalid bytes, each read as U+FFFD (see ``iter_blocks``)."""

    __slots__ = ("codec", "confirmed", "lossy", "name")

    def __init__(self, name: str, codec: str, confirmed: bool, lossy: bool = False) -> None:
        self.name = name
        self.codec = codec
        self.confirmed = confirmed
        self.lossy = lossy

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
    ``limit`` bytes: a better chardet sample than the file's mostly-ASCII head. A line
    longer than 64 KiB (a file with CR line ends is one line) is taken in pieces."""
    out = bytearray()
    for line in iter(lambda: stream.readline(64 * 1024), b""):
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


# UTF-8 that a code page would garble: at least this many valid non-ASCII characters per
# invalid byte among the non-ASCII lines. Text in a legacy code page almost never forms a
# valid multi-byte sequence (a lead byte 0xC2-0xF4 followed by the right number of
# 0x80-0xBF bytes), so it shows many invalid bytes per valid sequence, if any.
UTF8_PER_INVALID = 2
_ESCAPED = re.compile("[\udc80-\udcff]+")  # bytes that ``surrogateescape`` kept


def _mostly_utf8(sample: bytes) -> bool:
    text = sample.decode("utf-8", "surrogateescape")
    bad = sum(m.end() - m.start() for m in _ESCAPED.finditer(text))
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    return good >= UTF8_PER_INVALID * bad


def fallback(stream: BinaryIO, tried: Encoding | None = None) -> Encoding:
    """The encoding after a read as ``tried`` (a UTF-8 guess, or UTF-8 with a BOM)
    failed on an invalid byte: UTF-8 read ``lossy`` when the file is mostly UTF-8, else
    the legacy guess (a file with a UTF-8 BOM has no other: it is rejected)."""
    sample = non_ascii_lines(stream)
    if tried is not None and tried.codec == "utf-8-sig":
        if _mostly_utf8(sample):
            return Encoding(tried.name, tried.codec, True, lossy=True)
        raise SourceError(f"invalid {tried.name} byte sequence")
    if _mostly_utf8(sample):
        return Encoding("utf-8", "utf-8", True, lossy=True)
    return _legacy(sample)


def replace_invalid(text: str, bad: list[tuple[int, int]] | None, line: int = 1) -> str:
    """``text`` decoded with ``surrogateescape``, each escaped byte as U+FFFD; appends
    ``(line, invalid bytes)`` for each line that had some to ``bad`` (``line``: the
    number of ``text``'s first line)."""
    if not _ESCAPED.search(text):
        return text
    if bad is not None:
        pos = 0
        for m in _ESCAPED.finditer(text):
            line += text.count("\n", pos, m.start())
            pos = m.start()
            n = m.end() - m.start()
            if bad and bad[-1][0] == line:
                bad[-1] = (line, bad[-1][1] + n)
            else:
                bad.append((line, n))
    return _ESCAPED.sub(lambda m: "\ufffd" * (m.end() - m.start()), text)


def repair_utf8(data: bytes, bad: list[tuple[int, int]] | None, line: int = 1) -> bytes:
    """``data`` (whole lines) with each invalid UTF-8 byte replaced as by a ``lossy``
    ``iter_blocks``; ``data`` itself when it is valid."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        text = replace_invalid(data.decode("utf-8", "surrogateescape"), bad, line)
        return text.encode("utf-8")
    return data


def line_ending(open_stream: Callable[[], BinaryIO], enc: Encoding) -> str:
    """The line ending of the whole text: ``"\\r\\n"`` when every ``\\n`` follows a
    ``\\r``, ``"\\r"`` when there is a ``\\r`` and no ``\\n`` at all, else ``"\\n"``. Reads
    until the first lone ``\\n`` (at once for most files), the whole file otherwise."""
    # In the ASCII-compatible encodings (UTF-8 and the code pages) the bytes 0x0A and
    # 0x0D are LF and CR wherever they are: the bytes are counted as they are.
    wide = enc.codec.replace("_", "-").lower().startswith(("utf-16", "utf-32"))
    decoder = codecs.getincrementaldecoder(enc.codec)(errors="replace") if wide else None
    ends = _LineEnds()
    with open_stream() as fh:
        while chunk := fh.read(SNIFF_SIZE):
            if decoder is not None:
                ends.feed(decoder.decode(chunk).encode("utf-8", "surrogatepass"))
            else:
                ends.feed(chunk)
            if ends.lone_lf:
                return "\n"
    return "\r\n" if ends.crlf else "\r" if ends.cr else "\n"


class _LineEnds:
    """What ``line_ending`` has seen so far."""

    def __init__(self) -> None:
        self.lone_lf = self.crlf = self.cr = self.prev_cr = False

    def feed(self, data: bytes) -> None:
        if not data:
            return
        n = data.count(b"\n")
        if n:
            pairs = data.count(b"\r\n") + (1 if self.prev_cr and data[0] == 10 else 0)
            self.lone_lf = pairs < n
            self.crlf = True
        self.cr = self.cr or b"\r" in data
        self.prev_cr = data[-1] == 13


def decode_head(head: bytes) -> str:
    """Best-effort text of a file's first bytes, for detection only."""
    try:
        enc = sniff(head)
    except SourceError:
        return ""
    text: str = codecs.getincrementaldecoder(enc.codec)(errors="replace").decode(head)
    return text


def iter_blocks(
    open_stream: Callable[[], BinaryIO],
    enc: Encoding,
    block_size: int = BLOCK_SIZE,
    newline: str = "\n",
    bad: list[tuple[int, int]] | None = None,
) -> Iterator[str]:
    """Decoded text in blocks that each end just after a ``\\n`` (except the last), with
    the file's ``newline`` (see ``line_ending``) turned into ``\\n``.

    Raises ``UnicodeDecodeError`` on invalid bytes (the caller falls back for a UTF-8
    guess, or rejects the input), except when ``enc.lossy``: then each invalid byte is
    U+FFFD, and ``bad`` (if given) collects ``(line number, invalid bytes)``."""
    decoder = codecs.getincrementaldecoder(enc.codec)(
        errors="surrogateescape" if enc.lossy else "strict"
    )
    end = newline[-1]  # a block never ends inside "\r\n": it is cut after the "\n"
    pending = ""
    line = 1
    with open_stream() as fh:
        while True:
            chunk = fh.read(block_size)
            text = pending + decoder.decode(chunk, final=not chunk)
            cut = text.rfind(end) + 1 if chunk else len(text)
            if cut == 0 and chunk:
                pending = text
                continue
            pending = text[cut:]
            block = text[:cut]
            if newline != "\n":
                block = block.replace(newline, "\n")
            if enc.lossy:
                block = replace_invalid(block, bad, line)
                if bad is not None:
                    line += block.count("\n")
            if block:
                yield block
            if not chunk:
                return
