"""Shared fixtures. Every user folder is redirected to a temporary one, and the
storage and service tests run on SQLite and, when HOSHO_TEST_PG_URL is set, again
on a throwaway PostgreSQL database created and dropped by this test session."""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.core.clock import JST, FixedClock
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import operators, second_factor
from app.services.context import AppContext
from app.storage import migrate
from app.storage.db import Database
from app.storage.models import Operator, metadata

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PG_URL = os.environ.get("HOSHO_TEST_PG_URL")
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _private_user_folders(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOSHO_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))
    monkeypatch.delenv("HOSHO_DB", raising=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrate once; every test gets a copy (far faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(str(path))
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database():
    if not PG_URL:
        pytest.skip("HOSHO_TEST_PG_URL is not set: PostgreSQL tests skipped")
    name = f"hosho_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_pg(url: str) -> Database:
    db = Database(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name != "counter")
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE counter SET value = 0"))
    return db


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "hosho.sqlite3"
        shutil.copy(sqlite_template, path)
        database = Database(str(path))
    else:
        database = _empty_pg(request.getfixturevalue("pg_database"))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2019, 8, 20, 10, 0, tzinfo=JST))


@pytest.fixture
def ctx(db, clock) -> AppContext:
    return AppContext(db=db, clock=clock)


@pytest.fixture
def staff(ctx):
    """One account of each kind, and a second supervisor for four-eyes tests."""
    made = {}
    for login, role in [("op1", Role.OPERATOR), ("op2", Role.OPERATOR),
                        ("sv1", Role.SUPERVISOR), ("sv2", Role.SUPERVISOR),
                        ("admin1", Role.ADMIN)]:
        view = operators.add_operator(ctx, SYSTEM_ACTOR, login, login.upper(), role, PASSWORD)
        made[login] = view.as_actor()
        if view.totp_required:
            enrol_second_factor(ctx, made[login], minutes_before=10)
    return made


def enrol_second_factor(ctx: AppContext, actor, minutes_before: float = 0) -> str:
    """Enrol an authenticator as a supervisor would at first sign-in, some minutes
    before the test's clock time; returns the secret (what the phone holds)."""
    clock = ctx.clock
    clock.advance(minutes=-minutes_before)
    try:
        enrolment = second_factor.begin_enrolment(ctx, actor)
        second_factor.confirm_enrolment(ctx, actor, pyotp.TOTP(enrolment.secret).at(clock.now()))
    finally:
        clock.advance(minutes=minutes_before)
    return enrolment.secret


def step_up_code(ctx: AppContext, actor) -> str:
    """The code the actor's authenticator shows now. A code is accepted once only,
    so when this time step was used already, wait (advance the clock) for the next."""
    with ctx.db.read() as session:
        row = session.get(Operator, actor.operator_id)
        secret, last_step = second_factor.unseal(row.totp_secret), row.totp_last_step
    totp = pyotp.TOTP(secret)
    while last_step is not None and totp.timecode(ctx.clock.now()) <= last_step:
        ctx.clock.advance(seconds=30)
    return totp.at(ctx.clock.now())


def approval(ctx: AppContext, staff: dict, who: str):
    """An approval as a supervisor makes it: with a fresh authenticator code."""
    from app.domain.states import Status
    from app.services.cases import MoveRequest

    return MoveRequest(Status.APPROVED, second_factor=step_up_code(ctx, staff[who]))


@contextmanager
def database_refuses():
    """A change the database itself refuses (a constraint): the services' boundary
    reports it as a change made meanwhile, with the driver's IntegrityError behind it."""
    from sqlalchemy.exc import IntegrityError

    from app.core.errors import ChangedMeanwhile

    with pytest.raises(ChangedMeanwhile) as caught:
        yield caught
    assert isinstance(caught.value.__cause__, IntegrityError)
