"""Reading the text of a third-party export: its lines (encoding and line ends decided as
for WhatsApp, by ``textio``) and, for the CSV exports, its records with their line
numbers."""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import BinaryIO

from imarchive import textio
from imarchive.errors import SourceError
from imarchive.sources.base import Candidate, ReadReport, SourceRef
from imarchive.sources.whatsapp.reader import invalid_bytes_message

FIELD_LIMIT = 1 << 26  # csv's default (128 KiB) would reject a long message
MAX_RECORD_LINES = 10_000  # a record over more lines is a quote that is never closed
csv.field_size_limit(FIELD_LIMIT)


class TextFile:
    """The text of a staged export file: its encoding decided once (as for WhatsApp: a
    BOM, UTF-8, a mostly-UTF-8 file read lossy, else its code page; reported), and its own
    line ending (``textio.line_ending``)."""

    def __init__(self, ref: SourceRef, report: ReadReport) -> None:
        self.ref = ref
        with self._open() as fh:
            head = fh.read(textio.SNIFF_SIZE)
        if not head:
            raise SourceError("empty file")
        enc = textio.sniff(head)
        try:
            for _ in textio.iter_blocks(self._open, enc):
                pass
        except UnicodeDecodeError as exc:
            if enc.confirmed and enc.codec != "utf-8-sig":
                raise SourceError(f"invalid {enc.name} byte sequence") from exc
            with self._open() as fh:
                enc = textio.fallback(fh, enc)
        self.enc = enc
        report.encoding = enc.name

    @cached_property
    def ending(self) -> str:
        """The file's own line ending (read once more, only when asked: the text reader
        maps it back into ``raw``; a CSV keeps its line ends as they are)."""
        return textio.line_ending(self._open, self.enc)

    def _open(self) -> BinaryIO:
        return self.ref.staged.open("rb")

    def lines(self, report: ReadReport, *, as_lf: bool = False) -> Iterator[str]:
        """The lines, each with its line end; ``as_lf``: the file's own ending read as
        ``\\n`` (the caller maps it back for verbatim text). Invalid bytes of a lossy
        file are warned about in ``report``, by line."""
        enc = self.enc
        bad: list[tuple[int, int]] = []
        blocks = textio.iter_blocks(
            self._open, enc, newline=self.ending if as_lf else "\n", bad=bad if enc.lossy else None
        )
        try:
            for block in blocks:
                start = 0
                while start < len(block):
                    end = block.find("\n", start) + 1 or len(block)
                    yield block[start:end]
                    start = end
        except UnicodeDecodeError as exc:  # the code page guessed fails too
            raise SourceError(f"invalid {enc.name} byte sequence") from exc
        for line, n in bad:
            report.warn(f"L{line}", "invalid_utf8", invalid_bytes_message(n))


@dataclass(frozen=True)
class Record:
    line: int  # first line (1-based)
    nlines: int
    fields: list[str]
    text: str  # as written, without its line end

    @property
    def locator(self) -> str:
        return locator(self.line, self.nlines)


def locator(line: int, nlines: int) -> str:
    return f"L{line}" if nlines <= 1 else f"L{line}-L{line + nlines - 1}"


def strip_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


class _Runaway(Exception):
    """A record ran over ``MAX_RECORD_LINES`` lines: a quote opened and never closed."""


def csv_records(lines: Iterator[str], report: ReadReport) -> Iterator[Record]:
    """The CSV records of ``lines``. A record csv cannot read (a field over
    ``FIELD_LIMIT``) is rejected and reading goes on after it; so is the line of a quote
    that is never closed, whose field would otherwise swallow the rest of the file: the
    lines after it are read again as records."""
    consumed: list[str] = []
    again: deque[str] = deque()  # lines to read again after a stray quote
    source = iter(lines)

    def feed() -> Iterator[str]:
        while True:
            line = again.popleft() if again else next(source, None)
            if line is None:
                return
            consumed.append(line)
            if len(consumed) > MAX_RECORD_LINES:
                raise _Runaway
            yield line

    start = 1
    while True:
        try:
            for fields in csv.reader(feed()):
                text = "".join(consumed)
                n = len(consumed)
                consumed.clear()
                yield Record(start, n, fields, strip_end(text))
                start += n
            return
        except _Runaway:
            report.reject(locator(start, 1), "a quote that is never closed", lines=1)
            again.extendleft(reversed(consumed[1:]))
            consumed.clear()
            start += 1
        except csv.Error as exc:
            n = max(1, len(consumed))
            report.reject(locator(start, n), f"not a readable CSV record ({exc})", lines=n)
            consumed.clear()
            start += n


def first_line(candidate: Candidate) -> str:
    if candidate.is_dir or candidate.zip_names is not None:
        return ""
    text = textio.decode_head(candidate.head).lstrip("\ufeff")
    return text.split("\n", 1)[0].rstrip("\r")


def _header_is(candidate: Candidate, header: tuple[str, ...]) -> bool:
    line = first_line(candidate)
    if not line:
        return False
    try:
        fields = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return False
    return tuple(f.strip() for f in fields) == header


def csv_score(candidate: Candidate, header: tuple[str, ...]) -> float:
    if not _header_is(candidate, header):
        return 0.0
    return 0.95 if candidate.path.suffix.lower() == ".csv" else 0.8


def csv_rows(
    text: TextFile, report: ReadReport, header: tuple[str, ...]
) -> Iterator[tuple[Record, dict[str, str]]]:
    """The data records of a CSV export with their fields by column name (blank lines
    skipped; the caller checks the number of fields)."""
    records = csv_records(text.lines(report), report)
    first = next(records, None)
    if first is None or tuple(f.strip().lstrip("\ufeff") for f in first.fields) != header:
        raise SourceError("the first line is not the export's column header")
    total = 0  # the lines of the records: every one is in a message or rejected
    for rec in records:
        if not rec.fields:  # a blank line
            continue
        total += rec.nlines
        yield rec, dict(zip(header, rec.fields, strict=False))
    report.lines_total = total
