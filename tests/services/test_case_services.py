"""The use cases end to end on a real database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.core.errors import ConflictError, MoveNotAllowed, PermissionDenied, ValidationError
from app.domain.channels import Channel
from app.domain.states import Status
from app.services import cases, intake, outreach
from app.services.cases import MoveRequest
from app.services.payout_details import Confirmation, ConfirmedVia, set_payout_details
from app.storage.models import AuditEvent, Case, Payment
from tests.conftest import approval, database_refuses, step_up_code
from tests.services.helpers import (
    BANK,
    NANACO,
    OTHER_BANK,
    incident,
    pay_by_transfer,
    release_by_transfer,
    victim,
)


def count(ctx, model) -> int:
    with ctx.db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def audit_actions(ctx, case_id) -> list[str]:
    with ctx.db.read() as session:
        rows = session.execute(select(AuditEvent.action).where(AuditEvent.case_id == case_id)
                               .order_by(AuditEvent.id))
        return [r[0] for r in rows]


def open_debit(ctx, staff, **kw):
    return intake.take_phone_intake(ctx, staff["op1"], victim(**kw), incident())


def to_verified(ctx, staff, case_id, amount=30_000, verifier="op1"):
    cases.move_case(ctx, staff["op1"], case_id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], case_id, BANK)
    cases.move_case(ctx, staff["op1"], case_id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    return cases.move_case(ctx, staff[verifier], case_id,
                           MoveRequest(Status.VERIFIED, verified_amount=amount))


def test_phone_intake_opens_case_with_number_and_claim(ctx, staff):
    case = open_debit(ctx, staff)
    assert case.case_number == "H-0000001-8"
    assert case.status is Status.RECEIVED
    assert case.claimed_amount == 30_000
    assert audit_actions(ctx, case.id) == ["case.open", "incident.add"]


def test_second_incident_joins_the_case_and_claim_is_the_sum(ctx, staff):
    first = open_debit(ctx, staff)
    again = intake.take_phone_intake(ctx, staff["op1"], victim(), incident(amount=12_345),
                                     existing_victim_id=first.victim.id)
    assert again.id == first.id
    assert again.claimed_amount == 42_345
    other = intake.take_phone_intake(ctx, staff["op1"], victim(), incident(Channel.NANACO_CHARGE),
                                     existing_victim_id=first.victim.id)
    assert other.id != first.id and other.channel is Channel.NANACO_CHARGE


def test_intake_refuses_amount_above_ceiling_and_writes_nothing(ctx, staff):
    with pytest.raises(ValidationError, match="ceiling"):
        intake.take_phone_intake(ctx, staff["op1"], victim(), incident(amount=1_000_001))
    assert count(ctx, Case) == 0


def test_full_path_to_paid_with_four_eyes(ctx, staff, tmp_path):
    case = open_debit(ctx, staff)
    verified = to_verified(ctx, staff, case.id)
    assert verified.verified_amount == 30_000 and verified.verified_by == staff["op1"].operator_id
    approved = cases.move_case(ctx, staff["sv1"], case.id, approval(ctx, staff, "sv1"))
    assert approved.approved_amount == 30_000
    pay_by_transfer(ctx, staff, tmp_path / "furikomi.txt")  # the one path money takes
    paid = cases.get_case(ctx, staff["op2"], case.id)
    assert paid.status is Status.PAID and paid.paid_amount == paid.approved_amount == 30_000
    closed = cases.move_case(ctx, staff["op2"], case.id, MoveRequest(Status.CLOSED))
    assert closed.status is Status.CLOSED
    assert "case.approve" in audit_actions(ctx, case.id)


def test_supervisor_who_verified_cannot_approve(ctx, staff):
    case = open_debit(ctx, staff)
    to_verified(ctx, staff, case.id, verifier="sv1")
    with pytest.raises(PermissionDenied):
        cases.move_case(ctx, staff["sv1"], case.id, approval(ctx, staff, "sv1"))
    assert cases.move_case(ctx, staff["sv2"], case.id, approval(ctx, staff, "sv2")).status \
        is Status.APPROVED


@pytest.mark.parametrize("who", ["op1", "admin1"])
def test_only_supervisors_approve_reject_reopen(ctx, staff, who):
    case = open_debit(ctx, staff)
    with pytest.raises(PermissionDenied):
        cases.move_case(ctx, staff[who], case.id, MoveRequest(Status.REJECTED, reason="重複"))
    cases.move_case(ctx, staff["sv1"], case.id, MoveRequest(
        Status.REJECTED, reason="重複", second_factor=step_up_code(ctx, staff["sv1"])))
    with pytest.raises(PermissionDenied):
        cases.move_case(ctx, staff[who], case.id, MoveRequest(Status.RECEIVED, reason="再申請"))
    reopened = cases.move_case(ctx, staff["sv2"], case.id,
                               MoveRequest(Status.RECEIVED, reason="再申請"))
    assert reopened.status is Status.RECEIVED


def test_amount_override_needs_supervisor_and_reason(ctx, staff):
    case = open_debit(ctx, staff)
    with pytest.raises(PermissionDenied):
        to_verified(ctx, staff, case.id, amount=30_001)
    with pytest.raises(MoveNotAllowed):
        cases.move_case(ctx, staff["sv1"], case.id,
                        MoveRequest(Status.VERIFIED, verified_amount=30_001))
    done = cases.move_case(ctx, staff["sv1"], case.id,
                           MoveRequest(Status.VERIFIED, verified_amount=30_001,
                                       reason="手数料分を加算",
                                       second_factor=step_up_code(ctx, staff["sv1"])))
    assert done.verified_amount == 30_001


def test_failing_move_leaves_neither_change_nor_audit(ctx, staff):
    case = open_debit(ctx, staff)
    events_before = count(ctx, AuditEvent)
    with pytest.raises(MoveNotAllowed):
        cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.PAID))
    assert count(ctx, AuditEvent) == events_before
    assert cases.get_case(ctx, staff["op1"], case.id).status is Status.RECEIVED


def test_move_and_its_audit_roll_back_together(ctx, staff, monkeypatch):
    """A crash after the change but before commit leaves no trace of either."""
    case = open_debit(ctx, staff)
    events_before = count(ctx, AuditEvent)

    def explode(*args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(cases, "case_view", explode)
    with pytest.raises(RuntimeError):
        cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    monkeypatch.undo()
    assert count(ctx, AuditEvent) == events_before
    assert cases.get_case(ctx, staff["op1"], case.id).status is Status.RECEIVED


def test_audit_event_records_who_what_before_after(ctx, staff):
    case = open_debit(ctx, staff)
    cases.move_case(ctx, staff["op2"], case.id, MoveRequest(Status.ON_HOLD, reason="本人不在"))
    with ctx.db.read() as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "case.hold")
                                ).scalar_one()
    assert event.actor_login == "op2" and event.reason == "本人不在"
    assert json.loads(event.before)["status"] == "received"
    assert json.loads(event.after)["status"] == "on_hold"
    assert event.at.tzinfo is not None


def test_hold_and_resume_in_the_state_it_left(ctx, staff):
    case = open_debit(ctx, staff)
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    held = cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.ON_HOLD, reason="x"))
    assert held.held_from is Status.CONTACTED
    with pytest.raises(MoveNotAllowed):
        cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.RECEIVED))
    back = cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    assert back.status is Status.CONTACTED and back.held_from is None


def test_outreach_channel_not_contacted_before_start(ctx, staff, clock):
    clock.current = clock.current.replace(month=8, day=18)
    case = intake.take_phone_intake(ctx, staff["op1"], victim(),
                                    incident(Channel.NANACO_CHARGE))
    with pytest.raises(MoveNotAllowed, match="2019-08-19"):
        cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    attempt = outreach.AttemptInput(outreach.Method.PHONE, outreach.Outcome.REACHED)
    assert outreach.record_attempt(ctx, staff["op1"], case.id, attempt).status is Status.RECEIVED
    clock.advance(days=1)
    assert outreach.record_attempt(ctx, staff["op1"], case.id, attempt).status is Status.CONTACTED


def test_payment_once_by_database_constraint(ctx, staff, tmp_path):
    case = open_debit(ctx, staff)
    to_verified(ctx, staff, case.id)
    cases.move_case(ctx, staff["sv1"], case.id, approval(ctx, staff, "sv1"))
    pay_by_transfer(ctx, staff, tmp_path / "furikomi.txt")

    from app.storage.models import Payment as PaymentRow
    with database_refuses(), ctx.db.write() as session:
        session.add(PaymentRow(case_id=case.id, amount=1, method="bank_account",
                               paid_at=ctx.clock.now()))
    assert count(ctx, Payment) == 1


def test_stale_version_is_refused(ctx, staff):
    case = open_debit(ctx, staff)
    cases.move_case(ctx, staff["op2"], case.id, MoveRequest(Status.CONTACTED,
                                                           expected_version=case.version))
    with pytest.raises(ConflictError):
        cases.move_case(ctx, staff["op1"], case.id,
                        MoveRequest(Status.ON_HOLD, reason="x", expected_version=case.version))


def test_payout_change_after_verification_sends_case_back(ctx, staff):
    case = open_debit(ctx, staff)
    to_verified(ctx, staff, case.id)
    cases.move_case(ctx, staff["sv1"], case.id, approval(ctx, staff, "sv1"))
    with pytest.raises(MoveNotAllowed, match="contact on record"):
        set_payout_details(ctx, staff["op1"], case.id, OTHER_BANK)
    changed = set_payout_details(ctx, staff["op1"], case.id, OTHER_BANK,
                                 confirmation=Confirmation(ConfirmedVia.PHONE_ON_RECORD))
    assert changed.status is Status.DOCUMENTS_RECEIVED
    assert changed.verified_amount is None and changed.approved_amount is None
    assert "case.payout_changed" in audit_actions(ctx, case.id)  # the workflow's own move


def test_payout_change_cannot_be_confirmed_through_new_contact(ctx, staff):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(email=None), incident())
    set_payout_details(ctx, staff["op1"], case.id, BANK)
    with pytest.raises(MoveNotAllowed, match="not on record"):
        set_payout_details(ctx, staff["op1"], case.id, OTHER_BANK,
                           confirmation=Confirmation(ConfirmedVia.EMAIL_ON_RECORD))


def test_first_payout_details_need_no_confirmation_and_wrong_kind_refused(ctx, staff):
    case = open_debit(ctx, staff)
    with pytest.raises(ValidationError):
        set_payout_details(ctx, staff["op1"], case.id, NANACO)
    assert set_payout_details(ctx, staff["op1"], case.id, BANK).payout.account_number == "1234567"


def test_payout_locked_once_payout_requested(ctx, staff):
    case = open_debit(ctx, staff)
    to_verified(ctx, staff, case.id)
    cases.move_case(ctx, staff["sv1"], case.id, approval(ctx, staff, "sv1"))
    release_by_transfer(ctx, staff)
    with pytest.raises(MoveNotAllowed):
        set_payout_details(ctx, staff["op1"], case.id, OTHER_BANK,
                           confirmation=Confirmation(ConfirmedVia.PHONE_ON_RECORD))


def test_merge_moves_incidents_and_recomputes_claims(ctx, staff):
    a = open_debit(ctx, staff)
    b = intake.take_phone_intake(ctx, staff["op1"], victim(name="山田 太朗", phone="03-1111-2222"),
                                 incident(amount=5_000))
    merged = cases.move_case(ctx, staff["op1"], b.id,
                             MoveRequest(Status.MERGED, reason="同一人物", merge_into=a.id))
    assert merged.status is Status.MERGED and merged.claimed_amount == 0
    survivor = cases.get_case(ctx, staff["op1"], a.id)
    assert survivor.claimed_amount == 35_000 and len(survivor.incidents) == 2


def test_inactive_or_unknown_actor_refused(ctx, staff):
    from app.domain.roles import Actor, Role

    case = open_debit(ctx, staff)
    forged = Actor(operator_id=staff["op1"].operator_id, login="op1", role=Role.SUPERVISOR)
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    with pytest.raises(PermissionDenied):
        cases.move_case(ctx, forged, case.id, MoveRequest(Status.REJECTED, reason="x"))
    with pytest.raises(PermissionDenied):
        cases.move_case(ctx, Actor(9999, "ghost", Role.SUPERVISOR), case.id,
                        MoveRequest(Status.REJECTED, reason="x"))
