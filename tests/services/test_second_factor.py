"""The second factor: TOTP at sign-in and step-up, replay refusal, recovery codes."""

from __future__ import annotations

from dataclasses import replace

import pyotp
import pytest
from sqlalchemy import select

from app.core.errors import PermissionDenied
from app.domain.roles import SYSTEM_ACTOR, Role
from app.domain.states import Status
from app.services import cases, operators, second_factor
from app.services.cases import MoveRequest
from app.services.payout_details import set_payout_details
from app.services.second_factor import SecondFactorRefused, StepUpRequired
from app.storage.models import AuditEvent, Operator, RecoveryCode
from tests.conftest import PASSWORD, step_up_code
from tests.services.helpers import BANK


def secret_of(ctx, actor) -> str:
    with ctx.db.read() as session:
        return session.get(Operator, actor.operator_id).totp_secret


def audit_actions(ctx) -> list[str]:
    with ctx.db.read() as session:
        return [r[0] for r in session.execute(select(AuditEvent.action)
                                              .order_by(AuditEvent.id))]


def new_supervisor(ctx, clock):
    view = operators.add_operator(ctx, SYSTEM_ACTOR, "chief", "Chief", Role.SUPERVISOR,
                                  "lanterns over the river")
    actor = view.as_actor()
    enrolment = second_factor.begin_enrolment(ctx, actor)
    assert enrolment.uri.startswith("otpauth://totp/") and "chief" in enrolment.uri
    clock.advance(minutes=-5)
    codes = second_factor.confirm_enrolment(ctx, actor,
                                            pyotp.TOTP(enrolment.secret).at(clock.now()))
    clock.advance(minutes=5)
    return actor, enrolment.secret, codes


def verified_case(ctx, staff):
    from tests.services.test_case_services import open_debit, to_verified

    case = open_debit(ctx, staff)
    to_verified(ctx, staff, case.id)
    return case


def test_supervisor_password_alone_is_not_a_sign_in(ctx, staff):
    view = operators.authenticate(ctx, "sv1", PASSWORD)
    assert view.totp_required and view.totp_enrolled
    assert audit_actions(ctx)[-1] == "operator.password_accepted"
    # Operators too (issue #13): the password alone signs no one in.
    operator = operators.authenticate(ctx, "op1", PASSWORD)
    assert operator.totp_required and operator.totp_enrolled
    assert audit_actions(ctx)[-1] == "operator.password_accepted"


def test_wrong_code_refused_right_one_accepted_and_never_again(ctx, staff, clock):
    sv1 = staff["sv1"]
    totp = pyotp.TOTP(secret_of(ctx, sv1))
    right = totp.at(clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(SecondFactorRefused):
        second_factor.verify_sign_in(ctx, sv1.operator_id, wrong)
    assert second_factor.verify_sign_in(ctx, sv1.operator_id, right).login == "sv1"
    with pytest.raises(SecondFactorRefused, match="already used"):
        second_factor.verify_sign_in(ctx, sv1.operator_id, right)
    clock.advance(seconds=30)
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in totp.at(clock.now()))
    assert second_factor.verify_sign_in(ctx, sv1.operator_id, full_width).login == "sv1"
    assert "operator.second_factor_failed" in audit_actions(ctx)


def test_wrong_codes_lock_like_wrong_passwords(ctx, staff, clock):
    sv1 = staff["sv1"]
    for _ in range(5):
        with pytest.raises(SecondFactorRefused):
            second_factor.verify_sign_in(ctx, sv1.operator_id, "000000")
    with pytest.raises(SecondFactorRefused):  # locked: even the right code
        second_factor.verify_sign_in(ctx, sv1.operator_id, step_up_code(ctx, sv1))
    assert "operator.locked" in audit_actions(ctx)


def test_recovery_code_works_once(ctx, clock):
    actor, _secret, codes = new_supervisor(ctx, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    with ctx.db.read() as session:
        stored = [r[0] for r in session.execute(select(RecoveryCode.code_hash))]
    assert not set(codes) & set(stored)  # hashed, never in clear
    assert second_factor.verify_sign_in(ctx, actor.operator_id, codes[3].upper()).login == "chief"
    with pytest.raises(SecondFactorRefused):
        second_factor.verify_sign_in(ctx, actor.operator_id, codes[3])
    assert second_factor.remaining_recovery_codes(ctx, actor) == 9
    assert "second_factor.recovery_code_used" in audit_actions(ctx)


def test_approval_needs_a_fresh_code(ctx, staff, clock):
    case = verified_case(ctx, staff)
    with pytest.raises(StepUpRequired):
        cases.move_case(ctx, staff["sv1"], case.id, MoveRequest(Status.APPROVED))
    with pytest.raises(SecondFactorRefused):
        cases.move_case(ctx, staff["sv1"], case.id,
                        MoveRequest(Status.APPROVED, second_factor="123 456"))
    assert cases.get_case(ctx, staff["sv1"], case.id).status is Status.VERIFIED
    assert "operator.step_up_failed" in audit_actions(ctx)
    code = step_up_code(ctx, staff["sv1"])
    done = cases.move_case(ctx, staff["sv1"], case.id,
                           MoveRequest(Status.APPROVED, second_factor=code))
    assert done.status is Status.APPROVED
    assert "second_factor.step_up" in audit_actions(ctx)
    other = verified_case(ctx, staff)
    with pytest.raises(SecondFactorRefused, match="already used"):
        cases.move_case(ctx, staff["sv1"], other.id,
                        MoveRequest(Status.APPROVED, second_factor=code))


def test_rejection_and_override_need_a_code_but_other_moves_do_not(ctx, staff):
    from tests.services.test_case_services import open_debit

    case = open_debit(ctx, staff)
    with pytest.raises(StepUpRequired):
        cases.move_case(ctx, staff["sv1"], case.id, MoveRequest(Status.REJECTED, reason="重複"))
    held = cases.move_case(ctx, staff["sv1"], case.id, MoveRequest(Status.ON_HOLD, reason="x"))
    assert held.status is Status.ON_HOLD
    other = open_debit(ctx, staff, name="山田 次郎", phone="03-9999-0000")
    cases.move_case(ctx, staff["op1"], other.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], other.id, BANK)
    cases.move_case(ctx, staff["op1"], other.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    over = MoveRequest(Status.VERIFIED, verified_amount=30_001, reason="手数料分")
    with pytest.raises(StepUpRequired):
        cases.move_case(ctx, staff["sv1"], other.id, over)
    done = cases.move_case(ctx, staff["sv1"], other.id,
                           replace(over, second_factor=step_up_code(ctx, staff["sv1"])))
    assert done.verified_amount == 30_001


def test_unenrolled_supervisor_cannot_approve_and_system_is_exempt(ctx, staff, clock):
    view = operators.add_operator(ctx, SYSTEM_ACTOR, "newsv", "New SV", Role.SUPERVISOR,
                                  "lanterns over the river")
    case = verified_case(ctx, staff)
    with pytest.raises(SecondFactorRefused, match="Enrol"):
        cases.move_case(ctx, view.as_actor(), case.id,
                        MoveRequest(Status.APPROVED, second_factor="123456"))
    with ctx.db.write() as session:
        second_factor.require_step_up(session, SYSTEM_ACTOR, None, clock.now())


def test_enrolment_once_and_admin_reset(ctx, staff, clock):
    with pytest.raises(PermissionDenied):
        second_factor.reset_second_factor(ctx, staff["sv2"], "sv1")
    with pytest.raises(Exception, match="already enrolled"):
        second_factor.begin_enrolment(ctx, staff["sv1"])
    second_factor.reset_second_factor(ctx, staff["admin1"], "sv1")
    # The reset ended the sessions signed in before it: sv1 signs in again and enrols.
    again = operators.authenticate(ctx, "sv1", PASSWORD)
    assert not again.totp_enrolled
    sv1 = again.as_actor()
    enrolment = second_factor.begin_enrolment(ctx, sv1)
    with pytest.raises(SecondFactorRefused):
        second_factor.confirm_enrolment(ctx, sv1, "000000")
    codes = second_factor.confirm_enrolment(ctx, sv1,
                                            pyotp.TOTP(enrolment.secret).at(clock.now()))
    assert len(codes) == 10
    assert "second_factor.reset" in audit_actions(ctx)
