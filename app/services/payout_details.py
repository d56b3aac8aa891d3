"""Where the money goes: setting and changing a case's payout details.

The rule that 7pay broke: a change of where money goes is confirmed through
the contact details already on record, never through a new address given in
the same call; on a case verified or later it sends the case back so that
verification and approval start again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from app.core.errors import MoveNotAllowed
from app.domain.channels import Channel
from app.domain.payout import PayoutDetails, money_destination, normalise
from app.domain.reasons import reason_code
from app.domain.roles import Actor
from app.domain.states import PAYOUT_LOCKED, VERIFIED_OR_LATER, Status
from app.services import audit, settings
from app.services.cases import (
    BY_HAND,
    BY_PAYOUT_CHANGE,
    MoveRequest,
    apply_move,
    check_version,
    clear_approval,
    lock_case,
)
from app.services.context import AppContext, confirmed_actor
from app.services.records import case_snapshot, case_view, payout_of, payout_row
from app.services.views import CaseView
from app.storage.models import Case, PayoutDetail, Victim


class ConfirmedVia(StrEnum):
    PHONE_ON_RECORD = "phone_on_record"  # we called back the number on file
    EMAIL_ON_RECORD = "email_on_record"
    LETTER_ON_RECORD = "letter_on_record"  # a letter to the postal address on file


@dataclass(frozen=True)
class Confirmation:
    via: ConfirmedVia
    note: str | None = None


def _check_confirmation(victim: Victim, confirmation: Confirmation | None, now: datetime,
                        settle_hours: int) -> None:
    if confirmation is None:
        raise MoveNotAllowed(
            "支払先の変更は、登録済みの連絡先で本人確認をしてから行ってください。",
            "A change of payout details must be confirmed through the contact on record.",
        )
    on_record = {
        ConfirmedVia.PHONE_ON_RECORD: victim.phone_digits,
        ConfirmedVia.EMAIL_ON_RECORD: victim.email_key,
        ConfirmedVia.LETTER_ON_RECORD: victim.address,
    }[confirmation.via]
    if not on_record:
        raise MoveNotAllowed("その連絡先は登録されていません。",
                             "That contact is not on record for this victim.")
    changed = victim.contact_changed_at
    if changed is not None and now - changed < timedelta(hours=settle_hours):
        raise MoveNotAllowed(
            "連絡先が最近変更されたため、その連絡先では支払先の変更を確認できません。",
            "The contact details changed recently: they cannot confirm a payout change.",
        )


def set_payout_details(
    ctx: AppContext, actor: Actor, case_id: int, details: PayoutDetails,
    *, confirmation: Confirmation | None = None, expected_version: int | None = None,
) -> CaseView:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        case = lock_case(session, case_id)
        check_version(case, expected_version, "案件")
        status = Status(case.status)
        if status in PAYOUT_LOCKED or status in (Status.MERGED, Status.REJECTED):
            raise MoveNotAllowed(
                f"{status.label_ja}の案件の支払先は変更できません。",
                f"Payout details cannot change on a case that is {status}.",
            )
        if case.payout_rail is not None:  # a built batch or a list holds it as it was
            raise MoveNotAllowed(
                "この案件は振込バッチまたは依頼リストに入っているため、支払先は変更できません。"
                "先にバッチを取り消してください。",
                "The case is in a batch or on a list: cancel it before changing payout details.",
            )
        clean = normalise(details, Channel(case.channel))
        row = payout_row(session, case.id)
        old = payout_of(row)
        changes_destination = old is not None and money_destination(old) != money_destination(clean)
        if changes_destination:
            victim = session.get(Victim, case.victim_id)
            _check_confirmation(victim, confirmation, now,
                                settings.load(session).contact_settle_hours)
        _store(session, case, row, clean, now)
        if changes_destination:
            payout_row(session, case.id).changed_at = now
        audit.record(session, actor, now, "payout.set", "payout_detail", case.id, case_id=case.id,
                     before=old.masked() if old else None, after=clean.masked(),
                     reason=confirmation.via.value if confirmation else None)
        if not (changes_destination and _send_back(session, ctx, case, actor, now)):
            case.updated_at = now
            case.version += 1  # a move back bumped it already
        session.flush()
        return case_view(session, case)


def _store(session: Session, case: Case, row: PayoutDetail | None, clean: PayoutDetails,
           now: datetime) -> None:
    values = clean.as_dict()
    if row is None:
        row = PayoutDetail(case_id=case.id, updated_at=now, **values)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
    session.add(row)


def _send_back(session: Session, ctx: AppContext, case: Case, actor: Actor,
               now: datetime) -> bool:
    """Verification and approval start again after a change of destination: through the
    workflow's own moves (send_back from verified, payout_changed from approved), or, for
    a case on hold, by moving the state it will resume in. True when the case moved."""
    status = Status(case.status)
    held = Status(case.held_from) if case.held_from else None
    if status not in VERIFIED_OR_LATER and held not in VERIFIED_OR_LATER:
        return False
    if status is Status.ON_HOLD:
        before = case_snapshot(case)
        clear_approval(case, verification_too=True)
        case.held_from = Status.DOCUMENTS_RECEIVED.value
        case.status_reason = _SENT_BACK
        audit.record(session, actor, now, "case.sent_back_payout_change", "case", case.id,
                     case_id=case.id, before=before, after=case_snapshot(case),
                     reason=reason_code("payout_details_changed"))
        return False
    apply_move(session, ctx, actor, case, MoveRequest(Status.DOCUMENTS_RECEIVED,
                                                      reason=_SENT_BACK), now,
               via=BY_PAYOUT_CHANGE if status is Status.APPROVED else BY_HAND)
    return True


_SENT_BACK = reason_code("payout_recheck")
