"""The password rules through `hosho operator add` and `reset-password --password-stdin`,
as an administrator runs them: real processes on a real database file."""

from __future__ import annotations

import pytest

from tests.cli.test_command import hosho

DEMO_PASSWORD = "hosho-demo-2019"


@pytest.mark.parametrize(("password", "needle"), [
    (" " * 12, "at least 12"),
    ("  a      b  ", "at least 12"),
    (DEMO_PASSWORD, "demo's published password"),
])
def test_operator_add_refuses_blank_and_demo_passwords(tmp_path, password, needle):
    db = str(tmp_path / "ops.sqlite3")
    refused = hosho("operator", "add", "suzuki", "--role", "operator", "--password-stdin",
                    "--db", db, stdin=password + "\n")
    assert refused.returncode == 2 and needle in refused.stderr
    listed = hosho("operator", "list", "--db", db)
    assert "suzuki" not in listed.stdout


def test_reset_password_refuses_the_demo_password(tmp_path):
    db = str(tmp_path / "ops.sqlite3")
    added = hosho("operator", "add", "suzuki", "--role", "operator", "--password-stdin",
                  "--db", db, stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr
    refused = hosho("operator", "reset-password", "suzuki", "--password-stdin", "--db", db,
                    stdin=DEMO_PASSWORD + "\n")
    assert refused.returncode == 2 and "demo's published password" in refused.stderr
    blank = hosho("operator", "reset-password", "suzuki", "--password-stdin", "--db", db,
                  stdin=" " * 16 + "\n")
    assert blank.returncode == 2 and "at least 12" in blank.stderr
