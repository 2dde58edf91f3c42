"""What the three export readers share: the chat's name and id where the export names
none, the marking of their rows, local times, and the ``Message`` of one record."""

from __future__ import annotations

import mimetypes
from datetime import datetime

from imarchive.errors import SourceError
from imarchive.model import (
    Attachment,
    AttachmentStatus,
)
from imarchive.sources.base import Candidate, ReadContext, ReadReport
from imarchive.sources.whatsapp.timeparse import BadTimestamp, ZoneResolver, dst_message

LOCAL_TIME = "%Y-%m-%d %H:%M:%S"
# talkers that name nobody: "我" (me: the owner), "未知" (a group sender PyWxDump could not
# resolve), "系统" (the system); kept as the shown name, never as a sender id
NOBODY = frozenset({"", "我", "未知", "系统"})

LACKS = {
    "wechat-memotrace-csv": "a MemoTrace CSV export: no server ids, no conversation id, no media",
    "wechat-pywxdump-csv": "a PyWxDump CSV export: local times, no display names, "
    "the owner's id shown as 我",
    "wechat-exporter-txt": "a WechatExporter text export: local times, display names "
    "instead of ids, no media, no times on system lines",
}


def title_of(candidate: Candidate, ctx: ReadContext, suffix: str = "") -> str:
    """The chat's name: ``--conversation``, else the file name (without ``suffix``)."""
    if ctx.options.conversation:
        return ctx.options.conversation
    stem = candidate.path.stem
    if suffix and stem.endswith(suffix) and len(stem) > len(suffix):
        stem = stem[: -len(suffix)]
    return stem


def derived_id(ctx: ReadContext, title: str) -> str:
    """A conversation id for an export that names no chat id (SPEC, as for WhatsApp)."""
    return (ctx.options.custodian or ctx.options.owner or "") + "/" + title


def mark(report: ReadReport, name: str) -> None:
    report.facts["third_party_export"] = name
    report.warn("", "third_party_export", f"lower fidelity: {LACKS[name]}")


def nothing_read(read: int, report: ReadReport) -> None:
    """An export none of whose records could be read is rejected, not "ingested" empty."""
    if read == 0 and report.rejected:
        first = report.rejected[0]
        raise SourceError(
            f"no record could be read ({len(report.rejected)} rejected; the first, "
            f"{first.locator}: {first.reason})"
        )


def lf(raw: str) -> str:
    """The record with ``\n`` line ends, as its id hashes it (``Builder.build``'s
    ``id_raw``): a copy re-saved with CRLF (or CR) line ends gives the same ids; ``raw``
    keeps the file's own."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def zone_of(ctx: ReadContext) -> ZoneResolver:
    try:
        return ZoneResolver(ctx.options.timezone)
    except (KeyError, ValueError) as exc:
        raise SourceError("unknown time zone") from exc


def local_instant(
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
        report.warn(locator, res.shift, dst_message(res.shift))
    return res.instant


def omitted(name: str | None) -> Attachment:
    mime = mimetypes.guess_type(name)[0] if name else None
    return Attachment(name, None, None, mime, AttachmentStatus.OMITTED)
