"""Reading and changing the programme settings."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from app.domain.roles import Actor, Role
from app.domain.settings import Settings, parse_setting, settings_from
from app.services import audit
from app.services.context import AppContext, confirmed_actor, require_role
from app.storage.models import Setting


def load(session: Session) -> Settings:
    rows = session.exec(select(Setting)).all()
    return settings_from({row.key: json.loads(row.value) for row in rows})


def get(ctx: AppContext) -> Settings:
    with ctx.db.read() as session:
        return load(session)


def change(ctx: AppContext, actor: Actor, key: str, value: Any) -> Settings:
    """Administrators only; the old and new values go into the audit trail."""
    parsed = parse_setting(key, value)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.ADMIN)
        old = load(session).to_json_dict()[key]
        stored = parsed.isoformat() if hasattr(parsed, "isoformat") else parsed
        row = session.get(Setting, key)
        if row is None:
            row = Setting(key=key, value=json.dumps(stored), updated_at=now)
        else:
            row.value, row.updated_at = json.dumps(stored), now
        session.add(row)
        audit.record(session, actor, now, "setting.change", "setting", None,
                     before={key: old}, after={key: stored})
        session.flush()
        return load(session)


def change_many(ctx: AppContext, actor: Actor, values: dict[str, Any]) -> Settings:
    """Several settings in one transaction (the settings page): all or none, each audited."""
    parsed = {key: parse_setting(key, value) for key, value in values.items()}
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.ADMIN)
        old = load(session).to_json_dict()
        for key, value in parsed.items():
            stored = value.isoformat() if hasattr(value, "isoformat") else value
            if old[key] == stored:
                continue
            row = session.get(Setting, key) or Setting(key=key, value="", updated_at=now)
            row.value, row.updated_at = json.dumps(stored), now
            session.add(row)
            audit.record(session, actor, now, "setting.change", "setting", None,
                         before={key: old[key]}, after={key: stored})
        session.flush()
        return load(session)
