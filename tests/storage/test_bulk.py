"""Bulk writes store exactly what the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import select

from app.core.clock import JST
from app.storage.bulk import BulkInsert, reserve_ids
from app.storage.models import Victim

COLUMNS = ("id", "name", "name_key", "kana_key", "phone_digits", "email_key",
           "contact_received_at", "contact_changed_at", "created_at", "updated_at")
AT = datetime(2019, 8, 19, 9, 30, tzinfo=JST)


def test_rows_read_back_with_aware_times_and_dates(db):
    with db.write() as session:
        connection = session.connection()
        ids = reserve_ids(connection, Victim.__table__, 2)
        written = BulkInsert(connection, Victim.__table__, COLUMNS).run([
            (ids[0], "山田 太郎", "やまだたろう", "", "", "", date(2019, 8, 1), None, AT, AT),
            (ids[1], "𠮷田 花子", "𠮷だはなこ", "", "", "", None, AT, AT, AT)])
    assert written == 2
    with db.read() as session:
        first, second = session.exec(select(Victim).order_by(Victim.id)).all()
    assert (first.name, first.contact_received_at, first.created_at) == (
        "山田 太郎", date(2019, 8, 1), AT)
    assert first.created_at.tzinfo is not None and second.contact_changed_at == AT
    assert second.name == "𠮷田 花子" and second.contact_received_at is None


def test_stored_form_is_the_orms_own(db):
    """SQLite keeps times as text: a different spelling would sort and compare wrongly."""
    with db.write() as session:
        session.add(Victim(name="orm", name_key="orm", created_at=AT, updated_at=AT,
                           contact_received_at=date(2019, 8, 1)))
    with db.write() as session:
        BulkInsert(session.connection(), Victim.__table__, COLUMNS[1:]).run(
            [("bulk", "bulk", "", "", "", date(2019, 8, 1), None, AT, AT)])
    with db.read() as session:
        stored = session.execute(text(
            "SELECT created_at, contact_received_at FROM victim ORDER BY id")).all()
    assert stored[0] == stored[1]


def test_reserved_ids_never_collide_with_later_inserts(db):
    with db.write() as session:
        session.add(Victim(name="先", name_key="さき", created_at=AT, updated_at=AT))
    with db.write() as session:
        reserved = reserve_ids(session.connection(), Victim.__table__, 3)
        BulkInsert(session.connection(), Victim.__table__, COLUMNS).run(
            [(i, f"v{i}", f"v{i}", "", "", "", None, None, AT, AT) for i in reserved])
    with db.write() as session:
        later = Victim(name="後", name_key="あと", created_at=AT, updated_at=AT)
        session.add(later)
        session.flush()
        later_id = later.id
    assert len(set(reserved)) == 3 and later_id not in reserved
    with db.read() as session:
        assert len(session.exec(select(Victim)).all()) == 5


def test_converted_values_are_remembered_but_unhashable_ones_still_converted():
    from app.storage.bulk import _remembering

    calls = []
    convert = _remembering(lambda value: calls.append(value) or str(value))
    assert [convert(AT), convert(AT), convert(AT)] == [str(AT)] * 3
    assert len(calls) == 1  # the import's "now" fills most rows: converted once
    assert convert({"a": 1}) == "{'a': 1}" and convert({"a": 1}) == "{'a': 1}"


def test_a_refused_row_is_refused_as_the_database_refuses_any_insert(db):
    """PostgreSQL's rows go by COPY: a key taken twice is still SQLAlchemy's
    IntegrityError (which the services report as changed meanwhile), and nothing stays."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from app.core.errors import ChangedMeanwhile

    row = (1, "重複", "ちょうふく", "", "", "", None, None, AT, AT)
    with pytest.raises(ChangedMeanwhile) as refused, db.write() as session:
        BulkInsert(session.connection(), Victim.__table__, COLUMNS).run([row, row])
    assert isinstance(refused.value.__cause__, IntegrityError)
    with db.read() as session:
        assert session.exec(select(Victim)).all() == []


def test_driver_rows_are_the_rows_a_result_gives_as_tuples(db):
    from app.storage.bulk import driver_rows, driver_sql

    with db.write() as session:
        connection = session.connection()
        ids = reserve_ids(connection, Victim.__table__, 2)
        BulkInsert(connection, Victim.__table__, COLUMNS).run([
            (ids[0], "山田 太郎", "やまだたろう", "", "", "", date(2019, 8, 1), None, AT, AT),
            (ids[1], "𠮷田 花子", "𠮷だはなこ", "", "", "", None, AT, AT, AT)])
    with db.read() as session:
        connection = session.connection()
        sql = driver_sql(connection, "SELECT id, name, contact_received_at FROM victim "
                                     "WHERE id IN (?, ?) ORDER BY id")
        rows = driver_rows(connection, sql, tuple(ids))
        assert rows == [tuple(row) for row in connection.exec_driver_sql(sql, tuple(ids))]
        assert all(type(row) is tuple for row in rows) and len(rows) == 2
        assert driver_rows(connection, sql, (-1, -2)) == []
