"""Create and upgrade the schema: only ever through Alembic.

Opening an older SQLite database takes a backup copy first. An older
PostgreSQL database is not upgraded behind the administrator's back: they
back it up with their own tools and run ``hosho db upgrade``.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect

from app.core.errors import EnvironmentProblem, UserError
from app.core.paths import migrations_dir
from app.storage.db import BUSY_TIMEOUT_MS, Database


@dataclass(frozen=True)
class UpgradeResult:
    before: str | None
    after: str
    backup: Path | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _has_tables(db: Database) -> bool:
    return bool(inspect(db.engine).get_table_names())


def _migration_engine(db: Database):
    if not db.is_sqlite:
        return create_engine(db.url, hide_parameters=True)
    engine = create_engine(db.url, hide_parameters=True)  # errors never echo row values

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        # A batch-mode table copy would cascade-delete child rows otherwise.
        dbapi_connection.execute("PRAGMA foreign_keys = OFF")

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def backup_sqlite(db: Database, label: str) -> Path:
    """A consistent copy (sqlite3's backup API copes with WAL), owner-only."""
    source = db.path
    assert source is not None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.name}.backup-{label}-{stamp}")
    fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    os.close(fd)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    os.chmod(target, 0o600)
    return target


def upgrade(db: Database, *, backup: bool = True) -> UpgradeResult:
    """Bring the schema to head. Backs an existing SQLite database up first."""
    before = current_revision(db)
    head = head_revision()
    _refuse_unknown(before)
    if before == head:
        return UpgradeResult(before, head, None)
    copy = None
    if backup and db.is_sqlite and db.path is not None and _has_tables(db):
        copy = backup_sqlite(db, before or "unversioned")
    engine = _migration_engine(db)
    try:
        with engine.begin() as conn:
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            if db.is_sqlite:
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise EnvironmentProblem(
                        "移行後に参照整合性の問題が見つかりました。変更は取り消しました。",
                        f"Foreign key problems after migration; rolled back: {problems[:3]}",
                    )
    finally:
        engine.dispose()
    return UpgradeResult(before, head, copy)


def _refuse_unknown(revision: str | None) -> None:
    if revision is None:
        return
    script = ScriptDirectory.from_config(_config())
    try:
        script.get_revision(revision)
    except Exception as exc:  # alembic raises several kinds for an unknown id
        raise UserError(
            f"このデータベース（版 {revision}）はこのプログラムより新しい版で作られています。"
            "プログラムを更新してください。",
            f"The database is at revision {revision}, unknown to this program: update it.",
        ) from exc


def ensure_current(db: Database) -> UpgradeResult | None:
    """On opening: create an empty database, upgrade an older SQLite one.

    Returns what was done, or None when the schema was already current.
    """
    before = current_revision(db)
    if before == head_revision():
        return None
    _refuse_unknown(before)
    if before is not None and not db.is_sqlite:
        raise UserError(
            "データベースの構造が古い版です。バックアップを取ってから"
            " `hosho db upgrade` を実行してください。",
            "The database schema is older than this program: back it up, then run "
            "`hosho db upgrade`.",
        )
    return upgrade(db)
