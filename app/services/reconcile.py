"""Reconciliation: do the money figures agree, per channel, per batch and overall?

Every figure is an SQL aggregate. Programme totals are computed on their own
(not by adding the channels up) and compared with the sum of the channels;
batch totals as recorded are compared with the sum of their transfers; and the
cases whose own figures disagree are listed one by one.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, case, func, or_, true
from sqlmodel import Session, select

from app.domain.channels import Channel, PayoutKind
from app.domain.reconciliation import DIFFERENCES_JA, FIGURES, FIGURES_JA
from app.domain.states import Status
from app.exports.csv_safe import open_safe_csv
from app.services.context import AppContext
from app.services.refunds_overlap import refund_differences
from app.storage.models import (
    Case,
    Payment,
    PayoutDetail,
    PayoutRequest,
    RefundBatch,
    RefundItem,
)

PAID_STATES = (Status.PAID.value, Status.CLOSED.value)


@dataclass
class Figures:
    cases: int = 0
    claimed: int = 0
    verified: int = 0
    approved: int = 0
    requested: int = 0
    paid: int = 0
    returned: int = 0

    def add(self, other: Figures) -> Figures:
        return Figures(**{k: getattr(self, k) + getattr(other, k) for k in FIGURES})


@dataclass(frozen=True)
class BatchLine:
    batch_id: int
    status: str
    transfer_date: str
    recorded_count: int
    recorded_total: int
    items: int
    items_total: int
    done: int
    returned: int
    pending: int

    @property
    def difference(self) -> int:
        return self.recorded_total - self.items_total


@dataclass(frozen=True)
class Difference:
    case_number: str
    what: str  # a code, e.g. paid_without_payment
    expected: int | None
    found: int | None




@dataclass
class Reconciliation:
    as_of: datetime
    by_channel: dict[str, Figures]
    total: Figures
    channels_sum: Figures
    batches: list[BatchLine] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return not self.differences

    def to_json(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "by_channel": {k: asdict(v) for k, v in self.by_channel.items()},
            "total": asdict(self.total),
            "batches": [dict(asdict(b), difference=b.difference) for b in self.batches],
            "differences": [asdict(d) for d in self.differences],
            "balanced": self.balanced,
        }


def _case_figures(session: Session, by_channel: bool):
    live = Case.status != Status.MERGED.value
    columns = [
        func.count(Case.id),
        func.coalesce(func.sum(Case.claimed_amount), 0),
        func.coalesce(func.sum(Case.verified_amount), 0),
        func.coalesce(func.sum(Case.approved_amount), 0),
        func.coalesce(func.sum(case((Case.status == Status.PAYOUT_REQUESTED.value,
                                     Case.approved_amount), else_=0)), 0),
    ]
    if by_channel:
        return {row[0]: row[1:] for row in session.exec(
            select(Case.channel, *columns).where(live).group_by(Case.channel)).all()}
    return {None: session.exec(select(*columns).where(live)).one()}


def _grouped_sum(session: Session, amount, join_on, where, by_channel: bool) -> dict:
    if by_channel:
        query = (select(Case.channel, func.coalesce(func.sum(amount), 0))
                 .join(Case, join_on).where(where).group_by(Case.channel))
        return dict(session.exec(query).all())
    return {None: session.exec(select(func.coalesce(func.sum(amount), 0)).where(where)).one()}


def _figures(session: Session, by_channel: bool) -> dict:
    cases = _case_figures(session, by_channel)
    paid = _grouped_sum(session, Payment.amount, Payment.case_id == Case.id, true(),
                        by_channel)
    returned_items = _grouped_sum(session, RefundItem.amount, RefundItem.case_id == Case.id,
                                  RefundItem.result == "returned", by_channel)
    returned_requests = _grouped_sum(session, PayoutRequest.amount,
                                     PayoutRequest.case_id == Case.id,
                                     PayoutRequest.result == "returned", by_channel)
    keys = list(cases) if by_channel else [None]
    out = {}
    for key in keys:
        count, claimed, verified, approved, requested = (int(v) for v in cases[key])
        out[key] = Figures(cases=count, claimed=claimed, verified=verified, approved=approved,
                           requested=requested, paid=int(paid.get(key, 0)),
                           returned=int(returned_items.get(key, 0))
                           + int(returned_requests.get(key, 0)))
    return out


def _batches(session: Session) -> list[BatchLine]:
    result = RefundItem.result
    rows = session.exec(
        select(RefundBatch,
               func.count(RefundItem.id),
               func.coalesce(func.sum(RefundItem.amount), 0),
               func.coalesce(func.sum(case((result == "done", RefundItem.amount), else_=0)), 0),
               func.coalesce(func.sum(case((result == "returned", RefundItem.amount),
                                           else_=0)), 0),
               func.coalesce(func.sum(case((result.is_(None), RefundItem.amount), else_=0)), 0))
        .outerjoin(RefundItem, RefundItem.batch_id == RefundBatch.id)
        .group_by(RefundBatch.id).order_by(RefundBatch.id)).all()
    return [BatchLine(batch_id=b.id, status=b.status, transfer_date=b.transfer_date.isoformat(),
                      recorded_count=b.item_count, recorded_total=b.total_amount, items=int(n),
                      items_total=int(total), done=int(done), returned=int(back),
                      pending=int(pending))
            for b, n, total, done, back, pending in rows]


def _case_differences(session: Session) -> list[Difference]:
    found: list[Difference] = []
    paid_state = Case.status.in_(PAID_STATES)
    rows = session.exec(
        select(Case.case_number, Case.status, Case.approved_amount, Case.paid_amount,
               Payment.amount)
        .outerjoin(Payment, Payment.case_id == Case.id)
        .where(or_(and_(paid_state, or_(Payment.id.is_(None),
                                         Payment.amount != Case.paid_amount,
                                         Case.paid_amount != Case.approved_amount,
                                         Case.paid_amount.is_(None))),
                   and_(~paid_state, Payment.id.is_not(None))))
        .order_by(Case.case_number)).all()
    for number, status, approved, paid, payment in rows:
        if status not in PAID_STATES:
            found.append(Difference(number, "payment_on_unpaid_case", None, payment))
        elif payment is None:
            found.append(Difference(number, "paid_without_payment", paid, None))
        elif payment != paid:
            found.append(Difference(number, "payment_amount", paid, payment))
        else:
            found.append(Difference(number, "paid_not_approved_amount", approved, paid))
    for number, approved, amount in session.exec(
            select(Case.case_number, Case.approved_amount, RefundItem.amount)
            .join(Case, Case.id == RefundItem.case_id)
            .where(RefundItem.live, RefundItem.result.is_(None),
                   or_(Case.approved_amount.is_(None), Case.approved_amount != RefundItem.amount))
            .order_by(Case.case_number)).all():
        found.append(Difference(number, "item_amount", approved, amount))
    return found


def _backing(session: Session):
    """Per case: how many done transfers and confirmations back it, and their sum."""
    parts = [select(RefundItem.case_id.label("case_id"), RefundItem.amount.label("amount"))
             .where(RefundItem.result == "done"),
             select(PayoutRequest.case_id.label("case_id"),
                    PayoutRequest.amount.label("amount")).where(PayoutRequest.result == "done")]
    done = parts[0].union_all(parts[1]).subquery()
    return (select(done.c.case_id, func.count().label("n"),
                   func.sum(done.c.amount).label("total"))
            .group_by(done.c.case_id).subquery())


def _payment_differences(session: Session) -> list[Difference]:
    """Every payment is one done transfer or confirmation of the same amount, and every
    done transfer or confirmation is a paid case."""
    backing = _backing(session)
    paid_state = Case.status.in_(PAID_STATES)
    rows = session.exec(
        select(Case.case_number, Case.status, Case.paid_amount, backing.c.n, backing.c.total)
        .outerjoin(backing, backing.c.case_id == Case.id)
        .where(or_(paid_state, backing.c.n.is_not(None)))
        .order_by(Case.case_number)).all()
    found = []
    for number, status, paid, n, total in rows:
        if status not in PAID_STATES:
            found.append(Difference(number, "done_on_unpaid_case", None, int(total)))
        elif n != 1:
            found.append(Difference(number, "paid_unbacked", 1, int(n or 0)))
        elif paid is not None and int(total) != paid:
            found.append(Difference(number, "paid_backing_amount", paid, int(total)))
    return found


def _live_transfer_differences(session: Session) -> list[Difference]:
    """A live transfer still waiting for its result: its case waits in the state its
    batch says (approved while built, payout_requested once released or sent)."""
    found = []
    rows = session.exec(
        select(Case.case_number, Case.status, RefundBatch.status, RefundItem.amount)
        .join(Case, Case.id == RefundItem.case_id)
        .join(RefundBatch, RefundBatch.id == RefundItem.batch_id)
        .where(RefundItem.live, RefundItem.result.is_(None))
        .order_by(Case.case_number)).all()
    wanted = {"built": Status.APPROVED.value, "released": Status.PAYOUT_REQUESTED.value,
              "sent": Status.PAYOUT_REQUESTED.value}
    for number, status, batch_status, amount in rows:
        if batch_status not in wanted:
            found.append(Difference(number, "live_item_cancelled_batch", None, amount))
        elif status != wanted[batch_status]:
            found.append(Difference(number, "live_transfer_case_state", None, amount))
    for (number, amount) in session.exec(
            select(Case.case_number, PayoutRequest.amount)
            .join(Case, Case.id == PayoutRequest.case_id)
            .where(PayoutRequest.live, PayoutRequest.result.is_(None),
                   Case.status != Status.PAYOUT_REQUESTED.value)
            .order_by(Case.case_number)).all():
        found.append(Difference(number, "live_request_case_state", None, amount))
    return found


def _requested_differences(session: Session) -> list[Difference]:
    """Every case in payout_requested has a live transfer of a released or sent batch,
    or a live request, still waiting for its result."""
    in_batch = (select(RefundItem.case_id).join(RefundBatch, RefundBatch.id == RefundItem.batch_id)
                .where(RefundItem.live, RefundItem.result.is_(None),
                       RefundBatch.status.in_(("released", "sent"))))
    on_list = select(PayoutRequest.case_id).where(PayoutRequest.live,
                                                  PayoutRequest.result.is_(None))
    rows = session.exec(
        select(Case.case_number, Case.approved_amount)
        .where(Case.status == Status.PAYOUT_REQUESTED.value, Case.id.not_in(in_batch),
               Case.id.not_in(on_list)).order_by(Case.case_number)).all()
    return [Difference(number, "requested_without_rail", amount, None) for number, amount in rows]


def _destination_differences(session: Session) -> list[Difference]:
    """A live transfer goes where the case's payout details say (they are frozen while a
    batch holds the case: a difference means they were changed behind the program)."""
    # IS DISTINCT FROM: a case whose bank fields were emptied compares as NULL with !=.
    # The account type is part of the account (the batch wrote "ordinary" for none).
    rows = session.exec(
        select(Case.case_number, RefundItem.amount)
        .join(Case, Case.id == RefundItem.case_id)
        .outerjoin(PayoutDetail, PayoutDetail.case_id == RefundItem.case_id)
        .where(RefundItem.live, RefundItem.result.is_(None),
               or_(PayoutDetail.id.is_(None),
                   PayoutDetail.kind.is_distinct_from(PayoutKind.BANK_ACCOUNT.value),
                   PayoutDetail.bank_code.is_distinct_from(RefundItem.bank_code),
                   PayoutDetail.branch_code.is_distinct_from(RefundItem.branch_code),
                   PayoutDetail.account_number.is_distinct_from(RefundItem.account_number),
                   func.coalesce(PayoutDetail.account_type, "ordinary")
                   != RefundItem.account_type))
        .order_by(Case.case_number)).all()
    return [Difference(number, "item_destination", None, amount) for number, amount in rows]


def _rail_claim_differences(session: Session) -> list[Difference]:
    """A live transfer or request names the case's own rail (the foreign key holds it
    where it is enforced: not in SQLite's own tools, nor under PostgreSQL's replica
    role), and a case is live on one rail only."""
    found = []
    for table, what in ((RefundItem, "transfer"), (PayoutRequest, "request")):
        for number, amount in session.exec(
                select(Case.case_number, table.amount)
                .join(Case, Case.id == table.case_id)
                .where(table.live, Case.payout_rail.is_distinct_from(table.rail))
                .order_by(Case.case_number)).all():
            found.append(Difference(number, f"live_{what}_other_rail", None, amount))
    both = (select(Case.case_number).where(
        Case.id.in_(select(RefundItem.case_id).where(RefundItem.live)),
        Case.id.in_(select(PayoutRequest.case_id).where(PayoutRequest.live)))
        .order_by(Case.case_number))
    found += [Difference(number, "live_on_two_rails", 1, 2)
              for number in session.exec(both).all()]
    # A case held by a rail that nothing live names is stuck: no batch or list takes
    # it, and no move is open on it.
    stuck = (select(Case.case_number).where(
        Case.payout_rail.is_not(None),
        Case.id.not_in(select(RefundItem.case_id).where(RefundItem.live)),
        Case.id.not_in(select(PayoutRequest.case_id).where(PayoutRequest.live)))
        .order_by(Case.case_number))
    found += [Difference(number, "rail_without_payout", None, None)
              for number in session.exec(stuck).all()]
    return found


def _rail_differences(session: Session) -> list[Difference]:
    return (_payment_differences(session) + _live_transfer_differences(session)
            + _requested_differences(session) + _destination_differences(session)
            + _rail_claim_differences(session))


def reconcile(ctx: AppContext) -> Reconciliation:
    with ctx.db.read() as session:
        by_channel = _figures(session, True)
        ordered = {c.value: by_channel.get(c.value, Figures()) for c in Channel}
        total = _figures(session, False)[None]
        channels_sum = Figures()
        for figures in ordered.values():
            channels_sum = channels_sum.add(figures)
        report = Reconciliation(as_of=ctx.clock.now(), by_channel=ordered, total=total,
                                channels_sum=channels_sum, batches=_batches(session),
                                differences=_case_differences(session)
                                + _rail_differences(session)
                                + [Difference(*d) for d in refund_differences(session)])
    for line in report.batches:
        if line.difference or line.recorded_count != line.items:
            report.differences.append(Difference(f"batch {line.batch_id}", "batch_total",
                                                 line.recorded_total, line.items_total))
    for name in FIGURES:
        if getattr(total, name) != getattr(channels_sum, name):
            report.differences.append(Difference("-", "programme_total",
                                                 getattr(channels_sum, name),
                                                 getattr(total, name)))
    return report


def write_csv(report: Reconciliation, path: str | Path) -> None:
    """Three sections in one sheet: channels and total, batches, differences."""
    with open_safe_csv(path) as out:
        out.row(["区分", *[FIGURES_JA[k] for k in FIGURES]])
        for channel, figures in report.by_channel.items():
            out.row([Channel(channel).label_ja, *[getattr(figures, k) for k in FIGURES]])
        out.row(["合計", *[getattr(report.total, k) for k in FIGURES]])
        out.row([])
        out.row(["バッチ", "状態", "振込日", "記録件数", "記録合計", "振込件数", "振込合計",
                 "入金済", "返却", "結果待ち", "差額"])
        for b in report.batches:
            out.row([b.batch_id, b.status, b.transfer_date, b.recorded_count, b.recorded_total,
                     b.items, b.items_total, b.done, b.returned, b.pending, b.difference])
        out.row([])
        out.row(["案件番号", "不一致", "あるべき額", "実際の額"])
        for d in report.differences:
            out.row([d.case_number, DIFFERENCES_JA[d.what], d.expected, d.found])


def csv_rows(path: str | Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_pdf(report: Reconciliation, path: str | Path) -> None:
    """The same report as a printable PDF."""
    from app.exports.reconcile_pdf import write_pdf as render

    render(report, path)
