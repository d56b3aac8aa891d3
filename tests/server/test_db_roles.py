"""`hosho db roles`: connected as the server's role, the past cannot be rewritten."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.cli import run
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import audit_log, intake, operators
from app.services.context import AppContext
from app.storage.db import Database
from tests.conftest import PASSWORD
from tests.services.helpers import incident, victim

ROLE_PASSWORD = "server role password 42"


@pytest.fixture
def server_url(pg_database, db, monkeypatch):
    """The test database's URL as a freshly granted server role."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    role = f"hosho_srv_{uuid.uuid4().hex[:8]}"
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(ROLE_PASSWORD + "\n"))
    assert run(["db", "roles", "--db", pg_database, "--server-role", role,
                "--password-stdin"], gui=lambda _a: 99) == 0
    url = make_url(pg_database).set(username=role, password=ROLE_PASSWORD)
    yield url.render_as_string(hide_password=False)
    owner = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))
    owner.dispose()


def test_the_server_role_runs_the_services(server_url, clock):
    ctx = AppContext(db=Database(server_url), clock=clock)
    try:
        view = operators.add_operator(ctx, SYSTEM_ACTOR, "op9", "OP9", Role.OPERATOR, PASSWORD)
        intake.take_phone_intake(ctx, view.as_actor(), victim(), incident())
        assert audit_log.verify_chain(ctx).intact
    finally:
        ctx.db.dispose()


REFUSED = [
    "UPDATE audit_event SET reason = 'x'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    "TRUNCATE case_file CASCADE",
    "DELETE FROM audit_head",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_event_append_only ON audit_event",
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS "
    "$$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
    "DROP TABLE payment",
    "ALTER TABLE refund_item ADD COLUMN x int",
    "CREATE TABLE shadow (id int)",
    "CREATE FUNCTION public.f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_refused_to_the_server_role(server_url, clock, statement):
    ctx = AppContext(db=Database(server_url), clock=clock)
    try:
        operators.add_operator(ctx, SYSTEM_ACTOR, "op9", "OP9", Role.OPERATOR, PASSWORD)
        engine = create_engine(server_url)
        with engine.connect() as conn, pytest.raises(DBAPIError) as refused:
            conn.execute(text(statement))
        engine.dispose()
        message = str(refused.value.orig)
        # "permission denied", "must be owner", or the trigger's own refusal: never done.
        assert ("permission denied" in message or "must be owner" in message
                or "append-only" in message), message
        assert audit_log.verify_chain(ctx).intact
    finally:
        ctx.db.dispose()


def test_roles_refuse_sqlite(tmp_path, capsys):
    assert run(["db", "roles", "--db", str(tmp_path / "x.sqlite3"), "--server-role", "srv"],
               gui=lambda _a: 99) == 2
    assert "PostgreSQL" in capsys.readouterr().err
