"""Refund batches end to end on the demo programme, on SQLite and PostgreSQL:
build, four-eyes release, the transfer file, sent, results, a returned transfer
paid later exactly once, the database refusing a case in two live batches, and
the card-company and nanaco lists."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from app.core.errors import MoveNotAllowed, PermissionDenied, ValidationError
from app.domain.roles import SYSTEM_ACTOR, Role
from app.domain.states import Status
from app.exports.zengin import split_records
from app.services import demo, operators, payouts, settings
from app.services.payouts import ResultEntry
from app.storage.models import Case, Payment, RefundItem
from tests.conftest import PASSWORD, database_refuses, enrol_second_factor, step_up_code

SENDER = {
    "zengin_company_code": "1234567890", "zengin_company_name": "カブシキガイシャ セブン・ペイ",
    "zengin_bank_code": "0005", "zengin_branch_code": "001",
    "zengin_account_number": "7654321",
}


@pytest.fixture
def programme(ctx):
    demo.build_demo(ctx, victims=120, seed=11)
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    return ctx


@pytest.fixture
def staff(programme):
    """Test accounts added after the demo (which wants an empty database)."""
    made = {}
    for login, role in [("op1", Role.OPERATOR), ("sv1", Role.SUPERVISOR),
                        ("sv2", Role.SUPERVISOR)]:
        made[login] = operators.add_operator(programme, SYSTEM_ACTOR, login, login.upper(),
                                             role, PASSWORD).as_actor()
        if role is Role.SUPERVISOR:
            enrol_second_factor(programme, made[login], minutes_before=10)
    return made


def fresh(ctx, staff, who: str) -> dict:
    """The keyword a supervisor's export carries: a fresh authenticator code."""
    return {"second_factor": step_up_code(ctx, staff[who])}


def _status(ctx, case_number: str) -> str:
    with ctx.db.read() as session:
        return session.exec(select(Case.status).where(Case.case_number == case_number)).one()[0]


def test_build_release_export_and_pay(programme, staff, tmp_path):
    ctx = programme
    waiting = payouts.waiting_for_transfer(ctx)
    batch = payouts.build_batch(ctx, staff["sv1"])
    assert batch.status == "built" and batch.item_count == sum(waiting.values()) > 0
    items = payouts.batch_items(ctx, batch.id)
    assert batch.total_amount == sum(i.amount for i in items)

    with pytest.raises(PermissionDenied):  # four eyes: not the one who built it
        payouts.release_batch(ctx, staff["sv1"], batch.id)
    with pytest.raises(PermissionDenied):  # and not an operator either
        payouts.release_batch(ctx, staff["op1"], batch.id)
    with pytest.raises(MoveNotAllowed):  # nothing to export before release
        payouts.export_batch(ctx, staff["sv1"], batch.id, tmp_path / "early.txt",
                             **fresh(ctx, staff, "sv1"))

    released = payouts.release_batch(ctx, staff["sv2"], batch.id, **fresh(ctx, staff, "sv2"))
    assert released.status == "released" and released.released_by == "sv2"
    assert {_status(ctx, i.case_number) for i in items} == {"payout_requested"}

    out = tmp_path / "furikomi.txt"
    payouts.export_batch(ctx, staff["sv2"], batch.id, out, **fresh(ctx, staff, "sv2"))
    records = split_records(out.read_bytes())
    assert all(len(r) == 120 for r in records)
    assert [r[:1] for r in records] == [b"1"] + [b"2"] * len(items) + [b"8", b"9"]
    assert int(records[-2][1:7]) == len(items)
    assert int(records[-2][7:19]) == batch.total_amount

    with pytest.raises(MoveNotAllowed):  # results only once the file went to the bank
        payouts.record_results(ctx, staff["op1"], batch.id, [ResultEntry("1", "done")])
    payouts.mark_sent(ctx, staff["op1"], batch.id)
    with pytest.raises(MoveNotAllowed):  # never cancelled after it is sent
        payouts.cancel_batch(ctx, staff["sv1"], batch.id, "too late")

    first, rest = items[0], items[1:]
    summary = payouts.record_results(
        ctx, staff["op1"], batch.id,
        [ResultEntry(first.case_number, "returned", "closed_account")]
        + [ResultEntry(str(i.seq), "done") for i in rest])
    assert summary.returned == [first.case_number] and len(summary.done) == len(rest)
    assert _status(ctx, first.case_number) == "approved"
    assert {_status(ctx, i.case_number) for i in rest} == {"paid"}

    # The returned case is fixed and paid in a later batch, exactly once.
    again = payouts.build_batch(ctx, staff["sv2"])
    assert [i.case_number for i in payouts.batch_items(ctx, again.id)] == [first.case_number]
    payouts.release_batch(ctx, staff["sv1"], again.id, **fresh(ctx, staff, "sv1"))
    payouts.export_batch(ctx, staff["sv1"], again.id, tmp_path / "again.txt",
                         **fresh(ctx, staff, "sv1"))
    payouts.mark_sent(ctx, staff["op1"], again.id)
    payouts.record_results(ctx, staff["op1"], again.id, [ResultEntry("1", "done")])
    with ctx.db.read() as session:
        case_id = session.exec(select(Case.id).where(
            Case.case_number == first.case_number)).one()[0]
        payments = session.exec(select(Payment.amount).where(Payment.case_id == case_id)).all()
    assert [p[0] for p in payments] == [first.amount]
    with pytest.raises(ValidationError, match=f"line 1 .*{first.case_number}"):  # twice
        payouts.record_results(ctx, staff["op1"], again.id, [ResultEntry("1", "done")])


def test_database_refuses_a_case_in_two_live_batches(programme, staff):
    ctx = programme
    batch = payouts.build_batch(ctx, staff["sv1"])
    item = payouts.batch_items(ctx, batch.id)[0]
    other = payouts.build_batch  # a second batch has nothing left to take
    with pytest.raises(Exception, match="振込できる"):
        other(ctx, staff["sv2"])
    with database_refuses(), ctx.db.write() as session:
        session.execute(text(
            "INSERT INTO refund_item (batch_id, case_id, seq, amount, live, rail, bank_code, "
            "branch_code, account_type, account_number, holder_zengin) VALUES (:b, :c, 99, "
            ":a, :live, 'transfer', '0001', '001', 'ordinary', '1234567', 'ﾃｽﾄ')"),
            {"b": batch.id, "c": item.case_id, "a": item.amount, "live": True})
    # A dead item (cancelled batch, returned transfer) does not block the case.
    with ctx.db.write() as session:
        session.execute(text(
            "INSERT INTO refund_item (batch_id, case_id, seq, amount, live, bank_code, "
            "branch_code, account_type, account_number, holder_zengin) "
            "VALUES (:b, :c, 98, :a, :live, '0001', '001', 'ordinary', '1234567', 'ﾃｽﾄ')"),
            {"b": batch.id, "c": item.case_id, "a": item.amount, "live": False})


def test_cancel_before_sending_returns_cases(programme, staff):
    ctx = programme
    batch = payouts.build_batch(ctx, staff["sv1"])
    payouts.release_batch(ctx, staff["sv2"], batch.id, **fresh(ctx, staff, "sv2"))
    items = payouts.batch_items(ctx, batch.id)
    cancelled = payouts.cancel_batch(ctx, staff["sv1"], batch.id, "口座確認のため")
    assert cancelled.status == "cancelled"
    assert {_status(ctx, i.case_number) for i in items} == {"approved"}
    rebuilt = payouts.build_batch(ctx, staff["sv1"])
    assert rebuilt.item_count == len(items)
    with ctx.db.read() as session:
        live = dict(session.exec(select(RefundItem.batch_id, func.count()).where(
            RefundItem.live, RefundItem.batch_id.in_([batch.id, rebuilt.id]))
            .group_by(RefundItem.batch_id)).all())
    assert live == {rebuilt.id: len(items)}  # the cancelled batch holds nothing


def test_transfer_date_moves_off_a_holiday(programme, staff):
    # 2019-09-16 is 敬老の日 (Monday): the transfer goes on Tuesday the 17th.
    batch = payouts.build_batch(programme, staff["sv1"], transfer_date=date(2019, 9, 16))
    assert batch.transfer_date == date(2019, 9, 17)
    # 31 December to 3 January are bank holidays, then a weekend: Monday 6 January.
    assert payouts.transfer_date_for(date(2019, 12, 20), 2, date(2019, 12, 31)) \
        == date(2020, 1, 6)
    # Without a wanted date: two business days ahead of Friday 27 December are
    # Monday 30 December and then, past the bank holidays and a weekend, 6 January.
    assert payouts.transfer_date_for(date(2019, 12, 27), 2) == date(2020, 1, 6)


def test_card_and_nanaco_lists(programme, staff, tmp_path):
    ctx = programme
    issuers = payouts.card_issuers_waiting(ctx)
    issuer, count = next(iter(issuers.items()))
    out = tmp_path / "card.csv"
    assert payouts.card_cancellation_list(ctx, staff["sv1"], issuer, out,
                                          **fresh(ctx, staff, "sv1")) == count
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("案件番号,カード会社,カード下4桁") and len(lines) == count + 1
    newest = max(p.list_id for p in payouts.pending_requests(ctx))
    pending = [p for p in payouts.pending_requests(ctx) if p.list_id == newest]
    assert len(pending) == count and {_status(ctx, p.case_number) for p in pending} == {
        Status.PAYOUT_REQUESTED.value}
    payouts.confirm_request(ctx, staff["op1"], pending[0].case_id)
    assert _status(ctx, pending[0].case_number) == "paid"

    nanaco_out = tmp_path / "nanaco.csv"
    waiting = payouts.nanaco_waiting(ctx)
    assert payouts.nanaco_list(ctx, staff["sv2"], nanaco_out,
                               **fresh(ctx, staff, "sv2")) == waiting
    rows = nanaco_out.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert all(row.split(",")[2].startswith("************") for row in rows)


def test_holder_name_mismatch_flag_for_the_verifier(programme, staff):
    ctx = programme
    item = payouts.batch_items(ctx, payouts.build_batch(ctx, staff["sv1"]).id)[0]
    assert not item.name_mismatch  # the demo's holders are the victims themselves
    assert not payouts.holder_mismatch_for_case(ctx, item.case_id)
    with ctx.db.write() as session:
        session.execute(text(
            "UPDATE payout_detail SET holder_kana = 'ベツニン ハナコ' WHERE case_id = :c"),
            {"c": item.case_id})
    assert payouts.holder_mismatch_for_case(ctx, item.case_id)


def test_payout_details_are_frozen_while_a_batch_holds_the_case(programme, staff):
    from app.services.payout_details import Confirmation, ConfirmedVia, set_payout_details
    from tests.services.helpers import OTHER_BANK

    ctx = programme
    batch = payouts.build_batch(ctx, staff["sv1"])
    item = payouts.batch_items(ctx, batch.id)[0]
    with pytest.raises(MoveNotAllowed, match="batch"):  # the batch holds it as it was built
        set_payout_details(ctx, staff["op1"], item.case_id, OTHER_BANK,
                           confirmation=Confirmation(ConfirmedVia.LETTER_ON_RECORD))
    assert _status(ctx, item.case_number) == "approved"
    # Forced past the services, the release still notices and refuses, whole.
    with ctx.db.write() as session:
        session.execute(text("UPDATE payout_detail SET account_number = '7654321' "
                             "WHERE case_id = :c"), {"c": item.case_id})
    with pytest.raises(MoveNotAllowed, match=item.case_number):
        payouts.release_batch(ctx, staff["sv2"], batch.id, **fresh(ctx, staff, "sv2"))
    assert payouts.get_batch(ctx, batch.id).status == "built"  # nothing half-released
