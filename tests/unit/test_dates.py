"""Event dates resolved from the text as written and the article's publication date."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Literal

import pytest
from dateparser.date import DateDataParser
from hypothesis import example, given, settings
from hypothesis import strategies as st

from factline.dates import _month_day, normalise_event_date
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


MONTH_DAY_FORMS = ("{M} {d}", "{m} {d}", "{m}. {d}", "{d} {M}", "{M} {d}, {y}", "{M} {d} {y}", "on {M} {d}")


@settings(max_examples=300, deadline=None)
@example(anchor=date(2008, 4, 8), month=4, day=8, year=2008, form="{m}. {d}", prefer="future")  # next year's
@example(anchor=date(2025, 3, 1), month=2, day=29, year=2025, form="{M} {d}", prefer="past")  # 2024's
@given(
    anchor=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)),
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    year=st.integers(1990, 2040),
    form=st.sampled_from(MONTH_DAY_FORMS),
    prefer=st.sampled_from(["past", "future"]),
)
def test_month_and_day_are_read_to_the_day_dateparser_gives(
    anchor: date, month: int, day: int, year: int, form: str, prefer: Literal["past", "future"]
) -> None:
    """The fast path for "December 7" and its kin agrees with dateparser, which it stands in for."""
    text = form.format(M=calendar.month_name[month], m=calendar.month_abbr[month], d=day, y=year)
    base = datetime.combine(anchor, datetime.min.time())
    parser = DateDataParser(languages=["en"], settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer})
    found = parser.get_date_data(text).date_obj
    assert _month_day(text, anchor, prefer) == (found.date() if found else None)
