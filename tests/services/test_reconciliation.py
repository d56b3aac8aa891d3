"""Reconciliation: the SQL figures equal an independent sum in Python over the
rows of the demo programme, batch totals equal their transfers, programme totals
equal the sum of the channels, and a planted difference is listed by case."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.domain.channels import Channel
from app.domain.roles import SYSTEM_ACTOR, Role
from app.exports.reconcile_pdf import write_pdf
from app.services import demo, operators, payouts, reconcile, settings
from app.services.payouts import ResultEntry
from app.storage.models import Case, Payment, PayoutRequest, RefundItem
from tests.conftest import PASSWORD, enrol_second_factor, step_up_code
from tests.services.test_payouts import SENDER


@pytest.fixture
def busy(ctx, tmp_path):
    """The demo, plus a batch with one returned transfer and a card list."""
    demo.build_demo(ctx, victims=120, seed=11)
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    sv1, sv2 = (operators.add_operator(ctx, SYSTEM_ACTOR, login, login, Role.SUPERVISOR,
                                       PASSWORD).as_actor() for login in ("sv1", "sv2"))
    enrol_second_factor(ctx, sv2, minutes_before=10)
    batch = payouts.build_batch(ctx, sv1)
    payouts.release_batch(ctx, sv2, batch.id, second_factor=step_up_code(ctx, sv2))
    payouts.export_batch(ctx, SYSTEM_ACTOR, batch.id, tmp_path / "f.txt")
    payouts.mark_sent(ctx, SYSTEM_ACTOR, batch.id)
    payouts.record_results(ctx, SYSTEM_ACTOR, batch.id, [
        ResultEntry("1", "returned", "name_mismatch"), ResultEntry("2", "done")])
    issuer = next(iter(payouts.card_issuers_waiting(ctx)))
    payouts.card_cancellation_list(ctx, SYSTEM_ACTOR, issuer, tmp_path / "card.csv")
    return ctx


def _independent(ctx) -> dict[str, dict[str, int]]:
    """The same figures, added up in Python from plain rows."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with ctx.db.read() as session:
        channel_of = {}
        for case in session.exec(select(Case)).all():
            channel_of[case.id] = case.channel
            if case.status == "merged":
                continue
            row = sums[case.channel]
            row["cases"] += 1
            row["claimed"] += case.claimed_amount
            row["verified"] += case.verified_amount or 0
            row["approved"] += case.approved_amount or 0
            if case.status == "payout_requested":
                row["requested"] += case.approved_amount
        for payment in session.exec(select(Payment)).all():
            sums[channel_of[payment.case_id]]["paid"] += payment.amount
        for item in session.exec(select(RefundItem)).all():
            if item.result == "returned":
                sums[channel_of[item.case_id]]["returned"] += item.amount
        for request in session.exec(select(PayoutRequest)).all():
            if request.result == "returned":
                sums[channel_of[request.case_id]]["returned"] += request.amount
    return sums


def test_figures_equal_an_independent_sum(busy):
    report = reconcile.reconcile(busy)
    expected = _independent(busy)
    for channel in Channel:
        figures = report.by_channel[channel.value]
        for name in reconcile.FIGURES:
            assert getattr(figures, name) == expected[channel.value][name], (channel, name)
    for name in reconcile.FIGURES:
        assert getattr(report.total, name) == sum(expected[c.value][name] for c in Channel)
    assert report.total.claimed == round(38_615_473 * 120 / 808)  # the demo hits its target
    assert report.total.returned > 0 and report.total.paid > 0
    line = report.batches[-1]  # this test's batch; the demo's own came before it
    assert all(b.items_total == b.recorded_total for b in report.batches)
    assert line.items_total == line.recorded_total and line.returned > 0 and line.done > 0
    assert report.balanced, report.differences


def test_a_difference_is_listed_case_by_case(busy, tmp_path):
    with busy.db.write() as session:
        number, case_id = session.exec(
            select(Case.case_number, Case.id).where(Case.status == "paid")).first()
        session.execute(text("UPDATE payment SET amount = amount + 1 WHERE case_id = :c"),
                        {"c": case_id})
    report = reconcile.reconcile(busy)
    assert not report.balanced
    assert [(d.case_number, d.what) for d in report.differences] == [
        (number, "payment_amount")]
    out = tmp_path / "reconcile.csv"
    reconcile.write_csv(report, out)
    rows = reconcile.csv_rows(out)
    assert rows[0][0] == "区分" and rows[-1][0] == number
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    pdf = write_pdf(report, tmp_path / "reconcile.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
