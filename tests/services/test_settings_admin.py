"""Settings: administrators only, validated, every change audited."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from app.core.errors import PermissionDenied, ValidationError
from app.services import settings
from app.storage.models import AuditEvent


def test_defaults_for_the_outreach_and_deadline_settings(ctx):
    loaded = settings.get(ctx)
    assert loaded.outreach_start == date(2019, 8, 19)
    assert loaded.failed_attempts_before_letter == 3
    assert loaded.queue_hold_minutes > 0
    assert loaded.programme_victims == 808
    assert loaded.programme_total_yen == 38_615_473


@pytest.mark.parametrize("login", ["op1", "sv1"])
def test_only_an_administrator_may_change_settings(ctx, staff, login):
    with pytest.raises(PermissionDenied):
        settings.change(ctx, staff[login], "queue_hold_minutes", 30)
    with pytest.raises(PermissionDenied):
        settings.change_many(ctx, staff[login], {"queue_hold_minutes": 30})
    assert settings.get(ctx).queue_hold_minutes == 15


def test_change_many_is_audited_per_changed_key(ctx, staff):
    result = settings.change_many(ctx, staff["admin1"], {
        "outreach_start": "2019-08-20", "queue_hold_minutes": "30",
        "failed_attempts_before_letter": 3})
    assert result.outreach_start == date(2019, 8, 20)
    assert result.queue_hold_minutes == 30
    with ctx.db.read() as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "setting.change")).all()
    changed = {next(iter(json.loads(e.after))): (json.loads(e.before), json.loads(e.after))
               for e in events}
    # The unchanged value leaves no event; each change names old and new.
    assert set(changed) == {"outreach_start", "queue_hold_minutes"}
    assert changed["queue_hold_minutes"] == ({"queue_hold_minutes": 15},
                                             {"queue_hold_minutes": 30})
    assert all(e.actor_login == "admin1" for e in events)


@pytest.mark.parametrize("key, value", [
    ("outreach_start", "19 August"), ("queue_hold_minutes", "0"),
    ("failed_attempts_before_letter", "-1"), ("programme_total_yen", "3.5"),
    ("no_such_setting", "1"),
])
def test_bad_values_are_refused_and_nothing_changes(ctx, staff, key, value):
    with pytest.raises(ValidationError):
        settings.change_many(ctx, staff["admin1"], {"documents_reminder_days": 20, key: value})
    assert settings.get(ctx).documents_reminder_days == 14


# -- the sender of the 総合振込 file: checked when saved, named as the settings page names it

@pytest.mark.parametrize("key, value, ja_label, en_label", [
    ("zengin_company_code", "12345678901", "総合振込：委託者コード", "Transfer file: company code"),
    ("zengin_company_code", "ABCDEFGHIJ", "総合振込：委託者コード", "Transfer file: company code"),
    ("zengin_company_code", "123456789", "総合振込：委託者コード", "Transfer file: company code"),
    ("zengin_bank_code", "00051", "総合振込：仕向銀行コード", "Transfer file: bank code"),
    ("zengin_bank_code", "OOO5", "総合振込：仕向銀行コード", "Transfer file: bank code"),
    ("zengin_branch_code", "0011", "総合振込：仕向支店コード", "Transfer file: branch code"),
    ("zengin_account_number", "12345678", "総合振込：口座番号", "Transfer file: account number"),
    ("zengin_account_number", "12-3456", "総合振込：口座番号", "Transfer file: account number"),
    ("zengin_account_type", "savings", "総合振込：預金種目", "Transfer file: account type"),
    ("zengin_company_name", "株式会社セブン・ペイ", "総合振込：委託者名（カナ）",
     "Transfer file: company name (kana)"),
    ("zengin_company_name", "ヲ", "総合振込：委託者名（カナ）",
     "Transfer file: company name (kana)"),
    ("zengin_company_name", "ア" * 41, "総合振込：委託者名（カナ）",
     "Transfer file: company name (kana)"),
    ("zengin_company_name", "ガ" * 21, "総合振込：委託者名（カナ）",  # 42 bytes: ｶﾞ is two
     "Transfer file: company name (kana)"),
])
def test_a_sender_setting_the_file_cannot_carry_is_refused_when_saved(ctx, staff, key, value,
                                                                       ja_label, en_label):
    with pytest.raises(ValidationError) as refused:
        settings.change(ctx, staff["admin1"], key, value)
    assert ja_label in refused.value.ja and en_label in refused.value.en
    assert key not in refused.value.ja and key not in refused.value.en
    with pytest.raises(ValidationError):
        settings.change_many(ctx, staff["admin1"], {"documents_reminder_days": 20, key: value})
    assert getattr(settings.get(ctx), key) == getattr(settings.Settings(), key)
    assert settings.get(ctx).documents_reminder_days == 14


@pytest.mark.parametrize("key, typed, stored", [
    ("zengin_company_code", "１２３４５６７８９０", "1234567890"),  # full-width digits
    ("zengin_company_code", " 0012345678 ", "0012345678"),
    ("zengin_bank_code", "0005", "0005"),
    ("zengin_branch_code", "００１", "001"),
    ("zengin_account_number", "0654321", "0654321"),
    ("zengin_account_type", "current", "current"),
    ("zengin_account_type", " Other ", "other"),
    ("zengin_company_name", "カ）セブン・ペイ", "カ）セブン・ペイ"),
    ("zengin_company_name", "ア" * 40, "ア" * 40),
    ("zengin_company_code", "", ""),  # cleared: the export then says what is missing
])
def test_a_sender_setting_in_the_published_widths_is_saved(ctx, staff, key, typed, stored):
    settings.change(ctx, staff["admin1"], key, typed)
    assert getattr(settings.get(ctx), key) == stored
