"""Suspicious patterns: each is found on data built to show it, and nothing is flagged on
clean data. The waiting list never offers a supervisor the cases they verified."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.core.errors import PermissionDenied
from app.domain.states import Status
from app.services import cases, intake, suspicion
from app.services.cases import MoveRequest
from app.services.payout_details import Confirmation, ConfirmedVia, set_payout_details
from tests.conftest import approval
from tests.services.helpers import BANK, OTHER_BANK, incident, victim

THIRD_BANK = OTHER_BANK.__class__(**{**OTHER_BANK.__dict__, "account_number": "1112223"})
FOURTH_BANK = OTHER_BANK.__class__(**{**OTHER_BANK.__dict__, "account_number": "4445556"})


def open_case(ctx, staff, name: str, phone: str, email: str | None = None, bank=BANK):
    case = intake.take_phone_intake(ctx, staff["op1"],
                                    victim(name=name, phone=phone, email=email), incident())
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], case.id, bank)
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    return case


def verify(ctx, staff, case_id, who="op1"):
    return cases.move_case(ctx, staff[who], case_id,
                           MoveRequest(Status.VERIFIED, verified_amount=30_000))


def kinds(flags) -> set[tuple[str, str]]:
    return {(f.case_number, f.kind) for f in flags}


def clean_programme(ctx, staff):
    """Two victims, their own phones, e-mails and accounts, changed days before approval."""
    a = open_case(ctx, staff, "山田 太郎", "090-1111-2222", "taro@example.jp", BANK)
    b = open_case(ctx, staff, "鈴木 花子", "090-3333-4444", "hanako@example.jp", OTHER_BANK)
    ctx.clock.advance(hours=72)
    for case in (a, b):
        verify(ctx, staff, case.id)
    cases.move_case(ctx, staff["sv1"], a.id, approval(ctx, staff, "sv1"))
    return a, b


def test_clean_data_raises_no_flag(ctx, staff):
    a, _b = clean_programme(ctx, staff)
    assert suspicion.list_suspicious(ctx, staff["sv1"]) == []
    assert suspicion.flags_for_case(ctx, a.id) == []


def test_one_bank_account_on_two_victims(ctx, staff):
    a, _b = clean_programme(ctx, staff)
    c = open_case(ctx, staff, "佐藤 次郎", "090-5555-6666", bank=BANK)
    found = kinds(suspicion.list_suspicious(ctx, staff["sv1"]))
    assert found == {(a.case_number, "shared_account"), (c.case_number, "shared_account")}
    detail = suspicion.flags_for_case(ctx, c.id)[0].detail
    assert detail == "0001-001 ****567 × 2"  # masked as in the case list


def test_one_phone_or_email_on_two_victims(ctx, staff):
    _a, b = clean_programme(ctx, staff)
    d = open_case(ctx, staff, "田中 一郎", "09033334444", bank=THIRD_BANK)
    e = open_case(ctx, staff, "高橋 三郎", "080-7777-8888", "Hanako@Example.jp",
                  bank=FOURTH_BANK)
    found = kinds(suspicion.list_suspicious(ctx, staff["sv1"]))
    assert found == {(b.case_number, "shared_phone"), (d.case_number, "shared_phone"),
                     (b.case_number, "shared_email"), (e.case_number, "shared_email")}
    assert suspicion.flags_for_case(ctx, d.id)[0].detail == "*******4444 × 2"


def test_first_payout_details_are_not_a_change(ctx, staff):
    """Entering the details for the first time, just before verification, raises no
    warning (issue 16: 「⚠ 承認直前の支払先変更: 0時間前」 on every new case)."""
    clean_programme(ctx, staff)
    f = open_case(ctx, staff, "伊藤 四郎", "080-1212-3434", bank=THIRD_BANK)
    verify(ctx, staff, f.id)
    assert suspicion.flags_for_case(ctx, f.id) == []
    waiting = suspicion.waiting_for_approval(ctx, staff["sv1"])
    assert [w.flags for w in waiting if w.case_id == f.id] == [()]


def test_payout_change_shortly_before_approval(ctx, staff):
    clean_programme(ctx, staff)
    f = open_case(ctx, staff, "伊藤 四郎", "080-1212-3434", bank=FOURTH_BANK)
    set_payout_details(ctx, staff["op1"], f.id, THIRD_BANK,
                       confirmation=Confirmation(ConfirmedVia.PHONE_ON_RECORD))
    ctx.clock.advance(hours=2)
    verify(ctx, staff, f.id)
    waiting = suspicion.waiting_for_approval(ctx, staff["sv1"])
    assert [w.flags for w in waiting if w.case_id == f.id] == [("late_payout_change",)]
    cases.move_case(ctx, staff["sv1"], f.id, approval(ctx, staff, "sv1"))
    flags = suspicion.flags_for_case(ctx, f.id)
    assert [(x.kind, x.detail) for x in flags] == [("late_payout_change", "2時間前（基準48時間）")]
    assert kinds(suspicion.list_suspicious(ctx, staff["sv1"])) == {
        (f.case_number, "late_payout_change")}


def test_claim_above_what_the_incidents_support(ctx, staff):
    a, _b = clean_programme(ctx, staff)
    with ctx.db.engine.begin() as conn:  # a claim edited behind the services' back
        conn.execute(text("UPDATE case_file SET claimed_amount = claimed_amount + 50000 "
                          "WHERE id = :id"), {"id": a.id})
    flags = suspicion.flags_for_case(ctx, a.id)
    assert [(x.kind, x.detail) for x in flags] == [("claim_unsupported", "80,000 > 30,000")]


def test_waiting_list_leaves_out_what_this_supervisor_verified(ctx, staff):
    g = open_case(ctx, staff, "渡辺 五郎", "080-9999-0000", bank=THIRD_BANK)
    h = open_case(ctx, staff, "中村 六子", "080-9898-0000", bank=FOURTH_BANK)
    verify(ctx, staff, g.id, who="sv1")
    verify(ctx, staff, h.id, who="op1")
    assert [w.case_id for w in suspicion.waiting_for_approval(ctx, staff["sv1"])] == [h.id]
    assert {w.case_id for w in suspicion.waiting_for_approval(ctx, staff["sv2"])} == {g.id, h.id}
    waiting = suspicion.waiting_for_approval(ctx, staff["sv2"])
    assert {w.verified_by for w in waiting} == {"sv1", "op1"}


@pytest.mark.parametrize("service", [suspicion.list_suspicious, suspicion.waiting_for_approval])
def test_operators_cannot_see_the_supervisors_lists(ctx, staff, service):
    with pytest.raises(PermissionDenied):
        service(ctx, staff["op1"])
