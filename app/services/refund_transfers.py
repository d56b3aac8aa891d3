"""Balance refunds in the compensation programme's Zengin batches.

A batch may hold both programmes: app.services.payouts builds, releases, cancels,
exports and takes the bank's results for every item, and calls these for the items
that are a refund application's (``refund_item.application_ref``). Such an item claims
the application's transfer rail by the same foreign key pattern as a case's item
(refund_item (application_ref, rail) -> refund_application (id, payout_rail)), so a
live 払出証書 and a live transfer for one application cannot both exist; the refund is
paid once per member (refund_payment.member_ref unique).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app.core.errors import MoveNotAllowed, ValidationError
from app.domain import refunds as rules
from app.domain.roles import Actor
from app.domain.text import mask_tail
from app.domain.zengin import to_zengin_kana
from app.services import audit
from app.services.refunds import RAIL_TRANSFER, _get, _move, _pay, claim_transfer
from app.storage.models import RefundApplication, RefundItem, RefundPayment

PROGRAMME = "balance_refund"


def plan(session: Session, limit: int | None) -> tuple[list, list[str]]:
    """Confirmed bank-transfer applications on no rail, not yet paid, oldest first:
    ([(application, holder in Zengin kana)], [refusals])."""
    query = (select(RefundApplication)
             .where(RefundApplication.state == rules.RefundState.CONFIRMED.value,
                    RefundApplication.method == rules.Method.BANK_TRANSFER.value,
                    RefundApplication.payout_rail.is_(None),
                    RefundApplication.refundable_amount > 0,
                    RefundApplication.member_ref.not_in(select(RefundPayment.member_ref)))
             .order_by(RefundApplication.decided_at, RefundApplication.id))
    if limit:
        query = query.limit(limit)
    rows, refused = [], []
    for app in session.execute(query).scalars():
        try:
            rows.append((app, to_zengin_kana(app.holder_kana or "")))
        except ValidationError as exc:
            refused.append(f"{app.application_id}: {exc.ja}")
    return rows, refused


def label(app: RefundApplication) -> str:
    return f"払戻 {app.application_id}"


def add_items(session: Session, batch_id: int, rows: list, first_seq: int) -> int:
    """The refund items after the cases'; how many were added."""
    for seq, (app, holder) in enumerate(rows, start=first_seq):
        app = _get(session, app.id, lock=True)
        claim_transfer(session, app)
        session.flush()
        session.add(RefundItem(
            batch_id=batch_id, application_ref=app.id, seq=seq, amount=app.refundable_amount,
            rail=RAIL_TRANSFER, bank_code=app.bank_code, branch_code=app.branch_code,
            account_type=app.account_type or "ordinary", account_number=app.account_number,
            holder_zengin=holder))
    session.flush()
    return len(rows)


def check_release(session: Session, item: RefundItem) -> None:
    """Between build and release the application may have changed: refuse, never guess."""
    app = _get(session, item.application_ref, lock=True)
    going = (app.bank_code, app.branch_code, app.account_number)
    if (app.state != rules.RefundState.CONFIRMED.value or app.refundable_amount != item.amount
            or going != (item.bank_code, item.branch_code, item.account_number)):
        raise MoveNotAllowed(
            f"{label(app)} の状態・金額または振込先がバッチ作成後に変わりました。"
            "バッチを取り消して作り直してください。",
            f"Refund {app.application_id} changed after the batch was built: rebuild it.")


def let_go(session: Session, item: RefundItem) -> None:
    """The item stops being live, then the application leaves the transfer rail."""
    item.live, item.rail = False, None
    session.add(item)
    session.flush()
    app = _get(session, item.application_ref, lock=True)
    app.payout_rail = None
    session.add(app)
    session.flush()


def apply_result(session: Session, actor: Actor, now: datetime, batch_id: int,
                 item: RefundItem, result: str, reason: str | None) -> str:
    """done: the refund is paid; returned: off the rail, back to confirmed for a later
    batch once the account is put right. Returns the item's label."""
    app = _get(session, item.application_ref, lock=True)
    if result == "done":
        _pay(session, actor, now, app, RAIL_TRANSFER, f"ZENGIN-{batch_id}-{item.seq}")
    else:
        let_go(session, item)
        _move(session, actor, now, app, rules.RefundState.CONFIRMED,
              f"振込返却: {reason}", "refund.transfer_returned")
    audit.record(session, actor, now, "payout.transfer_result", "refund_item", item.id,
                 after={"result": result, "batch": batch_id, "seq": item.seq,
                        "programme": PROGRAMME, "application_id": app.application_id},
                 reason=reason)
    return label(app)


def labels(session: Session, items: list[RefundItem]) -> dict[int, str]:
    """item id -> label, for the refund items of a batch."""
    refs = {i.application_ref for i in items if i.application_ref is not None}
    if not refs:
        return {}
    ids = dict(session.execute(select(RefundApplication.id, RefundApplication.application_id)
                               .where(RefundApplication.id.in_(refs))).all())
    return {i.id: f"払戻 {ids[i.application_ref]}" for i in items
            if i.application_ref is not None}


def item_views(session: Session, batch_id: int, view_class) -> list:
    """The batch's refund items as the payouts page lists them, each saying its
    programme (the application number stands where a case number would)."""
    rows = session.execute(
        select(RefundItem, RefundApplication.application_id)
        .join(RefundApplication, RefundApplication.id == RefundItem.application_ref)
        .where(RefundItem.batch_id == batch_id)).all()
    return [view_class(seq=i.seq, case_id=0, case_number=f"払戻 {number}", channel=PROGRAMME,
                       amount=i.amount, bank_code=i.bank_code, branch_code=i.branch_code,
                       account=mask_tail(i.account_number, 3), holder=i.holder_zengin,
                       result=i.result, reason=i.result_reason, live=i.live,
                       programme=PROGRAMME)
            for i, number in rows]
