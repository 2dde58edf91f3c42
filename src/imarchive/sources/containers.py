"""Safe read access to zip containers (WhatsApp iOS/Android exports with media).

Nothing is ever extracted to disk: members are read as streams. A zip is still checked as
a whole before anything is read from it, and rejected with a one-line ``SourceError`` when
it is hostile or broken:

- zip-slip: a member name that is absolute (``/x``, ``C:\\x``, ``\\\\host``) or has a ``..``
  component;
- a symlink member (Unix mode ``S_IFLNK`` in the external attributes);
- a zip bomb: the declared uncompressed total exceeds ``MAX_TOTAL_UNCOMPRESSED``, or a
  member larger than ``RATIO_MIN_SIZE`` expands more than ``MAX_RATIO`` times;
- a truncated or corrupt archive (bad central directory, CRC mismatch while reading).

``__MACOSX/`` entries (resource forks added by macOS when re-zipping) are ignored: they are
neither media nor inputs.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from datetime import datetime
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from imarchive.errors import SourceError

# A WhatsApp export with media is at most a few GB; more than this declared is hostile.
MAX_TOTAL_UNCOMPRESSED = 16 * 1024**3
# Chat text deflates ~5-20x and media barely at all; zip bombs expand 1000x and more.
MAX_RATIO = 200
RATIO_MIN_SIZE = 1024 * 1024  # small members may legitimately compress very well
MAX_MEMBERS = 200_000
# Files that operating systems leave in folders; never inputs, never "rejected".
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", ".localized"}
# What a chat can carry as media (documents too: a .txt or a .zip may be either).
MEDIA_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".heic",
    ".mp4",
    ".mov",
    ".3gp",
    ".opus",
    ".ogg",
    ".m4a",
    ".aac",
    ".mp3",
    ".amr",
    ".pdf",
    ".vcf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".txt",
    ".zip",
    ".webm",
    ".wav",
    ".pic",
    ".aud",
}


def is_ignored(name: str) -> bool:
    """Members that are not part of the export: macOS resource forks and folders."""
    return name.startswith("__MACOSX/") or "/__MACOSX/" in name or name.endswith("/")


def _unsafe_name(name: str) -> bool:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return ".." in PurePosixPath(norm).parts


class SafeZip:
    """A checked, read-only view of a zip file. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        try:
            self._zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise SourceError(f"corrupt or truncated zip archive ({type(exc).__name__})") from exc
        try:
            self._check()
        except BaseException:
            self._zf.close()
            raise

    def _check(self) -> None:
        infos = self._zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise SourceError(f"zip archive has too many members ({len(infos)})")
        total = 0
        for info in infos:
            if _unsafe_name(info.filename):
                raise SourceError("zip member with an unsafe path (absolute or '..')")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise SourceError("zip member is a symbolic link")
            total += info.file_size
            if total > MAX_TOTAL_UNCOMPRESSED:
                raise SourceError("zip archive expands beyond the size limit (zip bomb?)")
            if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise SourceError("zip member has an implausible compression ratio (zip bomb?)")

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zf.close()

    def names(self) -> list[str]:
        """Member files, without ``__MACOSX/`` and folder entries."""
        return [i.filename for i in self._zf.infolist() if not is_ignored(i.filename)]

    def size(self, name: str) -> int:
        return self._zf.getinfo(name).file_size

    def modified(self, name: str) -> datetime:
        """The member's date. A DOS date field out of range (month 13, day 0, second 62:
        the format has room for them, a damaged or hand-made zip writes them) is brought
        into range: only the year is ever used (year-less legacy headers)."""
        year, month, day, hour, minute, second = self._zf.getinfo(name).date_time
        try:
            return datetime(year, month, day, hour, minute, second)
        except ValueError:
            return datetime(
                year,
                min(max(month, 1), 12),
                min(max(day, 1), 28),
                min(hour, 23),
                min(minute, 59),
                min(second, 59),
            )

    def open(self, name: str) -> IO[bytes]:
        try:
            return self._zf.open(name)
        except RuntimeError as exc:  # zipfile's "File … is encrypted, password required"
            raise SourceError(
                "zip member is encrypted; export the chat again without a password"
            ) from exc
        except MEMBER_ERRORS as exc:
            raise SourceError(f"cannot read zip member ({type(exc).__name__})") from exc

    def read(self, name: str) -> bytes:
        try:
            with self._zf.open(name) as fh:
                return fh.read()
        except RuntimeError as exc:
            raise SourceError(
                "zip member is encrypted; export the chat again without a password"
            ) from exc
        except MEMBER_ERRORS as exc:
            raise SourceError(f"corrupt zip member ({type(exc).__name__})") from exc


# Exceptions opening or reading a member can raise (bad headers, unknown compression).
MEMBER_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    zlib.error,
)
# Exceptions a member stream can raise part-way (CRC mismatch, truncation).
STREAM_ERRORS: tuple[type[BaseException], ...] = (zipfile.BadZipFile, EOFError, OSError, zlib.error)
