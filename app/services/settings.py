"""Reading and changing the programme settings.

A change is written under the row locks of the keys it touches, so that two
administrators saving at once queue on PostgreSQL as they do on SQLite: the
old value recorded is always the one replaced, and a save from a page that
showed another value than the one stored now is refused (nothing is written).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from app.core.errors import ConflictError
from app.domain.roles import Actor, Role
from app.domain.settings import Settings, parse_new_setting, settings_from
from app.services import audit
from app.services.context import AppContext, confirmed_actor, require_role
from app.storage.models import Setting


class SettingsConflict(ConflictError):
    """Settings another administrator saved since the page showed them; ``keys`` names
    them (the page shows their labels)."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        super().__init__(
            "次の設定は他の操作者が先に更新しました。最新の内容を確認してからやり直してください。",
            "Another operator changed these settings meanwhile; reload and try again.",
        )


def load(session: Session) -> Settings:
    # Plain columns, not rows: a read after taking the locks must see what is stored now.
    rows = session.execute(select(Setting.key, Setting.value)).all()
    return settings_from({key: json.loads(value) for key, value in rows})


def get(ctx: AppContext) -> Settings:
    with ctx.db.read() as session:
        return load(session)


def change(ctx: AppContext, actor: Actor, key: str, value: Any) -> Settings:
    """Administrators only (the command line); the old and new values go into the trail."""
    stored = _stored(parse_new_setting(key, value))
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.ADMIN)
        old = _locked_values(session, [key], now)
        _write(session, actor, now, key, old[key], stored)
        session.flush()
        return load(session)


def change_many(ctx: AppContext, actor: Actor, values: dict[str, Any], *,
                expected: dict[str, Any] | None = None) -> Settings:
    """Several settings in one transaction (the settings page): all or none, each audited.

    ``expected`` holds the values the page showed (as ``Settings.to_json_dict``): a key
    whose stored value is no longer the one shown is refused with SettingsConflict.
    """
    parsed = {key: _stored(parse_new_setting(key, value)) for key, value in values.items()}
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.ADMIN)
        before = load(session).to_json_dict()
        keys = [key for key, value in parsed.items() if before[key] != value]
        old = _locked_values(session, keys, now)
        stale = tuple(key for key in keys
                      if expected is not None and key in expected and old[key] != expected[key])
        if stale:
            raise SettingsConflict(stale)
        for key in keys:
            if old[key] != parsed[key]:
                _write(session, actor, now, key, old[key], parsed[key])
        session.flush()
        return load(session)


def _stored(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _locked_values(session: Session, keys: list[str], now: datetime) -> dict[str, Any]:
    """The stored values, read after locking the rows of ``keys``.

    A key still at its default has no row to lock: one is written with the default
    first (a row another administrator is writing simply wins, once committed), so
    two saves of that key queue on the same row. SQLite serialises writes anyway.
    """
    if keys:
        defaults = Settings().to_json_dict()
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
            else sqlite.insert
        session.execute(insert(Setting).values([
            {"key": key, "value": json.dumps(defaults[key]), "updated_at": now} for key in keys
        ]).on_conflict_do_nothing(index_elements=["key"]))
        session.execute(select(Setting.key).where(Setting.key.in_(keys)).with_for_update())
    return load(session).to_json_dict()


def _write(session: Session, actor: Actor, now: datetime, key: str, old: Any,
           stored: Any) -> None:
    row = session.get(Setting, key)
    row.value, row.updated_at = json.dumps(stored), now
    audit.record(session, actor, now, "setting.change", "setting", None,
                 before={key: old}, after={key: stored})
