"""The sender of the 総合振込 file, checked before a transfer file is asked for: every
missing or invalid setting named as the settings page names it, in Japanese and
English; an export refused for the sender spends no code and writes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.core.errors import UserError
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import demo, operators, payouts, settings
from app.storage.models import AuditEvent, Setting
from tests.conftest import PASSWORD, enrol_second_factor, step_up_code
from tests.services.test_payouts import SENDER

LABELS = {  # as the settings page shows them (tests/ui/test_settings_page.py checks it)
    "zengin_company_code": ("総合振込：委託者コード", "Transfer file: company code"),
    "zengin_company_name": ("総合振込：委託者名（カナ）", "Transfer file: company name (kana)"),
    "zengin_bank_code": ("総合振込：仕向銀行コード", "Transfer file: bank code"),
    "zengin_branch_code": ("総合振込：仕向支店コード", "Transfer file: branch code"),
    "zengin_account_type": ("総合振込：預金種目", "Transfer file: account type"),
    "zengin_account_number": ("総合振込：口座番号", "Transfer file: account number"),
    "zengin_line_end": ("総合振込：改行", "Transfer file: line ends"),
}
MISSING = ("zengin_company_code", "zengin_company_name", "zengin_bank_code",
           "zengin_branch_code", "zengin_account_number")


def force(ctx, values: dict) -> None:
    """Store values as an older version or a text editor could have, past the checks."""
    with ctx.db.write() as session:
        for key, value in values.items():
            row = session.get(Setting, key) or Setting(key=key, value="",
                                                       updated_at=ctx.clock.now())
            row.value = json.dumps(value)
            session.add(row)


def assert_names(exc: UserError, keys) -> None:
    for key in keys:
        ja, en = LABELS[key]
        assert ja in exc.ja and en in exc.en
    assert "zengin_" not in exc.ja and "zengin_" not in exc.en


def test_nothing_set_up_names_every_missing_setting_by_its_label(ctx):
    with pytest.raises(UserError) as refused:
        payouts.check_sender(ctx)
    assert_names(refused.value, MISSING)
    assert "総合振込：預金種目" not in refused.value.ja  # has a good default


def test_a_sender_set_up_passes(ctx):
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    assert payouts.check_sender(ctx) is None


def test_values_stored_past_the_checks_are_each_named(ctx):
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    force(ctx, {"zengin_company_code": "12345678901", "zengin_bank_code": "5a",
                "zengin_branch_code": "0011", "zengin_account_number": "12345678",
                "zengin_account_type": "savings", "zengin_company_name": "株式会社",
                "zengin_line_end": "cr"})
    with pytest.raises(UserError) as refused:
        payouts.check_sender(ctx)
    assert_names(refused.value, LABELS)
    assert "「株」" in refused.value.ja  # the character the file cannot carry


# -- the export -----------------------------------------------------------------------


@pytest.fixture
def programme(ctx):
    demo.build_demo(ctx, victims=60, seed=11)
    return ctx


@pytest.fixture
def people(programme):
    made = {}
    for login in ("sv1", "sv2"):
        made[login] = operators.add_operator(programme, SYSTEM_ACTOR, login, login.upper(),
                                             Role.SUPERVISOR, PASSWORD).as_actor()
        enrol_second_factor(programme, made[login], minutes_before=10)
    return made


def _released(ctx, people):
    batch = payouts.build_batch(ctx, people["sv1"])
    return payouts.release_batch(ctx, people["sv2"], batch.id,
                                 second_factor=step_up_code(ctx, people["sv2"]))


def test_an_export_refused_for_the_sender_spends_no_code(programme, people, tmp_path):
    ctx = programme
    batch = _released(ctx, people)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "furikomi.txt"
    code = step_up_code(ctx, people["sv1"])
    with pytest.raises(UserError) as refused:
        payouts.export_batch(ctx, people["sv1"], batch.id, out, second_factor=code)
    assert_names(refused.value, MISSING)
    assert not list(out.parent.iterdir())  # no file, no temporary file
    with ctx.db.read() as session:
        actions = [a for (a,) in session.execute(select(AuditEvent.action).where(
            AuditEvent.actor_login == "sv1"))]
    assert "second_factor.step_up" not in actions and "operator.step_up_failed" not in actions

    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)  # the administrator fixes the sender
    view = payouts.export_batch(ctx, people["sv1"], batch.id, out, second_factor=code)
    assert view.exported_at is not None and out.read_bytes()[:4] == b"1210"


def test_a_sender_stored_past_the_checks_is_a_message_not_a_crash(programme, people,
                                                                  tmp_path):
    ctx = programme
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    force(ctx, {"zengin_company_code": "ABCDEFGHIJK", "zengin_account_type": "savings"})
    batch = _released(ctx, people)
    out = tmp_path / "furikomi.txt"
    with pytest.raises(UserError) as refused:  # not ValueError or KeyError: exit 70
        payouts.export_batch(ctx, SYSTEM_ACTOR, batch.id, out)
    assert_names(refused.value, ["zengin_company_code", "zengin_account_type"])
    assert not out.exists()
