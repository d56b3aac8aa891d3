"""Audit events, written in the caller's transaction so that a change and its
trace commit or roll back together.

Every event is chained (app.domain.audit_chain): it carries its position
``seq``, the previous event's hash and its own. Writers lock the single
``audit_head`` row (SELECT ... FOR UPDATE; SQLite write transactions are
serialised anyway), so two desks never chain onto the same event.

Every writer of a centre goes through that one row, so it is locked as late as
it can be: an event recorded during a use case waits in the session, and is
chained and inserted as the transaction commits (a session hook below). The head
is then the last lock any transaction takes and is held only for the commit:
desks no longer queue behind a use case still running, and no transaction holds
the head while waiting for a case row that another, waiting for the head, holds
(the deadlock that refused changes as stale with several server processes). The
bulk paths (imports, the demo) chain their rows as they insert them, and the
events waiting before them first, in the order they were recorded.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from operator import itemgetter
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.domain.audit_chain import FIELDS, GENESIS, event_hash
from app.domain.roles import Actor
from app.services import changes
from app.storage.bulk import BulkInsert
from app.storage.models import AuditEvent, AuditHead

CHUNK = 2000


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot record {type(value).__name__} in the audit trail")


# json.dumps with these arguments builds an encoder a call; bulk writers record
# hundreds of thousands of events: built once, the same text.
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_default).encode


def to_json(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    return _ENCODE(data)


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
    session.info.setdefault(_PENDING, []).append(event)  # chained at commit
    changes.noted(action, entity, entity_id, case_id)  # what the desk refreshes after
    return event


_PENDING = "hosho_audit_pending"


def chain_pending(session: Session) -> None:
    """Chain and add the events recorded in this transaction and not yet chained: the
    head is locked here, at the end."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    head = lock_head(session)
    for event in pending:
        event.seq = head.seq + 1
        event.prev_hash = head.hash
        event.hash = event_hash(_fields(event), head.hash)
        head.seq, head.hash = event.seq, event.hash
        session.add(event)


@sa_event.listens_for(OrmSession, "before_commit")
def _chain_before_commit(session: OrmSession) -> None:
    chain_pending(session)


@sa_event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)  # rolled back with the change they describe


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in FIELDS}


def lock_head(session: Session) -> AuditHead:
    """The chain's end, locked until this transaction ends."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:  # a database made before its head row existed: start the chain
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    return head


def chain_rows(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give rows about to be inserted in bulk their place in the chain, in list order.

    Cheaper than sealing after the insert: nothing is read back. Events recorded
    earlier in the transaction are chained first.
    """
    chain_pending(session)
    head = lock_head(session)
    seq, digest = head.seq, head.hash  # plain locals: the ORM's attribute events cost per set
    for row in rows:
        seq, previous = seq + 1, digest
        row["seq"] = seq
        digest = event_hash(row, previous)
        row.update(prev_hash=previous, hash=digest)
    head.seq, head.hash = seq, digest
    return rows


_CHAINED_COLUMNS = (*[n for n in FIELDS if n != "seq"], "seq", "prev_hash", "hash")
_chained_values = itemgetter(*_CHAINED_COLUMNS)  # a row's values in that order, in C


def append_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Chain ``rows`` (in list order) and insert them in one go: the bulk writers' path.

    Each row holds every field of FIELDS but ``seq``; before and after already
    as JSON text (``to_json``).
    """
    chained = chain_rows(session, rows)
    changes.noted_many(chained)
    BulkInsert(session.connection(), AuditEvent.__table__, _CHAINED_COLUMNS).run(
        map(_chained_values, chained))


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict, dict]:
    """Only what changed, as (before, after)."""
    keys = [key for key in new if old.get(key) != new.get(key)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}
