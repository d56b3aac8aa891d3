"""The demo programme matches the public figures and obeys the rules."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.errors import UserError
from app.domain.states import Status
from app.services import demo, stats
from app.storage.models import AuditEvent, Case, Incident, Payment, PayoutDetail


@pytest.fixture
def demo_ctx(ctx):
    demo.build_demo(ctx)
    return ctx


def test_demo_matches_public_figures(demo_ctx):
    figures = stats.programme_stats(demo_ctx)
    assert figures["victims"] == 808
    assert figures["claimed_total"] == 38_615_473
    assert sum(figures["claimed_by_channel"].values()) == 38_615_473
    assert all(v > 0 for v in figures["claimed_by_channel"].values())
    assert sum(figures["cases_by_status"].values()) == figures["cases"]


def test_demo_cases_spread_over_the_workflow(demo_ctx):
    by_status = stats.programme_stats(demo_ctx)["cases_by_status"]
    for status in ("received", "contacted", "paid", "on_hold", "unreachable", "rejected"):
        assert by_status[status] > 0, status


def test_demo_money_is_consistent(demo_ctx):
    with demo_ctx.db.read() as s:
        mismatched = s.execute(
            select(func.count()).select_from(Case).where(
                Case.claimed_amount != select(func.sum(Incident.amount))
                .where(Incident.case_id == Case.id).scalar_subquery())).scalar_one()
        paid_cases = s.execute(select(func.count()).select_from(Case).where(
            Case.status.in_(["paid", "closed"]))).scalar_one()
        payments = s.execute(select(func.count()).select_from(Payment)).scalar_one()
        paid_total = s.execute(select(func.sum(Case.paid_amount))).scalar_one()
        payment_total = s.execute(select(func.sum(Payment.amount))).scalar_one()
        no_payout = s.execute(select(func.count()).select_from(Case).where(
            Case.status.in_(["documents_received", "verified", "approved", "paid"]),
            ~select(PayoutDetail.id).where(PayoutDetail.case_id == Case.id).exists())
        ).scalar_one()
    assert mismatched == 0
    assert payments == paid_cases
    assert paid_total == payment_total
    assert no_payout == 0


def test_demo_leaves_an_audit_trail_for_every_move(demo_ctx):
    with demo_ctx.db.read() as s:
        approvals = s.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "case.approve")).scalar_one()
        approved_or_later = s.execute(select(func.count()).select_from(Case).where(
            Case.approved_by.is_not(None))).scalar_one()
        four_eyes_broken = s.execute(select(func.count()).select_from(Case).where(
            Case.approved_by == Case.verified_by)).scalar_one()
    assert approvals == approved_or_later > 0
    assert four_eyes_broken == 0


def test_demo_nanaco_contacts_not_before_outreach_start(demo_ctx):
    with demo_ctx.db.read() as s:
        early = s.execute(select(func.min(AuditEvent.at)).join(
            Case, Case.id == AuditEvent.case_id).where(
            AuditEvent.action == "case.contact",
            Case.channel.in_(["nanaco_charge", "unauthorized_use"]))).scalar_one()
    assert early.astimezone(demo.JST).date() >= demo.OUTREACH_START


def test_demo_is_deterministic_for_a_seed(ctx, tmp_path):
    from app.services.context import AppContext
    from app.storage import migrate
    from app.storage.db import Database

    first = demo.build_demo(ctx, victims=50, seed=3)
    other = Database(str(tmp_path / "again.sqlite3"))
    migrate.upgrade(other)
    second = demo.build_demo(AppContext(other), victims=50, seed=3)
    assert (first.cases, first.incidents, first.claimed_total) == \
        (second.cases, second.incidents, second.claimed_total)
    with ctx.db.read() as a, other.read() as b:
        names_a = a.execute(select(Case.case_number, Case.status).order_by(Case.id)).all()
        names_b = b.execute(select(Case.case_number, Case.status).order_by(Case.id)).all()
    assert names_a == names_b


def test_demo_scales_the_total(ctx):
    result = demo.build_demo(ctx, victims=1616, seed=1)
    assert result.claimed_total == 2 * 38_615_473


def test_demo_refuses_a_database_with_cases(demo_ctx):
    with pytest.raises(UserError, match="empty database"):
        demo.build_demo(demo_ctx)


def test_new_case_numbers_continue_after_the_demo(demo_ctx, staff):
    from app.services import intake
    from tests.services.helpers import incident, victim

    case = intake.take_phone_intake(demo_ctx, staff["op1"], victim(), incident())
    assert case.status is Status.RECEIVED
    assert int(case.case_number[2:9]) == stats.programme_stats(demo_ctx)["cases"]


def test_demo_writes_in_chunks_without_breaking_foreign_keys(ctx, monkeypatch):
    """Rows are flushed between victims only: children never precede their case."""
    monkeypatch.setattr(demo, "CHUNK", 50)
    result = demo.build_demo(ctx, victims=300, seed=2)
    assert stats.programme_stats(ctx)["incidents"] == result.incidents
