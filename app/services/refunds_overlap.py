"""Never the same yen twice: every person with money in both programmes, what each
programme has paid and will pay, and reconciliation's person-by-person check.

A member is one person in both programmes when the compensation victim carries the
member's ID (the spec's rule). The check weighs each such person by
app.domain.refunds.Overlap: compensation and refund together may not pass the
losses it makes good plus the balance, less the part of the balance that came from
the charges.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlmodel import Session

from app.domain import refunds as rules
from app.domain.states import Status
from app.services.context import AppContext
from app.storage.models import (
    Case,
    Payment,
    RefundApplication,
    RefundMember,
    RefundPayment,
    Victim,
)

# Cases that will pay nothing more.
_NOT_PAYING = (Status.REJECTED.value, Status.MERGED.value)
# Applications on their way to a payout: what the refund "will pay". Undecided ones
# (unmatched, late, held for the overlap) pay nothing until someone decides.
_REFUNDING = tuple(s.value for s in (rules.RefundState.CONFIRMED,
                                     rules.RefundState.AWAITING_IDENTITY,
                                     rules.RefundState.AWAITING_METHOD))


@dataclass(frozen=True)
class PersonInBoth:
    member_id: str
    name: str
    victim_id: int
    charges: int
    balance: int
    fraud_charge_balance: int | None
    compensation_paid: int
    compensation_due: int
    refund_paid: int
    refund_due: int
    allowed: int
    excess: int


def _compensation(session: Session) -> dict[int, tuple[int, int, int]]:
    """victim id -> (credit/debit charges claimed, paid, still to pay), for victims who
    are also members."""
    overlap = Case.channel.in_(sorted(rules.OVERLAP_CHANNELS))
    open_case = Case.status.not_in(_NOT_PAYING) & Case.paid_amount.is_(None)
    due = func.coalesce(Case.approved_amount, Case.verified_amount, Case.claimed_amount)
    paid = select(Payment.case_id, Payment.amount.label("amount")).subquery()
    rows = session.execute(
        select(Case.victim_id,
               func.sum(case((overlap, Case.claimed_amount), else_=0)),
               func.sum(func.coalesce(paid.c.amount, 0)),
               func.sum(case((open_case, due), else_=0)))
        .join(Victim, Victim.id == Case.victim_id)
        .join(RefundMember, RefundMember.member_id == Victim.member_id)
        .outerjoin(paid, paid.c.case_id == Case.id)
        .where(Case.merged_into_id.is_(None))
        .group_by(Case.victim_id)).all()
    return {victim: (int(c), int(p), int(d)) for victim, c, p, d in rows}


def people_in_both(session: Session) -> list[PersonInBoth]:
    compensation = _compensation(session)
    if not compensation:
        return []
    refunded = (select(RefundPayment.member_ref, RefundPayment.amount.label("amount"))
                .subquery())
    standing = (select(RefundApplication.member_ref,
                       func.max(RefundApplication.refundable_amount).label("amount"))
                .where(RefundApplication.state.in_(_REFUNDING))
                .group_by(RefundApplication.member_ref).subquery())
    rows = session.execute(
        select(RefundMember.member_id, Victim.name, Victim.id, RefundMember.balance,
               RefundMember.fraud_charge_balance, refunded.c.amount, standing.c.amount)
        .join(Victim, Victim.member_id == RefundMember.member_id)
        .outerjoin(refunded, refunded.c.member_ref == RefundMember.id)
        .outerjoin(standing, standing.c.member_ref == RefundMember.id)
        .where(Victim.id.in_(list(compensation)))
        .order_by(RefundMember.member_id)).all()
    people = []
    for member_id, name, victim_id, balance, fraud, paid, due in rows:
        charges, comp_paid, comp_due = compensation[victim_id]
        weighed = rules.Overlap(charges=charges, losses=comp_paid + comp_due, balance=balance,
                                fraud_charge_balance=fraud,
                                compensation=comp_paid + comp_due,
                                refund=int(paid or 0) + int(due or 0))
        people.append(PersonInBoth(member_id, name, victim_id, charges, balance, fraud,
                                   comp_paid, comp_due, int(paid or 0), int(due or 0),
                                   weighed.allowed, weighed.excess))
    return people


def both_programmes(ctx: AppContext) -> list[PersonInBoth]:
    """The supervisor's page: every person with money in both programmes."""
    with ctx.db.read() as session:
        return people_in_both(session)


def refund_differences(session: Session) -> list[tuple[str, str, int | None, int | None]]:
    """For reconciliation: (who, what, expected, found) for every person paid or to be
    paid more than both programmes allow, and every refund paid other than its amount."""
    found = [(f"7iD {p.member_id}", "both_programmes_excess", p.allowed,
              p.compensation_paid + p.compensation_due + p.refund_paid + p.refund_due)
             for p in people_in_both(session) if p.excess]
    rows = session.execute(
        select(RefundMember.member_id, RefundApplication.refundable_amount,
               RefundPayment.amount)
        .join(RefundApplication, RefundApplication.id == RefundPayment.application_ref)
        .join(RefundMember, RefundMember.id == RefundPayment.member_ref)
        .where(RefundPayment.amount != RefundApplication.refundable_amount)
        .order_by(RefundMember.member_id)).all()
    found += [(f"7iD {m}", "refund_payment_amount", int(e or 0), int(a)) for m, e, a in rows]
    return found
