"""The balance-refund programme's decisions: work lists, identity, the supervisor's
late and overlap decisions, the payout rails (払出証書 and transfer) and paid once.

Each use case is one transaction with its permission check and its audit event.
An operator confirms identity only through the contact on record (and says how);
late and overlap decisions are a supervisor's, with a reason and a fresh code.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from app.core.clock import to_jst
from app.core.errors import MoveNotAllowed, NotFound, ValidationError
from app.core.files import recorded_path, written_into_place
from app.domain import refunds as rules
from app.domain.refunds import RefundState
from app.domain.roles import Actor, Role
from app.exports.csv_safe import neutralise
from app.services import audit, settings
from app.services.context import AppContext, confirmed_actor, refund_clock, require_role
from app.services.refunds_import import NOT_STANDING, _overlapping_members, member_facts
from app.services.second_factor import counting_step_up_failures, require_step_up
from app.storage.models import (
    RAIL_POSTAL,
    Operator,
    PostalOrder,
    PostalOrderList,
    RefundApplication,
    RefundMember,
    RefundPayment,
)

RAIL_TRANSFER = "transfer"
STAFF = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class ApplicationView:
    id: int
    application_id: str
    programme: str  # always "refund": the window labels the page and the case with it
    member_id: str | None
    name: str
    route: str
    applied_at: datetime
    method: str
    state: str
    state_label: str
    state_reason: str | None
    balance: int | None
    fraud_charge_balance: int | None
    refundable_amount: int | None
    payout_rail: str | None
    # The contact on record, through which alone identity is confirmed.
    record_phone: str | None
    record_email: str | None
    record_address: str | None


def _view(app: RefundApplication, member: RefundMember | None) -> ApplicationView:
    return ApplicationView(
        id=app.id, application_id=app.application_id, programme="refund",
        member_id=member.member_id if member else app.member_id, name=app.name,
        route=app.route, applied_at=app.applied_at, method=app.method, state=app.state,
        state_label=RefundState(app.state).label_ja, state_reason=app.state_reason,
        balance=member.balance if member else None,
        fraud_charge_balance=member.fraud_charge_balance if member else None,
        refundable_amount=app.refundable_amount, payout_rail=app.payout_rail,
        record_phone=member.phone if member else None,
        record_email=member.email if member else None,
        record_address=member.address if member else None)


def work_list(ctx: AppContext, name: str, offset: int = 0, limit: int = 100
              ) -> list[ApplicationView]:
    """unmatched, awaiting_identity, late or held_overlap, oldest application first."""
    state = rules.WORK_LISTS.get(name)
    if state is None:
        raise ValidationError("list", f"作業リスト {name} はありません。", f"No work list {name}.")
    with ctx.db.read() as session:
        rows = session.execute(
            select(RefundApplication, RefundMember)
            .outerjoin(RefundMember, RefundMember.id == RefundApplication.member_ref)
            .where(RefundApplication.state == state.value)
            .order_by(RefundApplication.applied_at, RefundApplication.id)
            .offset(offset).limit(limit)).all()
        return [_view(app, member) for app, member in rows]


def work_list_counts(ctx: AppContext) -> dict[str, int]:
    with ctx.db.read() as session:
        counts = dict(session.execute(select(RefundApplication.state, func.count())
                                      .group_by(RefundApplication.state)).all())
    return {name: int(counts.get(state.value, 0)) for name, state in rules.WORK_LISTS.items()}


def get_application(ctx: AppContext, application_ref: int) -> ApplicationView:
    with ctx.db.read() as session:
        app = _get(session, application_ref)
        return _view(app, session.get(RefundMember, app.member_ref) if app.member_ref else None)


@dataclass(frozen=True)
class MemberFound:
    """A closing-balance member an operator may match an unmatched application to."""

    member_id: str
    name: str | None
    name_kana: str | None
    phone: str | None
    email: str | None
    balance: int
    closed_on: date | None


def find_members(ctx: AppContext, text: str, limit: int = 20) -> list[MemberFound]:
    """Members by member ID (exact or its beginning), phone digits, or name / kana (any
    part, folded as search folds them): for matching an unmatched application."""
    from app.domain.text import phone_digits, search_key
    from app.importers.fields import parse_member_id

    typed = (text or "").strip()
    if not typed:
        return []
    member_id, key, digits = parse_member_id(typed), search_key(typed), phone_digits(typed)
    with ctx.db.read() as session:
        found: dict[int, RefundMember] = {}
        # Separate look-ups (the member ID and the phone are indexed), best first.
        queries = [select(RefundMember).where(RefundMember.member_id == member_id),
                   select(RefundMember).where(RefundMember.member_id.startswith(
                       member_id, autoescape=True))]
        if len(digits) >= 4:
            queries.append(select(RefundMember).where(RefundMember.phone_digits.startswith(
                digits, autoescape=True)))
        if key:
            queries.append(select(RefundMember).where(RefundMember.kana_key.contains(
                key, autoescape=True)))
            # The name as written, spaces left out on both sides (山田太郎 finds 山田 太郎).
            queries.append(select(RefundMember).where(
                func.replace(func.replace(RefundMember.name, " ", ""), "\u3000", "")
                .contains("".join(typed.split()), autoescape=True)))
        for query in queries:
            if len(found) >= limit:
                break
            for member in session.execute(query.order_by(RefundMember.member_id)
                                          .limit(limit)).scalars():
                found.setdefault(member.id, member)
        return [MemberFound(m.member_id, m.name, m.name_kana, m.phone, m.email, m.balance,
                            m.closed_on) for m in list(found.values())[:limit]]


@dataclass(frozen=True)
class PostalView:
    """A postal-order (払出証書) application on its rail: where its certificate stands."""

    id: int
    application_id: str
    member_id: str | None
    name: str
    state: str
    state_label: str
    refundable_amount: int | None
    # None: not yet on a request list; requested, issued, or returned (a new method due).
    order_status: str | None
    certificate_number: str | None
    expires_on: date | None


def postal_list(ctx: AppContext, offset: int = 0, limit: int = 200) -> list[PostalView]:
    """The 払出証書 rail: confirmed postal-order applications (waiting for the request
    list, requested, issued) and those whose certificate came back (a new method is
    due, the returned certificate shown), oldest application first."""
    with ctx.db.read() as session:
        last = (select(PostalOrder.application_ref, func.max(PostalOrder.id).label("id"))
                .group_by(PostalOrder.application_ref).subquery())
        rows = session.execute(
            select(RefundApplication, RefundMember.member_id, PostalOrder)
            .outerjoin(RefundMember, RefundMember.id == RefundApplication.member_ref)
            .outerjoin(last, last.c.application_ref == RefundApplication.id)
            .outerjoin(PostalOrder, PostalOrder.id == last.c.id)
            .where(((RefundApplication.state == RefundState.CONFIRMED.value)
                    & (RefundApplication.method == rules.Method.POSTAL_ORDER.value))
                   | (RefundApplication.state == RefundState.AWAITING_METHOD.value))
            .order_by(RefundApplication.applied_at, RefundApplication.id)
            .offset(offset).limit(limit)).all()
        views = []
        for app, member_id, order in rows:
            returned = app.state == RefundState.AWAITING_METHOD.value
            # A certificate returned before a new 払出証書 was asked for is history.
            shown = order if order is not None and (order.live or returned) else None
            views.append(PostalView(
                app.id, app.application_id, member_id or app.member_id, app.name, app.state,
                RefundState(app.state).label_ja, app.refundable_amount,
                "returned" if returned else (shown.status if shown else None),
                shown.certificate_number if shown else None,
                shown.expires_on if shown else None))
        return views


def postal_counts(ctx: AppContext) -> dict[str, int]:
    """How many applications stand where on the 払出証書 rail (all of them, not only the
    page's first rows): waiting (for the request list), requested, issued, returned."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(RefundApplication.state, PostalOrder.status, func.count())
            .outerjoin(PostalOrder, (PostalOrder.application_ref == RefundApplication.id)
                       & PostalOrder.live)
            .where(((RefundApplication.state == RefundState.CONFIRMED.value)
                    & (RefundApplication.method == rules.Method.POSTAL_ORDER.value))
                   | (RefundApplication.state == RefundState.AWAITING_METHOD.value))
            .group_by(RefundApplication.state, PostalOrder.status)).all()
    counts = {"waiting": 0, "requested": 0, "issued": 0, "returned": 0}
    for state, status, count in rows:
        key = "returned" if state == RefundState.AWAITING_METHOD.value else status or "waiting"
        counts[key] = counts.get(key, 0) + int(count)
    return counts


def _get(session: Session, application_ref: int, *, lock: bool = False) -> RefundApplication:
    query = select(RefundApplication).where(RefundApplication.id == application_ref)
    if lock:
        query = query.with_for_update()
    app = session.execute(query).scalar_one_or_none()
    if app is None:
        raise NotFound(f"払戻申出（{application_ref}）が見つかりません。",
                       f"Refund application {application_ref} not found.")
    return app


def _require_state(app: RefundApplication, *states: RefundState) -> None:
    if RefundState(app.state) not in states:
        raise MoveNotAllowed(
            f"申出 {app.application_id} は「{RefundState(app.state).label_ja}」のため、"
            "この操作はできません。",
            f"Application {app.application_id} is {app.state}: this is not possible now.")


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise ValidationError("reason", "理由を入力してください。", "A reason is required.")
    return reason.strip()


def _move(session: Session, actor: Actor, now: datetime, app: RefundApplication,
          state: RefundState, reason: str, action: str, extra: dict | None = None) -> None:
    before = {"state": app.state}
    app.state, app.state_reason = state.value, reason
    app.decided_by, app.decided_at, app.updated_at = actor.operator_id, now, now
    app.version += 1
    session.add(app)
    audit.record(session, actor, now, action, "refund", app.id, before=before,
                 after={"state": state.value, "application_id": app.application_id,
                        **(extra or {})}, reason=reason)


# ---------------------------------------------------------------- operators' decisions


def match_member(ctx: AppContext, actor: Actor, application_ref: int, member_id: str,
                 reason: str) -> ApplicationView:
    """An unmatched application found its member: decided again by the table."""
    now = refund_clock(ctx).now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        app = _get(session, application_ref, lock=True)
        _require_state(app, RefundState.UNMATCHED)
        member = session.execute(select(RefundMember).where(
            RefundMember.member_id == member_id.strip())).scalar_one_or_none()
        if member is None:
            raise NotFound(f"会員ID {member_id} の残高がありません。",
                           f"No closing balance for member {member_id}.")
        app.member_ref, app.member_id = member.id, member.member_id
        app.refundable_amount = rules.refundable_amount(member.balance,
                                                        member.fraud_charge_balance)
        decision = _redecide(session, app, member, now)
        _move(session, actor, now, app, decision.state, f"{_reason(reason)}（{decision.ja}）",
              "refund.match", {"member_id": member.member_id})
        session.flush()
        return _view(app, member)


def _redecide(session: Session, app: RefundApplication, member: RefundMember,
              now: datetime) -> rules.Decision:
    standing = session.execute(select(func.count()).where(
        RefundApplication.member_ref == member.id, RefundApplication.id != app.id,
        RefundApplication.state.not_in(NOT_STANDING))).scalar_one()
    overlapping = member.member_id in _overlapping_members(session.connection(),
                                                           {member.member_id})
    applicant = rules.Applicant(route=rules.Route(app.route), applied_at=app.applied_at,
                                name_kana=app.name_kana, phone=app.phone, email=app.email,
                                birth_date=app.birth_date)
    return rules.decide(member_facts(member, overlapping), applicant,
                        earlier_standing=bool(standing),
                        deadline=settings.load(session).refund_deadline)


def confirm_identity(ctx: AppContext, actor: Actor, application_ref: int, how: str,
                     note: str = "") -> ApplicationView:
    """Identity confirmed through the contact on record: ``how`` says which (never the
    details the application itself gives)."""
    if how not in rules.IDENTITY_HOW:
        raise ValidationError("how", "確認方法は登録電話番号・登録メール・登録住所への郵送の"
                              "いずれかです。", "Confirm through the phone, e-mail or address "
                              f"on record ({', '.join(rules.IDENTITY_HOW)}).")
    now = refund_clock(ctx).now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        app = _get(session, application_ref, lock=True)
        _require_state(app, RefundState.AWAITING_IDENTITY)
        member = session.get(RefundMember, app.member_ref)
        on_record = {"phone_on_record": member.phone, "email_on_record": member.email,
                     "letter_to_address": member.address}[how]
        if not on_record:
            raise MoveNotAllowed("その連絡先は登録されていません。別の方法で確認してください。",
                                 "That contact is not on record: confirm another way.")
        app.identity_how = how
        ja, en = rules.IDENTITY_HOW[how]
        _move(session, actor, now, app, RefundState.CONFIRMED,
              f"{ja} / {en}" + (f"：{note.strip()}" if note.strip() else ""),
              "refund.identity_confirmed", {"how": how})
        session.flush()
        return _view(app, member)


def refuse(ctx: AppContext, actor: Actor, application_ref: int, reason: str, *,
           second_factor: str | None = None, code: str | None = None) -> ApplicationView:
    """Refused with its reason: an operator's for identity and unmatched, a supervisor's
    (with a fresh code) for late and overlap applications. ``code`` is the reason the
    refusal letter words (rules.REFUSAL_REASONS); by default the one the state says
    (rules.REFUSAL_FROM_STATE). ``reason`` is the operator's own note, for the record."""
    if code is not None and code not in rules.REFUSAL_FROM_STATE.values():
        raise ValidationError("code", f"払戻不可の理由 {code} はありません。",
                              f"No refusal reason {code}.")
    now = refund_clock(ctx).now()
    with counting_step_up_failures(ctx, actor), ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        app = _get(session, application_ref, lock=True)
        _require_state(app, RefundState.AWAITING_IDENTITY, RefundState.UNMATCHED,
                       *rules.SUPERVISOR_STATES)
        if RefundState(app.state) in rules.SUPERVISOR_STATES:
            require_role(actor, *SUPERVISORS)
            require_step_up(session, actor, second_factor, now)
        chosen = code or rules.REFUSAL_FROM_STATE[app.state]
        app.refusal_code = chosen
        _move(session, actor, now, app, RefundState.REFUSED, _reason(reason), "refund.refuse",
              _refusal(chosen))
        session.flush()
        return _view(app, session.get(RefundMember, app.member_ref) if app.member_ref else None)


def accept_late(ctx: AppContext, actor: Actor, application_ref: int, reason: str, *,
                second_factor: str | None) -> ApplicationView:
    """A supervisor takes a late application in: the rest of the table decides it."""
    now = refund_clock(ctx).now()
    with counting_step_up_failures(ctx, actor), ctx.db.write() as session:
        actor = _supervisor(session, actor, second_factor, now)
        app = _get(session, application_ref, lock=True)
        _require_state(app, RefundState.LATE)
        member = session.get(RefundMember, app.member_ref)
        deadline = settings.load(session).refund_deadline
        decision = _redecide_after_late(session, app, member, deadline)
        _move(session, actor, now, app, decision.state, f"{_reason(reason)}（{decision.ja}）",
              "refund.accept_late")
        session.flush()
        return _view(app, member)


def _redecide_after_late(session: Session, app: RefundApplication, member: RefundMember,
                         deadline: date) -> rules.Decision:
    """The table again, but with the application's own day as its deadline: the
    supervisor took it in, so the rules after the deadline's decide."""
    overlapping = member.member_id in _overlapping_members(session.connection(),
                                                           {member.member_id})
    applicant = rules.Applicant(route=rules.Route(app.route), applied_at=app.applied_at,
                                name_kana=app.name_kana, phone=app.phone, email=app.email,
                                birth_date=app.birth_date)
    return rules.decide(member_facts(member, overlapping), applicant, earlier_standing=False,
                        deadline=max(deadline, to_jst(app.applied_at).date()))


def settle_overlap(ctx: AppContext, actor: Actor, application_ref: int, from_charges: int,
                   reason: str, *, second_factor: str | None) -> ApplicationView:
    """A supervisor says how much of the balance came from charges under compensation;
    the refund is the rest, and identity is checked as for any other application."""
    now = refund_clock(ctx).now()
    with counting_step_up_failures(ctx, actor), ctx.db.write() as session:
        actor = _supervisor(session, actor, second_factor, now)
        app = _get(session, application_ref, lock=True)
        _require_state(app, RefundState.HELD_OVERLAP)
        member = session.get(RefundMember, app.member_ref)
        if not 0 <= from_charges <= member.balance:
            raise ValidationError("from_charges", f"0円から残高（{member.balance:,}円）までで"
                                  "入力してください。", f"Give 0 to {member.balance} yen.")
        app.refundable_amount = member.balance - from_charges
        identity = rules.identity_matches(member_facts(member, True), rules.Applicant(
            route=rules.Route(app.route), applied_at=app.applied_at, name_kana=app.name_kana,
            phone=app.phone, email=app.email, birth_date=app.birth_date))
        confirmed = identity and app.route == rules.Route.APP
        state = RefundState.CONFIRMED if confirmed else RefundState.AWAITING_IDENTITY
        extra = {"from_charges": from_charges, "refundable_amount": app.refundable_amount}
        if app.refundable_amount == 0:
            state = RefundState.REFUSED
            app.refusal_code = "compensated"
            extra.update(_refusal("compensated"))
        _move(session, actor, now, app, state, _reason(reason), "refund.settle_overlap", extra)
        session.flush()
        return _view(app, member)


def _refusal(code: str) -> dict:
    """What the audit event of a refusal records of its reason: the code and its words."""
    ja, en = rules.REFUSAL_REASONS[code]
    return {"refusal": code, "refusal_reason": f"{ja} / {en}"}


def _supervisor(session: Session, actor: Actor, code: str | None, now: datetime) -> Actor:
    actor = confirmed_actor(session, actor, now)
    require_role(actor, *SUPERVISORS)
    require_step_up(session, actor, code, now)
    return actor


# ---------------------------------------------------------------- payout rails


def _claim(app: RefundApplication, rail: str) -> None:
    if app.payout_rail not in (None, rail):
        raise MoveNotAllowed(f"申出 {app.application_id} は別の払戻手続中です。",
                             f"Application {app.application_id} is on another payout rail.")
    app.payout_rail = rail


def _payable(session: Session, app: RefundApplication) -> None:
    _require_state(app, RefundState.CONFIRMED)
    if not app.refundable_amount:
        raise MoveNotAllowed("払い戻す額がありません。", "There is nothing to refund.")
    paid = session.execute(select(func.count()).where(
        RefundPayment.member_ref == app.member_ref)).scalar_one()
    if paid:
        raise MoveNotAllowed("この会員には払戻済です。", "This member has been refunded already.")


def postal_request_list(ctx: AppContext, actor: Actor, out: str | Path, *,
                        second_factor: str | None = None) -> int:
    """The 払出証書 request list for Japan Post: every confirmed postal-order application
    not yet on a rail, written as CSV (UTF-8 with BOM) and claimed on the postal rail.
    Names and addresses leave the program in it: a supervisor's, with a fresh code, as
    every export of personal data."""
    now = refund_clock(ctx).now()
    with counting_step_up_failures(ctx, actor), ctx.db.write() as session:
        actor = _supervisor(session, actor, second_factor, now)
        rows = session.execute(
            select(RefundApplication, RefundMember)
            .join(RefundMember, RefundMember.id == RefundApplication.member_ref)
            .where(RefundApplication.state == RefundState.CONFIRMED.value,
                   RefundApplication.method == rules.Method.POSTAL_ORDER.value,
                   RefundApplication.payout_rail.is_(None),
                   RefundApplication.refundable_amount > 0)
            .order_by(RefundApplication.id).with_for_update()).all()
        listing = PostalOrderList(item_count=len(rows), created_by=actor.operator_id,
                                  created_at=now,
                                  total_amount=sum(a.refundable_amount for a, _m in rows))
        session.add(listing)
        session.flush()
        for app, _member in rows:
            _claim(app, RAIL_POSTAL)
            session.add(app)
            session.flush()
            session.add(PostalOrder(list_id=listing.id, application_ref=app.id,
                                    amount=app.refundable_amount, status="requested"))
        data = _list_bytes((app, member, app.refundable_amount) for app, member in rows)
        listing.file_sha256 = hashlib.sha256(data).hexdigest()
        audit.record(session, actor, now, "refund.postal_list", "postal_order_list",
                     listing.id, after={"items": len(rows), "total": listing.total_amount,
                                        "file": recorded_path(out)})
        with written_into_place(out) as temp:  # whole or not at all
            temp.write_bytes(data)
        return len(rows)


def _list_bytes(rows) -> bytes:
    """The request list's CSV (UTF-8 with BOM) from (application, member, amount) rows."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["申出番号", "会員ID", "氏名", "郵便番号", "住所", "金額"])
    for app, member, amount in rows:
        writer.writerow([neutralise(v) for v in (
            app.application_id, member.member_id, member.name or app.name,
            member.postal_code or "", member.address or "", amount)])
    return text.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class PostalListView:
    """A 払出証書 request list made: what it holds, who made it and when."""

    id: int
    item_count: int
    total_amount: int
    created_at: datetime
    created_by: str | None


def postal_lists(ctx: AppContext, limit: int = 50) -> list[PostalListView]:
    """The request lists made, newest first (to write one again whose file was lost)."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(PostalOrderList, Operator.login)
            .outerjoin(Operator, Operator.id == PostalOrderList.created_by)
            .order_by(PostalOrderList.id.desc()).limit(max(1, min(limit, 1000)))).all()
        return [PostalListView(listing.id, listing.item_count, listing.total_amount,
                               listing.created_at, login) for listing, login in rows]


def postal_request_list_again(ctx: AppContext, actor: Actor, list_id: int, out: str | Path,
                              *, second_factor: str | None = None) -> int:
    """Write request list ``list_id`` again: its applications were claimed on the postal
    rail when it was made, so a file lost on the way (a download cut off at a centre, a
    disk full) must be had again, or they would be on no later list. The same orders and
    amounts; names and addresses as on record now (the trail says whether the bytes are
    the first file's). A supervisor's, with a fresh code, as the first time."""
    now = refund_clock(ctx).now()
    with counting_step_up_failures(ctx, actor), ctx.db.write() as session:
        actor = _supervisor(session, actor, second_factor, now)
        listing = session.get(PostalOrderList, list_id, with_for_update=True)
        if listing is None:
            raise NotFound(f"払出証書の発行依頼リスト {list_id} はありません。",
                           f"No postal order request list {list_id}.")
        rows = session.execute(
            select(RefundApplication, RefundMember, PostalOrder.amount)
            .join(PostalOrder, PostalOrder.application_ref == RefundApplication.id)
            .join(RefundMember, RefundMember.id == RefundApplication.member_ref)
            .where(PostalOrder.list_id == listing.id)
            .order_by(RefundApplication.id)).all()
        data = _list_bytes(rows)
        digest = hashlib.sha256(data).hexdigest()
        audit.record(session, actor, now, "refund.postal_list_again", "postal_order_list",
                     listing.id, before={"sha256": listing.file_sha256},
                     after={"items": len(rows), "sha256": digest,
                            "same_file": digest == listing.file_sha256,
                            "file": recorded_path(out)})
        listing.file_sha256 = digest  # the file handed to Japan Post is this one
        with written_into_place(out) as temp:
            temp.write_bytes(data)
        return len(rows)


def _live_order(session: Session, application_ref: int) -> PostalOrder:
    order = session.execute(select(PostalOrder).where(
        PostalOrder.application_ref == application_ref, PostalOrder.live)
        .with_for_update()).scalar_one_or_none()
    if order is None:
        raise MoveNotAllowed("この申出に手続中の払出証書はありません。",
                             "This application has no live postal order.")
    return order


def postal_issued(ctx: AppContext, actor: Actor, application_ref: int,
                  certificate_number: str, expires_on: date) -> None:
    now = refund_clock(ctx).now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        order = _live_order(session, application_ref)
        if order.status != "requested":
            raise MoveNotAllowed("この払出証書は発行済です。", "This postal order was issued.")
        order.status, order.certificate_number = "issued", certificate_number.strip()
        order.expires_on, order.issued_at = expires_on, now
        session.add(order)
        audit.record(session, actor, now, "refund.postal_issued", "refund", application_ref,
                     after={"certificate": order.certificate_number,
                            "expires_on": expires_on})


def postal_cashed(ctx: AppContext, actor: Actor, application_ref: int) -> None:
    """Japan Post reports the certificate cashed: the refund is paid (once per member)."""
    now = refund_clock(ctx).now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        order = _live_order(session, application_ref)
        if order.status != "issued":
            raise MoveNotAllowed("発行前の払出証書は換金できません。",
                                 "A postal order not yet issued cannot be cashed.")
        order.status, order.result_at, order.result_by = "cashed", now, actor.operator_id
        session.add(order)
        app = _get(session, application_ref, lock=True)
        _pay(session, actor, now, app, RAIL_POSTAL, order.certificate_number)


def postal_returned(ctx: AppContext, actor: Actor, application_ref: int, reason: str) -> None:
    """Expired and returned: the rail is let go and the member is asked for a new method."""
    now = refund_clock(ctx).now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        order = _live_order(session, application_ref)
        if order.status not in ("requested", "issued"):
            raise MoveNotAllowed("この払出証書は換金済です。", "This postal order was cashed.")
        order.status, order.live, order.rail = "returned", False, None
        order.result_at, order.result_by = now, actor.operator_id
        session.add(order)
        session.flush()
        app = _get(session, application_ref, lock=True)
        app.payout_rail = None
        _move(session, actor, now, app, RefundState.AWAITING_METHOD, _reason(reason),
              "refund.postal_returned")


def change_method(ctx: AppContext, actor: Actor, application_ref: int, method: str, *,
                  bank_code: str | None = None, branch_code: str | None = None,
                  account_type: str | None = None, account_number: str | None = None,
                  holder_kana: str | None = None, how: str) -> ApplicationView:
    """A new payout method after a returned 払出証書, confirmed through the contact on
    record (``how``, as for identity)."""
    from app.domain.channels import Channel, PayoutKind
    from app.domain.payout import PayoutDetails, normalise

    chosen = rules.parse_method(method)
    if how not in rules.IDENTITY_HOW:
        raise ValidationError("how", "確認方法を選んでください。", "Say how it was confirmed.")
    now = refund_clock(ctx).now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, *STAFF)
        app = _get(session, application_ref, lock=True)
        _require_state(app, RefundState.AWAITING_METHOD)
        app.method = chosen.value
        if chosen is rules.Method.BANK_TRANSFER:
            bank = normalise(PayoutDetails(PayoutKind.BANK_ACCOUNT, bank_code=bank_code,
                                           branch_code=branch_code, account_type=account_type,
                                           account_number=account_number,
                                           holder_kana=holder_kana), Channel.DEBIT_CHARGE)
            if bank.missing_fields():
                raise ValidationError("bank", "口座の情報が足りません。",
                                      "The account details are incomplete.")
            app.bank_code, app.branch_code = bank.bank_code, bank.branch_code
            app.account_type, app.account_number = bank.account_type, bank.account_number
            app.holder_kana = bank.holder_kana
        ja, en = rules.IDENTITY_HOW[how]
        _move(session, actor, now, app, RefundState.CONFIRMED, f"{ja} / {en}",
              "refund.change_method", {"method": chosen.value, "how": how})
        session.flush()
        return _view(app, session.get(RefundMember, app.member_ref))


def claim_transfer(session: Session, app: RefundApplication) -> None:
    """For the transfer batch (app.services.refund_transfers), inside its transaction:
    the application onto the transfer rail (refused while a 払出証書 holds it)."""
    _payable(session, app)
    if app.method != rules.Method.BANK_TRANSFER.value:
        raise MoveNotAllowed("払出証書の申出は振込にできません。",
                             "A postal-order application is not paid by transfer.")
    _claim(app, RAIL_TRANSFER)
    session.add(app)


def _pay(session: Session, actor: Actor, now: datetime, app: RefundApplication, rail: str,
         reference: str | None) -> None:
    _payable(session, app)
    session.add(RefundPayment(member_ref=app.member_ref, application_ref=app.id,
                              amount=app.refundable_amount, rail=rail, reference=reference,
                              paid_at=now, operator_id=actor.operator_id))
    _move(session, actor, now, app, RefundState.PAID, f"{rail} {reference or ''}".strip(),
          "refund.paid", {"amount": app.refundable_amount, "rail": rail})
    session.flush()


def payments(ctx: AppContext) -> list[dict]:
    with ctx.db.read() as session:
        rows = session.execute(select(RefundPayment, RefundMember.member_id).join(
            RefundMember, RefundMember.id == RefundPayment.member_ref)
            .order_by(RefundPayment.id)).all()
        return [{"member_id": member_id, "amount": p.amount, "rail": p.rail,
                 "paid_at": to_jst(p.paid_at).isoformat()} for p, member_id in rows]
