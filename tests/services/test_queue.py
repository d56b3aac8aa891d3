"""The outreach queue: order, start date, holds under concurrency, call-backs and the
attempts → guidance letter → unreachable path."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from sqlmodel import select

from app.core.clock import JST, FixedClock, jst_datetime
from app.domain.channels import Channel
from app.domain.roles import SYSTEM_ACTOR
from app.domain.states import Status
from app.domain.text import search_key
from app.services import dashboard, queue, settings
from app.services.cases import new_case
from app.services.context import AppContext
from app.services.outreach import AttemptInput, Method, Outcome, record_attempt
from app.storage.models import AuditEvent, Case, Letter, Victim


def make_case(ctx, name: str, channel: Channel, contact: date | None,
              phone: str | None = "090-0000-0000") -> int:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        victim = Victim(name=name, name_key=search_key(name), phone=phone,
                        contact_received_at=contact, created_at=now, updated_at=now)
        session.add(victim)
        session.flush()
        return new_case(session, victim.id, channel, now).id


def numbers(rows) -> list[int]:
    return [row.case_id for row in rows]


def no_answer(ctx, actor, case_id):
    record_attempt(ctx, actor, case_id, AttemptInput(Method.PHONE, Outcome.NO_ANSWER))


def test_queue_order_channel_priority_then_contact_date(ctx, staff):
    debit = make_case(ctx, "債務 一郎", Channel.DEBIT_CHARGE, date(2019, 8, 1))
    nanaco = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    misuse = make_case(ctx, "不正 次郎", Channel.UNAUTHORIZED_USE, date(2019, 8, 3))
    credit = make_case(ctx, "信用 三郎", Channel.CREDIT_CHARGE, date(2019, 7, 30))
    silent = make_case(ctx, "無連絡 四郎", Channel.NANACO_CHARGE, None, phone=None)

    assert numbers(queue.list_queue(ctx)) == [misuse, nanaco, credit, debit]
    assert numbers(queue.list_no_contact(ctx)) == [silent]
    assert queue.count_queue(ctx) == 4
    assert queue.next_case(ctx, staff["op1"]).case_id == misuse
    # A second press hands back the same held case rather than skipping a victim.
    assert queue.next_case(ctx, staff["op1"]).case_id == misuse
    assert queue.next_case(ctx, staff["op2"]).case_id == nanaco


def test_nothing_offered_before_the_start_date(db, staff):
    early = AppContext(db, FixedClock(jst_datetime(2019, 8, 18, 9, 0)))
    make_case(early, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    assert queue.list_queue(early) == []
    assert queue.next_case(early, staff["op1"]) is None
    on_the_day = AppContext(db, FixedClock(jst_datetime(2019, 8, 19, 9, 0)))
    assert queue.next_case(on_the_day, staff["op1"]) is not None


def test_start_date_is_a_setting(ctx, staff):
    make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    settings.change(ctx, SYSTEM_ACTOR, "outreach_start", "2019-08-21")
    assert queue.next_case(ctx, staff["op1"]) is None


def test_two_operators_asking_at_once_never_get_the_same_case(ctx, staff):
    for index in range(12):
        make_case(ctx, f"被害 {index}", Channel.NANACO_CHARGE, date(2019, 8, 1 + index % 9))
    got: dict[str, list[int]] = {"op1": [], "op2": []}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def desk(login: str) -> None:
        try:
            for _ in range(6):
                barrier.wait(timeout=10)
                row = queue.next_case(ctx, staff[login])
                got[login].append(row.case_id)
                # Record a call-back far ahead: the case leaves the queue and the hold is freed.
                record_attempt(ctx, staff[login], row.case_id, AttemptInput(
                    Method.PHONE, Outcome.CALL_BACK,
                    call_back_at=datetime(2019, 9, 30, 10, 0, tzinfo=JST)))
        except BaseException as exc:  # reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=desk, args=(login,)) for login in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(got["op1"]) == len(got["op2"]) == 6
    assert not set(got["op1"]) & set(got["op2"])
    assert len(set(got["op1"] + got["op2"])) == 12


def test_five_desks_at_once_each_get_a_case_of_their_own(ctx, staff):
    for index in range(5):
        make_case(ctx, f"被害 {index}", Channel.NANACO_CHARGE, date(2019, 8, 1))
    got: dict[str, object] = {}
    barrier = threading.Barrier(len(staff))

    def desk(login: str) -> None:
        barrier.wait(timeout=10)
        got[login] = queue.next_case(ctx, staff[login])

    threads = [threading.Thread(target=desk, args=(login,)) for login in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Nobody is told "nothing waiting" while a case is free, and no case goes twice.
    assert all(row is not None for row in got.values()), got
    assert len({row.case_id for row in got.values()}) == 5


def test_a_case_another_desk_is_claiming_is_passed_over_not_waited_for(ctx, staff):
    """PostgreSQL: the desk claiming the first case holds it (its advisory lock) until
    its transaction ends; the next desk takes the second case meanwhile."""
    from sqlalchemy import text

    if ctx.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises write transactions: nobody claims meanwhile")
    first = make_case(ctx, "一番 花子", Channel.NANACO_CHARGE, date(2019, 8, 1))
    second = make_case(ctx, "二番 花子", Channel.NANACO_CHARGE, date(2019, 8, 2))
    with ctx.db.write() as claiming:
        claiming.execute(text("SELECT pg_advisory_xact_lock(:ns, :id)"),
                         {"ns": queue._CLAIMING, "id": first})
        assert queue.next_case(ctx, staff["op2"]).case_id == second
    assert queue.next_case(ctx, staff["op1"]).case_id == first


def test_hold_expires_after_the_set_time(ctx, clock, staff):
    only = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    assert queue.next_case(ctx, staff["op1"]).case_id == only
    assert queue.next_case(ctx, staff["op2"]) is None
    clock.advance(minutes=settings.get(ctx).queue_hold_minutes + 1)
    assert queue.next_case(ctx, staff["op2"]).case_id == only


def test_release_gives_the_case_back(ctx, staff):
    only = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    queue.next_case(ctx, staff["op1"])
    queue.release(ctx, staff["op1"], only)
    assert queue.next_case(ctx, staff["op2"]).case_id == only


def test_call_back_resurfaces_at_the_agreed_time_at_the_top(ctx, clock, staff):
    first = make_case(ctx, "早 一", Channel.NANACO_CHARGE, date(2019, 8, 1))
    second = make_case(ctx, "遅 二", Channel.NANACO_CHARGE, date(2019, 8, 2))
    later = datetime(2019, 8, 20, 15, 0, tzinfo=JST)
    assert queue.next_case(ctx, staff["op1"]).case_id == first
    record_attempt(ctx, staff["op1"], first,
                   AttemptInput(Method.PHONE, Outcome.CALL_BACK, call_back_at=later))
    assert numbers(queue.list_queue(ctx)) == [second]
    clock.advance(hours=4, minutes=59)
    assert first not in numbers(queue.list_queue(ctx))
    clock.advance(minutes=1)
    assert numbers(queue.list_queue(ctx)) == [first, second]
    assert queue.next_case(ctx, staff["op2"]).case_id == first


def test_reached_moves_to_contacted_and_leaves_the_queue(ctx, staff):
    only = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    queue.next_case(ctx, staff["op1"])
    view = record_attempt(ctx, staff["op1"], only, AttemptInput(Method.PHONE, Outcome.REACHED))
    assert view.status is Status.CONTACTED
    assert queue.list_queue(ctx) == []
    assert queue.next_case(ctx, staff["op1"]) is None


def test_refused_is_not_offered_again(ctx, staff):
    only = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    record_attempt(ctx, staff["op1"], only, AttemptInput(Method.PHONE, Outcome.REFUSED))
    assert queue.list_queue(ctx) == []


def test_failed_attempts_then_letter_then_unreachable(ctx, clock, staff):
    target = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    other = make_case(ctx, "不正 次郎", Channel.UNAUTHORIZED_USE, date(2019, 8, 6))
    limit = settings.get(ctx).failed_attempts_before_letter
    assert limit == 3
    for attempt in range(limit):
        assert queue.next_case(ctx, staff["op1"]).case_id == target
        no_answer(ctx, staff["op1"], target)
        clock.advance(minutes=settings.get(ctx).queue_retry_minutes + 1)  # tried again later
        due = numbers(queue.letter_due(ctx))
        assert (target in due) == (attempt == limit - 1)
    assert numbers(queue.list_queue(ctx)) == [other]

    # The letters area mails the guidance letter; it leaves the letter-due list.
    assert dashboard.dashboard(ctx).outreach["letter_due"] == 1
    with ctx.db.write() as session:
        assert queue.letter_due_ids(session, clock.now()) == [target]
        session.add(Letter(case_id=target, kind="guidance", code="G-TEST-1",
                           created_at=clock.now(), mailed_at=clock.now()))
    assert queue.letter_due(ctx) == []
    days = settings.get(ctx).letter_unanswered_days
    clock.advance(days=days - 1)
    assert queue.mark_unreachable_overdue(ctx, staff["op1"]) == []
    clock.advance(days=1)
    assert queue.mark_unreachable_overdue(ctx, staff["op1"]) == [target]
    with ctx.db.read() as session:
        assert session.get(Case, target).status == Status.UNREACHABLE.value
        assert session.get(Case, other).status == Status.RECEIVED.value
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.case_id == target)).all()
        assert "case.mark_unreachable" in actions
    # Running the sweep again changes nothing.
    assert queue.mark_unreachable_overdue(ctx, staff["op1"]) == []


def test_a_reply_after_the_letter_keeps_the_case_off_unreachable(ctx, clock, staff):
    target = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    for _ in range(3):
        no_answer(ctx, staff["op1"], target)
    with ctx.db.write() as session:
        session.add(Letter(case_id=target, kind="guidance", code="G-TEST-2",
                           created_at=clock.now(), mailed_at=clock.now()))
    clock.advance(days=2)
    record_attempt(ctx, staff["op1"], target, AttemptInput(Method.PHONE, Outcome.REACHED))
    clock.advance(days=30)
    assert queue.mark_unreachable_overdue(ctx, staff["op1"]) == []


def test_letter_limit_follows_the_setting(ctx, staff):
    target = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    settings.change(ctx, SYSTEM_ACTOR, "failed_attempts_before_letter", 1)
    no_answer(ctx, staff["op1"], target)
    assert numbers(queue.letter_due(ctx)) == [target]


def test_taking_and_giving_back_a_case_are_in_the_audit_trail(ctx, staff):
    only = make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    queue.next_case(ctx, staff["op1"])
    queue.next_case(ctx, staff["op1"])  # the same case again: no second hold recorded
    queue.release(ctx, staff["op1"], only)
    queue.release(ctx, staff["op2"], only)  # not op2's to give back: nothing recorded
    with ctx.db.read() as session:
        trail = session.exec(select(AuditEvent.action, AuditEvent.actor_login)
                             .where(AuditEvent.case_id == only,
                                    AuditEvent.action.startswith("queue."))
                             .order_by(AuditEvent.seq)).all()
    assert [tuple(row) for row in trail] == [("queue.hold", "op1"), ("queue.release", "op1")]
