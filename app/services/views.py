"""Plain records that services hand to the GUI and the command line.

No live ORM object leaves a service: these are frozen copies, safe to pass
between threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.domain.channels import Channel
from app.domain.payout import PayoutDetails
from app.domain.states import Status
from app.domain.workflow import BlockedMove, Move


@dataclass(frozen=True)
class VictimView:
    id: int
    member_id: str | None
    name: str
    name_kana: str | None
    phone: str | None
    email: str | None
    postal_code: str | None
    address: str | None
    contact_received_at: date | None
    version: int


@dataclass(frozen=True)
class IncidentView:
    id: int
    report_id: str
    occurred_at: datetime
    amount: int
    card_issuer: str | None
    card_last4: str | None
    merchant: str | None
    note: str | None
    source: str


@dataclass(frozen=True)
class AttemptView:
    at: datetime
    operator_login: str | None
    method: str
    outcome: str
    call_back_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class NoteView:
    at: datetime
    operator_login: str | None
    text: str


@dataclass(frozen=True)
class LetterView:
    id: int
    kind: str
    code: str
    created_at: datetime
    mailed_at: datetime | None


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor_login: str
    action: str
    before: str | None
    after: str | None
    reason: str | None


@dataclass(frozen=True)
class CaseView:
    id: int
    case_number: str
    channel: Channel
    status: Status
    held_from: Status | None
    claimed_amount: int
    verified_amount: int | None
    approved_amount: int | None
    paid_amount: int | None
    verified_by: int | None
    approved_by: int | None
    status_reason: str | None
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int
    victim: VictimView
    incidents: tuple[IncidentView, ...] = ()
    payout: PayoutDetails | None = None
    open_moves: tuple[Move, ...] = ()
    # Moves a rule of the case refuses now, with the reason (app.domain.workflow).
    blocked_moves: tuple[BlockedMove, ...] = ()
    attempts: tuple[AttemptView, ...] = ()
    notes: tuple[NoteView, ...] = ()
    letters: tuple[LetterView, ...] = ()
    timeline: tuple[AuditView, ...] = field(default=())
