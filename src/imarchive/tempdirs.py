"""The temporary folders of a run (decrypted or WAL-merged database copies, a dry run's
empty archive), in ``TMPDIR``: named after the process (and host) that made them, so that
the next run on this host removes those of a process that is gone (a ``kill -9`` runs no
cleanup, and a plain copy of a chat database must not stay behind)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

from imarchive.archive.lock import _pid_alive
from imarchive.errors import UsageError

OURS = re.compile(r"imarchive-(?:wechat|dry|dry-stage)-(\d+)\.([^-]*)-")


def make(kind: str) -> Path:
    """A new private folder for ``kind`` (``wechat``, ``dry``, ``dry-stage``)."""
    return Path(tempfile.mkdtemp(prefix=prefix(kind)))


def prefix(kind: str) -> str:
    """``imarchive-KIND-PID.HOST-``: the host too, as a TMPDIR on a share may be seen by
    other machines, whose processes cannot be checked from here."""
    return f"imarchive-{kind}-{os.getpid()}.{_host()}-"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())


def check_tmpdir() -> None:
    """A ``TMPDIR`` that is set must be a folder this user can write: else Python would
    quietly use /tmp, where the user said chat data must not go."""
    value = os.environ.get("TMPDIR")
    if not value:
        return
    path = Path(value)
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(
            f"TMPDIR {value}: not a folder this user can write (decrypted copies of databases "
            "would go elsewhere): create it or unset TMPDIR"
        )


def sweep() -> list[str]:
    """Remove the temporary folders of this user's runs whose process is gone; their
    names."""
    removed: list[str] = []
    base = tempfile.gettempdir()
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        m = OURS.match(entry.name)
        if m is None or m.group(2) != _host() or _pid_alive(int(m.group(1))):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        if not os.path.lexists(entry.path):
            removed.append(entry.path)
    return removed
