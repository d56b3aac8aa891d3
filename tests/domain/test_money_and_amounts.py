"""Whole yen only, the verified-amount ceiling, and property-based checks."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import MoveNotAllowed, PermissionDenied
from app.domain.channels import Channel
from app.domain.money import check_yen, format_yen
from app.domain.roles import Actor, Role
from app.domain.states import Status
from app.domain.workflow import (
    MOVES,
    CaseFacts,
    Circumstances,
    check_move,
    check_verified_amount,
)

OPERATOR = Actor(1, "op", Role.OPERATOR)
SUPERVISOR = Actor(2, "sv", Role.SUPERVISOR)


@pytest.mark.parametrize("bad", [0, -1, 1.0, 1000.5, "1000", True, None])
def test_only_positive_int_yen_is_money(bad):
    with pytest.raises((TypeError, ValueError)):
        check_yen(bad)


def test_format_yen_as_letters_print_it():
    assert format_yen(38_615_473) == "38,615,473円"
    assert format_yen(1) == "1円"


@given(claimed=st.integers(1, 10**9), verified=st.integers(1, 10**9))
def test_operator_may_verify_up_to_the_claim_and_no_more(claimed, verified):
    if verified <= claimed:
        assert check_verified_amount(claimed, verified, OPERATOR, None) is False
    else:
        with pytest.raises(PermissionDenied):
            check_verified_amount(claimed, verified, OPERATOR, "理由")


@given(claimed=st.integers(1, 10**9), extra=st.integers(1, 10**6))
def test_override_above_claim_needs_supervisor_and_reason(claimed, extra):
    with pytest.raises(MoveNotAllowed):
        check_verified_amount(claimed, claimed + extra, SUPERVISOR, "")
    assert check_verified_amount(claimed, claimed + extra, SUPERVISOR, "領収書で確認") is True


@pytest.mark.parametrize("bad", [0, -5, 100.0, True])
def test_verified_amount_must_be_positive_whole_yen(bad):
    with pytest.raises(MoveNotAllowed):
        check_verified_amount(1000, bad, SUPERVISOR, "x")


statuses = st.sampled_from(list(Status))


@given(channel=st.sampled_from(list(Channel)), source=statuses, target=statuses,
       role=st.sampled_from(list(Role)), reason=st.one_of(st.none(), st.text(max_size=5)))
def test_check_move_allows_only_edges_of_the_table(channel, source, target, role, reason):
    """Whatever the input, an allowed move is an edge of the table, and a final
    state never moves."""
    facts = CaseFacts(channel, source, 1000, held_from=Status.RECEIVED, verified_by=77,
                      payout_complete=True)
    when = Circumstances(Actor(3, "a", role), date(2019, 9, 1), date(2019, 8, 19))
    try:
        move = check_move(facts, target, when, reason)
    except (MoveNotAllowed, PermissionDenied):
        return
    assert (source, target) in MOVES
    assert not source.is_final
    if move.supervisor_only:
        assert role is Role.SUPERVISOR
    if move.needs_reason:
        assert reason and reason.strip()
