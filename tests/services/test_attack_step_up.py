"""Attack: guessing step-up codes from one signed-in session, many at once.

The README promises that of the wrong codes sent from one session, 5 are checked and
the rest refused unread (the lock ends the session). Each step-up checks the code in
one transaction and counts the failure in another, after the first rolled back, and
the count was a read-modify-write of the operator row: desks (or a centre's server
threads) sending codes at the same moment were all checked, and their failures,
each audited, overwrote one another's count, so the account never locked.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from app.services import second_factor
from app.services.context import SessionEnded
from app.services.second_factor import SecondFactorRefused, TooManyAttempts
from app.storage.models import Operator
from tests.services.test_version_races import events

GUESSES = 12
GUARD_S = 60  # only against a hang


def _guess_at_once(ctx, actor) -> tuple[list[str], bool]:
    """GUESSES wrong codes, each desk held at its rollback (its code checked) until all
    have checked theirs: the interleaving of desks that send at the same moment.
    Returns each desk's outcome and whether the account ended locked."""
    threads: set[int] = set()
    all_checked = threading.Barrier(GUESSES, timeout=GUARD_S)
    outcomes: list[str] = []

    def at_rollback(_conn) -> None:
        if threading.get_ident() in threads:
            threads.discard(threading.get_ident())
            all_checked.wait()

    def guess(n: int) -> None:
        threads.add(threading.get_ident())
        try:
            second_factor.step_up(ctx, actor, f"{n:06d}")
            outcomes.append("accepted")
        except (SessionEnded, TooManyAttempts):
            outcomes.append("refused unread")
        except SecondFactorRefused:
            outcomes.append("checked, wrong")
        except threading.BrokenBarrierError:
            outcomes.append("refused unread")

    event.listen(ctx.db.engine, "rollback", at_rollback)
    try:
        desks = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
        for desk in desks:
            desk.start()
        for desk in desks:
            desk.join(GUARD_S)
    finally:
        event.remove(ctx.db.engine, "rollback", at_rollback)
    with ctx.db.read() as session:
        locked = session.get(Operator, actor.operator_id).locked_until is not None
    return outcomes, locked


def _pg_only(ctx) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite writes begin IMMEDIATE: the step-ups cannot all be open at once")


def test_parallel_wrong_codes_lock_the_account(ctx, staff):
    _pg_only(ctx)
    outcomes, locked = _guess_at_once(ctx, staff["sv2"])
    assert len(events(ctx, "operator.locked")) == 1
    assert locked, outcomes


def test_parallel_wrong_codes_are_checked_at_most_five_times(ctx, staff):
    _pg_only(ctx)
    outcomes, _locked = _guess_at_once(ctx, staff["sv2"])
    assert outcomes.count("checked, wrong") <= 5, outcomes
