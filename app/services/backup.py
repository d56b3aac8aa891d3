"""Backing up and restoring a single-desk (SQLite) database.

A backup is taken with SQLite's online backup API: one consistent snapshot,
taken while desks go on working (in WAL mode a reader never blocks a writer),
written owner-only under a temporary name and renamed into place when whole.

A restore checks the backup before anything is replaced: it must open as a
SQLite database that passes SQLite's integrity check, carry a schema revision
this program knows (an older one is brought up to date on the checked copy),
and hold an audit chain that verifies intact. Only then is the current
database kept as a copy beside it, and the backup's pages written into it with
the same backup API (one transaction: a desk still connected sees the old
database or the restored one, never a mixture). A refused restore changes
nothing.

PostgreSQL databases are backed up with the server's own tools (pg_dump,
pg_restore); the commands are printed for the administrator.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from app.core.errors import UserError
from app.core.files import Staging, ensure_folder, private_file, temporary_folder
from app.services.audit_log import verify_chain
from app.services.context import AppContext
from app.services.stats import programme_stats
from app.storage import migrate
from app.storage.db import BUSY_TIMEOUT_MS, Database, normalise_url, sqlite_path


@dataclass(frozen=True)
class BackupResult:
    path: Path
    revision: str | None
    events: int
    size: int


@dataclass(frozen=True)
class RestoreResult:
    target: Path
    revision: str
    events: int
    kept: Path | None  # the copy of what the restore replaced
    figures: dict


def pg_commands(url: str, out: str) -> tuple[str, str]:
    """The pg_dump and pg_restore commands for a PostgreSQL URL (its password left out)."""
    parsed = make_url(url).set(drivername="postgresql")
    plain = parsed._replace(password=None).render_as_string(hide_password=False)
    return (f"pg_dump --format=custom --file={out} '{plain}'",
            f"pg_restore --clean --if-exists --single-transaction --dbname='{plain}' {out}")


def refuse_unless_sqlite(url: str, out: str, verb_ja: str, verb_en: str) -> None:
    if sqlite_path(url) is not None:
        return
    if make_url(url).get_backend_name() == "sqlite":
        raise UserError("メモリ上のデータベースはバックアップ・復元できません。",
                        "An in-memory database cannot be backed up or restored.")
    dump, restore = pg_commands(url, out)
    raise UserError(
        f"PostgreSQL のデータベースは pg_dump / pg_restore で{verb_ja}してください:\n"
        f"  {dump}\n  {restore}",
        f"Back up and restore a PostgreSQL database with its own tools ({verb_en}):\n"
        f"  {dump}\n  {restore}")


@contextlib.contextmanager
def _sqlite(path: Path | str, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{Path(path).resolve().as_posix()}" + ("?mode=ro" if read_only else "")
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        yield conn
    finally:
        conn.close()


def _copy_pages(source: Path, target: Path, *, source_read_only: bool = False,
                single_file: bool = True) -> None:
    """One consistent snapshot of ``source`` written into ``target``: a new file (made a
    single self-contained file, no -wal beside it), or a live database, replaced in one
    transaction (``single_file=False``)."""
    with _sqlite(source, read_only=source_read_only) as src, _sqlite(target) as dst:
        src.backup(dst)
        if single_file:
            dst.execute("PRAGMA journal_mode = DELETE")


def backup_database(ctx: AppContext, out: str | Path) -> BackupResult:
    """Write a consistent copy of the database to ``out`` (refused if it exists)."""
    refuse_unless_sqlite(ctx.db.url, str(out), "バックアップ", "hosho db backup is for SQLite")
    source, target = ctx.db.path, Path(out)
    assert source is not None
    if target.exists():
        raise UserError(f"既にファイルがあります（上書きしません）: {target}",
                        f"{target} already exists; a backup never overwrites a file.")
    if target.resolve() == source.resolve():
        raise UserError("バックアップ先がデータベースそのものです。",
                        "The backup would overwrite the database itself.")
    ensure_folder(target.parent)
    with Staging() as staging:
        temp = staging.new(target)
        _copy_pages(source, temp)
        with _sqlite(temp) as conn:
            _integrity(conn, temp)
            revision = _revision(conn)
            events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
        staging.place(temp)
    return BackupResult(target, revision, events, target.stat().st_size)


def _integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise _not_a_backup(path, "SQLite のデータベースではありません",
                            f"not an SQLite database ({type(exc).__name__})") from exc
    if result != "ok":
        raise _not_a_backup(path, "ファイルが壊れています", "the file is damaged "
                            "(SQLite's integrity check failed)")


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _not_a_backup(path: Path, ja: str, en: str) -> UserError:
    return UserError(f"{path} は復元できません: {ja}。何も変更していません。",
                     f"Cannot restore {path}: {en}. Nothing was changed.")


def restore_database(url: str, backup: str | Path) -> RestoreResult:
    """Check ``backup``, keep a copy of the database at ``url``, then restore into it.
    The target need not exist (a restore onto a new machine)."""
    url = normalise_url(url)
    refuse_unless_sqlite(url, str(backup), "復元", "hosho db restore is for SQLite")
    source, target = Path(backup), sqlite_path(url)
    assert target is not None
    if not source.is_file():
        raise _not_a_backup(source, "ファイルがありません", "no such file")
    if target.exists() and source.resolve() == target.resolve():
        raise _not_a_backup(source, "復元先のデータベースそのものです",
                            "it is the database to restore into")
    with Staging() as staging:
        # checked in the program's temporary folder: a refusal leaves no trace by the target
        checked = staging.new(temporary_folder() / "restore.sqlite3")
        try:
            _copy_pages(source, checked, source_read_only=True)
        except sqlite3.DatabaseError as exc:
            raise _not_a_backup(source, "SQLite のデータベースではありません",
                                f"not an SQLite database ({type(exc).__name__})") from exc
        revision, events, figures = _check_backup(source, checked)
        kept = _keep_current(target)
        if not target.exists():
            ensure_folder(target.parent)
            private_file(target)
        _copy_pages(checked, target, single_file=False)
        for suffix in ("-wal", "-shm"):  # the checked copy's own, if any were left
            checked.with_name(checked.name + suffix).unlink(missing_ok=True)
    return RestoreResult(target, revision, events, kept, figures)


def _check_backup(source: Path, checked: Path) -> tuple[str, int, dict]:
    """The backup's checked copy: a Hoshō database at a known revision (brought to the
    current one), whose audit chain verifies intact."""
    with _sqlite(checked) as conn:
        _integrity(conn, source)
        revision = _revision(conn)
    if revision is None:
        raise _not_a_backup(source, "補償デスクのデータベースではありません（版の記録なし）",
                            "not a Hoshō Desk database (no schema revision)")
    db = Database(str(checked))
    try:
        try:
            migrate.upgrade(db, backup=False)
        except UserError as exc:  # a revision this program does not know
            raise _not_a_backup(source, exc.ja, exc.en) from exc
        report = verify_chain(AppContext(db))
        if not report.intact:
            where = f" (seq {report.broken_seq})" if report.broken_seq else ""
            raise _not_a_backup(source, f"監査記録が改ざんされています{where}: "
                                f"{report.problem_ja}",
                                f"its audit trail is broken{where}: {report.problem_en}")
        figures = programme_stats(AppContext(db))
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()
    return migrate.head_revision(), report.count, figures


def _keep_current(target: Path) -> Path | None:
    """A copy of the database the restore replaces, beside it, owner-only."""
    if not target.exists() or target.stat().st_size == 0:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = target.with_name(f"{target.name}.before-restore-{stamp}")
    with Staging() as staging:
        temp = staging.new(kept)
        _copy_pages(target, temp)
        staging.place(temp)
    return kept
