"""Attacks on "money moves only along its rail" (issues #12 and #13) that succeeded
when tried, each written as the promise it breaks, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select, text

from app.core.errors import ConflictError, HoshoError, ValidationError
from app.domain.channels import Channel
from app.domain.roles import SYSTEM_ACTOR
from app.domain.states import Status
from app.services import cases, payouts, reconcile, settings
from app.services.cases import MoveRequest
from app.services.payouts import ResultEntry
from app.storage.models import Case, PayoutRequest
from tests.conftest import database_refuses, step_up_code
from tests.services.helpers import SENDER, send_batch
from tests.services.test_money_rail import (
    CARD,
    approved_case,
    card_list,
    nanaco_list,
    released,
    status,
)


@pytest.fixture
def rails(ctx, staff, tmp_path):
    """As tests/services/test_money_rail.py: a sent transfer, a listed card case and a
    listed nanaco case."""
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    transfer = approved_case(ctx, staff, Channel.DEBIT_CHARGE, phone="090-0000-0001")
    batch_id = released(ctx, staff)
    send_batch(ctx, staff, batch_id, tmp_path / "furikomi.txt")
    card = approved_case(ctx, staff, Channel.CREDIT_CHARGE, phone="090-0000-0002")
    card_list(ctx, staff, tmp_path)
    nanaco = approved_case(ctx, staff, Channel.NANACO_CHARGE, phone="090-0000-0003")
    nanaco_list(ctx, staff, tmp_path)
    return {"transfer": transfer, "card": card, "nanaco": nanaco, "batch": batch_id}


def _force(ctx, sql: str, **params) -> None:
    with ctx.db.write() as session:
        session.execute(text(sql), params)


def _found(ctx) -> set[tuple[str, str]]:
    return {(d.case_number, d.what) for d in reconcile.reconcile(ctx).differences}


def _number(ctx, staff, case_id: int) -> str:
    return cases.get_case(ctx, staff["op1"], case_id).case_number


# -- a desk that read a case before another desk changed it -------------------------------

def test_a_list_does_not_take_a_case_whose_approval_was_withdrawn_meanwhile(
        ctx, staff, tmp_path, monkeypatch):
    """An administrator writes the card company's list; between the list's read of the
    approved cases and its lock of each case, a supervisor withdraws one approval
    (suspected fraud) on another desk. The list must not carry that case."""
    if ctx.db.is_sqlite:
        pytest.skip("SQLite write transactions begin IMMEDIATE: the other desk waits")
    case_id = approved_case(ctx, staff, Channel.CREDIT_CHARGE)
    read_approved = payouts._approved_for

    def read_then_other_desk_withdraws(session, kind, issuer=None):
        rows = read_approved(session, kind, issuer)
        cases.move_case(ctx, staff["sv2"], case_id,
                        MoveRequest(Status.VERIFIED, reason="不正の疑い"))
        return rows

    monkeypatch.setattr(payouts, "_approved_for", read_then_other_desk_withdraws)
    code = step_up_code(ctx, staff["admin1"])
    with pytest.raises(ConflictError) as refused:
        payouts.card_cancellation_list(ctx, staff["admin1"], CARD.card_issuer,
                                       tmp_path / "card.csv", second_factor=code)
    assert _number(ctx, staff, case_id) in refused.value.ja
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        live = session.exec(select(PayoutRequest).where(PayoutRequest.case_id == case_id,
                                                        PayoutRequest.live)).all()
        assert (case.status, case.approved_amount, len(live)) == ("verified", None, 0)


def test_a_batch_does_not_take_a_case_put_on_hold_meanwhile(ctx, staff, monkeypatch):
    """The same interleaving for a batch: the case put on hold after the batch read the
    approved cases. Built with it, the hold could not be lifted (the rail holds the
    case) until the batch was cancelled."""
    if ctx.db.is_sqlite:
        pytest.skip("SQLite write transactions begin IMMEDIATE: the other desk waits")
    case_id = approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    read_eligible = payouts._eligible

    def read_then_other_desk_holds(session, channel, limit):
        rows = read_eligible(session, channel, limit)
        cases.move_case(ctx, staff["sv2"], case_id,
                        MoveRequest(Status.ON_HOLD, reason="本人確認の電話待ち"))
        return rows

    monkeypatch.setattr(payouts, "_eligible", read_then_other_desk_holds)
    with pytest.raises(ConflictError):
        payouts.build_batch(ctx, staff["sv1"])
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        assert (case.status, case.payout_rail) == ("on_hold", None)


# -- the database's own guards --------------------------------------------------------------

def test_a_paid_transfer_cannot_be_made_not_live_to_free_its_case(ctx, staff, rails,
                                                                   tmp_path):
    """A done transfer holds its case's rail for good. Marking it not live (the CHECK
    allows a rail-less, not-live row whatever its result) frees the rail, and the
    case can then be put on the card rail beside the payment."""
    payouts.record_results(ctx, staff["op1"], rails["batch"], [ResultEntry("1", "done")])
    assert status(ctx, rails["transfer"]) == "paid"
    with database_refuses(), ctx.db.write() as session:
        session.execute(text("UPDATE refund_item SET live = :f, rail = NULL "
                             "WHERE case_id = :c"), {"c": rails["transfer"], "f": False})


def test_a_live_flag_that_is_not_a_boolean_is_refused(ctx, staff, rails):
    """SQLite stores any value in a BOOLEAN column: live = 'yes' is false to the CHECK
    (so no rail is needed and the foreign key is never asked) and to the partial
    unique index, while the export reads every item of the batch. A second transfer
    for a case already on the card rail, forged so, must be refused."""
    with database_refuses(), ctx.db.write() as session:
        session.execute(text(
            "INSERT INTO refund_item (batch_id, case_id, seq, amount, live, rail, bank_code, "
            "branch_code, account_type, account_number, holder_zengin) VALUES "
            "(:b, :c, 2, 30000, 'yes', NULL, '0001', '001', 'ordinary', '7777777', 'ｻｷﾞ')"),
            {"b": rails["batch"], "c": rails["card"]})


# -- reconciliation that says 差異なし while money is wrong -------------------------------------

def test_reconciliation_sees_a_case_live_on_two_rails(ctx, staff, rails, db):
    """The rail foreign key only holds where it is enforced: SQLite's own tools leave
    foreign keys off, and PostgreSQL's replica role skips them. A live transfer forged
    for the card case, the batch's totals made to agree: reconciliation must still
    list the case (two live payouts, a transfer on a case held by the card rail)."""
    insert = ("INSERT INTO refund_item (batch_id, case_id, seq, amount, live, rail, bank_code,"
              " branch_code, account_type, account_number, holder_zengin) VALUES "
              f"({rails['batch']}, {rails['card']}, 2, 30000, true, 'transfer', '0001', '001',"
              " 'ordinary', '7777777', 'ｻｷﾞ')")
    totals = (f"UPDATE refund_batch SET item_count = 2, total_amount = 60000 "
              f"WHERE id = {rails['batch']}")
    if db.is_sqlite:
        raw = sqlite3.connect(db.path)  # as the sqlite3 tool opens it: foreign keys off
        with raw:
            raw.execute(insert.replace("true", "1"))
            raw.execute(totals)
        raw.close()
    else:
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(insert))
            conn.execute(text(totals))
    number = _number(ctx, staff, rails["card"])
    assert number in {case for case, _what in _found(ctx)}


def test_reconciliation_sees_a_live_transfer_whose_account_type_was_changed(ctx, staff,
                                                                            rails):
    """Same bank, branch and number, another account type: another account."""
    _force(ctx, "UPDATE refund_item SET account_type = 'current' WHERE case_id = :c",
           c=rails["transfer"])
    assert (_number(ctx, staff, rails["transfer"]), "item_destination") in _found(ctx)


def test_reconciliation_sees_a_live_transfer_whose_case_has_no_bank_account(ctx, staff,
                                                                            rails):
    """The case's payout details rewritten to a card: the comparison with NULL bank
    fields comes out NULL, and the transfer is not listed."""
    _force(ctx, "UPDATE payout_detail SET kind = 'card_cancellation', bank_code = NULL, "
                "branch_code = NULL, account_number = NULL, card_issuer = 'x', "
                "card_last4 = '4242' WHERE case_id = :c", c=rails["transfer"])
    assert (_number(ctx, staff, rails["transfer"]), "item_destination") in _found(ctx)


def test_a_result_the_case_cannot_take_names_its_line_and_case(ctx, staff, rails):
    """The case of a transfer moved out of 支払手続中 behind the program: the bank's
    result is refused, whole, naming the line and the case (not only the move)."""
    _force(ctx, "UPDATE case_file SET status = 'approved' WHERE id = :c", c=rails["transfer"])
    with pytest.raises(ValidationError) as refused:
        payouts.record_results(ctx, staff["op1"], rails["batch"],
                               [ResultEntry("1", "done", line=2)])
    number = _number(ctx, staff, rails["transfer"])
    assert "2行目" in refused.value.ja and number in refused.value.ja
    assert "line 2" in refused.value.en
    assert status(ctx, rails["transfer"]) == "approved"


def test_reconciliation_sees_a_case_held_by_a_rail_with_nothing_live(ctx, staff):
    """case_file.payout_rail takes any word and needs no live row: an approved case
    given one by SQL is taken by no batch and moved by no one, unseen."""
    case_id = approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    _force(ctx, "UPDATE case_file SET payout_rail = 'bogus' WHERE id = :c", c=case_id)
    assert _number(ctx, staff, case_id) in {case for case, _what in _found(ctx)}


# -- the transfer file -----------------------------------------------------------------------

def test_a_batch_exported_again_gives_the_same_bytes_or_nothing(ctx, staff, rails, tmp_path):
    """The rails fixture exported and sent the batch. An administrator then changes
    the sender's line ends; exporting the sent batch again writes a different file
    for the same transfers (and records its digest over the first one's)."""
    first = (tmp_path / "furikomi.txt").read_bytes()
    settings.change_many(ctx, SYSTEM_ACTOR, {**SENDER, "zengin_line_end": "lf"})
    again = tmp_path / "again.txt"
    try:
        payouts.export_batch(ctx, staff["sv2"], rails["batch"], again,
                             second_factor=step_up_code(ctx, staff["sv2"]))
    except HoshoError:  # refusing the export keeps the promise too
        assert not again.exists()
        return
    assert again.read_bytes() == first
