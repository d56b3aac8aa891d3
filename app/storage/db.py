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
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from app.core.errors import EnvironmentProblem, UserError
from app.core.logs import exception_summary

BUSY_TIMEOUT_MS = 10_000
# FULL: the WAL is synced at every commit, so a power cut never takes back a committed
# transaction (the record of an exported transfer file, a payment). NORMAL would sync
# only at checkpoints. The cost is measured by tests/benchmarks/bench_commit.py.
SYNCHRONOUS = "FULL"


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
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


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
            except OperationalError as exc:
                raise environment_problem(exc) from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                with session.begin():
                    yield session
            except OperationalError as exc:
                raise environment_problem(exc) from exc

    def dispose(self) -> None:
        self.engine.dispose()


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
