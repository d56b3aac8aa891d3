"""The balance-refund programme's letters: which applications are due which letter, and
each as the letters engine's input. app.services.letters produces, records, mails and
finds them with the compensation letters' machinery (one batch table, one letter table,
the same codes); this module reads the refund states.

Due, and not yet produced (a refund application gets each kind once; the database
refuses a second, letter.uq_letter_refund_once):

- refund_confirmation: confirmed, with an amount to refund, and no payment notice sent
  (a 払出証書 issued and notified before the confirmation went out says it all);
- refund_refusal: refused_closed, refused_no_balance or refused (the reason from the
  decision's code, app.domain.refunds.REFUSAL_REASONS);
- refund_payment: paid by transfer; or a 払出証書 issued, live and not past the day to
  cash it by (once per certificate: an expired one returned and issued again is due a
  notice of its own).

A letter goes to the member's address on record (identity is confirmed only through
the contact on record); an application whose member has no postal address on record is
left out of a batch chosen by rule, and refused by the engine when named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, exists, func, select
from sqlmodel import Session

from app.core.clock import to_jst
from app.core.errors import NotFound, ValidationError
from app.domain import banks
from app.domain import refunds as rules
from app.letters import (
    REFUND_KINDS,
    BankPayout,
    LetterData,
    LetterKind,
    PostalOrderPayout,
    Recipient,
)
from app.storage.models import (
    Letter,
    PostalOrder,
    RefundApplication,
    RefundItem,
    RefundMember,
    RefundPayment,
)

CONFIRMATION, REFUSAL, PAYMENT = REFUND_KINDS
REFUSED = tuple(s.value for s in rules.REFUSED_STATES)
_CHUNK = 500


@dataclass(frozen=True)
class RefundTarget:
    """One application due one letter, with what the letter says."""

    application_ref: int
    application_id: str
    name: str
    state: str
    application: RefundApplication
    member: RefundMember | None
    postal_order: PostalOrder | None = None
    payment: RefundPayment | None = None
    item: RefundItem | None = None  # the transfer as it went into the bank's file
    at: datetime | None = None  # when it became due (decided, paid, issued)
    audit: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChosenApplication:
    application_ref: int
    application_id: str
    name: str
    state: str
    state_label: str


def _no_letter(kind: LetterKind):
    return ~exists().where(Letter.application_ref == RefundApplication.id,
                           Letter.kind == kind.value, Letter.postal_order_id.is_(None))


def _decided():
    """When the application was decided: by a person, or else by the import."""
    return func.coalesce(RefundApplication.decided_at, RefundApplication.created_at)


def _addressed():
    return and_(func.coalesce(RefundMember.postal_code, "") != "",
                func.coalesce(RefundMember.address, "") != "")


def _base(kind: LetterKind, names: tuple[str, ...], by_rule: bool):
    query = (select(RefundApplication, RefundMember)
             .join(RefundMember, RefundMember.id == RefundApplication.member_ref))
    if names:
        query = query.where(RefundApplication.application_id.in_(names))
    if by_rule:
        query = query.where(_addressed())
    return query


def _due(session: Session, kind: LetterKind, today: date, *, names: tuple[str, ...] = (),
         limit: int | None = None) -> list[RefundTarget]:
    by_rule = not names
    if kind is CONFIRMATION:
        rows = session.execute(
            _base(kind, names, by_rule)
            .where(RefundApplication.state == rules.RefundState.CONFIRMED.value,
                   RefundApplication.refundable_amount > 0, _no_letter(kind),
                   # told already by a payment notice (a 払出証書 issued before)
                   ~exists().where(Letter.application_ref == RefundApplication.id,
                                   Letter.kind == PAYMENT.value))
            .order_by(_decided(), RefundApplication.id).limit(limit)).all()
        return [_target(a, m, at=a.decided_at) for a, m in rows]
    if kind is REFUSAL:
        rows = session.execute(
            _base(kind, names, by_rule)
            .where(RefundApplication.state.in_(REFUSED), _no_letter(kind))
            .order_by(_decided(), RefundApplication.id).limit(limit)).all()
        return [_refusal_target(a, m) for a, m in rows]
    if kind is not PAYMENT:
        raise ValidationError("kind", "払戻しの書面ではありません。",
                              f"{kind} is not a refund letter")
    paid = session.execute(
        _base(kind, names, by_rule).add_columns(RefundPayment)
        .join(RefundPayment, RefundPayment.application_ref == RefundApplication.id)
        .where(RefundApplication.state == rules.RefundState.PAID.value,
               RefundPayment.rail == "transfer", _no_letter(kind))
        .order_by(RefundPayment.paid_at, RefundApplication.id).limit(limit)).all()
    issued = session.execute(
        _base(kind, names, by_rule).add_columns(PostalOrder)
        .join(PostalOrder, PostalOrder.application_ref == RefundApplication.id)
        .where(PostalOrder.live, PostalOrder.status == "issued", PostalOrder.expires_on >= today,
               ~exists().where(Letter.postal_order_id == PostalOrder.id,
                               Letter.kind == kind.value))
        .order_by(PostalOrder.issued_at, PostalOrder.id).limit(limit)).all()
    items = _done_items(session, [a.id for a, _m, _p in paid])
    targets = [_target(a, m, payment=p, item=items.get(a.id), at=p.paid_at)
               for a, m, p in paid]
    targets += [_target(a, m, postal_order=o, at=o.issued_at,
                        audit={"postal_order_id": o.id}) for a, m, o in issued]
    targets.sort(key=lambda t: (t.at is None, t.at or datetime.min, t.application_ref))
    return targets[:limit] if limit else targets


def _done_items(session: Session, refs: list[int]) -> dict[int, RefundItem]:
    found: dict[int, RefundItem] = {}
    for start in range(0, len(refs), _CHUNK):
        part = refs[start:start + _CHUNK]
        for item in session.execute(select(RefundItem).where(
                RefundItem.application_ref.in_(part), RefundItem.result == "done")).scalars():
            found[item.application_ref] = item
    return found


def _target(app: RefundApplication, member: RefundMember | None, **extra) -> RefundTarget:
    audit = {"programme": "refund", "application_id": app.application_id,
             **extra.pop("audit", {})}
    return RefundTarget(app.id, app.application_id, (member.name if member else None)
                        or app.name, app.state, app, member, audit=audit, **extra)


def _refusal_target(app: RefundApplication, member: RefundMember | None) -> RefundTarget:
    code = rules.refusal_code(app.state, app.refusal_code)
    return _target(app, member, at=app.decided_at or app.created_at, audit={"refusal": code})


def due(session: Session, kind: LetterKind, today: date, limit: int | None) -> list[RefundTarget]:
    """The applications due ``kind`` in the order they became due, up to ``limit``."""
    return _due(session, kind, today, limit=limit)


def named(session: Session, kind: LetterKind, typed: tuple[str, ...], today: date
          ) -> tuple[list[RefundTarget], list[tuple[str, str, str]]]:
    """The named applications that are due ``kind``, and (number, ja, en) for the others:
    a letter already produced, or a state this letter is not for."""
    names = tuple(dict.fromkeys(t.strip() for t in typed if t.strip()))
    known = set(session.execute(select(RefundApplication.application_id).where(
        RefundApplication.application_id.in_(names))).scalars()) if names else set()
    missing = [n for n in names if n not in known]
    if missing:
        raise NotFound(f"申出 {', '.join(missing)} が見つかりません。",
                       f"No refund application {', '.join(missing)}.")
    targets: list[RefundTarget] = []
    for start in range(0, len(names), _CHUNK):
        targets += _due(session, kind, today, names=names[start:start + _CHUNK])
    order = {n: i for i, n in enumerate(names)}
    targets.sort(key=lambda t: order[t.application_id])
    chosen = {t.application_id for t in targets}
    refused = [(n, "この申出には、この書面を送る状態ではないか、すでに作成済です。",
                "this application is not due this letter (not in its state, or produced "
                "already)") for n in names if n not in chosen]
    return targets, refused


def due_counts(session: Session, today: date) -> dict[str, int]:
    """How many applications each refund letter is due for (with an address on record)."""
    return {kind.value: len(_due(session, kind, today)) for kind in REFUND_KINDS}


def chosen(targets: list[RefundTarget]) -> list[ChosenApplication]:
    return [ChosenApplication(t.application_ref, t.application_id, t.name, t.state,
                              rules.RefundState(t.state).label_ja) for t in targets]


# -- the engine's input ---------------------------------------------------------------
def _recipient(target: RefundTarget) -> Recipient:
    member = target.member
    return Recipient(name=target.name or "", postal_code=(member.postal_code if member else "")
                     or "", address=(member.address if member else "") or "")


def _bank(bank_code: str | None, branch_code: str | None, account_type: str | None,
          account_number: str | None, holder: str | None) -> BankPayout:
    bank = banks.bank(bank_code)
    branch = banks.branch(bank_code, branch_code)
    return BankPayout(_bank_name(bank_code, bank.name) if bank
                      else f"金融機関コード {bank_code or '-'}",
                      branch.name if branch else f"支店コード {branch_code or '-'}",
                      account_type or "ordinary", account_number or "", holder or "")


def _bank_name(code: str | None, short: str) -> str:
    """The Zengin table's short name as a letter writes it: 'みずほ' -> 'みずほ銀行' for a
    bank (codes below 1000, and ゆうちょ 9900); 信金, 信組 and the rest keep theirs."""
    if (code == "9900" or ((code or "9").isdigit() and int(code or "9999") < 1000)) \
            and not short.endswith("銀行"):
        return f"{short}銀行"
    return short


def _app_bank(app: RefundApplication) -> BankPayout:
    return _bank(app.bank_code, app.branch_code, app.account_type, app.account_number,
                 app.holder_kana)


def build(target: RefundTarget, kind: LetterKind, code: str, issue_date: date) -> LetterData:
    app, member = target.application, target.member
    common = dict(kind=kind, letter_code=code, case_number="", channel=None,
                  recipient=_recipient(target), issue_date=issue_date,
                  application_id=app.application_id, applied_on=to_jst(app.applied_at).date())
    if kind is CONFIRMATION:
        balance = member.balance if member else 0
        refund = app.refundable_amount or 0
        payout = (PostalOrderPayout() if app.method == rules.Method.POSTAL_ORDER.value
                  else _app_bank(app))
        return LetterData(**common, balance=balance, refund_amount=refund,
                          from_charges=balance - refund, payout=payout)
    if kind is REFUSAL:
        return LetterData(**common, refusal_reason=target.audit.get("refusal") or "",
                          closed_on=member.closed_on if member else None)
    if target.postal_order is not None:
        order = target.postal_order
        return LetterData(**common, paid_amount=order.amount, payout=PostalOrderPayout(
            order.certificate_number or "", order.expires_on))
    item, payment = target.item, target.payment
    payout = (_bank(item.bank_code, item.branch_code, item.account_type, item.account_number,
                    app.holder_kana) if item is not None else _app_bank(app))
    return LetterData(**common, paid_amount=payment.amount,
                      paid_date=to_jst(payment.paid_at).date(), payout=payout)


def build_all(targets: list[RefundTarget], kind: LetterKind, codes: list[str],
              issue_date: date) -> list[LetterData]:
    return [build(t, kind, code, issue_date) for t, code in zip(targets, codes, strict=True)]


def by_reference(targets: list[RefundTarget]) -> dict[str, RefundTarget]:
    return {t.application_id: t for t in targets}


def application_numbers(session: Session, refs: set[int]) -> dict[int, str]:
    if not refs:
        return {}
    return dict(session.execute(select(RefundApplication.id, RefundApplication.application_id)
                                .where(RefundApplication.id.in_(refs))).all())

