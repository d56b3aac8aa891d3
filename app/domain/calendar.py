"""The business-day calendar that deadlines are counted in.

Card companies and banks act only on days they are open, so a deadline such as
"three business days before the billing-confirmation date" must skip the days
they are closed (workflow.md, "Credit deadline"):

- Saturdays and Sundays;
- Japanese public holidays, taken from ``jpholiday``. That library follows the
  Public Holiday Act including its derived days: substitute holidays (振替休日,
  e.g. 2019-05-06) and citizens' holidays (国民の休日, e.g. 2019-04-30 and
  2019-05-02), as well as the one-off days of 2019 (天皇の即位の日 on 1 May,
  即位礼正殿の儀 on 22 October);
- the bank holidays of 31 December, 2 and 3 January (1 January is 元日 anyway).

All dates are calendar dates in Japan. A ``datetime`` is refused rather than
silently truncated: which day it falls on depends on its timezone, so callers
convert first (``app.core.clock.today_jst``).

Speed: the closed days and the open days of a year are computed once per year
and cached, and counting and stepping use binary search over a year's sorted
open days, so a list of a million cases can compute its flags without walking
the calendar day by day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from functools import cache, lru_cache
from types import MappingProxyType

import jpholiday

BANK_HOLIDAY_NAME = "銀行休業日"
# (month, day) of the year-end and new-year days on which banks are closed by law
# (Banking Act Enforcement Order, art. 5). 1 January is also 元日, which wins.
BANK_HOLIDAYS = ((12, 31), (1, 1), (1, 2), (1, 3))

_YEARS_CACHED = 512


def _check_date(d: object) -> date:
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(
            f"a calendar date is needed, got {type(d).__name__}: convert to a JST date first"
        )
    return d


def _check_year(year: int) -> None:
    if not MINYEAR <= year <= MAXYEAR:
        raise OverflowError("business-day arithmetic left the supported range of dates")


def _public_holidays(year: int) -> list[tuple[date, str]]:
    try:
        return list(jpholiday.year_holidays(year))
    except OverflowError:
        # jpholiday looks past 31 December for substitute days; in year 9999
        # that overflows. Ask day by day instead, stopping at the last date.
        found = []
        day = date(year, 1, 1)
        while day.year == year:
            try:
                name = jpholiday.is_holiday_name(day)
            except OverflowError:
                name = None
            if name:
                found.append((day, name))
            if day == date.max:
                break
            day += timedelta(days=1)
        return found


@lru_cache(maxsize=_YEARS_CACHED)
def _closures(year: int) -> Mapping[date, str]:
    """Public and bank holidays of ``year`` (weekends are not listed), with names."""
    closed: dict[date, str] = {date(year, m, d): BANK_HOLIDAY_NAME for m, d in BANK_HOLIDAYS}
    for day, name in _public_holidays(year):
        closed[day] = name  # a public holiday's own name wins over 銀行休業日
    return MappingProxyType(closed)


@lru_cache(maxsize=_YEARS_CACHED)
def _open_ordinals(year: int) -> tuple[int, ...]:
    """Sorted proleptic ordinals of every business day of ``year``."""
    _check_year(year)
    closed = _closures(year)
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    open_days = []
    for ordinal in range(first, last + 1):
        day = date.fromordinal(ordinal)
        if day.weekday() < 5 and day not in closed:
            open_days.append(ordinal)
    return tuple(open_days)


@cache
def _open_count(year: int) -> int:
    return len(_open_ordinals(year))


def is_business_day(d: date) -> bool:
    """True when banks and card companies are open on ``d``."""
    _check_date(d)
    return d.weekday() < 5 and d not in _closures(d.year)


def holiday_name(d: date) -> str | None:
    """The Japanese name of the holiday on ``d``, e.g. '元日', '国民の休日',
    'こどもの日 振替休日', or '銀行休業日' for 31 December, 2 and 3 January.

    None on an ordinary weekday and on an ordinary Saturday or Sunday: screens
    show a name only where the reason for a closure is not obvious.
    """
    _check_date(d)
    return _closures(d.year).get(d)


def add_business_days(d: date, n: int) -> date:
    """The ``n``-th business day after ``d`` (before it when ``n`` is negative).

    ``d`` itself is never counted, open or not: one business day after Friday
    is Monday, and one business day after Saturday is Monday too. ``n == 0``
    returns ``d`` unchanged.
    """
    _check_date(d)
    if n == 0:
        return d
    ordinal = d.toordinal()
    year = d.year
    days = _open_ordinals(year)
    if n > 0:
        index = bisect_right(days, ordinal)  # first open day strictly after d
        remaining = n
        while remaining > len(days) - index:
            remaining -= len(days) - index
            year += 1
            _check_year(year)
            days, index = _open_ordinals(year), 0
        return date.fromordinal(days[index + remaining - 1])
    index = bisect_left(days, ordinal)  # open days strictly before d
    remaining = -n
    while remaining > index:
        remaining -= index
        year -= 1
        _check_year(year)
        days = _open_ordinals(year)
        index = len(days)
    return date.fromordinal(days[index - remaining])


def next_business_day(d: date) -> date:
    """``d`` if it is a business day, else the first business day after it."""
    return d if is_business_day(d) else add_business_days(d, 1)


def previous_business_day(d: date) -> date:
    """``d`` if it is a business day, else the last business day before it."""
    return d if is_business_day(d) else add_business_days(d, -1)


def _open_up_to(d: date) -> int:
    """Business days of ``d``'s year on or before ``d``."""
    return bisect_right(_open_ordinals(d.year), d.toordinal())


def business_days_between(a: date, b: date) -> int:
    """The number of business days in (a, b]: after ``a``, up to and including ``b``.

    Negative when ``b`` is before ``a`` (then it counts (b, a]), so that
    ``business_days_between(d, add_business_days(d, n)) == n`` for a business day ``d``.
    """
    _check_date(a)
    _check_date(b)
    if b < a:
        return -business_days_between(b, a)
    if a.year == b.year:
        return _open_up_to(b) - _open_up_to(a)
    count = _open_count(a.year) - _open_up_to(a)
    for year in range(a.year + 1, b.year):
        count += _open_count(year)
    return count + _open_up_to(b)
