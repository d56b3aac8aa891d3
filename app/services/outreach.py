"""Recording outreach attempts. The queue itself (who to call next) builds on this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.errors import MoveNotAllowed, PermissionDenied, ValidationError
from app.domain.reasons import reason_code
from app.domain.states import Status
from app.services import audit, queue
from app.services.cases import MoveRequest, apply_move, lock_case
from app.services.context import AppContext, confirmed_actor
from app.services.records import case_view
from app.services.views import CaseView
from app.storage.models import OutreachAttempt


class Method(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    CALL_BACK = "call_back"
    REFUSED = "refused"

    @property
    def failed(self) -> bool:
        return self in (Outcome.NO_ANSWER, Outcome.WRONG_NUMBER)


@dataclass(frozen=True)
class AttemptInput:
    method: Method
    outcome: Outcome
    call_back_at: datetime | None = None
    note: str | None = None


def record_attempt(ctx: AppContext, actor, case_id: int, attempt: AttemptInput) -> CaseView:
    """Record one attempt; a reached victim's case moves to contacted when the rules allow."""
    if attempt.outcome is Outcome.CALL_BACK and attempt.call_back_at is None:
        raise ValidationError("call_back_at", "折り返しの日時を入力してください。",
                              "Enter when to call back.")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        case = lock_case(session, case_id)
        row = OutreachAttempt(case_id=case.id, operator_id=actor.operator_id, at=now,
                              method=attempt.method.value, outcome=attempt.outcome.value,
                              call_back_at=attempt.call_back_at, note=attempt.note)
        session.add(row)
        session.flush()
        audit.record(session, actor, now, "outreach.attempt", "outreach_attempt", row.id,
                     case_id=case.id, after={"method": row.method, "outcome": row.outcome,
                                             "call_back_at": row.call_back_at})
        if attempt.outcome is Outcome.REACHED:
            _contacted(session, case, actor, now, ctx)
        queue.after_attempt(session, case.id, attempt.outcome.value, attempt.outcome.failed,
                            attempt.call_back_at, now)
        session.flush()
        return case_view(session, case)


def _contacted(session, case, actor, now, ctx) -> None:
    if Status(case.status) not in (Status.RECEIVED, Status.UNREACHABLE):
        return
    try:
        apply_move(session, ctx, actor, case, MoveRequest(Status.CONTACTED), now,
                   audit_reason=reason_code("reached_by_outreach"))
    except (MoveNotAllowed, PermissionDenied):
        return  # e.g. before the outreach start date: the attempt stands on its own
