"""Everything a verifier or approver should see flagged on one case, in one call."""

from __future__ import annotations

from dataclasses import dataclass

from app.services import payouts, suspicion
from app.services.context import AppContext
from app.services.suspicion import Flag


@dataclass(frozen=True)
class CaseWarnings:
    flags: tuple[Flag, ...]
    holder_mismatch: bool  # the account holder is not the victim, by the kana

    @property
    def any(self) -> bool:
        return bool(self.flags) or self.holder_mismatch


def case_warnings(ctx: AppContext, case_id: int) -> CaseWarnings:
    return CaseWarnings(tuple(suspicion.flags_for_case(ctx, case_id)),
                        payouts.holder_mismatch_for_case(ctx, case_id))
