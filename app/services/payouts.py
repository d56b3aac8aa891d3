"""Making victims whole: refund batches, transfer files, card and nanaco lists.

Bank transfers (debit_charge, unauthorized_use, and credit cases billed anyway
whose payout method became a bank account) go in batches: a supervisor builds a
batch from approved cases, a *different* supervisor releases it (four eyes), the
総合振込 file is exported (by a supervisor or an administrator giving a fresh
authenticator code, like the lists below) and sent to the bank, and the bank's result per transfer
is entered: done cases are paid, returned ones go back to approved with the
reason, to be fixed and paid in a later batch. Card companies get a cancellation
list per issuer, the nanaco team a reinstatement list; each confirmation pays.

Every change of a case goes through the workflow's own check (``check_move``)
and is audited in the same transaction. A case is in at most one live batch or
list (partial unique indexes) and is paid at most once (payment.case_id unique).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from app.core.clock import today_jst
from app.core.errors import (
    ConflictError,
    MoveNotAllowed,
    NotFound,
    PermissionDenied,
    UserError,
    ValidationError,
)
from app.core.files import recorded_path, written_into_place
from app.domain import banks
from app.domain.batches import BatchStatus, check_refund_batch, check_result
from app.domain.calendar import add_business_days, is_business_day, next_business_day
from app.domain.case_number import parse_case_number
from app.domain.channels import Channel, PayoutKind
from app.domain.roles import Actor, Role
from app.domain.settings import sender_problems
from app.domain.states import Status
from app.domain.text import mask_tail
from app.domain.zengin import holder_name_mismatch, line_end, to_zengin_kana
from app.exports import zengin
from app.exports.csv_safe import open_safe_csv
from app.services import audit, reconcile, refund_transfers, settings
from app.services.cases import lock_case, rail_move
from app.services.context import AppContext, confirmed_actor, get_or_404, require_role
from app.services.records import payout_row
from app.services.second_factor import (
    counting_step_up_failures,
    require_exporter,
    require_step_up,
)
from app.storage.models import (
    RAIL_CARD,
    RAIL_NANACO,
    RAIL_TRANSFER,
    Case,
    Operator,
    PayoutDetail,
    PayoutList,
    PayoutRequest,
    RefundBatch,
    RefundItem,
    Victim,
)

# Batch states. A batch is edited only while built; cancelled only before it is sent.
# Their table is app.domain.batches: every action below is checked against it.
BUILT, RELEASED, SENT, CANCELLED = (s.value for s in BatchStatus)
# Results on a transfer or request. Withdrawn: a supervisor gave a card or nanaco
# request up (no answer, or the charge was billed anyway) and the case goes back.
DONE, RETURNED, WITHDRAWN = "done", "returned", "withdrawn"
TRANSFER_CHANNELS = (Channel.DEBIT_CHARGE, Channel.UNAUTHORIZED_USE, Channel.CREDIT_CHARGE)
RETURN_REASONS = {
    "closed_account": "口座解約済",
    "name_mismatch": "名義相違",
    "no_account": "該当口座なし",
    "other": "その他",
}


# -- views --------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchView:
    id: int
    status: str
    channel: str | None
    transfer_date: date
    item_count: int
    total_amount: int
    built_by: str | None
    built_at: datetime
    released_by: str | None
    released_at: datetime | None
    exported_at: datetime | None
    sent_at: datetime | None
    cancelled_at: datetime | None
    done: int = 0
    returned: int = 0
    pending: int = 0


@dataclass(frozen=True)
class ItemView:
    seq: int
    case_id: int
    case_number: str
    channel: str
    amount: int
    bank_code: str
    branch_code: str
    account: str  # masked
    holder: str
    result: str | None
    reason: str | None
    live: bool
    name_mismatch: bool = False
    programme: str = "compensation"  # or "balance_refund" (app.services.refund_transfers)


@dataclass(frozen=True)
class RequestView:
    case_id: int
    case_number: str
    kind: str
    card_issuer: str | None
    amount: int
    result: str | None
    reason: str | None
    list_id: int


@dataclass(frozen=True)
class ResultEntry:
    """One line of the bank's answer: a case number or a transfer sequence."""

    key: str
    result: str  # done / returned
    reason: str | None = None
    line: int | None = None  # the line of the result file, to name in a refusal


@dataclass
class ResultSummary:
    done: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


# -- who ------------------------------------------------------------------------------


def supervisor_by_login(ctx: AppContext, login: str) -> Actor:
    """The command line's ``--as LOGIN``: an active supervisor, or a refusal."""
    with ctx.db.read() as session:
        row = session.exec(select(Operator).where(Operator.login == login)).first()
        if row is None or not row.active:
            raise NotFound(f"操作者 {login} が見つかりません。", f"No active operator {login}.")
        if row.role != Role.SUPERVISOR.value:
            raise PermissionDenied(f"{login} はスーパーバイザーではありません。",
                                   f"{login} is not a supervisor.")
        return Actor(operator_id=row.id, login=row.login, role=Role(row.role))


def _supervisor(session: Session, actor: Actor) -> Actor:
    actor = confirmed_actor(session, actor)
    if actor.role is not Role.SUPERVISOR:
        raise PermissionDenied(
            "振込バッチの作成・承認・取消と依頼の取下げは、スーパーバイザーが行います。",
            "Only a supervisor builds, releases or cancels a batch, or withdraws a request.",
        )
    return actor


def _staff(session: Session, actor: Actor) -> Actor:
    actor = confirmed_actor(session, actor)
    require_role(actor, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
    return actor


# -- moving cases, only along a rail ------------------------------------------------
# A case takes its place on a rail (case.payout_rail, and a live transfer or request
# naming the same rail: the database's foreign key holds the two together) and
# lets it go in the same transaction as the move that sends it back.


def _move(session: Session, ctx: AppContext, actor: Actor, case: Case, target: Status,
          now: datetime, reason: str | None = None, reference: str | None = None) -> None:
    rail_move(session, ctx, actor, case, target, now, reason=reason, reference=reference)


def _still_waiting(case: Case) -> None:
    """After the case's lock: a list or batch read the approved cases before it locked
    each one, and another desk may have held, withdrawn or listed a case meanwhile."""
    if case.status != Status.APPROVED.value or case.approved_amount is None:
        now_ja = Status(case.status).label_ja
        raise ConflictError(
            f"{case.case_number} は読み込んだ後に他の操作者が変更しました（{now_ja}）。"
            "もう一度内容を確認してください。",
            f"{case.case_number} was changed by another desk meanwhile ({case.status}): "
            "look again.")


def _claim(session: Session, case: Case, rail: str) -> None:
    """Before a live transfer or request is added for the case."""
    if case.payout_rail not in (None, rail):
        raise MoveNotAllowed(
            f"{case.case_number} は別の支払方法（{_RAIL_JA[case.payout_rail]}）で手続き中または"
            "支払済です。二重の支払はできません。",
            f"{case.case_number} is already held by the {case.payout_rail} rail: "
            "no second payout.")
    case.payout_rail = rail
    session.add(case)
    session.flush()


def _let_go(session: Session, case: Case, holder: RefundItem | PayoutRequest) -> None:
    """The transfer or request stops being live, then the case leaves its rail (in this
    order: the foreign key refuses a rail taken from a case that a live row names)."""
    holder.live, holder.rail = False, None
    session.add(holder)
    session.flush()
    case.payout_rail = None
    session.add(case)
    session.flush()


_RAIL_JA = {RAIL_TRANSFER: "振込", RAIL_CARD: "カード会社の取消", RAIL_NANACO: "nanaco戻し入れ"}


# -- batches ------------------------------------------------------------------------------


def _eligible(session: Session, channel: Channel | None, limit: int | None):
    """Approved cases paid by bank transfer and on no rail yet, oldest approval first."""
    query = (select(Case, PayoutDetail)
             .join(PayoutDetail, PayoutDetail.case_id == Case.id)
             .where(Case.status == Status.APPROVED.value,
                    PayoutDetail.kind == PayoutKind.BANK_ACCOUNT.value,
                    Case.channel.in_([c.value for c in TRANSFER_CHANNELS]),
                    Case.payout_rail.is_(None))
             .order_by(Case.approved_at, Case.id))
    if channel is not None:
        query = query.where(Case.channel == channel.value)
    if limit:
        query = query.limit(limit)
    return session.exec(query).all()


def transfer_date_for(today: date, lead_days: int, wanted: date | None = None) -> date:
    """The transfer date: the wanted day or ``lead_days`` business days ahead, moved
    forward off weekends, public holidays and the bank holidays of 31 Dec to 3 Jan."""
    day = wanted or add_business_days(today, lead_days)
    return next_business_day(day)


def earliest_transfer_date(ctx: AppContext) -> date:
    """The first day the window's calendar offers: ``lead_days`` business days ahead."""
    with ctx.db.read() as session:
        lead = settings.load(session).zengin_lead_business_days
    return transfer_date_for(today_jst(ctx.clock), lead)


@dataclass(frozen=True)
class BatchPreview:
    """What a batch built now would hold: shown to the supervisor before it is built."""

    transfer_date: date
    case_numbers: tuple[str, ...]
    total_amount: int
    refused: tuple[str, ...] = ()  # case number: why it cannot go into a transfer file

    @property
    def count(self) -> int:
        return len(self.case_numbers)


@dataclass(frozen=True)
class _Plan:
    preview: BatchPreview
    rows: list  # (case, payout, holder in Zengin kana)
    refund_rows: list = field(default_factory=list)  # balance refunds (refund_transfers)


def _plan(session: Session, ctx: AppContext, channel: Channel | None, limit: int | None,
          transfer_date: date | None, refunds: bool = False) -> _Plan:
    conf = settings.load(session)
    today = today_jst(ctx.clock)
    if transfer_date is not None and transfer_date < today:
        raise ValidationError("transfer_date",
                              f"振込指定日（{transfer_date}）が過ぎています。今日以降の銀行営業日を選んでください。",
                              f"The transfer date {transfer_date} has passed.")
    when = transfer_date_for(today, conf.zengin_lead_business_days, transfer_date)
    rows, refused = [], []
    for case, payout in _eligible(session, channel, limit):
        try:
            rows.append((case, payout, to_zengin_kana(payout.holder_kana or "")))
        except ValidationError as exc:
            refused.append(f"{case.case_number}: {exc.ja}")
    # Asked for, a batch also takes the balance refunds waiting for a transfer: one batch
    # may hold both programmes, each item saying which.
    refund_rows, refunds_refused = (refund_transfers.plan(session, limit) if refunds
                                    else ([], []))
    preview = BatchPreview(transfer_date=when, case_numbers=tuple(c.case_number for c, _p, _h
                                                                  in rows)
                           + tuple(refund_transfers.label(a) for a, _h in refund_rows),
                           total_amount=sum(c.approved_amount for c, _p, _h in rows)
                           + sum(a.refundable_amount for a, _h in refund_rows),
                           refused=tuple(refused) + tuple(refunds_refused))
    return _Plan(preview, rows, refund_rows)


def preview_batch(ctx: AppContext, actor: Actor, *, channel: Channel | None = None,
                  limit: int | None = None, transfer_date: date | None = None,
                  refunds: bool = False) -> BatchPreview:
    """The cases, total and transfer date a batch built now would have; nothing written."""
    with ctx.db.read() as session:
        _supervisor(session, actor)
        return _plan(session, ctx, channel, limit, transfer_date, refunds).preview


def build_batch(ctx: AppContext, actor: Actor, *, channel: Channel | None = None,
                limit: int | None = None, transfer_date: date | None = None,
                expected: BatchPreview | None = None, refunds: bool = False) -> BatchView:
    """Build from the approved cases. With ``expected`` (the preview the supervisor
    confirmed), refuse if the batch would now hold anything else."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = _supervisor(session, actor)
        plan = _plan(session, ctx, channel, limit, transfer_date, refunds)
        if not plan.preview.count:
            raise UserError(_nothing_to_transfer(plan.preview), "No approved case is waiting "
                            "for a bank transfer that a transfer file can carry.")
        if expected is not None and expected != plan.preview:
            raise ConflictError(
                "確認した内容の後に対象の案件が変わりました。もう一度内容を確認してください。",
                "The cases changed after the preview: look at the batch again.")
        batch = RefundBatch(status=BUILT, channel=channel.value if channel else None,
                            transfer_date=plan.preview.transfer_date,
                            built_by=actor.operator_id, built_at=now)
        session.add(batch)
        session.flush()
        _add_items(session, batch, plan.rows, plan.refund_rows)
        when = plan.preview.transfer_date
        audit.record(session, actor, now, "payout.batch_build", "refund_batch", batch.id,
                     after={"items": batch.item_count, "total": batch.total_amount,
                            "transfer_date": when, "refused": list(plan.preview.refused)},
                     reason=None if when == transfer_date or transfer_date is None
                     else f"transfer date moved from {transfer_date} to {when}")
        session.flush()
        return _batch_view(session, batch)


def _nothing_to_transfer(preview: BatchPreview) -> str:
    if not preview.refused:
        return "振込できる承認済の案件がありません。"
    return "振込データにできる案件がありません: " + "; ".join(preview.refused[:5])


def _add_items(session: Session, batch: RefundBatch, rows: list, refund_rows: list) -> None:
    for seq, (case, payout, holder) in enumerate(rows, start=1):
        locked = lock_case(session, case.id)
        _still_waiting(locked)
        _claim(session, locked, RAIL_TRANSFER)
        session.add(RefundItem(
            batch_id=batch.id, case_id=case.id, seq=seq, amount=case.approved_amount,
            rail=RAIL_TRANSFER, bank_code=payout.bank_code, branch_code=payout.branch_code,
            account_type=payout.account_type or "ordinary",
            account_number=payout.account_number, holder_zengin=holder))
    session.flush()
    refunds = refund_transfers.add_items(session, batch.id, refund_rows, len(rows) + 1)
    batch.item_count = len(rows) + refunds
    batch.total_amount = _items_total(session, batch.id)


def _items_total(session: Session, batch_id: int) -> int:
    return int(session.exec(select(func.coalesce(func.sum(RefundItem.amount), 0))
                            .where(RefundItem.batch_id == batch_id)).one())


def _lock_batch(session: Session, batch_id: int) -> RefundBatch:
    batch = session.exec(select(RefundBatch).where(RefundBatch.id == batch_id)
                         .with_for_update()).first()
    if batch is None:
        raise NotFound(f"振込バッチ {batch_id} が見つかりません。", f"No batch {batch_id}.")
    return batch


def _items(session: Session, batch_id: int) -> list[RefundItem]:
    return list(session.exec(select(RefundItem).where(RefundItem.batch_id == batch_id)
                             .order_by(RefundItem.seq)).all())


def release_batch(ctx: AppContext, actor: Actor, batch_id: int, *,
                  second_factor: str | None = None) -> BatchView:
    """The second supervisor's release, the moment money leaves: with a fresh
    authenticator code, like an approval. Every case moves to payout_requested."""
    with counting_step_up_failures(ctx, actor):
        return _release_batch(ctx, actor, batch_id, second_factor)


def _release_batch(ctx: AppContext, actor: Actor, batch_id: int,
                   code: str | None) -> BatchView:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = _supervisor(session, actor)
        batch = _lock_batch(session, batch_id)
        action = check_refund_batch(batch.status, "release")
        if batch.built_by == actor.operator_id:
            raise PermissionDenied(
                "バッチを作成した本人は承認できません（二者確認）。別のスーパーバイザーが承認してください。",
                "The supervisor who built a batch cannot release it (four eyes).",
            )
        for item in _items(session, batch.id):
            if item.application_ref is not None:  # a balance refund's transfer
                refund_transfers.check_release(session, item)
                continue
            case = lock_case(session, item.case_id)
            _check_still_as_built(session, case, item)
            if case.approved_amount != item.amount:
                raise MoveNotAllowed(
                    f"{case.case_number} の承認金額がバッチ作成後に変わりました。"
                    "バッチを取り消して作り直してください。",
                    f"The approved amount of {case.case_number} changed: rebuild the batch.")
            _move(session, ctx, actor, case, Status.PAYOUT_REQUESTED, now)
        require_step_up(session, actor, code, now)  # last: another refusal spends no code
        batch.status, batch.released_by, batch.released_at = action.target, actor.operator_id, now
        audit.record(session, actor, now, "payout.batch_release", "refund_batch", batch.id,
                     after={"items": batch.item_count, "total": batch.total_amount})
        session.flush()
        return _batch_view(session, batch)


def _check_still_as_built(session: Session, case: Case, item: RefundItem) -> None:
    """Between build and release the case may have changed hands: refuse, never guess."""
    payout = payout_row(session, case.id)
    now_going = payout and (payout.bank_code, payout.branch_code, payout.account_number)
    if case.status != Status.APPROVED.value or now_going != (
            item.bank_code, item.branch_code, item.account_number):
        raise MoveNotAllowed(
            f"{case.case_number} の状態または振込先がバッチ作成後に変わりました。"
            "バッチを取り消して作り直してください。",
            f"{case.case_number} changed after the batch was built: cancel and rebuild.")


def cancel_batch(ctx: AppContext, actor: Actor, batch_id: int, reason: str) -> BatchView:
    """Before it is sent: the items stop being live; released cases go back to approved."""
    if not reason or not reason.strip():
        raise ValidationError("reason", "取消の理由を入力してください。", "Give a reason.")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = _supervisor(session, actor)
        batch = _lock_batch(session, batch_id)
        action = check_refund_batch(batch.status, "cancel")
        for item in _items(session, batch.id):
            if item.application_ref is not None:  # a balance refund's transfer
                refund_transfers.let_go(session, item)
                continue
            case = lock_case(session, item.case_id)
            _let_go(session, case, item)
            if batch.status == RELEASED:
                _move(session, ctx, actor, case, Status.APPROVED, now,
                      reason=f"振込バッチ{batch.id}の取消: {reason.strip()}")
        before = batch.status
        batch.status, batch.cancelled_by, batch.cancelled_at = action.target, actor.operator_id, now
        batch.cancel_reason = reason.strip()
        audit.record(session, actor, now, "payout.batch_cancel", "refund_batch", batch.id,
                     before={"status": before}, after={"status": CANCELLED}, reason=reason)
        session.flush()
        return _batch_view(session, batch)


def _sender(session: Session) -> zengin.Sender:
    """The sender of the transfer file, or a refusal naming every missing or invalid
    sender setting by the label the settings page shows (values saved before they
    were checked on saving, or edited in the database, included)."""
    conf = settings.load(session)
    problems = sender_problems(conf)
    if problems:
        raise UserError(
            "振込元の設定を設定画面で直してください: " + " ／ ".join(ja for ja, _en in problems),
            "Fix the sender on the settings page: " + "; ".join(en for _ja, en in problems))
    bank, branch = banks.bank(conf.zengin_bank_code), banks.branch(conf.zengin_bank_code,
                                                                   conf.zengin_branch_code)
    return zengin.Sender(
        company_code=conf.zengin_company_code,
        company_name=to_zengin_kana(conf.zengin_company_name),  # checked above: converts
        bank_code=conf.zengin_bank_code, bank_name=_kana(bank),
        branch_code=conf.zengin_branch_code, branch_name=_kana(branch),
        account_type=conf.zengin_account_type, account_number=conf.zengin_account_number)


def _kana(entry: banks.BankEntry | None) -> str:
    if entry is None:
        return ""
    try:
        return to_zengin_kana(entry.kana)
    except ValidationError:
        return ""  # a name the file cannot carry is left blank: the codes decide


def check_sender(ctx: AppContext) -> None:
    """Read-only: refuse, as the export would, unless the sender settings make a
    transfer file; the window asks this before it asks for a file name and a code."""
    with ctx.db.read() as session:
        _sender(session)


def transfer_file_bytes(session: Session, batch: RefundBatch) -> bytes:
    sender = _sender(session)
    transfers = []
    for item in _items(session, batch.id):
        transfers.append(zengin.Transfer(
            bank_code=item.bank_code, bank_name=_kana(banks.bank(item.bank_code)),
            branch_code=item.branch_code,
            branch_name=_kana(banks.branch(item.bank_code, item.branch_code)),
            account_type=item.account_type, account_number=item.account_number,
            holder=item.holder_zengin, amount=item.amount,
            # A balance refund's item is known by 9 and its application's id.
            customer_code1=str(item.case_id or f"9{item.application_ref:09d}"),
            customer_code2=str(item.seq)))
    newline = line_end(settings.load(session).zengin_line_end)
    return zengin.transfer_file(sender, batch.transfer_date, transfers, newline)


def _write_atomic(path: str | Path, data: bytes) -> None:
    with written_into_place(path) as temp:
        temp.write_bytes(data)


def export_batch(ctx: AppContext, actor: Actor, batch_id: int, out: str | Path, *,
                 second_factor: str | None = None) -> BatchView:
    """Write the transfer file of a released batch (again if needed: same bytes).
    A payment file: a supervisor or an administrator, with a fresh code."""
    with counting_step_up_failures(ctx, actor):
        return _export_batch(ctx, actor, batch_id, out, second_factor)


def _export_batch(ctx: AppContext, actor: Actor, batch_id: int, out: str | Path,
                  code: str | None) -> BatchView:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.SUPERVISOR, Role.ADMIN)
        batch = _lock_batch(session, batch_id)
        check_refund_batch(batch.status, "export")
        if batch.status == RELEASED and not is_business_day(batch.transfer_date):
            raise MoveNotAllowed("振込指定日が銀行営業日ではありません。",
                                 "The transfer date is not a bank business day.")
        if batch.status == RELEASED and batch.transfer_date < today_jst(ctx.clock):
            raise MoveNotAllowed(
                f"振込指定日（{batch.transfer_date}）を過ぎています。バッチを取り消して作り直してください。",
                f"The transfer date {batch.transfer_date} has passed: cancel and rebuild.")
        _sender(session)  # the settings first: a refusal for them spends no code
        require_exporter(session, actor, code, now)  # last: another refusal spends no code
        data = transfer_file_bytes(session, batch)
        digest = hashlib.sha256(data).hexdigest()
        _same_file_once_sent(batch, digest)
        _write_atomic(out, data)
        batch.exported_at, batch.file_sha256 = now, digest
        audit.record(session, actor, now, "payout.batch_export", "refund_batch", batch.id,
                     after={"file": recorded_path(out), "sha256": digest,
                            "bytes": len(data)})
        session.flush()
        return _batch_view(session, batch)


def _same_file_once_sent(batch: RefundBatch, digest: str) -> None:
    """The bank holds the file of a sent batch: a copy written again must be that file
    (a sender setting changed since would make another file for the same transfers,
    one a bank could take as a second submission)."""
    if batch.status == SENT and batch.file_sha256 and digest != batch.file_sha256:
        raise MoveNotAllowed(
            f"振込バッチ {batch.id} は送信済です。振込元の設定がその後に変わったため、送信した"
            "ファイルと同じものを出力できません。設定を送信時の値に戻してください。",
            f"Batch {batch.id} was sent; the sender settings changed since, so the file sent "
            "cannot be written again: put the settings back as they were.")


def mark_sent(ctx: AppContext, actor: Actor, batch_id: int) -> BatchView:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = _staff(session, actor)
        batch = _lock_batch(session, batch_id)
        action = check_refund_batch(batch.status, "mark_sent", batch.exported_at is not None)
        batch.status, batch.sent_by, batch.sent_at = action.target, actor.operator_id, now
        audit.record(session, actor, now, "payout.batch_sent", "refund_batch", batch.id,
                     after={"sha256": batch.file_sha256})
        session.flush()
        return _batch_view(session, batch)


def _find_item(items: list[RefundItem], numbers: dict[int, str], key: str) -> RefundItem:
    text = (key or "").strip()
    number = parse_case_number(text) if text else None
    for item in items:
        if (number and numbers[item.id] == number) or numbers[item.id] == text or (
                text.isascii() and text.isdigit() and item.seq == int(text)):
            return item
    raise NotFound(f"このバッチに {text} の振込はありません。", f"No transfer {text} in batch.")


_RESULT_WORDS = {"done": DONE, "済": DONE, "完了": DONE, "ok": DONE, "入金済": DONE,
                 "returned": RETURNED, "返却": RETURNED, "組戻": RETURNED, "不能": RETURNED}


def parse_result(word: str) -> str:
    found = _RESULT_WORDS.get((word or "").strip().lower())
    if found is None:
        raise ValidationError("result", f"結果「{word}」は done（済）か returned（返却）です。",
                              f"Result {word!r} must be done or returned.")
    return found


@dataclass(frozen=True)
class _Result:
    item: RefundItem
    result: str
    reason: str | None
    where: tuple[str, str] = ("", "")  # the line and key, to name in a refusal


def _where(entry: ResultEntry, index: int) -> tuple[str, str]:
    line = entry.line or index
    return f"{line}行目（{(entry.key or '').strip() or '番号なし'}）", f"line {line} " \
        f"({(entry.key or '').strip() or 'no number'})"


def _check_entry(entry: ResultEntry, items, numbers, seen: set[int],
                 index: int = 0) -> _Result:
    item = _find_item(items, numbers, entry.key)
    result = parse_result(entry.result)
    if item.id in seen:
        raise MoveNotAllowed(f"{numbers[item.id]} の結果がファイルに二度あります。",
                             f"{numbers[item.id]} appears twice in the file.")
    check_result(item.result, numbers[item.id])
    reason = (entry.reason or "").strip() or None
    if result == RETURNED and not reason:
        raise ValidationError("reason", f"{numbers[item.id]} の返却の理由がありません。",
                              f"The returned transfer {numbers[item.id]} needs a reason.")
    seen.add(item.id)
    return _Result(item, result, reason, _where(entry, index))


def _checked_results(items, numbers, entries: list[ResultEntry]) -> list[_Result]:
    """Every line is checked before any is applied; a refusal names each bad line."""
    checked, problems_ja, problems_en, seen = [], [], [], set()
    for index, entry in enumerate(entries, start=1):
        try:
            checked.append(_check_entry(entry, items, numbers, seen, index))
        except UserError as exc:
            where_ja, where_en = _where(entry, index)
            problems_ja.append(f"{where_ja}: {exc.ja}")
            problems_en.append(f"{where_en}: {exc.en}")
    if problems_ja:
        shown = 10
        more_ja = f"（ほか{len(problems_ja) - shown}件）" if len(problems_ja) > shown else ""
        more_en = f" (and {len(problems_en) - shown} more)" if len(problems_en) > shown else ""
        raise ValidationError(
            "results",
            "結果を反映できません。何も反映していません。\n" + "\n".join(problems_ja[:shown])
            + more_ja,
            "The results cannot be applied; nothing was applied. " + "; ".join(
                problems_en[:shown]) + more_en)
    if not checked:
        raise ValidationError("results", "結果が1件もありません。", "The file holds no result.")
    return checked


def record_results(ctx: AppContext, actor: Actor, batch_id: int,
                   entries: Iterable[ResultEntry]) -> ResultSummary:
    """The bank's result per transfer: done → paid, returned → approved with the reason.
    All or nothing: one line that cannot be applied refuses the whole file."""
    now = ctx.clock.now()
    summary = ResultSummary()
    with ctx.db.write() as session:
        actor = _staff(session, actor)
        batch = _lock_batch(session, batch_id)
        check_refund_batch(batch.status, "enter_results")
        items = _items(session, batch.id)
        # Each item by its case number, or a balance refund's by 払戻 and its application.
        by_case = dict(session.exec(select(Case.id, Case.case_number).where(
            Case.id.in_([i.case_id for i in items if i.case_id is not None]))).all())
        numbers = {i.id: by_case[i.case_id] for i in items if i.case_id is not None}
        numbers |= refund_transfers.labels(session, items)
        for checked in _checked_results(items, numbers, list(entries)):
            try:
                _apply_result(session, ctx, actor, batch, checked, now, summary)
            except UserError as exc:  # the case is not where its transfer says: rolled back
                number = numbers[checked.item.case_id]
                raise ValidationError(
                    "results", "結果を反映できません。何も反映していません。\n"
                    f"{checked.where[0]}: {number}: {exc.ja}",
                    f"The results cannot be applied; nothing was applied. {checked.where[1]}:"
                    f" {number}: {exc.en}") from exc
        session.flush()
    return summary


def _apply_result(session: Session, ctx: AppContext, actor: Actor, batch: RefundBatch,
                  checked: _Result, now: datetime, summary: ResultSummary) -> None:
    item = checked.item
    if item.application_ref is not None:  # a balance refund's transfer
        done = refund_transfers.apply_result(session, actor, now, batch.id, item,
                                             checked.result, checked.reason)
        (summary.done if checked.result == DONE else summary.returned).append(done)
        item.result, item.result_reason = checked.result, checked.reason
        item.result_at, item.result_by = now, actor.operator_id
        session.add(item)
        return
    case = lock_case(session, item.case_id)
    if checked.result == DONE:
        _move(session, ctx, actor, case, Status.PAID, now,
              reference=f"ZENGIN-{batch.id}-{item.seq}")
        summary.done.append(case.case_number)
    else:
        reason = RETURN_REASONS.get(checked.reason, checked.reason)
        _let_go(session, case, item)  # free to go into a later batch once fixed
        _move(session, ctx, actor, case, Status.APPROVED, now, reason=f"振込返却: {reason}")
        summary.returned.append(case.case_number)
    item.result, item.result_reason = checked.result, checked.reason
    item.result_at, item.result_by = now, actor.operator_id
    session.add(item)
    audit.record(session, actor, now, "payout.transfer_result", "refund_item", item.id,
                 case_id=case.id, after={"result": checked.result, "batch": batch.id,
                                         "seq": item.seq}, reason=checked.reason)


def read_results_csv(path: str | Path) -> list[ResultEntry]:
    """case number (or seq), result, reason: UTF-8 (with or without BOM) or CP932."""
    raw = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UserError("結果ファイルの文字コードが読めません（UTF-8かCP932）。",
                        "The results file is neither UTF-8 nor CP932.")
    entries = []
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        line = reader.line_num
        if not row or not row[0].strip() or row[0].strip().lower() in (
                "case", "case_number", "seq", "案件番号", "番号"):
            continue
        entries.append(ResultEntry(key=row[0], result=row[1] if len(row) > 1 else "",
                                   reason=row[2].strip() if len(row) > 2 else None,
                                   line=line))
    return entries


# -- reading --------------------------------------------------------------------------------




def _batch_view(session: Session, batch: RefundBatch) -> BatchView:
    logins = dict(session.exec(select(Operator.id, Operator.login)).all())
    counts = dict(session.exec(select(RefundItem.result, func.count()).where(
        RefundItem.batch_id == batch.id).group_by(RefundItem.result)).all())
    return BatchView(
        id=batch.id, status=batch.status, channel=batch.channel,
        transfer_date=batch.transfer_date, item_count=batch.item_count,
        total_amount=batch.total_amount, built_by=logins.get(batch.built_by),
        built_at=batch.built_at, released_by=logins.get(batch.released_by),
        released_at=batch.released_at, exported_at=batch.exported_at, sent_at=batch.sent_at,
        cancelled_at=batch.cancelled_at, done=counts.get(DONE, 0),
        returned=counts.get(RETURNED, 0), pending=counts.get(None, 0))


def list_batches(ctx: AppContext) -> list[BatchView]:
    with ctx.db.read() as session:
        rows = session.exec(select(RefundBatch).order_by(RefundBatch.id.desc())).all()
        return [_batch_view(session, b) for b in rows]


def get_batch(ctx: AppContext, batch_id: int) -> BatchView:
    with ctx.db.read() as session:
        return _batch_view(session, get_or_404(session, RefundBatch, batch_id,
                                               "振込バッチ", "Batch"))


def batch_items(ctx: AppContext, batch_id: int) -> list[ItemView]:
    with ctx.db.read() as session:
        rows = session.exec(
            select(RefundItem, Case.case_number, Case.channel, Victim.name_kana)
            .join(Case, Case.id == RefundItem.case_id)
            .join(Victim, Victim.id == Case.victim_id)
            .where(RefundItem.batch_id == batch_id).order_by(RefundItem.seq)).all()
        items = [ItemView(
            seq=i.seq, case_id=i.case_id, case_number=number, channel=channel,
            amount=i.amount, bank_code=i.bank_code, branch_code=i.branch_code,
            account=mask_tail(i.account_number, 3), holder=i.holder_zengin, result=i.result,
            reason=i.result_reason, live=i.live,
            name_mismatch=holder_name_mismatch(i.holder_zengin, kana))
            for i, number, channel, kana in rows]
        return sorted(items + refund_transfers.item_views(session, batch_id, ItemView),
                      key=lambda view: view.seq)


def waiting_for_transfer(ctx: AppContext) -> dict[str, int]:
    """Approved cases a new batch would take, per channel."""
    with ctx.db.read() as session:
        counts: dict[str, int] = {}
        for case, _payout in _eligible(session, None, None):
            counts[case.channel] = counts.get(case.channel, 0) + 1
        return counts


def holder_mismatch_for_case(ctx: AppContext, case_id: int) -> bool:
    """For the case detail: the account holder's kana is not the victim's name in kana."""
    with ctx.db.read() as session:
        case = get_or_404(session, Case, case_id, "案件", "Case")
        payout = payout_row(session, case_id)
        victim = session.get(Victim, case.victim_id)
        if payout is None or payout.kind != PayoutKind.BANK_ACCOUNT.value:
            return False
        return holder_name_mismatch(payout.holder_kana, victim.name_kana)


# -- card companies and nanaco -------------------------------------------------------------


def _approved_for(session: Session, kind: PayoutKind, issuer: str | None = None):
    query = (select(Case, PayoutDetail, Victim)
             .join(PayoutDetail, PayoutDetail.case_id == Case.id)
             .join(Victim, Victim.id == Case.victim_id)
             .where(Case.status == Status.APPROVED.value, PayoutDetail.kind == kind.value,
                    Case.payout_rail.is_(None))
             .order_by(PayoutDetail.billing_confirmation_date, Case.id))
    if issuer is not None:
        query = query.where(PayoutDetail.card_issuer == issuer)
    return session.exec(query).all()


def card_issuers_waiting(ctx: AppContext) -> dict[str, int]:
    with ctx.db.read() as session:
        counts: dict[str, int] = {}
        for _case, payout, _victim in _approved_for(session, PayoutKind.CARD_CANCELLATION):
            counts[payout.card_issuer] = counts.get(payout.card_issuer, 0) + 1
        return dict(sorted(counts.items()))


def nanaco_waiting(ctx: AppContext) -> int:
    with ctx.db.read() as session:
        return len(_approved_for(session, PayoutKind.NANACO))


def _record_list(ctx: AppContext, actor: Actor, kind: PayoutKind, issuer: str | None,
                 out: str | Path, header: list[str], row_of, code: str | None) -> int:
    with counting_step_up_failures(ctx, actor):
        return _write_list(ctx, actor, kind, issuer, out, header, row_of, code)


def _write_list(ctx: AppContext, actor: Actor, kind: PayoutKind, issuer: str | None,
                out: str | Path, header: list[str], row_of, code: str | None) -> int:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.SUPERVISOR, Role.ADMIN)
        rows = _approved_for(session, kind, issuer)
        if not rows:
            raise UserError("依頼できる承認済の案件がありません。",
                            "No approved case is waiting for this list.")
        require_exporter(session, actor, code, now)  # personal data: a fresh code
        listing = PayoutList(kind=kind.value, card_issuer=issuer, created_by=actor.operator_id,
                             created_at=now)
        session.add(listing)
        session.flush()
        lines = []
        rail = RAIL_NANACO if kind is PayoutKind.NANACO else RAIL_CARD
        for case, payout, victim in rows:
            case = lock_case(session, case.id)
            _still_waiting(case)
            _claim(session, case, rail)
            session.add(PayoutRequest(list_id=listing.id, case_id=case.id,
                                      amount=case.approved_amount, rail=rail))
            _move(session, ctx, actor, case, Status.PAYOUT_REQUESTED, now)
            lines.append(row_of(session, case, payout, victim))
        session.flush()
        listing.item_count = len(rows)
        listing.total_amount = sum(case.approved_amount for case, _p, _v in rows)
        with open_safe_csv(out) as writer:
            writer.row(header)
            for line in lines:
                writer.row(line)
        # Written before the commit: a failed write rolls the whole list back.
        listing.file_sha256 = hashlib.sha256(Path(out).read_bytes()).hexdigest()
        audit.record(session, actor, now, f"payout.{kind.value}_list", "payout_list",
                     listing.id, after={"issuer": issuer, "cases": len(rows),
                                        "total": listing.total_amount,
                                        "file": recorded_path(out)})
        session.flush()
        return len(rows)


def _charges(session: Session, case_id: int) -> tuple[str, int]:
    from app.storage.models import Incident

    rows = session.exec(select(Incident.occurred_at, Incident.amount).where(
        Incident.case_id == case_id).order_by(Incident.occurred_at)).all()
    from app.core.clock import to_jst

    text = " / ".join(f"{to_jst(at):%Y-%m-%d %H:%M} {amount}" for at, amount in rows)
    return text, len(rows)


CARD_HEADER = ["案件番号", "カード会社", "カード下4桁", "チャージ件数", "チャージ明細（日時 金額）",
               "取消依頼金額", "請求確定日", "支払日"]
NANACO_HEADER = ["案件番号", "会員ID", "nanaco番号（下4桁）", "戻し入れポイント"]


def card_cancellation_list(ctx: AppContext, actor: Actor, issuer: str, out: str | Path, *,
                           second_factor: str | None = None) -> int:
    """The cancellation request list for one card issuer; each case moves to payout_requested.
    Personal data: a supervisor or an administrator, with a fresh code."""
    def row(session, case, payout, victim):
        charges, count = _charges(session, case.id)
        return [case.case_number, payout.card_issuer, payout.card_last4, count, charges,
                case.approved_amount, payout.billing_confirmation_date or "",
                payout.payment_date or ""]
    return _record_list(ctx, actor, PayoutKind.CARD_CANCELLATION, issuer, out, CARD_HEADER, row,
                        second_factor)


def nanaco_list(ctx: AppContext, actor: Actor, out: str | Path, *,
                second_factor: str | None = None) -> int:
    """The reinstatement list for the points team: the member id, the number's last 4 only.
    Personal data: a supervisor or an administrator, with a fresh code."""
    def row(session, case, payout, victim):
        return [case.case_number, victim.member_id or "", mask_tail(payout.nanaco_number, 4),
                case.approved_amount]
    return _record_list(ctx, actor, PayoutKind.NANACO, None, out, NANACO_HEADER, row,
                        second_factor)


def pending_requests(ctx: AppContext, kind: PayoutKind | None = None) -> list[RequestView]:
    with ctx.db.read() as session:
        query = (select(PayoutRequest, PayoutList, Case.case_number)
                 .join(PayoutList, PayoutList.id == PayoutRequest.list_id)
                 .join(Case, Case.id == PayoutRequest.case_id)
                 .where(PayoutRequest.result.is_(None)).order_by(PayoutRequest.id))
        if kind is not None:
            query = query.where(PayoutList.kind == kind.value)
        return [RequestView(case_id=r.case_id, case_number=number, kind=lst.kind,
                            card_issuer=lst.card_issuer, amount=r.amount, result=r.result,
                            reason=r.result_reason, list_id=lst.id)
                for r, lst, number in session.exec(query).all()]


def confirm_request(ctx: AppContext, actor: Actor, case_id: int, *, done: bool = True,
                    reason: str | None = None, reference: str | None = None) -> None:
    """The card company (or nanaco team) confirmed: paid; or refused: back to approved."""
    if not done and not (reason and reason.strip()):
        raise ValidationError("reason", "理由を入力してください。", "Give a reason.")
    with ctx.db.write() as session:
        actor = _staff(session, actor)
        _settle_request(session, ctx, actor, case_id, DONE if done else RETURNED,
                        reason.strip() if reason else None, reference)


def withdraw_request(ctx: AppContext, actor: Actor, case_id: int, reason: str) -> None:
    """A supervisor gives a card or nanaco request up (the company never answered, or
    the charge was billed anyway): recorded on the request, the case back to approved,
    free for another payout method."""
    if not reason or not reason.strip():
        raise ValidationError("reason", "取り下げの理由を入力してください。", "Give a reason.")
    with ctx.db.write() as session:
        actor = _supervisor(session, actor)
        _settle_request(session, ctx, actor, case_id, WITHDRAWN, reason.strip(), None)


def _settle_request(session: Session, ctx: AppContext, actor: Actor, case_id: int,
                    result: str, reason: str | None, reference: str | None) -> None:
    now = ctx.clock.now()
    request = session.exec(select(PayoutRequest).where(
        PayoutRequest.case_id == case_id, PayoutRequest.live,
        PayoutRequest.result.is_(None)).with_for_update()).first()
    if request is None:
        raise NotFound("この案件に確認待ちの依頼はありません。",
                       "This case has no request waiting for confirmation.")
    case = lock_case(session, case_id)
    if result == DONE:
        _move(session, ctx, actor, case, Status.PAID, now,
              reference=reference or f"LIST-{request.list_id}")
    else:
        _let_go(session, case, request)
        word = "取下げ" if result == WITHDRAWN else "依頼不可"
        _move(session, ctx, actor, case, Status.APPROVED, now, reason=f"{word}: {reason}")
    request.result, request.result_reason = result, reason
    request.result_at, request.result_by = now, actor.operator_id
    session.add(request)
    audit.record(session, actor, now, "payout.request_result", "payout_request", request.id,
                 case_id=case_id, after={"result": result}, reason=reason)
    session.flush()


# -- the payouts area in one read ---------------------------------------------------------
@dataclass(frozen=True)
class PayoutsOverview:
    """Everything the payouts area shows, read at one moment."""

    batches: list[BatchView]
    waiting: dict[str, int]
    issuers: dict[str, int]
    nanaco: int
    requests: list[RequestView]
    report: reconcile.Reconciliation


def page_data(ctx: AppContext) -> PayoutsOverview:
    return PayoutsOverview(list_batches(ctx), waiting_for_transfer(ctx),
                           card_issuers_waiting(ctx), nanaco_waiting(ctx),
                           pending_requests(ctx), reconcile.reconcile(ctx))


def build_preview(ctx: AppContext, actor: Actor, *,
                  channel: Channel | None = None) -> tuple[BatchPreview, date]:
    """What a batch would hold now, and the earliest transfer date it may take."""
    return preview_batch(ctx, actor, channel=channel), earliest_transfer_date(ctx)
