"""The balance-refund programme's figures, by SQL aggregates, beside compensation's."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from app.domain.refunds import RefundState
from app.services.context import AppContext
from app.services.refunds_import import state_counts
from app.storage.models import RefundApplication, RefundMember, RefundPayment

# Refundable: what the applications standing for a payout come to (one per member).
_STANDING = tuple(s.value for s in (RefundState.CONFIRMED, RefundState.AWAITING_IDENTITY,
                                    RefundState.AWAITING_METHOD, RefundState.PAID))


def refund_figures(session: Session) -> dict:
    members, balance_total = session.execute(
        select(func.count(), func.coalesce(func.sum(RefundMember.balance), 0))
        .select_from(RefundMember)).one()
    applications = session.execute(select(func.count()).select_from(RefundApplication)
                                   ).scalar_one()
    refundable = session.execute(select(func.coalesce(func.sum(
        RefundApplication.refundable_amount), 0)).where(
        RefundApplication.state.in_(_STANDING))).scalar_one()
    refunded = session.execute(select(func.coalesce(func.sum(RefundPayment.amount), 0))
                               ).scalar_one()
    return {"members": int(members), "balance_total": int(balance_total),
            "applications": int(applications), "states": state_counts(session),
            "refundable_total": int(refundable), "refunded_total": int(refunded)}


def figures(ctx: AppContext) -> dict:
    """The figures, and in a demo the day its applications are as of (``demo_as_of``,
    ISO; None outside a demo): the refund programme's demo stands on its own day."""
    from app.services.demo_refunds import stands

    with ctx.db.read() as session:
        stand = stands(session)
        return refund_figures(session) | {
            "demo_as_of": stand.as_of.isoformat() if stand else None}
