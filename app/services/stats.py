"""Programme figures, computed by SQL aggregates (never by loading cases)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from app.domain.channels import Channel
from app.domain.states import Status
from app.services.context import AppContext
from app.services.refunds_stats import refund_figures
from app.storage.models import Case, Incident, Payment, Victim


def programme_stats(ctx: AppContext) -> dict:
    with ctx.db.read() as session:
        def count(model) -> int:
            return int(session.exec(select(func.count()).select_from(model)).one())

        by_channel = dict(
            session.exec(
                select(Case.channel, func.coalesce(func.sum(Incident.amount), 0))
                .join(Incident, Incident.case_id == Case.id)
                .group_by(Case.channel)
            ).all()
        )
        by_status = dict(
            session.exec(select(Case.status, func.count()).group_by(Case.status)).all())
        paid = session.exec(select(func.coalesce(func.sum(Payment.amount), 0))).one()
        claimed = session.exec(select(func.coalesce(func.sum(Incident.amount), 0))).one()
        return {
            "victims": count(Victim),
            "cases": count(Case),
            "incidents": count(Incident),
            "claimed_total": int(claimed),
            "claimed_by_channel": {c.value: int(by_channel.get(c.value, 0)) for c in Channel},
            "cases_by_status": {s.value: int(by_status.get(s.value, 0)) for s in Status},
            "paid_total": int(paid),
            "refunds": refund_figures(session),
        }
