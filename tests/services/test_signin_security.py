"""Sign-in defences as an operator meets them: password rules, throttling,
administrator resets."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import operators, second_factor
from app.storage.models import AuditEvent, Operator
from tests.conftest import PASSWORD, step_up_code


def actions(ctx, operator_id=None) -> list[str]:
    with ctx.db.read() as session:
        query = select(AuditEvent.action).order_by(AuditEvent.id)
        if operator_id is not None:
            query = query.where(AuditEvent.entity == "operator",
                                AuditEvent.entity_id == operator_id)
        return [r[0] for r in session.execute(query)]


def fail(ctx, login, times):
    """Wrong passwords; the one that locks says that sign-in is paused (issue 16)."""
    for _ in range(times):
        with pytest.raises(PermissionDenied,
                           match=r"Wrong operator name or password|is paused until"):
            operators.authenticate(ctx, login, "not the password at all")


def test_passwords_are_argon2id_with_owasp_parameters(ctx, staff):
    with ctx.db.read() as session:
        stored = session.execute(select(Operator.password_hash)
                                 .where(Operator.login == "op1")).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(("password", "needle"), [
    ("short pass", "at least 12"),
    ("passwordpassword", "common or breached"),
    ("QWERTYUIOP123", "common or breached"),
    ("Sakura2019", "at least 12"),
    ("sakurasakura", "common or breached"),
    ("1qaz2wsx3edc4rfv", "common or breached"),
    ("tanaka is my best friend", "operator's name"),
    ("田中のとても長いパスワードです", "operator's name"),
    ("my name is shota tanaka", "operator's name"),
])
def test_password_policy_refuses_weak_passwords(ctx, password, needle):
    with pytest.raises(ValidationError, match=needle):
        operators.add_operator(ctx, SYSTEM_ACTOR, "tanaka", "田中 翔太", Role.OPERATOR,
                               password)
    assert operators.list_operators(ctx) == []


def test_a_long_uncommon_password_without_composition_rules_is_accepted(ctx):
    view = operators.add_operator(ctx, SYSTEM_ACTOR, "tanaka", "田中 翔太", Role.OPERATOR,
                                  "umbrellas fold on tuesdays")
    assert view.login == "tanaka"
    assert len(operators.common_passwords()) > 5_000


def test_five_failures_lock_the_account_for_a_growing_time(ctx, staff, clock):
    fail(ctx, "op1", 5)
    # Locked: even the right password is told that sign-in is paused, and until when.
    with pytest.raises(PermissionDenied, match="paused until 2019/08/20 10:01"):
        operators.authenticate(ctx, "op1", PASSWORD)
    clock.advance(seconds=61)
    fail(ctx, "op1", 5)  # a second lock in a row lasts twice as long
    clock.advance(seconds=61)
    with pytest.raises(PermissionDenied):
        operators.authenticate(ctx, "op1", PASSWORD)
    clock.advance(seconds=60)
    view = operators.authenticate(ctx, "op1", PASSWORD)
    # Operators give an authenticator code too: the password alone is not a sign-in.
    second_factor.verify_sign_in(ctx, view.id, step_up_code(ctx, view.as_actor()))
    trail = actions(ctx, staff["op1"].operator_id)
    assert trail.count("operator.sign_in_failed") == 10
    assert trail.count("operator.locked") == 2
    assert "operator.sign_in_locked" in trail
    assert trail[-2:] == ["operator.password_accepted", "operator.sign_in"]


def sign_in(ctx, login):
    """The password, then the authenticator code: a whole sign-in."""
    view = operators.authenticate(ctx, login, PASSWORD)
    return second_factor.verify_sign_in(ctx, view.id, step_up_code(ctx, view.as_actor()))


def test_four_failures_then_success_start_the_count_again(ctx, staff):
    fail(ctx, "op1", 4)
    sign_in(ctx, "op1")
    fail(ctx, "op1", 4)
    assert sign_in(ctx, "op1").login == "op1"


def test_unknown_name_gets_the_same_message_and_is_audited(ctx, staff):
    with pytest.raises(PermissionDenied) as unknown:
        operators.authenticate(ctx, "nobody", PASSWORD)
    with pytest.raises(PermissionDenied) as wrong:
        operators.authenticate(ctx, "op1", "not the password at all")
    assert unknown.value.ja == wrong.value.ja and unknown.value.en == wrong.value.en
    assert "operator.sign_in_unknown" in actions(ctx)


def test_admin_reset_forces_a_new_password_and_is_audited(ctx, staff, clock):
    fail(ctx, "op1", 5)  # locked out: the reset lifts the lock too
    one_time = operators.reset_password(ctx, staff["admin1"], "op1")
    assert len(one_time) >= 12
    with pytest.raises(PermissionDenied):
        operators.authenticate(ctx, "op1", PASSWORD)
    view = operators.authenticate(ctx, "op1", one_time)
    assert view.must_change_password
    with pytest.raises(ValidationError, match="common or breached"):
        operators.change_password(ctx, view.as_actor(), one_time, "password1234")
    changed = operators.change_password(ctx, view.as_actor(), one_time,
                                        "a kettle sings at dawn")
    assert not changed.must_change_password
    assert not operators.authenticate(ctx, "op1", "a kettle sings at dawn").must_change_password
    trail = actions(ctx, staff["op1"].operator_id)
    assert "operator.password_reset" in trail and "operator.password_changed" in trail
    with ctx.db.read() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.action == "operator.password_reset")).scalar_one()
        assert event.operator_id == staff["admin1"].operator_id


def test_only_administrators_reset_passwords(ctx, staff):
    with pytest.raises(PermissionDenied):
        operators.reset_password(ctx, staff["sv1"], "op1", "a brand new phrase")
    with pytest.raises(NotFound):
        operators.reset_password(ctx, staff["admin1"], "ghost", "a brand new phrase")
    assert "operator.password_reset" not in actions(ctx)
