"""Exit codes and the exception hierarchy. Each error knows its exit code; only
``cli.main`` turns exceptions into codes (borg ``helpers/errors.py``)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1
    USAGE = 2
    LOCKED = 3
    NOT_AN_ARCHIVE = 4
    INTERNAL = 70
    INTERRUPTED = 130


class ImarchiveError(Exception):
    """Base class: a one-line message meant for the user, and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(ImarchiveError):
    """Bad flag value, missing path, unknown time zone: nothing was written."""

    exit_code = ExitCode.USAGE


class LockTimeout(ImarchiveError):
    exit_code = ExitCode.LOCKED


class NotAnArchive(ImarchiveError):
    """Not an imarchive archive, or a newer format than this tool reads."""

    exit_code = ExitCode.NOT_AN_ARCHIVE


class ArchiveError(ImarchiveError):
    """The archive could not be written (disk full, permissions): the last
    committed batch stays intact."""

    exit_code = ExitCode.PROBLEMS


class OutputError(ImarchiveError):
    """stdout or stderr could not be written (closed, full, a reader that stopped): the
    work is done (a committed batch stays), its report is not complete."""

    exit_code = ExitCode.PROBLEMS


class Interrupted(ImarchiveError):
    exit_code = ExitCode.INTERRUPTED


class SourceError(Exception):
    """A source input cannot be read. Not fatal: the input is reported as
    rejected with ``reason`` and the run goes on with the other inputs.

    The message must carry no message text (chat content is regulated data):
    paths, line numbers, counts and structural facts only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def database_reason(exc: Exception) -> str:
    """The one-line reason for an input whose SQLite database failed while it was read.
    The databases are opened read-only, so "full" can only mean the temporary files
    SQLite sorts with (and decrypted copies) have no room: not a damaged database."""
    import sqlite3
    import tempfile

    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return (
            f"no room for temporary files in {tempfile.gettempdir()} while reading the "
            "database (set TMPDIR to a folder with more space)"
        )
    return f"damaged database ({exc})"
