"""Deadline flags: the credit deadline of workflow.md and the dashboard's two
softer deadlines, on dates around the 2019 holidays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.deadlines import (
    CREDIT_DEADLINE_STATUSES,
    DeadlineFlag,
    credit_due_from,
    credit_due_horizon,
    credit_flag,
    payment_late,
    payment_late_cutoff,
    reminder_cutoff,
    reminder_due,
)
from app.domain.settings import Settings
from app.domain.states import Status

D = date
K = Settings().credit_due_business_days  # 3 business days by default
NONE, DUE, OVERDUE = DeadlineFlag.NONE, DeadlineFlag.DUE, DeadlineFlag.OVERDUE

NOT_YET_REQUESTED = [
    Status.RECEIVED,
    Status.CONTACTED,
    Status.DOCUMENTS_RECEIVED,
    Status.VERIFIED,
    Status.APPROVED,
    Status.ON_HOLD,
    Status.UNREACHABLE,
]
NEVER_FLAGGED = [
    Status.PAYOUT_REQUESTED,
    Status.PAID,
    Status.CLOSED,
    Status.REJECTED,
    Status.MERGED,
]

# Tuesday 13 August 2019 comes after a closed Saturday, 山の日 on Sunday 11 August
# and its substitute holiday on Monday 12 August.
BILLING_AFTER_OBON = D(2019, 8, 13)


def test_default_setting_is_three_business_days():
    assert K == 3


def test_status_lists_cover_every_state():
    assert set(NOT_YET_REQUESTED) | set(NEVER_FLAGGED) == set(Status)
    assert frozenset(NOT_YET_REQUESTED) == CREDIT_DEADLINE_STATUSES


@pytest.mark.parametrize(
    ("today", "flag"),
    [
        (D(2019, 8, 5), NONE),
        (D(2019, 8, 6), NONE),  # four business days before: not yet
        (D(2019, 8, 7), DUE),  # Wed: 8, 9 and 13 August are the three days left
        (D(2019, 8, 9), DUE),
        (D(2019, 8, 10), DUE),  # Saturday of the holiday weekend
        (D(2019, 8, 12), DUE),  # the substitute holiday
        (D(2019, 8, 13), DUE),  # the billing date itself: still in time
        (D(2019, 8, 14), OVERDUE),
        (D(2019, 9, 30), OVERDUE),
    ],
)
def test_credit_flag_around_a_holiday_weekend(today, flag):
    assert credit_due_from(BILLING_AFTER_OBON, K) == D(2019, 8, 7)
    assert credit_flag(Status.VERIFIED, BILLING_AFTER_OBON, today, K) is flag


def test_credit_flag_after_golden_week():
    billing = D(2019, 5, 7)  # the first business day after ten closed days
    assert credit_due_from(billing, K) == D(2019, 4, 24)
    assert credit_flag(Status.RECEIVED, billing, D(2019, 4, 23), K) is NONE
    assert credit_flag(Status.RECEIVED, billing, D(2019, 4, 24), K) is DUE
    assert credit_flag(Status.RECEIVED, billing, D(2019, 5, 3), K) is DUE
    assert credit_flag(Status.RECEIVED, billing, D(2019, 5, 8), K) is OVERDUE


def test_billing_date_on_a_closed_day():
    billing = D(2019, 9, 16)  # 敬老の日, a Monday
    assert credit_due_from(billing, K) == D(2019, 9, 11)
    assert credit_flag(Status.CONTACTED, billing, D(2019, 9, 10), K) is NONE
    assert credit_flag(Status.CONTACTED, billing, D(2019, 9, 11), K) is DUE
    assert credit_flag(Status.CONTACTED, billing, D(2019, 9, 16), K) is DUE
    assert credit_flag(Status.CONTACTED, billing, D(2019, 9, 17), K) is OVERDUE


def test_zero_business_days_is_due_only_on_the_day():
    assert credit_due_from(BILLING_AFTER_OBON, 0) == BILLING_AFTER_OBON
    assert credit_flag(Status.APPROVED, BILLING_AFTER_OBON, D(2019, 8, 12), 0) is NONE
    assert credit_flag(Status.APPROVED, BILLING_AFTER_OBON, D(2019, 8, 13), 0) is DUE
    assert credit_flag(Status.APPROVED, BILLING_AFTER_OBON, D(2019, 8, 14), 0) is OVERDUE


@pytest.mark.parametrize("status", NOT_YET_REQUESTED)
def test_every_state_before_the_request_is_flagged(status):
    assert credit_flag(status, BILLING_AFTER_OBON, D(2019, 8, 9), K) is DUE
    assert credit_flag(status, BILLING_AFTER_OBON, D(2019, 8, 20), K) is OVERDUE


@pytest.mark.parametrize("status", NEVER_FLAGGED)
@pytest.mark.parametrize("today", [D(2019, 8, 9), D(2019, 8, 13), D(2019, 8, 20)])
def test_requested_paid_or_finished_cases_are_never_flagged(status, today):
    assert credit_flag(status, BILLING_AFTER_OBON, today, K) is NONE


@pytest.mark.parametrize("status", NOT_YET_REQUESTED)
def test_no_billing_date_is_no_flag(status):
    assert credit_flag(status, None, D(2019, 8, 20), K) is NONE


def test_status_given_as_stored_text():
    # Rows read from the database may carry the plain string.
    assert credit_flag("verified", BILLING_AFTER_OBON, D(2019, 8, 9), K) is DUE
    assert credit_flag("paid", BILLING_AFTER_OBON, D(2019, 8, 20), K) is NONE


def test_bad_setting_is_refused():
    with pytest.raises(ValueError):
        credit_due_from(BILLING_AFTER_OBON, -1)
    with pytest.raises(TypeError):
        credit_due_from(BILLING_AFTER_OBON, True)
    with pytest.raises(ValueError):
        reminder_due(D(2019, 8, 1), D(2019, 8, 20), -1)
    with pytest.raises(ValueError):
        payment_late(D(2019, 8, 1), D(2019, 8, 20), -1)


def test_flag_labels():
    assert DUE.label_ja == "期限間近"
    assert OVERDUE.label_ja == "期限超過"
    assert NONE.label_ja == ""
    assert str(DUE) == "due"


def test_credit_due_horizon():
    # On Wednesday 7 August, billing dates up to Tuesday 13 August are due.
    assert credit_due_horizon(D(2019, 8, 7), K) == D(2019, 8, 13)
    assert credit_due_horizon(D(2019, 4, 24), K) == D(2019, 5, 7)


def test_reminder_due_counts_calendar_days():
    contacted = D(2019, 8, 19)
    assert not reminder_due(contacted, D(2019, 9, 2), 14)  # exactly 14 days
    assert reminder_due(contacted, D(2019, 9, 3), 14)  # more than 14
    assert not reminder_due(contacted, D(2019, 8, 10), 14)  # clock before contact
    assert reminder_cutoff(D(2019, 9, 3), 14) == contacted


def test_payment_late_counts_business_days():
    approved = D(2019, 4, 26)  # Friday before Golden Week
    assert not payment_late(approved, D(2019, 5, 6), 2)  # nothing open since
    assert not payment_late(approved, D(2019, 5, 8), 2)  # 7 and 8 May: two days
    assert payment_late(approved, D(2019, 5, 9), 2)
    # Approved any day from 26 April to 6 May, the payout is late on 9 May.
    assert payment_late_cutoff(D(2019, 5, 9), 2) == D(2019, 5, 6)
    assert payment_late_cutoff(D(2019, 5, 8), 2) == D(2019, 4, 25)


# ---------------------------------------------------------------- properties

quick = settings(deadline=None)  # jpholiday is slow the first time it sees a year
dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2060, 12, 31))
counts = st.integers(min_value=0, max_value=30)
open_statuses = st.sampled_from(NOT_YET_REQUESTED)


@quick
@given(dates, dates, counts)
def test_due_from_and_horizon_agree(billing, today, k):
    assert (credit_due_from(billing, k) <= today) == (billing <= credit_due_horizon(today, k))


@quick
@given(open_statuses, dates, dates, counts)
def test_credit_flag_matches_its_query_form(status, billing, today, k):
    if billing < today:
        expected = OVERDUE
    elif billing <= credit_due_horizon(today, k):
        expected = DUE
    else:
        expected = NONE
    assert credit_flag(status, billing, today, k) is expected


@quick
@given(open_statuses, dates, st.integers(min_value=0, max_value=200), counts)
def test_credit_flag_only_moves_forward(status, billing, start, k):
    order = [NONE, DUE, OVERDUE]
    base = billing - timedelta(days=100)
    flags = [credit_flag(status, billing, base + timedelta(days=i), k) for i in range(start)]
    ranks = [order.index(f) for f in flags]
    assert ranks == sorted(ranks)


@quick
@given(dates, dates, counts)
def test_more_days_flag_earlier(billing, today, k):
    if credit_flag(Status.RECEIVED, billing, today, k) is DUE:
        assert credit_flag(Status.RECEIVED, billing, today, k + 1) is DUE


@quick
@given(dates, dates, st.integers(min_value=0, max_value=60))
def test_reminder_matches_its_cutoff(contacted, today, days):
    assert reminder_due(contacted, today, days) == (contacted <= reminder_cutoff(today, days))


@quick
@given(dates, dates, counts)
def test_payment_late_matches_its_cutoff(approved, today, n):
    assert payment_late(approved, today, n) == (approved <= payment_late_cutoff(today, n))
