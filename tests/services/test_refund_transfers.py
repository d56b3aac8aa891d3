"""Balance refunds in the compensation Zengin batches: one batch holds both programmes,
each item says which; the same four-eyes release; a 払出証書 that expired is paid by
transfer later exactly once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.core.errors import ChangedMeanwhile, PermissionDenied, UserError, ValidationError
from app.domain.roles import SYSTEM_ACTOR
from app.exports.zengin import split_records
from app.services import payouts, refunds
from app.services.payouts import ResultEntry
from app.services.refunds_import import import_applications, import_balances
from app.storage.models import RefundApplication, RefundItem
from tests.conftest import step_up_code
from tests.services.helpers import SENDER
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)


@pytest.fixture
def confirmed(ctx, clock, staff, tmp_path):
    from app.services import settings

    clock.advance(days=200)
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        member("T1", 5000), member("P1", 3000)]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("A-T1", "T1"), application("A-P1", "P1", method="払出証書")]))
    with ctx.db.read() as session:
        return dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.id)).all())


def release_and_send(ctx, staff, batch_id, out):
    payouts.release_batch(ctx, staff["sv2"], batch_id,
                          second_factor=step_up_code(ctx, staff["sv2"]))
    payouts.export_batch(ctx, staff["sv2"], batch_id, out,
                         second_factor=step_up_code(ctx, staff["sv2"]))
    payouts.mark_sent(ctx, staff["op1"], batch_id)


def test_a_refund_goes_through_the_same_batch_and_release(ctx, staff, confirmed, tmp_path):
    preview = payouts.preview_batch(ctx, staff["sv1"], refunds=True)
    assert preview.case_numbers == ("払戻 A-T1",) and preview.total_amount == 5000
    batch = payouts.build_batch(ctx, staff["sv1"], refunds=True, expected=preview)
    items = payouts.batch_items(ctx, batch.id)
    assert [(i.case_number, i.programme, i.amount) for i in items] == [
        ("払戻 A-T1", "balance_refund", 5000)]
    assert refunds.get_application(ctx, confirmed["A-T1"]).payout_rail == "transfer"
    with pytest.raises(PermissionDenied, match="二者確認"):
        payouts.release_batch(ctx, staff["sv1"], batch.id,
                              second_factor=step_up_code(ctx, staff["sv1"]))
    out = tmp_path / "furikomi.txt"
    release_and_send(ctx, staff, batch.id, out)
    assert [r[:1] for r in split_records(out.read_bytes())] == [b"1", b"2", b"8", b"9"]
    summary = payouts.record_results(ctx, staff["op1"], batch.id,
                                     [ResultEntry("払戻 A-T1", "done")])
    assert summary.done == ["払戻 A-T1"]
    assert refunds.get_application(ctx, confirmed["A-T1"]).state == "paid"
    assert [p["amount"] for p in refunds.payments(ctx)] == [5000]
    # Nothing is left for a second batch: paid once.
    with pytest.raises(UserError, match="振込できる"):
        payouts.build_batch(ctx, staff["sv1"], refunds=True)


def test_cancel_lets_the_refund_go_back(ctx, staff, confirmed):
    batch = payouts.build_batch(ctx, staff["sv1"], refunds=True)
    payouts.cancel_batch(ctx, staff["sv1"], batch.id, "誤り")
    view = refunds.get_application(ctx, confirmed["A-T1"])
    assert view.payout_rail is None and view.state == "confirmed"


def test_postal_order_expires_then_paid_by_transfer_exactly_once(ctx, staff, confirmed,
                                                                 tmp_path):
    app_ref = confirmed["A-P1"]
    assert refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "yucho.csv",
                                       second_factor=step_up_code(ctx, staff["sv1"])) == 1
    refunds.postal_issued(ctx, staff["op1"], app_ref, "No.123", date(2020, 9, 30))
    # While the 払出証書 is live, the database refuses a transfer for the application.
    with pytest.raises(ChangedMeanwhile), ctx.db.write() as session:
        session.add(RefundItem(batch_id=1, application_ref=app_ref, seq=99, amount=3000,
                               bank_code="0001", branch_code="001", account_type="ordinary",
                               account_number="1234567", holder_zengin="ﾔﾏﾀﾞ ﾀﾛｳ"))
        session.flush()
    refunds.postal_returned(ctx, staff["op1"], app_ref, "有効期限切れで返送")
    refunds.change_method(ctx, staff["op1"], app_ref, "口座振込", bank_code="0001",
                          branch_code="001", account_type="ordinary",
                          account_number="7654321", holder_kana="ヤマダ タロウ",
                          how="phone_on_record")
    batch = payouts.build_batch(ctx, staff["sv1"], refunds=True)
    assert {i.case_number for i in payouts.batch_items(ctx, batch.id)} == {"払戻 A-T1",
                                                                         "払戻 A-P1"}
    release_and_send(ctx, staff, batch.id, tmp_path / "f.txt")
    payouts.record_results(ctx, staff["op1"], batch.id, [ResultEntry("1", "done"),
                                                         ResultEntry("2", "done")])
    paid = sorted((p["member_id"], p["amount"], p["rail"]) for p in refunds.payments(ctx))
    assert paid == [("P1", 3000, "transfer"), ("T1", 5000, "transfer")]
    with pytest.raises(ValidationError, match="入力済"):
        payouts.record_results(ctx, staff["op1"], batch.id, [ResultEntry("2", "done")])
    assert len(refunds.payments(ctx)) == 2
