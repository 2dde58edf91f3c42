"""Where WeChat's iOS files are: an extracted ``Documents/`` tree, or an iTunes/Finder
backup whose ``Manifest.db`` maps ``relativePath`` to ``<fileID[:2]>/<fileID>``."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from imarchive.errors import SourceError
from imarchive.sources.wechat.dbfiles import connect_ro

DOMAIN = "AppDomain-com.tencent.xin"
ACCOUNT = re.compile(r"[0-9a-f]{32}")


class AppFiles:
    """WeChat's files by path relative to ``Documents/``."""

    def __init__(self, documents: Path | None, index: dict[str, Path] | None) -> None:
        self.documents = documents
        self.index = index
        self._dirs: dict[str, list[str]] = {}
        if index is not None:
            for rel in index:
                head, _, tail = rel.rpartition("/")
                self._dirs.setdefault(head, []).append(tail)

    def get(self, rel: str) -> Path | None:
        if self.index is not None:
            return self.index.get(rel)
        if self.documents is None or ".." in rel.split("/"):
            return None
        path = self.documents / rel
        return path if path.is_file() else None

    def listdir(self, rel: str) -> list[str]:
        if self.index is not None:
            return sorted(self._dirs.get(rel, []))
        if self.documents is None:
            return []
        folder = self.documents / rel
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def accounts(self) -> list[str]:
        if self.index is None:
            roots = self.listdir("")
        else:
            roots = sorted({rel.split("/", 1)[0] for rel in self.index})
        return [a for a in roots if ACCOUNT.fullmatch(a) and self.get(f"{a}/DB/MM.sqlite")]


def _documents_of(path: Path) -> Path | None:
    """The ``Documents`` folder for a candidate folder: itself, its child, or the
    parent of an account folder."""

    def has_account(docs: Path) -> bool:
        if not docs.is_dir():
            return False
        return any(
            ACCOUNT.fullmatch(p.name) and (p / "DB" / "MM.sqlite").is_file() for p in docs.iterdir()
        )

    if ACCOUNT.fullmatch(path.name) and (path / "DB" / "MM.sqlite").is_file():
        return path.parent
    for docs in (path, path / "Documents"):
        if has_account(docs):
            return docs
    return None


def _index(manifest: Path, backup: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    try:
        conn = connect_ro(manifest)
        try:
            rows = conn.execute(
                "SELECT fileID, relativePath FROM Files WHERE domain = ? AND flags = 1",
                (DOMAIN,),
            )
            for file_id, rel in rows:
                rel = str(rel)
                if not rel.startswith("Documents/") or ".." in rel.split("/"):
                    continue
                path = backup / str(file_id)[:2] / str(file_id)
                out[rel[len("Documents/") :]] = path
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise SourceError(f"Manifest.db: not readable ({err})") from None
    return out


def app_files(path: Path, manifest: Path | None) -> AppFiles | None:
    """``manifest`` is the (staged) Manifest.db of a backup at ``path``; None for trees."""
    if manifest is not None:
        with manifest.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return None
        # ``manifest`` may be the staged copy: the files sit beside the original.
        index = {rel: p for rel, p in _index(manifest, path).items() if p.is_file()}
        return AppFiles(None, index)
    docs = _documents_of(path)
    return AppFiles(docs, None) if docs is not None else None
