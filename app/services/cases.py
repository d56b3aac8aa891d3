"""Case use cases: each one transaction with its permission check and audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from app.core.clock import today_jst
from app.core.errors import ConflictError, MoveNotAllowed, NotFound, ValidationError
from app.domain.case_number import format_case_number, parse_case_number
from app.domain.channels import Channel
from app.domain.roles import Actor
from app.domain.states import Status
from app.domain.workflow import (
    Circumstances,
    Move,
    blocked_moves,
    check_move,
    check_verified_amount,
    open_moves,
)
from app.services import audit, second_factor, settings
from app.services.context import AppContext, confirmed_actor, get_or_404
from app.services.records import case_snapshot, case_view, facts_of, payout_row
from app.services.views import CaseView
from app.storage import sequences
from app.storage.models import Case, CaseNote, Incident, Payment, Victim


def lock_case(session: Session, case_id: int) -> Case:
    """Read a case for change, holding its row lock on PostgreSQL. The row read under
    the lock replaces what the session may hold already: a case loaded earlier in the
    transaction (a list's or a batch's read of the approved cases) may have been
    changed by another desk before the lock was taken."""
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()
                        .execution_options(populate_existing=True)).first()
    if case is None:
        return get_or_404(session, Case, case_id, "案件", "Case")
    return case


def check_version(row: Case | Victim, expected: int | None, what: str) -> None:
    if expected is not None and row.version != expected:
        raise ConflictError(
            f"この{what}は他の操作者が先に更新しました。最新の内容を確認してからやり直してください。",
            f"Another operator changed this {what} meanwhile; reload and try again.",
        )


def new_case(session: Session, victim_id: int, channel: Channel, now: datetime) -> Case:
    number = format_case_number(sequences.reserve(session, "case"))
    case = Case(case_number=number, victim_id=victim_id, channel=channel.value,
                status=Status.RECEIVED.value, claimed_amount=0, created_at=now, updated_at=now)
    session.add(case)
    session.flush()
    return case


def recompute_claim(session: Session, case: Case) -> int:
    """The claimed amount is always the sum of the case's incidents."""
    total = session.exec(
        select(func.coalesce(func.sum(Incident.amount), 0)).where(Incident.case_id == case.id)
    ).one()
    case.claimed_amount = int(total)
    return case.claimed_amount


def circumstances(session: Session, actor: Actor, ctx: AppContext) -> Circumstances:
    start = settings.load(session).outreach_start
    return Circumstances(actor=actor, today=today_jst(ctx.clock), outreach_start=start)


def get_case(ctx: AppContext, actor: Actor, case_id: int) -> CaseView:
    """The whole case, with the moves this actor may make on it now."""
    with ctx.db.read() as session:
        actor = confirmed_actor(session, actor)
        case = get_or_404(session, Case, case_id, "案件", "Case")
        when = circumstances(session, actor, ctx)
        facts = facts_of(session, case)
        return case_view(session, case, full=True, moves=open_moves(facts, when),
                         blocked=blocked_moves(facts, when))


def find_case_id(ctx: AppContext, case_number: str) -> int | None:
    with ctx.db.read() as session:
        return session.exec(select(Case.id).where(Case.case_number == case_number)).first()


@dataclass(frozen=True)
class MoveRequest:
    target: Status
    reason: str | None = None
    expected_version: int | None = None
    verified_amount: int | None = None  # for "verify"
    merge_into: int | None = None  # for "merge": the surviving case's id
    merge_into_number: str | None = None  # or its case number, as the operator typed it
    payment_reference: str | None = None  # for "mark_paid"
    # A fresh authenticator code (step-up) for approve, reject and amount overrides.
    second_factor: str | None = None


def move_case(ctx: AppContext, actor: Actor, case_id: int, request: MoveRequest) -> CaseView:
    try:
        return _move_case(ctx, actor, case_id, request)
    except second_factor.SecondFactorRefused as refusal:
        second_factor.record_step_up_failure(ctx, actor, refusal)
        raise


def needs_step_up(move: Move, case: Case, request: MoveRequest) -> bool:
    """Approvals, rejections and amounts above the claim ask for a fresh code."""
    if move.name in ("approve", "reject"):
        return True
    return move.name == "verify" and request.verified_amount is not None \
        and request.verified_amount > case.claimed_amount


def _move_case(ctx: AppContext, actor: Actor, case_id: int, request: MoveRequest) -> CaseView:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        case = lock_case(session, case_id)
        check_version(case, request.expected_version, "案件")
        apply_move(session, ctx, actor, case, request, now, step_up=True)
        return case_view(session, case)


@dataclass(frozen=True)
class Via:
    """Who makes a move that no one makes by hand (workflow.Move.rail_only and
    on_payout_change): the payout rails, or a change of payout details."""

    rail: bool = False
    payout_change: bool = False


BY_HAND, BY_RAIL, BY_PAYOUT_CHANGE = Via(), Via(rail=True), Via(payout_change=True)


def apply_move(session: Session, ctx: AppContext, actor: Actor, case: Case,
               request: MoveRequest, now: datetime, *, via: Via = BY_HAND,
               step_up: bool = False, audit_reason: str | None = None) -> Move:
    """The one way a case changes state: the workflow's check, the move's side effects,
    a fresh code where the move needs one (``step_up``: last, so that a refusal for any
    other reason spends no code), the new state and version, and the audit event, in
    the caller's transaction (the case locked by the caller). Every service that moves a
    case calls this (tests/services/test_one_move_primitive.py holds it)."""
    when = circumstances(session, actor, ctx)
    move = check_move(facts_of(session, case), request.target, when, request.reason,
                      by_rail=via.rail, payout_change=via.payout_change)
    sensitive = step_up and needs_step_up(move, case, request)
    before = case_snapshot(case)
    _apply(session, case, move, request, actor, now)
    if sensitive:
        second_factor.require_step_up(session, actor, request.second_factor, now)
    case.status, case.updated_at = move.target.value, now
    case.version += 1
    audit.record(session, actor, now, f"case.{move.name}", "case", case.id, case_id=case.id,
                 before=before, after=case_snapshot(case),
                 reason=audit_reason or request.reason)
    session.flush()
    return move


def rail_move(session: Session, ctx: AppContext, actor: Actor, case: Case, target: Status,
              now: datetime, *, reason: str | None = None, reference: str | None = None) -> Move:
    """A payout rail's own step (release, result, list, confirmation): only
    app.services.payouts calls it."""
    return apply_move(session, ctx, actor, case, MoveRequest(
        target=target, reason=reason, payment_reference=reference), now, via=BY_RAIL)


def _apply(session: Session, case: Case, move: Move, request: MoveRequest, actor: Actor,
           now: datetime) -> None:
    """The side effects of each kind of move, beyond the change of state."""
    name = move.name
    if name == "verify":
        _verify(case, request, actor, now)
    elif name == "approve":
        case.approved_amount = case.verified_amount
        case.approved_by, case.approved_at = actor.operator_id, now
    elif name in ("withdraw_approval", "send_back", "payout_changed"):
        clear_approval(case, verification_too=name != "withdraw_approval")
    elif name == "hold":
        case.held_from = case.status
    elif name == "resume":
        case.held_from = None
    elif name == "mark_paid":
        _pay(session, case, request, actor, now)
    elif name == "merge":
        _merge(session, case, request.merge_into or _case_id_from_number(
            session, request.merge_into_number))
    case.status_reason = request.reason if move.needs_reason else None


def _verify(case: Case, request: MoveRequest, actor: Actor, now: datetime) -> None:
    if request.verified_amount is None:
        raise MoveNotAllowed("確認金額を入力してください。", "Enter the verified amount.")
    override = check_verified_amount(case.claimed_amount, request.verified_amount, actor,
                                     request.reason)
    case.verified_amount, case.verified_by, case.verified_at = (
        request.verified_amount, actor.operator_id, now)
    case.amount_override_reason = request.reason if override else None


def clear_approval(case: Case, *, verification_too: bool) -> None:
    case.approved_amount = case.approved_by = case.approved_at = None
    if verification_too:
        case.verified_amount = case.verified_by = case.verified_at = None
        case.amount_override_reason = None


def _pay(session: Session, case: Case, request: MoveRequest, actor: Actor, now: datetime) -> None:
    """Paid exactly the approved amount, once: the payment table's unique case_id holds it."""
    if case.approved_amount is None:
        raise MoveNotAllowed("承認金額がありません。", "The case has no approved amount.")
    payout = payout_row(session, case.id)
    session.add(Payment(case_id=case.id, amount=case.approved_amount,
                        method=payout.kind if payout else "unknown",
                        reference=request.payment_reference, paid_at=now,
                        operator_id=actor.operator_id))
    case.paid_amount = case.approved_amount


def _case_id_from_number(session: Session, typed: str | None) -> int | None:
    if not typed:
        return None
    number = parse_case_number(typed)
    if number is None:
        raise ValidationError("merge_into", f"案件番号「{typed}」は正しくありません。",
                              f"{typed!r} is not a valid case number.")
    found = session.exec(select(Case.id).where(Case.case_number == number)).first()
    if found is None:
        raise NotFound(f"案件 {number} が見つかりません。", f"No case {number}.")
    return found


def _merge(session: Session, case: Case, target_id: int | None) -> None:
    if target_id is None or target_id == case.id:
        raise MoveNotAllowed("統合先の案件を指定してください。", "Name the case to merge into.")
    target = lock_case(session, target_id)
    if target.channel != case.channel:
        raise MoveNotAllowed("統合先は同じ被害区分の案件にしてください。",
                             "Merge only into a case of the same channel.")
    if Status(target.status) not in (Status.RECEIVED, Status.CONTACTED, Status.DOCUMENTS_RECEIVED):
        raise MoveNotAllowed("確認済以降の案件には統合できません。",
                             "Cannot merge into a case that is already verified or later.")
    session.execute(update(Incident).where(Incident.case_id == case.id).values(case_id=target.id))
    session.flush()
    case.merged_into_id = target.id
    recompute_claim(session, case)
    recompute_claim(session, target)
    target.version += 1


def add_note(ctx: AppContext, actor: Actor, case_id: int, text: str) -> None:
    if not text or not text.strip():
        raise ValidationError("note", "メモが空です。", "The note is empty.")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        get_or_404(session, Case, case_id, "案件", "Case")
        note = CaseNote(case_id=case_id, operator_id=actor.operator_id, at=now, text=text.strip())
        session.add(note)
        session.flush()
        audit.record(session, actor, now, "case.note", "case_note", note.id, case_id=case_id,
                     after={"text": note.text})

