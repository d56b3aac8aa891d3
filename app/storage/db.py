"""Engines and units of work.

SQLite is the single-desk default; PostgreSQL serves a centre with many desks
through the same code. Every SQLite connection gets WAL, foreign keys, a busy
timeout and synchronous=FULL, and write transactions begin IMMEDIATE so that
two desks never both read-then-write the same case. Engines hide statement
parameters from error messages (they hold personal data).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from app.core.errors import ChangedMeanwhile, EnvironmentProblem, HoshoError, UserError
from app.core.logs import exception_summary

BUSY_TIMEOUT_MS = 10_000
# FULL: the WAL is synced at every commit, so a power cut never takes back a committed
# transaction (the record of an exported transfer file, a payment). NORMAL would sync
# only at checkpoints. The cost is measured by tests/benchmarks/bench_commit.py.
SYNCHRONOUS = "FULL"
# PostgreSQL connections one process keeps (and may add for a burst). A centre server
# runs that many calls at once (app.server.threads); SQLAlchemy's default of 5 + 10 made
# its threads wait for a connection with 50 desks. Two server processes at most 60 of
# PostgreSQL's default 100.
POOL_SIZE, POOL_OVERFLOW = 20, 10


def normalise_url(path_or_url: str | os.PathLike[str]) -> str:
    """A plain path means an SQLite file; anything with :// is a database URL."""
    text = os.fspath(path_or_url)
    if "://" in text:
        if text.startswith(("postgres://", "postgresql://")):
            # The psycopg 3 driver is the one installed.
            text = "postgresql+psycopg://" + text.split("://", 1)[1]
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would not).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    # 16 MiB of page cache (the default is 2): imports and big lists touch many pages.
    cursor.execute("PRAGMA cache_size = -16384")
    cursor.close()


def _on_sqlite_begin(conn) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _create_private_file(path: Path) -> None:
    """Personal data: the database file is readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UserError(
            f"データベースの指定が読めません: {url}", f"Cannot read database URL: {url}"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            _create_private_file(path)
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               hide_parameters=True)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                         pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


class Database:
    """One database: its engine and short-lived sessions.

    ``read()`` and ``write()`` each open a session for one unit of work and
    close it; objects never outlive it (expire_on_commit is off only so that
    a service can turn rows into plain records after the commit).
    """

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = self.engine
        if self.is_sqlite:
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")

    @property
    def path(self) -> Path | None:
        return sqlite_path(self.url)

    @contextmanager
    def write(self) -> Iterator[Session]:
        with Session(self._write_engine, expire_on_commit=False) as session:
            try:
                with session.begin():
                    yield session
            except (OperationalError, IntegrityError) as exc:
                refusal = database_refusal(exc)
                if refusal is None:
                    raise  # a bug (e.g. a NOT NULL our own code broke): left as it is
                raise refusal from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                with session.begin():
                    yield session
            except (OperationalError, IntegrityError) as exc:
                refusal = database_refusal(exc)
                if refusal is None:
                    raise  # a bug (e.g. a NOT NULL our own code broke): left as it is
                raise refusal from exc

    def dispose(self) -> None:
        self.engine.dispose()


# SQLSTATEs of a transaction that lost a race (PostgreSQL): the other desk's change won.
_RACE_STATES = {"40001": "serialization_failure", "40P01": "deadlock_detected"}
_DISK_FULL = ("database or disk is full", "53100")


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


# A unique, foreign-key, check or exclusion constraint refused the change: data someone
# else wrote (a second live payout, a report id already there). NOT NULL is our bug.
_CONFLICT_STATES = {"23505", "23503", "23514", "23P01"}
_CONFLICT_SQLITE = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY",
                    "SQLITE_CONSTRAINT_FOREIGNKEY", "SQLITE_CONSTRAINT_CHECK"}


def _is_conflict(exc: IntegrityError) -> bool:
    return (_sqlstate(exc) in _CONFLICT_STATES
            or getattr(exc.orig, "sqlite_errorname", None) in _CONFLICT_SQLITE)


def database_refusal(exc: DBAPIError) -> HoshoError | None:
    """One place that sorts what the database refused (the error boundary's storage
    side): a constraint or a lost race is someone else's change (a conflict: reload and
    look again); a busy, full or unreachable database is an environment problem with
    what to do; None for what is a bug. Only names leave here: never the driver's text
    with its rows."""
    if isinstance(exc, IntegrityError):
        if not _is_conflict(exc):
            return None
        return ChangedMeanwhile(
            "データベースがこの変更を受け付けませんでした（" + _constraint(exc) + "）。"
            "他の操作者が先に変更した可能性があります。最新の内容を確認してからやり直してください。",
            "The database refused this change (" + _constraint(exc) + "): another desk may "
            "have changed it first. Look at the fresh data and try again.")
    if _sqlstate(exc) in _RACE_STATES:
        return ChangedMeanwhile(
            "他の端末の変更と同時になったため、この変更は取り消されました。もう一度お試しください。",
            "Another desk changed the same data at the same moment; this change was rolled "
            "back. Try again.")
    text = str(exc.orig) if exc.orig else ""
    if _DISK_FULL[0] in text or _sqlstate(exc) == _DISK_FULL[1]:
        return EnvironmentProblem(
            "ディスクの空きがないため保存できませんでした。空きを作ってからもう一度お試しください。"
            "（何も保存されていません）",
            "The disk is full: nothing was saved. Free some space and try again.")
    return environment_problem(exc)


def _constraint(exc: IntegrityError) -> str:
    """The constraint's name (PostgreSQL) or SQLite's "UNIQUE constraint failed: t.c"
    (SQLite's constraint messages name tables and columns only, never values)."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if name:
        return name
    text = str(exc.orig).splitlines()[0] if exc.orig else ""
    return text if "constraint failed" in text else type(exc.orig).__name__


def environment_problem(exc: OperationalError) -> EnvironmentProblem:
    text = str(exc.orig) if exc.orig else str(exc)
    if "locked" in text:
        return EnvironmentProblem(
            "データベースが他の端末で使用中です。しばらくしてからもう一度お試しください。",
            "The database is busy on another desk; try again shortly.",
        )
    # The driver's text names the server when connecting fails (what the administrator
    # needs); once a statement ran, it may quote the statement's rows: only its code then.
    if exc.statement is None:
        detail = text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
    else:
        detail = exception_summary(exc)
    return EnvironmentProblem(
        f"データベースに接続できません: {detail}", f"Cannot reach the database: {detail}"
    )
