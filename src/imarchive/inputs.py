"""PATH arguments → candidate inputs: files, zips, recognised dump folders, and the
files found by walking other folders (the drop folder on a file share)."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imarchive.archive import layout as L
from imarchive.archive.fsio import open_regular
from imarchive.errors import SourceError
from imarchive.sources import registry
from imarchive.sources.base import Candidate
from imarchive.sources.containers import IGNORED_NAMES, MEDIA_SUFFIXES

HEAD_BYTES = 65536
# Database sidecars are read with their main file.
SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")
MACOSX_FOLDER = "__MACOSX"
APPLEDOUBLE = b"\x00\x05\x16\x07"


@dataclass(frozen=True)
class Found:
    """A candidate input, or a path that cannot be one (``error`` says why)."""

    display: str
    candidate: Candidate | None = None
    error: str | None = None


def make_candidate(path: Path, display: str) -> Candidate:
    if path.is_dir():
        return Candidate(path, display, True)
    try:
        with open_regular(path) as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise SourceError(f"cannot read the file ({exc.strerror})") from None
    names: tuple[str, ...] | None = None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = tuple(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise SourceError("damaged or truncated zip file") from None
    return Candidate(path, display, False, head, names)


def _claims_folder(path: Path, display: str) -> bool:
    """Whether a reader takes the folder as one input (one it cannot look into is walked,
    and the walk reports why)."""
    cand = Candidate(path, display, True)
    try:
        return any(r.score(cand) >= registry.MIN_SCORE for r in registry.READERS)
    except OSError:
        return False


def utf8_display(path: str) -> str:
    """A path as text that can be printed and stored: bytes of a name that are not UTF-8
    become ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


NOT_UTF8 = "the name is not valid UTF-8 (rename it to be read)"


IN_ARCHIVE = "inside the archive being written: its own files are no input"
AN_ARCHIVE = "an imarchive archive, not a chat export (not walked)"


def expand(paths: list[Path], archive: Path | None = None) -> Iterator[Found]:
    """The candidate inputs of the PATH arguments. ``archive``, the archive being
    written, is never an input: a drop folder that holds it is walked around it (so
    is any other archive found there, reported once), and a PATH inside it is refused."""
    own = _resolved(archive) if archive is not None else None
    for given in paths:
        display = str(given)
        where = _resolved(given)
        if utf8_display(display) != display:
            yield Found(utf8_display(display), error=NOT_UTF8)
        elif own is not None and where is not None and where.is_relative_to(own):
            yield Found(display, error=IN_ARCHIVE)
        elif given.is_dir() and _is_archive(given):
            yield Found(display, error=AN_ARCHIVE)
        elif given.is_dir() and not _claims_folder(given, display):
            # a folder named by a symbolic link (a share mounted through one) is walked
            # too; links inside it are followed only within it
            yield from _walk(given, given.resolve(), own)
        else:
            yield _one(given, display)


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def _is_archive(folder: Path) -> bool:
    try:
        return (folder / L.ARCHIVE_JSON).is_file()
    except OSError:
        return False


def _one(path: Path, display: str) -> Found:
    try:
        return Found(display, make_candidate(path, display))
    except SourceError as exc:
        return Found(display, error=exc.reason)


def _walk(folder: Path, top: Path, own: Path | None) -> Iterator[Found]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield Found(str(folder), error=f"cannot list the folder ({exc.strerror})")
        return
    files = [e for e in entries if e.name not in IGNORED_NAMES and not _mac_metadata(e)]
    names = {e.name for e in files}
    for entry in files:
        path = Path(entry.path)
        display = str(path)
        if utf8_display(entry.name) != entry.name:
            yield Found(utf8_display(display), error=NOT_UTF8)
            continue
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                yield Found(display, error="dangling symbolic link")
                continue
            except (OSError, RuntimeError):  # a loop (RuntimeError before Python 3.13)
                yield Found(display, error="symbolic link that cannot be resolved (a loop?)")
                continue
            if path.is_dir():
                yield Found(display, error="symbolic link to a folder, not followed")
            elif not target.is_relative_to(top):
                yield Found(
                    display, error="symbolic link pointing outside the input folder, not followed"
                )
            elif target.is_file():
                yield _one(target, display)
            else:
                yield Found(display, error="symbolic link to something that is not a regular file")
            continue
        if entry.is_dir():
            if own is not None and _resolved(path) == own:
                continue  # the archive being written
            if _is_archive(path):
                yield Found(display, error=AN_ARCHIVE)
            elif _claims_folder(path, display):
                yield Found(display, Candidate(path, display, True))
            else:
                yield from _walk(path, top, own)
            continue
        if not entry.is_file():
            yield Found(display, error="not a regular file")
            continue
        if any(entry.name.endswith(s) and entry.name[: -len(s)] in names for s in SIDECAR_SUFFIXES):
            continue
        yield _one(path, display)


def _mac_metadata(entry: os.DirEntry[str]) -> bool:
    """What a copy from a Mac leaves beside the files, holding no chat: the ``__MACOSX``
    folder of an archive unzipped there and AppleDouble ``._name`` files (a file's
    resource fork and attributes, on a share that cannot hold them), told by their magic
    number."""
    try:
        if entry.name == MACOSX_FOLDER:
            return entry.is_dir(follow_symlinks=False)
        if entry.name.startswith("._") and entry.is_file(follow_symlinks=False):
            with open(entry.path, "rb") as fh:
                return fh.read(len(APPLEDOUBLE)) == APPLEDOUBLE
    except OSError:
        return False  # reading it as an input says what is wrong
    return False


def is_media_beside_export(display: str) -> bool:
    return Path(display).suffix.lower() in MEDIA_SUFFIXES
