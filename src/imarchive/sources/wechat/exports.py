"""WeChat text exports made by third-party tools: MemoTrace CSV, PyWxDump CSV and
WechatExporter TXT (formats/wechat.md, "Text exports made by third-party tools").

They hold less than the databases they were made from, so their rows are marked: the
``source_format`` names the tool, and each input gets a ``third_party_export`` warning that
says what the export lacks. What they do hold is kept exactly:

- MemoTrace CSV: the database row (``localId``, ``Type``/``SubType``, ``IsSender``, the epoch
  ``CreateTime``, ``StrContent``) of one chat; group chats add the sender's remark, nickname
  and wxid. No server id, no conversation id: the chat is named by ``--conversation`` or
  the file name, as for WhatsApp.
- PyWxDump CSV: server id, type name, sender wxid (the owner as ``我``), the conversation
  id (``room_name``), the readable text, a media path, and a *local* time string
  (``--timezone``).
- WechatExporter TXT: ``NAME (YYYY-MM-DD HH:MM:SS):MESSAGE`` in the local time of the
  computer that exported it, bodies over several lines as they are, ``System Message: …``
  lines without a time (they take the time of the message before them, with a warning).

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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from imarchive import textio
from imarchive.errors import SourceError
from imarchive.identity import wechat_id
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
from imarchive.sources.whatsapp.timeparse import ZoneResolver

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
PYWXDUMP_OWNER = "我"  # "me": how PyWxDump writes the owner as talker
LOCAL_TIME = "%Y-%m-%d %H:%M:%S"
FIELD_LIMIT = 1 << 30  # csv's default (128 KiB) would reject a long message
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


def _csv_records(lines: Iterator[str], report: ReadReport) -> Iterator[_Record]:
    """The CSV records of ``lines``; a record csv cannot read (a NUL byte) is rejected
    and reading goes on after it."""
    csv.field_size_limit(FIELD_LIMIT)
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line

    start = 1
    source = feed()
    while True:
        reader = csv.reader(source)
        try:
            for fields in reader:
                text = "".join(consumed)
                n = len(consumed)
                consumed.clear()
                yield _Record(start, n, fields, _strip_end(text))
                start += n
            return
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
    total = first.nlines
    for rec in records:
        total += rec.nlines
        if not rec.fields:  # a blank line
            continue
        yield rec, dict(zip(header, rec.fields, strict=False))
    report.lines_total = total


def _message(
    *,
    source_format: str,
    ctx: ReadContext,
    ref: SourceRef,
    rec_locator: str,
    raw: str,
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
            raw=_lf(raw),
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
    res = zone.resolve(local)
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
        # pass 1: the owner's wxid and the group test from the sender columns
        owners: set[str] = set()
        inbound: set[str] = set()
        full = False
        ref = ctx.source(candidate.path)
        for rec, v in _rows(ref, ReadReport(), MEMOTRACE_HEADER):
            if len(rec.fields) < len(MEMOTRACE_HEADER):
                continue
            full = True
            who = v.get("Sender", "")
            if who:
                (owners if v.get("IsSender") == "1" else inbound).add(who)
        account = next(iter(owners)) if len(owners) == 1 else None
        if not full or len(inbound) == 1:
            ctype = ConversationType.DIRECT
        elif len(inbound) > 1:
            ctype = ConversationType.GROUP
        else:
            ctype = ConversationType.UNKNOWN
        title = _title(candidate, ctx, "_utf8")
        conversation = (_derived_id(ctx, title), title, ctype)
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
            shown = v.get("Remark") or v.get("NickName") or sender
            if outbound and sender is None:
                sender = account
            info = interpret(base, v["StrContent"], subtype=sub or None)
            attachments = [_omitted(None)] if info.media else []
            yield _message(
                source_format=self.name,
                ctx=ctx,
                ref=ref,
                rec_locator=rec.locator,
                raw=rec.text,
                account_id=account,
                conversation=conversation,
                info=info,
                sender_id=sender,
                sender_name=shown,
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                sent_at=sent_at,
                sent_at_source=v["CreateTime"],
                timezone=None,
                server_id=None,
                local_id=v["localId"],
                attachments=attachments,
            )


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
        zone = _zone(ctx)
        tz = ctx.options.timezone
        folder = candidate.path.parent
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
            sender_id = None if talker in ("", PYWXDUMP_OWNER) else talker
            attachments = [_media_file(ctx, folder, v["src"])] if info.media else []
            yield _message(
                source_format=self.name,
                ctx=ctx,
                ref=ref,
                rec_locator=rec.locator,
                raw=rec.text,
                account_id=None,
                conversation=(conv_id, None, conversation_type(conv_id)),
                info=info,
                sender_id=sender_id,
                sender_name=talker or None,
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                sent_at=sent_at,
                sent_at_source=v["CreateTime"],
                timezone=tz,
                server_id=v["MsgSvrID"],
                local_id=v["id"],
                attachments=attachments,
            )


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
        if path.is_file() and not path.is_symlink():
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
        kinds = [_txt_line_kind(ln) for ln in lines]
        heads = kinds.count("header")
        if heads == 0:
            return 0.0
        first = next((k for k, ln in zip(kinds, lines, strict=True) if ln.strip()), None)
        score = 0.6 if first is not None else 0.3
        score += 0.3 * min(1.0, heads / 3)
        if candidate.path.suffix.lower() != ".txt":
            score *= 0.8
        return round(score, 3)

    def source_files(self, candidate: Candidate) -> list[Path]:
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        report = ctx.report
        _mark(report, self.name)
        zone = _zone(ctx)
        ref = ctx.source(candidate.path)
        ending = _ending(ref)
        # pass 1: who writes (the group test), as for WhatsApp
        names: set[str] = set()
        for kind, first, _ in _txt_records(ref, ReadReport()):
            if kind == "header":
                m = TXT_HEADER.match(first)
                assert m is not None
                names.add(m.group("name"))
        if len(names) > 2:
            ctype = ConversationType.GROUP
        elif len(names) == 2:
            ctype = ConversationType.DIRECT
        else:
            ctype = ConversationType.UNKNOWN
        title = _title(candidate, ctx)
        conversation = (_derived_id(ctx, title), title, ctype)
        owner = ctx.options.owner
        tz = ctx.options.timezone
        counts: dict[bytes, int] = {}
        prev: tuple[datetime, str] | None = None
        total = 0
        for kind, text, (line, nlines) in _txt_records(ref, report):
            total += nlines
            loc = _locator(line, nlines)
            if kind is None:
                report.reject(loc, "no message line before the first record", lines=nlines)
                continue
            raw = _strip_end(text)
            record = raw if ending == "\n" else raw.replace("\n", ending)
            if kind == "system":
                if prev is None:
                    report.reject(loc, "system message before the first timed message", nlines)
                    continue
                sent_at, ts = prev
                body = raw[TXT_SYSTEM.match(raw).end() :]  # type: ignore[union-attr]
                report.warn(
                    loc,
                    "time_from_previous",
                    "system line without a time: given the time of the message before it",
                )
                info = Interpreted(MessageKind.SYSTEM, None, body, system=True)
                name = None
                sent_at_source = ""
            else:
                m = TXT_HEADER.match(raw)
                assert m is not None
                ts = m.group("ts")
                got = _local_instant(ts, zone, report, loc)
                if got is None:
                    report.reject(loc, "header has an invalid date or time", lines=nlines)
                    continue
                sent_at = got
                prev = (sent_at, ts)
                name = m.group("name")
                info = _txt_info(raw[m.end() :])
                sent_at_source = ts
            key = hashlib.sha256(
                "\x1f".join((sent_at_source, name or "", raw)).encode("utf-8", "surrogatepass")
            ).digest()
            n = counts.get(key, 0)
            counts[key] = n + 1
            if owner is None:
                direction = Direction.UNKNOWN
            else:
                direction = Direction.OUTBOUND if name == owner else Direction.INBOUND
            attachments = [_omitted(None)] if info.media else []
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
                attachments=attachments,
            )
        report.lines_total = total


def _txt_records(
    ref: SourceRef, report: ReadReport
) -> Iterator[tuple[str | None, str, tuple[int, int]]]:
    """(kind, text, (first line, line count)) per record: a header or system line and
    the continuation lines after it (kind None: lines before the first record)."""
    kind: str | None = None
    parts: list[str] = []
    start = 1
    line = 0
    for text in _lines(ref, report, newline=None):
        line += 1
        got = _txt_line_kind(text.lstrip("\ufeff") if line == 1 else text)
        if got is not None and (parts or line > 1):
            if parts:
                yield kind, "".join(parts), (start, line - start)
            kind, parts, start = got, [], line
        elif got is not None:
            kind = got
        parts.append(text.lstrip("\ufeff") if line == 1 else text)
    if parts:
        yield kind, "".join(parts), (start, line - start + 1)


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
