"""Deadlines that flag a case wherever it is listed.

The one the programme promised (workflow.md, "Credit deadline"): a credit card
charge is made whole by asking the card company to cancel it, and that only
works **before** the company fixes the statement on its billing-confirmation
date. Past that date the victim is billed and has to be refunded by bank
transfer instead, so a credit case is flagged DUE in the last business days
before the date, and OVERDUE once the date has passed.

Two softer deadlines feed the dashboard: a victim who was given the guidance
but has not sent documents gets a reminder, and an approved payout that has not
been started is late.

Every rule comes in two forms: a per-case predicate for code that holds one case,
and a date that a query can compare a column with, so that counting a million
cases is one indexed comparison instead of a calendar computation per row.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from app.domain.calendar import add_business_days, business_days_between, previous_business_day
from app.domain.states import Status


class DeadlineFlag(StrEnum):
    NONE = "none"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label_ja(self) -> str:
        return _LABELS_JA[self]


_LABELS_JA = {
    DeadlineFlag.NONE: "",
    DeadlineFlag.DUE: "期限間近",
    DeadlineFlag.OVERDUE: "期限超過",
}

# Cancellation not yet requested: every state before payout_requested, including
# a case parked on hold (it can only be parked up to approved) or unreachable.
# Rejected and merged cases will never be cancelled by us, so they are not flagged.
CREDIT_DEADLINE_STATUSES = frozenset(
    {
        Status.RECEIVED,
        Status.CONTACTED,
        Status.DOCUMENTS_RECEIVED,
        Status.VERIFIED,
        Status.APPROVED,
        Status.ON_HOLD,
        Status.UNREACHABLE,
    }
)


def _check_count(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
    return value


@lru_cache(maxsize=8192, typed=True)
def credit_due_from(billing_date: date, due_business_days: int) -> date:
    """The first day a credit case with this billing-confirmation date is DUE.

    That is ``due_business_days`` business days before the billing date: with 3,
    a billing date of Tuesday 7 May 2019 (after Golden Week) is due from
    Wednesday 24 April. With 0 the case is due on the billing date itself.
    Cached: a list holds many cases with the same few billing dates.
    """
    _check_count(due_business_days, "due_business_days")
    return add_business_days(billing_date, -due_business_days)


def credit_due_horizon(today: date, due_business_days: int) -> date:
    """The latest billing-confirmation date that is due (or overdue) on ``today``.

    The query form of ``credit_due_from``: ``credit_due_from(b, k) <= today``
    exactly when ``b <= credit_due_horizon(today, k)``. A listing can therefore
    flag ``billing_confirmation_date < today`` as OVERDUE and
    ``today <= billing_confirmation_date <= horizon`` as DUE, computing one date
    per query; nothing has to be stored per case, so a change of the setting or
    of the holiday table takes effect at once.
    """
    _check_count(due_business_days, "due_business_days")
    return add_business_days(today, due_business_days)


def credit_flag(
    status: Status,
    billing_confirmation_date: date | None,
    today: date,
    due_business_days: int,
) -> DeadlineFlag:
    """DUE or OVERDUE for a credit_charge case whose cancellation is not yet requested.

    OVERDUE strictly after the billing-confirmation date (the cancellation can
    still reach the card company on the day itself), DUE from
    ``credit_due_from`` up to that date, NONE otherwise. A case with no billing
    date yet, or one already at payout_requested or later (or rejected or
    merged), is never flagged. The caller passes only credit_charge cases still
    paid by card cancellation: one switched to a bank transfer has no card
    deadline left (pass None as its date).
    """
    if billing_confirmation_date is None or status not in CREDIT_DEADLINE_STATUSES:
        return DeadlineFlag.NONE
    if today > billing_confirmation_date:
        return DeadlineFlag.OVERDUE
    if today >= credit_due_from(billing_confirmation_date, due_business_days):
        return DeadlineFlag.DUE
    return DeadlineFlag.NONE


def reminder_due(contacted_on: date, today: date, days: int) -> bool:
    """A case in contacted for more than ``days`` calendar days needs a reminder.

    Calendar days, not business days: the victim is waiting at home, the post
    runs on Saturdays, and "we wrote to you two weeks ago" is how a reminder
    letter counts.
    """
    _check_count(days, "days")
    return (today - contacted_on).days > days


def reminder_cutoff(today: date, days: int) -> date:
    """The latest ``contacted_on`` for which a reminder is due on ``today``.

    The query form of ``reminder_due``: ``reminder_due(c, today, days)`` exactly
    when ``c <= reminder_cutoff(today, days)``.
    """
    _check_count(days, "days")
    return today - timedelta(days=days + 1)


def payment_late(approved_on: date, today: date, business_days: int) -> bool:
    """An approved case not yet paid is late after more than ``business_days``
    business days since approval.

    Business days, because starting a payout (a cancellation request, a transfer
    batch, a nanaco reinstatement) is work done on days the counterparties are
    open: approval on a Friday before Golden Week must not look late on the
    Tuesday after it.
    """
    _check_count(business_days, "business_days")
    return business_days_between(approved_on, today) > business_days


def payment_late_cutoff(today: date, business_days: int) -> date:
    """The latest ``approved_on`` for which payment is late on ``today``.

    The query form of ``payment_late``: ``payment_late(a, today, n)`` exactly
    when ``a <= payment_late_cutoff(today, n)``.
    """
    _check_count(business_days, "business_days")
    last_open = previous_business_day(today)
    return add_business_days(last_open, -business_days) - timedelta(days=1)
