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
