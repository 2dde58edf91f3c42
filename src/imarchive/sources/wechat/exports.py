"""WeChat text exports made by third-party tools: MemoTrace CSV, PyWxDump CSV and
WechatExporter TXT (formats/wechat.md, "Text exports made by third-party tools").

They hold less than the databases they were made from, so their rows are marked: the
``source_format`` names the tool, and each input gets a ``third_party_export`` warning that
says what the export lacks. What they do hold is kept exactly:

- MemoTrace CSV: the database row (``localId``, ``Type``/``SubType``, ``IsSender``, the epoch
  ``CreateTime``, ``StrContent``) of one chat; group chats add the sender's remark, nickname
  and wxid. No server id, no conversation id: the chat is named by ``--conversation`` or
  the file name, as for WhatsApp. An export of all chats in one file is rejected.
- PyWxDump CSV: server id, type name, sender wxid (the owner as ``我``), the conversation id
  (``room_name``), the readable text, a media path, and a *local* time string
  (``--timezone``).
- Neither CSV names the owner: ``--owner`` gives the wxid (``account_id``).
- WechatExporter TXT: ``NAME (YYYY-MM-DD HH:MM:SS):MESSAGE`` in the local time of the
  computer that exported it, bodies over several lines as they are, ``System Message: …``
  lines without a time, and notices and transfers written with no line end before the next
  header (told apart by the names that open lines); a timeless record takes the time of
  the message before it, with a warning. The title line names the chat.

Identity follows the SPEC: the server id where there is one (PyWxDump), else ``local:``
with the local id (MemoTrace ``localId``, PyWxDump ``id``; for WechatExporter, which has
none, the count ``n`` of earlier records of the file with the same time, name and text,
as for WhatsApp), the time, the sender and the sha256 of ``raw`` (the record as written,
without its line end; hashed with ``\n`` line ends, so that a copy re-saved with CRLF line
ends gives the same ids).
"""

from __future__ import annotations

import csv
import hashlib
import mimetypes
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from imarchive import textio
from imarchive.errors import SourceError
from imarchive.identity import format_instant, wechat_id
from imarchive.model import (
    Attachment,
    AttachmentStatus,
    ConversationType,
    Direction,
    Message,
    MessageKind,
    Platform,
)
from imarchive.sources.base import Candidate, ReadContext, ReadReport, SourceRef
from imarchive.sources.wechat.common import BadTime, sent_time
from imarchive.sources.wechat.msgtypes import (
    APP_KINDS,
    BASE_KINDS,
    MEDIA_TYPES,
    SYSTEM_TYPES,
    Interpreted,
    interpret,
)
from imarchive.sources.wechat.names import conversation_type
from imarchive.sources.whatsapp.timeparse import BadTimestamp, ZoneResolver

MEMOTRACE_HEADER = (
    "localId",
    "TalkerId",
    "Type",
    "SubType",
    "IsSender",
    "CreateTime",
    "Status",
    "StrContent",
    "StrTime",
    "Remark",
    "NickName",
    "Sender",
)
MEMOTRACE_SHORT = 9  # one-to-one chats fill only the first nine columns
MEMOTRACE_ID_COLUMNS = (
    "localId",
    "TalkerId",
    "Type",
    "SubType",
    "IsSender",
    "CreateTime",
    "StrContent",
)
PYWXDUMP_HEADER = (
    "id",
    "MsgSvrID",
    "type_name",
    "is_sender",
    "talker",
    "room_name",
    "msg",
    "src",
    "CreateTime",
)
# talkers that name nobody: "我" (me: the owner), "未知" (a group sender PyWxDump could not
# resolve), "系统" (the system); kept as the shown name, never as a sender id
PYWXDUMP_NO_ID = frozenset({"", "我", "未知", "系统"})
SERVER_ID = re.compile(r"-?[1-9]\d*")
LOCAL_TIME = "%Y-%m-%d %H:%M:%S"
FIELD_LIMIT = 1 << 26  # csv's default (128 KiB) would reject a long message
MAX_RECORD_LINES = 10_000  # a record over more lines is a quote that is never closed
SCORE_LINES = 60

# PyWxDump's type names (both generations of its table) → (base type, app subtype).
PYWXDUMP_TYPES: dict[str, tuple[int, int]] = {
    "文本": (1, 0),
    "图片": (3, 0),
    "语音": (34, 0),
    "添加好友": (37, 0),
    "推荐公众号": (42, 0),
    "视频": (43, 0),
    "动画表情": (47, 0),
    "位置": (48, 0),
    "地图信息": (48, 0),
    "文件": (49, 6),
    "粘贴的文本": (49, 1),
    "类似文字消息而不一样的消息": (49, 1),
    "(分享)音乐": (49, 3),
    "(分享)卡片式链接": (49, 5),
    "卡片式链接": (49, 5),
    "用户上传的GIF表情": (49, 8),
    "用户上传的 GIF 表情": (49, 8),
    "位置共享": (49, 17),
    "合并转发的聊天记录": (49, 19),
    "(分享)小程序": (49, 33),
    "分享的小程序": (49, 33),
    "(分享)视频号名片": (49, 50),
    "(分享)视频号视频": (49, 51),
    "引用回复": (49, 57),
    "带有引用的文本消息": (49, 57),
    "转账": (49, 2000),
    "转账消息": (49, 2000),
    "语音通话": (50, 0),
    "系统通知": (10000, 0),
    "拍一拍": (10000, 4),
    "邀请加群": (10000, 8000),
}
PYWXDUMP_RECALL = "消息撤回"  # "消息撤回1", "消息撤回5", …: a recall notice

# WechatExporter TXT
TXT_HEADER = re.compile(r"(?P<name>.*?) \((?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\):")
TXT_SYSTEM = re.compile(r"(?:System Message: |系统消息：)")
TXT_QUOTE_RULE = "\n- - - - - - - - - - - - - - -\n"  # between a quoted message and the reply
TXT_STAMP = re.compile(r" \((?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\):")
TXT_TITLE = re.compile(r"(?P<title>.+) - (?:微信聊天记录|WeChat Chat History)")
TITLE_REASON = "the export's title line (the chat's name), not a message"
LEAD_REASON = "no message line before the first record"
SYSTEM_FIRST_REASON = "system message before the first timed message"
TIME_FROM_PREVIOUS = "system line without a time: given the time of the message before it"
FORWARDED_ITEM = "a message quoted in a forwarded chat record, with its original sender and time"
# The body's first words → kind (the English and the Chinese templates).
TXT_MARKERS: tuple[tuple[str, MessageKind], ...] = (
    ("[Photo]", MessageKind.IMAGE),
    ("[图片]", MessageKind.IMAGE),
    ("[Video]", MessageKind.VIDEO),
    ("[视频]", MessageKind.VIDEO),
    ("[Audio]", MessageKind.VOICE),
    ("[Voice]", MessageKind.VOICE),
    ("[音频]", MessageKind.VOICE),
    ("[语音]", MessageKind.VOICE),
    ("[Emoji]", MessageKind.STICKER),
    ("[表情]", MessageKind.STICKER),
    ("[动画表情]", MessageKind.STICKER),
    ("[Contact Card]", MessageKind.CONTACT),
    ("[名片]", MessageKind.CONTACT),
    ("Weixin Transfer", MessageKind.TRANSFER),
    ("微信转账", MessageKind.TRANSFER),
)
MEDIA_KINDS = frozenset({MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.VOICE})

LACKS = {
    "wechat-memotrace-csv": "a MemoTrace CSV export: no server ids, no conversation id, no media",
    "wechat-pywxdump-csv": "a PyWxDump CSV export: local times, no display names, "
    "the owner's id shown as 我",
    "wechat-exporter-txt": "a WechatExporter text export: local times, display names "
    "instead of ids, no media, no times on system lines",
}


# -- reading the text --------------------------------------------------------------------


def _lines(ref: SourceRef, report: ReadReport, newline: str | None = "\n") -> Iterator[str]:
    """The file's lines, each with its line end. ``newline=None``: the file's own line
    ending (``textio.line_ending``) turned into ``\\n`` (the caller maps it back)."""

    def opener() -> BinaryIO:
        return ref.staged.open("rb")

    with opener() as fh:
        head = fh.read(textio.SNIFF_SIZE)
    if not head:
        raise SourceError("empty file")
    enc = textio.sniff(head)
    ending = textio.line_ending(opener, enc) if newline is None else "\n"
    try:
        for _ in textio.iter_blocks(opener, enc, newline=ending):
            pass
    except UnicodeDecodeError as exc:
        if enc.confirmed and enc.codec != "utf-8-sig":
            raise SourceError(f"invalid {enc.name} byte sequence") from exc
        with opener() as fh:
            enc = textio.fallback(fh, enc)
    report.encoding = enc.name
    bad: list[tuple[int, int]] = []
    blocks = textio.iter_blocks(opener, enc, newline=ending, bad=bad if enc.lossy else None)
    try:
        for block in blocks:
            start = 0
            while start < len(block):
                end = block.find("\n", start) + 1 or len(block)
                yield block[start:end]
                start = end
    except UnicodeDecodeError as exc:  # the fallback guess fails too
        raise SourceError(f"invalid {enc.name} byte sequence") from exc
    for line, n in bad:
        report.warn(f"L{line}", "invalid_utf8", f"{n} invalid UTF-8 byte(s) replaced with U+FFFD")


def _ending(ref: SourceRef) -> str:
    def opener() -> BinaryIO:
        return ref.staged.open("rb")

    with opener() as fh:
        enc = textio.sniff(fh.read(textio.SNIFF_SIZE))
    return textio.line_ending(opener, enc)


@dataclass(frozen=True)
class _Record:
    line: int  # first line (1-based)
    nlines: int
    fields: list[str]
    text: str  # as written, without its line end

    @property
    def locator(self) -> str:
        return _locator(self.line, self.nlines)


def _locator(line: int, nlines: int) -> str:
    return f"L{line}" if nlines <= 1 else f"L{line}-L{line + nlines - 1}"


def _strip_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


class _Runaway(Exception):
    """A record ran over ``MAX_RECORD_LINES`` lines: a quote opened and never closed."""


def _csv_records(lines: Iterator[str], report: ReadReport) -> Iterator[_Record]:
    """The CSV records of ``lines``. A record csv cannot read (a NUL byte) is rejected and
    reading goes on after it; so is the line of a stray quote, whose field would otherwise
    swallow the rest of the file: the lines after it are read again as records."""
    csv.field_size_limit(FIELD_LIMIT)
    consumed: list[str] = []
    again: deque[str] = deque()  # lines to read again after a stray quote
    source = iter(lines)

    def feed() -> Iterator[str]:
        while True:
            line = again.popleft() if again else next(source, None)
            if line is None:
                return
            consumed.append(line)
            if len(consumed) > MAX_RECORD_LINES:
                raise _Runaway
            yield line

    start = 1
    while True:
        try:
            for fields in csv.reader(feed()):
                text = "".join(consumed)
                n = len(consumed)
                consumed.clear()
                yield _Record(start, n, fields, _strip_end(text))
                start += n
            return
        except _Runaway:
            report.reject(_locator(start, 1), "a quote that is never closed", lines=1)
            again.extendleft(reversed(consumed[1:]))
            consumed.clear()
            start += 1
        except csv.Error as exc:
            n = max(1, len(consumed))
            report.reject(_locator(start, n), f"not a readable CSV record ({exc})", lines=n)
            consumed.clear()
            start += n


def _title(candidate: Candidate, ctx: ReadContext, suffix: str = "") -> str:
    """The chat's name: ``--conversation``, else the file name (without ``suffix``)."""
    if ctx.options.conversation:
        return ctx.options.conversation
    stem = candidate.path.stem
    if suffix and stem.endswith(suffix) and len(stem) > len(suffix):
        stem = stem[: -len(suffix)]
    return stem


def _derived_id(ctx: ReadContext, title: str) -> str:
    """A conversation id for an export that names no chat id (SPEC, as for WhatsApp)."""
    return (ctx.options.custodian or ctx.options.owner or "") + "/" + title


def _mark(report: ReadReport, name: str) -> None:
    report.facts["third_party_export"] = name
    report.warn("", "third_party_export", f"lower fidelity: {LACKS[name]}")


def _first_line(candidate: Candidate) -> str:
    if candidate.is_dir or candidate.zip_names is not None:
        return ""
    text = textio.decode_head(candidate.head).lstrip("\ufeff")
    return text.split("\n", 1)[0].rstrip("\r")


def _header_is(candidate: Candidate, header: tuple[str, ...]) -> bool:
    line = _first_line(candidate)
    if not line:
        return False
    try:
        fields = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return False
    return tuple(f.strip() for f in fields) == header


def _csv_score(candidate: Candidate, header: tuple[str, ...]) -> float:
    if not _header_is(candidate, header):
        return 0.0
    return 0.95 if candidate.path.suffix.lower() == ".csv" else 0.8


def _rows(
    ref: SourceRef, report: ReadReport, header: tuple[str, ...]
) -> Iterator[tuple[_Record, dict[str, str]]]:
    """The data records of a CSV export with their fields by column name (blank lines
    skipped; the caller checks the number of fields)."""
    records = _csv_records(_lines(ref, report), report)
    first = next(records, None)
    if first is None or tuple(f.strip().lstrip("\ufeff") for f in first.fields) != header:
        raise SourceError("the first line is not the export's column header")
    total = 0  # the lines of the records: every one is in a message or rejected
    for rec in records:
        if not rec.fields:  # a blank line
            continue
        total += rec.nlines
        yield rec, dict(zip(header, rec.fields, strict=False))
    report.lines_total = total


def _message(
    *,
    source_format: str,
    ctx: ReadContext,
    ref: SourceRef,
    rec_locator: str,
    raw: str,
    id_text: str | None = None,
    account_id: str | None,
    conversation: tuple[str, str | None, ConversationType],
    info: Interpreted,
    sender_id: str | None,
    sender_name: str | None,
    direction: Direction,
    sent_at: datetime,
    sent_at_source: str,
    timezone: str | None,
    server_id: str | None,
    local_id: str,
    attachments: list[Attachment],
) -> Message:
    conv_id, conv_name, conv_type = conversation
    if info.system:
        direction = Direction.SYSTEM
        sender_id = sender_name = None
    native_id = server_id if server_id not in (None, "", "0") else None
    return Message(
        message_id=wechat_id(
            account_id,
            conv_id,
            native_id,
            local_id=local_id,
            sent_at=sent_at,
            sender_id=sender_id,
            raw=_lf(raw if id_text is None else id_text),
        ),
        platform=Platform.WECHAT,
        source_format=source_format,
        account_id=account_id,
        custodian=ctx.options.custodian,
        conversation_id=conv_id,
        conversation_name=conv_name,
        conversation_type=conv_type,
        sender_id=sender_id,
        sender_name=sender_name,
        direction=direction,
        sent_at=sent_at,
        sent_at_source=sent_at_source,
        source_timezone=timezone,
        kind=info.kind,
        native_type=info.native_type,
        body=info.body,
        edited=False,
        deleted=info.deleted,
        attachments=attachments,
        reply_to=info.reply_to,
        native_id=native_id,
        source_sha256=ref.sha256,
        source_path=ref.display,
        source_locator=rec_locator,
        raw=raw,
    )


def _nothing_read(read: int, report: ReadReport) -> None:
    """An export none of whose records could be read is rejected, not "ingested" empty."""
    if read == 0 and report.rejected:
        first = report.rejected[0]
        raise SourceError(
            f"no record could be read ({len(report.rejected)} rejected; the first, "
            f"{first.locator}: {first.reason})"
        )


def _lf(raw: str) -> str:
    """The record with ``\n`` line ends, as its id hashes it: a copy re-saved with CRLF
    (or CR) line ends gives the same ids; ``raw`` keeps the file's own."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def _zone(ctx: ReadContext) -> ZoneResolver:
    try:
        return ZoneResolver(ctx.options.timezone)
    except (KeyError, ValueError) as exc:
        raise SourceError("unknown time zone") from exc


def _local_instant(
    text: str, zone: ZoneResolver, report: ReadReport, locator: str
) -> datetime | None:
    try:
        local = datetime.strptime(text.strip(), LOCAL_TIME)
    except ValueError:
        return None
    try:
        res = zone.resolve(local)
    except BadTimestamp:  # no instant a datetime can hold
        return None
    if res.shift is not None:
        report.warn(locator, res.shift, f"local time in a DST {res.shift[4:]}: resolved per policy")
    return res.instant


# -- MemoTrace CSV ------------------------------------------------------------------------


class MemoTraceCsvReader:
    name = "wechat-memotrace-csv"
    platform = Platform.WECHAT
    description = (
        "MemoTrace CSV export of one WeChat chat (third-party, lower fidelity); detected by "
        "its column header localId,TalkerId,Type,…,Sender"
    )

    def score(self, candidate: Candidate) -> float:
        return _csv_score(candidate, MEMOTRACE_HEADER)

    def source_files(self, candidate: Candidate) -> list[Path]:
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        report = ctx.report
        _mark(report, self.name)
        # pass 1: one chat only, and the group test from the sender columns
        talkers: set[str] = set()
        inbound: set[str] = set()
        full = False
        ref = ctx.source(candidate.path)
        for rec, v in _rows(ref, ReadReport(), MEMOTRACE_HEADER):
            talkers.add(v.get("TalkerId", ""))
            if len(rec.fields) < len(MEMOTRACE_HEADER):
                continue
            full = True
            if v.get("IsSender") != "1" and v.get("Sender"):
                inbound.add(v["Sender"])
        if len(talkers) > 1:
            raise SourceError(
                f"a MemoTrace export of {len(talkers)} chats (TalkerId differs): their "
                "senders cannot be told apart; export the chats one by one"
            )
        if not full or len(inbound) == 1:
            ctype = ConversationType.DIRECT
        elif len(inbound) > 1:
            ctype = ConversationType.GROUP
        else:
            ctype = ConversationType.UNKNOWN
        title = _title(candidate, ctx, "_utf8")
        conversation = (_derived_id(ctx, title), title, ctype)
        read = 0
        for rec, v in _rows(ref, report, MEMOTRACE_HEADER):
            if len(rec.fields) not in (MEMOTRACE_SHORT, len(MEMOTRACE_HEADER)):
                report.reject(
                    rec.locator,
                    f"{len(rec.fields)} fields, expected {MEMOTRACE_SHORT} or "
                    f"{len(MEMOTRACE_HEADER)}",
                    lines=rec.nlines,
                )
                continue
            try:
                sent_at = sent_time(v, "CreateTime")
                base = int(v["Type"])
                sub = int(v["SubType"] or 0)
            except BadTime as exc:
                report.reject(rec.locator, str(exc), lines=rec.nlines)
                continue
            except ValueError:
                report.reject(rec.locator, "Type or SubType is not an integer", lines=rec.nlines)
                continue
            outbound = v["IsSender"] == "1"
            sender = v.get("Sender") or None
            if sender in PYWXDUMP_NO_ID:
                sender = None
            if outbound and sender is None:
                sender = ctx.options.owner
            info = interpret(base, v["StrContent"], subtype=sub or None)
            read += 1
            yield _message(
                source_format=self.name,
                ctx=ctx,
                ref=ref,
                rec_locator=rec.locator,
                raw=rec.text,
                # the database columns only: a re-export, or a spreadsheet, changes the
                # display columns (StrTime, Remark, NickName) and would change every id
                id_text="\x1f".join(v[c] for c in MEMOTRACE_ID_COLUMNS),
                account_id=ctx.options.owner,  # the export names no owner: --owner
                conversation=conversation,
                info=info,
                sender_id=sender,
                sender_name=v.get("Remark") or v.get("NickName") or sender,
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                sent_at=sent_at,
                sent_at_source=v["CreateTime"],
                timezone=None,
                server_id=None,
                local_id=v["localId"],
                attachments=[_omitted(info.file_name)] if info.media else [],
            )
        _nothing_read(read, report)


# -- PyWxDump CSV ---------------------------------------------------------------------------


class PyWxDumpCsvReader:
    name = "wechat-pywxdump-csv"
    platform = Platform.WECHAT
    description = (
        "PyWxDump CSV export of a WeChat chat (third-party, lower fidelity; local times: "
        "--timezone); detected by its column header id,MsgSvrID,type_name,…,CreateTime"
    )

    def score(self, candidate: Candidate) -> float:
        return _csv_score(candidate, PYWXDUMP_HEADER)

    def source_files(self, candidate: Candidate) -> list[Path]:
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        report = ctx.report
        _mark(report, self.name)
        report.facts["local_times"] = True
        zone = _zone(ctx)
        tz = ctx.options.timezone
        folder = candidate.path.parent
        unusable = 0  # rows whose MsgSvrID is no integer
        # the export names no owner: --owner gives the wxid (account_id, and the owner's
        # sender id), so that two custodians' copies of one group stay apart
        account = ctx.options.owner
        read = 0
        ref = ctx.source(candidate.path)
        for rec, v in _rows(ref, report, PYWXDUMP_HEADER):
            if len(rec.fields) != len(PYWXDUMP_HEADER):
                report.reject(
                    rec.locator,
                    f"{len(rec.fields)} fields, expected {len(PYWXDUMP_HEADER)}",
                    lines=rec.nlines,
                )
                continue
            conv_id = v["room_name"]
            if not conv_id:
                report.reject(rec.locator, "no conversation id (room_name empty)", rec.nlines)
                continue
            sent_at = _local_instant(v["CreateTime"], zone, report, rec.locator)
            if sent_at is None:
                report.reject(rec.locator, "CreateTime is not a local time", lines=rec.nlines)
                continue
            info = _pywxdump_info(v["type_name"], v["msg"])
            talker = v["talker"]
            outbound = v["is_sender"] == "1"
            sender_id = account if outbound else None if talker in PYWXDUMP_NO_ID else talker
            server_id = v["MsgSvrID"].strip()
            if not SERVER_ID.fullmatch(server_id):
                # a spreadsheet's 8.23457E+18 is no id: two messages would share it
                unusable += server_id not in ("", "0")
                server_id = ""
            attachments = [_media_file(ctx, folder, v["src"])] if info.media else []
            read += 1
            yield _message(
                source_format=self.name,
                ctx=ctx,
                ref=ref,
                rec_locator=rec.locator,
                raw=rec.text,
                account_id=account,
                conversation=(conv_id, None, conversation_type(conv_id)),
                info=info,
                sender_id=sender_id,
                sender_name=talker or None,
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                sent_at=sent_at,
                sent_at_source=v["CreateTime"],
                timezone=tz,
                server_id=server_id,
                local_id=v["id"],
                attachments=attachments,
            )
        if unusable:
            report.warn(
                "",
                "server_id_unusable",
                f"{unusable} rows have a MsgSvrID that is not an integer (re-saved by a "
                "spreadsheet?): they are identified by their id, time, sender and text",
            )
        _nothing_read(read, report)


def _pywxdump_info(type_name: str, msg: str) -> Interpreted:
    """Kind and flags from PyWxDump's type name; the body is its text as written."""
    if type_name.startswith(PYWXDUMP_RECALL):
        return Interpreted(MessageKind.SYSTEM, type_name, msg, deleted=True, system=True)
    code = PYWXDUMP_TYPES.get(type_name)
    if code is None:
        return Interpreted(MessageKind.UNKNOWN, type_name, msg)
    base, sub = code
    if base == 49:
        kind = APP_KINDS.get(sub, MessageKind.UNKNOWN)
    else:
        kind = BASE_KINDS.get(base, MessageKind.UNKNOWN)
    system = base in SYSTEM_TYPES or kind is MessageKind.SYSTEM
    media = base in MEDIA_TYPES or (base == 49 and sub == 6)
    return Interpreted(kind, type_name, msg, system=system, media=media)


def _media_file(ctx: ReadContext, folder: Path, src: str) -> Attachment:
    """The file a row's ``src`` names, looked up beside the CSV (stored, or missing); an
    empty ``src``: the export left the media out."""
    src = src.strip()
    if not src:
        return _omitted(None)
    name = src.replace("\\", "/").rsplit("/", 1)[-1]
    mime = mimetypes.guess_type(name)[0]
    parts = [p for p in src.replace("\\", "/").split("/") if p]
    if parts and all(p not in (".", "..") for p in parts) and ":" not in parts[0]:
        path = folder.joinpath(*parts)
        try:  # a regular file below the CSV's folder, reached through no link
            steps = [folder.joinpath(*parts[: k + 1]) for k in range(len(parts))]
            found = path.is_file() and not any(p.is_symlink() for p in steps)
        except OSError:  # a name too long for this file system, …: not here
            found = False
        if found:
            return ctx.media.store_file(path, name, mime)
    return Attachment(name, None, None, mime, AttachmentStatus.MISSING)


def _omitted(name: str | None) -> Attachment:
    mime = mimetypes.guess_type(name)[0] if name else None
    return Attachment(name, None, None, mime, AttachmentStatus.OMITTED)


# -- WechatExporter TXT ---------------------------------------------------------------------


def _txt_line_kind(line: str) -> str | None:
    """ "header", "system" or None (a continuation line)."""
    if TXT_SYSTEM.match(line):
        return "system"
    if TXT_HEADER.match(line):
        return "header"
    return None


@dataclass
class _Piece:
    """One record of a WechatExporter text: a message (``header``), a system line or
    notice (``system``), or lines that are no record (``title``, ``lead``: before the
    first record)."""

    kind: str
    line: int  # first line
    last: int  # last line
    name: str | None = None
    ts: str | None = None
    body_at: int = 0  # where the body starts in ``text``
    chunks: list[str] = field(default_factory=list)

    @property
    def nlines(self) -> int:
        return self.last - self.line + 1

    @property
    def text(self) -> str:
        """As read (line ends as ``\\n``), without the record's own line end."""
        return _strip_end("".join(self.chunks))

    @property
    def body(self) -> str:
        return self.text[self.body_at :]


class _Names:
    """Who writes in the chat, from the names of the headers that open lines. One that
    is another such name with text glued before it (``…a messageOwen``: WechatExporter
    writes notices and transfers without a line end, so the next header follows on the
    same line) is no name: the others are trusted, and tell where glued text ends."""

    def __init__(self, seen: Iterable[str], owner: str | None) -> None:
        names = set(seen) | ({owner} if owner else set())
        self.trusted = sorted(names, key=len, reverse=True)
        self.trusted = [n for n in self.trusted if self.split(n) is None]

    def split(self, segment: str) -> tuple[str, str] | None:
        """(glued text, name) when ``segment`` is a trusted name with text right before
        it (not a space: "Big Bob" is a name of its own, not "Big " + "Bob")."""
        for name in self.trusted:
            if len(segment) > len(name) and segment.endswith(name):
                glued = segment[: -len(name)]
                if not glued[-1].isspace():
                    return glued, name
        return None


def _txt_pieces(ref: SourceRef, report: ReadReport, names: _Names | None) -> Iterator[_Piece]:
    """The records of the text in file order. With ``names``, a header glued to the text
    before it on one line is split off: that text ends the record before it, or, when it
    opens the line, is a notice of its own."""
    cur: _Piece | None = None
    lineno = 0
    for line in _lines(ref, report, newline=None):
        lineno += 1
        if lineno == 1:
            line = line.lstrip("\ufeff")
            if TXT_TITLE.fullmatch(_strip_end(line)):
                yield _Piece("title", 1, 1, chunks=[line])
                continue
        cuts = _header_cuts(line, names) if names is not None else _line_start_cut(line)
        head = line[: cuts[0][0]] if cuts else line  # the text before the first header
        if head:
            sysm = TXT_SYSTEM.match(head)
            glued = bool(cuts) and names is not None  # a notice, a header glued after it
            if sysm or glued or cur is None:
                if cur is not None:
                    yield cur
                kind = "system" if sysm or glued else "lead"
                cur = _Piece(kind, lineno, lineno, body_at=sysm.end() if sysm else 0)
            cur.chunks.append(head)
            cur.last = lineno
        for k, (start, name, ts, body_at) in enumerate(cuts):
            if cur is not None:
                yield cur
            end = cuts[k + 1][0] if k + 1 < len(cuts) else len(line)
            cur = _Piece("header", lineno, lineno, name, ts, body_at - start, [line[start:end]])
    if cur is not None:
        yield cur


def _line_start_cut(line: str) -> list[tuple[int, str, str, int]]:
    m = TXT_HEADER.match(line)
    return [(0, m.group("name"), m.group("ts"), m.end())] if m else []


def _header_cuts(line: str, names: _Names) -> list[tuple[int, str, str, int]]:
    """(start, name, time, body start) of every header on the line: the one at its start,
    and those glued after text, told apart by a trusted name before the time."""
    out: list[tuple[int, str, str, int]] = []
    pos = 0
    for m in TXT_STAMP.finditer(line):
        segment = line[pos : m.start()]
        if not out and pos == 0:
            split = names.split(segment)
            if split is None:  # a header at the line start
                out.append((0, segment, m.group("ts"), m.end()))
            else:
                out.append((len(split[0]), split[1], m.group("ts"), m.end()))
        else:
            split = names.split(segment)
            if split is None:
                continue  # a time in the text, no header
            out.append((pos + len(split[0]), split[1], m.group("ts"), m.end()))
        pos = m.end()
    return out


class WechatExporterTxtReader:
    name = "wechat-exporter-txt"
    platform = Platform.WECHAT
    description = (
        "WechatExporter text export of a WeChat chat from an iOS backup (third-party, lower "
        "fidelity; local times: --timezone); detected by its 'NAME (YYYY-MM-DD HH:MM:SS):' lines"
    )

    def score(self, candidate: Candidate) -> float:
        if candidate.is_dir or candidate.zip_names is not None:
            return 0.0
        text = textio.decode_head(candidate.head).lstrip("\ufeff")
        lines = [ln.rstrip("\r") for ln in text.split("\n")[:SCORE_LINES]]
        if lines and TXT_TITLE.fullmatch(lines[0]):
            lines = lines[1:]
        filled = [ln for ln in lines if ln.strip()]
        kinds = [_txt_line_kind(ln) for ln in filled]
        heads = kinds.count("header")
        # a chat opens with a record and holds several: one "X (date time):" line in
        # notes or a log is not one
        if not kinds or kinds[0] is None or heads < min(2, len(filled)):
            return 0.0
        score = 0.6 + 0.3 * min(1.0, heads / 3)
        if candidate.path.suffix.lower() != ".txt":
            score *= 0.8
        return round(score, 3)

    def source_files(self, candidate: Candidate) -> list[Path]:
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        report = ctx.report
        _mark(report, self.name)
        report.facts["local_times"] = True
        zone = _zone(ctx)
        ref = ctx.source(candidate.path)
        ending = _ending(ref)
        owner = ctx.options.owner
        # pass 1: who writes (the group test; the names that tell glued text apart)
        seen: set[str] = set()
        title_line: str | None = None
        for piece in _txt_pieces(ref, ReadReport(), None):
            if piece.kind == "header" and piece.name is not None:
                seen.add(piece.name)
            elif piece.kind == "title":
                m = TXT_TITLE.fullmatch(piece.text)
                title_line = m.group("title") if m else None
        names = _Names(seen, owner)
        speakers = {n for n in seen if names.split(n) is None}  # not glued ones
        if len(speakers) > 2:
            ctype = ConversationType.GROUP
        elif len(speakers) == 2:
            ctype = ConversationType.DIRECT
        else:
            ctype = ConversationType.UNKNOWN
        title = ctx.options.conversation or title_line or _txt_title(candidate)
        conversation = (_derived_id(ctx, title), title, ctype)
        tz = ctx.options.timezone
        counts: dict[bytes, int] = {}
        prev: datetime | None = None
        total = read = 0
        forwarded = False  # inside "<< title" … "title Ends >>" framing
        for piece in _txt_pieces(ref, report, names):
            total += piece.nlines
            loc = _locator(piece.line, piece.nlines)
            if piece.kind in ("title", "lead"):
                why = TITLE_REASON if piece.kind == "title" else LEAD_REASON
                report.reject(loc, why, lines=piece.nlines)
                continue
            text = piece.text
            record = text if ending == "\n" else text.replace("\n", ending)
            name: str | None
            if piece.kind == "system":
                if prev is None:
                    report.reject(
                        loc, "system message before the first timed message", piece.nlines
                    )
                    continue
                sent_at, name, sent_at_source = prev, None, ""
                report.warn(loc, "time_from_previous", TIME_FROM_PREVIOUS)
                body = piece.body
                info = Interpreted(MessageKind.SYSTEM, None, body, system=True)
                if body.startswith("<< "):
                    forwarded = True
                elif body.endswith(" Ends >>"):
                    forwarded = False
            else:
                assert piece.ts is not None
                got = _local_instant(piece.ts, zone, report, loc)
                if got is None:
                    report.reject(loc, "header has an invalid date or time", lines=piece.nlines)
                    continue
                sent_at, name, sent_at_source = got, piece.name, piece.ts
                prev = sent_at
                info = _txt_info(piece.body)
                if forwarded:
                    report.warn(loc, "forwarded_item", FORWARDED_ITEM)
            # n: earlier records of the file with the same time, name and text (SPEC)
            key = hashlib.sha256(
                "\x1f".join((format_instant(sent_at), name or "", _lf(text))).encode(
                    "utf-8", "surrogatepass"
                )
            ).digest()
            n = counts.get(key, 0)
            counts[key] = n + 1
            if owner is None:
                direction = Direction.UNKNOWN
            else:
                direction = Direction.OUTBOUND if name == owner else Direction.INBOUND
            read += 1
            yield _message(
                source_format=self.name,
                ctx=ctx,
                ref=ref,
                rec_locator=loc,
                raw=record,
                account_id=None,
                conversation=conversation,
                info=info,
                sender_id=name,
                sender_name=name,
                direction=direction,
                sent_at=sent_at,
                sent_at_source=sent_at_source,
                timezone=tz,
                server_id=None,
                local_id=str(n),
                attachments=[_omitted(None)] if info.media else [],
            )
        report.lines_total = total
        _nothing_read(read, report)


def _txt_title(candidate: Candidate) -> str:
    """The file's name; WechatExporter's own ``index.txt`` (``index-N``): its folder's."""
    stem = candidate.path.stem
    if re.fullmatch(r"index(?:-\d+)?", stem) and candidate.path.parent.name:
        return candidate.path.parent.name
    return stem


def _txt_info(body: str) -> Interpreted:
    for marker, kind in TXT_MARKERS:
        if body.startswith(marker):
            return Interpreted(kind, marker, body, media=kind in MEDIA_KINDS)
    if body.startswith("「") and TXT_QUOTE_RULE in body:
        return Interpreted(MessageKind.QUOTE, None, body)
    return Interpreted(MessageKind.TEXT, None, body)


READERS: tuple[MemoTraceCsvReader | PyWxDumpCsvReader | WechatExporterTxtReader, ...] = (
    MemoTraceCsvReader(),
    PyWxDumpCsvReader(),
    WechatExporterTxtReader(),
)
