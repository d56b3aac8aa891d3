"""The demo's payouts go along the rails, as the real program's do.

A demo case that reached 支払手続中 or 補償済 did so through a released refund batch
(bank transfers) or a card company's cancellation list, with the bank's or the card
company's result on the transfer or request: so reconciliation of the demo finds
every payment backed, and the database's rail constraints hold for the demo's rows.
Batches and lists are grouped by the day they were released (each case's release
is at 09:00 the morning after its approval, where its history leaves room).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from app.core.clock import JST
from app.domain.channels import PayoutKind
from app.domain.roles import Actor
from app.domain.zengin import to_zengin_kana
from app.storage.models import (
    RAIL_CARD,
    RAIL_TRANSFER,
    PayoutList,
    PayoutRequest,
    RefundBatch,
    RefundItem,
)

RELEASE_HOUR = 9


def release_time(approved_at: datetime, next_at: datetime) -> datetime:
    """The first 09:00 (JST) after approval, if it comes before the case's next step;
    else just after approval (a batch released that very minute)."""
    local = approved_at.astimezone(JST)
    morning = local.replace(hour=RELEASE_HOUR, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += timedelta(days=1)
    if morning < next_at:
        return morning
    return approved_at + (next_at - approved_at) / 2


class DemoRails:
    """Writes the batches, lists, transfers and requests of the demo's paid cases."""

    def __init__(self, ids, builder: Actor, releaser: Actor) -> None:
        self.ids, self.builder, self.releaser = ids, builder, releaser
        self.holders: dict[tuple, dict] = {}
        self.seqs: dict[int, int] = {}  # batch id -> its last transfer's sequence
        self.open: dict[int, tuple[type, dict]] = {}  # case id -> its live transfer/request

    def request(self, out, case: dict, payout: dict, at: datetime) -> None:
        if payout["kind"] == PayoutKind.BANK_ACCOUNT:
            self._transfer(out, case, payout, at)
        else:
            self._card_request(out, case, payout, at)

    def _holder(self, out, model: type, key: tuple, make, at: datetime) -> dict:
        found = self.holders.get(key)
        if found is None:
            found = self.holders[key] = make()
            out.add(model, found)
        elif model is RefundBatch and at < found["released_at"]:
            # Released before its first case is recorded as requested: the earliest one.
            found.update(built_at=at - timedelta(minutes=30), released_at=at,
                         exported_at=at, sent_at=at)
        return found

    def _transfer(self, out, case: dict, payout: dict, at: datetime) -> None:
        day = at.astimezone(JST).date()
        batch = self._holder(out, RefundBatch, ("transfer", day), lambda: dict(
            id=self.ids.next("refund_batch"), status="sent", channel=None,
            transfer_date=day, item_count=0, total_amount=0,
            built_by=self.builder.operator_id, built_at=at - timedelta(minutes=30),
            released_by=self.releaser.operator_id, released_at=at, exported_at=at,
            file_sha256=None, sent_by=self.releaser.operator_id, sent_at=at,
            cancelled_by=None, cancelled_at=None, cancel_reason=None), at)
        seq = self.seqs[batch["id"]] = self.seqs.get(batch["id"], 0) + 1
        item = dict(id=self.ids.next("refund_item"), batch_id=batch["id"], case_id=case["id"],
                    seq=seq, amount=case["approved_amount"],
                    live=True, rail=RAIL_TRANSFER, bank_code=payout["bank_code"],
                    branch_code=payout["branch_code"], account_type=payout["account_type"],
                    account_number=payout["account_number"],
                    holder_zengin=to_zengin_kana(payout["holder_kana"]), result=None,
                    result_reason=None, result_at=None, result_by=None)
        out.add(RefundItem, item)
        case["payout_rail"] = RAIL_TRANSFER
        self.open[case["id"]] = (RefundItem, item)

    def _card_request(self, out, case: dict, payout: dict, at: datetime) -> None:
        key = ("card", payout["card_issuer"], at.astimezone(JST).date())
        listing = self._holder(out, PayoutList, key, lambda: dict(
            id=self.ids.next("payout_list"), kind=PayoutKind.CARD_CANCELLATION.value,
            card_issuer=payout["card_issuer"], item_count=0, total_amount=0,
            file_sha256=None, created_by=self.builder.operator_id, created_at=at), at)
        request = dict(id=self.ids.next("payout_request"), list_id=listing["id"],
                       case_id=case["id"], amount=case["approved_amount"], live=True,
                       rail=RAIL_CARD, result=None, result_reason=None, result_at=None,
                       result_by=None)
        out.add(PayoutRequest, request)
        case["payout_rail"] = RAIL_CARD
        self.open[case["id"]] = (PayoutRequest, request)

    def paid(self, case: dict, actor: Actor, at: datetime) -> str:
        """The bank's or card company's done result; returns the payment's reference."""
        model, row = self.open.pop(case["id"])
        row.update(result="done", result_at=at, result_by=actor.operator_id)
        if model is RefundItem:
            return f"ZENGIN-{row['batch_id']}-{row['seq']}"
        return f"LIST-{row['list_id']}"

    @staticmethod
    def settle_totals(session) -> None:
        """Counts and totals of every batch and list, from their rows."""
        for table, child, key in (("refund_batch", "refund_item", "batch_id"),
                                  ("payout_list", "payout_request", "list_id")):
            session.execute(text(
                f"UPDATE {table} SET item_count = (SELECT count(*) FROM {child} "
                f"WHERE {child}.{key} = {table}.id), total_amount = (SELECT "
                f"COALESCE(SUM(amount), 0) FROM {child} WHERE {child}.{key} = {table}.id)"))
