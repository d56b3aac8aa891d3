"""Business days across Golden Week 2019 (27 April – 6 May, ten days closed) and the
New Year bank holidays, as the deadlines count them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.calendar import add_business_days, business_days_between, is_business_day
from app.domain.deadlines import (
    DeadlineFlag,
    credit_due_from,
    credit_flag,
    payment_late,
    payment_late_cutoff,
)
from app.domain.states import Status

GOLDEN_WEEK = [date(2019, 4, 27) + timedelta(days=i) for i in range(10)]


def test_golden_week_2019_is_ten_closed_days():
    assert GOLDEN_WEEK[-1] == date(2019, 5, 6)
    assert not any(is_business_day(d) for d in GOLDEN_WEEK)
    assert is_business_day(date(2019, 4, 26)) and is_business_day(date(2019, 5, 7))


def test_one_business_day_after_the_friday_before_golden_week_is_the_tuesday_after():
    assert add_business_days(date(2019, 4, 26), 1) == date(2019, 5, 7)
    assert add_business_days(date(2019, 5, 7), -1) == date(2019, 4, 26)
    assert business_days_between(date(2019, 4, 26), date(2019, 5, 7)) == 1


def test_new_year_bank_holidays():
    closed = [date(2019, 12, 31), date(2020, 1, 1), date(2020, 1, 2), date(2020, 1, 3)]
    assert not any(is_business_day(d) for d in closed)
    # Monday 30 Dec 2019 is open; next open day is Monday 6 Jan 2020 (4th/5th weekend).
    assert add_business_days(date(2019, 12, 30), 1) == date(2020, 1, 6)
    assert business_days_between(date(2019, 12, 27), date(2020, 1, 6)) == 2


def test_credit_deadline_counted_back_across_golden_week():
    # Billing confirmation on Tuesday 7 May: three business days before is 24 April.
    assert credit_due_from(date(2019, 5, 7), 3) == date(2019, 4, 24)
    assert credit_flag(Status.APPROVED, date(2019, 5, 7), date(2019, 4, 23), 3) is (
        DeadlineFlag.NONE)
    assert credit_flag(Status.APPROVED, date(2019, 5, 7), date(2019, 5, 1), 3) is (
        DeadlineFlag.DUE)
    assert credit_flag(Status.APPROVED, date(2019, 5, 7), date(2019, 5, 8), 3) is (
        DeadlineFlag.OVERDUE)
    assert credit_flag(Status.PAYOUT_REQUESTED, date(2019, 5, 7), date(2019, 5, 8), 3) is (
        DeadlineFlag.NONE)


@pytest.mark.parametrize("approved, today, late", [
    (date(2019, 4, 26), date(2019, 5, 7), False),  # one business day across the holidays
    (date(2019, 4, 22), date(2019, 5, 7), True),  # 23-26 Apr and 7 May: five
    (date(2019, 12, 27), date(2020, 1, 6), False),
    (date(2019, 12, 20), date(2020, 1, 8), True),
])
def test_payment_late_across_holidays(approved, today, late):
    assert payment_late(approved, today, 4) is late
    assert (approved <= payment_late_cutoff(today, 4)) is late
