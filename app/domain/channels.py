"""The four channels through which money was taken, and how each is made whole."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    CREDIT_CHARGE = "credit_charge"
    DEBIT_CHARGE = "debit_charge"
    NANACO_CHARGE = "nanaco_charge"
    UNAUTHORIZED_USE = "unauthorized_use"

    @property
    def label_ja(self) -> str:
        return _LABELS_JA[self]

    @property
    def guided_from_outreach_date(self) -> bool:
        """nanaco and unauthorised use are guided individually from the start date."""
        return self in OUTREACH_CHANNELS


_LABELS_JA = {
    Channel.CREDIT_CHARGE: "クレジットカードチャージ",
    Channel.DEBIT_CHARGE: "デビットカードチャージ",
    Channel.NANACO_CHARGE: "nanacoポイントチャージ",
    Channel.UNAUTHORIZED_USE: "不正利用",
}

OUTREACH_CHANNELS = frozenset({Channel.NANACO_CHARGE, Channel.UNAUTHORIZED_USE})


class PayoutKind(StrEnum):
    """Where the money goes, which depends on the channel."""

    CARD_CANCELLATION = "card_cancellation"
    BANK_ACCOUNT = "bank_account"
    NANACO = "nanaco"


DEFAULT_PAYOUT_KIND = {
    Channel.CREDIT_CHARGE: PayoutKind.CARD_CANCELLATION,
    Channel.DEBIT_CHARGE: PayoutKind.BANK_ACCOUNT,
    Channel.NANACO_CHARGE: PayoutKind.NANACO,
    Channel.UNAUTHORIZED_USE: PayoutKind.BANK_ACCOUNT,
}


def allowed_payout_kinds(channel: Channel) -> frozenset[PayoutKind]:
    """A credit charge billed anyway is refunded by bank transfer like a debit one."""
    if channel is Channel.CREDIT_CHARGE:
        return frozenset({PayoutKind.CARD_CANCELLATION, PayoutKind.BANK_ACCOUNT})
    return frozenset({DEFAULT_PAYOUT_KIND[channel]})
