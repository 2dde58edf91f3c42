"""From header fields to an instant: day/month order, eras, periods, zones.

WhatsApp writes the naive wall-clock time of the exporting phone. We resolve it with the
user's ``--timezone``: a time in a DST fold takes the earlier instant, a time in a DST gap
moves forward by the gap (``fold=0`` in zoneinfo does both); either is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from imarchive.sources.whatsapp.dialects import MONTHS, PERIODS, period_key

DEFAULT_DATE_ORDER = "dmy"  # most WhatsApp locales write the day first (documented)

# Japanese eras: year 1 of the era is this Gregorian year + 1 (Reiwa 1 = 2019).
ERA_BASE = {"R": 2018, "H": 1988, "S": 1925}
BUDDHIST_OFFSET = 543  # 2565 BE = 2022
# A four-digit year this large without "BE" is still a Buddhist-calendar year (Thai phones).
BUDDHIST_MIN = 2400


class BadTimestamp(ValueError):
    """The header's fields do not form a valid date or time (reason has no text)."""


def _year(text: str, era: str | None, be: bool) -> int:
    y = int(text)  # int() reads Arabic-Indic and other Unicode decimal digits
    if era:
        return ERA_BASE[era] + y
    if len(text) <= 2:
        return 2000 + y  # two-digit years are 20YY (SPEC)
    if be or y >= BUDDHIST_MIN:
        return y - BUDDHIST_OFFSET
    return y


def ymd(
    d1: str, d2: str, d3: str, order: str, era: str | None = None, be: bool = False
) -> tuple[int, int, int]:
    """(year, month, day) of a numeric date; a four-digit first field is always a year."""
    if len(d1) >= 3 or order == "ymd":
        return _year(d1, era, be), int(d2), int(d3)
    if order == "mdy":
        return _year(d3, era, be), int(d1), int(d2)
    return _year(d3, era, be), int(d2), int(d1)


def month_number(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def hour24(hour: int, period: str | None) -> int:
    """12 AM is 00, 12 PM is 12; a 24h hour passes through."""
    if period is None:
        return hour
    kind = PERIODS.get(period_key(period))
    if kind is None:
        raise BadTimestamp("unknown period word")
    if not 1 <= hour <= 12 and not (hour == 0 and kind == "am"):
        raise BadTimestamp("hour out of range for a 12-hour clock")
    h = hour % 12
    if kind == "pm" or (kind == "night" and h >= 6):
        h += 12
    return h


def dst_message(shift: str) -> str:
    """The warning of a local time in a DST fold or gap (``shift``: its code)."""
    return f"local time in a DST {shift[4:]}: resolved per policy"


@dataclass(frozen=True, slots=True)
class Resolved:
    instant: datetime
    shift: str | None  # None, "dst_fold" or "dst_gap"


class ZoneResolver:
    """Naive local datetime → aware UTC, with DST fold/gap detection."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        # UTC offset per local day without a transition (None: the day has one). Zones
        # change offset at most a few times a year, so nearly every header takes the
        # fast path; a day with two transitions does not exist in the tz database.
        self._days: dict[tuple[int, int, int], timedelta | None] = {}

    def _day_offset(self, local: datetime) -> timedelta | None:
        z = self.zone
        start = datetime(local.year, local.month, local.day)
        end = start + timedelta(hours=23, minutes=59, seconds=59)
        offs = {t.replace(tzinfo=z, fold=f).utcoffset() for t in (start, end) for f in (0, 1)}
        return offs.pop() if len(offs) == 1 else None

    def resolve(self, local: datetime) -> Resolved:
        """The instant of a local time; ``BadTimestamp`` when it has none that a
        datetime can hold (the first or last hours of years 1 and 9999)."""
        try:
            return self._resolve(local)
        except OverflowError as exc:
            raise BadTimestamp from exc

    def _resolve(self, local: datetime) -> Resolved:
        key = (local.year, local.month, local.day)
        try:
            off = self._days[key]
        except KeyError:
            if len(self._days) > 4096:
                self._days.clear()
            off = self._days[key] = self._day_offset(local)
        if off is not None:
            return Resolved((local - off).replace(tzinfo=UTC), None)
        z = self.zone
        first = local.replace(tzinfo=z, fold=0)
        off0 = first.utcoffset()
        if off0 == local.replace(tzinfo=z, fold=1).utcoffset():
            return Resolved((first - (off0 or timedelta(0))).replace(tzinfo=UTC), None)
        instant = first.astimezone(UTC)
        # Round trip tells the two apart: a gap time does not exist, so it comes back moved.
        back = instant.astimezone(z).replace(tzinfo=None)
        return Resolved(instant, "dst_fold" if back == local else "dst_gap")
