"""WeChat for iOS, from an unencrypted iTunes/Finder backup (``Manifest.db``) or an
extracted ``Documents/`` tree (formats/wechat.md, "iOS"). The same ``Chat_<md5>`` layout
is used by macOS 3.x, whose files are encrypted (raw key, page 1024)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from imarchive.errors import SourceError, database_reason
from imarchive.model import Attachment, ConversationType, Message, MessageKind, Platform
from imarchive.sources.base import Candidate, ReadContext
from imarchive.sources.wechat import sqlcipher
from imarchive.sources.wechat.common import (
    PREFIX,
    BadTime,
    Builder,
    Conversation,
    Emitter,
    attach_file,
    guarded,
    integer,
    sent_time,
    split_prefix,
    stream,
    text,
)
from imarchive.sources.wechat.dbfiles import (
    Databases,
    columns,
    sidecar,
    skipped_empty,
    tables,
)
from imarchive.sources.wechat.ios_files import AppFiles, app_files
from imarchive.sources.wechat.ios_names import load_directory
from imarchive.sources.wechat.msgtypes import Interpreted

CHAT = re.compile(r"Chat_([0-9a-f]{32})")
MESSAGE_DB = re.compile(r"message_(\d+)\.sqlite")
SESSION_DB = "session/session.db"
PREFIX_SAMPLE = 50  # inbound messages looked at to tell a chat without a name is a group
WXID = re.compile(rb"[A-Za-z][-_A-Za-z0-9]{5,40}")
MEDIA = {
    MessageKind.IMAGE: ("Img", ".pic"),
    MessageKind.VOICE: ("Audio", ".aud"),
    MessageKind.VIDEO: ("Video", ".mp4"),
}


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def message_dbs(files: AppFiles, account: str) -> list[str]:
    """MM.sqlite, then message_1.sqlite … in number order (paths relative to Documents)."""
    names = files.listdir(f"{account}/DB")
    numbered = sorted((int(m.group(1)), n) for n in names if (m := MESSAGE_DB.fullmatch(n)))
    found = ["MM.sqlite"] if "MM.sqlite" in names else []
    return [f"{account}/DB/{n}" for n in found + [n for _, n in numbered]]


class IosReader:
    name = "wechat-ios"
    platform = Platform.WECHAT
    description = (
        "WeChat for iOS: an unencrypted iTunes/Finder backup folder (Manifest.db) or an "
        "extracted Documents/ tree (<md5>/DB/MM.sqlite)"
    )

    def score(self, candidate: Candidate) -> float:
        if not candidate.is_dir:
            return 0.0
        path = candidate.path
        if (path / "Manifest.db").is_file():
            return 0.7
        return 0.9 if app_files(path, None) is not None else 0.0

    def source_files(self, candidate: Candidate) -> list[Path]:
        manifest = candidate.path / "Manifest.db"
        files = app_files(candidate.path, manifest if manifest.is_file() else None)
        out = [manifest] if manifest.is_file() else []
        if files is None:
            return out
        for account in files.accounts():
            rels = [
                *message_dbs(files, account),
                f"{account}/DB/WCDB_Contact.sqlite",
                f"{account}/{SESSION_DB}",
            ]
            for rel in rels:
                for suffix in ("", "-wal", "-shm"):
                    path = files.get(rel + suffix)
                    if path is not None:
                        out.append(path)
        return out

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        return guarded(self._read(candidate, ctx))

    def _read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        manifest = candidate.path / "Manifest.db"
        staged_manifest: Path | None = None
        if manifest.is_file():
            staged_manifest = ctx.source(manifest).staged
            if not sqlcipher.is_plain_sqlite(staged_manifest):
                raise SourceError(
                    "encrypted iTunes/Finder backup (Manifest.db is encrypted): make an "
                    "unencrypted backup (untick 'Encrypt local backup') and ingest that"
                )
        files = app_files(candidate.path, staged_manifest)
        if files is None or not files.accounts():
            raise SourceError("no WeChat account data (Documents/<md5>/DB/MM.sqlite) found")
        with Databases(ctx, sqlcipher.MAC3) as dbs:
            for account in files.accounts():
                yield from self._account(dbs, files, account, ctx)

    def _open(
        self, dbs: Databases, files: AppFiles, rel: str
    ) -> tuple[sqlite3.Connection, str] | None:
        path = files.get(rel)
        if path is None:
            return None
        name = PurePosixPath(rel).name
        wal = files.get(rel + "-wal") or sidecar(path, "-wal")
        conn, _ = dbs.open(path, name, wal)
        return conn, name

    def _account(
        self, dbs: Databases, files: AppFiles, account: str, ctx: ReadContext
    ) -> Iterator[Message]:
        contact = self._open(dbs, files, f"{account}/DB/WCDB_Contact.sqlite")
        directory, users = load_directory(contact[0] if contact else None)
        # chats of contacts no longer in Friend (a group left, a contact deleted) are still
        # listed by the session list: their table names map back to usernames through it
        try:
            session = self._open(dbs, files, f"{account}/{SESSION_DB}")
            in_session = session_users(session[0] if session else None)
        except (sqlite3.DatabaseError, SourceError) as exc:  # a help, not a source of rows
            reason = exc.reason if isinstance(exc, SourceError) else database_reason(exc)
            ctx.report.warn("", "session_list_unreadable", f"{SESSION_DB}: {reason}")
            in_session = []
        by_hash = {md5(u): u for u in (*in_session, *users)}
        owner = by_hash.get(account) or _owner_from_login(files, account)
        if owner is None:
            ctx.report.warn("", "owner_unknown", f"no username matches account folder {account}")
        emitter = Emitter(Builder(self.name, owner, ctx.options.custodian), directory)
        for rel in message_dbs(files, account):
            path = files.get(rel)
            if path is None:
                continue
            name = PurePosixPath(rel).name
            wal = files.get(rel + "-wal") or sidecar(path, "-wal")
            if name != "MM.sqlite" and skipped_empty(path, name, ctx, wal):
                continue
            conn, ref = dbs.open(path, name, wal)
            chats = [t for t in tables(conn) if CHAT.fullmatch(t)]
            if not chats and name == "MM.sqlite" and "Friend" not in tables(conn):
                listed = ", ".join(tables(conn)[:20]) or "none"
                raise SourceError(f"{name}: unknown database layout (tables: {listed})")
            for table in chats:
                chat_hash = table[5:]
                user = by_hash.get(chat_hash)
                conv = (
                    emitter.conversation(user)
                    if user
                    # A chat whose username is nowhere: kept under its table hash, a group
                    # when its inbound messages carry the sender prefix
                    else Conversation(chat_hash, None, _unnamed_type(conn, table))
                )
                media_dir = f"{account}/{{}}/{chat_hash}"
                for row in stream(conn, table, "MesLocalID"):
                    v = row.values
                    local_id = integer(v, "MesLocalID")
                    locator = f"{name}/{table}/MesLocalID={local_id}"
                    try:
                        sent_at = sent_time(v, "CreateTime")
                    except BadTime as exc:
                        ctx.report.reject_row(locator, str(exc))
                        continue
                    outbound = integer(v, "Des") == 0
                    content = text(v, "Message")
                    sender = None
                    if conv.type is ConversationType.GROUP and not outbound:
                        sender, content = split_prefix(content)

                    def attach(
                        info: Interpreted, local_id: int = local_id, media_dir: str = media_dir
                    ) -> list[Attachment]:
                        return _media(files, media_dir, local_id, info, ctx)

                    yield emitter.emit(
                        conv=conv,
                        base=integer(v, "Type"),
                        content=content,
                        subtype=None,
                        native_type=None,
                        sender=sender,
                        outbound=outbound,
                        sent_at=sent_at,
                        sent_at_source=str(v.get("CreateTime")),
                        server_id=integer(v, "MesSvrID"),
                        local_id=local_id,
                        ref=ref,
                        locator=locator,
                        row=row,
                        attach=attach,
                    )


def session_users(conn: sqlite3.Connection | None) -> list[str]:
    """The usernames of ``session/session.db`` (``SessionAbstract.UsrName``: every chat
    of the session list)."""
    if conn is None:
        return []
    out: list[str] = []
    for table in tables(conn):
        for name, _ in columns(conn, table):
            if name.lower() in ("usrname", "username"):
                rows = conn.execute(f'SELECT DISTINCT "{name}" FROM "{table}"')
                out += [str(r[0]) for r in rows if isinstance(r[0], str) and r[0]]
    return out


def _unnamed_type(conn: sqlite3.Connection, table: str) -> ConversationType:
    """A group when most of the first inbound messages start with ``wxid:\\n``."""
    try:
        rows = conn.execute(f'SELECT Message FROM "{table}" WHERE Des != 0 LIMIT {PREFIX_SAMPLE}')
        texts = [r[0] for r in rows if isinstance(r[0], str)]
    except sqlite3.OperationalError:  # no such column: nothing to tell
        return ConversationType.UNKNOWN
    hits = sum(1 for t in texts if PREFIX.match(t))
    return ConversationType.GROUP if texts and hits * 2 > len(texts) else ConversationType.UNKNOWN


def _media(
    files: AppFiles, media_dir: str, local_id: int, info: Interpreted, ctx: ReadContext
) -> list[Attachment]:
    if info.kind is MessageKind.DOCUMENT:
        folder = media_dir.format("OpenData")
        stem = f"{local_id}."
        match = next((n for n in files.listdir(folder) if n.startswith(stem)), None)
        path = files.get(f"{folder}/{match}") if match else None
        return [attach_file(ctx.media, path, info.file_name, None)]
    sub, ext = MEDIA[info.kind]
    rel = f"{media_dir.format(sub)}/{local_id}{ext}"
    return [attach_file(ctx.media, files.get(rel), f"{local_id}{ext}", None)]


def _owner_from_login(files: AppFiles, account: str) -> str | None:
    """LoginInfo2.dat holds the logged-in usernames; pick the one whose md5 is the folder."""
    path = files.get("LoginInfo2.dat")
    if path is None:
        return None
    for m in WXID.finditer(path.read_bytes()[: 1 << 20]):
        user = m.group(0).decode("ascii")
        if md5(user) == account:
            return user
    return None


READER = IosReader()
