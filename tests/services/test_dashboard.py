"""Dashboard figures against sums computed independently here, in Python over the rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import pytest
from sqlmodel import select

from app.core.clock import JST, FixedClock, to_jst
from app.domain.channels import Channel, PayoutKind
from app.domain.deadlines import DeadlineFlag, credit_flag, payment_late, reminder_due
from app.domain.states import Status
from app.services import dashboard, demo, settings
from app.services.case_search import CaseQuery, list_cases
from app.services.context import AppContext
from app.storage.models import Case, Payment, PayoutDetail, Victim

OPEN_OWED = {s.value for s in Status} - {"rejected", "merged", "paid", "closed"}


@pytest.fixture
def demo_ctx(db):
    ctx = AppContext(db, FixedClock(datetime(2019, 9, 10, 10, 0, tzinfo=JST)))
    demo.build_demo(ctx, victims=300, seed=5)
    return ctx


def rows(ctx):
    with ctx.db.read() as session:
        cases = session.exec(select(Case)).all()
        payments = session.exec(select(Payment)).all()
        payouts = {p.case_id: p for p in session.exec(select(PayoutDetail)).all()}
        victims = session.exec(select(Victim)).all()
        return cases, payments, payouts, victims


def test_totals_by_channel_and_state_match_the_rows(demo_ctx):
    board = dashboard.dashboard(demo_ctx)
    cases, payments, _, victims = rows(demo_ctx)
    assert board.victims == len(victims)
    assert board.totals.cases == len(cases)
    assert board.totals.claimed == sum(c.claimed_amount for c in cases)
    assert board.totals.verified == sum(c.verified_amount or 0 for c in cases)
    assert board.totals.approved == sum(c.approved_amount or 0 for c in cases)
    assert board.totals.paid == sum(c.paid_amount or 0 for c in cases)
    assert board.totals.paid == sum(p.amount for p in payments)
    owed = sum((c.approved_amount or c.verified_amount or c.claimed_amount)
               for c in cases if c.status in OPEN_OWED)
    assert board.totals.outstanding == owed
    for channel in Channel:
        mine = [c for c in cases if c.channel == channel.value]
        figures = board.by_channel[channel.value]
        assert figures.cases == len(mine)
        assert figures.claimed == sum(c.claimed_amount for c in mine)
        assert figures.paid == sum(c.paid_amount or 0 for c in mine)
    for status in Status:
        mine = [c for c in cases if c.status == status.value]
        assert board.by_status[status.value].cases == len(mine)
        assert board.by_status[status.value].approved == sum(c.approved_amount or 0
                                                             for c in mine)
    assert board.totals.paid > 0 and board.totals.cases > 300


def test_public_figures_and_difference(demo_ctx):
    board = dashboard.dashboard(demo_ctx)
    assert board.public_victims == 808
    assert board.public_total_yen == 38_615_473
    assert board.victims_difference == board.victims - 808
    assert board.claimed_difference == board.totals.claimed - 38_615_473


def test_paid_per_day_in_japan_time(demo_ctx):
    board = dashboard.dashboard(demo_ctx)
    _, payments, _, _ = rows(demo_ctx)
    counts, yen = Counter(), defaultdict(int)
    for p in payments:
        day = to_jst(p.paid_at).date()
        counts[day] += 1
        yen[day] += p.amount
    assert board.paid_per_day == [(d, counts[d], yen[d]) for d in sorted(counts)]


def test_outreach_progress(demo_ctx):
    board = dashboard.dashboard(demo_ctx)
    cases, _, _, victims = rows(demo_ctx)
    contact = {v.id: v.contact_received_at for v in victims}
    status = Counter(c.status for c in cases)
    assert board.outreach["awaiting"] == status["received"]
    assert board.outreach["unreachable"] == status["unreachable"]
    assert board.outreach["contacted"] == len(cases) - sum(
        status[s] for s in ("received", "unreachable", "rejected", "merged"))
    assert board.outreach["no_contact"] == sum(
        1 for c in cases if c.status == "received" and contact[c.victim_id] is None)


def test_deadline_counts_and_lists_match_the_rules(demo_ctx):
    today = to_jst(demo_ctx.clock.now()).date()
    loaded = settings.get(demo_ctx)
    board = dashboard.dashboard(demo_ctx)
    cases, _, payouts, _ = rows(demo_ctx)
    flags = Counter()
    for c in cases:
        payout = payouts.get(c.id)
        if (c.channel == Channel.CREDIT_CHARGE.value and payout
                and payout.kind == PayoutKind.CARD_CANCELLATION.value):
            flags[credit_flag(Status(c.status), payout.billing_confirmation_date, today,
                              loaded.credit_due_business_days)] += 1
    reminders = [c.id for c in cases if c.status == "contacted" and reminder_due(
        to_jst(c.updated_at).date(), today, loaded.documents_reminder_days)]
    late = [c.id for c in cases if c.status == "approved" and payment_late(
        to_jst(c.approved_at).date(), today, loaded.payment_late_business_days)]
    assert board.deadlines == {"credit_overdue": flags[DeadlineFlag.OVERDUE],
                               "credit_due": flags[DeadlineFlag.DUE],
                               "documents_reminder": len(reminders),
                               "payment_late": len(late)}
    assert sorted(r.case_id for r in dashboard.deadline_list(
        demo_ctx, "documents_reminder")) == sorted(reminders)
    assert sorted(r.case_id for r in dashboard.deadline_list(demo_ctx, "payment_late")) == (
        sorted(late))
    # The overdue credit cases are the ones the case list flags overdue.
    overdue = {r.case_id for r in dashboard.deadline_list(demo_ctx, "credit_overdue")}
    listed = list_cases(demo_ctx, CaseQuery(overdue_only=True), 10_000)
    assert overdue == {r.id for r in listed if r.deadline is DeadlineFlag.OVERDUE}
    assert board.deadlines["credit_overdue"] > 0
    assert board.deadlines["documents_reminder"] + board.deadlines["payment_late"] > 0


def test_reminder_period_is_a_setting(demo_ctx):
    from app.domain.roles import SYSTEM_ACTOR

    before = dashboard.dashboard(demo_ctx).deadlines["documents_reminder"]
    settings.change(demo_ctx, SYSTEM_ACTOR, "documents_reminder_days", 0)
    after = dashboard.dashboard(demo_ctx).deadlines["documents_reminder"]
    assert after >= before
    demo_ctx.clock.advance(days=60)
    assert dashboard.dashboard(demo_ctx).deadlines["documents_reminder"] == sum(
        1 for c in rows(demo_ctx)[0] if c.status == "contacted")


def test_figures_export_to_csv(demo_ctx, tmp_path):
    board = dashboard.dashboard(demo_ctx)
    path = tmp_path / "figures.csv"
    dashboard.write_csv(board, path)
    text = path.read_text(encoding="utf-8-sig")
    assert f"total,all,{board.totals.cases},{board.totals.claimed}" in text
    assert "programme,public_total_yen,,38615473" in text


def test_one_page_dated_pdf_report(demo_ctx, tmp_path):
    from pypdf import PdfReader

    from app.exports.dashboard_pdf import write_pdf

    board = dashboard.dashboard(demo_ctx)
    path = write_pdf(board, tmp_path / "report.pdf")
    reader = PdfReader(str(path))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "2019年09月10日" in text
    assert f"{board.totals.claimed:,}円" in text


def test_the_pdf_report_remembers_where_the_audit_chain_stood(demo_ctx, tmp_path,
                                                               monkeypatch):
    from pypdf import PdfReader
    from sqlalchemy import text

    from app.exports.dashboard_pdf import write_pdf
    from app.services import checkpoints

    private, _public, fingerprint = checkpoints.generate_key(tmp_path / "audit.key")
    monkeypatch.setenv(checkpoints.KEY_ENV, str(private))
    board = dashboard.dashboard(demo_ctx)
    with demo_ctx.db.engine.connect() as conn:
        seq, digest = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    assert (board.checkpoint.seq, board.checkpoint.hash) == (seq, digest)
    assert board.to_json()["checkpoint"]["signature"]["key"] == fingerprint
    page = PdfReader(str(write_pdf(board, tmp_path / "r.pdf"))).pages[0].extract_text()
    assert f"seq {seq:,}" in page and f"hash {digest}" in page and fingerprint in page
