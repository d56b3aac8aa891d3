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
