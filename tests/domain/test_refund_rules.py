"""The spec's state table, checked in its order, and the refundable amount."""

from datetime import date, datetime

import pytest

from app.core.clock import JST
from app.domain.refunds import (
    Applicant,
    Member,
    Overlap,
    RefundState,
    Route,
    decide,
    parse_method,
    parse_route,
    refundable_amount,
)

DEADLINE = date(2020, 1, 10)


def member(**changes) -> Member:
    base = dict(balance=5000, fraud_charge_balance=None, name_kana="ヤマダ タロウ",
                phone="090-1111-2222", email="taro@example.jp", birth_date=date(1980, 1, 2),
                closed_on=None, overlapping_victim=False)
    return Member(**(base | changes))


def applicant(**changes) -> Applicant:
    base = dict(route=Route.APP, applied_at=datetime(2019, 11, 1, 10, 0, tzinfo=JST),
                name_kana="やまだたろう", phone="09011112222", email=None,
                birth_date=date(1980, 1, 2))
    return Applicant(**(base | changes))


def state(m, a, earlier=False) -> RefundState:
    return decide(m, a, earlier_standing=earlier, deadline=DEADLINE).state


def test_app_application_matching_the_record_is_confirmed():
    assert state(member(), applicant()) is RefundState.CONFIRMED


@pytest.mark.parametrize("changes", [dict(route=Route.WEB), dict(route=Route.PHONE),
                                     dict(name_kana="ヤマダ ハナコ"),
                                     dict(phone="080-0000-0000"),
                                     dict(birth_date=date(1981, 1, 2))])
def test_anything_else_awaits_identity(changes):
    assert state(member(), applicant(**changes)) is RefundState.AWAITING_IDENTITY


def test_email_alone_may_match():
    assert state(member(), applicant(phone=None, email="TARO@example.jp")) is \
        RefundState.CONFIRMED


def test_order_duplicate_first_then_unmatched():
    assert state(member(closed_on=date(2019, 8, 1)), applicant(), True) is RefundState.DUPLICATE
    assert state(None, applicant()) is RefundState.UNMATCHED


def test_closed_on_or_before_service_end_is_refused():
    assert state(member(closed_on=date(2019, 9, 30)), applicant()) is RefundState.REFUSED_CLOSED
    assert state(member(closed_on=date(2019, 10, 1)), applicant()) is RefundState.CONFIRMED


def test_zero_balance_is_refused():
    assert state(member(balance=0), applicant()) is RefundState.REFUSED_NO_BALANCE


def test_deadline_is_the_end_of_the_day_japan_time():
    last = datetime(2020, 1, 10, 23, 59, 59, tzinfo=JST)
    assert state(member(), applicant(applied_at=last)) is RefundState.CONFIRMED
    assert state(member(), applicant(applied_at=datetime(2020, 1, 11, tzinfo=JST))) is \
        RefundState.LATE


def test_overlap_waits_only_when_the_file_does_not_say_the_fraud_part():
    assert state(member(overlapping_victim=True), applicant()) is RefundState.HELD_OVERLAP
    assert state(member(overlapping_victim=True, fraud_charge_balance=0), applicant()) is \
        RefundState.CONFIRMED


def test_refundable_amount_is_balance_less_fraud_part():
    assert refundable_amount(10_000, 10_000) == 0
    assert refundable_amount(10_000, None) == 10_000
    assert refundable_amount(10_000, 4_000) == 6_000


def test_spec_example_allows_thirty_thousand_in_all():
    """Charged 30,000, spent 20,000, 10,000 left: compensation cancels 30,000, so a
    refund of the 10,000 too would pay it twice."""
    twice = Overlap(charges=30_000, losses=30_000, balance=10_000, fraud_charge_balance=None,
                    compensation=30_000, refund=10_000)
    assert twice.allowed == 30_000 and twice.excess == 10_000
    once = Overlap(charges=30_000, losses=30_000, balance=10_000, fraud_charge_balance=10_000,
                   compensation=30_000, refund=0)
    assert once.excess == 0


def test_route_and_method_words():
    assert parse_route("アプリ") is Route.APP and parse_route("フォーム") is Route.WEB
    assert parse_route("Web") is Route.WEB and parse_route("電話") is Route.PHONE
    assert parse_method("口座振込").value == "bank_transfer"
    assert parse_method("払出証書").value == "postal_order"
    with pytest.raises(ValueError):
        parse_route("fax")
