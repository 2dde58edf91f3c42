"""Seeded generator of large synthetic WhatsApp "Export chat" files (no real people).

The stream of messages is a pure function of ``(seed, index)``: message ``i`` is the same
whichever window ``[start, start + messages)`` is written, so an overlapping re-export
(``start > 0``) repeats earlier messages byte for byte, as a real re-export of the same chat
does. Randomness is drawn per chunk of ``CHUNK`` messages from a ``random.Random`` seeded with
``(seed, chunk)``; each chunk covers a fixed stretch of time, so timestamps ascend from chunk to
chunk and, inside a chunk, are sorted draws (many messages share a minute). A few system lines
carry a timestamp two minutes in the past, as real exports do (database order, not time order).

Dialects (see the format notes):

- ``android``: ``dd/mm/yyyy, HH:MM - Author: body``, every line ends with LF.
- ``ios``: ``[dd/mm/yyyy, HH:MM:SS] Author: body``; records end with CRLF, lines inside a
  multi-line body end with a bare LF; system and media lines start with U+200E.

Usage: ``python benchmarks/gen_whatsapp.py --messages 1000000 --dialect android --seed 1
--out FILE``. 1,000,000 messages are about 100 MB and take a few seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

__all__ = ["CHUNK", "DIALECTS", "GenStats", "aligned_index", "generate", "main"]

DIALECTS: Final = ("android", "ios")
CHUNK: Final = 8192  # messages per random draw
_CHUNK_SECONDS: Final = CHUNK * 30  # about two messages a minute on average
_EPOCH: Final = dt.datetime(2021, 3, 1, 7, 0, 0)  # a Monday; naive local time, like the app
_LRM: Final = "\u200e"

# Fictional authors: placeholder names and phone numbers from ranges reserved for fiction
# (UK Ofcom 07700 900xxx, North America 555-01xx).
_NAMES: Final = (
    "Ana Bench",
    "Bo Synthetic",
    "Chen Sample",
    "Dee Placeholder",
    "Émile Fixture",
    "Farah Testcase",
)
_PHONES: Final = ("+44 7700 900123", "+1 555 010 0199")
_AUTHOR_WEIGHTS: Final = (26, 22, 18, 12, 8, 7, 4, 3)
_GROUP: Final = "Bench Group"

_WORDS_TEXT: Final = (
    "the meeting is at noon tomorrow please send report draft numbers okay thanks sure "
    "let me check with team later today call you back when done can we move it to friday "
    "sounds good I will be late traffic again lunch anyone coffee at the usual place "
    "invoice attached approved pending review budget quarter client deck slides version "
    "final really this time haha yes no maybe perhaps agreed fine great nice done "
    "café naïve façade über résumé smörgåsbord piñata "
    "😂 👍 🙏 ❤️ 🎉 👋🏼 🔥 😅 🤝 ✅ 👨‍👩‍👧"
)
_WORDS: Final = tuple(_WORDS_TEXT.split())
_URLS: Final = (
    "https://example.com/docs/q3-plan",
    "https://example.org/a/b?c=1&d=2",
    "https://maps.example.net/place/123",
)

# Message kinds and their weights (per 1000): text dominates; ~10 % multi-line.
_KINDS: Final = ("text", "multi", "media", "url", "deleted", "edited", "system")
_KIND_WEIGHTS: Final = (800, 100, 60, 15, 8, 12, 5)

_POOL = 4096  # distinct single-line bodies per seed (repeats make duplicate tuples possible)
_MULTI_POOL = 512


@dataclass
class GenStats:
    """What was written: counts are records (messages), not lines."""

    path: str
    dialect: str
    seed: int
    start: int
    messages: int
    lines: int
    bytes: int
    multi_line: int
    media: int
    system: int
    first_minute: str
    last_minute: str
    seconds: float


def _chunk_times(seed: int, chunk: int) -> list[int]:
    """Seconds since ``_EPOCH`` of every message of a chunk, ascending."""
    rng = random.Random(f"wa-times:{seed}:{chunk}")
    base = chunk * _CHUNK_SECONDS
    offsets = rng.choices(range(_CHUNK_SECONDS), k=CHUNK)
    offsets.sort()
    return [base + o for o in offsets]


def aligned_index(seed: int, index: int) -> int:
    """The first message index >= ``index`` that opens a new minute.

    Cut exports there and no (minute, author, body) tuple spans the cut, so the per-export
    duplicate counter of the archive identity means the same thing in both exports."""
    if index <= 0:
        return 0
    while True:
        chunk, pos = divmod(index, CHUNK)
        times = _chunk_times(seed, chunk)
        prev = _chunk_times(seed, chunk - 1)[-1] if pos == 0 else times[pos - 1]
        for i in range(pos, CHUNK):
            if times[i] // 60 != prev // 60:
                return chunk * CHUNK + i
            prev = times[i]
        index = (chunk + 1) * CHUNK


class _Vocabulary:
    """Per-seed pools of bodies, built once."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"wa-vocab:{seed}")
        words = _WORDS
        self.bodies: list[str] = []
        for _ in range(_POOL):
            n = min(int(rng.expovariate(1 / 10)) + 1, 40)
            text = " ".join(rng.choices(words, k=n))
            self.bodies.append(text[0].upper() + text[1:])
        self.multi: list[str] = []
        for k in range(_MULTI_POOL):
            lines = [
                " ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in range(rng.randint(2, 5))
            ]
            if k % 16 == 0:
                lines.insert(1, "")  # blank lines inside a message are content
            if k % 128 == 5:
                # pasted from a desktop: CRLF inside an Android body is kept as is
                lines = ["\r\n".join(lines[:2]), *lines[2:]]
            self.multi.append("\n".join(lines))


_VOCABS: dict[int, _Vocabulary] = {}


def _vocab(seed: int) -> _Vocabulary:
    if seed not in _VOCABS:
        _VOCABS[seed] = _Vocabulary(seed)
    return _VOCABS[seed]


class _Clock:
    """Header date and time text from seconds since ``_EPOCH``, cached per day."""

    def __init__(self) -> None:
        self._days: dict[int, tuple[str, str]] = {}
        self.hm = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]
        self.ss = [f"{s:02d}" for s in range(60)]

    def day(self, seconds: int) -> tuple[str, str]:
        """(``dd/mm/yyyy``, ``yyyymmdd``) of that day."""
        d = (seconds + 7 * 3600) // 86400  # _EPOCH is 07:00 on day 0
        got = self._days.get(d)
        if got is None:
            date = _EPOCH.date() + dt.timedelta(days=d)
            got = (f"{date:%d/%m/%Y}", f"{date:%Y%m%d}")
            self._days[d] = got
        return got

    def minute_of_day(self, seconds: int) -> int:
        return ((seconds + 7 * 3600) // 60) % 1440


def _authors(dialect: str) -> tuple[str, ...]:
    if dialect == "android":
        return (*_NAMES, *_PHONES)
    # iOS wraps phone numbers in LTR embedding marks with no-break spaces inside, and shows
    # non-contacts with a "~ " prefix.
    phones = tuple("\u202a" + p.replace(" ", "\u00a0") + "\u202c" for p in _PHONES)
    return (*_NAMES[:-1], "~\u202f" + _NAMES[-1], *phones)


def _chunk_records(
    seed: int, dialect: str, chunk: int, lo: int, hi: int, vocab: _Vocabulary, clock: _Clock
) -> tuple[str, list[int]]:
    """Text of records ``lo..hi`` (positions inside ``chunk``) and counters
    [lines, multi, media, system]."""
    rng = random.Random(f"wa-content:{seed}:{chunk}")
    times = _chunk_times(seed, chunk)
    authors = rng.choices(_authors(dialect), weights=_AUTHOR_WEIGHTS, k=CHUNK)
    kinds = rng.choices(_KINDS, weights=_KIND_WEIGHTS, k=CHUNK)
    picks = rng.choices(range(_POOL), k=CHUNK)
    aux = rng.choices(range(1_000_000), k=CHUNK)  # one extra draw per message, for details
    bodies, multis = vocab.bodies, vocab.multi
    hm, ss = clock.hm, clock.ss
    android = dialect == "android"
    eol = "\n" if android else "\r\n"
    out: list[str] = []
    lines = multi = media = system = 0
    for i in range(lo, hi):
        t = times[i]
        kind = kinds[i]
        if kind == "system" or (chunk == 0 and i == 0):
            if not (chunk == 0 and i == 0) and aux[i] % 4 == 0:
                t = max(t - 120, chunk * _CHUNK_SECONDS)  # database order, not time order
            kind = "system"
        day, ymd = clock.day(t)
        if android:
            head = f"{day}, {hm[clock.minute_of_day(t)]} - "
        else:
            head = f"[{day}, {hm[clock.minute_of_day(t)]}:{ss[t % 60]}] "
        author = authors[i]
        a = aux[i]
        if kind == "text":
            out.append(f"{head}{author}: {bodies[picks[i]]}{eol}")
            lines += 1
        elif kind == "multi":
            text = multis[picks[i] % _MULTI_POOL]
            out.append(f"{head}{author}: {text}{eol}")
            lines += text.count("\n") + 1
            multi += 1
        elif kind == "media":
            media += 1
            lines += 1
            if android:
                if a % 3:
                    body = "<Media omitted>"
                else:
                    tag, ext = (("IMG", "jpg"), ("VID", "mp4"), ("PTT", "opus"))[a % 9 // 3]
                    body = f"{tag}-{ymd}-WA{a % 10000:04d}.{ext} (file attached)"
                out.append(f"{head}{author}: {body}{eol}")
            else:
                what = ("image", "video", "audio", "sticker", "GIF")[a % 5]
                out.append(f"{_LRM}{head}{author}: {_LRM}{what} omitted{eol}")
        elif kind == "url":
            out.append(f"{head}{author}: {bodies[picks[i]]} {_URLS[a % 3]}{eol}")
            lines += 1
        elif kind == "deleted":
            lines += 1
            if android:
                out.append(f"{head}{author}: This message was deleted{eol}")
            else:
                out.append(f"{_LRM}{head}{author}: {_LRM}This message was deleted.{eol}")
        elif kind == "edited":
            out.append(f"{head}{author}: {bodies[picks[i]]} <This message was edited>{eol}")
            lines += 1
        else:
            system += 1
            lines += 1
            if chunk == 0 and i == 0:
                notice = (
                    "Messages and calls are end-to-end encrypted. No one outside of this chat, "
                    "not even WhatsApp, can read or listen to them. Tap to learn more."
                )
                if android:
                    out.append(f"{head}{notice}{eol}")
                else:
                    out.append(f"{head}{_GROUP}: {_LRM}{notice}{eol}")
                continue
            actor = _NAMES[a % 3]
            other = _NAMES[3 + a % 3]
            events = (
                f"{actor} added {other}",
                f"{other} left",
                f"{actor} changed this group's icon",
            )
            event = events[a // 7 % 3]
            if android:
                out.append(f"{head}{event}{eol}")
            else:
                out.append(f"{_LRM}{head}{_LRM}{event}{eol}")
    return "".join(out), [lines, multi, media, system]


def _chunks(start: int, stop: int) -> Iterator[tuple[int, int, int]]:
    """(chunk, lo, hi) covering message indices [start, stop)."""
    i = start
    while i < stop:
        chunk, lo = divmod(i, CHUNK)
        hi = min(CHUNK, stop - chunk * CHUNK)
        yield chunk, lo, hi
        i = chunk * CHUNK + hi


def generate(
    out: Path | str,
    messages: int,
    dialect: str = "android",
    seed: int = 1,
    start: int = 0,
    *,
    align: bool = False,
) -> GenStats:
    """Write messages ``[start, start + messages)`` of the stream of ``seed`` to ``out``.

    With ``align``, both ends move forward to the next minute boundary (see
    ``aligned_index``), so the count can differ from ``messages`` by a few."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
    if messages < 0 or start < 0:
        raise ValueError("messages and start must be >= 0")
    t0 = time.perf_counter()
    stop = start + messages
    if align:
        start, stop = aligned_index(seed, start), aligned_index(seed, stop)
    vocab = _vocab(seed)
    clock = _Clock()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    totals = [0, 0, 0, 0]
    size = 0
    with tmp.open("wb") as fh:
        pending: list[bytes] = []
        pending_size = 0
        for chunk, lo, hi in _chunks(start, stop):
            text, counts = _chunk_records(seed, dialect, chunk, lo, hi, vocab, clock)
            data = text.encode("utf-8")
            pending.append(data)
            pending_size += len(data)
            totals = [x + y for x, y in zip(totals, counts, strict=True)]
            if pending_size >= 8 << 20:  # write in blocks of ~8 MB
                fh.write(b"".join(pending))
                size += pending_size
                pending, pending_size = [], 0
        fh.write(b"".join(pending))
        size += pending_size
    tmp.replace(out)

    def minute(index: int) -> str:
        chunk, pos = divmod(index, CHUNK)
        t = _EPOCH + dt.timedelta(seconds=_chunk_times(seed, chunk)[pos])
        return f"{t:%Y-%m-%dT%H:%M}"

    return GenStats(
        path=str(out),
        dialect=dialect,
        seed=seed,
        start=start,
        messages=stop - start,
        lines=totals[0],
        bytes=size,
        multi_line=totals[1],
        media=totals[2],
        system=totals[3],
        first_minute=minute(start) if stop > start else "",
        last_minute=minute(stop - 1) if stop > start else "",
        seconds=round(time.perf_counter() - t0, 3),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--dialect", choices=DIALECTS, default="android")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=int, default=0, help="index of the first message (overlaps)")
    p.add_argument("--align", action="store_true", help="cut both ends at minute boundaries")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    stats = generate(args.out, args.messages, args.dialect, args.seed, args.start, align=args.align)
    for key, value in asdict(stats).items():
        sys.stdout.write(f"{key}: {value}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
