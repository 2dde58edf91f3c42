"""What a file is, decided before the first message is read.

1. From a sample (the first ~2000 lines): the header family, whether iOS record
   terminators (CRLF between records, LF inside) can be trusted, and authors whose name
   contains ``: `` (``Dr. Who: The Doctor``).
2. A cheap pass over the whole file (``prepass``): day/month order (a first field > 12 means
   DMY, a second field > 12 means MDY; a late deciding day counts too), the distinct
   authors and group events (conversation type), and the timestamps that recur
   non-contiguously, so that the duplicate counter ``n`` of the message id only keeps
   memory for those (see ``reader.py``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from imarchive.sources.whatsapp import dialects, markers
from imarchive.sources.whatsapp.timeparse import DEFAULT_DATE_ORDER

SAMPLE_LINES = 2000


@dataclass
class Profile:
    families: tuple[str, ...]
    ios_records: bool  # iOS CRLF record terminators with bare LF inside messages
    crlf: bool  # records end with "\r\n" (iOS, or a file re-saved on Windows)
    # the file's own line ending (``textio.line_ending``): "\r\n" (every line) and "\r" are
    # read as "\n", so a copy re-saved with other line ends gives the same rows
    newline: str = "\n"
    long_names: dict[str, str] = field(default_factory=dict)  # "Dr. Who" -> "Dr. Who: The Doctor"
    date_order: str = "dmy"  # of the main family; ``orders`` has one per family
    orders: tuple[str, ...] = ()
    date_order_assumed: bool = False
    authors: set[str] = field(default_factory=set)
    group_events: bool = False
    recurring: set[str] = field(default_factory=set)

    @property
    def dialect(self) -> str:
        crlf = self.crlf or self.newline == "\r\n"
        return "+".join(self.families) + (
            "-crlf" if crlf else "-cr" if self.newline == "\r" else ""
        )

    def regex(self) -> re.Pattern[str]:
        return dialects.compiled(self.families, self.ios_records)

    def foreign(self) -> re.Pattern[str]:
        """Header lines of the shapes this file is not in: inside a message they show an
        export of another shape appended after the sample the shape was inferred from."""
        # the two shapes of today's exports: a legacy one (``5 May 10:30 - ``) is too
        # easily a line of text
        others = tuple(n for n in ("android", "ios") if n not in self.families)
        return dialects.compiled(others) if others else re.compile(r"(?!)")


def head_lines(text: str, limit: int = SAMPLE_LINES) -> str:
    pos = 0
    for _ in range(limit):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return text
        pos = nxt + 1
    return text[:pos]


def choose_families(sample: str) -> tuple[str, ...]:
    """Families ranked by how many sample lines they match; minor ones are kept when
    they are clearly present (concatenated exports from two phones)."""
    counts = {f.name: len(dialects.compiled((f.name,)).findall(sample)) for f in dialects.FAMILIES}
    best = max(counts.values())
    if best == 0:
        return ()
    order = sorted(counts, key=lambda n: -counts[n])
    return tuple(n for n in order if counts[n] >= max(2, best // 20) or counts[n] == best)[:3]


def split_author(first: str) -> tuple[str | None, int]:
    """``(author, body offset)`` of a header's first line; author None for authorless
    lines. ``body offset`` is relative to ``first``."""
    if first[:1] == "\u200e":  # iOS authorless events start with LRM
        return None, 0
    i = first.find(": ")
    if i < 0:
        stripped = first.rstrip("\r")
        if len(stripped) > 1 and stripped.endswith(":"):  # "Carol:" with nothing after
            return stripped[:-1], len(stripped)
        return None, 0
    author = first[:i]
    if markers.SYSTEM_IN_AUTHOR.search(author):
        return None, 0
    return author, i + 2


def long_names(sample: str, rx: re.Pattern[str]) -> dict[str, str]:
    """Authors whose name holds ``: ``: every line of ``A`` continues with the same
    ``: S: `` (at least twice), so the author is really ``A: S``. A line of ``A`` without a
    second ``: `` may be that author's empty body (``A: S:``) or an event line with ``A: S``
    as actor (``A: S created group …``, see ``event_of_long_name``)."""
    seconds: dict[str, Counter[str]] = {}
    loose: dict[str, list[str]] = {}  # the author's lines without a second ": "
    for m in rx.finditer(sample):
        end = sample.find("\n", m.end())
        first = sample[m.end() : end if end >= 0 else len(sample)]
        author, off = split_author(first)
        if author is None:
            continue
        rest = first[off:]
        j = rest.find(": ")
        if j > 0:
            seconds.setdefault(author, Counter())[rest[:j]] += 1
        else:
            loose.setdefault(author, []).append(rest.rstrip("\r"))
    out: dict[str, str] = {}
    for author, seen in seconds.items():
        if len(seen) != 1:
            continue
        ((second, count),) = seen.items()
        if count < 2:
            continue
        if all(r == second + ":" or event_of_long_name(r, second) for r in loose.get(author, ())):
            out[author] = f"{author}: {second}"
    return out


def event_of_long_name(text: str, name: str) -> bool:
    """``text`` is ``name`` followed by an event phrase (`` created group``, `` added``,
    `` left``, …): an event line whose actor is ``name``."""
    if not text.startswith(name + " "):
        return False
    rest = text[len(name) :]
    return bool(markers.SYSTEM_IN_AUTHOR.match(rest) or markers.GROUP_EVENT.search(rest))


def record_terminators(sample: str, rx: re.Pattern[str], ios: bool) -> tuple[bool, bool]:
    """``(ios_records, crlf)`` from how the sample's records end.

    Records end with CRLF when nearly every CRLF (but the last) is followed by a header
    and most headers follow a CRLF. Then a bare LF means a line inside a message: iOS
    keeps those (``ios_records``); a file re-saved on Windows has none."""
    starts = [m.start() for m in rx.finditer(sample) if m.start() >= 2]
    crlfs = sample.count("\r\n") - (1 if sample.endswith("\r\n") else 0)
    if not starts or crlfs == 0:
        return False, False
    after_crlf = sum(1 for s in starts if sample[s - 2 : s] == "\r\n")
    if after_crlf < 0.9 * crlfs or after_crlf < 0.5 * len(starts):
        return False, False
    bare_lf = sample.count("\n") - sample.count("\r\n")
    return (ios and bare_lf > 0), True


def analyse_sample(sample: str) -> Profile | None:
    families = choose_families(sample)
    if not families:
        return None
    fams = tuple(dialects.FAMILY_BY_NAME[n] for n in families)
    plain = dialects.compiled(families)
    ios = all(f.platform == "ios" for f in fams)
    ios_records, crlf = record_terminators(sample, plain, ios)
    profile = Profile(families, ios_records, crlf)
    profile.long_names = long_names(sample, profile.regex())
    return profile


def _group(m: re.Match[str], name: str, families: int) -> str | None:
    """A header field of whichever family matched (None where the family has none)."""
    names = (name,) if families == 1 else tuple(f"f{i}{name}" for i in range(families))
    for key in names:
        try:
            v: str | None = m.group(key)
        except IndexError:
            continue
        if v is not None:
            return v
    return None


class Prepass:
    """Whole-file facts, fed block by block."""

    def __init__(self, profile: Profile, size_hint: int) -> None:
        self.p = profile
        self.rx = profile.regex()
        self.nfam = len(profile.families)
        # day/month evidence per family: concatenated exports from two phones can differ
        self.numeric = [dialects.FAMILY_BY_NAME[n].dates == "numeric" for n in profile.families]
        self.dmy = [False] * self.nfam
        self.mdy = [False] * self.nfam
        self.ymd_only = [True] * self.nfam
        self.undecided = sum(self.numeric)
        bits = 1 << 16
        while bits < size_hint * 2 and bits < (1 << 27):
            bits <<= 1
        self.mask = bits - 1
        self.seen = bytearray(bits >> 3)  # a one-hash Bloom filter of run timestamps
        self.last_ts = ""
        self.real_authors: set[str] = set()

    def feed(self, block: str) -> None:
        p = self.p
        seen = self.seen
        mask = self.mask
        last = self.last_ts
        authors = self.real_authors
        nfam = self.nfam
        for m in self.rx.finditer(block):
            ts = _group(m, "ts", nfam) if nfam > 1 else m.group("ts")
            assert ts is not None
            if ts != last:
                last = ts
                h = hash(ts) & mask
                bit = 1 << (h & 7)
                if seen[h >> 3] & bit:
                    p.recurring.add(ts)
                else:
                    seen[h >> 3] |= bit
            if self.undecided:
                self._order(m)
            if len(authors) <= 2 and not p.group_events:  # else it is a group already
                self._author(block, m)
        self.last_ts = last

    def _order(self, m: re.Match[str]) -> None:
        """Evidence from one header; a family is decided by its first deciding day (a
        later contradiction cannot be seen without a full parse, and shows up as headers
        with invalid dates, which are rejected with their line numbers)."""
        i = 0 if self.nfam == 1 else next(k for k in range(self.nfam) if m.group(f"f{k}"))
        if not self.numeric[i] or self.dmy[i] or self.mdy[i]:
            return
        p = "" if self.nfam == 1 else f"f{i}"
        d1, d2 = m.group(p + "d1"), m.group(p + "d2")
        if len(d1) >= 3:
            return
        self.ymd_only[i] = False
        if int(d1) > 12:
            self.dmy[i] = True
            self.undecided -= 1
        elif int(d2) > 12:
            self.mdy[i] = True
            self.undecided -= 1

    def _author(self, block: str, m: re.Match[str]) -> None:
        end = block.find("\n", m.end())
        # without the CR of an iOS record end (the event patterns anchor at the end)
        first = block[m.end() : end if end >= 0 else len(block)].rstrip("\r")
        author, off = split_author(first)
        if author is None:
            if not self.p.group_events and markers.GROUP_EVENT.search(first):
                self.p.group_events = True
            return
        body = first[off:]
        if body[:1] == "\u200e" and markers.SYSTEM_NOTICE.match(body, 1):
            if not self.p.group_events and markers.GROUP_EVENT.search(body):
                self.p.group_events = True
            return
        full = self.p.long_names.get(author)
        if full is not None and event_of_long_name(first, full):
            if not self.p.group_events and markers.GROUP_EVENT.search(first):
                self.p.group_events = True
            return
        if full is not None and first.startswith(full + ":"):
            author = full
        self.real_authors.add(author)

    def finish(self, forced_order: str) -> None:
        p = self.p
        p.authors = self.real_authors
        orders: list[str] = []
        for i in range(self.nfam):
            if forced_order != "auto":
                orders.append(forced_order)
            elif not self.numeric[i]:
                orders.append("dmy")  # month names: the order is written out
            elif self.dmy[i] or self.mdy[i]:
                orders.append("dmy" if self.dmy[i] else "mdy")
            elif self.ymd_only[i]:
                orders.append("ymd")
            else:
                orders.append(DEFAULT_DATE_ORDER)
                p.date_order_assumed = True
        p.orders = tuple(orders)
        p.date_order = orders[0]
