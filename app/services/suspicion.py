"""Suspicious patterns, for a supervisor's second look before approving.

Each pattern is one SQL query (GROUP BY ... HAVING for the shared details) and
yields plain rows: the case, the kind of flag, and a detail that shows no more
personal data than the case list does (numbers masked).

- shared_account: one bank account (or nanaco number) on cases of several victims;
- shared_phone / shared_email: one phone number or e-mail address on several victims;
- late_payout_change: existing payout details replaced (not entered first) within the setting
  ``suspicious_payout_change_hours`` before approval (or, for a case still waiting
  for approval, within that many hours of now);
- claim_unsupported: a claimed or verified amount above the sum of the case's incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, and_, func, literal, or_, select
from sqlmodel import Session

from app.domain.roles import Actor, Role
from app.domain.states import Status
from app.domain.text import mask_tail
from app.services import settings
from app.services.context import AppContext, confirmed_actor, require_role
from app.storage.models import Case, Incident, Operator, PayoutDetail, Victim

KINDS = ("shared_account", "shared_phone", "shared_email", "late_payout_change",
         "claim_unsupported")
# Approval is still ahead or already given: where a late change of payout matters.
_APPROVED_OR_LATER = (Status.APPROVED, Status.PAYOUT_REQUESTED, Status.PAID, Status.CLOSED)
LIMIT = 5000


@dataclass(frozen=True)
class Flag:
    case_id: int
    case_number: str
    kind: str  # one of KINDS
    detail: str
    # For late_payout_change: the hours between the change and approval (or now), and
    # the setting's limit, so that the window words them in its own language.
    hours: int | None = None
    limit_hours: int | None = None


def _live(stmt: Select, case_id: int | None) -> Select:
    stmt = stmt.where(Case.status != Status.MERGED.value)
    if case_id is not None:
        stmt = stmt.where(Case.id == case_id)
    return stmt.order_by(Case.case_number).limit(LIMIT)


def _shared_payout(session: Session, case_id: int | None) -> list[Flag]:
    flags = []
    for columns in ((PayoutDetail.bank_code, PayoutDetail.branch_code,
                     PayoutDetail.account_number), (PayoutDetail.nanaco_number,)):
        shared = (select(*columns, func.count(func.distinct(Case.victim_id)).label("victims"))
                  .join(Case, Case.id == PayoutDetail.case_id)
                  .where(columns[-1].is_not(None), Case.status != Status.MERGED.value)
                  .group_by(*columns)
                  .having(func.count(func.distinct(Case.victim_id)) > 1).subquery())
        stmt = (select(Case.id, Case.case_number, shared.c.victims, *columns)
                .join(PayoutDetail, PayoutDetail.case_id == Case.id)
                .join(shared, and_(*[shared.c[c.key] == c for c in columns])))
        for row in session.execute(_live(stmt, case_id)):
            number = row[-1]
            shown = (f"{row[3]}-{row[4]} {mask_tail(number, 3)}" if len(columns) == 3
                     else f"nanaco {mask_tail(number, 4)}")
            flags.append(Flag(row[0], row[1], "shared_account", f"{shown} × {row[2]}"))
    return flags


def _mask_email(address: str) -> str:
    name, _sep, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


def _shared_contact(session: Session, case_id: int | None) -> list[Flag]:
    flags = []
    for kind, key, mask in (("shared_phone", Victim.phone_digits, lambda v: mask_tail(v, 4)),
                            ("shared_email", Victim.email_key, _mask_email)):
        shared = (select(key.label("key"), func.count().label("victims")).where(key != "")
                  .group_by(key).having(func.count() > 1).subquery())
        stmt = (select(Case.id, Case.case_number, shared.c.victims, key)
                .join(Victim, Victim.id == Case.victim_id)
                .join(shared, shared.c.key == key))
        for row in session.execute(_live(stmt, case_id)):
            flags.append(Flag(row[0], row[1], kind, f"{mask(row[3])} × {row[2]}"))
    return flags


def _hours_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24
    return func.extract("epoch", later - earlier) / 3600


def _late_payout_change(session: Session, ctx: AppContext, case_id: int | None) -> list[Flag]:
    hours = settings.load(session).suspicious_payout_change_hours
    now = ctx.clock.now()
    # A change of existing details, never their first entry (PayoutDetail.changed_at).
    changed = PayoutDetail.changed_at
    gap = _hours_between(session, Case.approved_at, changed)
    stmt = (select(Case.id, Case.case_number, changed, Case.approved_at)
            .join(PayoutDetail, PayoutDetail.case_id == Case.id)
            .where(changed.is_not(None), or_(
                and_(Case.status.in_([s.value for s in _APPROVED_OR_LATER]),
                     Case.approved_at.is_not(None), changed <= Case.approved_at,
                     gap <= literal(hours)),
                and_(Case.status == Status.VERIFIED.value, changed <= now,
                     changed >= now - timedelta(hours=hours)))))
    flags = []
    for row in session.execute(_live(stmt, case_id)):
        until = row[3] or now
        gap_hours = max(0, int((until - row[2]).total_seconds() // 3600))
        flags.append(Flag(row[0], row[1], "late_payout_change",
                          f"{gap_hours}時間前（基準{hours}時間）", gap_hours, hours))
    return flags


def _claim_unsupported(session: Session, case_id: int | None) -> list[Flag]:
    supported = func.coalesce(func.sum(Incident.amount), 0)
    stmt = (select(Case.id, Case.case_number, Case.claimed_amount, Case.verified_amount,
                   supported.label("supported"))
            .outerjoin(Incident, Incident.case_id == Case.id)
            .group_by(Case.id, Case.case_number, Case.claimed_amount, Case.verified_amount)
            .having(or_(Case.claimed_amount > supported,
                        func.coalesce(Case.verified_amount, 0) > supported)))
    flags = []
    for row in session.execute(_live(stmt, case_id)):
        amount = max(row[2], row[3] or 0)
        flags.append(Flag(row[0], row[1], "claim_unsupported", f"{amount:,} > {row[4]:,}"))
    return flags


def _all(session: Session, ctx: AppContext, case_id: int | None) -> list[Flag]:
    flags = (_shared_payout(session, case_id) + _shared_contact(session, case_id)
             + _late_payout_change(session, ctx, case_id) + _claim_unsupported(session, case_id))
    return sorted(flags, key=lambda f: (f.case_number, KINDS.index(f.kind), f.detail))


def flags_for_case(ctx: AppContext, case_id: int) -> list[Flag]:
    """The flags on one case (for the case detail). Details are masked."""
    with ctx.db.read() as session:
        return _all(session, ctx, case_id)


def list_suspicious(ctx: AppContext, actor: Actor) -> list[Flag]:
    """Every flagged case, for supervisors and admins."""
    with ctx.db.read() as session:
        require_role(confirmed_actor(session, actor), Role.SUPERVISOR, Role.ADMIN)
        return _all(session, ctx, None)


# -- waiting for approval ----------------------------------------------------------------
@dataclass(frozen=True)
class WaitingCase:
    case_id: int
    case_number: str
    name: str
    channel: str
    verified_amount: int | None
    claimed_amount: int
    verified_by: str | None
    verified_at: object
    flags: tuple[str, ...]  # kinds


def waiting_for_approval(ctx: AppContext, actor: Actor, offset: int = 0,
                         limit: int = 200) -> list[WaitingCase]:
    """Verified cases this supervisor may approve (not verified by them), oldest first."""
    with ctx.db.read() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.SUPERVISOR, Role.ADMIN)
        stmt = (select(Case.id, Case.case_number, Victim.name, Case.channel,
                       Case.verified_amount, Case.claimed_amount, Operator.login,
                       Case.verified_at)
                .join(Victim, Victim.id == Case.victim_id)
                .outerjoin(Operator, Operator.id == Case.verified_by)
                .where(Case.status == Status.VERIFIED.value))
        if actor.operator_id is not None:
            stmt = stmt.where(or_(Case.verified_by.is_(None),
                                  Case.verified_by != actor.operator_id))
        rows = session.execute(stmt.order_by(Case.verified_at, Case.id)
                               .offset(offset).limit(limit)).all()
        kinds: dict[int, list[str]] = {}
        for flag in _all(session, ctx, None):
            kinds.setdefault(flag.case_id, []).append(flag.kind)
    return [WaitingCase(*row, flags=tuple(dict.fromkeys(kinds.get(row[0], []))))
            for row in rows]
