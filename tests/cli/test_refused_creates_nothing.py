"""A refused command creates no database: no empty file is left to be mistaken for one."""

from __future__ import annotations

import pytest

from tests.cli.test_command import hosho


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_operator_add_refused_for_a_weak_password_creates_no_database(tmp_path):
    db = tmp_path / "new.sqlite3"
    refused = hosho("operator", "add", "suzuki", "--role", "admin", "--password-stdin",
                    "--db", str(db), stdin="short\n")
    assert refused.returncode == 2, refused.stderr
    assert "12" in refused.stderr  # the policy's reason, named
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("args", [
    ("operator", "add", "bad login!", "--role", "admin", "--password-stdin"),
    ("demo", "--victims", "0"),
])
def test_other_refused_commands_create_no_database(tmp_path, args):
    db = tmp_path / "new.sqlite3"
    refused = hosho(*args, "--db", str(db), stdin="a long enough secret\n")
    assert refused.returncode == 2, refused.stderr
    assert _leftovers(tmp_path) == []


def test_a_refused_command_on_an_existing_database_leaves_it(tmp_path):
    db = tmp_path / "kept.sqlite3"
    added = hosho("operator", "add", "suzuki", "--role", "admin", "--password-stdin",
                  "--db", str(db), stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr
    again = hosho("operator", "add", "suzuki", "--role", "admin", "--password-stdin",
                  "--db", str(db), stdin="a long enough secret\n")
    assert again.returncode == 2 and "taken" in again.stderr
    listed = hosho("operator", "list", "--db", str(db))
    assert "suzuki" in listed.stdout
