"""Identity, the supervisor's decisions, the payout rails and paid once per member."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.core.errors import ChangedMeanwhile, MoveNotAllowed, PermissionDenied, ValidationError
from app.domain.roles import SYSTEM_ACTOR
from app.services import intake, refunds
from app.services.refunds_import import import_applications, import_balances
from app.services.second_factor import SecondFactorRefused, StepUpRequired
from app.storage.models import AuditEvent, RefundApplication, RefundPayment
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
def loaded(ctx, clock, staff, tmp_path):
    clock.advance(days=200)
    intake.take_phone_intake(ctx, SYSTEM_ACTOR, victim(member_id="C1", phone="03-0000-0000"),
                             incident(amount=30_000))
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        member("WEB", 5000), member("LATE", 4000), member("C1", 10_000),
        member("POST", 3000), member("FOUND", 2000, phone="080-9999-0000")]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("W1", "WEB", route="Web"),
        application("L1", "LATE", applied="2020-02-01 10:00"),
        application("O1", "C1"),
        application("P1", "POST", method="払出証書"),
        application("U1", "", phone="070-1234-0000")]))
    with ctx.db.read() as session:
        return dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.id)).all())


def test_work_lists(ctx, loaded):
    assert [v.application_id for v in refunds.work_list(ctx, "awaiting_identity")] == ["W1"]
    assert [v.application_id for v in refunds.work_list(ctx, "late")] == ["L1"]
    assert [v.application_id for v in refunds.work_list(ctx, "held_overlap")] == ["O1"]
    assert [v.application_id for v in refunds.work_list(ctx, "unmatched")] == ["U1"]
    assert refunds.work_list_counts(ctx) == {"unmatched": 1, "awaiting_identity": 1,
                                             "late": 1, "held_overlap": 1}
    view = refunds.work_list(ctx, "awaiting_identity")[0]
    assert view.programme == "refund" and view.record_phone == "090-1111-2222"


def test_identity_only_through_the_contact_on_record(ctx, staff, loaded):
    with pytest.raises(ValidationError):
        refunds.confirm_identity(ctx, staff["op1"], loaded["W1"], "phone_given_in_application")
    view = refunds.confirm_identity(ctx, staff["op1"], loaded["W1"], "phone_on_record", "本人")
    assert view.state == "confirmed" and "登録電話番号" in view.state_reason
    with ctx.db.read() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.action == "refund.identity_confirmed")).scalar_one()
    assert event.actor_login == "op1" and '"how": "phone_on_record"' in event.after


def test_refusal_needs_a_reason(ctx, staff, loaded):
    with pytest.raises(ValidationError):
        refunds.refuse(ctx, staff["op1"], loaded["W1"], "  ")
    view = refunds.refuse(ctx, staff["op1"], loaded["W1"], "登録電話番号に3回架電し不通")
    assert view.state == "refused"


def test_late_decision_is_a_supervisors_with_a_fresh_code(ctx, staff, loaded):
    with pytest.raises(PermissionDenied):
        refunds.accept_late(ctx, staff["op1"], loaded["L1"], "事情あり", second_factor=None)
    with pytest.raises(StepUpRequired):
        refunds.accept_late(ctx, staff["sv1"], loaded["L1"], "事情あり", second_factor=None)
    with pytest.raises(PermissionDenied):
        refunds.refuse(ctx, staff["op1"], loaded["L1"], "期限後")
    view = refunds.accept_late(ctx, staff["sv1"], loaded["L1"], "入院のため遅延",
                               second_factor=step_up_code(ctx, staff["sv1"]))
    assert view.state == "confirmed"


def test_unmatched_found_by_an_operator_is_decided_again(ctx, staff, loaded):
    view = refunds.match_member(ctx, staff["op1"], loaded["U1"], "FOUND", "登録電話で確認")
    assert view.member_id == "FOUND" and view.state == "awaiting_identity"
    assert view.refundable_amount == 2000


def test_spec_overlap_example_waits_then_refunds_nothing(ctx, staff, loaded):
    """30,000 charged, 20,000 spent, 10,000 left; the file did not say where the 10,000
    came from: the supervisor settles it, and nothing is refunded."""
    view = refunds.get_application(ctx, loaded["O1"])
    assert view.state == "held_overlap" and view.balance == 10_000
    with pytest.raises(ValidationError):
        refunds.settle_overlap(ctx, staff["sv1"], loaded["O1"], 10_001, "x",
                               second_factor=step_up_code(ctx, staff["sv1"]))
    view = refunds.settle_overlap(ctx, staff["sv1"], loaded["O1"], 10_000,
                                  "残高1万円はすべて不正チャージ由来",
                                  second_factor=step_up_code(ctx, staff["sv1"]))
    assert view.refundable_amount == 0 and view.state == "refused"


def test_postal_order_cashed_is_paid_once(ctx, staff, loaded, tmp_path):
    app_ref = loaded["P1"]
    refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "yucho.csv",
                                second_factor=step_up_code(ctx, staff["sv1"]))
    with pytest.raises(MoveNotAllowed):  # not before it is issued
        refunds.postal_cashed(ctx, staff["op1"], app_ref)
    refunds.postal_issued(ctx, staff["op1"], app_ref, "No.9", date(2020, 9, 30))
    refunds.postal_cashed(ctx, staff["op1"], app_ref)
    assert refunds.get_application(ctx, app_ref).state == "paid"
    with pytest.raises(MoveNotAllowed):
        refunds.postal_returned(ctx, staff["op1"], app_ref, "返送")
    assert [(p["member_id"], p["rail"]) for p in refunds.payments(ctx)] == [("POST", "postal")]


def test_paid_once_per_member_by_the_database(ctx, staff, loaded):
    with ctx.db.write() as session:
        w1 = session.get(RefundApplication, loaded["W1"])
        session.add(RefundPayment(member_ref=w1.member_ref, application_ref=w1.id, amount=1,
                                  rail="transfer", paid_at=ctx.clock.now()))
    with pytest.raises(ChangedMeanwhile), ctx.db.write() as session:
        other = session.get(RefundApplication, loaded["L1"])
        session.add(RefundPayment(member_ref=w1.member_ref, application_ref=other.id,
                                  amount=1, rail="postal", paid_at=ctx.clock.now()))
        session.flush()


def test_phone_application_by_the_file_rules(ctx, staff, loaded):
    from app.services.refunds_intake import FormProblems, take_phone_application

    with pytest.raises(FormProblems) as bad:
        take_phone_application(ctx, staff["op1"], {"name": "山田 太郎", "method": "払出証書"})
    assert "phone/email" in bad.value.problems
    view = take_phone_application(ctx, staff["op1"], {
        "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "phone": "080-9999-0000",
        "method": "払出証書", "applied_at": "2020-01-10 18:00"})
    assert view.application_id == "TEL-000001" and view.member_id == "FOUND"
    assert view.state == "awaiting_identity" and view.route == "phone"
    late = take_phone_application(ctx, staff["op2"], {
        "name": "鈴木 一郎", "member_id": "LATE", "phone": "080-0000-1111",
        "method": "払出証書"})
    assert late.state == "duplicate"  # L1 (late) still stands for LATE
    again = take_phone_application(ctx, staff["op2"], {
        "name": "山田 花子", "member_id": "FOUND", "phone": "080-9999-0000",
        "method": "払出証書"})
    assert again.state == "duplicate"


def test_find_members_by_member_id_phone_name_or_kana(ctx, loaded):
    """What the page's match dialog searches: the closing balances, by member ID (its
    beginning, typed full width), phone digits, the name without its space, or kana."""
    def ids(text):
        return [m.member_id for m in refunds.find_members(ctx, text)]

    assert ids("ＦＯＵＮＤ") == ["FOUND"]
    assert ids("PO") == ["POST"]
    assert ids("080-9999") == ["FOUND"]
    assert set(ids("山田太郎")) == {"WEB", "LATE", "C1", "POST", "FOUND"}
    assert set(ids("やまだ")) == set(ids("ヤマダ タロウ")) == set(ids("山田 太郎"))
    assert ids("%") == [] and ids("  ") == []
    found = refunds.find_members(ctx, "FOUND")[0]
    assert (found.balance, found.phone, found.name) == (2000, "080-9999-0000", "山田 太郎")


def test_the_postal_list_follows_the_rail(ctx, staff, loaded, tmp_path):
    def shown():
        return [(v.application_id, v.state, v.order_status, v.certificate_number)
                for v in refunds.postal_list(ctx)]

    assert shown() == [("P1", "confirmed", None, None)]  # W1 is paid by transfer
    refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "list.csv",
                                second_factor=step_up_code(ctx, staff["sv1"]))
    assert shown() == [("P1", "confirmed", "requested", None)]
    refunds.postal_issued(ctx, staff["op1"], loaded["P1"], "C-1", date(2020, 9, 30))
    assert shown() == [("P1", "confirmed", "issued", "C-1")]
    refunds.postal_returned(ctx, staff["op1"], loaded["P1"], "期限切れ")
    assert shown() == [("P1", "awaiting_method", "returned", "C-1")]
    # A new 払出証書: back to waiting for the next list, the returned one history.
    refunds.change_method(ctx, staff["op1"], loaded["P1"], "postal_order", how="phone_on_record")
    assert shown() == [("P1", "confirmed", None, None)]


def test_the_postal_counts_cover_the_whole_rail(ctx, staff, loaded, tmp_path):
    assert refunds.postal_counts(ctx) == {"waiting": 1, "requested": 0, "issued": 0,
                                          "returned": 0}
    refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "list.csv",
                                second_factor=step_up_code(ctx, staff["sv1"]))
    assert refunds.postal_counts(ctx)["requested"] == 1
    refunds.postal_returned(ctx, staff["op1"], loaded["P1"], "宛先不明で返戻")
    assert refunds.postal_counts(ctx) == {"waiting": 0, "requested": 0, "issued": 0,
                                          "returned": 1}


def test_the_postal_list_leaves_only_with_a_fresh_code(ctx, staff, loaded, tmp_path):
    """Names and addresses go out in it: as every export of personal data, a supervisor
    with a fresh code; a refusal claims nothing and writes nothing."""
    out = tmp_path / "list.csv"
    with pytest.raises(PermissionDenied) as operator:
        refunds.postal_request_list(ctx, staff["op1"], out)
    assert not isinstance(operator.value, SecondFactorRefused)  # the role, before any code
    with pytest.raises(StepUpRequired):
        refunds.postal_request_list(ctx, staff["sv1"], out)
    with pytest.raises(SecondFactorRefused) as wrong:
        refunds.postal_request_list(ctx, staff["sv1"], out, second_factor="000000")
    assert not isinstance(wrong.value, StepUpRequired)
    assert not out.exists()
    assert refunds.postal_counts(ctx)["waiting"] == 1
    assert refunds.postal_request_list(ctx, staff["sv1"], out,
                                       second_factor=step_up_code(ctx, staff["sv1"])) == 1
    assert "P1" in out.read_text(encoding="utf-8-sig")
