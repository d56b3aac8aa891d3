"""Audit events, written in the caller's transaction so that a change and its
trace commit or roll back together."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlmodel import Session

from app.domain.roles import Actor
from app.storage.models import AuditEvent


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot record {type(value).__name__} in the audit trail")


def to_json(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=_default)


def record(
    session: Session,
    actor: Actor,
    when: datetime,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    case_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=when,
        operator_id=actor.operator_id,
        actor_login=actor.login,
        action=action,
        entity=entity,
        entity_id=entity_id,
        case_id=case_id,
        before=to_json(before),
        after=to_json(after),
        reason=reason,
    )
    session.add(event)
    return event


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict, dict]:
    """Only what changed, as (before, after)."""
    keys = [key for key in new if old.get(key) != new.get(key)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}
