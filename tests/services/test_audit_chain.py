"""The audit trail is a hash chain: an edited, deleted, reordered or cut-off event is
found by verify, and the database itself refuses UPDATE and DELETE of an event."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.domain.roles import SYSTEM_ACTOR
from app.services import audit, audit_log, cases, intake
from app.services.context import AppContext
from app.services.demo import build_demo
from app.storage import migrate
from app.storage.db import Database
from tests.services.helpers import incident, victim

DATA = Path(__file__).parents[1] / "storage" / "data"


def write_events(ctx, staff, notes: int) -> None:
    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    for n in range(notes):
        cases.add_note(ctx, staff["op1"], case.id, f"メモ {n}")


def event_count(ctx) -> int:
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()


@contextmanager
def tampering(db: Database):
    """Raw SQL with the append-only triggers out of the way (an attacker with the file)."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        if not db.is_sqlite:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(
                    "ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")


def test_every_event_is_chained_and_verify_counts_them(ctx, staff):
    write_events(ctx, staff, 6)
    report = audit_log.verify_chain(ctx)
    assert report.intact, report.problem_en
    assert report.count == event_count(ctx) > 6


def test_database_refuses_update_and_delete_of_an_event(ctx, staff):
    write_events(ctx, staff, 3)
    for statement in ("UPDATE audit_event SET reason = 'x' WHERE seq = 2",
                      "DELETE FROM audit_event WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), ctx.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert audit_log.verify_chain(ctx).intact


def _last_seq(ctx) -> int:
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT max(seq) FROM audit_event")).scalar_one()


def test_an_edited_event_is_found(ctx, staff):
    write_events(ctx, staff, 8)
    target = _last_seq(ctx) - 3
    with tampering(ctx.db) as conn:
        conn.execute(text("UPDATE audit_event SET after = '{\"amount\": 1}' WHERE seq = :s"),
                     {"s": target})
    report = audit_log.verify_chain(ctx)
    assert not report.intact
    assert report.broken_seq == target
    assert "altered" in report.problem_en


def test_a_deleted_event_is_found(ctx, staff):
    write_events(ctx, staff, 8)
    target = _last_seq(ctx) - 4
    with tampering(ctx.db) as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": target})
    report = audit_log.verify_chain(ctx)
    assert not report.intact
    assert report.broken_seq == target + 1
    assert "missing" in report.problem_en


def test_two_swapped_events_are_found(ctx, staff):
    write_events(ctx, staff, 8)
    a = _last_seq(ctx) - 5
    with tampering(ctx.db) as conn:  # swap positions: seq a <-> a + 1
        conn.execute(text("UPDATE audit_event SET seq = -1 WHERE seq = :a"), {"a": a})
        conn.execute(text("UPDATE audit_event SET seq = :a WHERE seq = :b"), {"a": a, "b": a + 1})
        conn.execute(text("UPDATE audit_event SET seq = :b WHERE seq = -1"), {"b": a + 1})
    report = audit_log.verify_chain(ctx)
    assert not report.intact
    assert report.broken_seq == a


def test_the_last_event_cut_off_is_found(ctx, staff):
    write_events(ctx, staff, 4)
    last = _last_seq(ctx)
    with tampering(ctx.db) as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": last})
    report = audit_log.verify_chain(ctx)
    assert not report.intact
    assert "cut off the end" in report.problem_en


def test_removing_the_append_only_triggers_is_itself_reported(ctx, staff):
    write_events(ctx, staff, 2)
    with tampering(ctx.db):
        report = audit_log.verify_chain(ctx)
    assert not report.intact and report.broken_seq is None
    assert "append-only" in report.problem_en
    if not ctx.db.is_sqlite:  # re-enabled on leaving the block
        assert audit_log.verify_chain(ctx).intact


def test_two_desks_writing_at_once_keep_one_chain(db, clock, staff):
    desks = [AppContext(db=Database(db.url), clock=clock) for _ in range(2)]
    case = intake.take_phone_intake(desks[0], staff["op1"], victim(), incident())
    errors = []

    def work(desk, who):
        try:
            for n in range(15):
                cases.add_note(desk, staff[who], case.id, f"{who} {n}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d, w))
               for d, w in zip(desks, ("op1", "op2"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for desk in desks:
        desk.db.dispose()
    assert errors == []
    report = audit_log.verify_chain(AppContext(db=db, clock=clock))
    assert report.intact, report.problem_en


def test_events_written_in_bulk_are_chained_in_their_transaction(ctx):
    build_demo(ctx, victims=12, seed=3)
    with ctx.db.read() as session:
        unchained = session.execute(
            text("SELECT count(*) FROM audit_event WHERE seq IS NULL")).scalar_one()
        total = session.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    assert unchained == 0
    report = audit_log.verify_chain(ctx)
    assert report.intact, report.problem_en
    assert report.count == total > 12


def test_record_in_one_transaction_chains_in_order(ctx, clock):
    with ctx.db.write() as session:
        first = audit.record(session, SYSTEM_ACTOR, clock.now(), "test.one", "x", 1)
        second = audit.record(session, SYSTEM_ACTOR, clock.now(), "test.two", "x", 2)
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert audit_log.verify_chain(ctx).intact


def test_the_chain_head_is_locked_only_as_the_transaction_commits(ctx, clock):
    """Events wait in the session and are chained at commit: while a use case runs,
    another desk's transaction can still take the head (PostgreSQL; SQLite write
    transactions are serialised whole)."""
    if ctx.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises write transactions")
    with ctx.db.write() as session:
        event = audit.record(session, SYSTEM_ACTOR, clock.now(), "test.late", "x", 1)
        assert event.seq is None  # not chained yet
        with ctx.db.engine.connect() as other:  # would fail at once if the head were held
            other.execute(text("SET lock_timeout = '1s'"))
            other.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT"))
            other.rollback()
    assert event.seq is not None and event.hash
    assert audit_log.verify_chain(ctx).intact


def test_events_of_a_rolled_back_transaction_are_not_chained_later(ctx, clock):
    before = event_count(ctx)
    with pytest.raises(RuntimeError), ctx.db.write() as session:
        audit.record(session, SYSTEM_ACTOR, clock.now(), "test.undone", "x", 1)
        raise RuntimeError("the use case failed")
    with ctx.db.write() as session:
        audit.record(session, SYSTEM_ACTOR, clock.now(), "test.done", "x", 2)
    assert event_count(ctx) == before + 1
    assert audit_log.verify_chain(ctx).intact


@pytest.mark.parametrize("release", sorted(p.name for p in DATA.glob("schema_*.sqlite3")))
def test_events_from_before_the_chain_are_chained_by_the_migration(tmp_path, release):
    path = tmp_path / "old.sqlite3"
    shutil.copy(DATA / release, path)
    with sqlite3.connect(path) as conn:
        old_events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    db = Database(str(path))
    migrate.upgrade(db)
    report = audit_log.verify_chain(AppContext(db=db))
    db.dispose()
    assert report.intact, report.problem_en
    assert report.count == old_events


def test_an_imported_file_leaves_the_chain_intact(ctx, staff, tmp_path):
    from app.services.imports import import_incidents
    from tests.services.test_imports import ROWS, write

    summary = import_incidents(ctx, staff["op1"], write(tmp_path, ROWS))
    assert summary.accepted > 0
    report = audit_log.verify_chain(ctx)
    assert report.intact, report.problem_en
    assert report.count == event_count(ctx)
