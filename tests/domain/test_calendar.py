"""The business-day calendar, against dates checked by hand on a 2019-2020 calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.clock import JST
from app.domain.calendar import (
    add_business_days,
    business_days_between,
    holiday_name,
    is_business_day,
    next_business_day,
    previous_business_day,
)

D = date

# Golden Week 2019: ten days closed in a row, from Saturday 27 April to Monday 6 May.
GOLDEN_WEEK_2019 = {
    D(2019, 4, 27): None,  # Saturday
    D(2019, 4, 28): None,  # Sunday
    D(2019, 4, 29): "昭和の日",
    D(2019, 4, 30): "国民の休日",  # between two holidays: a citizens' holiday
    D(2019, 5, 1): "天皇の即位の日",
    D(2019, 5, 2): "国民の休日",
    D(2019, 5, 3): "憲法記念日",
    D(2019, 5, 4): "みどりの日",  # Saturday
    D(2019, 5, 5): "こどもの日",  # Sunday
    D(2019, 5, 6): "こどもの日 振替休日",  # substitute for the Sunday
}

# New Year 2019-2020: closed from Saturday 28 December to Friday 3 January.
NEW_YEAR_2020 = {
    D(2019, 12, 28): None,  # Saturday
    D(2019, 12, 29): None,  # Sunday
    D(2019, 12, 30): "open",  # Monday: an ordinary business day
    D(2019, 12, 31): "銀行休業日",
    D(2020, 1, 1): "元日",
    D(2020, 1, 2): "銀行休業日",
    D(2020, 1, 3): "銀行休業日",
    D(2020, 1, 4): None,  # Saturday
    D(2020, 1, 5): None,  # Sunday
    D(2020, 1, 6): "open",  # Monday
}


@pytest.mark.parametrize(("day", "name"), GOLDEN_WEEK_2019.items())
def test_golden_week_2019_is_closed(day, name):
    assert not is_business_day(day)
    assert holiday_name(day) == name


def test_golden_week_is_framed_by_business_days():
    assert is_business_day(D(2019, 4, 26))  # Friday
    assert is_business_day(D(2019, 5, 7))  # Tuesday
    assert business_days_between(D(2019, 4, 26), D(2019, 5, 7)) == 1


@pytest.mark.parametrize(("day", "name"), NEW_YEAR_2020.items())
def test_new_year_bank_holidays(day, name):
    if name == "open":
        assert is_business_day(day)
        assert holiday_name(day) is None
    else:
        assert not is_business_day(day)
        assert holiday_name(day) == name


def test_bank_holidays_close_even_on_weekdays_every_year():
    # 2018-12-31 was a Monday, 2019-01-02 and 01-03 a Wednesday and Thursday.
    for day in (D(2018, 12, 31), D(2019, 1, 2), D(2019, 1, 3), D(2024, 12, 31)):
        assert day.weekday() < 5
        assert not is_business_day(day)
        assert holiday_name(day) == "銀行休業日"
    assert is_business_day(D(2019, 1, 4))
    assert is_business_day(D(2018, 12, 28))


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2019, 8, 12), "山の日 振替休日"),  # 山の日 fell on Sunday 11 August 2019
        (D(2019, 11, 4), "文化の日 振替休日"),
        (D(2020, 2, 24), "天皇誕生日 振替休日"),
        (D(2020, 5, 6), "憲法記念日 振替休日"),  # substitute pushed past 4 and 5 May
    ],
)
def test_substitute_holidays(day, name):
    assert day.weekday() == 0 or day == D(2020, 5, 6)
    assert not is_business_day(day)
    assert holiday_name(day) == name


def test_citizens_holiday_outside_golden_week():
    # Silver Week 2026: 22 September sits between 敬老の日 and 秋分の日.
    assert holiday_name(D(2026, 9, 22)) == "国民の休日"
    assert not is_business_day(D(2026, 9, 22))


def test_one_off_holidays_of_the_enthronement_year():
    assert holiday_name(D(2019, 10, 22)) == "即位礼正殿の儀"
    assert not is_business_day(D(2019, 10, 22))
    # No 天皇誕生日 in 2019: 23 December 2019 was an ordinary Monday.
    assert is_business_day(D(2019, 12, 23))


def test_ordinary_days():
    assert is_business_day(D(2019, 8, 19))  # outreach start, a Monday
    assert holiday_name(D(2019, 8, 19)) is None
    assert not is_business_day(D(2019, 8, 17))  # Saturday
    assert holiday_name(D(2019, 8, 17)) is None


def test_add_business_days_forward_over_golden_week():
    assert add_business_days(D(2019, 4, 25), 1) == D(2019, 4, 26)
    assert add_business_days(D(2019, 4, 26), 1) == D(2019, 5, 7)
    assert add_business_days(D(2019, 4, 26), 2) == D(2019, 5, 8)
    assert add_business_days(D(2019, 4, 30), 1) == D(2019, 5, 7)  # from a closed day
    assert add_business_days(D(2019, 4, 24), 5) == D(2019, 5, 9)


def test_add_business_days_backward_over_golden_week():
    assert add_business_days(D(2019, 5, 7), -1) == D(2019, 4, 26)
    assert add_business_days(D(2019, 5, 7), -3) == D(2019, 4, 24)
    assert add_business_days(D(2019, 5, 3), -1) == D(2019, 4, 26)  # from a closed day
    assert add_business_days(D(2019, 5, 8), -1) == D(2019, 5, 7)


def test_add_business_days_over_new_year():
    assert add_business_days(D(2019, 12, 27), 1) == D(2019, 12, 30)
    assert add_business_days(D(2019, 12, 30), 1) == D(2020, 1, 6)
    assert add_business_days(D(2019, 12, 30), 3) == D(2020, 1, 8)
    assert add_business_days(D(2020, 1, 6), -1) == D(2019, 12, 30)
    assert add_business_days(D(2020, 1, 6), -2) == D(2019, 12, 27)
    assert add_business_days(D(2020, 1, 1), -1) == D(2019, 12, 30)


def test_add_zero_returns_the_day_itself():
    assert add_business_days(D(2019, 5, 3), 0) == D(2019, 5, 3)
    assert add_business_days(D(2019, 5, 7), 0) == D(2019, 5, 7)


def test_add_many_business_days_spans_years():
    # 2019 had 241 business days (365 - 104 weekend days - 17 weekday public
    # holidays - 3 weekday bank holidays: 2 Jan, 3 Jan, 31 Dec).
    assert business_days_between(D(2018, 12, 31), D(2019, 12, 31)) == 241
    assert add_business_days(D(2018, 12, 31), 241) == D(2019, 12, 30)
    assert add_business_days(D(2019, 12, 30), -241) == D(2018, 12, 28)


def test_business_days_between():
    assert business_days_between(D(2019, 4, 26), D(2019, 4, 26)) == 0
    assert business_days_between(D(2019, 4, 26), D(2019, 5, 6)) == 0
    assert business_days_between(D(2019, 4, 25), D(2019, 5, 7)) == 2
    assert business_days_between(D(2019, 5, 7), D(2019, 4, 25)) == -2
    assert business_days_between(D(2019, 12, 27), D(2020, 1, 6)) == 2
    assert business_days_between(D(2019, 12, 28), D(2020, 1, 5)) == 1  # only 30 December
    assert business_days_between(D(2019, 8, 19), D(2019, 8, 23)) == 4  # (Mon, Fri]


def test_next_and_previous_business_day():
    assert next_business_day(D(2019, 4, 27)) == D(2019, 5, 7)
    assert next_business_day(D(2019, 5, 7)) == D(2019, 5, 7)
    assert next_business_day(D(2019, 12, 31)) == D(2020, 1, 6)
    assert previous_business_day(D(2019, 5, 6)) == D(2019, 4, 26)
    assert previous_business_day(D(2019, 4, 26)) == D(2019, 4, 26)
    assert previous_business_day(D(2020, 1, 3)) == D(2019, 12, 30)


def test_datetime_is_refused():
    moment = datetime(2019, 5, 7, 9, 0, tzinfo=JST)
    with pytest.raises(TypeError):
        is_business_day(moment)
    with pytest.raises(TypeError):
        add_business_days(moment, 1)


def test_edges_of_the_date_range():
    assert not is_business_day(date.max)  # 31 December: a bank holiday
    assert add_business_days(date.max, -1) == D(9999, 12, 30)
    with pytest.raises(OverflowError):
        add_business_days(D(9999, 12, 30), 1)


def test_a_year_is_fast_enough_for_long_lists():
    import time

    start = time.perf_counter()
    day = D(2019, 1, 1)
    for offset in range(200_000):
        is_business_day(day + timedelta(days=offset % 730))
    assert time.perf_counter() - start < 2.0


# ---------------------------------------------------------------- properties

# jpholiday takes tens of milliseconds the first time it is asked about a year
# (the calendar then caches it), so the first example touching a year is slower
# than hypothesis' default deadline for reasons that have nothing to do with us.
slow_first_year = settings(deadline=None)
dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31))
steps = st.integers(min_value=-1500, max_value=1500)


def _walk(d: date, n: int) -> date:
    """The slow, obvious definition: step one calendar day at a time."""
    step = timedelta(days=1 if n > 0 else -1)
    left = abs(n)
    while left:
        d += step
        if is_business_day(d):
            left -= 1
    return d


@slow_first_year
@given(dates, steps.filter(lambda n: n != 0))
def test_add_lands_on_a_business_day(d, n):
    assert is_business_day(add_business_days(d, n))


@slow_first_year
@given(dates, st.integers(min_value=-40, max_value=40))
def test_add_matches_day_by_day_walk(d, n):
    assert add_business_days(d, n) == _walk(d, n)


@slow_first_year
@given(dates, steps)
def test_between_inverts_add_from_a_business_day(d, n):
    d = next_business_day(d)
    assert business_days_between(d, add_business_days(d, n)) == n


@slow_first_year
@given(dates, st.integers(min_value=1, max_value=1500))
def test_between_inverts_add_forward_from_any_day(d, n):
    assert business_days_between(d, add_business_days(d, n)) == n


@slow_first_year
@given(dates, dates)
def test_between_is_antisymmetric_and_additive(a, b):
    assert business_days_between(a, b) == -business_days_between(b, a)
    mid = a + (b - a) // 2
    assert business_days_between(a, b) == (
        business_days_between(a, mid) + business_days_between(mid, b)
    )


@slow_first_year
@given(dates, st.integers(min_value=0, max_value=60))
def test_between_matches_counting(a, span):
    b = a + timedelta(days=span)
    expected = sum(is_business_day(a + timedelta(days=i)) for i in range(1, span + 1))
    assert business_days_between(a, b) == expected


@slow_first_year
@given(dates)
def test_next_and_previous_bracket_the_day(d):
    nxt, prev = next_business_day(d), previous_business_day(d)
    assert is_business_day(nxt) and is_business_day(prev)
    assert prev <= d <= nxt
    assert business_days_between(prev, nxt) == (0 if is_business_day(d) else 1)


@slow_first_year
@given(dates)
def test_named_days_are_closed(d):
    if holiday_name(d) is not None:
        assert not is_business_day(d)
    elif d.weekday() < 5:
        assert is_business_day(d)
