"""The authenticators' secrets at rest: sealed under a key file the server holds."""

from __future__ import annotations

import os
import stat

import pyotp
import pytest
from sqlmodel import select

from app.cli import run
from app.core.errors import EnvironmentProblem
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import operators, second_factor
from app.storage.models import Operator
from tests.conftest import PASSWORD, enrol_second_factor, step_up_code


def stored_secret(ctx, login: str) -> str:
    with ctx.db.read() as session:
        return session.exec(select(Operator).where(Operator.login == login)).one().totp_secret


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "totp.key"
    second_factor.new_key_file(path)
    monkeypatch.setenv(second_factor.KEY_FILE_ENV, str(path))
    return path


def test_enrolment_stores_the_secret_sealed(ctx, key_file):
    view = operators.add_operator(ctx, SYSTEM_ACTOR, "sv9", "SV9", Role.SUPERVISOR, PASSWORD)
    secret = enrol_second_factor(ctx, view.as_actor(), minutes_before=5)
    stored = stored_secret(ctx, "sv9")
    assert stored.startswith(second_factor.SEALED) and secret not in stored
    code = pyotp.TOTP(secret).at(ctx.clock.now())
    assert second_factor.verify_sign_in(ctx, view.id, code).login == "sv9"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_without_the_key_a_sealed_secret_gives_no_code(ctx, key_file, monkeypatch):
    view = operators.add_operator(ctx, SYSTEM_ACTOR, "sv9", "SV9", Role.SUPERVISOR, PASSWORD)
    secret = enrol_second_factor(ctx, view.as_actor(), minutes_before=5)
    monkeypatch.delenv(second_factor.KEY_FILE_ENV)
    with pytest.raises(EnvironmentProblem, match="no key file"):
        second_factor.verify_sign_in(ctx, view.id, pyotp.TOTP(secret).at(ctx.clock.now()))


def test_seal_secrets_migrates_clear_ones(ctx, staff, tmp_path, monkeypatch, capsys):
    clear = stored_secret(ctx, "sv1")
    assert not clear.startswith(second_factor.SEALED)
    key = tmp_path / "new.key"
    monkeypatch.setenv(second_factor.KEY_FILE_ENV, str(key))  # undone after the test
    assert run(["db", "seal-secrets", "--db", ctx.db.url, "--key-file", str(key),
                "--new-key"], gui=lambda _a: 99) == 0
    assert "secrets sealed: 5" in capsys.readouterr().out
    assert stored_secret(ctx, "sv1").startswith(second_factor.SEALED)
    code = step_up_code(ctx, staff["sv1"])
    assert pyotp.TOTP(clear).at(ctx.clock.now()) == code
    assert second_factor.verify_sign_in(ctx, staff["sv1"].operator_id, code).login == "sv1"
