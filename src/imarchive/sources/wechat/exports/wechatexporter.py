"""WechatExporter text: ``NAME (YYYY-MM-DD HH:MM:SS):MESSAGE`` records of one chat, in
local time (formats/wechat.md; the tool's templates write notices and transfers with no
line end before the next header)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imarchive import textio
from imarchive.identity import format_instant
from imarchive.model import ConversationType, Message, MessageKind, Platform
from imarchive.sources.base import Candidate, ReadContext, ReadReport
from imarchive.sources.wechat.common import Builder, Conversation
from imarchive.sources.wechat.exports.shared import (
    derived_id,
    lf,
    local_instant,
    mark,
    nothing_read,
    omitted,
    zone_of,
)
from imarchive.sources.wechat.exports.textfile import (
    TextFile,
    locator,
    strip_end,
)
from imarchive.sources.wechat.msgtypes import Interpreted

SCORE_LINES = 60
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
TXT_MEDIA_KINDS = frozenset({MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.VOICE})


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
        return strip_end("".join(self.chunks))

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


def _txt_pieces(file: TextFile, report: ReadReport, names: _Names | None) -> Iterator[_Piece]:
    """The records of the text in file order. With ``names``, a header glued to the text
    before it on one line is split off: that text ends the record before it, or, when it
    opens the line, is a notice of its own."""
    cur: _Piece | None = None
    lineno = 0
    for line in file.lines(report, as_lf=True):
        lineno += 1
        if lineno == 1:
            line = line.lstrip("\ufeff")
            if TXT_TITLE.fullmatch(strip_end(line)):
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
        mark(report, self.name)
        report.facts["local_times"] = True
        zone = zone_of(ctx)
        ref = ctx.source(candidate.path)
        file = TextFile(ref, report)
        ending = file.ending
        owner = ctx.options.owner
        # pass 1: who writes (the group test; the names that tell glued text apart)
        seen: set[str] = set()
        title_line: str | None = None
        for piece in _txt_pieces(file, ReadReport(), None):
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
        conv = Conversation(derived_id(ctx, title), title, ctype)
        builder = Builder(self.name, None, ctx.options.custodian)
        tz = ctx.options.timezone
        counts: dict[bytes, int] = {}
        prev: datetime | None = None
        total = read = 0
        forwarded = False  # inside "<< title" … "title Ends >>" framing
        for piece in _txt_pieces(file, report, names):
            total += piece.nlines
            loc = locator(piece.line, piece.nlines)
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
                got = local_instant(piece.ts, zone, report, loc)
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
                "\x1f".join((format_instant(sent_at), name or "", lf(text))).encode(
                    "utf-8", "surrogatepass"
                )
            ).digest()
            n = counts.get(key, 0)
            counts[key] = n + 1
            read += 1
            yield builder.build(
                conv=conv,
                info=info,
                sender_id=name,
                sender_name=name,
                outbound=None if owner is None else name == owner,
                sent_at=sent_at,
                sent_at_source=sent_at_source,
                server_id=None,
                local_id=str(n),
                ref=ref,
                locator=loc,
                raw=record,
                attachments=[omitted(None)] if info.media else [],
                id_raw=lf(text),
                source_timezone=tz,
            )
        report.lines_total = total
        nothing_read(read, report)


def _txt_title(candidate: Candidate) -> str:
    """The file's name; WechatExporter's own ``index.txt`` (``index-N``): its folder's."""
    stem = candidate.path.stem
    if re.fullmatch(r"index(?:-\d+)?", stem) and candidate.path.parent.name:
        return candidate.path.parent.name
    return stem


def _txt_info(body: str) -> Interpreted:
    for marker, kind in TXT_MARKERS:
        if body.startswith(marker):
            return Interpreted(kind, marker, body, media=kind in TXT_MEDIA_KINDS)
    if body.startswith("「") and TXT_QUOTE_RULE in body:
        return Interpreted(MessageKind.QUOTE, None, body)
    return Interpreted(MessageKind.TEXT, None, body)
