"""Named counters, reserved in blocks inside the caller's transaction.

An UPDATE takes the row lock on PostgreSQL and the write lock on SQLite, so
two desks never get the same number; a rolled-back transaction gives its
numbers back.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlmodel import Session

from app.storage.models import Counter


def reserve(session: Session, name: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers and return the first (from 1)."""
    if count < 1:
        raise ValueError("reserve at least one number")
    table = Counter.__table__
    result = session.execute(
        update(table).where(table.c.name == name).values(value=table.c.value + count)
        .returning(table.c.value)
    ).first()
    if result is None:
        session.execute(insert(table).values(name=name, value=count))
        return 1
    return result[0] - count + 1


def peek(session: Session, name: str) -> int:
    value = session.execute(select(Counter.__table__.c.value).where(
        Counter.__table__.c.name == name)).scalar()
    return value or 0
