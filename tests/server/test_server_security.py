"""The centre server enforces every rule itself: what a desk sends is a request,
never a claim the server believes."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from app.core.errors import PermissionDenied, ValidationError
from app.domain.channels import Channel
from app.domain.roles import Role
from app.domain.states import Status
from app.remote.gateway import RemoteGateway
from app.services import backup, cases, operators, payouts, queue, sessions, settings
from app.services.cases import MoveRequest
from app.services.context import SessionEnded
from app.services.intake import take_phone_intake
from app.services.payout_details import set_payout_details
from app.services.second_factor import SecondFactorRefused
from app.services.settings import Settings
from tests.conftest import PASSWORD, approval, step_up_code
from tests.server.conftest import sign_in
from tests.services.helpers import BANK, incident, victim
from tests.services.test_queue import make_case


def test_health(server):
    assert httpx.get(f"{server}/health").json() == {"status": "ok"}


def test_signed_in_desk_reads_records(desks):
    desk = desks("op1")
    got = desk.read(settings.get)
    assert isinstance(got, Settings)
    assert got.idle_lock_minutes == 10


def test_no_token_is_refused(server):
    desk = RemoteGateway(server, token="")
    desk.token = None
    with pytest.raises(SessionEnded):
        desk.read(settings.get)
    raw = httpx.post(f"{server}/call", json={"service": "settings.get", "kind": "read"})
    assert raw.status_code == 401
    assert raw.json()["error"]["ja"]


def test_made_up_token_is_refused(server):
    with pytest.raises(SessionEnded):
        RemoteGateway(server, token="not-a-token").read(settings.get)


def test_signed_out_token_is_refused(ctx, server, staff):
    desk = sign_in(ctx, server, staff, "op1")
    token = desk.token
    desk.sign_out()
    with pytest.raises(SessionEnded):
        RemoteGateway(server, token=token).read(settings.get)


def test_session_expires_after_twelve_hours(ctx, clock, desks):
    desk = desks("op1")
    for _ in range(12 * 6):  # busy all day: a call every ten minutes keeps it open
        clock.advance(minutes=10)
        desk.read(settings.get)
    clock.advance(minutes=1)
    with pytest.raises(SessionEnded):
        desk.read(settings.get)


def test_idle_session_locks_and_the_password_opens_it(ctx, clock, desks):
    desk = desks("op1")
    clock.advance(minutes=11)
    with pytest.raises(SessionEnded, match="unlock"):
        desk.read(settings.get)
    desk.unlock(PASSWORD, step_up_code(ctx, desk.actor))
    assert desk.read(settings.get).idle_lock_minutes == 10


def test_administrator_ends_a_session(ctx, desks):
    admin, operator = desks("admin1"), desks("op1")
    listed = admin.write(sessions.list_sessions)
    mine = next(s for s in listed if s.login == "op1")
    assert mine.state == "open" and mine.role is Role.OPERATOR
    admin.write(sessions.end_session, mine.id)
    with pytest.raises(SessionEnded):
        operator.read(settings.get)


def test_operator_cannot_list_sessions(desks):
    with pytest.raises(PermissionDenied):
        desks("op1").write(sessions.list_sessions)


def test_a_token_acts_as_its_own_operator_only(ctx, desks):
    """Another operator's session is another operator: the case op2's desk took is
    op2's, and op1's desk, naming op2, still sees its own hold (none)."""
    op1, op2 = desks("op1"), desks("op2")
    case_id = make_case(ctx, "債務 一郎", Channel.DEBIT_CHARGE, date(2019, 8, 1))
    held = op2.write(queue.next_case)
    assert held.case_id == case_id
    assert op2.read(queue.current_hold, op2.actor).case_id == case_id
    assert op1.read(queue.current_hold, op2.actor) is None
    assert op1.write(queue.next_case) is None  # held by op2: not handed out twice


def test_actor_sent_by_the_desk_is_ignored(ctx, desks, staff):
    """An operator's desk claiming to be the administrator still acts as itself."""
    desk = desks("op1")
    desk.actor = staff["admin1"]
    with pytest.raises(PermissionDenied):
        desk.write(settings.change_many, {"idle_lock_minutes": 30})
    assert desk.read(settings.get).idle_lock_minutes == 10
    # A parameter of type Actor gets the session's operator, whoever the desk names.
    make_case(ctx, "債務 一郎", Channel.DEBIT_CHARGE, date(2019, 8, 1))
    desks("admin1").write(queue.next_case)
    assert desk.read(queue.current_hold, staff["admin1"]) is None


def test_service_not_on_the_allow_list(desks):
    with pytest.raises(PermissionDenied, match="cannot be called"):
        desks("admin1").read(backup.backup_database, "x")
    with pytest.raises(PermissionDenied, match="cannot be called"):  # no step-up: not there
        desks("admin1").write(operators.add_operator, "op9", "OP9", "operator", "x" * 20)
    with pytest.raises(PermissionDenied, match="cannot be called"):
        desks("admin1").read(operators.hash_password, "x")


def test_read_and_write_cannot_be_swapped(desks):
    with pytest.raises(ValidationError):
        desks("op1").write(settings.get)


def test_arguments_are_validated_against_the_types(desks):
    desk = desks("op1")
    with pytest.raises(ValidationError, match="offset"):
        desk.read(queue.list_queue, "many", 10)
    with pytest.raises(ValidationError):
        desk.read(queue.list_queue, 0, 10, 99, 100)


def test_operator_calling_a_supervisor_service(desks):
    with pytest.raises(PermissionDenied):
        desks("op1").write(payouts.build_batch)


def test_verifier_cannot_approve(ctx, desks, staff):
    """Four eyes at the server: the supervisor who verified a case is refused its
    approval, with a good code; the other supervisor approves."""
    op, sv1, sv2 = desks("op1"), desks("sv1"), desks("sv2")
    case = op.write(take_phone_intake, victim(), incident())
    op.write(cases.move_case, case.id, MoveRequest(Status.CONTACTED))
    op.write(set_payout_details, case.id, BANK)
    op.write(cases.move_case, case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    verified = sv1.write(cases.move_case, case.id,
                         MoveRequest(Status.VERIFIED, verified_amount=30_000))
    assert verified.verified_by == staff["sv1"].operator_id
    with pytest.raises(PermissionDenied):
        sv1.write(cases.move_case, case.id, approval(ctx, staff, "sv1"))
    with pytest.raises(PermissionDenied):  # an operator, whatever code it sends
        op.write(cases.move_case, case.id, MoveRequest(Status.APPROVED, second_factor="123456"))
    approved = sv2.write(cases.move_case, case.id, approval(ctx, staff, "sv2"))
    assert approved.status is Status.APPROVED and approved.approved_amount == 30_000


def test_replayed_code_is_refused(ctx, server, staff):
    desk = RemoteGateway(server)
    view = desk.sign_in("sv1", PASSWORD)
    code = step_up_code(ctx, view.as_actor())
    desk.verify_code(code)
    again = RemoteGateway(server)
    again.sign_in("sv1", PASSWORD)
    with pytest.raises(SecondFactorRefused):
        again.verify_code(code)


def test_pending_sign_in_cannot_call_services(server, staff):
    desk = RemoteGateway(server)
    desk.sign_in("sv1", PASSWORD)
    assert desk.stage == "code"
    with pytest.raises(PermissionDenied, match="not complete"):
        desk.read(settings.get)


def test_wrong_passwords_lock_the_account_at_the_server(server, staff):
    desk = RemoteGateway(server)
    for _ in range(operators.FAILURES_BEFORE_LOCK):
        with pytest.raises(PermissionDenied):
            desk.sign_in("op1", "wrong password, wrong")
    with pytest.raises(PermissionDenied):
        desk.sign_in("op1", PASSWORD)  # locked now, even with the right password


def test_one_address_is_throttled_across_accounts(server, staff):
    desk = RemoteGateway(server)
    for n in range(sessions.THROTTLE_FAILURES):
        with pytest.raises(PermissionDenied):
            desk.sign_in(f"nobody{n}", "wrong password, wrong")
    with pytest.raises(PermissionDenied, match="Too many"):
        desk.sign_in("op2", PASSWORD)
