"""Helpers for the WhatsApp reader tests: write an export, read it back."""

from __future__ import annotations

from pathlib import Path

from imarchive.model import Message
from imarchive.sources.base import ReadOptions
from imarchive.sources.whatsapp import READERS
from tests.support import DirectContext, read_all

READER = READERS[0]


def read_text(
    tmp: Path,
    text: str | bytes,
    name: str = "WhatsApp Chat with Bob.txt",
    **options: object,
) -> tuple[list[Message], DirectContext]:
    """Write ``text`` verbatim (no newline translation) and read it with the reader."""
    path = tmp / name
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(data)
    opts = ReadOptions(**{"timezone": "UTC", **options})  # type: ignore[arg-type]
    return read_all(READER, path, opts)


def accounted(ctx: DirectContext, messages: list[Message]) -> int:
    """Lines in messages plus rejected lines (must equal ``lines_total``)."""
    n = 0
    for m in messages:
        a, _, b = m.source_locator.partition("-")
        n += (int(b[1:]) if b else int(a[1:])) - int(a[1:]) + 1
    return n + ctx.report.lines_rejected
