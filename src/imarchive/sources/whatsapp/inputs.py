"""The three shapes of a WhatsApp export on disk, behind one interface.

- a chat ``.txt`` (media, if any, lie loose next to it);
- a ``.zip`` holding ``_chat.txt`` (iOS) or ``WhatsApp Chat with X.txt`` (Android) and
  the media, possibly under a sub-folder, possibly with ``__MACOSX/`` entries;
- a folder that is an unzipped export.

The chat text is always read from the pipeline's snapshot (``SourceRef.staged``); media
are read from the container they came in.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, cast

from imarchive import textio
from imarchive.errors import SourceError
from imarchive.model import Attachment, AttachmentStatus
from imarchive.sources.base import Candidate, MediaSink, SourceRef
from imarchive.sources.containers import (
    IGNORED_NAMES,
    MEDIA_SUFFIXES,
    STREAM_ERRORS,
    SafeZip,
    is_ignored,
)
from imarchive.sources.whatsapp import naming

_MEDIA_NAME = re.compile(
    r"(?:(?:IMG|VID|PTT|AUD|STK|GIF|DOC)-\d{8}-WA\d+|\d{8}-(?:PHOTO|VIDEO|AUDIO|STICKER|GIF))"
)


def zip_chat_member(names: list[str] | tuple[str, ...]) -> str | None:
    """The chat text inside a zip: ``_chat.txt`` or a localised chat name, else the only
    ``.txt`` of the archive."""
    members = [n for n in names if not is_ignored(n)]
    chats = [n for n in members if naming.is_chat_txt_name(n)]
    if len(chats) == 1:
        return chats[0]
    if chats:
        ios = [n for n in chats if n.rsplit("/", 1)[-1] == naming.IOS_CHAT]
        return min(ios or chats, key=lambda n: (n.count("/"), n))
    txts = [n for n in members if n.lower().endswith(".txt")]
    return txts[0] if len(txts) == 1 else None


HEAD_ERRORS: tuple[type[BaseException], ...] = (SourceError, *STREAM_ERRORS)


def zip_member_heads(path: Path, members: Iterable[str]) -> list[tuple[str, bytes]]:
    """(member, its first bytes) for each of ``members`` the zip can give, from one
    opening of it (a zip is checked whole when opened); the others are left out
    (reading them says why)."""
    out: list[tuple[str, bytes]] = []
    try:
        zf = SafeZip(path)
    except SourceError:
        return out
    with zf:
        for member in members:
            try:
                with zf.open(member) as fh:
                    out.append((member, fh.read(textio.SNIFF_SIZE)))
            except HEAD_ERRORS:
                continue
    return out


def dir_chat_file(folder: Path) -> Path | None:
    """The chat text of an unzipped export folder, or None when the folder is not one.
    A folder that holds anything else than that chat and media files (another .txt or
    .zip, a sub-folder, a file of another kind) is a drop folder: it is walked, so that
    none of its other inputs is passed over."""
    try:
        entries = [p for p in folder.iterdir() if p.name not in IGNORED_NAMES]
    except OSError:
        return None
    files = [p for p in entries if p.is_file() and not p.is_symlink()]
    chat = _chat_of(folder, files)
    if chat is None:
        return None
    regular = set(files)  # an export folder may hold thousands of media files
    for p in entries:
        if p == chat or p.name == "__MACOSX":
            continue
        suffix = p.suffix.lower()
        if (
            p not in regular
            or suffix in (".txt", ".zip")
            or (suffix not in MEDIA_SUFFIXES and not _MEDIA_NAME.match(p.name))
        ):
            return None
    return chat


def _chat_of(folder: Path, files: list[Path]) -> Path | None:
    ios = folder / naming.IOS_CHAT
    if ios in files:
        return ios
    chats = [p for p in files if naming.is_chat_txt_name(p.name)]
    if len(chats) == 1:
        return chats[0]
    txts = [p for p in files if p.suffix.lower() == ".txt"]
    if len(txts) == 1 and any(_MEDIA_NAME.match(p.name) for p in files):
        return txts[0]
    return None


def _mime(name: str | None) -> str | None:
    return mimetypes.guess_type(name)[0] if name else None


class ExportInput:
    """One opened export: the chat text stream and its media."""

    def __init__(self, candidate: Candidate, chat: Path, ref: SourceRef) -> None:
        self.candidate = candidate
        self.ref = ref
        self.zip: SafeZip | None = None
        self.member: str | None = None
        self.folder: Path | None = None
        self._media: dict[str, str] = {}
        if candidate.zip_names is not None:
            self.zip = SafeZip(ref.staged)
            self.member = zip_chat_member(self.zip.names())
            if self.member is None:
                self.zip.close()
                raise SourceError("zip archive holds no WhatsApp chat text")
            for name in self.zip.names():
                if name != self.member:
                    self._media.setdefault(name.rsplit("/", 1)[-1], name)
            self.source_path = f"{ref.display}!{self.member}"
            self.size = self.zip.size(self.member)
            self.modified = self.zip.modified(self.member)
            self.title = naming.title_from_names(self.member, candidate.path.name)
        else:
            self.folder = chat.parent
            self.source_path = ref.display
            self.size = ref.size
            self.modified = datetime.fromtimestamp(chat.stat().st_mtime)
            # a loose file is named by itself; only a loose ``_chat.txt`` (the iOS name,
            # which says nothing) by its folder, as an unzipped export is
            if candidate.is_dir:
                container: str | None = candidate.path.name
            else:
                container = chat.parent.name if chat.name == naming.IOS_CHAT else None
            self.title = naming.title_from_names(chat.name, container)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def opener(self) -> Callable[[], BinaryIO]:
        if self.zip is not None and self.member is not None:
            zf, member = self.zip, self.member
            return lambda: cast(BinaryIO, zf.open(member))
        staged = self.ref.staged
        return lambda: staged.open("rb")

    def attachment(self, name: str | None, sink: MediaSink) -> Attachment:
        """Store a referenced file, or record it as missing."""
        if name:
            if self.zip is not None:
                member = self._media.get(name)
                if member is not None:
                    return sink.store_bytes(self.zip.read(member), name, _mime(name))
            elif self.folder is not None and "/" not in name and "\\" not in name:
                path = self.folder / name
                if name not in (".", "..") and path.is_file() and not path.is_symlink():
                    return sink.store_file(path, name, _mime(name))
        return Attachment(name, None, None, _mime(name), AttachmentStatus.MISSING)


def omitted(name: str | None) -> Attachment:
    return Attachment(name, None, None, _mime(name), AttachmentStatus.OMITTED)
