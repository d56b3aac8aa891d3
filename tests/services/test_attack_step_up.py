"""Attack: guessing step-up codes from one signed-in session, many at once.

The README promises that of the wrong codes sent from one session, 5 are checked and
the rest refused unread (the lock ends the session). Each step-up checks the code in
one transaction and counts the failure in another, after the first rolled back, and
the count was a read-modify-write of the operator row: desks (or a centre's server
threads) sending codes at the same moment were all checked, and their failures,
each audited, overwrote one another's count, so the account never locked. Now each
step-up takes one of the attempts left before the lock before its code is read
(second_factor._reserve_attempt): held all at that point, then let go together, five
are checked and the rest are refused unread.
"""

from __future__ import annotations

import threading

import pytest

from app.services import second_factor
from app.services.context import SessionEnded
from app.services.second_factor import SecondFactorRefused, TooManyAttempts
from app.storage.models import Operator
from tests.services.test_version_races import events

GUESSES = 12
GUARD_S = 60  # only against a hang


def _guess_at_once(ctx, actor, monkeypatch) -> tuple[list[str], bool]:
    """GUESSES wrong codes, every desk held just before it takes its attempt (its
    session read, its code about to be judged) until all have come that far: the
    interleaving of desks that send at the same moment. Returns each desk's outcome
    and whether the account ended locked."""
    all_here = threading.Barrier(GUESSES, timeout=GUARD_S)
    outcomes: list[str] = []
    reserve = second_factor._reserve_attempt

    def held(*args, **kwargs):
        all_here.wait()
        return reserve(*args, **kwargs)

    def guess(n: int) -> None:
        try:
            second_factor.step_up(ctx, actor, f"{n:06d}")
            outcomes.append("accepted")
        except (SessionEnded, TooManyAttempts):
            outcomes.append("refused unread")
        except SecondFactorRefused:
            outcomes.append("checked, wrong")

    monkeypatch.setattr(second_factor, "_reserve_attempt", held)
    desks = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
    for desk in desks:
        desk.start()
    for desk in desks:
        desk.join(GUARD_S)
    with ctx.db.read() as session:
        locked = session.get(Operator, actor.operator_id).locked_until is not None
    return outcomes, locked


def _pg_only(ctx) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite writes begin IMMEDIATE: the step-ups cannot all be open at once")


def test_parallel_wrong_codes_lock_the_account(ctx, staff, monkeypatch):
    _pg_only(ctx)
    outcomes, locked = _guess_at_once(ctx, staff["sv2"], monkeypatch)
    assert len(events(ctx, "operator.locked")) == 1
    assert locked, outcomes


def test_parallel_wrong_codes_are_checked_at_most_five_times(ctx, staff, monkeypatch):
    _pg_only(ctx)
    outcomes, _locked = _guess_at_once(ctx, staff["sv2"], monkeypatch)
    assert outcomes.count("checked, wrong") <= 5, outcomes
