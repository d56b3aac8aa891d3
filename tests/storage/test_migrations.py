"""The schema is made only by Alembic, and matches the models."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app.core.errors import UserError
from app.storage import migrate
from app.storage.db import Database
from app.storage.models import metadata


def test_empty_database_to_head(db):
    assert migrate.current_revision(db) == migrate.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"victim", "case_file", "incident", "audit_event", "payment"} <= tables


def test_models_match_migrations(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_sqlite_pragmas_on_every_connection(tmp_path):
    db = Database(str(tmp_path / "p.sqlite3"))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_new_database_file_is_owner_only(tmp_path):
    path = tmp_path / "private.sqlite3"
    migrate.ensure_current(Database(str(path)))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("release", sorted(p.name for p in DATA.glob("schema_*.sqlite3")))
def test_database_from_each_released_schema_upgrades_with_backup(tmp_path, release):
    """A file kept from each released schema opens in this version: backed up, then
    upgraded, with every row still there."""
    path = tmp_path / "old.sqlite3"
    shutil.copy(DATA / release, path)
    with sqlite3.connect(path) as conn:
        before = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("victim", "case_file", "incident", "audit_event", "payment")}
        old_revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    db = Database(str(path))
    result = migrate.ensure_current(db)
    assert result is not None and result.before == old_revision
    assert result.after == migrate.head_revision()
    assert stat.S_IMODE(os.stat(result.backup).st_mode) == 0o600
    with sqlite3.connect(result.backup) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()[0] \
            == old_revision
    with sqlite3.connect(path) as conn:
        after = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
    assert after == before and before["case_file"] > 0
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    db.dispose()


def test_unknown_newer_revision_is_refused(tmp_path):
    db = Database(str(tmp_path / "future.sqlite3"))
    migrate.upgrade(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(UserError, match="unknown to this program"):
        migrate.ensure_current(db)


def test_current_database_is_left_alone(db):
    assert migrate.ensure_current(db) is None
