"""Turning a date as an article writes it ("on Monday", "December 14–15") into ISO dates.

The article's publication date anchors relative expressions. Without it, only expressions that
mean the same day whatever the anchor (those that carry their year) resolve; the rest stay null,
because a date that cannot be inferred is never invented.
"""

from __future__ import annotations

import calendar
import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from dateparser.date import DateDataParser

from schemas import DatePrecision

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_RE = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)
_RELATIVE_WEEKDAY_RE = re.compile(r"\b(next|last|previous|following|coming)\b", re.IGNORECASE)
_WEEKEND_RE = re.compile(r"\bweekend\b", re.IGNORECASE)
_DASH = r"\s*(?:[-–—]|to|through|until)\s*"
_DAY_RANGE_RES = (
    re.compile(rf"(?P<month>[A-Za-z]{{3,}}\.?)\s+(?P<first>\d{{1,2}}){_DASH}(?P<last>\d{{1,2}})\b"),
    re.compile(rf"\b(?P<first>\d{{1,2}}){_DASH}(?P<last>\d{{1,2}})\s+(?P<month>[A-Za-z]{{3,}})"),
)
_SPAN_SPLIT_RE = re.compile(r"\s+[-–—]\s+|\s*[–—]\s*|\s+(?:to|through|until)\s+")
_MONTH_NUMBERS = {
    **{name.lower(): n for n, name in enumerate(calendar.month_name) if name},
    **{name.lower(): n for n, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}
_MONTH_DAY = re.compile(
    r"(?:on\s+)?(?:(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?"
    r"|(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month2>[A-Za-z]{3,9})\.?)(?:,?\s+(?P<year>\d{4}))?",
    re.IGNORECASE,
)
# Two unrelated anchors: a text that parses to the same day from both does not depend on the anchor.
_PROBE_ANCHORS = (datetime(2003, 6, 11), datetime(2017, 2, 22))

# A year-less date at most this far after publication reads as upcoming; anything later, as past.
UPCOMING_WINDOW_DAYS = 45

_PERIOD_PRECISION = {
    "day": DatePrecision.DAY,
    "time": DatePrecision.DAY,
    "part_of_day": DatePrecision.DAY,
    "week": DatePrecision.WEEK,
    "month": DatePrecision.MONTH,
    "year": DatePrecision.YEAR,
}


@dataclass(frozen=True)
class ResolvedDate:
    start: date | None
    end: date | None
    precision: DatePrecision

    @classmethod
    def unknown(cls) -> ResolvedDate:
        return cls(None, None, DatePrecision.UNKNOWN)


def _month_day(text: str, anchor: date, prefer: Literal["past", "future"]) -> date | None:
    """ "December 7", "7 Dec.", "Sept 3, 2025": the most common date in news, read without dateparser
    (2.5 ms a call here) and to the same day (`tests/unit/test_dates.py` holds the two equal): with its
    year as written, else the latest such day up to `anchor` (past) or the first after it (future)."""
    match = _MONTH_DAY.fullmatch(text.strip())
    if match is None:
        return None
    month = _MONTH_NUMBERS.get((match["month"] or match["month2"]).lower())
    day = int(match["day"] or match["day2"])
    if month is None:
        return None
    if match["year"]:
        with contextlib.suppress(ValueError):
            return date(int(match["year"]), month, day)
        return None
    step = -1 if prefer == "past" else 1
    for year in range(anchor.year, anchor.year + 9 * step, step):  # February 29 waits for a leap year
        with contextlib.suppress(ValueError):
            candidate = date(year, month, day)
            if (candidate <= anchor) if prefer == "past" else (candidate > anchor):
                return candidate
    return None


def _parse(
    text: str, anchor: datetime, prefer: Literal["past", "future"]
) -> tuple[date, DatePrecision] | None:
    if (day := _month_day(text, anchor.date(), prefer)) is not None:
        return day, DatePrecision.DAY
    parser = DateDataParser(
        languages=["en"],
        settings={"RELATIVE_BASE": anchor, "PREFER_DATES_FROM": prefer, "RETURN_TIME_AS_PERIOD": True},
    )
    data = parser.get_date_data(text)
    if data.date_obj is None:
        return None
    precision = _PERIOD_PRECISION.get(data.period or "day", DatePrecision.DAY)
    return _start_of(data.date_obj.date(), precision), precision


def _start_of(day: date, precision: DatePrecision) -> date:
    if precision is DatePrecision.WEEK:
        return day - timedelta(days=day.weekday())
    if precision is DatePrecision.MONTH:
        return day.replace(day=1)
    if precision is DatePrecision.YEAR:
        return day.replace(month=1, day=1)
    return day


def _latest_weekday(name: str, anchor: date) -> date:
    """News usage: a bare weekday is the latest such day up to and including publication."""
    return anchor - timedelta(days=(anchor.weekday() - _WEEKDAYS.index(name.lower())) % 7)


def _resolve_point(text: str, anchor: date | None) -> tuple[date, DatePrecision] | None:
    if anchor is None:
        results = {_parse(text, probe, "past") for probe in _PROBE_ANCHORS}
        return results.pop() if len(results) == 1 else None
    if (weekday := _WEEKDAY_RE.search(text)) and not _RELATIVE_WEEKDAY_RE.search(text):
        return _latest_weekday(weekday.group(1), anchor), DatePrecision.DAY
    base = datetime.combine(anchor, datetime.min.time())
    past, future = _parse(text, base, "past"), _parse(text, base, "future")
    if past is None or future is None:
        return past or future
    # News reports the past, and announces what is near: "December 22" from mid-December is upcoming.
    return future if (future[0] - anchor).days <= UPCOMING_WINDOW_DAYS else past


def _resolve_weekend(anchor: date) -> ResolvedDate:
    saturday = _latest_weekday("saturday", anchor)
    return ResolvedDate(saturday, saturday + timedelta(days=1), DatePrecision.DAY)


def _resolve_range(text: str, anchor: date | None) -> ResolvedDate | None:
    for pattern in _DAY_RANGE_RES:
        if match := pattern.search(text):
            month = match.group("month")
            first = _resolve_point(f"{month} {match.group('first')}", anchor)
            last = _resolve_point(f"{month} {match.group('last')}", anchor)
            if first and last and first[0] <= last[0]:
                return ResolvedDate(first[0], last[0], DatePrecision.DAY)
    parts = _SPAN_SPLIT_RE.split(text)
    if len(parts) == 2:
        first, last = _resolve_point(parts[0], anchor), _resolve_point(parts[1], anchor)
        if first and last and first[0] <= last[0]:
            return ResolvedDate(first[0], last[0], min(first[1], last[1], key=list(DatePrecision).index))
    return None


def normalise_event_date(date_text: str | None, published: date | None) -> ResolvedDate:
    """Resolve `date_text` against the publication date; unknown when it cannot be inferred."""
    if not date_text or not date_text.strip():
        return ResolvedDate.unknown()
    text = date_text.strip()
    try:
        if _WEEKEND_RE.search(text) and published is not None and not _RELATIVE_WEEKDAY_RE.search(text):
            return _resolve_weekend(published)
        if ranged := _resolve_range(text, published):
            return ranged
        if point := _resolve_point(text, published):
            return ResolvedDate(point[0], None, point[1])
    except OverflowError:  # "this weekend" of 0001-01-01 falls before the calendar's first day
        pass
    return ResolvedDate.unknown()
