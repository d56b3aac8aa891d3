"""Every allowed and every forbidden move, per channel, against workflow.md's table
(copied here by hand so that the code is checked against the spec, not itself)."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import MoveNotAllowed, PermissionDenied
from app.domain.channels import Channel
from app.domain.roles import Actor, Role
from app.domain.states import Status
from app.domain.workflow import CaseFacts, Circumstances, check_move, open_moves

SPEC = {
    "received": {"contacted", "on_hold", "unreachable", "rejected", "merged"},
    "contacted": {"documents_received", "on_hold", "unreachable", "rejected", "merged"},
    "documents_received": {"verified", "contacted", "on_hold", "rejected", "merged"},
    "verified": {"approved", "documents_received", "on_hold", "rejected"},
    "approved": {"payout_requested", "verified", "on_hold"},
    "payout_requested": {"paid", "approved"},
    "paid": {"closed"},
    "unreachable": {"received", "contacted"},
    "rejected": {"received"},
    "closed": set(),
    "merged": set(),
}
HOLDABLE = [s for s, targets in SPEC.items() if "on_hold" in targets]
# The payout rails' own steps (issue #12): in the table, but made only by a rail.
RAIL = {("approved", "payout_requested"), ("payout_requested", "paid"),
        ("payout_requested", "approved")}
# workflow.md's rule "changing payout details on a case that is verified or later sends
# it back to documents_received": an edge only that change makes.
PAYOUT_CHANGE = {("approved", "documents_received")}
SUPERVISOR = Actor(10, "sv", Role.SUPERVISOR)
OPERATOR = Actor(11, "op", Role.OPERATOR)
AFTER_START = Circumstances(SUPERVISOR, date(2019, 8, 20), date(2019, 8, 19))


def facts(channel: Channel, status: Status, held_from: Status | None = None) -> CaseFacts:
    return CaseFacts(channel=channel, status=status, claimed_amount=10_000,
                     held_from=held_from, verified_by=99, payout_complete=True)


def spec_cases():
    for channel in Channel:
        for source in SPEC:
            for target in Status:
                yield channel, Status(source), target, target.value in SPEC[source]


@pytest.mark.parametrize(("channel", "source", "target", "allowed"), list(spec_cases()))
def test_move_table_matches_spec(channel, source, target, allowed):
    case = facts(channel, source)
    by_rail = (source.value, target.value) in RAIL
    if allowed:
        move = check_move(case, target, AFTER_START, reason="理由", by_rail=by_rail)
        assert (move.source, move.target) == (source, target)
    else:
        with pytest.raises(MoveNotAllowed):
            check_move(case, target, AFTER_START, reason="理由", by_rail=True)


@pytest.mark.parametrize(("source", "target"), sorted(PAYOUT_CHANGE))
def test_the_payout_change_edge_is_made_only_by_a_payout_change(source, target):
    case = facts(Channel.DEBIT_CHARGE, Status(source))
    with pytest.raises(MoveNotAllowed, match="payout details change"):
        check_move(case, Status(target), AFTER_START, reason="理由")
    assert check_move(case, Status(target), AFTER_START, reason="支払先変更",
                      payout_change=True).name == "payout_changed"
    assert Status(target) not in {m.target for m in open_moves(case, AFTER_START)}


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("left", HOLDABLE)
def test_on_hold_resumes_only_in_the_state_it_left(channel, left):
    held = facts(channel, Status.ON_HOLD, held_from=Status(left))
    assert check_move(held, Status(left), AFTER_START).name == "resume"
    for other in Status:
        if other.value != left:
            with pytest.raises(MoveNotAllowed):
                check_move(held, other, AFTER_START, reason="理由")


@pytest.mark.parametrize("channel", [Channel.NANACO_CHARGE, Channel.UNAUTHORIZED_USE])
@pytest.mark.parametrize("source", [Status.RECEIVED, Status.UNREACHABLE])
def test_outreach_channels_not_contacted_before_start(channel, source):
    before = Circumstances(OPERATOR, date(2019, 8, 18), date(2019, 8, 19))
    with pytest.raises(MoveNotAllowed, match="2019-08-19"):
        check_move(facts(channel, source), Status.CONTACTED, before)
    on_the_day = Circumstances(OPERATOR, date(2019, 8, 19), date(2019, 8, 19))
    assert check_move(facts(channel, source), Status.CONTACTED, on_the_day).name in (
        "contact", "reached")


@pytest.mark.parametrize("channel", [Channel.CREDIT_CHARGE, Channel.DEBIT_CHARGE])
def test_card_channels_may_be_contacted_before_outreach_start(channel):
    before = Circumstances(OPERATOR, date(2019, 7, 10), date(2019, 8, 19))
    assert check_move(facts(channel, Status.RECEIVED), Status.CONTACTED, before)


SUPERVISOR_ONLY = [
    (Status.VERIFIED, Status.APPROVED),
    (Status.RECEIVED, Status.REJECTED),
    (Status.VERIFIED, Status.REJECTED),
    (Status.REJECTED, Status.RECEIVED),
    (Status.APPROVED, Status.VERIFIED),
]


@pytest.mark.parametrize(("source", "target"), SUPERVISOR_ONLY)
@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
def test_supervisor_moves_refused_to_others(source, target, role):
    when = Circumstances(Actor(5, "x", role), date(2019, 8, 20), date(2019, 8, 19))
    with pytest.raises(PermissionDenied):
        check_move(facts(Channel.DEBIT_CHARGE, source), target, when, reason="理由")


def test_verifier_cannot_approve_own_case():
    verifier = Actor(99, "sv-verifier", Role.SUPERVISOR)
    when = Circumstances(verifier, date(2019, 8, 20), date(2019, 8, 19))
    with pytest.raises(PermissionDenied, match="four eyes"):
        check_move(facts(Channel.DEBIT_CHARGE, Status.VERIFIED), Status.APPROVED, when)


@pytest.mark.parametrize("target", [Status.DOCUMENTS_RECEIVED])
def test_documents_need_complete_payout_details(target):
    incomplete = CaseFacts(Channel.DEBIT_CHARGE, Status.CONTACTED, 1000, payout_complete=False)
    with pytest.raises(MoveNotAllowed, match="payout"):
        check_move(incomplete, target, AFTER_START)


def test_verification_needs_complete_payout_details():
    incomplete = CaseFacts(Channel.NANACO_CHARGE, Status.DOCUMENTS_RECEIVED, 1000)
    with pytest.raises(MoveNotAllowed, match="payout"):
        check_move(incomplete, Status.VERIFIED, AFTER_START)


@pytest.mark.parametrize("move_target", [Status.ON_HOLD, Status.REJECTED, Status.MERGED])
def test_moves_that_need_a_reason_refuse_a_blank_one(move_target):
    with pytest.raises(MoveNotAllowed, match="reason"):
        check_move(facts(Channel.CREDIT_CHARGE, Status.RECEIVED), move_target, AFTER_START,
                   reason="  ")


def test_open_moves_lists_only_what_this_operator_may_do():
    offered = {m.target for m in open_moves(facts(Channel.DEBIT_CHARGE, Status.VERIFIED),
                                            Circumstances(OPERATOR, date(2019, 8, 20),
                                                          date(2019, 8, 19)))}
    assert offered == {Status.DOCUMENTS_RECEIVED, Status.ON_HOLD}
    offered = {m.target for m in open_moves(facts(Channel.DEBIT_CHARGE, Status.VERIFIED),
                                            AFTER_START)}
    assert offered == {Status.APPROVED, Status.DOCUMENTS_RECEIVED, Status.ON_HOLD,
                       Status.REJECTED}


def test_open_moves_hides_contact_before_outreach_start():
    before = Circumstances(OPERATOR, date(2019, 8, 1), date(2019, 8, 19))
    offered = {m.target for m in open_moves(facts(Channel.NANACO_CHARGE, Status.RECEIVED), before)}
    assert Status.CONTACTED not in offered
    assert Status.ON_HOLD in offered


ANYONE = [Actor(5, "op", Role.OPERATOR), Actor(6, "sv", Role.SUPERVISOR),
          Actor(7, "admin", Role.ADMIN)]


@pytest.mark.parametrize(("source", "target"), sorted(RAIL))
@pytest.mark.parametrize("actor", ANYONE, ids=lambda a: a.login)
@pytest.mark.parametrize("channel", list(Channel))
def test_no_one_makes_a_rail_step_by_hand(source, target, actor, channel):
    when = Circumstances(actor, date(2019, 8, 20), date(2019, 8, 19))
    case = facts(channel, Status(source))
    with pytest.raises(MoveNotAllowed, match="never made by hand"):
        check_move(case, Status(target), when, reason="理由")
    assert Status(target) not in {m.target for m in open_moves(case, when)}


@pytest.mark.parametrize("target", [Status.VERIFIED, Status.ON_HOLD])
def test_a_case_on_a_rail_moves_only_with_the_rail(target):
    on_rail = CaseFacts(Channel.DEBIT_CHARGE, Status.APPROVED, 10_000, verified_by=99,
                        payout_complete=True, on_rail=True)
    with pytest.raises(MoveNotAllowed, match="payout rail"):
        check_move(on_rail, target, AFTER_START, reason="理由")
    assert open_moves(on_rail, AFTER_START) == []
    assert check_move(on_rail, Status.PAYOUT_REQUESTED, AFTER_START, by_rail=True)


def test_a_paid_case_on_its_rail_can_still_close():
    paid = CaseFacts(Channel.DEBIT_CHARGE, Status.PAID, 10_000, on_rail=True)
    assert check_move(paid, Status.CLOSED, AFTER_START).name == "close"
