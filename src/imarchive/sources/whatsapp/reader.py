"""The ``whatsapp-txt`` reader: detection, then a streamed, line-exact parse.

Two passes over the chat text, both streamed in blocks: ``infer`` decides the dialect and
the whole-file facts (day/month order, participants, recurring timestamps), then
``_messages`` turns records into ``Message`` rows. Memory stays flat: nothing holds the
file or the messages, and the duplicate counter ``n`` of the message id is kept per run of
equal timestamps, except for the few timestamps the first pass saw recur later.

Before both, ``textio`` decides the encoding and the file's line ending. A copy re-saved
with CRLF (every line) or bare CR (no LF at all) line ends is read as its LF original, so
both give the same rows and ids; only ``raw`` keeps the file's own line ends. The invalid
bytes of a mostly-UTF-8 file are read as U+FFFD; the first pass lists their lines, and
``run`` reports them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from imarchive import textio
from imarchive.errors import SourceError
from imarchive.identity import format_instant, message_id
from imarchive.model import ConversationType, Direction, Message, MessageKind, Platform
from imarchive.sources.base import Candidate, ReadContext
from imarchive.sources.containers import STREAM_ERRORS
from imarchive.sources.whatsapp import dialects, infer, inputs, markers, naming
from imarchive.sources.whatsapp.lines import iter_pieces
from imarchive.sources.whatsapp.timeparse import (
    BadTimestamp,
    ZoneResolver,
    dst_message,
    hour24,
    month_number,
    ymd,
)

SOURCE_FORMAT = "whatsapp-txt"
SCORE_LINES = 60
# A record more than this far before its predecessor is probably a quoted header inside a
# message body (Android cannot tell them apart): reported, never "fixed".
SUSPICIOUS_BACKWARDS = timedelta(days=1)
# A line inside a message in the header shape of another export (an export of another
# phone or locale appended after the sample the shape was inferred from): reported.
FOREIGN_HEADER = "foreign_header"
FOREIGN_MESSAGE = "line in another export's header shape kept inside a message"


def _locator(line: int, nlines: int) -> str:
    return f"L{line}" if nlines <= 1 else f"L{line}-L{line + nlines - 1}"


def score_text(text: str, filename: str) -> float:
    """How much the first lines of a text look like a WhatsApp export, in [0, 1]."""
    if not text:
        return 0.0
    if dialects.lookalike(text):
        return 0.0
    if "\n" not in text:  # old Mac line ends (or one line)
        text = text.replace("\r", "\n")
    lines = infer.head_lines(text, SCORE_LINES).split("\n")
    regexes = [dialects.single(f.name) for f in dialects.FAMILIES]
    hits = sum(1 for line in lines if any(rx.match(line) for rx in regexes))
    if hits == 0:
        return 0.0
    first = next((ln for ln in lines if ln.strip("\r\ufeff\u200e ")), "")
    score = 0.6 if any(rx.match(first) for rx in regexes) else 0.3
    score += 0.3 * min(1.0, hits / 3)
    if naming.is_chat_txt_name(filename):
        score += 0.1
    if not filename.lower().endswith(".txt"):
        score *= 0.8
    return round(max(0.0, min(1.0, score)), 3)


def _zip_score(path: Path, names: tuple[str, ...]) -> float:
    """A zip holding a chat text of WhatsApp's own name, or an only ``.txt`` that reads
    as a WhatsApp export (not the text export of another tool)."""
    member = inputs.zip_chat_member(names)
    if member is None:
        return 0.0
    if naming.is_chat_txt_name(member):
        return 0.95
    found = inputs.zip_member_heads(path, [member])
    if not found:
        return 0.95  # reading it says what is wrong with the zip
    return 0.95 if score_text(textio.decode_head(found[0][1]), member) > 0 else 0.0


class WhatsAppTxtReader:
    name = SOURCE_FORMAT
    platform = Platform.WHATSAPP
    description = (
        "WhatsApp 'Export chat' text: a .txt, an iOS/Android .zip with media, or an unzipped "
        "export folder; detected by its message headers and file names"
    )

    def score(self, candidate: Candidate) -> float:
        if candidate.zip_names is not None:
            return _zip_score(candidate.path, candidate.zip_names)
        if candidate.is_dir:
            chat = inputs.dir_chat_file(candidate.path)
            if chat is None:
                return 0.0
            try:
                with chat.open("rb") as fh:
                    head = fh.read(textio.SNIFF_SIZE)
            except OSError:
                return 0.0
            return 0.9 if score_text(textio.decode_head(head), chat.name) > 0 else 0.0
        return score_text(textio.decode_head(candidate.head), candidate.path.name)

    def explain(self, candidate: Candidate) -> str | None:
        """Why a file no reader took is not a WhatsApp export, when it looks like one of
        the formats often taken for it (a viewer's or KakaoTalk's export)."""
        if candidate.is_dir or candidate.zip_names is not None:
            return None
        return dialects.lookalike(textio.decode_head(candidate.head))

    def source_files(self, candidate: Candidate) -> list[Path]:
        if candidate.is_dir:
            chat = inputs.dir_chat_file(candidate.path)
            if chat is None:
                raise SourceError("folder is not an unzipped WhatsApp export")
            return [chat]
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        chat = self.source_files(candidate)[0]
        ref = ctx.source(chat)
        src = inputs.ExportInput(candidate, chat, ref)
        try:
            # large UTF-8 exports of the common shapes: the same rows as Arrow tables
            from imarchive.sources.whatsapp.columnar import fast_parse

            yield from (fast_parse(src, ctx) or _Parse(src, ctx)).run()
        except STREAM_ERRORS as exc:
            raise SourceError(f"cannot read the export ({type(exc).__name__})") from exc
        finally:
            src.close()


class _Parse:
    def __init__(self, src: inputs.ExportInput, ctx: ReadContext) -> None:
        self.src = src
        self.ctx = ctx
        self.report = ctx.report
        opts = ctx.options
        try:
            self.zone = ZoneResolver(opts.timezone)
        except (KeyError, ValueError) as exc:
            raise SourceError("unknown time zone") from exc
        self.title = opts.conversation or src.title
        self.conversation_id = (opts.custodian or opts.owner or "") + "/" + self.title
        # (line, invalid bytes) of a UTF-8 file read ``lossy``, from the first pass
        self.bad_lines: list[tuple[int, int]] = []

    # -- pass 1 ---------------------------------------------------------------------------

    def _profile(self) -> tuple[textio.Encoding, infer.Profile]:
        opener = self.src.opener()
        with opener() as fh:
            head = fh.read(textio.SNIFF_SIZE)
        if not head:
            raise SourceError("empty file")
        enc = textio.sniff(head)
        newline = textio.line_ending(opener, enc)
        try:
            return enc, self._scan(enc, newline)
        except UnicodeDecodeError as exc:
            if enc.confirmed and enc.codec != "utf-8-sig":
                raise SourceError(f"invalid {enc.name} byte sequence") from exc
        with opener() as fh:
            enc = textio.fallback(fh, enc)
        try:
            return enc, self._scan(enc, newline)
        except UnicodeDecodeError as exc:
            raise SourceError(f"invalid {enc.name} byte sequence") from exc

    def _scan(self, enc: textio.Encoding, newline: str) -> infer.Profile:
        self.bad_lines = []
        bad = self.bad_lines if enc.lossy else None
        blocks = textio.iter_blocks(self.src.opener(), enc, newline=newline, bad=bad)
        first = next(blocks, "")
        sample = infer.head_lines(first)
        profile = infer.analyse_sample(sample)
        if profile is None:
            raise SourceError(dialects.lookalike(sample) or "no WhatsApp message header found")
        profile.newline = newline
        pre = infer.Prepass(profile, self.src.size)
        pre.feed(first)
        for block in blocks:
            pre.feed(block)
        pre.finish(self.ctx.options.date_order)
        return profile

    # -- pass 2 ---------------------------------------------------------------------------

    def run(self) -> Iterator[Message]:
        enc, prof = self._profile()
        rep = self.report
        rep.encoding = enc.name
        rep.facts["dialect"] = prof.dialect
        rep.facts["date_order"] = prof.date_order
        rep.facts["date_order_assumed"] = prof.date_order_assumed
        if prof.date_order_assumed:
            rep.warn(
                "", "date_order_assumed", f"day/month order undecided; read as {prof.date_order}"
            )
        if len(set(prof.orders)) > 1:
            rep.facts["date_orders"] = list(prof.orders)
        if self.bad_lines:
            rep.facts["invalid_utf8_bytes"] = sum(n for _, n in self.bad_lines)
            for line, n in self.bad_lines:
                rep.warn(f"L{line}", "invalid_utf8", invalid_bytes_message(n))
        families = [dialects.FAMILY_BY_NAME[n] for n in prof.families]
        if any(f.dates == "yearless" for f in families):
            rep.facts["year_assumed"] = self.src.modified.year
        yield from self._messages(enc, prof, families)

    def _messages(
        self, enc: textio.Encoding, prof: infer.Profile, families: list[dialects.Family]
    ) -> Iterator[Message]:
        rep = self.report
        opts = self.ctx.options
        owner = opts.owner
        sink = self.ctx.media
        src = self.src
        conv_id = self.conversation_id
        if prof.group_events or len(prof.authors) > 2:
            ctype = ConversationType.GROUP
        elif len(prof.authors) == 2:
            ctype = ConversationType.DIRECT
        else:
            ctype = ConversationType.UNKNOWN
        sha = src.ref.sha256
        path = src.source_path
        tzname = opts.timezone
        crlf = prof.crlf
        plain = dialects.compiled(prof.families) if prof.ios_records else None
        foreign = prof.foreign()
        long_names = prof.long_names
        recurring = prof.recurring
        kept: dict[str, dict[tuple[str | None, str], int]] = {}
        counts: dict[tuple[str | None, str], int] = {}
        ids: dict[str, str] = {}
        run_ts: str | None = None
        last_ts: str | None = None
        shift: str | None = None
        instant_text = ""
        instant = datetime.min
        prev_instant: datetime | None = None
        total = 0
        nfam = len(families)
        newline = prof.newline  # read as "\n"; ``raw`` gets the file's own back
        blocks = textio.iter_blocks(src.opener(), enc, newline=newline)
        for line, nlines, rec, m, offset in iter_pieces(blocks, prof.regex()):
            total += nlines
            loc = _locator(line, nlines)
            if m is None:  # only lines before the first record: the others continue one
                rep.reject(loc, "no message header before the first record", lines=nlines)
                continue
            prefix, fi = ("", 0) if nfam == 1 else _which(m, nfam)
            fam = families[fi]
            ts = m.group(prefix + "ts")
            if ts != last_ts:
                try:
                    local = self._local(m, prefix, fam, prof.orders[fi])
                    res = self.zone.resolve(local)
                except (BadTimestamp, ValueError, KeyError):
                    rep.reject(loc, "header has an invalid date or time", lines=nlines)
                    continue
                instant = res.instant
                instant_text = format_instant(instant)
                last_ts = ts
                shift = res.shift
            if shift is not None:
                rep.warn(loc, shift, dst_message(shift))
            # body: everything after the header, minus the record terminator only
            if crlf and rec.endswith("\r\n"):
                content = rec[:-2]
            elif rec.endswith("\n"):
                content = rec[:-1]
            else:
                content = rec
            rest = content[m.end() - offset :]
            nl = rest.find("\n")
            first = rest if nl < 0 else rest[:nl]
            author, off = infer.split_author(first)
            if author in long_names and infer.event_of_long_name(first, long_names[author]):
                author = None  # an event line of that participant: no author
            if author is not None:
                full = long_names.get(author)
                if full is not None and first.startswith(full + ":"):
                    author = full
                    off = len(full) + (2 if first.startswith(full + ": ") else 1)
                body = rest[off:]
                if body[:1] == "\u200e" and markers.SYSTEM_NOTICE.match(body, 1):
                    author = None  # iOS notice with the chat name as author (SPEC)
            else:
                body = rest
            if author is None:
                kind, native, deleted, edited = MessageKind.SYSTEM, None, False, False
                direction = Direction.SYSTEM
                sid = None
                attachments = []
            else:
                meaning = markers.classify(body)
                kind, native = meaning.kind, meaning.native_type
                deleted, edited = meaning.deleted, meaning.edited
                if meaning.media == "ref":
                    attachments = [src.attachment(meaning.media_name, sink)]
                elif meaning.media == "omitted":
                    attachments = [inputs.omitted(meaning.media_name)]
                else:
                    attachments = []
                if owner is None:
                    direction = Direction.UNKNOWN
                else:
                    direction = Direction.OUTBOUND if author == owner else Direction.INBOUND
                sid = ids.get(author)
                if sid is None:
                    if len(ids) > 10_000:
                        ids.clear()
                    sid = ids[author] = naming.sender_id(author)
            # n: earlier messages of this export with equal (sent_at, sender, body)
            if ts != run_ts:
                run_ts = ts
                counts = kept.setdefault(ts, {}) if ts in recurring else {}
            key = (author, body)
            n = counts.get(key, 0)
            counts[key] = n + 1
            if plain is not None and nl >= 0 and plain.search(content, m.end() - offset):
                rep.warn(loc, "suspicious_continuation", "header-like line kept inside a message")
            elif (
                prev_instant is not None
                and plain is None
                and prev_instant - instant > SUSPICIOUS_BACKWARDS
            ):
                rep.warn(loc, "suspicious_record", "timestamp far before the previous message")
            if nl >= 0 and foreign.search(content, m.end() - offset + nl + 1):
                rep.warn(loc, FOREIGN_HEADER, FOREIGN_MESSAGE)
            prev_instant = instant
            yield Message(
                # identity.whatsapp_id, with the instant formatted once per timestamp
                message_id("whatsapp", conv_id, instant_text, author, body, str(n)),
                Platform.WHATSAPP,
                SOURCE_FORMAT,
                owner,
                opts.custodian,
                conv_id,
                self.title,
                ctype,
                sid,
                author,
                direction,
                instant,
                ts,
                tzname,
                kind,
                native,
                body,
                edited,
                deleted,
                attachments,
                None,
                None,
                sha,
                path,
                loc,
                rec if newline == "\n" else rec.replace("\n", newline),
            )
        rep.lines_total = total

    def _local(self, m: re.Match[str], p: str, fam: dialects.Family, order: str) -> datetime:
        g = m.group
        has = dialects.group_names(fam.name)
        period = g(p + "per") if "per" in has else None
        if period is None and "pper" in has:
            period = g(p + "pper")
        if period is None and not p:
            sec = g("S")
            if fam.dates == "numeric" and "era" in has:  # the common shapes, fewer lookups
                y, mo, d = ymd(g("d1"), g("d2"), g("d3"), order, g("era"), g("be") is not None)
                return datetime(y, mo, d, int(g("H")), int(g("M")), int(sec) if sec else 0)
        hour = hour24(int(g(p + "H")), period)
        sec = g(p + "S")
        if fam.dates == "numeric":
            era = g(p + "era") if "era" in has else None
            be = "be" in has and g(p + "be") is not None
            y, mo, d = ymd(g(p + "d1"), g(p + "d2"), g(p + "d3"), order, era, be)
        else:
            mo, d = month_number(g(p + "mon")), int(g(p + "d1"))
            if fam.dates == "month":
                y = int(g(p + "d3"))
            else:
                # year-less legacy header: the file's year, one back for dates after it
                mod = self.src.modified
                y = mod.year if (mo, d) <= (mod.month, mod.day) else mod.year - 1
        return datetime(y, mo, d, hour, int(g(p + "M")), int(sec) if sec else 0)


def invalid_bytes_message(n: int) -> str:
    return (
        f"{n} invalid UTF-8 byte{'' if n == 1 else 's'} replaced with U+FFFD "
        "(the stored source file keeps the original bytes)"
    )


def _which(m: re.Match[str], nfam: int) -> tuple[str, int]:
    for i in range(nfam):
        if m.group(f"f{i}") is not None:
            return f"f{i}", i
    raise SourceError("internal: header matched no family")


READER = WhatsAppTxtReader()
