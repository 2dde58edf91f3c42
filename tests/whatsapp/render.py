"""Renders one ground-truth chat as a WhatsApp export in many dialects.

A dialect is data: how a header is written for a (local time, author) and how records
end. Every rendering of the same chat must parse to the same messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

LRM = "\u200e"
AR_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
ES_AM, ES_PM = "a.\u00a0m.", "p.\u00a0m."  # es-419: NBSP inside the period


@dataclass(frozen=True)
class Line:
    """One message: ``author`` None for a system line."""

    at: datetime
    author: str | None
    body: str


def _h12(t: datetime) -> int:
    return t.hour % 12 or 12


def _ampm(t: datetime, am: str = "AM", pm: str = "PM") -> str:
    return am if t.hour < 12 else pm


Header = Callable[[datetime], str]


@dataclass(frozen=True)
class Dialect:
    name: str
    header: Header  # the text before the author (separator included)
    ios: bool = False  # iOS: CRLF between records, LRM before system lines
    seconds: bool = False


DIALECTS: tuple[Dialect, ...] = (
    Dialect("android-en-GB", lambda t: f"{t:%d/%m/%Y}, {t:%H:%M} - "),
    Dialect(
        "android-en-US-12h",
        lambda t: f"{t.month}/{t.day}/{t:%y}, {_h12(t)}:{t:%M} {_ampm(t)} - ",
    ),
    Dialect(
        "android-en-US-2023",
        lambda t: f"{t.month}/{t.day}/{t:%y}, {_h12(t)}:{t:%M}\u202f{_ampm(t)} - ",
    ),
    Dialect("android-de", lambda t: f"{t:%d.%m.%y}, {t:%H:%M} - "),
    Dialect("android-cs", lambda t: f"{t:%d.%m.%y} {t:%H:%M} - "),
    Dialect("android-nl", lambda t: f"{t:%d-%m-%Y} {t:%H:%M} - "),
    Dialect(
        "android-en-ZA",
        lambda t: f"{t:%Y/%m/%d}, {_h12(t)}:{t:%M} {_ampm(t, 'am', 'pm')} - ",
    ),
    Dialect(
        "android-en-CA",
        lambda t: f"{t:%Y-%m-%d}, {_h12(t)}:{t:%M} {_ampm(t, 'a.m.', 'p.m.')} - ",
    ),
    Dialect(
        "android-es-419",
        lambda t: f"{t.day}/{t.month}/{t:%Y} {_h12(t)}:{t:%M} {_ampm(t, ES_AM, ES_PM)} - ",
    ),
    Dialect("android-id", lambda t: f"{t:%d/%m/%y} {t:%H}.{t:%M} - "),
    Dialect(
        "android-ar",
        lambda t: f"{t.day}/{t.month}/{t:%y}\u060c {_h12(t)}:{t:%M} {_ampm(t, 'ص', 'م')} - ",
    ),
    Dialect("android-legacy", lambda t: f"{t:%H:%M}, {t.day} {t:%b} {t:%Y} - "),
    Dialect("ios-en-US", lambda t: f"[{t.month}/{t.day}/{t:%y}, {t:%H:%M:%S}] ", True, True),
    Dialect(
        "ios-en-GB-12h",
        lambda t: f"[{t:%d/%m/%Y}, {_h12(t)}:{t:%M:%S}\u202f{_ampm(t)}] ",
        True,
        True,
    ),
    Dialect("ios-fr", lambda t: f"[{t:%d/%m/%Y} {t:%H:%M:%S}] ", True, True),
    Dialect("ios-id", lambda t: f"[{t:%d/%m/%y} {t:%H.%M.%S}] ", True, True),
    Dialect("ios-vi", lambda t: f"[{t:%H:%M:%S}, {t:%d/%m/%Y}] ", True, True),
    Dialect("ios-fi", lambda t: f"[{t.day}.{t.month}.{t:%Y} klo {t:%H.%M.%S}] ", True, True),
    Dialect(
        "ios-ar",
        lambda t: (
            (
                f"[\u200f{t.day}\u200f/{t.month}\u200f/{t:%Y}\u060c {_h12(t)}:{t:%M:%S}"
                f"\u00a0{_ampm(t, 'ص', 'م')}]"
            ).translate(AR_DIGITS)
            + " "
        ),
        True,
        True,
    ),
    Dialect(
        "ios-th", lambda t: f"[{t.month}/{t.day}/{t.year + 543} BE, {t:%H:%M:%S}] ", True, True
    ),
    Dialect("ios-ja", lambda t: f"[{t.month}/{t.day}/R{t.year - 2018}, {t:%H:%M:%S}] ", True, True),
    Dialect(
        "ios-legacy",
        lambda t: f"{t.month}/{t.day}/{t:%y}, {_h12(t)}:{t:%M:%S} {_ampm(t)}: ",
        True,
        True,
    ),
    Dialect(
        "ios-legacy-spaced", lambda t: f"{t.day}. {t.month}. {t:%Y}. {t:%H:%M:%S} ", True, True
    ),
)


def render(lines: list[Line], dialect: Dialect, bom: bool = False) -> str:
    """The export text. System lines get an LRM before the header on iOS (as WhatsApp
    writes them); their body carries its own leading LRM in the ground truth."""
    end = "\r\n" if dialect.ios else "\n"
    out: list[str] = ["\ufeff"] if bom else []
    for line in lines:
        head = dialect.header(line.at)
        if line.author is None:
            out.append((LRM if dialect.ios else "") + head + line.body + end)
        else:
            out.append(head + line.author + ": " + line.body + end)
    return "".join(out)


GROUND_TRUTH: list[Line] = [
    Line(datetime(2023, 1, 14, 9, 0), None, LRM + "Alice created group “Desk”"),
    Line(datetime(2023, 1, 14, 9, 0), None, LRM + "Alice added Bob"),
    Line(datetime(2023, 1, 14, 9, 1), "Alice", "Morning all"),
    Line(datetime(2023, 1, 14, 9, 1), "Alice", "Morning all"),  # same minute, same text: n=1
    Line(datetime(2023, 1, 14, 12, 30), "Bob", "Lunch?\nI can book a table\n\nfor four"),
    Line(datetime(2023, 1, 14, 0, 5), "\u202a+44\u00a07700\u00a0900123\u202c", "late one"),
    Line(datetime(2023, 1, 15, 23, 59), "~\u202fCarol", "مرحبا \u200f(RTL)"),
    Line(datetime(2023, 2, 3, 12, 0), "Alice", "<Media omitted>"),
    Line(datetime(2023, 2, 3, 13, 15), "Bob", "This message was deleted"),
    Line(datetime(2023, 2, 3, 18, 45), "Dr. Who: The Doctor", "Allons-y: now"),
    Line(datetime(2023, 2, 3, 18, 46), "Dr. Who: The Doctor", "x² ﬁle ＡＢＣ e\u0301 👩‍👩‍👧"),
    Line(datetime(2023, 12, 31, 23, 59), "Alice", "Happy new year https://example.com"),
    Line(datetime(2024, 1, 1, 0, 0), "Bob", "location: https://maps.google.com/?q=1,2"),
    Line(datetime(2024, 1, 1, 0, 1), "Alice", "fixed it <This message was edited>"),
]
