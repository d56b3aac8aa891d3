"""The outreach queue: who to call next, held so that two desks never call the same person.

Order (workflow.md, "Outreach order"): a call-back whose agreed time has come
goes first; then the channels the programme promised individual guidance
(nanaco_charge and unauthorized_use) before the others; within that, the order
in which the victim's contact details reached us, then the case id. Nothing is
offered before the outreach start date. A case whose victim left no contact
details is listed apart: it waits for the victim to call.

"Next" claims one case for the operator until the hold expires. The claim is a
conditional UPDATE (free or expired hold only) whose row count says who won, so
it is atomic on PostgreSQL under concurrency and serialised by the IMMEDIATE
write transaction on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core.clock import today_jst
from app.core.errors import ValidationError
from app.domain.channels import Channel
from app.domain.reasons import reason_code
from app.domain.roles import Actor
from app.domain.states import Status
from app.services import audit, settings
from app.services.cases import MoveRequest, move_case
from app.services.context import AppContext, confirmed_actor
from app.storage.models import Case, CaseQueue, Letter, OutreachAttempt, Victim

PRIORITY_CHANNELS = (Channel.NANACO_CHARGE.value, Channel.UNAUTHORIZED_USE.value)
GUIDANCE_LETTER = "guidance"
_CLAIM_TRIES = 100  # candidates looked at per try: more than a centre has desks


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    case_number: str
    name: str
    name_kana: str | None
    phone: str | None
    email: str | None
    channel: Channel
    contact_received_at: date | None
    failed_attempts: int
    call_back_at: datetime | None
    holder_id: int | None
    held_until: datetime | None
    claimed_amount: int


def _rank():
    """Promised channels first (the same rank: one order by contact date across both)."""
    return case((Case.channel.in_(PRIORITY_CHANNELS), 0), else_=1)


def _callback_first(now: datetime):
    return case((and_(CaseQueue.call_back_at.is_not(None), CaseQueue.call_back_at <= now), 0),
                else_=1)


def _base(now: datetime):
    return (
        select(Case.id, Case.case_number, Victim.name, Victim.name_kana, Victim.phone,
               Victim.email, Case.channel, Victim.contact_received_at,
               func.coalesce(CaseQueue.failed_attempts, 0), CaseQueue.call_back_at,
               CaseQueue.holder_id, CaseQueue.held_until, Case.claimed_amount)
        .join(Victim, Victim.id == Case.victim_id)
        .outerjoin(CaseQueue, CaseQueue.case_id == Case.id)
        .where(Case.status == Status.RECEIVED.value)
    )


def _awaiting(now: datetime, retry_minutes: int = 0):
    """Received cases with contact details, not yet due a letter, not refused, not
    waiting for a call-back time still to come, and not attempted in the last
    ``retry_minutes`` (a victim who did not answer is not rung again a minute later;
    an agreed call-back time governs on its own)."""
    recent = exists().where(OutreachAttempt.case_id == Case.id,
                            OutreachAttempt.at > now - timedelta(minutes=retry_minutes))
    return _base(now).where(
        Victim.contact_received_at.is_not(None),
        or_(CaseQueue.case_id.is_(None),
            and_(CaseQueue.letter_due.is_(False), CaseQueue.closed.is_(False),
                 or_(CaseQueue.call_back_at.is_(None), CaseQueue.call_back_at <= now),
                 or_(CaseQueue.call_back_at.is_not(None), ~recent))),
    )


def _retry(session: Session) -> int:
    return settings.load(session).queue_retry_minutes


def _order(stmt, now: datetime):
    return stmt.order_by(_callback_first(now), CaseQueue.call_back_at, _rank(),
                         Victim.contact_received_at, Case.id)


def _free(now: datetime, actor: Actor):
    return or_(CaseQueue.holder_id.is_(None), CaseQueue.held_until.is_(None),
               CaseQueue.held_until <= now, CaseQueue.holder_id == actor.operator_id)


def _row(values) -> QueueRow:
    (case_id, number, name, kana, phone, email, channel, received, failed, call_back,
     holder, until, claimed) = values
    return QueueRow(case_id=case_id, case_number=number, name=name, name_kana=kana,
                    phone=phone, email=email, channel=Channel(channel),
                    contact_received_at=received, failed_attempts=int(failed),
                    call_back_at=call_back, holder_id=holder, held_until=until,
                    claimed_amount=claimed)


def is_open(ctx: AppContext, session: Session) -> bool:
    return today_jst(ctx.clock) >= settings.load(session).outreach_start


def list_queue(ctx: AppContext, offset: int = 0, limit: int = 100) -> list[QueueRow]:
    """One page of the queue in calling order; empty before the outreach start date."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        if not is_open(ctx, session):
            return []
        stmt = _order(_awaiting(now, _retry(session)), now).offset(offset).limit(limit)
        return [_row(values) for values in session.execute(stmt).all()]


def count_queue(ctx: AppContext) -> int:
    now = ctx.clock.now()
    with ctx.db.read() as session:
        if not is_open(ctx, session):
            return 0
        inner = _awaiting(now, _retry(session)).subquery()
        return int(session.execute(select(func.count()).select_from(inner)).scalar_one())


def list_no_contact(ctx: AppContext, offset: int = 0, limit: int = 100) -> list[QueueRow]:
    """Received cases whose victim left no contact details: they wait for a call."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        stmt = (_base(now).where(Victim.contact_received_at.is_(None))
                .order_by(_rank(), Case.id).offset(offset).limit(limit))
        return [_row(values) for values in session.execute(stmt).all()]


def letter_due_query(now: datetime):
    mailed = exists().where(Letter.case_id == Case.id, Letter.kind == GUIDANCE_LETTER,
                            Letter.mailed_at.is_not(None))
    return (_base(now).where(CaseQueue.letter_due.is_(True), ~mailed)
            .order_by(_rank(), Victim.contact_received_at, Case.id))


def letter_due_count_query():
    """How many cases are due a guidance letter, driven from the queue rows marked due."""
    mailed = exists().where(Letter.case_id == CaseQueue.case_id, Letter.kind == GUIDANCE_LETTER,
                            Letter.mailed_at.is_not(None))
    return (select(func.count()).select_from(CaseQueue)
            .join(Case, Case.id == CaseQueue.case_id)
            .where(CaseQueue.letter_due.is_(True), Case.status == Status.RECEIVED.value,
                   ~mailed))


def letter_due(ctx: AppContext, offset: int = 0, limit: int = 1000) -> list[QueueRow]:
    """Cases whose failed attempts reached the limit and whose guidance letter has not
    been mailed yet: the letters area prints these as a batch."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        stmt = letter_due_query(now).offset(offset).limit(limit)
        return [_row(values) for values in session.execute(stmt).all()]


def letter_due_ids(session: Session, now: datetime) -> list[int]:
    """The same list as case ids, inside a caller's transaction (for the letters area)."""
    inner = letter_due_query(now).subquery()
    return list(session.execute(select(inner.c.id)).scalars())


def _ensure_row(session: Session, case_id: int, now: datetime) -> None:
    """Create the case's queue row if missing; a concurrent insert simply wins."""
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if dialect not in ("postgresql", "sqlite"):
        maker = insert  # pragma: no cover
    stmt = maker(CaseQueue).values(case_id=case_id, failed_attempts=0, letter_due=False,
                                   closed=False, updated_at=now)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["case_id"]))


def _claim(session: Session, case_id: int, actor: Actor, now: datetime, until: datetime) -> bool:
    _ensure_row(session, case_id, now)
    result = session.execute(
        update(CaseQueue)
        .where(CaseQueue.case_id == case_id, _free(now, actor))
        .values(holder_id=actor.operator_id, held_until=until, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# The advisory-lock namespace of "a desk is claiming this case" (PostgreSQL).
_CLAIMING = 0x51CA5E


def _unclaimed(session: Session, waiting) -> list[int] | None:
    """The candidates to try, in queue order; None when nothing is waiting.

    On PostgreSQL fifty desks pressing "Next" at once all see the same first case:
    each would wait on the row the first one is updating, then on the second, a convoy
    as long as the desks. So a desk first takes a transaction-scoped advisory lock on
    one candidate that no other desk is claiming right now (skipping those that are,
    like SKIP LOCKED) and tries that one. The conditional UPDATE in ``_claim`` still
    decides who holds a case; the lock only keeps desks from queueing behind each
    other. SQLite serialises write transactions: every candidate, in order.
    """
    if session.get_bind().dialect.name != "postgresql":
        ids = list(session.execute(waiting).scalars())
        return ids or None
    candidates = waiting.subquery()
    mine = func.pg_try_advisory_xact_lock(_CLAIMING, candidates.c.id)
    # The subquery's LIMIT is evaluated first; the outer LIMIT 1 stops at the first
    # lock taken, so no other candidate stays locked.
    picked = session.execute(select(candidates.c.id).where(mine).limit(1)).scalar()
    if picked is not None:
        return [picked]
    any_left = session.execute(select(func.count()).select_from(candidates)).scalar_one()
    return [] if any_left else None


def current_hold(ctx: AppContext, actor: Actor) -> QueueRow | None:
    now = ctx.clock.now()
    with ctx.db.read() as session:
        stmt = _base(now).where(CaseQueue.holder_id == actor.operator_id,
                                CaseQueue.held_until > now).order_by(Case.id).limit(1)
        values = session.execute(stmt).first()
        return _row(values) if values else None


def next_case(ctx: AppContext, actor: Actor) -> QueueRow | None:
    """Hand the operator the next case and hold it; None when nothing is waiting.

    An operator who already holds a case gets that case again (a second press of
    "Next" does not skip a victim); release it to move on without an attempt.
    """
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        if actor.operator_id is None:
            raise ValidationError("actor", "キューは操作者として使ってください。",
                                  "Use the queue as a signed-in operator.")
        current = session.execute(
            _base(now).where(CaseQueue.holder_id == actor.operator_id,
                             CaseQueue.held_until > now).order_by(Case.id).limit(1)).first()
        if current:
            return _row(current)
        if not is_open(ctx, session):
            return None
        loaded = settings.load(session)
        until = now + timedelta(minutes=loaded.queue_hold_minutes)
        offset, tried = 0, set()
        while True:
            waiting = (_order(_awaiting(now, loaded.queue_retry_minutes)
                              .where(_free(now, actor)), now)
                       .with_only_columns(Case.id).offset(offset).limit(_CLAIM_TRIES))
            ids = _unclaimed(session, waiting)
            if ids is None:
                return None
            # A candidate another desk is claiming (PostgreSQL) or has just claimed
            # drops out of the next look by itself; the window moves on past those
            # tried already.
            offset += _CLAIM_TRIES if not ids else sum(1 for i in ids if i in tried)
            tried.update(ids)
            for case_id in ids:
                if _claim(session, case_id, actor, now, until):
                    # Who held whose contact details, and until when, is part of the trace.
                    audit.record(session, actor, now, "queue.hold", "case", case_id,
                                 case_id=case_id, after={"held_until": until})
                    session.flush()
                    values = session.execute(_base(now).where(Case.id == case_id)).first()
                    return _row(values)


def release(ctx: AppContext, actor: Actor, case_id: int) -> None:
    """Give a held case back to the queue without recording an attempt."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        released = session.execute(
            update(CaseQueue).where(CaseQueue.case_id == case_id,
                                    CaseQueue.holder_id == actor.operator_id)
            .values(holder_id=None, held_until=None, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if released:
            audit.record(session, actor, now, "queue.release", "case", case_id,
                         case_id=case_id)


def release_all_held(session: Session, actor: Actor, now: datetime) -> list[int]:
    """Inside a sign-out's transaction: every case this operator holds goes back to
    the queue (the next operator at the desk is offered them), each release audited."""
    held = [row[0] for row in session.execute(
        select(CaseQueue.case_id).where(CaseQueue.holder_id == actor.operator_id))]
    if held:
        session.execute(
            update(CaseQueue).where(CaseQueue.case_id.in_(held))
            .values(holder_id=None, held_until=None, updated_at=now)
            .execution_options(synchronize_session=False))
    for case_id in held:
        audit.record(session, actor, now, "queue.release", "case", case_id, case_id=case_id)
    return held


def after_attempt(session: Session, case_id: int, outcome: str, failed: bool,
                  call_back_at: datetime | None, now: datetime) -> None:
    """Move the queue on after an attempt (called inside record_attempt's transaction):
    release the hold, count a failure, park a call-back, mark a letter due or a refusal."""
    _ensure_row(session, case_id, now)
    row = session.get(CaseQueue, case_id, with_for_update=True)
    session.refresh(row)
    row.holder_id, row.held_until, row.updated_at = None, None, now
    if failed:
        row.failed_attempts += 1
        limit = settings.load(session).failed_attempts_before_letter
        row.letter_due = row.failed_attempts >= limit
    row.call_back_at = call_back_at if outcome == "call_back" else None
    if outcome == "refused":
        row.closed = True
    session.add(row)


def unanswered_query(now: datetime, days: int):
    """Letter-due cases whose guidance letter went out more than ``days`` days ago,
    still not contacted back (received or contacted, no reached attempt since)."""
    cutoff = now - timedelta(days=days)
    mailed = (select(func.max(Letter.mailed_at))
              .where(Letter.case_id == Case.id, Letter.kind == GUIDANCE_LETTER)
              .scalar_subquery())
    reached_since = exists().where(OutreachAttempt.case_id == Case.id,
                                   OutreachAttempt.outcome == "reached",
                                   OutreachAttempt.at >= mailed)
    return (select(Case.id)
            .join(CaseQueue, CaseQueue.case_id == Case.id)
            .where(CaseQueue.letter_due.is_(True),
                   Case.status.in_([Status.RECEIVED.value, Status.CONTACTED.value]),
                   mailed.is_not(None), mailed <= cutoff, ~reached_since)
            .order_by(Case.id))


def mark_unreachable_overdue(ctx: AppContext, actor: Actor) -> list[int]:
    """Move every case whose guidance letter went unanswered to unreachable, each through
    the workflow (its own transaction and audit event)."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        confirmed_actor(session, actor)
        days = settings.load(session).letter_unanswered_days
        ids = list(session.execute(unanswered_query(now, days)).scalars())
    moved = []
    reason = reason_code("letter_unanswered", days=days)
    for case_id in ids:
        move_case(ctx, actor, case_id, MoveRequest(target=Status.UNREACHABLE, reason=reason))
        moved.append(case_id)
    if moved:
        with ctx.db.write() as session:
            audit.record(session, confirmed_actor(session, actor), now,
                         "outreach.unreachable_sweep", "case", None,
                         after={"cases": len(moved)}, reason=reason)
    return moved
