"""The refund imports under the spec's rules that cross files and desks: the deadline
and the first day read through the file, a member applying twice by two routes, and
two desks importing at once (on SQLite and PostgreSQL): exactly one wins, the other's
rows are duplicates or it is refused whole, nothing half-written."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import make_transient

from app.core.errors import ChangedMeanwhile
from app.domain.roles import SYSTEM_ACTOR
from app.services import refunds_intake
from app.services.context import AppContext
from app.services.refunds_import import NOT_STANDING, import_applications, import_balances
from app.storage.db import Database
from app.storage.models import ImportBatch, RefundApplication, RefundMember
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)

GIVE_UP = 120  # seconds: only to stop a hang


@pytest.fixture
def late_clock(clock):
    clock.advance(days=200)  # March 2020
    return clock


def states(ctx) -> dict[str, str]:
    with ctx.db.read() as session:
        return dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.state)).all())


def count(ctx, model) -> int:
    with ctx.db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def standing(ctx, member_id: str) -> list[str]:
    with ctx.db.read() as session:
        return list(session.execute(
            select(RefundApplication.application_id)
            .join(RefundMember, RefundMember.id == RefundApplication.member_ref)
            .where(RefundMember.member_id == member_id,
                   RefundApplication.state.not_in(NOT_STANDING))).scalars())


# ---------------------------------------------------------------- the window's two ends


def test_the_deadline_and_the_first_day_read_through_the_file(ctx, late_clock, tmp_path):
    ids = [f"M{i}" for i in range(6)]
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member(i, 5000) for i in ids]))
    summary = import_applications(ctx, SYSTEM_ACTOR, write_csv(
        tmp_path / "a.csv", APPLICATION_HEADER, [
            application("A0", "M0", applied="2019-10-01 00:00"),  # the first moment
            application("A1", "M1", applied="2020-01-10 23:59"),  # the deadline's last minute
            application("A2", "M2", applied="2020-01-11 00:00"),  # after it: late
            application("A3", "M3", applied="2020-01-10T15:00:00Z"),  # 11 Jan 00:00 JST
            application("A4", "M4", applied="2020-01-10T14:59:00Z"),  # 10 Jan 23:59 JST
            application("A5", "M5", applied="2019-09-30 23:59"),  # before applications
        ]))
    assert (summary.read, summary.accepted, summary.rejected) == (6, 5, 1)
    assert summary.refused[0].line == 7 and "申出日時" in summary.refused[0].reasons[0]
    assert states(ctx) == {"A0": "confirmed", "A1": "confirmed", "A2": "late",
                           "A3": "late", "A4": "confirmed"}


def test_the_deadline_is_a_setting(ctx, late_clock, tmp_path, staff):
    from datetime import date

    from app.services import settings

    settings.change(ctx, staff["admin1"], "refund_deadline", date(2019, 12, 31))
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member("M1", 5000)]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("A1", "M1", applied="2020-01-05 10:00")]))
    assert states(ctx) == {"A1": "late"}


# ---------------------------------------------------------------- twice, two routes


PHONE_FORM = {"member_id": "M1", "name": "山田 太郎", "name_kana": "ヤマダ タロウ",
              "phone": "090-1111-2222", "method": "postal_order",
              "applied_at": "2019-12-01 10:00"}


def test_a_member_applying_by_app_then_by_phone_gets_one_refund(ctx, late_clock, tmp_path,
                                                                  staff):
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member("M1", 5000)]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER,
                                                     [application("APP-1", "M1")]))
    phoned = refunds_intake.take_phone_application(ctx, staff["op1"], PHONE_FORM)
    assert phoned.state == "duplicate" and phoned.route == "phone"
    assert standing(ctx, "M1") == ["APP-1"]


def test_a_phone_application_first_makes_the_later_file_rows_duplicates(ctx, late_clock,
                                                                         tmp_path, staff):
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member("M1", 5000)]))
    phoned = refunds_intake.take_phone_application(ctx, staff["op1"], PHONE_FORM)
    assert phoned.state == "awaiting_identity"
    summary = import_applications(ctx, SYSTEM_ACTOR, write_csv(
        tmp_path / "w.csv", APPLICATION_HEADER, [
            application("WEB-1", "", route="Web", applied="2019-12-02 09:00"),  # by phone no.
            application("APP-1", "M1", applied="2019-12-03 09:00")]))
    assert summary.states["duplicate"] == 2
    assert standing(ctx, "M1") == [phoned.application_id]


def test_after_a_refusal_the_members_next_application_stands(ctx, late_clock, tmp_path,
                                                              staff):
    from app.services import refunds

    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member("M1", 5000)]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER,
                                                     [application("WEB-1", "M1", route="Web")]))
    with ctx.db.read() as session:
        ref = session.execute(select(RefundApplication.id)).scalar_one()
    refunds.refuse(ctx, staff["op1"], ref, "登録電話番号に架電したが本人と確認できず")
    phoned = refunds_intake.take_phone_application(ctx, staff["op1"], PHONE_FORM)
    assert phoned.state == "awaiting_identity"
    assert standing(ctx, "M1") == [phoned.application_id]


# ---------------------------------------------------------------- two desks at once


def _race(ctx, run, *, together: bool):
    """``run(other_ctx, cancel)`` on two connections at once. ``together``: both wait for
    each other inside their write transaction before their first chunk (PostgreSQL;
    SQLite's write lock lets only one in, so there they simply start together)."""
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list = [None, None]

    def cancel_hook():
        if together:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return False

    def one(index: int) -> None:
        other = AppContext(Database(ctx.db.url), clock=ctx.clock)
        try:
            first = [True]

            def cancel():
                if first[0]:
                    first[0] = False
                    return cancel_hook()
                return False

            if not together:
                barrier.wait()
            outcomes[index] = run(other, cancel)
        except Exception as exc:
            outcomes[index] = exc
        finally:
            other.db.dispose()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GIVE_UP)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def _one_won(outcomes, rows: int):
    won = [o for o in outcomes if not isinstance(o, Exception) and o.accepted == rows]
    assert len(won) == 1, outcomes
    (lost,) = [o for o in outcomes if o is not won[0]]
    if isinstance(lost, Exception):
        assert isinstance(lost, ChangedMeanwhile), lost  # refused cleanly, nothing written
    else:
        assert (lost.accepted, lost.duplicate) == (0, rows)
    return lost


def test_two_desks_importing_the_same_balances_file_at_once(ctx, late_clock, tmp_path):
    rows = 2500  # three chunks each
    path = write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                     [member(f"M{i:05d}", 100 + i) for i in range(rows)])
    together = ctx.db.engine.dialect.name == "postgresql"
    outcomes = _race(ctx, lambda other, cancel: import_balances(
        other, SYSTEM_ACTOR, path, cancel=cancel), together=together)
    lost = _one_won(outcomes, rows)
    assert count(ctx, RefundMember) == rows
    # The loser left no batch behind, unless it stood as a batch of duplicates.
    assert count(ctx, ImportBatch) == (1 if isinstance(lost, Exception) else 2)
    with ctx.db.read() as session:
        total = session.execute(select(func.sum(RefundMember.balance))).scalar_one()
    assert total == sum(100 + i for i in range(rows))


def test_two_desks_importing_the_same_applications_file_at_once(ctx, late_clock, tmp_path):
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member(f"M{i:04d}", 1000) for i in range(1500)]))
    path = write_csv(tmp_path / "a.csv", APPLICATION_HEADER,
                     [application(f"A{i:04d}", f"M{i:04d}") for i in range(1500)])
    together = ctx.db.engine.dialect.name == "postgresql"
    outcomes = _race(ctx, lambda other, cancel: import_applications(
        other, SYSTEM_ACTOR, path, cancel=cancel), together=together)
    _one_won(outcomes, 1500)
    assert count(ctx, RefundApplication) == 1500
    assert set(states(ctx).values()) == {"confirmed"}


def test_one_member_by_two_routes_from_two_desks_at_once_stands_once(ctx, late_clock,
                                                                     tmp_path):
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member("M1", 5000)]))
    app_file = write_csv(tmp_path / "app.csv", APPLICATION_HEADER,
                         [application("APP-1", "M1")])
    web_file = write_csv(tmp_path / "web.csv", APPLICATION_HEADER,
                         [application("WEB-1", "M1", route="Web")])
    files = iter([app_file, web_file])
    lock = threading.Lock()

    def run(other, cancel):
        with lock:
            path = next(files)
        return import_applications(other, SYSTEM_ACTOR, path, cancel=cancel)

    together = ctx.db.engine.dialect.name == "postgresql"
    outcomes = _race(ctx, run, together=together)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(o, ChangedMeanwhile) for o in refused), refused
    assert len(standing(ctx, "M1")) == 1, states(ctx)
    # The refused desk imports its file again: its row is now the duplicate.
    for path in (app_file, web_file):
        import_applications(ctx, SYSTEM_ACTOR, path)
    assert sorted(states(ctx).values()) in (["confirmed", "duplicate"],
                                            ["awaiting_identity", "duplicate"])


def test_the_database_refuses_a_second_standing_application(ctx, late_clock, tmp_path):
    from tests.conftest import database_refuses

    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member("M1", 5000)]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER,
                                                     [application("APP-1", "M1")]))
    with database_refuses(), ctx.db.write() as session:
        second = session.execute(select(RefundApplication)).scalar_one()
        session.expunge(second)
        make_transient(second)
        second.id, second.application_id, second.state = None, "RAW-1", "awaiting_identity"
        session.add(second)
        session.flush()


def test_the_index_and_the_rule_name_the_same_states():
    from app.storage.models import _STANDING

    for state in NOT_STANDING:
        assert f"'{state}'" in _STANDING
    assert _STANDING.count("'") == 2 * len(NOT_STANDING)
