"""Editing a victim's record, and revealing guarded details (recorded)."""

from __future__ import annotations

from dataclasses import asdict

from sqlmodel import Session

from app.domain.payout import PayoutDetails
from app.domain.roles import Actor
from app.domain.text import email_key, phone_digits, search_key
from app.services import audit
from app.services.cases import check_version
from app.services.context import AppContext, confirmed_actor, get_or_404
from app.services.intake import VictimInput, validate_victim
from app.services.records import payout_of, payout_row, victim_view
from app.services.views import VictimView
from app.storage.models import Case, Victim

_CONTACT_FIELDS = ("phone", "email", "postal_code", "address")


def update_victim(ctx: AppContext, actor: Actor, victim_id: int, data: VictimInput,
                  expected_version: int) -> VictimView:
    """Save an edit; refused if someone else saved first (nothing is overwritten)."""
    clean = validate_victim(data)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        row = _lock_victim(session, victim_id)
        check_version(row, expected_version, "被害者情報")
        old = asdict(VictimInput(**{f: getattr(row, f) for f in VictimInput.__dataclass_fields__}))
        new = asdict(clean)
        before, after = audit.changed_fields(old, new)
        if not after:
            return victim_view(row)
        for key, value in after.items():
            setattr(row, key, value if key == "name" else (value or None))
        row.name_key, row.kana_key = search_key(row.name), search_key(row.name_kana)
        row.phone_digits, row.email_key = phone_digits(row.phone), email_key(row.email)
        if any(key in _CONTACT_FIELDS for key in after):
            # A freshly given contact cannot confirm a change of where money goes.
            row.contact_changed_at = now
        row.updated_at, row.version = now, row.version + 1
        audit.record(session, actor, now, "victim.update", "victim", row.id,
                     before=before, after=after)
        session.flush()
        return victim_view(row)


def _lock_victim(session: Session, victim_id: int) -> Victim:
    """Read the victim for change, holding its row lock on PostgreSQL: a second desk
    saving at once waits here, then sees the first desk's version and is refused."""
    row = session.get(Victim, victim_id, with_for_update=True)
    return row or get_or_404(session, Victim, victim_id, "被害者", "Victim")


def reveal_payout(ctx: AppContext, actor: Actor, case_id: int) -> PayoutDetails | None:
    """The unmasked payout details; every look is recorded."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        get_or_404(session, Case, case_id, "案件", "Case")
        details = payout_of(payout_row(session, case_id))
        audit.record(session, actor, now, "payout.reveal", "payout_detail", case_id,
                     case_id=case_id)
        return details
