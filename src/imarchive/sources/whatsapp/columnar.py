"""The columnar fast path of the ``whatsapp-txt`` reader: the same rows, as Arrow tables.

``reader.py`` is the definition: record cutting (``lines.py``), header families
(``dialects.py``), whole-file facts (``infer.py``), markers, names and time rules. This
module computes the very same values for large UTF-8 exports of the two common shapes
(Android ``d/m/y, H:MM - `` and iOS ``[d/m/y, H:MM:SS] ``, 24-hour clock) with vectorised
kernels, block by block, and hands every record it cannot decide that way to the exact
code, record by record:

- header lines: one RE2 pass over the line array with a strict sub-language of the
  family's regex; lines it does not match but the family regex might (a digit or ``[``
  after the marks) are matched with the family regex itself;
- dates: each distinct date text is read once with ``timeparse.ymd``; times are cut from
  ASCII digits; a day on which the zone changes its offset (DST) is resolved per record
  with ``ZoneResolver`` (fold, gap and their warnings as in the exact reader);
- authors: ``: `` split with the exact rules; authorless lines, ``Carol:`` lines, iOS
  notices (LRM before the body) and names matching ``SYSTEM_IN_AUTHOR`` go per record;
- kinds: only bodies that could be anything but plain text (a superset, see
  ``_MAYBE_SPECIAL``) are classified, with ``markers.classify``, once per distinct body;
- the duplicate counter ``n``: exact (``(sent_at_source, sender, body)`` counted over the
  whole export), in-block by sorting, across blocks through the timestamp runs that a
  first pass found recurring.

The first pass also decides what the exact reader's pre-pass decides (day/month order,
authors and group events for ``conversation_type``) and whether the file qualifies at all
(UTF-8, one supported family, most sample headers in the strict shape, no ``A: B`` long
names, a header in the first block). When it does not, the exact reader runs unchanged.

Line ends and invalid bytes are handled as the exact reader's ``textio`` handles them: a
CRLF or CR file's line ends become ``\\n`` as the bytes are read (``_chunks``) and come
back in ``raw``; a file read ``lossy`` has its blocks repaired (``textio.repair_utf8``)
before anything looks at them, the first pass noting the lines.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from imarchive import textio
from imarchive.errors import SourceError
from imarchive.identity import format_instant
from imarchive.memory import release_free_memory
from imarchive.model import Attachment, AttachmentStatus, ConversationType, Message
from imarchive.schema import ATTACHMENT_TYPE, MESSAGE_SCHEMA, Codes, decoded, sha256_hex
from imarchive.sources.base import ReadContext
from imarchive.sources.whatsapp import dialects, infer, inputs, markers, naming
from imarchive.sources.whatsapp.inputs import _mime
from imarchive.sources.whatsapp.reader import (
    FOREIGN_HEADER,
    FOREIGN_MESSAGE,
    SOURCE_FORMAT,
    SUSPICIOUS_BACKWARDS,
    _Parse,
)
from imarchive.sources.whatsapp.timeparse import BadTimestamp, dst_message, ymd

FAST_MIN_BYTES = 1 << 20  # smaller exports take milliseconds on the exact path
BLOCK_SIZE = 1024 * 1024  # a bigger block saves little time and costs peak memory
MIN_STRICT_SHARE = 0.9  # of the sample's headers, else the exact reader runs

_MARKS_RE = r"[\x{200e}\x{200f}\x{feff}]*"
_DATE_RE = r"(?:\d{1,4}/\d{1,2}/\d{1,4}|\d{1,4}\.\d{1,2}\.\d{1,4}|\d{1,4}-\d{1,2}-\d{1,4})"
# Strict sub-languages of the family regexes (no backreferences: every separator choice
# spelled out): whatever they match, the family regex matches with the same groups.
STRICT: dict[str, str] = {
    "android": "^"
    + _MARKS_RE
    + _DATE_RE
    + r",? \d{1,2}(?::\d{2}(?::\d{2})?|\.\d{2}(?:\.\d{2})?) - ",
    "ios": "^" + _MARKS_RE + r"\[" + _DATE_RE + r",? \d{1,2}(?::\d{2}:\d{2}|\.\d{2}\.\d{2})\] ",
}
# A line the family regex could match at all starts with marks, then a digit or "[".
_MAYBE_HEADER = "^" + _MARKS_RE + r"(?:\[|\p{Nd})"
_DATE_FIELDS = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})")
_EPOCH = datetime(1970, 1, 1)
_US = 1_000_000
_LRM = b"\xe2\x80\x8e"
_MARK_PREFIXES = (b"\xe2\x80\x8e", b"\xe2\x80\x8f", b"\xef\xbb\xbf")

# Bodies that ``markers.classify`` may call anything but plain text all show one of these
# (checked against every branch of ``classify``); the others are text without a look.
_SPECIAL_WORDS = sorted(
    markers.DELETED
    | markers.VIEW_ONCE
    | markers.WAITING
    | markers.MEDIA_OMITTED
    | set(markers.IOS_OMITTED)
)
_INVALID_HEADER = "header has an invalid date or time"
_MAYBE_SPECIAL = (
    r"(?:^$|^[\x{200e}\x{200f}]|>$|<|\)|omi|weggel|ocult|omess|отсутству|://"
    r"|^(?:POLL|UMFRAGE|ENCUESTA|SONDAGE|ENQUETE|SONDAGGIO|PEILING|ОПРОС)"
    r"|^(?:Missed |Voice call|Video call|Verpasster |Entgangener |Llamada perdida|Appel "
    r"|Chamada |Chiamata |Gemiste |Пропущенный )"
    r"|^(?:This message was deleted by admin |Diese Nachricht wurde von Admin))"
)


def fast_parse(src: inputs.ExportInput, ctx: ReadContext) -> _Parse | None:
    """The fast parser for a large export, else None (the caller runs the exact one).
    It is a ``_Parse`` whose ``run`` yields Arrow tables of ``MESSAGE_SCHEMA`` rows (the
    pipeline takes them; see ``sources.base.Reader.read``), or Messages after falling
    back to the exact path for the whole input."""
    if src.size < FAST_MIN_BYTES:
        return None
    return FastParse(src, ctx)


# -- small helpers -------------------------------------------------------------------------


def _segments(data: pa.Buffer, bounds: np.ndarray) -> pa.StringArray:
    """Zero-copy string array of ``data[bounds[i]:bounds[i+1]]`` (bounds ascending)."""
    offs = pa.py_buffer(np.ascontiguousarray(bounds, dtype=np.int32))
    arr: pa.StringArray = pa.StringArray.from_buffers(len(bounds) - 1, offs, data)
    return arr


def _spans(data: pa.Buffer, start: np.ndarray, end: np.ndarray) -> pa.Array:
    """Strings ``data[start[i]:end[i]]`` for non-overlapping ascending spans."""
    if len(start) == 0:
        return pa.array([], pa.string())
    bounds = np.empty(2 * len(start) + 1, dtype=np.int64)
    bounds[0:-1:2] = start
    bounds[1:-1:2] = end
    bounds[-1] = end[-1]
    if np.array_equal(start[1:], end[:-1]):
        return _segments(data, np.append(start, end[-1]))
    return _segments(data, bounds).take(pa.array(np.arange(0, 2 * len(start), 2)))


def _gather(u8: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Bytes at positions (0 past the end)."""
    if not len(pos) or (pos.max() < len(u8) and pos.min() >= -len(u8)):
        got: np.ndarray = u8[pos]
        return got
    ok = (pos < len(u8)) & (pos >= 0)
    out = np.zeros(pos.shape, dtype=np.uint8)
    out[ok] = u8[pos[ok]]
    return out


def _digits(u8: np.ndarray, pos: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Unsigned decimal numbers of 1 or 2 ASCII digits at ``pos``."""
    first = _gather(u8, pos).astype(np.int64) - 48
    second = _gather(u8, pos + 1).astype(np.int64) - 48
    out: np.ndarray = np.where(width == 2, first * 10 + second, first)
    return out


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    out: np.ndarray = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)
    return out


# -- block reading -----------------------------------------------------------------------


def _chunks(
    open_stream: Callable[[], BinaryIO], skip: int, size: int, newline: str = "\n"
) -> Iterator[bytes]:
    """The bytes after the BOM, with the file's ``newline`` turned into ``\\n`` as
    ``textio.iter_blocks`` turns it (a ``\\r`` at a chunk's end waits for the next)."""
    with open_stream() as fh:
        if skip:
            fh.read(skip)
        if newline == "\n":
            while chunk := fh.read(size):
                yield chunk
            return
        held = b""
        while chunk := fh.read(size):
            if newline == "\r":
                yield chunk.replace(b"\r", b"\n")
                continue
            chunk = held + chunk
            held = b"\r" if chunk.endswith(b"\r") else b""
            chunk = chunk[: len(chunk) - len(held)].replace(b"\r\n", b"\n")
            if chunk:
                yield chunk
        if held:
            yield held


class _Lines:
    """The lines of one block of bytes (each with its ``\\n``, the last maybe without)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.buf = pa.py_buffer(data)
        # the bytes, then 32 zero bytes: reads a little past the end need no bounds checks
        self.u8 = np.frombuffer(data + bytes(32), dtype=np.uint8)
        nl = np.flatnonzero(self.u8[: len(data)] == 10)
        ends = nl + 1
        if len(data) and (len(nl) == 0 or nl[-1] != len(data) - 1):
            ends = np.append(ends, len(data))
        self.end = ends.astype(np.int64)
        self.start = np.empty_like(self.end)
        if len(ends):
            self.start[0] = 0
            self.start[1:] = ends[:-1]
        self.n = len(ends)
        self.array = _segments(self.buf, np.append(self.start, len(data)))
        # a line's text end without its "\n"
        self.text_end = self.end - (_gather(self.u8, self.end - 1) == 10)
        prev_cr = (self.end >= 2) & (_gather(self.u8, self.end - 2) == 13)
        self.crlf = (self.text_end != self.end) & prev_cr

    def text(self, i: int) -> str:
        return self.data[self.start[i] : self.end[i]].decode("utf-8")


class _Headers:
    """Which lines start records, and the strict-shape fields of their headers."""

    def __init__(self, lines: _Lines, shape: _Shape, first_is_record: bool) -> None:
        n = lines.n
        self.strict = _np_bool(pc.match_substring_regex(lines.array, shape.strict))
        maybe = _np_bool(pc.match_substring_regex(lines.array, _MAYBE_HEADER)) & ~self.strict
        self.maybe = np.flatnonzero(maybe)  # lines any family's header could be
        # lines in the family's full language but not the strict one: the exact regex
        self.other: dict[int, re.Match[str]] = {}
        for i in self.maybe.tolist():
            m = shape.plain.match(lines.text(i))
            if m is not None:
                self.other[i] = m
        looks = self.strict.copy()
        if self.other:
            looks[list(self.other)] = True
        self.looks = looks  # header-looking lines, wherever they are
        if shape.ios_records and n:
            ok = np.empty(n, dtype=bool)
            ok[1:] = lines.crlf[:-1]
            ok[0] = first_is_record
            is_header = looks & ok
        else:
            is_header = looks
        self.lines = np.flatnonzero(is_header)
        # strict-shape fields (only meaningful where strict)
        hl = self.lines
        u8 = lines.u8
        pos = lines.start[hl].copy()
        for _ in range(8):  # marks before the header (LRM, RLM, BOM: 3 bytes each)
            b0, b1, b2 = _gather(u8, pos), _gather(u8, pos + 1), _gather(u8, pos + 2)
            mark = ((b0 == 0xE2) & (b1 == 0x80) & ((b2 == 0x8E) | (b2 == 0x8F))) | (
                (b0 == 0xEF) & (b1 == 0xBB) & (b2 == 0xBF)
            )
            if not mark.any():
                break
            pos = pos + 3 * mark
        ts_start = pos + (1 if shape.ios else 0)
        # date: up to the first "," or " " (12 bytes at most)
        win = _gather(u8, ts_start[:, None] + np.arange(13)).reshape(len(hl), 13)
        stop = (win == 44) | (win == 32)
        date_len = np.argmax(stop, axis=1)
        after = win[np.arange(len(hl)), date_len] if len(hl) else np.zeros(0, np.uint8)
        time_start = ts_start + date_len + np.where(after == 44, 2, 1)
        # time: digits and separators
        twin = _gather(u8, time_start[:, None] + np.arange(9)).reshape(len(hl), 9)
        tchar = ((twin >= 48) & (twin <= 57)) | (twin == 58) | (twin == 46)
        time_len = np.argmin(tchar, axis=1)
        h_width = np.where((twin[:, 1] == 58) | (twin[:, 1] == 46), 1, 2) if len(hl) else hl
        self.ts_start = ts_start
        self.date_end = ts_start + date_len
        self.ts_end = time_start + time_len
        self.hdr_end = self.ts_end + (2 if shape.ios else 3)
        self.hour = _digits(u8, time_start, h_width)
        self.minute = _digits(u8, time_start + h_width + 1, np.full(len(hl), 2))
        has_sec = time_len >= h_width + 6
        self.second = np.where(
            has_sec, _digits(u8, time_start + h_width + 4, np.full(len(hl), 2)), 0
        )
        self.is_strict = self.strict[hl]
        other = ~self.is_strict  # positions of the family-regex headers: empty spans
        if other.any():
            at = lines.start[hl]
            for name in ("ts_start", "date_end", "ts_end", "hdr_end"):
                getattr(self, name)[other] = at[other]
            for name in ("hour", "minute", "second"):
                getattr(self, name)[other] = 0

    def head(self, keep: int) -> _Headers:
        """The first ``keep`` headers only."""
        out = object.__new__(_Headers)
        out.__dict__.update(self.__dict__)
        for name in _FIELDS:
            setattr(out, name, getattr(self, name)[:keep])
        return out


_FIELDS = (
    "lines",
    "ts_start",
    "date_end",
    "ts_end",
    "hdr_end",
    "hour",
    "minute",
    "second",
    "is_strict",
)


class _Shape:
    def __init__(self, family: str, ios_records: bool, families: tuple[str, ...]) -> None:
        self.family = family
        self.ios = family == "ios"
        self.strict = STRICT[family]
        self.ios_records = ios_records
        self.plain = dialects.compiled(families)


# -- the parser ------------------------------------------------------------------------------


class _Dates:
    """Distinct date texts → fields, days since 1970 (None: invalid under the order)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.fields: list[tuple[str, str, str]] = []
        self.days: dict[tuple[int, str], int | None] = {}

    def id_of(self, texts: list[str]) -> list[int]:
        out = []
        for t in texts:
            i = self.ids.get(t)
            if i is None:
                m = _DATE_FIELDS.fullmatch(t)
                assert m is not None  # the strict shape guarantees it
                i = self.ids[t] = len(self.fields)
                self.fields.append((m.group(1), m.group(3), m.group(4)))
            out.append(i)
        return out

    def order_info(self, ids: np.ndarray) -> np.ndarray:
        """Per date id: [len(d1) < 3, d1 > 12, d2 > 12] (``Prepass._order`` evidence)."""
        table = np.array(
            [(len(a) < 3, int(a) > 12, int(b) > 12) for a, b, _ in self.fields], dtype=bool
        ).reshape(-1, 3)
        out: np.ndarray = table[ids]
        return out

    def day(self, i: int, order: str) -> int | None:
        key = (i, order)
        if key not in self.days:
            d1, d2, d3 = self.fields[i]
            try:
                y, mo, d = ymd(d1, d2, d3, order)
                self.days[key] = (datetime(y, mo, d) - _EPOCH).days
            except (BadTimestamp, ValueError, KeyError, OverflowError):
                self.days[key] = None
        return self.days[key]


class FastParse(_Parse):
    """``_Parse`` with the two passes replaced by columnar ones where they apply."""

    def __init__(self, src: inputs.ExportInput, ctx: ReadContext) -> None:
        super().__init__(src, ctx)
        self.fast = False
        self.skip = 0
        self.dates = _Dates()
        self.other_ts: dict[str, int] = {}
        self.event_names: dict[str, bool] = {}
        self.recurring = np.zeros(0, dtype=np.int64)
        self.shape: _Shape | None = None
        self.block_size = BLOCK_SIZE
        self.newline = "\n"
        self.lossy = False
        self.invalid = False  # the file is not valid UTF-8

    # -- pass 1 -------------------------------------------------------------------------

    def _profile(self) -> tuple[textio.Encoding, infer.Profile]:
        got = self._fast_profile()
        if got is None:
            self.fast = False
            return super()._profile()
        self.fast = True
        return got

    def _fast_profile(self) -> tuple[textio.Encoding, infer.Profile] | None:
        opener = self.src.opener()
        with opener() as fh:
            head = fh.read(textio.SNIFF_SIZE)
        if not head:
            return None
        enc = textio.sniff(head)
        if enc.codec not in ("utf-8", "utf-8-sig"):
            return None
        self.skip = 3 if enc.codec == "utf-8-sig" else 0
        self.newline = textio.line_ending(opener, enc)
        got = self._fast_profile_as(enc)
        if got is not None or not self.invalid:
            return got
        # invalid UTF-8 somewhere: the exact reader's choice (``_Parse._profile``)
        try:
            with opener() as fh:
                enc = textio.fallback(fh, enc)
        except SourceError:
            return None  # the exact reader rejects it with the same reason
        if not enc.lossy:
            return None  # a code page: the exact reader
        return self._fast_profile_as(enc)

    def _fast_profile_as(
        self, enc: textio.Encoding
    ) -> tuple[textio.Encoding, infer.Profile] | None:
        opener = self.src.opener()
        self.lossy = enc.lossy
        self.invalid = False
        try:
            first = next(textio.iter_blocks(opener, enc, newline=self.newline), "")
        except UnicodeDecodeError:
            self.invalid = True
            return None
        sample = infer.head_lines(first)
        profile = infer.analyse_sample(sample)
        if profile is None or len(profile.families) != 1 or profile.long_names:
            return None
        family = profile.families[0]
        if family not in STRICT:
            return None
        # most of the sample's headers must be in the strict shape, and the first block must
        # hold a header (lines before it are one rejected span, as in the exact reader)
        rx = profile.regex()
        if rx.search(first) is None:
            return None
        strict = re.compile(
            STRICT[family]
            .replace(r"\x{200e}", "\u200e")
            .replace(r"\x{200f}", "\u200f")
            .replace(r"\x{feff}", "\ufeff")
            .replace("^", "", 1)
        )
        sample_heads = [m.start() for m in rx.finditer(sample)]
        hits = sum(1 for s in sample_heads if strict.match(sample, s))
        if hits < MIN_STRICT_SHARE * len(sample_heads):
            return None
        profile.newline = self.newline
        self.shape = _Shape(family, profile.ios_records, profile.families)
        if not self._prepass(profile):
            self.invalid = True
            return None
        return enc, profile

    def _prepass(self, profile: infer.Profile) -> bool:
        """Whole-file facts as ``infer.Prepass`` decides them, plus the timestamps that
        recur in separate runs; False when the file does not qualify after all."""
        assert self.shape is not None
        pre = infer.Prepass(profile, 0)
        bits = 1 << 16
        while bits < self.src.size * 2 and bits < (1 << 27):
            bits <<= 1
        seen = np.zeros(bits >> 3, dtype=np.uint8)
        mask = bits - 1
        recurring: list[np.ndarray] = []
        last_key: int | None = None
        carry = b""
        after_crlf = True  # the first line of the file is anchored like one after "\r\n"
        self.bad_lines = []
        bad = self.bad_lines
        line = 1
        for chunk in _chunks(self.src.opener(), self.skip, self.block_size, self.newline):
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                carry = buf
                continue
            work, carry = buf[:cut], buf[cut:]
            if self.lossy:
                work = textio.repair_utf8(work, bad, line)
                line += work.count(b"\n")
            keys = self._prepass_block(work, pre, after_crlf)
            if keys is None:
                return False
            after_crlf = work.endswith(b"\r\n")
            last_key = self._runs(keys, last_key, seen, mask, recurring)
        if carry:
            if self.lossy:
                carry = textio.repair_utf8(carry, bad, line)
            keys = self._prepass_block(carry, pre, after_crlf)
            if keys is None:
                return False
            self._runs(keys, last_key, seen, mask, recurring)
        pre.finish(self.ctx.options.date_order)
        self.recurring = np.unique(np.concatenate(recurring)) if recurring else self.recurring
        return True

    @staticmethod
    def _runs(
        keys: np.ndarray,
        last: int | None,
        seen: np.ndarray,
        mask: int,
        out: list[np.ndarray],
    ) -> int | None:
        if not len(keys):
            return last
        starts = np.ones(len(keys), dtype=bool)
        starts[1:] = keys[1:] != keys[:-1]
        if last is not None:
            starts[0] = keys[0] != last
        runs = keys[starts]
        h = (runs.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(20)
        pos = (h & np.uint64(mask)).astype(np.int64)
        byte, bit = pos >> 3, (pos & 7).astype(np.uint8)
        already = (seen[byte] >> bit) & 1 == 1
        _, firsts = np.unique(pos, return_index=True)
        dup = np.ones(len(pos), dtype=bool)
        dup[firsts] = False
        rec = runs[already | dup]
        if len(rec):
            out.append(rec)
        np.bitwise_or.at(seen, byte, (1 << bit).astype(np.uint8))
        return int(keys[-1])

    def _keys(self, lines: _Lines, hdr: _Headers) -> tuple[np.ndarray, np.ndarray]:
        """A number per header that equal timestamp texts share (different texts may
        share one too: that only adds to the recurring set), and the date text ids."""
        n = len(hdr.lines)
        ids = np.zeros(n, dtype=np.int64)
        strict_idx = np.flatnonzero(hdr.is_strict)
        if len(strict_idx):
            texts = _spans(lines.buf, hdr.ts_start[strict_idx], hdr.date_end[strict_idx])
            enc = pc.dictionary_encode(texts)
            local = np.array(self.dates.id_of(enc.dictionary.to_pylist()), dtype=np.int64)
            ids[strict_idx] = local[enc.indices.to_numpy(zero_copy_only=False)]
        keys = ids * 400_000 + hdr.hour * 3600 + hdr.minute * 60 + hdr.second
        for j in np.flatnonzero(~hdr.is_strict).tolist():
            m = hdr.other[int(hdr.lines[j])]
            ts = m.group("ts")
            k = self.other_ts.get(ts)
            if k is None:
                k = self.other_ts[ts] = -1 - len(self.other_ts)
            keys[j] = k
        return keys, ids

    def _prepass_block(
        self, data: bytes, pre: infer.Prepass, after_crlf: bool
    ) -> np.ndarray | None:
        lines = _Lines(data)
        try:
            lines.array.validate(full=True)
        except pa.ArrowInvalid:
            return None  # not UTF-8 after all: the exact reader falls back to a code page
        hdr = _Headers(lines, self._shape(), after_crlf)
        keys, ids = self._keys(lines, hdr)
        if pre.undecided:
            self._order(pre, hdr, ids)
        if len(pre.real_authors) <= 2 and not pre.p.group_events:
            self._authors(pre, lines, hdr)
        return keys

    def _shape(self) -> _Shape:
        assert self.shape is not None
        return self.shape

    def _order(self, pre: infer.Prepass, hdr: _Headers, ids: np.ndarray) -> None:
        """``Prepass._order`` over the block's headers in order (one family)."""
        if hdr.is_strict.all():
            info = self.dates.order_info(ids)
            short, big1, big2 = info[:, 0], info[:, 1], info[:, 2]
            if short.any():
                pre.ymd_only[0] = False
            deciding = np.flatnonzero(short & (big1 | big2))
            if len(deciding):
                k = deciding[0]
                pre.undecided -= 1
                if big1[k]:
                    pre.dmy[0] = True
                else:
                    pre.mdy[0] = True
            return
        for j in range(len(hdr.lines)):
            if pre.dmy[0] or pre.mdy[0]:
                return
            if hdr.is_strict[j]:
                d1, d2, _ = self.dates.fields[int(ids[j])]
                if len(d1) >= 3:
                    continue
                pre.ymd_only[0] = False
                if int(d1) > 12:
                    pre.dmy[0] = True
                    pre.undecided -= 1
                elif int(d2) > 12:
                    pre.mdy[0] = True
                    pre.undecided -= 1
            else:
                pre._order(hdr.other[int(hdr.lines[j])])

    def _authors(self, pre: infer.Prepass, lines: _Lines, hdr: _Headers) -> None:
        """``Prepass._author`` for every header: per distinct name where the rule only
        depends on the name, per line otherwise."""
        split = self._split(lines, hdr)  # LRM bodies: per line (Prepass._author)
        simple, author_arr = split[0], split[1]
        names = pc.unique(author_arr.filter(pa.array(simple))).to_pylist()
        complex_rows = ~simple
        pre.real_authors.update(names)
        for j in np.flatnonzero(complex_rows).tolist():
            i = int(hdr.lines[j])
            text = lines.text(i)
            m = hdr.other.get(i) or self._shape().plain.match(text)
            assert m is not None
            pre._author(text, m)

    def _split(
        self, lines: _Lines, hdr: _Headers
    ) -> tuple[np.ndarray, pa.Array, np.ndarray, np.ndarray]:
        """For every header: whether its author is the plain ``Name: `` split (strict
        header, no LRM before the name or the body), the name, the ``: `` offset, and
        whether it is that split but for an LRM before the body (an iOS notice with the
        chat name as author, or a media line: ``FastParse`` tells them apart)."""
        u8 = lines.u8
        hl = hdr.lines
        first_end = lines.text_end[hl]
        start = np.minimum(hdr.hdr_end, first_end)
        firsts = _spans(lines.buf, start, first_end)
        pos = pc.find_substring(firsts, ": ").to_numpy(zero_copy_only=False).astype(np.int64)
        lrm_first = (
            (_gather(u8, start) == 0xE2)
            & (_gather(u8, start + 1) == 0x80)
            & (_gather(u8, start + 2) == 0x8E)
        )
        body = start + pos + 2
        lrm_body = (
            (_gather(u8, body) == 0xE2)
            & (_gather(u8, body + 1) == 0x80)
            & (_gather(u8, body + 2) == 0x8E)
        )
        base = hdr.is_strict & (pos >= 0) & ~lrm_first
        a_end = np.where(base, start + pos, start)
        authors = _spans(lines.buf, start, a_end)
        # names that show an event line ("X changed the subject to “A: B”") go per record
        enc = pc.dictionary_encode(authors)
        names = enc.dictionary.to_pylist()
        verdict = self.event_names
        bad = np.array(
            [verdict.setdefault(a, bool(markers.SYSTEM_IN_AUTHOR.search(a))) for a in names],
            dtype=bool,
        )
        if bad.any():
            base = base & ~bad[enc.indices.to_numpy(zero_copy_only=False)]
        return base & ~lrm_body, authors, pos, base & lrm_body

    # -- pass 2 -------------------------------------------------------------------------

    def _messages(
        self, enc: textio.Encoding, prof: infer.Profile, families: list[dialects.Family]
    ) -> Iterator[Message | pa.Table]:
        if not self.fast:
            yield from super()._messages(enc, prof, families)
            return
        yield from _Pass2(self, prof, families[0]).run()


class _Pass2:
    """The rows, block by block."""

    def __init__(self, parse: FastParse, prof: infer.Profile, fam: dialects.Family) -> None:
        self.p = parse
        self.prof = prof
        self.fam = fam
        self.order = prof.orders[0]
        self.shape = parse._shape()
        opts = parse.ctx.options
        self.opts = opts
        self.rep = parse.report
        if prof.group_events or len(prof.authors) > 2:
            self.ctype = ConversationType.GROUP
        elif len(prof.authors) == 2:
            self.ctype = ConversationType.DIRECT
        else:
            self.ctype = ConversationType.UNKNOWN
        self.total = 0
        self.prev_instant: int | None = None
        self.carry_key: int | None = None
        self.carry_counts: dict[tuple[str, str | None, str], int] = {}
        self.kept: dict[tuple[str, str | None, str], int] = {}
        self.day_offsets: dict[int, int | None] = {}
        self.sender_ids: dict[str, str] = {}
        self.meanings: dict[str, markers.Meaning] = {}
        self.omitted: dict[str | None, Attachment] = {}
        self.refs: dict[str | None, Attachment] = {}
        self.notices: dict[str, bool] = {}
        self.listing: set[str] | None = None
        self.listing_failed = False
        self.foreign = prof.foreign()
        self.coded = Codes()  # strings of the coded columns (kind, native_type, ...)
        for text in ("text", "system", "unknown", "outbound", "inbound"):
            self.coded.code(text)
        self.consts: dict[str, pa.Array] = {}

    def run(self) -> Iterator[pa.Table]:
        p = self.p
        carry = b""
        line = 1
        first = True
        chunks = _chunks(p.src.opener(), p.skip, p.block_size, p.newline)
        pending = next(chunks, None)
        blocks = 0
        while pending is not None:
            nxt = next(chunks, None)
            buf = carry + pending if carry else pending
            if nxt is not None:
                cut = buf.rfind(b"\n") + 1
                if cut == 0:
                    carry, pending = buf, nxt
                    continue
                work, rest = buf[:cut], buf[cut:]
            else:
                work, rest = buf, b""
            if p.lossy:  # the first pass reported the invalid bytes
                work = textio.repair_utf8(work, None)
            used, table = self._block(work, line, first, final=nxt is None)
            if used:
                first = False
            line += work.count(b"\n", 0, used)
            carry = work[used:] + rest
            pending = nxt
            if table is not None and table.num_rows:
                yield table
            blocks += 1
            if blocks % 2 == 0:
                release_free_memory()  # the blocks' buffers: else peak RSS grows with the file
        self.rep.lines_total = self.total

    # -- one block ------------------------------------------------------------------------

    def _block(
        self, data: bytes, line0: int, first: bool, final: bool
    ) -> tuple[int, pa.Table | None]:
        """Rows of the records of ``data`` but the last one (all of them when ``final``),
        and how many bytes that used."""
        shape = self.shape
        lines = _Lines(data)
        hdr = _Headers(lines, shape, True)
        all_hl = hdr.lines
        if final:
            keep, used = len(all_hl), len(data)
        elif len(all_hl) >= 2 or (first and len(all_hl) == 1 and all_hl[0] > 0):
            keep, used = len(all_hl) - 1, int(lines.start[all_hl[-1]])
        else:
            return 0, None  # one record so far: it may go on in the next block
        rep = self.rep
        lead = int(all_hl[0]) if len(all_hl) else lines.n
        if first and lead > 0:  # lines before the first record of the file
            rep.reject(_loc(line0, lead), "no message header before the first record", lines=lead)
            self.total += lead
        if keep == 0:
            return used, None
        hdr = hdr.head(keep)
        hl = hdr.lines
        nxt = np.append(all_hl[1:], lines.n)[:keep]
        last_line = nxt - 1
        rec_start = lines.start[hl]
        rec_end = lines.end[last_line]
        nrec_lines = last_line - hl + 1
        self.total += int(nxt[-1] - hl[0])
        ends_nl = _gather(lines.u8, rec_end - 1) == 10
        ends_crlf = ends_nl & (rec_end >= 2) & (_gather(lines.u8, rec_end - 2) == 13)
        term = np.where(ends_crlf & self.prof.crlf, 2, np.where(ends_nl, 1, 0))
        content_end = rec_end - term
        n = len(hl)
        line_no = line0 + hl
        # authors: the plain "Name: " split where it applies (see FastParse._split)
        simple, authors, pos, lrm_body = self.p._split(lines, hdr)
        simple = simple | lrm_body  # the notices among them lose their author below
        start = np.minimum(hdr.hdr_end, lines.text_end[hl])
        slow = ~simple
        # dates and times
        keys, date_ids = self.p._keys(lines, hdr)
        days = np.zeros(n, dtype=np.int64)
        valid = hdr.is_strict.copy()
        secs = hdr.hour * 3600 + hdr.minute * 60 + hdr.second
        for did in np.unique(date_ids[valid]).tolist():
            d = self.p.dates.day(int(did), self.order)
            sel = valid & (date_ids == did)
            if d is None:
                valid &= ~sel
            else:
                days[sel] = d
        valid &= (hdr.hour < 24) & (hdr.minute < 60) & (hdr.second < 60)
        offsets = np.zeros(n, dtype=np.int64)
        for d in np.unique(days[valid]).tolist():
            off = self._day_offset(int(d))
            sel = valid & (days == d)
            if off is None:
                valid &= ~sel  # a DST transition on that day: per record
            else:
                offsets[sel] = off
        instant = (days * 86400 + secs - offsets) * _US
        # an instant a datetime cannot hold (hours of years 1 and 9999): the exact code
        valid &= (instant >= _MIN_US) & (instant <= _MAX_US)
        slow |= ~valid
        body_start = np.minimum(np.where(slow, content_end, start + pos + 2), content_end)
        # the exact code, per record, for the rest
        accepted = np.ones(n, dtype=bool)
        slow_vals: dict[int, tuple[Any, ...]] = {}
        shifts: dict[int, str] = {}
        rejects: list[tuple[int, str, str, int]] = []
        for j in np.flatnonzero(slow).tolist():
            rec = data[rec_start[j] : rec_end[j]].decode("utf-8")
            got = self._slow(rec)
            if got is None:
                accepted[j] = False
                nl_ = int(nrec_lines[j])
                rejects.append((int(line_no[j]), _loc(int(line_no[j]), nl_), _INVALID_HEADER, nl_))
                continue
            slow_vals[j] = got
            if got[0] is not None:
                shifts[j] = got[0]
            instant[j] = got[1]
        for _, loc, reason, nlines in sorted(rejects):
            rep.reject(loc, reason, lines=nlines)
        # columns
        buf = lines.buf
        ts = _spans(buf, hdr.ts_start, hdr.ts_end)
        body_arr = _spans(buf, body_start, content_end)
        if lrm_body.any():
            # "Chat name: \u200eMessages and calls are end-to-end encrypted…": system
            rows_l = np.flatnonzero(lrm_body & ~slow)
            enc = pc.dictionary_encode(body_arr.take(pa.array(rows_l)))
            notice = np.array([self._notice(b) for b in enc.dictionary.to_pylist()], dtype=bool)
            if notice.any():
                simple = simple.copy()
                simple[rows_l[notice[enc.indices.to_numpy(zero_copy_only=False)]]] = False
        author_arr = pc.if_else(pa.array(simple), authors, pa.scalar(None, pa.string()))
        raw = _spans(buf, rec_start, rec_end)
        if self.p.newline != "\n":  # the file's own line ends (see ``_chunks``)
            raw = pc.replace_substring(raw, "\n", self.p.newline)
        if slow_vals:
            idx = sorted(slow_vals)
            mask = np.zeros(n, dtype=bool)
            mask[idx] = True
            m = pa.array(mask)
            ts = pc.replace_with_mask(ts, m, pa.array([slow_vals[j][2] for j in idx], pa.string()))
            author_arr = pc.replace_with_mask(
                author_arr, m, pa.array([slow_vals[j][3] for j in idx], pa.string())
            )
            body_arr = pc.replace_with_mask(
                body_arr, m, pa.array([slow_vals[j][4] for j in idx], pa.string())
            )
        locs = _locators(line_no, nrec_lines)
        rows = np.flatnonzero(accepted)
        if len(rows) < n:
            keepm = pa.array(accepted)
            ts, author_arr, body_arr, raw, locs = (
                a.filter(keepm) for a in (ts, author_arr, body_arr, raw, locs)
            )
            instant = instant[accepted]
            keys = keys[accepted]
        if len(rows) == 0:
            return used, None
        self._warnings(rows, shifts, instant, hdr, last_line, locs, lines)
        dup_n = self._counts(ts, author_arr, body_arr, keys)
        kinds = self._kinds(author_arr, body_arr)
        return used, self._table(instant, ts, author_arr, body_arr, raw, locs, dup_n, kinds)

    def _notice(self, body: str) -> bool:
        got = self.notices.get(body)
        if got is None:
            got = bool(markers.SYSTEM_NOTICE.match(body, 1))
            if len(self.notices) < 10_000:
                self.notices[body] = got
        return got

    def _day_offset(self, day: int) -> int | None:
        """The zone's UTC offset (seconds) on a local day without a transition, else None."""
        got = self.day_offsets.get(day, -1)
        if got != -1:
            return got
        zone = self.p.zone.zone
        base = _EPOCH + timedelta(days=day)
        off: int | None = None
        for h in range(25):
            t = base + timedelta(hours=h)
            o0 = t.replace(tzinfo=zone, fold=0).utcoffset()
            o1 = t.replace(tzinfo=zone, fold=1).utcoffset()
            if o0 is None or o0 != o1:
                off = None
                break
            secs = int(o0.total_seconds())
            if h == 0:
                off = secs
            elif secs != off:
                off = None
                break
        self.day_offsets[day] = off
        return off

    def _slow(self, rec: str) -> tuple[Any, ...] | None:
        """One record by the exact reader's rules: None when its header is invalid, else
        (DST shift, instant in µs, ts, author, body)."""
        p = self.p
        m = self.shape.plain.match(rec)
        assert m is not None
        ts = m.group("ts")
        try:
            local = p._local(m, "", self.fam, self.order)
            res = p.zone.resolve(local)
        except (BadTimestamp, ValueError, KeyError):
            return None
        instant = res.instant
        if self.prof.crlf and rec.endswith("\r\n"):
            content = rec[:-2]
        elif rec.endswith("\n"):
            content = rec[:-1]
        else:
            content = rec
        rest = content[m.end() :]
        nl = rest.find("\n")
        first = rest if nl < 0 else rest[:nl]
        author, off = infer.split_author(first)
        if author is not None:
            full = self.prof.long_names.get(author)
            if full is not None and first.startswith(full + ":"):
                author = full
                off = len(full) + (2 if first.startswith(full + ": ") else 1)
            body = rest[off:]
            if body[:1] == "\u200e" and markers.SYSTEM_NOTICE.match(body, 1):
                author = None
        else:
            body = rest
        us = (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        return res.shift, us, ts, author, body

    def _warnings(
        self,
        rows: np.ndarray,
        shifts: dict[int, str],
        instant: np.ndarray,
        hdr: _Headers,
        last_line: np.ndarray,
        locs: pa.Array,
        lines: _Lines,
    ) -> None:
        """DST, suspicious-record and foreign-header warnings, per record in file order
        (``rows``: the accepted records' indices in the block; ``instant`` and ``locs``:
        theirs), in the exact reader's order within a record."""
        flagged: dict[int, list[tuple[str, str]]] = {}
        for j, shift in shifts.items():
            flagged.setdefault(j, []).append((shift, dst_message(shift)))
        if self.shape.ios_records:
            looks = hdr.looks.copy()
            looks[hdr.lines] = False  # header-looking lines inside records
            inside = np.flatnonzero(looks)
            if len(inside) and len(hdr.lines):
                rec = np.searchsorted(hdr.lines, inside, side="right") - 1
                ok = (rec >= 0) & (inside <= last_line[np.maximum(rec, 0)])
                for j in np.unique(rec[ok]).tolist():
                    flagged.setdefault(j, []).append(
                        ("suspicious_continuation", "header-like line kept inside a message")
                    )
        elif len(instant):
            prev = np.empty(len(instant), dtype=np.int64)
            prev[1:] = instant[:-1]
            prev[0] = instant[0] if self.prev_instant is None else self.prev_instant
            back = instant < prev - SUSPICIOUS_BACKWARDS // timedelta(microseconds=1)
            for k in np.flatnonzero(back).tolist():
                flagged.setdefault(int(rows[k]), []).append(
                    ("suspicious_record", "timestamp far before the previous message")
                )
        # a line of another export's header shape inside a record (no header of its own)
        others = [i for i in hdr.maybe.tolist() if i not in hdr.other]
        if others and len(hdr.lines):
            where = np.array(others, dtype=np.int64)
            owner = np.searchsorted(hdr.lines, where, side="right") - 1
            ok = (owner >= 0) & (where <= last_line[np.maximum(owner, 0)])
            hits = {
                int(j)
                for i, j in zip(where[ok].tolist(), owner[ok].tolist(), strict=True)
                if self.foreign.match(lines.text(i))
            }
            for j in sorted(hits):
                flagged.setdefault(j, []).append((FOREIGN_HEADER, FOREIGN_MESSAGE))
        if len(instant):
            self.prev_instant = int(instant[-1])
        if not flagged:
            return
        pos_of = {int(r): k for k, r in enumerate(rows.tolist())}
        for j in sorted(flagged):
            at = pos_of.get(j)
            if at is None:  # a rejected record warns of nothing
                continue
            loc = locs[at].as_py()
            for code, msg in flagged[j]:
                self.rep.warn(loc, code, msg)

    def _counts(
        self, ts: pa.Array, authors: pa.Array, bodies: pa.Array, keys: np.ndarray
    ) -> np.ndarray:
        """``n`` of every row: in-block by sorting; across blocks through the run that
        the previous block ended with and, for recurring timestamps, a kept count."""
        n = len(ts)
        codes = []
        for arr in (ts, authors, bodies):
            enc = pc.dictionary_encode(arr, null_encoding="encode")
            idx = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            codes.append((idx, len(enc.dictionary) + 1))
        (c0, _), (c1, n1), (c2, n2) = codes
        key = (c0 * n1 + c1) * n2 + c2
        order = np.argsort(key, kind="stable")
        sk = key[order]
        newgrp = np.ones(n, dtype=bool)
        newgrp[1:] = sk[1:] != sk[:-1]
        grp_start = np.maximum.accumulate(np.where(newgrp, np.arange(n), 0))
        out = np.empty(n, dtype=np.int64)
        out[order] = np.arange(n) - grp_start
        rec = np.isin(keys, self.p.recurring)
        carried = keys == self.carry_key if self.carry_key is not None else np.zeros(n, bool)
        py_rows = np.flatnonzero(rec | carried)
        last = int(keys[-1])
        run = np.flatnonzero(keys == last) if not rec[-1] else np.zeros(0, np.int64)
        need = np.union1d(py_rows, run)
        if len(need):
            take = pa.array(need)
            triples = dict(
                zip(
                    need.tolist(),
                    zip(
                        ts.take(take).to_pylist(),
                        authors.take(take).to_pylist(),
                        bodies.take(take).to_pylist(),
                        strict=True,
                    ),
                    strict=True,
                )
            )
        else:
            triples = {}
        kept, carry = self.kept, self.carry_counts
        for i in py_rows.tolist():
            k3 = triples[i]
            if rec[i]:
                c = kept.get(k3, 0)
                out[i] = c
                kept[k3] = c + 1
            else:
                out[i] += carry.get(k3, 0)
        if rec[-1]:
            self.carry_key, self.carry_counts = None, {}
        else:
            new = dict(carry) if self.carry_key == last else {}
            for i in run.tolist():
                k3 = triples[i]
                new[k3] = new.get(k3, 0) + 1
            self.carry_key, self.carry_counts = last, new
        return out

    def _absent(self, name: str | None) -> bool:
        """A name that ``ExportInput.attachment`` cannot find beside a loose chat file
        (nothing of that name in the folder), from one listing of the folder instead
        of a look-up per name."""
        src = self.p.src
        if src.folder is None or not name or "/" in name or "\\" in name or name in (".", ".."):
            return False
        if self.listing is None:
            try:
                with os.scandir(src.folder) as it:
                    self.listing = {_loose(e.name) for e in it}
            except OSError:
                self.listing = set()
                self.listing_failed = True
        # anything like a name of the folder (case-insensitive or normalising shares)
        # is left to the exact look-up
        return not self.listing_failed and _loose(name) not in self.listing

    def _attachment(self, media: str, name: str | None) -> Attachment:
        """The attachment of a marker: the file looked up (stored, or found missing) or
        an omitted one; once per name, as the file is the same each time."""
        cache = self.refs if media == "ref" else self.omitted
        att = cache.get(name)
        if att is None:
            if media == "ref" and self._absent(name):
                att = Attachment(name, None, None, _mime(name), AttachmentStatus.MISSING)
            elif media == "ref":
                att = self.p.src.attachment(name, self.p.ctx.media)
            else:
                att = inputs.omitted(name)
            if len(cache) < 10_000:
                cache[name] = att
        return att

    def _kinds(self, authors: pa.Array, bodies: pa.Array) -> dict[str, Any]:
        """kind, native_type, deleted, edited and attachments: ``markers.classify`` of the
        bodies that could be more than text (once per distinct body), text otherwise."""
        n = len(bodies)
        is_user = _np_bool(pc.is_valid(authors))
        maybe = _np_bool(pc.match_substring_regex(bodies, _MAYBE_SPECIAL)) | _np_bool(
            pc.is_in(bodies, pa.array(_SPECIAL_WORDS, pa.string()))
        )
        look = np.flatnonzero(maybe & is_user)
        codes = self.coded.index
        kind = np.where(is_user, codes["text"], codes["system"]).astype(np.int32)
        native = np.full(n, -1, dtype=np.int32)
        deleted = np.zeros(n, dtype=bool)
        edited = np.zeros(n, dtype=bool)
        att_rows: list[int] = []
        att_vals: list[Attachment] = []
        if len(look):
            # once per distinct body, then mapped back to the rows
            enc = pc.dictionary_encode(bodies.take(pa.array(look)))
            idx = enc.indices.to_numpy(zero_copy_only=False)
            distinct = enc.dictionary.to_pylist()
            m = len(distinct)
            u_kind = np.empty(m, dtype=np.int32)
            u_native = np.full(m, -1, dtype=np.int32)
            u_deleted = np.zeros(m, dtype=bool)
            u_edited = np.zeros(m, dtype=bool)
            u_att: list[Attachment | None] = [None] * m
            for k, body in enumerate(distinct):
                mean = self.meanings.get(body)
                if mean is None:
                    mean = markers.classify(body)
                    if len(self.meanings) < 10_000:
                        self.meanings[body] = mean
                u_kind[k] = self.coded.code(str(mean.kind))
                if mean.native_type is not None:
                    u_native[k] = self.coded.code(mean.native_type)
                u_deleted[k] = mean.deleted
                u_edited[k] = mean.edited
                if mean.media is not None:
                    u_att[k] = self._attachment(mean.media, mean.media_name)
            kind[look] = u_kind[idx]
            native[look] = u_native[idx]
            deleted[look] = u_deleted[idx]
            edited[look] = u_edited[idx]
            has = np.array([a is not None for a in u_att], dtype=bool)
            if has.any():
                sel = has[idx]
                att_rows = look[sel].tolist()
                att_vals = [a for k in idx[sel].tolist() if (a := u_att[k]) is not None]
        return {
            "kind": kind,
            "native": native,
            "deleted": deleted,
            "edited": edited,
            "att_rows": att_rows,
            "att_vals": att_vals,
            "is_user": is_user,
        }

    def _table(
        self,
        instant: np.ndarray,
        ts: pa.Array,
        authors: pa.Array,
        bodies: pa.Array,
        raw: pa.Array,
        locs: pa.Array,
        dup_n: np.ndarray,
        mc: dict[str, Any],
    ) -> pa.Table:
        n = len(ts)
        p = self.p
        opts = self.opts
        owner = opts.owner
        conv_id = p.conversation_id
        sent_at = pa.array(instant, pa.timestamp("us", tz="UTC"))
        # sender ids, per distinct author
        enc = pc.dictionary_encode(authors)
        names = enc.dictionary.to_pylist()
        sids = []
        for a in names:
            s = self.sender_ids.get(a)
            if s is None:
                s = self.sender_ids[a] = naming.sender_id(a)
            sids.append(s)
        sender_id = pa.array(sids, pa.string()).take(enc.indices)
        is_user = mc["is_user"]
        c = self.coded.index
        if owner is None:
            direction = np.where(is_user, c["unknown"], c["system"])
        else:
            out = _np_bool(pc.fill_null(pc.equal(authors, pa.scalar(owner)), False))
            direction = np.where(is_user, np.where(out, c["outbound"], c["inbound"]), c["system"])
        # ids
        inst = _iso_instants(instant)
        if len(instant) and instant.min() < _YEAR_1000_US:
            low = np.flatnonzero(instant < _YEAR_1000_US)
            vals = [
                format_instant(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(v)))
                for v in instant[low].tolist()
            ]
            m = np.zeros(n, dtype=bool)
            m[low] = True
            inst = pc.replace_with_mask(inst, pa.array(m), pa.array(vals, pa.string()))
        joined = pc.binary_join_element_wise(
            "whatsapp",
            conv_id,
            inst,
            pc.fill_null(authors, ""),
            bodies,
            pc.cast(pa.array(dup_n), pa.string()),
            "\x1f",
        )
        message_id = sha256_hex(joined)
        # attachments
        att_rows, att_vals = mc["att_rows"], mc["att_vals"]
        counts = np.zeros(n, dtype=np.int32)
        counts[att_rows] = 1
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(counts, out=offsets[1:])
        structs = pa.array(
            [
                {
                    "name": a.name,
                    "sha256": a.sha256,
                    "size": a.size,
                    "media_type": a.media_type,
                    "status": str(a.status),
                }
                for a in att_vals
            ],
            ATTACHMENT_TYPE,
        )
        attachments = pa.ListArray.from_arrays(
            pa.array(offsets), structs, type=pa.list_(ATTACHMENT_TYPE)
        )

        def const(v: str | None) -> pa.Array:
            if v is None:
                return pa.nulls(n, pa.string())
            arr = self.consts.get(v)
            if arr is None or len(arr) < n:
                arr = self.consts[v] = pa.repeat(pa.scalar(v, pa.string()), max(n, 65_536))
            return arr.slice(0, n)

        cols: dict[str, pa.Array] = {
            "message_id": message_id,
            "platform": const("whatsapp"),
            "source_format": const(SOURCE_FORMAT),
            "account_id": const(owner),
            "custodian": const(opts.custodian),
            "conversation_id": const(conv_id),
            "conversation_name": const(p.title),
            "conversation_type": const(str(self.ctype)),
            "sender_id": sender_id,
            "sender_name": authors,
            "direction": decoded(direction.astype(np.int32), self.coded.values),
            "sent_at": sent_at,
            "sent_at_source": ts,
            "source_timezone": const(opts.timezone),
            "kind": decoded(mc["kind"], self.coded.values),
            "native_type": decoded(mc["native"], self.coded.values),
            "body": bodies,
            "edited": pa.array(mc["edited"]),
            "deleted": pa.array(mc["deleted"]),
            "attachments": attachments,
            "reply_to": const(None),
            "native_id": const(None),
            "source_sha256": const(p.src.ref.sha256),
            "source_path": const(p.src.source_path),
            "source_locator": locs,
            "raw": raw,
        }
        return pa.Table.from_arrays([cols[f.name] for f in MESSAGE_SCHEMA], schema=MESSAGE_SCHEMA)


_YEAR_1000_US = (datetime(1000, 1, 1) - _EPOCH) // timedelta(microseconds=1)
_MIN_US = (datetime.min - _EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime.max - _EPOCH) // timedelta(microseconds=1)


_DIGITS2 = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)


def _iso_instants(us: np.ndarray) -> pa.StringArray:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` of µs since 1970 (years 1000-9999; see caller)."""
    n = len(us)
    days, rem = np.divmod(us, 86_400 * _US)
    secs, frac = np.divmod(rem, _US)
    out = np.empty((n, 27), dtype=np.uint8)
    uniq, inv = np.unique(days, return_inverse=True)
    dates = np.frombuffer(
        "".join(
            (_EPOCH + timedelta(days=int(d))).strftime("%Y-%m-%d").rjust(10, "0")
            for d in uniq.tolist()
        ).encode(),
        dtype=np.uint8,
    ).reshape(-1, 10)
    out[:, 0:10] = dates[inv.reshape(-1)]
    out[:, 10] = ord("T")
    out[:, 11:13] = _DIGITS2[secs // 3600]
    out[:, 13] = ord(":")
    out[:, 14:16] = _DIGITS2[secs // 60 % 60]
    out[:, 16] = ord(":")
    out[:, 17:19] = _DIGITS2[secs % 60]
    out[:, 19] = ord(".")
    out[:, 20:22] = _DIGITS2[frac // 10_000]
    out[:, 22:24] = _DIGITS2[frac // 100 % 100]
    out[:, 24:26] = _DIGITS2[frac % 100]
    out[:, 26] = ord("Z")
    arr: pa.StringArray = pa.StringArray.from_buffers(
        n,
        pa.py_buffer(np.arange(0, 27 * n + 1, 27, dtype=np.int32)),
        pa.py_buffer(out.tobytes()),
    )
    return arr


def _loose(name: str) -> str:
    """A file name as a case-insensitive, normalising file system may see it."""
    return unicodedata.normalize("NFC", name).casefold().rstrip(". ")


def _count_lines(text: str) -> int:
    n = text.count("\n")
    return n + 1 if text and not text.endswith("\n") else n


def _loc(line: int, nlines: int) -> str:
    return f"L{line}" if nlines <= 1 else f"L{line}-L{line + nlines - 1}"


def _locators(line_no: np.ndarray, nlines: np.ndarray) -> pa.Array:
    a = pc.binary_join_element_wise("L", pc.cast(pa.array(line_no), pa.string()), "")
    b = pc.binary_join_element_wise(
        a, "-L", pc.cast(pa.array(line_no + nlines - 1), pa.string()), ""
    )
    return pc.if_else(pa.array(nlines <= 1), a, b)
