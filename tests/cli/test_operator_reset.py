"""`hosho operator reset-password` and `reset-second-factor` as an administrator
runs them: real processes on a real database file."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.services import operators
from app.services.opening import open_context
from app.storage.models import AuditEvent
from tests.cli.test_command import hosho


def add_operator(db: str, login: str = "suzuki", role: str = "operator") -> None:
    added = hosho("operator", "add", login, "--role", role, "--name", "鈴木 一郎",
                  "--password-stdin", "--db", db, stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr


def test_reset_password_prints_a_one_time_password_that_must_be_changed(tmp_path):
    db = str(tmp_path / "ops.sqlite3")
    add_operator(db)
    done = hosho("operator", "reset-password", "suzuki", "--db", db)
    assert done.returncode == 0, done.stderr
    one_time = re.search(r"one-time password: (\S+)", done.stdout).group(1)
    ctx = open_context(db)
    view = operators.authenticate(ctx, "suzuki", one_time)
    assert view.must_change_password
    with ctx.db.read() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.action == "operator.password_reset")).scalar_one()
        assert event.actor_login == "system" and event.entity_id == view.id
    ctx.db.dispose()


def test_reset_password_from_stdin_and_refusals(tmp_path):
    db = str(tmp_path / "ops.sqlite3")
    add_operator(db)
    chosen = hosho("operator", "reset-password", "suzuki", "--password-stdin", "--db", db,
                   stdin="temporary lantern 42\n")
    assert chosen.returncode == 0 and "one-time password:" not in chosen.stdout
    weak = hosho("operator", "reset-password", "suzuki", "--password-stdin", "--db", db,
                 stdin="password1234\n")
    assert weak.returncode == 2 and "common or breached" in weak.stderr
    unknown = hosho("operator", "reset-password", "ghost", "--db", db)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
    ctx = open_context(db)
    assert operators.authenticate(ctx, "suzuki", "temporary lantern 42").must_change_password
    ctx.db.dispose()


def test_reset_second_factor(tmp_path):
    db = str(tmp_path / "ops.sqlite3")
    add_operator(db, "sato", "supervisor")
    done = hosho("operator", "reset-second-factor", "sato", "--db", db)
    assert done.returncode == 0, done.stderr
    assert "second factor cleared: sato" in done.stdout
