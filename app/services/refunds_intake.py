"""Refund applications by phone: the intake form, read by the applications file's rules
and decided by the same table, in one transaction with its audit event."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from app.core.errors import ValidationError
from app.domain import refunds as rules
from app.domain.roles import Actor
from app.importers.refund_csv import check_application_form
from app.services import audit, settings
from app.services.context import AppContext, confirmed_actor, refund_clock, require_role
from app.services.refunds import STAFF, ApplicationView, _view
from app.services.refunds_import import NOT_STANDING, _applicant, _MemberFinder
from app.storage import sequences
from app.storage.models import RefundApplication, RefundMember


class FormProblems(ValidationError):
    """Every problem of the form at once: field -> (Japanese, English)."""

    def __init__(self, problems: dict[str, tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(next(iter(problems)), "入力内容を確認してください: "
                         + "、".join(problems), "Check the form: " + ", ".join(problems))


def take_phone_application(ctx: AppContext, actor: Actor, form: Mapping[str, str]
                           ) -> ApplicationView:
    """``form`` holds the applications file's fields by name; the route is the phone and
    the application's number is the centre's own (TEL-000001 ...)."""
    now = refund_clock(ctx).now()
    values = {**form, "route": "phone", "application_id": "TEL"}
    values.setdefault("applied_at", now.isoformat(sep=" ", timespec="minutes"))
    with ctx.db.read() as session:
        opened = settings.load(session).refund_applications_from
    row = check_application_form(values, now=now, applications_from=opened)
    if not row.ok:
        raise FormProblems({e.field: (e.ja, e.en) for e in row.errors})
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        number = sequences.reserve(session, "refund_phone", 1)
        record = row.record
        members = _MemberFinder(session.connection(), [record])
        member = members.find(record)
        standing = member is not None and bool(session.execute(
            select(RefundApplication.id).where(
                RefundApplication.member_ref == member.ref,
                RefundApplication.state.not_in(NOT_STANDING))).first())
        decision = rules.decide(member.facts if member else None, _applicant(record),
                                earlier_standing=standing,
                                deadline=settings.load(session).refund_deadline)
        app = RefundApplication(
            application_id=f"TEL-{number:06d}", content_hash=record.content_hash(),
            member_ref=member.ref if member else None, member_id=record.member_id,
            route=record.route.value, applied_at=record.applied_at,
            method=record.method.value, name=record.name, name_kana=record.name_kana,
            phone=record.phone, email=record.email, birth_date=record.birth_date,
            bank_code=record.bank_code, branch_code=record.branch_code,
            account_type=record.account_type, account_number=record.account_number,
            holder_kana=record.account_holder_kana, state=decision.state.value,
            state_reason=f"{decision.ja} / {decision.en}",
            refundable_amount=(rules.refundable_amount(member.facts.balance,
                                                       member.facts.fraud_charge_balance)
                               if member else None),
            created_at=now, updated_at=now)
        session.add(app)
        session.flush()
        audit.record(session, actor, now, "refund.phone_application", "refund", app.id,
                     after={"application_id": app.application_id, "state": app.state},
                     reason=decision.ja)
        return _view(app, session.get(RefundMember, app.member_ref) if member else None)
