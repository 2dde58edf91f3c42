"""The contract between the pipeline and the source readers.

A reader is detected by score, tells which files on disk are its sources (they are
copied byte for byte into ``ARCHIVE/sources/`` before they are read), then streams
``Message`` objects. Everything it cannot turn into a message it reports through
``ReadReport`` (line or row numbers, never message text). Readers never import
pyarrow or the archive package.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    import pyarrow as pa

    RowTable: TypeAlias = pa.Table
else:
    RowTable = object  # only columnar readers import pyarrow

from imarchive.model import Attachment, Message, Platform

DATE_ORDERS = ("auto", "dmy", "mdy", "ymd")


@dataclass(frozen=True)
class ReadOptions:
    timezone: str  # IANA zone used to read naive local timestamps
    timezone_assumed: bool = False
    custodian: str | None = None
    owner: str | None = None
    date_order: str = "auto"
    conversation: str | None = None
    keys: tuple[str, ...] = field(default=(), repr=False)  # never printed or logged


@dataclass(frozen=True)
class Candidate:
    """One input as found on disk: a file, a ``.zip`` or a folder.

    ``display`` is the path as the user gave it (or as found while walking a folder
    the user gave); it becomes ``source_path``. ``head`` is the first bytes of a
    file (empty for folders) so that readers can score without reading it again.
    ``zip_names`` lists the members of a zip (None for anything else)."""

    path: Path
    display: str
    is_dir: bool
    head: bytes = b""
    zip_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Rejected:
    locator: str  # "L12-L14", "MSG0.db/MSG/localId=42", or "" for the whole input
    reason: str  # one line, no message text


@dataclass(frozen=True)
class Warning_:
    locator: str
    code: str  # stable, e.g. "dst_fold", "suspicious_continuation"
    message: str  # one line, no message text


@dataclass
class ReadReport:
    """What a reader learned besides the messages; ends up in the batch record."""

    encoding: str | None = None
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    # facts the batch record keeps, e.g. {"date_order": "dmy", "date_order_assumed": False,
    # "year_assumed": 2024, "key_fingerprint": "…", "dialect": "android-dmy-24h"}
    facts: dict[str, object] = field(default_factory=dict)
    lines_total: int | None = None  # text sources: physical lines read
    lines_rejected: int = 0  # text sources: physical lines in rejected ranges
    rows_rejected: int = 0  # databases: rows that could not be turned into messages

    def reject(self, locator: str, reason: str, lines: int = 0) -> None:
        self.rejected.append(Rejected(locator, reason))
        self.lines_rejected += lines

    def reject_row(self, locator: str, reason: str) -> None:
        """A database row that is not a message (its locator names table and key)."""
        self.rejected.append(Rejected(locator, reason))
        self.rows_rejected += 1

    def warn(self, locator: str, code: str, message: str) -> None:
        self.warnings.append(Warning_(locator, code, message))


@dataclass(frozen=True)
class SourceRef:
    """A source file after the pipeline snapshotted it: read ``staged`` (an
    immutable copy), cite ``sha256`` and ``display`` in the rows."""

    staged: Path
    sha256: str
    display: str
    size: int


class MediaSink(Protocol):
    """Stores media bytes content-addressed under ``ARCHIVE/attachments/``."""

    def store_file(self, path: Path, name: str | None, media_type: str | None) -> Attachment: ...

    def store_bytes(self, data: bytes, name: str | None, media_type: str | None) -> Attachment: ...


class ReadContext(Protocol):
    @property
    def options(self) -> ReadOptions: ...

    @property
    def report(self) -> ReadReport: ...

    @property
    def media(self) -> MediaSink: ...

    def source(self, path: Path) -> SourceRef:
        """The snapshot of one of the files that ``source_files`` named."""
        ...


class Reader(Protocol):
    """A source format. A reader may also define ``explain(candidate) -> str | None``:
    why a file no reader took is not its format when it looks like one often taken for
    it (detection gives that reason instead of "not recognised")."""

    name: str  # the source_format written into rows, e.g. "whatsapp-txt"
    platform: Platform
    description: str  # one line for `imarchive formats`: what it reads and how it is detected

    def score(self, candidate: Candidate) -> float:
        """How sure this reader is that the candidate is its format, in [0, 1]."""
        ...

    def source_files(self, candidate: Candidate) -> list[Path]:
        """The files of the candidate that are copied into ``sources/`` and read."""
        ...

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message | RowTable]:
        """Stream the messages, one by one or (a columnar reader, for speed) as tables
        of ``schema.MESSAGE_SCHEMA`` rows. Raise ``SourceError`` to reject the whole input."""
        ...
