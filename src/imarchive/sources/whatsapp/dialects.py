"""WhatsApp header shapes, as data.

A header is date-ish + time-ish + optional period + a separator. The shapes below are
*families* (Android ``date, time - ``, iOS ``[date, time] ``, legacy iOS ``date, time: ``,
…); within a family the date separator, the comma, the seconds and the period word vary by
locale. One family (rarely two, for concatenated exports) is chosen per file from a sample
of many lines (``infer.py``); the family regexes are then applied strictly: a line that does
not match the chosen shape never starts a record.

Group names are written with ``~`` so that several families can be joined into one regex
with distinct prefixes (``~d1`` → ``f1d1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# Marks before a header belong to the header: iOS puts LRM before ``[`` on system and media
# lines, Arabic locales an RLM; a stray BOM survives where exports were concatenated.
MARKS = "[\u200e\u200f\ufeff]*"
_RLM = "\u200f?"

# Period words after (or, in zh/ja/ko, before) the time. Keys are the normalised form
# (lower case, no dots, no spaces): see ``period_key``. Values: "am", "pm", or "night"
# (CLDR en "at night" spans 21:00-06:00: 10 at night is 22h, 2 at night is 02h).
PERIODS: dict[str, str] = {
    "am": "am",
    "pm": "pm",
    "inthemorning": "am",
    "intheafternoon": "pm",
    "intheevening": "pm",
    "atnight": "night",
    # de day periods (CLDR): morgens 05-10, vorm. 10-12, mittags 12-13, nachm. 13-18,
    # abends 18-24, nachts 00-05
    "morgens": "am",
    "vorm": "am",
    "mittags": "pm",
    "nachm": "pm",
    "abends": "pm",
    "nachts": "am",
    "ص": "am",
    "م": "pm",
    "上午": "am",
    "早上": "am",
    "凌晨": "am",
    "午前": "am",
    "下午": "pm",
    "中午": "pm",
    "晚上": "pm",
    "午後": "pm",
    "오전": "am",
    "오후": "pm",
    "sa": "am",  # vi sáng
    "ch": "pm",  # vi chiều
    "पूर्वाह्न": "am",
    "अपराह्न": "pm",
    "ก่อนเที่ยง": "am",
    "หลังเที่ยง": "pm",
}

_SP = "[ \u00a0\u202f]"
# a.m. / a. m. / a.\u00a0m. / AM / am / p.m. … in every spacing seen in real exports
_AMPM = r"[aApP]\.?" + _SP + r"?[mM]\.?(?![^\W\d_])"
_WORDS = (
    "in the morning",
    "in the afternoon",
    "in the evening",
    "at night",
    "morgens",
    "vorm.",
    "mittags",
    "nachm.",
    "abends",
    "nachts",
    "ص",
    "م",
    "SA",
    "CH",
    "पूर्वाह्न",
    "अपराह्न",
    "ก่อนเที่ยง",
    "หลังเที่ยง",
)
PERIOD_AFTER = (
    "(?:"
    + _AMPM
    + "|"
    + "|".join(re.escape(w).replace(r"\ ", _SP) for w in _WORDS)
    + "|上午|下午|午前|午後|오전|오후)"
)
PERIOD_BEFORE = "(?:上午|下午|早上|凌晨|中午|晚上|午前|午後|오전|오후)"

_PERIOD_STRIP = str.maketrans("", "", ". \u00a0\u202f")


def period_key(text: str) -> str:
    return text.lower().translate(_PERIOD_STRIP)


# Month names of legacy Android headers (``19:23, 28 Aug 2013``), several languages.
MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        "jan january janv janvier jän januar ene enero gen gennaio janeiro",
        "feb february févr fevrier février februar febrero febbraio fev fevereiro",
        "mar march mars märz mär marzo março",
        "apr april avr avril abr abril aprile",
        "may mai mayo mag maggio maio",
        "jun june juin juni junio giu giugno junho",
        "jul july juil juillet juli julio lug luglio julho",
        "aug august août ago agosto aout",
        "sep sept september septembre septiembre set settembre setembro",
        "oct october octobre okt oktober octubre ott ottobre out outubro",
        "nov november novembre noviembre novembro",
        "dec december déc décembre dez dezember dic diciembre dicembre dezembro",
    ),
    start=1,
):
    for _n in _names.split():
        MONTHS[_n] = _i
_MONTH_RE = "(?i:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"

_NUMDATE = (
    _RLM
    + r"(?P<~d1>\d{1,4})"
    + _RLM
    + r"(?P<~ds>[/.\-])"
    + _RLM
    + r"(?P<~d2>\d{1,2})"
    + _RLM
    + r"(?P=~ds)"
    + _RLM
    + r"(?P<~era>[RHS])?(?P<~d3>\d{1,4})(?P<~be> BE)?"
)
_TIME_HM = r"(?P<~H>\d{1,2})(?P<~tsep>[:.])(?P<~M>\d{2})(?:(?P=~tsep)(?P<~S>\d{2}))?"
_TIME_HMS = r"(?P<~H>\d{1,2})(?P<~tsep>[:.])(?P<~M>\d{2})(?P=~tsep)(?P<~S>\d{2})"
_PER = "(?:" + _SP + "(?P<~per>" + PERIOD_AFTER + "))?"
_PPER = "(?:(?P<~pper>" + PERIOD_BEFORE + ") ?)?"
_COMMA = "(?:,|\u060c)?"


@dataclass(frozen=True)
class Family:
    """One header shape. ``pattern`` matches from the start of a line through the
    separator that precedes the author; group ``~ts`` is ``sent_at_source``."""

    name: str
    platform: str  # "android" or "ios"
    pattern: str
    dates: str  # "numeric" (order to infer), "month" (month name) or "yearless"
    example: str


FAMILIES: tuple[Family, ...] = (
    Family(
        "android",
        "android",
        MARKS + "(?P<~ts>" + _NUMDATE + _COMMA + " " + _PPER + _TIME_HM + _PER + ") - ",
        "numeric",
        "23/03/2022, 13:31 - Alice: Hello",
    ),
    Family(
        "ios",
        "ios",
        MARKS
        + r"\[(?P<~ts>"
        + _NUMDATE
        + _COMMA
        + " (?:klo )?"
        + _PPER
        + _TIME_HMS
        + _PER
        + r")\] ",
        "numeric",
        "[3/27/22, 21:41:35] Alice: Hello World",
    ),
    Family(
        "ios-time-first",
        "ios",
        MARKS + r"\[(?P<~ts>" + _TIME_HMS + _PER + ", " + _NUMDATE + r")\] ",
        "numeric",
        "[21:41:35, 3/27/22] Alice: Hello World",
    ),
    Family(
        "ios-legacy",
        "ios",
        MARKS + "(?P<~ts>" + _NUMDATE + "(?:,)? " + _TIME_HMS + _PER + "): ",
        "numeric",
        "7/11/16, 2:33:08 PM: Alice: Hello",
    ),
    Family(
        "ios-legacy-spaced",
        "ios",
        MARKS
        + r"(?P<~ts>(?P<~d1>\d{1,2})\. (?P<~d2>\d{1,2})\. (?P<~d3>\d{4})\. "
        + _TIME_HMS
        + ") ",
        "numeric",
        "13. 6. 2018. 21:25:15 Alice: m",
    ),
    Family(
        "android-legacy-month",
        "android",
        MARKS
        + "(?P<~ts>"
        + _TIME_HM
        + _PER
        + r", (?P<~d1>\d{1,2}) (?P<~mon>"
        + _MONTH_RE
        + r") (?P<~d3>\d{4})) - ",
        "month",
        "19:23, 28 Aug 2013 - Alice: hi",
    ),
    Family(
        "android-legacy-yearless",
        "android",
        MARKS + r"(?P<~ts>(?P<~d1>\d{1,2}) (?P<~mon>" + _MONTH_RE + ") " + _TIME_HM + _PER + ") - ",
        "yearless",
        "18 Mar 12:14 - Alice: hi",
    ),
)

FAMILY_BY_NAME = {f.name: f for f in FAMILIES}


@dataclass(frozen=True)
class LookAlike:
    """Files that look like a chat export but are not WhatsApp's: rejected by name."""

    name: str
    pattern: re.Pattern[str]


LOOKALIKES: tuple[LookAlike, ...] = (
    LookAlike(
        "a third-party WhatsApp viewer export",
        re.compile(r"^\d{2}\.\d{2}\.\d{4} - \d{2}:\d{2}:\d{2}; ", re.M),
    ),
    LookAlike(
        "a KakaoTalk export",
        re.compile(r"^\d{4}\. \d{1,2}\. \d{1,2}\. (?:오전|오후) \d{1,2}:\d{2}, [^\n]* : ", re.M),
    ),
)


def lookalike(text: str) -> str | None:
    """Why ``text`` is not a WhatsApp export when it looks like a format often taken for
    one (a viewer's or KakaoTalk's export), else None."""
    for look in LOOKALIKES:
        if look.pattern.search(text):
            return f"looks like {look.name}, not a WhatsApp export"
    return None


def family_pattern(family: Family, prefix: str = "") -> str:
    return family.pattern.replace("~", prefix)


@cache
def compiled(names: tuple[str, ...], ios_records: bool = False) -> re.Pattern[str]:
    """One regex over the given families, anchored at line starts.

    With one family the group names are bare (``d1``); with several, family ``i`` gets
    the prefix ``f{i}``. ``ios_records``: iOS ends records with CRLF and keeps bare LF
    inside messages, so a header-looking line only starts a record after ``\\r\\n``
    (or at the start of the text)."""
    if len(names) == 1:
        body = family_pattern(FAMILY_BY_NAME[names[0]])
    else:
        body = "|".join(
            f"(?P<f{i}>{family_pattern(FAMILY_BY_NAME[n], f'f{i}')})" for i, n in enumerate(names)
        )
    anchor = r"(?:\A|(?<=\r\n))" if ios_records else "^"
    return re.compile(anchor + "(?:" + body + ")", re.M)


@cache
def single(name: str) -> re.Pattern[str]:
    """The family's regex alone, for matching one line (``match``, not ``search``)."""
    return re.compile(family_pattern(FAMILY_BY_NAME[name]))


@cache
def group_names(name: str) -> frozenset[str]:
    """The named groups a family's pattern defines (without prefix)."""
    return frozenset(single(name).groupindex)
