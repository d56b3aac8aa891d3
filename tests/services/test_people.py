"""A person's page (app.services.people): from a case and from an application, the
same person's compensation cases and refund applications, with what each programme
has paid and will pay."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import NotFound
from app.domain.channels import Channel
from app.domain.roles import SYSTEM_ACTOR
from app.services import intake, people, refunds
from app.services.refunds_import import import_applications, import_balances
from tests.conftest import step_up_code
from tests.services.helpers import incident, victim
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)


@pytest.fixture
def both(ctx, clock, tmp_path):
    """C1: a debit-charge victim (30,000) and a nanaco one (5,000), a closing balance of
    12,000 of which the file says 10,000 came from the charge, applying by app and again
    by the web form."""
    clock.advance(days=200)
    debit = intake.take_phone_intake(ctx, SYSTEM_ACTOR, victim(member_id="C1"),
                                     incident(amount=30_000))
    nanaco = intake.take_phone_intake(ctx, SYSTEM_ACTOR, victim(member_id="C1"),
                                      incident(Channel.NANACO_CHARGE, amount=5_000),
                                      existing_victim_id=debit.victim.id)
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        member("C1", 12_000, 10_000, phone="090-1234-5678"), member("X1", 700)]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("A1", "C1", phone="090-1234-5678", method="払出証書"),
        application("W1", "C1", route="Web", applied="2019-11-05 09:00"),
        application("X", "X1"), application("U1", "NOBODY", phone="080-0000-0000")]))
    return debit, nanaco


def test_from_a_case_the_victim_in_both_programmes(ctx, both):
    debit, nanaco = both
    person = people.person_for_case(ctx, debit.id)
    assert (person.name, person.member_id, person.victim_id) == ("山田 太郎", "C1",
                                                                 debit.victim.id)
    assert [c.case_number for c in person.cases] == sorted([debit.case_number,
                                                            nanaco.case_number])
    assert {c.channel: (c.claimed, c.paid, c.due) for c in person.cases} == {
        "debit_charge": (30_000, 0, 30_000), "nanaco_charge": (5_000, 0, 5_000)}
    assert (person.balance, person.fraud_charge_balance) == (12_000, 10_000)
    assert [(a.application_id, a.state, a.refundable, a.due) for a in person.applications] \
        == [("A1", "confirmed", 2_000, 2_000), ("W1", "duplicate", 2_000, 0)]
    assert (person.compensation_due, person.refund_due) == (35_000, 2_000)


def test_from_an_application_the_same_person(ctx, both):
    debit, _nanaco = both
    ref = next(a.id for a in people.person_for_case(ctx, debit.id).applications
               if a.application_id == "W1")
    person = people.person_for_application(ctx, ref)
    assert person.victim_id == debit.victim.id and len(person.cases) == 2
    assert [a.application_id for a in person.applications] == ["A1", "W1"]


def test_what_each_programme_has_paid(ctx, both, staff, tmp_path):
    debit, _nanaco = both
    ref = people.person_for_case(ctx, debit.id).applications[0].id
    refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "postal.csv",
                                second_factor=step_up_code(ctx, staff["sv1"]))
    refunds.postal_issued(ctx, staff["op1"], ref, "P-0001", date(2020, 9, 1))
    refunds.postal_cashed(ctx, staff["op1"], ref)
    person = people.person_for_application(ctx, ref)
    assert [(a.state, a.paid, a.due) for a in person.applications] == [
        ("paid", 2_000, 0), ("duplicate", 0, 0)]
    assert (person.refund_paid, person.refund_due) == (2_000, 0)


def test_a_member_who_is_no_victim_and_an_unmatched_applicant(ctx, both):
    _debit, _nanaco = both
    views = {v.application_id: v for v in refunds.work_list(ctx, "unmatched")}
    lone = people.person_for_application(ctx, views["U1"].id)
    assert lone.cases == () and lone.balance is None and lone.member_id == "NOBODY"
    assert [(a.application_id, a.refundable, a.due) for a in lone.applications] == [
        ("U1", None, 0)]
    with pytest.raises(NotFound):
        people.person_for_case(ctx, 999_999)
    with pytest.raises(NotFound):
        people.person_for_application(ctx, 999_999)
