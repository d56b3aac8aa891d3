"""The services the window uses, run a third time: through the remote client against
a real server on loopback (on SQLite and PostgreSQL). Each scenario runs twice, in
process and remote, and the remote records must equal the in-process ones."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import ValidationError
from app.domain.channels import Channel
from app.domain.states import Status
from app.services import (
    audit_log,
    case_flags,
    case_search,
    cases,
    dashboard,
    intake,
    payouts,
    queue,
    settings,
    suspicion,
)
from app.services.audit_log import AuditFilter
from app.services.case_search import CaseQuery
from app.services.cases import MoveRequest
from app.services.gateway import InProcessGateway
from app.services.outreach import AttemptInput, Method, Outcome, record_attempt
from app.services.payout_details import set_payout_details
from app.services.settings import SettingsConflict
from app.services.views import CaseView
from tests.conftest import approval, step_up_code
from tests.server.conftest import Values
from tests.services.helpers import BANK, incident, victim
from tests.services.test_queue import make_case


@pytest.fixture(params=["in_process", "remote"])
def desk(request, ctx, staff):
    """desk("sv1"): the same Gateway protocol, here or through the server."""
    if request.param == "remote":
        return request.getfixturevalue("desks")
    return lambda login: Values(InProcessGateway(ctx, staff[login]))


def to_verified(op, verifier, case_id: int) -> CaseView:
    op.write(cases.move_case, case_id, MoveRequest(Status.CONTACTED))
    op.write(set_payout_details, case_id, BANK)
    op.write(cases.move_case, case_id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    return verifier.write(cases.move_case, case_id,
                          MoveRequest(Status.VERIFIED, verified_amount=30_000))


def test_case_from_intake_to_approved(ctx, staff, desk):
    op, sv1, sv2 = desk("op1"), desk("sv1"), desk("sv2")
    case = op.write(intake.take_phone_intake, victim(), incident())
    assert isinstance(case, CaseView) and case.status is Status.RECEIVED
    assert op.write(cases.get_case, case.id) == cases.get_case(ctx, staff["op1"], case.id)
    to_verified(op, sv1, case.id)
    assert [w.case_id for w in sv2.write(suspicion.waiting_for_approval)] == [case.id]
    approved = sv2.write(cases.move_case, case.id, approval(ctx, staff, "sv2"))
    assert approved.status is Status.APPROVED
    assert op.write(cases.get_case, case.id) == cases.get_case(ctx, staff["op1"], case.id)
    op.write(cases.add_note, case.id, "折り返し希望")
    assert op.read(case_flags.case_warnings, case.id) == case_flags.case_warnings(ctx, case.id)


def test_lists_and_dashboard_are_the_same_records(ctx, staff, desk):
    op = desk("op1")
    for n in range(3):
        op.write(intake.take_phone_intake, victim(phone=f"090-1111-000{n}"), incident())
    query = CaseQuery(text="山田", channel=Channel.DEBIT_CHARGE)
    first = op.read(case_search.list_cases, query, 2)
    assert first == case_search.list_cases(ctx, query, 2)
    assert op.read(case_search.list_cases, query, 50, first[-1].key) == \
        case_search.list_cases(ctx, query, 50, first[-1].key)  # the next page, by key
    assert op.read(dashboard.dashboard) == dashboard.dashboard(ctx)
    assert op.read(settings.get) == settings.get(ctx)
    assert op.read(intake.find_similar_victims, victim()) == intake.find_similar_victims(
        ctx, victim())


def test_queue_hold_attempt_and_release(ctx, staff, desk):
    op = desk("op1")
    first = make_case(ctx, "債務 一郎", Channel.DEBIT_CHARGE, date(2019, 8, 1))
    second = make_case(ctx, "債務 二郎", Channel.DEBIT_CHARGE, date(2019, 8, 2))
    assert op.read(queue.count_queue) == 2
    assert op.read(queue.list_queue, 0, 10) == queue.list_queue(ctx, 0, 10)
    held = op.write(queue.next_case)
    assert held.case_id == first
    assert desk("op2").write(queue.next_case).case_id == second  # never handed out twice
    after = op.write(record_attempt, first, AttemptInput(Method.PHONE, Outcome.NO_ANSWER))
    assert after.id == first
    op.write(queue.release, first)
    assert op.read(queue.current_hold, staff["op1"]) is None


def test_errors_come_back_as_the_same_kind(ctx, staff, desk):
    op, admin = desk("op1"), desk("admin1")
    with pytest.raises(ValidationError) as bad:
        op.write(intake.take_phone_intake, victim(), incident(amount=1_000_001))
    assert bad.value.en and bad.value.ja != bad.value.en
    shown = settings.get(ctx).to_json_dict()
    admin.write(settings.change_many, {"idle_lock_minutes": 15}, expected=shown)
    with pytest.raises(SettingsConflict) as stale:
        admin.write(settings.change_many, {"idle_lock_minutes": 20}, expected=shown)
    assert list(stale.value.keys) == ["idle_lock_minutes"]
    assert settings.get(ctx).idle_lock_minutes == 15


@pytest.mark.slow
def test_batch_built_and_released_by_two_supervisors(ctx, staff, desk):
    op, sv1, sv2 = desk("op1"), desk("sv1"), desk("sv2")
    case = op.write(intake.take_phone_intake, victim(), incident())
    to_verified(op, sv1, case.id)
    sv2.write(cases.move_case, case.id, approval(ctx, staff, "sv2"))
    batch = sv1.write(payouts.build_batch)
    assert sv1.read(payouts.batch_items, batch.id) == payouts.batch_items(ctx, batch.id)
    released = sv2.write(payouts.release_batch, batch.id,
                         second_factor=step_up_code(ctx, staff["sv2"]))
    assert released == payouts.get_batch(ctx, batch.id)
    assert released.released_by == "sv2"
    events = sv1.write(audit_log.list_events, AuditFilter(action="refund_batch"), 0, 50)
    assert events == audit_log.list_events(ctx, staff["sv1"],
                                           AuditFilter(action="refund_batch"), 0, 50)
    assert sv1.write(audit_log.count_events, AuditFilter()) == audit_log.count_events(
        ctx, staff["sv1"], AuditFilter())


def test_a_persons_page_is_the_same_record(ctx, staff, desk):
    from app.services import people

    op = desk("op1")
    case = op.write(intake.take_phone_intake, victim(member_id="7iR1"), incident())
    person = op.read(people.person_for_case, case.id)
    assert person == people.person_for_case(ctx, case.id)
    assert person.member_id == "7iR1" and person.compensation_due == 30_000
