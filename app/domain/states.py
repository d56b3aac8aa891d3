"""Case states, as in workflow.md."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "received"
    CONTACTED = "contacted"
    DOCUMENTS_RECEIVED = "documents_received"
    VERIFIED = "verified"
    APPROVED = "approved"
    PAYOUT_REQUESTED = "payout_requested"
    PAID = "paid"
    CLOSED = "closed"
    ON_HOLD = "on_hold"
    UNREACHABLE = "unreachable"
    REJECTED = "rejected"
    MERGED = "merged"

    @property
    def label_ja(self) -> str:
        return _LABELS_JA[self]

    @property
    def is_final(self) -> bool:
        return self in (Status.CLOSED, Status.MERGED)


_LABELS_JA = {
    Status.RECEIVED: "受付",
    Status.CONTACTED: "案内済",
    Status.DOCUMENTS_RECEIVED: "書類受領",
    Status.VERIFIED: "確認済",
    Status.APPROVED: "承認済",
    Status.PAYOUT_REQUESTED: "支払手続中",
    Status.PAID: "補償済",
    Status.CLOSED: "完了",
    Status.ON_HOLD: "保留",
    Status.UNREACHABLE: "連絡不能",
    Status.REJECTED: "不支給",
    Status.MERGED: "統合",
}

# States at or past verification: a change of payout details here sends the case back.
VERIFIED_OR_LATER = frozenset(
    {Status.VERIFIED, Status.APPROVED, Status.PAYOUT_REQUESTED, Status.PAID, Status.CLOSED}
)
# Money is in flight or delivered: payout details can no longer change.
PAYOUT_LOCKED = frozenset({Status.PAYOUT_REQUESTED, Status.PAID, Status.CLOSED})
