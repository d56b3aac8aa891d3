"""Turning rows into plain records, and the facts the workflow rules need."""

from __future__ import annotations

from sqlmodel import Session, select

from app.domain.channels import Channel, PayoutKind
from app.domain.payout import PayoutDetails
from app.domain.states import Status
from app.domain.workflow import CaseFacts
from app.services.views import (
    AttemptView,
    AuditView,
    CaseView,
    IncidentView,
    LetterView,
    NoteView,
    VictimView,
)
from app.storage.models import (
    AuditEvent,
    Case,
    CaseNote,
    Incident,
    Letter,
    Operator,
    OutreachAttempt,
    PayoutDetail,
    Victim,
)

_PAYOUT_FIELDS = (
    "bank_code", "bank_name", "branch_code", "branch_name", "account_type", "account_number",
    "holder_kana", "nanaco_number", "card_issuer", "card_last4",
    "billing_confirmation_date", "payment_date",
)


def payout_of(row: PayoutDetail | None) -> PayoutDetails | None:
    if row is None:
        return None
    return PayoutDetails(kind=PayoutKind(row.kind), **{f: getattr(row, f) for f in _PAYOUT_FIELDS})


def payout_row(session: Session, case_id: int) -> PayoutDetail | None:
    return session.exec(select(PayoutDetail).where(PayoutDetail.case_id == case_id)).first()


def facts_of(session: Session, case: Case) -> CaseFacts:
    payout = payout_of(payout_row(session, case.id))
    return CaseFacts(
        channel=Channel(case.channel),
        status=Status(case.status),
        claimed_amount=case.claimed_amount,
        held_from=Status(case.held_from) if case.held_from else None,
        verified_by=case.verified_by,
        payout_complete=bool(payout and payout.complete),
        on_rail=case.payout_rail is not None,
    )


def victim_view(victim: Victim) -> VictimView:
    return VictimView(
        id=victim.id, member_id=victim.member_id, name=victim.name, name_kana=victim.name_kana,
        phone=victim.phone, email=victim.email, postal_code=victim.postal_code,
        address=victim.address, contact_received_at=victim.contact_received_at,
        version=victim.version,
    )


def _logins(session: Session) -> dict[int, str]:
    return dict(session.exec(select(Operator.id, Operator.login)).all())


def case_view(session: Session, case: Case, *, full: bool = False, moves=(),
              blocked=()) -> CaseView:
    victim = session.get(Victim, case.victim_id)
    base = dict(
        id=case.id, case_number=case.case_number, channel=Channel(case.channel),
        status=Status(case.status), held_from=Status(case.held_from) if case.held_from else None,
        claimed_amount=case.claimed_amount, verified_amount=case.verified_amount,
        approved_amount=case.approved_amount, paid_amount=case.paid_amount,
        verified_by=case.verified_by, approved_by=case.approved_by,
        status_reason=case.status_reason, merged_into_id=case.merged_into_id,
        created_at=case.created_at, updated_at=case.updated_at, version=case.version,
        victim=victim_view(victim), payout=payout_of(payout_row(session, case.id)),
        open_moves=tuple(moves), blocked_moves=tuple(blocked),
    )
    if full:
        base.update(_details(session, case.id))
    return CaseView(**base)


def _details(session: Session, case_id: int) -> dict:
    logins = _logins(session)
    incidents = session.exec(
        select(Incident).where(Incident.case_id == case_id).order_by(Incident.occurred_at)
    ).all()
    attempts = session.exec(
        select(OutreachAttempt).where(OutreachAttempt.case_id == case_id)
        .order_by(OutreachAttempt.at)
    ).all()
    notes = session.exec(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.at))
    letters = session.exec(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id))
    events = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
    ).all()
    return dict(
        incidents=tuple(
            IncidentView(i.id, i.report_id, i.occurred_at, i.amount, i.card_issuer,
                         i.card_last4, i.merchant, i.note, i.source) for i in incidents
        ),
        attempts=tuple(
            AttemptView(a.at, logins.get(a.operator_id), a.method, a.outcome, a.call_back_at,
                        a.note) for a in attempts
        ),
        notes=tuple(NoteView(n.at, logins.get(n.operator_id), n.text) for n in notes),
        letters=tuple(LetterView(x.id, x.kind, x.code, x.created_at, x.mailed_at) for x in letters),
        timeline=tuple(
            AuditView(e.id, e.at, e.actor_login, e.action, e.before, e.after, e.reason)
            for e in events
        ),
    )


def case_snapshot(case: Case) -> dict:
    """The fields an audit event records before and after a move."""
    return {
        "status": case.status, "held_from": case.held_from,
        "claimed_amount": case.claimed_amount, "verified_amount": case.verified_amount,
        "approved_amount": case.approved_amount, "paid_amount": case.paid_amount,
        "verified_by": case.verified_by, "approved_by": case.approved_by,
        "status_reason": case.status_reason, "merged_into_id": case.merged_into_id,
    }
