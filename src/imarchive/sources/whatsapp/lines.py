"""Cutting decoded text into records, with 1-based line numbers counted on ``\\n``.

A record runs from a header to the next header: every line that does not start a record
continues the previous one (blank lines included: they are content). Text arrives in
blocks cut after a ``\\n``; the last, unfinished record of a block is carried over.

iOS ends records with ``\\r\\n`` and keeps bare ``\\n`` inside messages. When a file shows
that structure (``ios_records``) a header-looking line after a bare ``\\n`` is body text
(a forwarded message; the reader flags it). A line after ``\\r\\n`` that is no header
continues the record like any other (text pasted with its ``\\r\\n`` from a desktop).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple


class Piece(NamedTuple):
    """A record (``match`` set) or a span of rejected lines (``match`` None)."""

    line: int  # 1-based number of its first line
    nlines: int
    text: str  # verbatim, terminator included
    match: re.Match[str] | None
    offset: int  # where ``text`` starts inside ``match.string``


def count_lines(text: str) -> int:
    """Physical lines of a piece of text: ``\\n`` count, plus an unterminated last line."""
    n = text.count("\n")
    return n + 1 if text and not text.endswith("\n") else n


def iter_pieces(blocks: Iterable[str], rx: re.Pattern[str]) -> Iterator[Piece]:
    """Records and rejected spans in file order; every line lands in exactly one piece."""
    carry = ""
    line = 1
    for block in blocks:
        text = carry + block if carry else block
        pending: re.Match[str] | None = None
        pos = 0  # start of the unconsumed text
        for m in rx.finditer(text):
            start = m.start()
            if pending is not None:
                # a record before a header ends with "\n": its lines are its "\n"s
                n = text.count("\n", pos, start)
                yield Piece(line, n, text[pos:start], pending, pos)
                line += n
            elif start > pos:  # lines before the first record of the file
                span = text[pos:start]
                n = count_lines(span)
                yield Piece(line, n, span, None, pos)
                line += n
            pending = m
            pos = start
        if pending is None:
            # no header yet: these lines come before the first record and are rejected
            n = count_lines(text)
            if n:
                yield Piece(line, n, text, None, 0)
                line += n
            carry = ""
        else:
            # the last record may go on in the next block; its header is matched again
            # at position 0 there, so nothing is parsed twice
            carry = text[pos:]
    if carry:
        m0 = rx.match(carry)
        if m0 is not None:
            yield Piece(line, count_lines(carry), carry, m0, 0)
