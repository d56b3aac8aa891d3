"""Money moves only along its rail (issue #12), on SQLite and PostgreSQL.

Every role tries every hand move on a case of every rail and none succeeds; the
double payment found in review (a transfer sent, the case moved back by hand, then
paid again as a card cancellation) is refused by the services and, forced past
them, by the database; reconciliation lists each inconsistency forced in by SQL;
a bank result file that cannot be applied names its line and case and applies
nothing."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from sqlalchemy import select, text

from app.core.errors import (
    ConflictError,
    MoveNotAllowed,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from app.domain.channels import Channel, PayoutKind
from app.domain.payout import PayoutDetails
from app.domain.roles import SYSTEM_ACTOR
from app.domain.states import Status
from app.services import cases, intake, payouts, reconcile, settings
from app.services.cases import MoveRequest
from app.services.payout_details import Confirmation, ConfirmedVia, set_payout_details
from app.services.payouts import ResultEntry
from app.services.second_factor import SecondFactorRefused
from app.storage.models import Case, Payment
from tests.conftest import approval, database_refuses, step_up_code
from tests.services.helpers import BANK, NANACO, SENDER, incident, send_batch, victim

CARD = PayoutDetails(PayoutKind.CARD_CANCELLATION, card_issuer="エポスカード", card_last4="4242",
                     billing_confirmation_date=date(2019, 9, 2),
                     payment_date=date(2019, 9, 27))
PAYOUT_FOR = {Channel.DEBIT_CHARGE: BANK, Channel.CREDIT_CHARGE: CARD,
              Channel.NANACO_CHARGE: NANACO}
HANDS = ["op1", "op2", "sv1", "sv2", "admin1"]


def approved_case(ctx, staff, channel: Channel, payout: PayoutDetails | None = None,
                  phone: str = "090-1111-2222", amount: int = 30_000) -> int:
    """A case taken by phone, verified by an operator, approved by a supervisor."""
    case = intake.take_phone_intake(ctx, staff["op1"], victim(phone=phone),
                                    incident(channel, amount=amount))
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], case.id, payout or PAYOUT_FOR[channel])
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    reverify(ctx, staff, case.id)
    return case.id


def reverify(ctx, staff, case_id: int) -> None:
    view = cases.get_case(ctx, staff["op1"], case_id)
    if view.status is Status.DOCUMENTS_RECEIVED:
        cases.move_case(ctx, staff["op1"], case_id, MoveRequest(
            Status.VERIFIED, verified_amount=view.claimed_amount))
    cases.move_case(ctx, staff["sv1"], case_id, approval(ctx, staff, "sv1"))


def status(ctx, case_id: int) -> str:
    with ctx.db.read() as session:
        return session.get(Case, case_id).status


def released(ctx, staff) -> int:
    batch = payouts.build_batch(ctx, staff["sv1"])
    payouts.release_batch(ctx, staff["sv2"], batch.id,
                          second_factor=step_up_code(ctx, staff["sv2"]))
    return batch.id


def card_list(ctx, staff, tmp_path) -> None:
    payouts.card_cancellation_list(ctx, staff["sv1"], CARD.card_issuer, tmp_path / "card.csv",
                                   second_factor=step_up_code(ctx, staff["sv1"]))


def nanaco_list(ctx, staff, tmp_path) -> None:
    payouts.nanaco_list(ctx, staff["sv1"], tmp_path / "nanaco.csv",
                        second_factor=step_up_code(ctx, staff["sv1"]))


@pytest.fixture
def rails(ctx, staff, tmp_path):
    """One case waiting on each rail, plus an approved case on none."""
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    transfer = approved_case(ctx, staff, Channel.DEBIT_CHARGE, phone="090-0000-0001")
    batch_id = released(ctx, staff)
    send_batch(ctx, staff, batch_id, tmp_path / "furikomi.txt")
    card = approved_case(ctx, staff, Channel.CREDIT_CHARGE, phone="090-0000-0002")
    card_list(ctx, staff, tmp_path)
    nanaco = approved_case(ctx, staff, Channel.NANACO_CHARGE, phone="090-0000-0003")
    nanaco_list(ctx, staff, tmp_path)
    waiting = approved_case(ctx, staff, Channel.UNAUTHORIZED_USE, BANK, phone="090-0000-0004")
    return {"transfer": transfer, "card": card, "nanaco": nanaco, "waiting": waiting,
            "batch": batch_id}


@pytest.mark.parametrize("rail", ["transfer", "card", "nanaco"])
def test_no_one_moves_a_case_along_a_rail_by_hand(ctx, staff, rails, rail):
    case_id = rails[rail]
    assert status(ctx, case_id) == "payout_requested"
    for who in HANDS:
        offered = {m.name for m in cases.get_case(ctx, staff[who], case_id).open_moves}
        assert not offered & {"mark_paid", "payout_failed", "request_payout"}, who
        with pytest.raises(MoveNotAllowed):
            cases.move_case(ctx, staff[who], case_id, MoveRequest(Status.PAID))
        with pytest.raises(MoveNotAllowed):
            cases.move_case(ctx, staff[who], case_id,
                            MoveRequest(Status.APPROVED, reason="支払不能"))
    assert status(ctx, case_id) == "payout_requested"
    with ctx.db.read() as session:
        assert session.exec(select(Payment).where(Payment.case_id == case_id)).first() is None


def test_no_one_starts_a_payout_by_hand(ctx, staff, rails):
    for who in HANDS:
        with pytest.raises(MoveNotAllowed):
            cases.move_case(ctx, staff[who], rails["waiting"],
                            MoveRequest(Status.PAYOUT_REQUESTED))
    assert status(ctx, rails["waiting"]) == "approved"


def test_a_rail_does_not_confirm_another_rails_case(ctx, staff, rails):
    with pytest.raises(NotFound):  # a bank-transfer case has no card or nanaco request
        payouts.confirm_request(ctx, staff["op1"], rails["transfer"])
    with pytest.raises(ValidationError, match="H-"):  # the card case is in no batch
        number = cases.get_case(ctx, staff["op1"], rails["card"]).case_number
        payouts.record_results(ctx, staff["op1"], rails["batch"], [ResultEntry(number, "done")])
    assert status(ctx, rails["transfer"]) == status(ctx, rails["card"]) == "payout_requested"


def test_double_payment_is_refused_by_the_services_and_the_database(ctx, staff, tmp_path):
    """The review's replay: a credit case paid by transfer (released, exported, sent),
    moved back by hand, switched to card cancellation and listed again."""
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    case_id = approved_case(ctx, staff, Channel.CREDIT_CHARGE, BANK)
    batch_id = released(ctx, staff)
    send_batch(ctx, staff, batch_id, tmp_path / "furikomi.txt")
    with pytest.raises(MoveNotAllowed):  # the hand move that opened the door
        cases.move_case(ctx, staff["sv1"], case_id, MoveRequest(Status.APPROVED, reason="x"))
    with pytest.raises(MoveNotAllowed):  # the money's destination is frozen too
        set_payout_details(ctx, staff["op1"], case_id, CARD,
                           confirmation=Confirmation(ConfirmedVia.PHONE_ON_RECORD))
    # Forced past the services, as someone with the database would: the case back to
    # approved with card details. The card list does not take it...
    with ctx.db.write() as session:
        session.execute(text("UPDATE case_file SET status = 'approved' WHERE id = :c"),
                        {"c": case_id})
        session.execute(text(
            "UPDATE payout_detail SET kind = 'card_cancellation', card_issuer = :i, "
            "card_last4 = '4242' WHERE case_id = :c"), {"c": case_id, "i": CARD.card_issuer})
    assert CARD.card_issuer not in payouts.card_issuers_waiting(ctx)
    # ...and the database refuses a second live payout, or moving the case's rail.
    with ctx.db.write() as session:  # a card list to forge a request on
        session.execute(text("INSERT INTO payout_list (kind, card_issuer, item_count, "
                             "total_amount, created_at) VALUES ('card_cancellation', 'x', 1, "
                             "30000, CURRENT_TIMESTAMP)"))
    with database_refuses(), ctx.db.write() as session:
        session.execute(text(
            "INSERT INTO payout_request (list_id, case_id, amount, live, rail) VALUES "
            "((SELECT max(id) FROM payout_list), :c, 30000, :t, 'card')"),
            {"c": case_id, "t": True})
    with database_refuses(), ctx.db.write() as session:
        session.execute(text("UPDATE case_file SET payout_rail = 'card' WHERE id = :c"),
                        {"c": case_id})
    with database_refuses(), ctx.db.write() as session:  # nor a rail-less live one
        session.execute(text(
            "INSERT INTO payout_request (list_id, case_id, amount, live) VALUES "
            "((SELECT max(id) FROM payout_list), :c, 30000, :t)"), {"c": case_id, "t": True})
    report = reconcile.reconcile(ctx)
    assert ("live_transfer_case_state" in
            {d.what for d in report.differences if d.case_number.startswith("H-")})


def test_returned_transfer_frees_the_case_for_another_method(ctx, staff, tmp_path):
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    case_id = approved_case(ctx, staff, Channel.CREDIT_CHARGE, BANK)
    batch_id = released(ctx, staff)
    send_batch(ctx, staff, batch_id, tmp_path / "furikomi.txt")
    payouts.record_results(ctx, staff["op1"], batch_id,
                           [ResultEntry("1", "returned", "closed_account")])
    assert status(ctx, case_id) == "approved"
    set_payout_details(ctx, staff["op1"], case_id, CARD,
                       confirmation=Confirmation(ConfirmedVia.PHONE_ON_RECORD))
    reverify(ctx, staff, case_id)
    card_list(ctx, staff, tmp_path)
    payouts.confirm_request(ctx, staff["op1"], case_id)
    assert status(ctx, case_id) == "paid"
    assert reconcile.reconcile(ctx).balanced


def test_a_refused_or_withdrawn_request_goes_back_on_the_rail(ctx, staff, rails, tmp_path):
    with pytest.raises(ValidationError):
        payouts.confirm_request(ctx, staff["op1"], rails["card"], done=False)
    payouts.confirm_request(ctx, staff["op1"], rails["card"], done=False, reason="請求確定済")
    assert status(ctx, rails["card"]) == "approved"
    with pytest.raises(PermissionDenied):  # an operator does not give a request up
        payouts.withdraw_request(ctx, staff["op1"], rails["nanaco"], "回答なし")
    payouts.withdraw_request(ctx, staff["sv1"], rails["nanaco"], "回答なし")
    assert status(ctx, rails["nanaco"]) == "approved"
    nanaco_list(ctx, staff, tmp_path)  # listed again, once
    assert [r.case_id for r in payouts.pending_requests(ctx, PayoutKind.NANACO)] == [
        rails["nanaco"]]
    assert reconcile.reconcile(ctx).balanced


def test_a_cancelled_built_batch_lets_its_cases_go(ctx, staff):
    case_id = approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    batch = payouts.build_batch(ctx, staff["sv1"])
    with pytest.raises(MoveNotAllowed):  # held by the batch: no hold, no withdrawal
        cases.move_case(ctx, staff["sv1"], case_id, MoveRequest(Status.ON_HOLD, reason="x"))
    payouts.cancel_batch(ctx, staff["sv2"], batch.id, "作り直し")
    held = cases.move_case(ctx, staff["sv1"], case_id, MoveRequest(Status.ON_HOLD, reason="x"))
    assert held.status is Status.ON_HOLD


def test_release_asks_a_fresh_code(ctx, staff):
    approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    batch = payouts.build_batch(ctx, staff["sv1"])
    with pytest.raises(SecondFactorRefused):
        payouts.release_batch(ctx, staff["sv2"], batch.id)
    with pytest.raises(SecondFactorRefused):
        payouts.release_batch(ctx, staff["sv2"], batch.id, second_factor="000000")
    assert payouts.get_batch(ctx, batch.id).status == "built"
    code = step_up_code(ctx, staff["sv2"])
    assert payouts.release_batch(ctx, staff["sv2"], batch.id,
                                 second_factor=code).status == "released"


def test_the_preview_is_what_gets_built(ctx, staff):
    first = approved_case(ctx, staff, Channel.DEBIT_CHARGE, phone="090-0000-0001")
    preview = payouts.preview_batch(ctx, staff["sv1"], transfer_date=date(2019, 9, 16))
    assert preview.count == 1 and preview.total_amount == 30_000
    assert preview.transfer_date == date(2019, 9, 17)  # 敬老の日 moved to the next bank day
    with pytest.raises(ValidationError):  # a day gone by is refused, not moved
        payouts.preview_batch(ctx, staff["sv1"], transfer_date=date(2019, 8, 1))
    approved_case(ctx, staff, Channel.DEBIT_CHARGE, phone="090-0000-0009", amount=5_000)
    with pytest.raises(ConflictError):  # another case became eligible after the preview
        payouts.build_batch(ctx, staff["sv1"], transfer_date=date(2019, 9, 16),
                            expected=preview)
    again = payouts.preview_batch(ctx, staff["sv1"], transfer_date=date(2019, 9, 16))
    built = payouts.build_batch(ctx, staff["sv1"], transfer_date=date(2019, 9, 16),
                                expected=again)
    assert built.item_count == 2 and built.total_amount == 35_000
    assert first in {i.case_id for i in payouts.batch_items(ctx, built.id)}


def test_a_result_file_that_cannot_be_applied_names_line_and_case(ctx, staff, rails,
                                                                    tmp_path):
    number = cases.get_case(ctx, staff["op1"], rails["transfer"]).case_number
    path = tmp_path / "results.csv"
    path.write_text("案件番号,結果,理由\n"
                    f"{number},done,\n"
                    "H-0000999-9,done,\n"
                    f"{number},maybe,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        payouts.record_results(ctx, staff["op1"], rails["batch"],
                               payouts.read_results_csv(path))
    assert "3行目" in refused.value.ja and "H-0000999-9" in refused.value.ja
    assert "4行目" in refused.value.ja and number in refused.value.ja
    assert "line 3" in refused.value.en
    assert status(ctx, rails["transfer"]) == "payout_requested"  # nothing applied


def _force(ctx, sql: str, **params) -> None:
    with ctx.db.write() as session:
        session.execute(text(sql), params)


def _found(ctx) -> set[tuple[str, str]]:
    return {(d.case_number, d.what) for d in reconcile.reconcile(ctx).differences}


def test_reconciliation_lists_each_forced_inconsistency(ctx, staff, rails, tmp_path):
    assert reconcile.reconcile(ctx).balanced
    number = {k: cases.get_case(ctx, staff["op1"], v).case_number for k, v in rails.items()
              if k != "batch"}
    payouts.confirm_request(ctx, staff["op1"], rails["card"])
    # A payment by hand, backed by nothing.
    _force(ctx, "UPDATE case_file SET status = 'paid', paid_amount = approved_amount "
                "WHERE id = :c", c=rails["waiting"])
    _force(ctx, "INSERT INTO payment (case_id, amount, method, paid_at) VALUES "
                "(:c, 30000, 'bank_account', CURRENT_TIMESTAMP)", c=rails["waiting"])
    # A confirmed card request whose case is not paid.
    _force(ctx, "UPDATE case_file SET status = 'payout_requested' WHERE id = :c",
           c=rails["card"])
    # A live transfer in a sent batch, its amount and account rewritten.
    _force(ctx, "UPDATE refund_item SET amount = amount * 10, account_number = '9999999' "
                "WHERE case_id = :c", c=rails["transfer"])
    # A live nanaco request, its case moved back.
    _force(ctx, "UPDATE case_file SET status = 'approved' WHERE id = :c", c=rails["nanaco"])
    found = _found(ctx)
    assert (number["waiting"], "paid_unbacked") in found
    assert (number["card"], "done_on_unpaid_case") in found
    assert (number["card"], "requested_without_rail") in found
    assert (number["transfer"], "item_amount") in found
    assert (number["transfer"], "item_destination") in found
    assert (f"batch {rails['batch']}", "batch_total") in found
    assert (number["nanaco"], "live_request_case_state") in found
    report = reconcile.reconcile(ctx)
    out = tmp_path / "reconcile.csv"
    reconcile.write_csv(report, out)
    listed = {row[0] for row in reconcile.csv_rows(out) if row}
    assert set(number.values()) <= listed


def test_reconciliation_sees_a_paid_case_with_two_backings(ctx, staff, rails, tmp_path):
    """Paid by a done transfer and, forced in beside it, a done card request: the
    database refuses the forgery (a done request stays live, and a live one must hold
    the case's rail); forced past its checks (SQLite's ignore_check_constraints, as a
    tool could), reconciliation lists it."""
    payouts.record_results(ctx, staff["op1"], rails["batch"], [ResultEntry("1", "done")])
    number = cases.get_case(ctx, staff["op1"], rails["transfer"]).case_number
    forged = ("INSERT INTO payout_request (list_id, case_id, amount, live, result) "
              "VALUES ((SELECT max(id) FROM payout_list), :c, 30000, :f, 'done')")
    with database_refuses(), ctx.db.write() as session:
        session.execute(text(forged), {"c": rails["transfer"], "f": False})
    if not ctx.db.is_sqlite:
        return
    raw = sqlite3.connect(ctx.db.path)
    with raw:
        raw.execute("PRAGMA ignore_check_constraints = ON")
        raw.execute(forged.replace(":c", str(rails["transfer"])).replace(":f", "0"))
    raw.close()
    assert (number, "paid_unbacked") in _found(ctx)
