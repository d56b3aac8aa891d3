"""Payout details: where the money goes, checked before it is stored."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import date

from app.core.errors import ValidationError
from app.domain.channels import Channel, PayoutKind, allowed_payout_kinds
from app.domain.text import mask_tail
from app.domain.zengin import JAPAN_POST_BANK, post_bank_transfer_account, to_zengin_kana

ACCOUNT_TYPES = {"ordinary": "普通", "current": "当座", "savings": "貯蓄"}
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class PayoutDetails:
    kind: PayoutKind
    bank_code: str | None = None
    bank_name: str | None = None
    branch_code: str | None = None
    branch_name: str | None = None
    account_type: str | None = None
    account_number: str | None = None
    holder_kana: str | None = None
    nanaco_number: str | None = None
    card_issuer: str | None = None
    card_last4: str | None = None
    billing_confirmation_date: date | None = None
    payment_date: date | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    def masked(self) -> dict:
        """What lists and letters show: never a whole account or nanaco number."""
        data = self.as_dict()
        data["account_number"] = mask_tail(self.account_number, 3)
        data["nanaco_number"] = mask_tail(self.nanaco_number, 4)
        return data

    def missing_fields(self) -> list[str]:
        required = {
            PayoutKind.BANK_ACCOUNT: (
                "bank_code", "branch_code", "account_type", "account_number", "holder_kana",
            ),
            PayoutKind.NANACO: ("nanaco_number",),
            PayoutKind.CARD_CANCELLATION: (
                "card_issuer", "card_last4", "billing_confirmation_date", "payment_date",
            ),
        }[self.kind]
        return [name for name in required if not getattr(self, name)]

    @property
    def complete(self) -> bool:
        return not self.missing_fields()


def _digits(field: str, value: str | None, length: int, label: str) -> str | None:
    if value is None or value == "":
        return None
    text = unicodedata.normalize("NFKC", value).replace("-", "").replace(" ", "")
    if not _DIGITS.match(text) or len(text) != length:
        raise ValidationError(
            field, f"{label}は{length}桁の数字で入力してください。",
            f"{field} must be {length} digits.",
        )
    return text


def account_number_digits(value: str | None) -> str | None:
    """An account number checked and normalised on its own, as ``normalise`` does it."""
    return _digits("account_number", value, 7, "口座番号")


def normalise(details: PayoutDetails, channel: Channel) -> PayoutDetails:
    """Validate and normalise; refuse a payout kind the channel cannot use."""
    if details.kind not in allowed_payout_kinds(channel):
        raise ValidationError(
            "kind", f"{channel.label_ja}の案件にはこの支払方法は使えません。",
            f"A {channel} case cannot be paid by {details.kind}.",
        )
    if details.account_type and details.account_type not in ACCOUNT_TYPES:
        raise ValidationError("account_type", "預金種目が正しくありません。", "Bad account type.")
    kana = details.holder_kana
    if kana:
        kana = unicodedata.normalize("NFKC", kana).strip()
        to_zengin_kana(kana)  # refuse now what a transfer file could not carry
    if (
        details.billing_confirmation_date
        and details.payment_date
        and details.billing_confirmation_date > details.payment_date
    ):
        raise ValidationError(
            "billing_confirmation_date", "請求確定日は支払日より前の日付にしてください。",
            "The billing-confirmation date must come before the payment date.",
        )
    details = _with_bank_names(details)
    return replace(
        details,
        bank_code=_digits("bank_code", details.bank_code, 4, "金融機関コード"),
        branch_code=_digits("branch_code", details.branch_code, 3, "支店コード"),
        account_number=_digits("account_number", details.account_number, 7, "口座番号"),
        nanaco_number=_digits("nanaco_number", details.nanaco_number, 16, "nanaco番号"),
        card_last4=_digits("card_last4", details.card_last4, 4, "カード下4桁"),
        holder_kana=kana or None,
    )


def japan_post_bank(kigou: str, bangou: str, holder_kana: str) -> PayoutDetails:
    """A ゆうちょ銀行 account given as 記号・番号, as the bank details a transfer needs."""
    account = post_bank_transfer_account(kigou, bangou)
    return PayoutDetails(
        PayoutKind.BANK_ACCOUNT, bank_code=JAPAN_POST_BANK, bank_name="ゆうちょ銀行",
        branch_code=account.branch_code, branch_name=account.branch_name,
        account_type=account.account_type, account_number=account.account_number,
        holder_kana=holder_kana,
    )


def _with_bank_names(details: PayoutDetails) -> PayoutDetails:
    """Fill bank and branch names from the code when not typed (zengin-code)."""
    from app.domain import banks

    if details.kind is not PayoutKind.BANK_ACCOUNT or not details.bank_code:
        return details
    code = unicodedata.normalize("NFKC", details.bank_code).strip()
    found = banks.bank(code)
    if found is None and not details.bank_name:
        raise ValidationError("bank_code", f"金融機関コード {code} が見つかりません。",
                              f"No bank with code {code}.")
    name = details.bank_name or (found.name if found else None)
    branch_name = details.branch_name
    if not branch_name and details.branch_code:
        branch = banks.branch(code, unicodedata.normalize("NFKC", details.branch_code).strip())
        branch_name = branch.name if branch else None
    return replace(details, bank_name=name, branch_name=branch_name)


def money_destination(details: PayoutDetails | None) -> tuple:
    """The fields that decide where money goes; a change here needs confirmation."""
    if details is None:
        return ()
    return (
        details.kind, details.bank_code, details.branch_code, details.account_type,
        details.account_number, details.holder_kana, details.nanaco_number,
        details.card_issuer, details.card_last4,
    )
