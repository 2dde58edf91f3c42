"""PyWxDump CSV: server ids, type names, local times (formats/wechat.md)."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

from imarchive.model import Attachment, AttachmentStatus, Message, MessageKind, Platform
from imarchive.sources.base import Candidate, ReadContext
from imarchive.sources.wechat.common import Builder, Conversation
from imarchive.sources.wechat.exports.shared import (
    NOBODY,
    lf,
    local_instant,
    mark,
    nothing_read,
    omitted,
    zone_of,
)
from imarchive.sources.wechat.exports.textfile import TextFile, csv_rows, csv_score
from imarchive.sources.wechat.msgtypes import (
    APP_KINDS,
    BASE_KINDS,
    MEDIA_TYPES,
    SYSTEM_TYPES,
    Interpreted,
)
from imarchive.sources.wechat.names import conversation_type

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
SERVER_ID = re.compile(r"-?[1-9]\d*")

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


class PyWxDumpCsvReader:
    name = "wechat-pywxdump-csv"
    platform = Platform.WECHAT
    description = (
        "PyWxDump CSV export of a WeChat chat (third-party, lower fidelity; local times: "
        "--timezone); detected by its column header id,MsgSvrID,type_name,…,CreateTime"
    )

    def score(self, candidate: Candidate) -> float:
        return csv_score(candidate, PYWXDUMP_HEADER)

    def source_files(self, candidate: Candidate) -> list[Path]:
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        report = ctx.report
        mark(report, self.name)
        report.facts["local_times"] = True
        zone = zone_of(ctx)
        tz = ctx.options.timezone
        folder = candidate.path.parent
        unusable = 0  # rows whose MsgSvrID is no integer
        # the export names no owner: --owner gives the wxid (account_id, and the owner's
        # sender id), so that two custodians' copies of one group stay apart
        account = ctx.options.owner
        builder = Builder(self.name, account, ctx.options.custodian)
        read = 0
        ref = ctx.source(candidate.path)
        for rec, v in csv_rows(TextFile(ref, report), report, PYWXDUMP_HEADER):
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
            sent_at = local_instant(v["CreateTime"], zone, report, rec.locator)
            if sent_at is None:
                report.reject(rec.locator, "CreateTime is not a local time", lines=rec.nlines)
                continue
            info = _pywxdump_info(v["type_name"], v["msg"])
            talker = v["talker"]
            outbound = v["is_sender"] == "1"
            sender_id = account if outbound else None if talker in NOBODY else talker
            server_id = v["MsgSvrID"].strip()
            if not SERVER_ID.fullmatch(server_id):
                # a spreadsheet's 8.23457E+18 is no id: two messages would share it
                unusable += server_id not in ("", "0")
                server_id = ""
            attachments = [_media_file(ctx, folder, v["src"])] if info.media else []
            read += 1
            yield builder.build(
                conv=Conversation(conv_id, None, conversation_type(conv_id)),
                info=info,
                sender_id=sender_id,
                sender_name=talker or None,
                outbound=outbound,
                sent_at=sent_at,
                sent_at_source=v["CreateTime"],
                server_id=server_id,
                local_id=v["id"],
                ref=ref,
                locator=rec.locator,
                raw=rec.text,
                attachments=attachments,
                id_raw=lf(rec.text),
                source_timezone=tz,
            )
        if unusable:
            report.warn(
                "",
                "server_id_unusable",
                f"{unusable} rows have a MsgSvrID that is not an integer (re-saved by a "
                "spreadsheet?): they are identified by their id, time, sender and text",
            )
        nothing_read(read, report)


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
        return omitted(None)
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
