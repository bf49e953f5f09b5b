"""Event dates resolved from the text as written and the article's publication date."""

from __future__ import annotations

from datetime import date

import pytest

from factline.dates import normalise_event_date
from schemas import DatePrecision

MONDAY = date(2025, 12, 15)
TUESDAY_AFTER = date(2025, 12, 23)


@pytest.mark.parametrize(
    ("text", "published", "start", "end", "precision"),
    [
        ("on Monday", MONDAY, date(2025, 12, 15), None, DatePrecision.DAY),  # published that Monday
        ("Saturday", MONDAY, date(2025, 12, 13), None, DatePrecision.DAY),
        ("next Monday", MONDAY, date(2025, 12, 22), None, DatePrecision.DAY),
        ("December 2", TUESDAY_AFTER, date(2025, 12, 2), None, DatePrecision.DAY),
        ("November 30", TUESDAY_AFTER, date(2025, 11, 30), None, DatePrecision.DAY),
        ("December 14–15", TUESDAY_AFTER, date(2025, 12, 14), date(2025, 12, 15), DatePrecision.DAY),
        ("19-20 December", TUESDAY_AFTER, date(2025, 12, 19), date(2025, 12, 20), DatePrecision.DAY),
        ("November 30 – December 2", TUESDAY_AFTER, date(2025, 11, 30), date(2025, 12, 2), DatePrecision.DAY),
        ("In the night of December 6", TUESDAY_AFTER, date(2025, 12, 6), None, DatePrecision.DAY),
        ("this weekend", MONDAY, date(2025, 12, 13), date(2025, 12, 14), DatePrecision.DAY),
        ("in July", MONDAY, date(2025, 7, 1), None, DatePrecision.MONTH),
        ("last week", MONDAY, date(2025, 12, 8), None, DatePrecision.WEEK),
        ("in 2014", MONDAY, date(2014, 1, 1), None, DatePrecision.YEAR),
        ("yesterday", MONDAY, date(2025, 12, 14), None, DatePrecision.DAY),
        # A scheduled date shortly after publication is not pushed back a year.
        ("December 22", MONDAY, date(2025, 12, 22), None, DatePrecision.DAY),
        ("in January", MONDAY, date(2026, 1, 1), None, DatePrecision.MONTH),  # upcoming, within six weeks
        ("in March", MONDAY, date(2025, 3, 1), None, DatePrecision.MONTH),  # too far ahead: the past one
        # New year: "December 30" in an article of 2 January is the previous year's.
        ("December 30", date(2026, 1, 2), date(2025, 12, 30), None, DatePrecision.DAY),
    ],
)
def test_dates_resolve_against_publication(
    text: str, published: date, start: date, end: date | None, precision: DatePrecision
) -> None:
    resolved = normalise_event_date(text, published)
    assert (resolved.start, resolved.end, resolved.precision) == (start, end, precision)


@pytest.mark.parametrize("text", ["on Monday", "December 2", "December 14–15", "this weekend", "last week"])
def test_relative_dates_stay_null_without_a_publication_date(text: str) -> None:
    resolved = normalise_event_date(text, None)
    assert resolved.start is None
    assert resolved.end is None
    assert resolved.precision is DatePrecision.UNKNOWN


@pytest.mark.parametrize(
    ("text", "expected"), [("December 2, 2025", date(2025, 12, 2)), ("1994", date(1994, 1, 1))]
)
def test_dates_carrying_their_year_resolve_without_a_publication_date(text: str, expected: date) -> None:
    assert normalise_event_date(text, None).start == expected


@pytest.mark.parametrize("text", [None, "", "   ", "by mid November", "at some point", "soon"])
def test_vague_or_missing_dates_are_never_invented(text: str | None) -> None:
    resolved = normalise_event_date(text, MONDAY)
    assert resolved.start is None
    assert resolved.precision is DatePrecision.UNKNOWN
