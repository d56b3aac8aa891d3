"""Small builders shared by the service tests."""

from __future__ import annotations

from datetime import datetime

from app.core.clock import JST
from app.domain.channels import Channel, PayoutKind
from app.domain.payout import PayoutDetails
from app.services.intake import IncidentInput, VictimInput

BANK = PayoutDetails(PayoutKind.BANK_ACCOUNT, bank_code="0001", bank_name="みずほ銀行",
                     branch_code="001", branch_name="東京営業部", account_type="ordinary",
                     account_number="1234567", holder_kana="ヤマダ タロウ")
OTHER_BANK = PayoutDetails(PayoutKind.BANK_ACCOUNT, bank_code="0005", bank_name="三菱UFJ銀行",
                           branch_code="002", branch_name="丸の内支店", account_type="ordinary",
                           account_number="7654321", holder_kana="ヤマダ タロウ")
NANACO = PayoutDetails(PayoutKind.NANACO, nanaco_number="1234567890123456")


def victim(**kw) -> VictimInput:
    data = dict(name="山田 太郎", name_kana="ヤマダ タロウ", phone="090-1234-5678",
                postal_code="100-0005", address="東京都千代田区丸の内1丁目1番1号")
    data.update(kw)
    return VictimInput(**data)


def incident(channel: Channel = Channel.DEBIT_CHARGE, amount: int = 30_000, **kw) -> IncidentInput:
    data = dict(channel=channel, occurred_at=datetime(2019, 7, 2, 14, 5, tzinfo=JST),
                amount=amount)
    data.update(kw)
    return IncidentInput(**data)


SENDER = {
    "zengin_company_code": "1234567890", "zengin_company_name": "カブシキガイシャ セブン・ペイ",
    "zengin_bank_code": "0005", "zengin_branch_code": "001",
    "zengin_account_number": "7654321",
}


def release_by_transfer(ctx, staff, builder: str = "sv1", releaser: str = "sv2"):
    """Along the bank-transfer rail up to 支払手続中: built by one supervisor,
    released by another with a fresh code. Returns the batch."""
    from app.services import payouts
    from tests.conftest import step_up_code

    batch = payouts.build_batch(ctx, staff[builder])
    return payouts.release_batch(ctx, staff[releaser], batch.id,
                                 second_factor=step_up_code(ctx, staff[releaser]))


def send_batch(ctx, staff, batch_id: int, out) -> None:
    """Export the released batch's transfer file and mark it sent."""
    from app.domain.roles import SYSTEM_ACTOR
    from app.services import payouts, settings
    from tests.conftest import step_up_code

    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    payouts.export_batch(ctx, staff["sv2"], batch_id, out,
                         second_factor=step_up_code(ctx, staff["sv2"]))
    payouts.mark_sent(ctx, staff["op1"], batch_id)


def pay_by_transfer(ctx, staff, out) -> int:
    """Along the whole bank-transfer rail to 補償済: the bank's done result for every
    transfer of a new batch. Returns the batch id."""
    from app.services import payouts
    from app.services.payouts import ResultEntry

    batch = release_by_transfer(ctx, staff)
    send_batch(ctx, staff, batch.id, out)
    payouts.record_results(ctx, staff["op1"], batch.id, [
        ResultEntry(str(item.seq), "done") for item in payouts.batch_items(ctx, batch.id)])
    return batch.id
