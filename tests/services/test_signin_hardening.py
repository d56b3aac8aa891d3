"""Issue #13 (sign-in) and #12 item 4 (step-up that cannot be guessed), as an
operator, an administrator and someone guessing codes meet them."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import func, select

from app.core.errors import PermissionDenied, ValidationError
from app.domain.roles import SYSTEM_ACTOR, Role
from app.domain.states import Status
from app.services import cases, dashboard, demo, operators, second_factor, settings
from app.services.cases import MoveRequest
from app.services.context import SessionEnded
from app.services.second_factor import SecondFactorRefused
from app.storage.models import AuditEvent, Operator
from tests.conftest import PASSWORD, step_up_code
from tests.services.test_second_factor import verified_case

DEMO_PASSWORD = "hosho-demo-2019"


def actions(ctx, operator_id: int) -> list[str]:
    with ctx.db.read() as session:
        return list(session.execute(
            select(AuditEvent.action).where(AuditEvent.entity == "operator",
                                            AuditEvent.entity_id == operator_id)
            .order_by(AuditEvent.id)).scalars())


def events(ctx, action: str) -> int:
    with ctx.db.read() as session:
        return session.execute(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == action)).scalar_one()


def signed_in(ctx, login: str):
    """A complete sign-in as the window makes it: the password, then a fresh code."""
    view = operators.authenticate(ctx, login, PASSWORD)
    code = step_up_code(ctx, view.as_actor())
    return second_factor.verify_sign_in(ctx, view.id, code).as_actor()


# -- 1. a second factor for every operator -----------------------------------------

def test_an_operator_password_alone_is_not_a_sign_in(ctx, staff):
    view = operators.authenticate(ctx, "op1", PASSWORD)
    assert view.totp_required and view.totp_enrolled
    assert actions(ctx, view.id)[-1] == "operator.password_accepted"
    done = second_factor.verify_sign_in(ctx, view.id, step_up_code(ctx, view.as_actor()))
    assert done.login == "op1" and actions(ctx, view.id)[-1] == "operator.sign_in"


def test_a_new_operator_enrols_recovers_and_is_reset_like_a_supervisor(ctx, staff, clock):
    new = operators.add_operator(ctx, SYSTEM_ACTOR, "tanaka", "田中 翔太", Role.OPERATOR,
                                 "umbrellas fold on tuesdays")
    first = operators.authenticate(ctx, "tanaka", "umbrellas fold on tuesdays")
    assert first.totp_required and not first.totp_enrolled
    enrolment = second_factor.begin_enrolment(ctx, first.as_actor())
    codes = second_factor.confirm_enrolment(ctx, first.as_actor(),
                                            pyotp.TOTP(enrolment.secret).at(clock.now()))
    assert len(codes) == 10
    assert second_factor.verify_sign_in(ctx, new.id, codes[0]).login == "tanaka"
    second_factor.reset_second_factor(ctx, staff["admin1"], "tanaka")
    again = operators.authenticate(ctx, "tanaka", "umbrellas fold on tuesdays")
    assert again.totp_required and not again.totp_enrolled
    assert "second_factor.reset" in actions(ctx, new.id)


def test_relaxing_operators_second_factor_is_admin_only_and_audited(ctx, staff):
    assert settings.get(ctx).operator_second_factor == "required"
    with pytest.raises(PermissionDenied):
        settings.change(ctx, staff["sv1"], "operator_second_factor", "relaxed")
    with pytest.raises(ValidationError, match="operator_second_factor"):
        settings.change(ctx, staff["admin1"], "operator_second_factor", "off")
    settings.change(ctx, staff["admin1"], "operator_second_factor", "relaxed")
    with ctx.db.read() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.action == "setting.change").order_by(AuditEvent.id.desc())).scalars().first()
    assert "operator_second_factor" in event.after and "relaxed" in event.after


def test_relaxed_operators_sign_in_with_the_password_but_supervisors_never(ctx, staff):
    settings.change(ctx, staff["admin1"], "operator_second_factor", "relaxed")
    new = operators.add_operator(ctx, SYSTEM_ACTOR, "tanaka", "田中 翔太", Role.OPERATOR,
                                 "umbrellas fold on tuesdays")
    view = operators.authenticate(ctx, "tanaka", "umbrellas fold on tuesdays")
    assert not view.totp_required
    assert actions(ctx, new.id)[-1] == "operator.sign_in"
    # An operator who set up an authenticator keeps being asked for its code.
    assert operators.authenticate(ctx, "op1", PASSWORD).totp_required
    for login in ("sv1", "admin1"):
        assert operators.authenticate(ctx, login, PASSWORD).totp_required
    supervisor = operators.add_operator(ctx, SYSTEM_ACTOR, "newsv", "New SV",
                                        Role.SUPERVISOR, "lanterns over the river")
    assert operators.authenticate(ctx, "newsv", "lanterns over the river").totp_required
    assert actions(ctx, supervisor.id)[-1] == "operator.password_accepted"


def test_the_dashboard_says_when_operators_sign_in_without_a_code(ctx, staff, tmp_path):
    board = dashboard.dashboard(ctx)
    assert board.operator_second_factor_relaxed is False
    settings.change(ctx, staff["admin1"], "operator_second_factor", "relaxed")
    board = dashboard.dashboard(ctx)
    assert board.operator_second_factor_relaxed is True
    assert board.to_json()["operator_second_factor_relaxed"] is True
    rows = dashboard.figure_rows(board)
    assert ["security", "operator_second_factor", "relaxed", "", "", "", "", ""] in rows


# -- 2. change_password is throttled like sign-in ------------------------------------

def test_wrong_current_passwords_lock_like_sign_in(ctx, staff, clock):
    op1 = staff["op1"]
    for _ in range(5):
        with pytest.raises(PermissionDenied, match="current password is wrong"):
            operators.change_password(ctx, op1, "not the password at all", "a kettle sings")
    trail = actions(ctx, op1.operator_id)
    assert trail.count("operator.password_change_failed") == 5
    assert "operator.locked" in trail
    # Locked: the right current password is refused too, and nothing changes.
    with pytest.raises(SessionEnded):
        operators.change_password(ctx, op1, PASSWORD, "a kettle sings at dawn")
    with pytest.raises(PermissionDenied):
        operators.authenticate(ctx, "op1", PASSWORD)
    clock.advance(minutes=2)
    assert operators.authenticate(ctx, "op1", PASSWORD).login == "op1"


def test_wrong_current_passwords_count_with_wrong_sign_ins(ctx, staff):
    for _ in range(3):
        with pytest.raises(PermissionDenied):
            operators.authenticate(ctx, "op2", "not the password at all")
    for _ in range(2):
        with pytest.raises(PermissionDenied):
            operators.change_password(ctx, staff["op2"], "still not it at all", "x" * 20)
    assert "operator.locked" in actions(ctx, staff["op2"].operator_id)


# -- 3. password policy ----------------------------------------------------------------

@pytest.mark.parametrize("password", [" " * 12, "\u3000" * 12, "\t" * 14, "   ab   cd   ",
                                      "  short one  "])
def test_blank_or_short_after_trimming_is_refused(ctx, password):
    with pytest.raises(ValidationError, match="at least 12"):
        operators.add_operator(ctx, SYSTEM_ACTOR, "tanaka", "田中 翔太", Role.OPERATOR,
                               password)
    assert operators.list_operators(ctx) == []


@pytest.mark.parametrize("password", [DEMO_PASSWORD, "HOSHO-DEMO-2019", f" {DEMO_PASSWORD} ",
                                      f"{DEMO_PASSWORD}!!", "hosho demo 2019 again"])
def test_the_demo_password_is_refused_on_a_real_database(ctx, staff, password):
    with pytest.raises(ValidationError, match="demo"):
        operators.add_operator(ctx, SYSTEM_ACTOR, "tanaka", "田中 翔太", Role.OPERATOR,
                               password)
    with pytest.raises(ValidationError, match="demo"):
        operators.reset_password(ctx, staff["admin1"], "op1", password)
    with pytest.raises(ValidationError, match="demo"):
        operators.change_password(ctx, staff["op1"], PASSWORD, password)
    assert operators.authenticate(ctx, "op1", PASSWORD).login == "op1"


def test_the_first_run_form_refuses_the_demo_password(ctx):
    with pytest.raises(ValidationError, match="demo"):
        operators.create_first_admin(ctx, "chief", "責任者", DEMO_PASSWORD)
    assert not operators.has_operators(ctx)


def test_the_demo_database_still_uses_its_published_password(ctx):
    demo.build_demo(ctx, victims=20, seed=3)
    view = operators.authenticate(ctx, "tanaka", DEMO_PASSWORD)
    assert view.login == "tanaka" and view.totp_required and not view.totp_enrolled


# -- 4. step-up that cannot be guessed ---------------------------------------------------

def wrong_code(ctx, actor) -> str:
    right = step_up_code(ctx, actor)
    return f"{(int(right) + 500_000) % 1_000_000:06d}"


def test_a_loop_of_wrong_step_up_codes_is_stopped_at_the_lock(ctx, staff, clock):
    sv1 = staff["sv1"]
    case = verified_case(ctx, staff)
    refusals = []
    for _ in range(50):
        try:
            cases.move_case(ctx, sv1, case.id,
                            MoveRequest(Status.APPROVED, second_factor=wrong_code(ctx, sv1)))
        except PermissionDenied as exc:
            refusals.append(type(exc))
    # Five codes were checked; from then on nothing is checked or counted.
    assert refusals[:5] == [SecondFactorRefused] * 5
    assert set(refusals[5:]) == {SessionEnded}
    assert events(ctx, "operator.step_up_failed") == 5
    assert events(ctx, "operator.locked") == 1
    # The right code is refused while the account is locked ...
    with pytest.raises(SessionEnded, match="locked"):
        cases.move_case(ctx, sv1, case.id, MoveRequest(Status.APPROVED,
                                                       second_factor=step_up_code(ctx, sv1)))
    # ... and after the lock's time the old session still cannot act.
    clock.advance(minutes=5)
    with pytest.raises(SessionEnded, match="sign in again"):
        cases.move_case(ctx, sv1, case.id, MoveRequest(Status.APPROVED,
                                                       second_factor=step_up_code(ctx, sv1)))
    assert cases.get_case(ctx, staff["sv2"], case.id).status is Status.VERIFIED
    # Signing in again gives a session that can.
    fresh = signed_in(ctx, "sv1")
    done = cases.move_case(ctx, fresh, case.id,
                           MoveRequest(Status.APPROVED, second_factor=step_up_code(ctx, fresh)))
    assert done.status is Status.APPROVED


def test_wrong_step_up_codes_count_with_wrong_sign_in_codes(ctx, staff):
    sv1 = staff["sv1"]
    for _ in range(3):
        with pytest.raises(SecondFactorRefused):
            second_factor.verify_sign_in(ctx, sv1.operator_id, wrong_code(ctx, sv1))
    for _ in range(2):
        with pytest.raises(SecondFactorRefused):
            second_factor.step_up(ctx, sv1, wrong_code(ctx, sv1))
    assert events(ctx, "operator.locked") == 1
    with pytest.raises(PermissionDenied):
        second_factor.step_up(ctx, sv1, step_up_code(ctx, sv1))


def test_a_locked_accounts_codes_are_refused_for_everything(ctx, staff):
    sv1 = staff["sv1"]
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            operators.authenticate(ctx, "sv1", "not the password at all")
    # A desk signed in before the lock (someone guessed the password elsewhere).
    with pytest.raises(SessionEnded):
        second_factor.step_up(ctx, sv1, step_up_code(ctx, sv1))
    with pytest.raises(SecondFactorRefused):
        second_factor.verify_sign_in(ctx, sv1.operator_id, step_up_code(ctx, sv1))
    with ctx.db.read() as session:
        last_step = session.get(Operator, sv1.operator_id).totp_last_step
    code = step_up_code(ctx, sv1)
    # Inside another service's transaction (an export).
    with ctx.db.write() as session, pytest.raises(PermissionDenied):
        second_factor.require_exporter(session, sv1, code, ctx.clock.now())
    with ctx.db.read() as session:  # no code was spent on a locked account
        assert session.get(Operator, sv1.operator_id).totp_last_step == last_step


def test_the_lock_ends_the_sessions_right_to_act_everywhere(ctx, staff, clock):
    from tests.services.test_case_services import open_debit

    op1 = staff["op1"]
    case = open_debit(ctx, staff)
    for _ in range(5):
        with pytest.raises(SecondFactorRefused):
            second_factor.verify_sign_in(ctx, op1.operator_id, "000000")
    clock.advance(hours=2)
    for call in (lambda: cases.add_note(ctx, op1, case.id, "電話あり"),
                 lambda: cases.move_case(ctx, op1, case.id, MoveRequest(Status.CONTACTED)),
                 lambda: second_factor.begin_enrolment(ctx, op1)):
        with pytest.raises(SessionEnded) as refused:
            call()
        assert refused.value.ja and refused.value.en and "サインイン" in refused.value.ja
    fresh = signed_in(ctx, "op1")
    assert cases.move_case(ctx, fresh, case.id,
                           MoveRequest(Status.CONTACTED)).status is Status.CONTACTED


def test_a_reset_ends_the_old_sessions(ctx, staff):
    operators.reset_password(ctx, staff["admin1"], "op1", "a brand new phrase")
    with pytest.raises(SessionEnded):
        second_factor.step_up(ctx, staff["op1"], None)
    second_factor.reset_second_factor(ctx, staff["admin1"], "sv1")
    with pytest.raises(SessionEnded):
        second_factor.begin_enrolment(ctx, staff["sv1"])
    again = operators.authenticate(ctx, "sv1", PASSWORD)
    assert second_factor.begin_enrolment(ctx, again.as_actor()).secret


def test_the_idle_lock_is_a_new_sign_in_after_a_lock(ctx, staff, clock):
    sv1 = staff["sv1"]
    for _ in range(5):
        with pytest.raises(SecondFactorRefused):
            second_factor.step_up(ctx, sv1, "000000")
    clock.advance(minutes=2)
    view = second_factor.unlock_session(ctx, sv1, PASSWORD, step_up_code(ctx, sv1))
    fresh = view.as_actor()
    assert fresh.epoch != sv1.epoch
    second_factor.step_up(ctx, fresh, step_up_code(ctx, fresh))



def test_the_dashboard_report_warns_when_operators_sign_in_without_a_code(ctx, staff,
                                                                          tmp_path):
    from pypdf import PdfReader

    from app.exports.dashboard_pdf import write_pdf

    def report_text(name: str) -> str:
        path = write_pdf(dashboard.dashboard(ctx), tmp_path / name)
        return PdfReader(str(path)).pages[0].extract_text()

    assert "認証アプリのコードなし" not in report_text("required.pdf")
    settings.change(ctx, staff["admin1"], "operator_second_factor", "relaxed")
    assert "認証アプリのコードなし" in report_text("relaxed.pdf")
