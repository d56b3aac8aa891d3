"""The states of batches, like the case workflow: which actions exist, from which
state, to which. Services check every action against these tables; the window asks
them which buttons to enable. No Qt, no SQL.

- A refund batch (総合振込): built by one supervisor, released by another, its file
  exported (again if needed: the same bytes), sent, its results entered; cancelled
  only before it is sent.
- A letter batch: produced, then mailed once.
- A card or nanaco request, and a transfer of a batch: waiting, then done, returned
  (refused) or withdrawn; only a waiting one takes a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.errors import MoveNotAllowed


class BatchStatus(StrEnum):
    BUILT = "built"
    RELEASED = "released"
    SENT = "sent"
    CANCELLED = "cancelled"

    @property
    def label_ja(self) -> str:
        return {"built": "作成済", "released": "承認済", "sent": "送信済",
                "cancelled": "取消済"}[self.value]


B = BatchStatus


@dataclass(frozen=True)
class BatchAction:
    name: str
    sources: frozenset[BatchStatus]
    target: BatchStatus | None  # None: the state stays
    refused_ja: str
    refused_en: str
    needs_export: bool = False  # only once the transfer file was written


REFUND_BATCH_ACTIONS: dict[str, BatchAction] = {a.name: a for a in (
    BatchAction("release", frozenset({B.BUILT}), B.RELEASED,
                "このバッチは{status}のため承認できません。",
                "A batch that is {status} is not waiting for release."),
    BatchAction("export", frozenset({B.RELEASED, B.SENT}), None,
                "承認済（リリース済）のバッチだけが振込データを出力できます。",
                "Only a released batch can be exported."),
    BatchAction("mark_sent", frozenset({B.RELEASED}), B.SENT,
                "振込データを出力した承認済のバッチだけを送信済にできます。",
                "Only a released, exported batch can be marked sent.", needs_export=True),
    BatchAction("cancel", frozenset({B.BUILT, B.RELEASED}), B.CANCELLED,
                "{status}のバッチは取り消せません。",
                "A batch that is {status} cannot be cancelled."),
    BatchAction("enter_results", frozenset({B.SENT}), None,
                "送信済のバッチにだけ結果を入力できます。",
                "Results are entered on a sent batch only."),
)}


def refund_batch_actions(status: str, exported: bool) -> frozenset[str]:
    """The actions open on a refund batch in this state (for the window's buttons)."""
    return frozenset(name for name, action in REFUND_BATCH_ACTIONS.items()
                     if _open(action, BatchStatus(status), exported))


def check_refund_batch(status: str, action: str, exported: bool = False) -> BatchAction:
    """The action if the batch's state allows it; a bilingual refusal if not."""
    found = REFUND_BATCH_ACTIONS[action]
    state = BatchStatus(status)
    if not _open(found, state, exported):
        raise MoveNotAllowed(found.refused_ja.format(status=state.label_ja),
                             found.refused_en.format(status=state.value))
    return found


def _open(action: BatchAction, state: BatchStatus, exported: bool) -> bool:
    return state in action.sources and (exported or not action.needs_export)


class ItemResult(StrEnum):
    """A transfer's or a request's result; None while it waits."""

    DONE = "done"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"

    @property
    def label_ja(self) -> str:
        return {"done": "入金済", "returned": "返却", "withdrawn": "取下げ"}[self.value]


def check_result(current: str | None, number: str) -> None:
    """Only a transfer or request still waiting takes a result, and takes it once."""
    if current is not None:
        try:
            label = ItemResult(current).label_ja
        except ValueError:  # a word from an older version: shown as stored
            label = current
        raise MoveNotAllowed(f"{number} の結果は入力済です（{label}）。",
                             f"{number} already has a result ({current}).")


def check_letter_batch_mailable(mailed: bool, batch_id: int) -> None:
    """A letter batch is marked mailed once: the day its envelopes were posted."""
    if mailed:
        raise MoveNotAllowed(f"発送バッチ {batch_id} は発送済みとして記録されています。",
                             f"Letter batch {batch_id} is already marked as mailed.")
