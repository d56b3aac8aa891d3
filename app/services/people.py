"""A person's page: the compensation cases and the refund applications of one person,
with what each programme has paid and will pay (issue 17: "a person's page shows
both").

A member is one person in both programmes when the compensation victim carries the
member's ID (the spec's rule; the balance import also notes the victim it found,
refund_member.victim_id). From a case the person is its victim; from an application,
its member (an application whose member is not yet found is a person of its own).
What each programme "will pay" is counted as on the supervisor's page of people in
both programmes (app.services.refunds_overlap): a case not rejected, merged or paid
will pay its approved, else verified, else claimed amount; an application on its way
to a payout will pay its refundable amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session

from app.core.errors import NotFound
from app.domain.refunds import RefundState
from app.services.context import AppContext
from app.services.refunds_overlap import _NOT_PAYING, _REFUNDING
from app.storage.models import (
    Case,
    Payment,
    RefundApplication,
    RefundMember,
    RefundPayment,
    Victim,
)


@dataclass(frozen=True)
class PersonCase:
    """A compensation case of the person."""

    case_id: int
    case_number: str
    channel: str
    status: str
    claimed: int
    paid: int
    due: int


@dataclass(frozen=True)
class PersonApplication:
    """A refund application of the person."""

    id: int
    application_id: str
    route: str
    applied_at: datetime
    method: str
    state: str
    state_label: str
    refundable: int | None
    paid: int
    due: int


@dataclass(frozen=True)
class Person:
    name: str
    member_id: str | None
    victim_id: int | None
    member_ref: int | None
    balance: int | None  # the closing balance, when the balance file has the member
    fraud_charge_balance: int | None
    cases: tuple[PersonCase, ...]
    applications: tuple[PersonApplication, ...]

    @property
    def compensation_paid(self) -> int:
        return sum(c.paid for c in self.cases)

    @property
    def compensation_due(self) -> int:
        return sum(c.due for c in self.cases)

    @property
    def refund_paid(self) -> int:
        return sum(a.paid for a in self.applications)

    @property
    def refund_due(self) -> int:
        return sum(a.due for a in self.applications)


def person_for_case(ctx: AppContext, case_id: int) -> Person:
    """The person of a compensation case: its victim, and the member of the same ID."""
    with ctx.db.read() as session:
        victim_id = session.execute(select(Case.victim_id).where(Case.id == case_id)
                                    ).scalar_one_or_none()
        if victim_id is None:
            raise NotFound(f"案件（{case_id}）が見つかりません。", f"Case {case_id} not found.")
        victim = session.get(Victim, victim_id)
        member = _member_of(session, victim)
        return _person(session, victim, member, None)


def person_for_application(ctx: AppContext, application_ref: int) -> Person:
    """The person of a refund application: its member, and the victim of the same ID."""
    with ctx.db.read() as session:
        app = session.get(RefundApplication, application_ref)
        if app is None:
            raise NotFound(f"払戻申出（{application_ref}）が見つかりません。",
                           f"Refund application {application_ref} not found.")
        member = session.get(RefundMember, app.member_ref) if app.member_ref else None
        victim = _victim_of(session, member) if member else None
        return _person(session, victim, member, None if member else app)


def _member_of(session: Session, victim: Victim) -> RefundMember | None:
    conditions = [RefundMember.victim_id == victim.id]
    if victim.member_id:
        conditions.append(RefundMember.member_id == victim.member_id)
    return session.execute(select(RefundMember).where(or_(*conditions))
                           .order_by(RefundMember.id)).scalars().first()


def _victim_of(session: Session, member: RefundMember) -> Victim | None:
    if member.victim_id is not None:
        return session.get(Victim, member.victim_id)
    return session.execute(select(Victim).where(Victim.member_id == member.member_id)
                           .order_by(Victim.id)).scalars().first()


def _person(session: Session, victim: Victim | None, member: RefundMember | None,
            lone: RefundApplication | None) -> Person:
    cases = _cases(session, victim.id) if victim else ()
    if member is not None:
        applications = _applications(session, member.id)
    else:
        applications = _applications(session, None, lone) if lone else ()
    name = victim.name if victim else (member.name if member and member.name else
                                       lone.name if lone else "")
    return Person(name=name,
                  member_id=(member.member_id if member else
                             victim.member_id if victim and victim.member_id else
                             lone.member_id if lone else None),
                  victim_id=victim.id if victim else None,
                  member_ref=member.id if member else None,
                  balance=member.balance if member else None,
                  fraud_charge_balance=member.fraud_charge_balance if member else None,
                  cases=cases, applications=applications)


def _cases(session: Session, victim_id: int) -> tuple[PersonCase, ...]:
    rows = session.execute(
        select(Case, Payment.amount).outerjoin(Payment, Payment.case_id == Case.id)
        .where(Case.victim_id == victim_id, Case.merged_into_id.is_(None))
        .order_by(Case.case_number)).all()
    found = []
    for case, paid in rows:
        open_case = case.status not in _NOT_PAYING and case.paid_amount is None
        due = (case.approved_amount or case.verified_amount or case.claimed_amount
               if open_case else 0)
        found.append(PersonCase(case.id, case.case_number, case.channel, case.status,
                                case.claimed_amount, int(paid or 0), int(due or 0)))
    return tuple(found)


def _applications(session: Session, member_ref: int | None,
                  lone: RefundApplication | None = None) -> tuple[PersonApplication, ...]:
    if lone is not None:
        rows = [(lone, None)]
    else:
        rows = session.execute(
            select(RefundApplication, RefundPayment.amount)
            .outerjoin(RefundPayment, RefundPayment.application_ref == RefundApplication.id)
            .where(RefundApplication.member_ref == member_ref)
            .order_by(RefundApplication.applied_at, RefundApplication.id)).all()
    found = []
    for app, paid in rows:
        due = app.refundable_amount or 0 if app.state in _REFUNDING else 0
        found.append(PersonApplication(app.id, app.application_id, app.route, app.applied_at,
                                       app.method, app.state,
                                       RefundState(app.state).label_ja,
                                       app.refundable_amount, int(paid or 0), int(due)))
    return tuple(found)
