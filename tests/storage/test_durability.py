"""A committed transaction survives a power cut: SQLite syncs the WAL at every commit."""

from __future__ import annotations

from app.storage.db import Database

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_every_sqlite_connection_syncs_at_commit(tmp_path):
    db = Database(str(tmp_path / "durable.sqlite3"))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == FULL
    with db.write() as session:  # the connection the services write on, too
        assert session.connection().exec_driver_sql("PRAGMA synchronous").scalar() == FULL
    db.dispose()
