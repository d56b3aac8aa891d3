"""Never the same yen twice: the spec's 30,000 / 20,000 / 10,000 example, person by
person, on the supervisor's list and in reconciliation."""

from __future__ import annotations

import pytest

from app.domain.roles import SYSTEM_ACTOR
from app.services import intake, reconcile, refunds
from app.services.refunds_import import import_applications, import_balances
from app.services.refunds_overlap import both_programmes
from app.services.refunds_stats import figures
from tests.conftest import step_up_code
from tests.services.helpers import incident, victim
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)


@pytest.fixture
def example(ctx, clock, staff, tmp_path):
    """Charged 30,000 from the victim's card, 20,000 spent, 10,000 left at closing."""
    clock.advance(days=200)
    intake.take_phone_intake(ctx, SYSTEM_ACTOR, victim(member_id="C1", phone="03-0000-0000"),
                             incident(amount=30_000))

    def load(fraud=""):
        import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                     [member("C1", 10_000, fraud)]))
        import_applications(ctx, SYSTEM_ACTOR, write_csv(
            tmp_path / "a.csv", APPLICATION_HEADER, [application("A1", "C1")]))
        return refunds.work_list(ctx, "held_overlap") or None

    return load


def excess_lines(ctx):
    return [(d.case_number, d.what, d.expected, d.found)
            for d in reconcile.reconcile(ctx).differences if d.what.startswith("both")]


def test_the_file_says_the_10000_came_from_the_charge(ctx, example):
    assert example(fraud="10000") is None
    person = both_programmes(ctx)[0]
    assert (person.member_id, person.charges, person.compensation_due) == ("C1", 30_000, 30_000)
    assert person.refund_due == 0 and person.excess == 0
    assert figures(ctx)["refundable_total"] == 0
    assert excess_lines(ctx) == []


def test_the_file_does_not_say_waits_for_a_supervisor(ctx, staff, example):
    held = example()
    assert [v.application_id for v in held] == ["A1"]
    assert both_programmes(ctx)[0].refund_due == 0  # undecided: nothing to pay yet
    assert excess_lines(ctx) == []
    # A supervisor who wrongly refunds the 10,000 too: reconciliation names the person.
    refunds.settle_overlap(ctx, staff["sv1"], held[0].id, 0, "全額が本人のチャージと判断",
                           second_factor=step_up_code(ctx, staff["sv1"]))
    assert excess_lines(ctx) == [("7iD C1", "both_programmes_excess", 30_000, 40_000)]
    assert both_programmes(ctx)[0].excess == 10_000


def test_demo_has_the_refund_programme_beside_compensation(ctx):
    from app.services.demo import build_demo
    from app.services.stats import programme_stats

    result = build_demo(ctx, victims=40, seed=3)
    refunds_figures = programme_stats(ctx)["refunds"]
    assert refunds_figures["members"] == result.refund_members >= 30
    assert refunds_figures["applications"] == result.refund_applications > 0
    assert refunds_figures["balance_total"] > 0
    # The demo victims with a member ID are members too: the supervisor's list has them.
    assert both_programmes(ctx)
