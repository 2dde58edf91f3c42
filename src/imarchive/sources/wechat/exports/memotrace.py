"""MemoTrace CSV: the database rows of one chat (formats/wechat.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from imarchive.errors import SourceError
from imarchive.model import ConversationType, Message, Platform
from imarchive.sources.base import Candidate, ReadContext, ReadReport
from imarchive.sources.wechat.common import BadTime, Builder, Conversation, sent_time
from imarchive.sources.wechat.exports.shared import (
    NOBODY,
    derived_id,
    lf,
    mark,
    nothing_read,
    omitted,
    title_of,
)
from imarchive.sources.wechat.exports.textfile import TextFile, csv_rows, csv_score
from imarchive.sources.wechat.msgtypes import interpret

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


class MemoTraceCsvReader:
    name = "wechat-memotrace-csv"
    platform = Platform.WECHAT
    description = (
        "MemoTrace CSV export of one WeChat chat (third-party, lower fidelity); detected by "
        "its column header localId,TalkerId,Type,…,Sender"
    )

    def score(self, candidate: Candidate) -> float:
        return csv_score(candidate, MEMOTRACE_HEADER)

    def source_files(self, candidate: Candidate) -> list[Path]:
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        report = ctx.report
        mark(report, self.name)
        # pass 1: one chat only, and the group test from the sender columns
        talkers: set[str] = set()
        inbound: set[str] = set()
        full = False
        ref = ctx.source(candidate.path)
        text = TextFile(ref, report)
        for rec, v in csv_rows(text, ReadReport(), MEMOTRACE_HEADER):
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
        title = title_of(candidate, ctx, "_utf8")
        conv = Conversation(derived_id(ctx, title), title, ctype)
        # the export names no owner: --owner gives the wxid (account_id)
        builder = Builder(self.name, ctx.options.owner, ctx.options.custodian)
        read = 0
        for rec, v in csv_rows(text, report, MEMOTRACE_HEADER):
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
            if sender in NOBODY:
                sender = None
            if outbound and sender is None:
                sender = ctx.options.owner
            info = interpret(base, v["StrContent"], subtype=sub or None)
            read += 1
            yield builder.build(
                conv=conv,
                info=info,
                sender_id=sender,
                sender_name=v.get("Remark") or v.get("NickName") or sender,
                outbound=outbound,
                sent_at=sent_at,
                sent_at_source=v["CreateTime"],
                server_id=None,
                local_id=v["localId"],
                ref=ref,
                locator=rec.locator,
                raw=rec.text,
                attachments=[omitted(info.file_name)] if info.media else [],
                # the database columns only: a re-export, or a spreadsheet, changes the
                # display columns (StrTime, Remark, NickName) and would change every id
                id_raw=lf("\x1f".join(v[c] for c in MEMOTRACE_ID_COLUMNS)),
            )
        nothing_read(read, report)
