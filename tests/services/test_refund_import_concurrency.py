"""The refund imports do not hold the centre while they read (issue #17): while a file of
closing balances or applications is read, checked and decided, another desk writes at
once (on SQLite the write lock is taken only for the short write at the end). And what
another desk writes between the plan and its writing is caught: the file is planned
again and counted against what is stored now, or, when it keeps changing, refused
whole with a message to import again; never half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.errors import ChangedMeanwhile
from app.domain.roles import SYSTEM_ACTOR
from app.services import audit_log, refunds, refunds_import, refunds_intake, settings
from app.services.context import AppContext
from app.services.refunds_import import NOT_STANDING, import_applications, import_balances
from app.storage.db import Database
from app.storage.models import AuditEvent, ImportBatch, RefundApplication, RefundMember
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)

ROWS = 12_000  # twelve chunks: the other desk writes while most of the file is unread


@pytest.fixture
def late_clock(clock):
    clock.advance(days=200)  # March 2020
    return clock


@pytest.fixture
def other(ctx):
    """Another desk: its own connections to the same database."""
    desk = AppContext(Database(ctx.db.url), clock=ctx.clock)
    yield desk
    desk.db.dispose()


def count(ctx, model, *where) -> int:
    with ctx.db.read() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)
                               ).scalar_one()


def states(ctx) -> dict[str, str]:
    with ctx.db.read() as session:
        return dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.state)).all())


def standing(ctx, member_id: str) -> list[str]:
    with ctx.db.read() as session:
        return list(session.execute(
            select(RefundApplication.application_id)
            .join(RefundMember, RefundMember.id == RefundApplication.member_ref)
            .where(RefundMember.member_id == member_id,
                   RefundApplication.state.not_in(NOT_STANDING))).scalars())


def phone(i: int) -> str:
    return f"090-{i // 10000:04d}-{i % 10000:04d}"


def balances_file(tmp_path, rows: int = ROWS, name: str = "b.csv"):
    return write_csv(tmp_path / name, BALANCE_HEADER,
                     [member(f"M{i:05d}", 100 + i, phone=phone(i))
                      for i in range(rows)])


def applications_file(tmp_path, rows: int = ROWS, name: str = "a.csv", prefix: str = "A"):
    return write_csv(tmp_path / name, APPLICATION_HEADER,
                     [application(f"{prefix}{i:05d}", f"M{i:05d}", phone=phone(i))
                      for i in range(rows)])


def writes_meanwhile(other, times: int = 3):
    """A progress callback: at its first ``times`` calls (the file mostly unread),
    another desk changes a setting, a write with its audit event. Its outcomes."""
    done: list = []

    def progress(_read, _size):
        if len(done) < times:
            settings.change(other, SYSTEM_ACTOR, "hotline", f"0120-{len(done):03d}-044")
            done.append(settings.get(other).hotline)

    return progress, done


# ---------------------------------------------------------------- another desk writes


@pytest.mark.slow
@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_another_desk_writes_while_a_large_balances_file_is_read(ctx, other, late_clock,
                                                                  tmp_path, dry_run):
    progress, done = writes_meanwhile(other)
    summary = import_balances(ctx, SYSTEM_ACTOR, balances_file(tmp_path), dry_run=dry_run,
                              progress=progress)
    assert done == ["0120-000-044", "0120-001-044", "0120-002-044"]  # none waited
    assert (summary.read, summary.accepted) == (ROWS, ROWS)
    assert count(ctx, RefundMember) == (0 if dry_run else ROWS)
    assert audit_log.verify_chain(ctx).intact


@pytest.mark.slow
def test_another_desk_writes_while_a_large_applications_file_is_read(ctx, other, late_clock,
                                                                      tmp_path):
    import_balances(ctx, SYSTEM_ACTOR, balances_file(tmp_path))
    progress, done = writes_meanwhile(other)
    summary = import_applications(ctx, SYSTEM_ACTOR, applications_file(tmp_path),
                                  progress=progress)
    assert len(done) == 3
    assert (summary.read, summary.accepted) == (ROWS, ROWS)
    assert summary.states["confirmed"] == ROWS
    assert count(ctx, AuditEvent, AuditEvent.action == "refund.application") == ROWS
    assert audit_log.verify_chain(ctx).intact


# ---------------------------------------------------------------- between plan and write


def once(action):
    """A progress callback running ``action`` at its first call only (the first plan)."""
    done: list = []

    def progress(_read, _size):
        if not done:
            done.append(action())

    return progress, done


def test_a_member_stored_meanwhile_is_counted_as_stored_now(ctx, other, late_clock, tmp_path):
    ours = balances_file(tmp_path, rows=3000)
    theirs = write_csv(tmp_path / "theirs.csv", BALANCE_HEADER,
                       [member("M00005", 99_999), member("M00007", 107, phone=phone(7))])
    progress, done = once(lambda: import_balances(other, SYSTEM_ACTOR, theirs))
    summary = import_balances(ctx, SYSTEM_ACTOR, ours, progress=progress)
    assert done[0].accepted == 2
    # M00005 stands as the other desk stored it; M00007 is the same content: a duplicate.
    assert (summary.read, summary.accepted, summary.duplicate, summary.conflict) == \
        (3000, 2998, 1, 1)
    assert summary.refused[0].outcome == "conflict" and "M00005" in summary.refused[0].reasons[0]
    assert count(ctx, RefundMember) == 3000
    with ctx.db.read() as session:
        assert session.execute(select(RefundMember.balance).where(
            RefundMember.member_id == "M00005")).scalar_one() == 99_999
    again = import_balances(ctx, SYSTEM_ACTOR, ours)
    assert (again.accepted, again.duplicate, again.conflict) == (0, 2999, 1)


def test_an_application_refused_meanwhile_lets_the_files_one_stand(ctx, other, late_clock,
                                                                     tmp_path, staff):
    import_balances(ctx, SYSTEM_ACTOR, balances_file(tmp_path, rows=1500))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(
        tmp_path / "first.csv", APPLICATION_HEADER,
        [application("WEB-1", "M00003", route="Web", phone=phone(3))]))
    with ctx.db.read() as session:
        web = session.execute(select(RefundApplication.id)).scalar_one()
    progress, _done = once(lambda: refunds.refuse(other, staff["op2"], web,
                                                  "登録電話番号に架電したが本人と確認できず"))
    # Planned first as a duplicate of WEB-1; WEB-1 is refused before the write.
    summary = import_applications(ctx, SYSTEM_ACTOR, applications_file(tmp_path, rows=1500),
                                  progress=progress)
    assert summary.accepted == 1500
    assert states(ctx)["A00003"] == "confirmed"
    assert standing(ctx, "M00003") == ["A00003"]
    assert summary.states["duplicate"] == 0 and summary.states["refused"] == 1


def test_a_phone_application_taken_meanwhile_makes_the_files_one_a_duplicate(
        ctx, other, late_clock, tmp_path, staff):
    import_balances(ctx, SYSTEM_ACTOR, balances_file(tmp_path, rows=1500))
    form = {"member_id": "M00004", "name": "山田 太郎", "name_kana": "ヤマダ タロウ",
            "phone": phone(4), "method": "postal_order",
            "applied_at": "2019-10-20 10:00"}
    progress, done = once(lambda: refunds_intake.take_phone_application(
        other, staff["op2"], form))
    summary = import_applications(ctx, SYSTEM_ACTOR, applications_file(tmp_path, rows=1500),
                                  progress=progress)
    assert summary.accepted == 1500 and summary.states["duplicate"] == 1
    assert states(ctx)["A00004"] == "duplicate"
    assert standing(ctx, "M00004") == [done[0].application_id]


def test_a_file_whose_members_keep_changing_is_refused_whole(ctx, other, late_clock, tmp_path,
                                                            staff):
    import_balances(ctx, SYSTEM_ACTOR, balances_file(tmp_path, rows=20))
    calls: list = []

    def progress(_read, _size):  # each plan: another phone application for one of its members
        calls.append(refunds_intake.take_phone_application(other, staff["op2"], {
            "member_id": f"M{len(calls):05d}", "name": "山田 太郎", "name_kana": "ヤマダ タロウ",
            "phone": phone(len(calls)), "method": "postal_order",
            "applied_at": "2019-10-20 10:00"}))

    batches, events = count(ctx, ImportBatch), count(ctx, AuditEvent)
    with pytest.raises(ChangedMeanwhile) as refused:
        import_applications(ctx, SYSTEM_ACTOR, applications_file(tmp_path, rows=20),
                            progress=progress)
    assert "もう一度取り込んでください" in refused.value.ja
    assert len(calls) == refunds_import.REPLANS + 1
    assert count(ctx, ImportBatch) == batches  # nothing of the file written
    assert count(ctx, RefundApplication) == len(calls)  # the other desk's only
    assert count(ctx, AuditEvent) == events + len(calls)
    assert audit_log.verify_chain(ctx).intact


def test_a_deadline_changed_meanwhile_decides_the_file_by_the_new_one(ctx, other, late_clock,
                                                                      tmp_path, staff):
    from datetime import date

    import_balances(ctx, SYSTEM_ACTOR, balances_file(tmp_path, rows=3))
    progress, _done = once(lambda: settings.change(other, staff["admin1"], "refund_deadline",
                                                   date(2019, 10, 31)))
    summary = import_applications(ctx, SYSTEM_ACTOR, applications_file(tmp_path, rows=3),
                                  progress=progress)
    assert summary.states["late"] == 3  # applied 1 Nov 2019, after the new deadline
