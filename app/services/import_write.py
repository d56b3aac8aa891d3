"""Writing an import's plan: one short transaction, the plan re-checked first.

The plan (app.services.imports) was made with reads only, so another desk may
have written meanwhile. Under the write lock the writer asks the database again
what the plan asked (the report ids, the candidate victims, their cases; the
cases locked on PostgreSQL, as the phone intake locks its case) and, when an
answer changed, gives up before writing anything: the caller plans again. Then
the prepared rows go in with executemany, the claims of the cases the file grew
are raised, and last the audit events are chained, so that the audit head is
held only for that last step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.domain.case_number import format_case_number
from app.domain.intake_rules import VICTIM_COLUMNS, CaseSlot, refusal
from app.domain.roles import Actor
from app.services import audit
from app.services.imports import (
    CHUNK,
    INCIDENT_VALUES,
    ImportCancelled,
    Lookups,
    Plan,
    read_cases,
    read_reports,
    read_victims,
)
from app.storage import sequences
from app.storage.bulk import BulkInsert, driver_sql, reserve_ids, stored_value
from app.storage.models import Case, ImportBatch, Incident, Victim

WRITE_CHUNK = 5000  # rows per executemany: few round trips, bounded memory

_CASE_COLUMNS = ("id", "case_number", "victim_id", "channel", "status", "claimed_amount",
                 "created_at", "updated_at", "version")
_INCIDENT_COLUMNS = ("case_id", *INCIDENT_VALUES, "source", "import_batch_id", "created_at")


class PlanStale(Exception):
    """What the plan read has changed: plan again (nothing was written)."""


def write(session: Session, actor: Actor, plan: Plan, cancel: Callable[[], bool] | None
          ) -> None:
    """In the caller's write transaction (the import service's)."""
    opened, grown = plan.book.opened(), plan.book.grown()
    core = session.connection()
    recheck(core, plan.lookups)
    batch_id = _open_batch(core, actor, plan)
    plan.summary.batch_id = batch_id
    _stop_if(cancel)
    _write_victims(core, plan)
    _open_cases(session, core, plan, opened)
    _write_incidents(core, plan, batch_id, cancel)
    before = _grow_cases(core, plan, grown)
    _stop_if(cancel)
    _audit(session, actor, plan, batch_id, opened, grown, before)


def _stop_if(cancel: Callable[[], bool] | None) -> None:
    if cancel and cancel():
        raise ImportCancelled


def recheck(core: Connection, lookups: Lookups) -> None:
    """The database still answers as the plan read it, or PlanStale."""
    reports: dict = {}
    for part in _parts(lookups.report_ids, CHUNK):
        reports.update(read_reports(core, part))
    if reports != lookups.reports:
        raise PlanStale
    if read_victims(core, lookups.members, lookups.phones, lookups.emails) != lookups.victims:
        raise PlanStale
    locking = core.dialect.name == "postgresql"
    if _as_taken(read_cases(core, lookups.victim_ids, lock=locking)) != _as_taken(
            lookups.cases):
        raise PlanStale


def _as_taken(cases: dict[tuple[int, str], tuple[int, str, str]]) -> dict:
    """What the plan depends on: which case takes a victim's incidents, and whether it
    may (a case moved on from received to contacted changes nothing)."""
    return {key: (case_id, refusal(CaseSlot(key[0], key[1], case_id, status)) is None)
            for key, (case_id, status, _number) in cases.items()}


def _parts(rows: Iterable[Any], size: int) -> Iterator[list]:
    rows = iter(rows)
    while part := list(islice(rows, size)):
        yield part


def _open_batch(core: Connection, actor: Actor, plan: Plan) -> int:
    s = plan.summary
    table = ImportBatch.__table__
    return core.execute(insert(table).returning(table.c.id), [dict(
        file_name=plan.path.name, sha256=s.sha256, encoding=s.encoding,
        operator_id=actor.operator_id, created_at=plan.now, rows_read=s.read,
        accepted=s.accepted, duplicate=s.duplicate, conflict=s.conflict, rejected=s.rejected,
        victims_created=s.victims_created, cases_created=s.cases_created,
        amount_accepted=sum(s.amount_accepted_by_channel.values()))]).scalar_one()


def _write_victims(core: Connection, plan: Plan) -> None:
    ids = reserve_ids(core, Victim.__table__, len(plan.victims))
    for victim, victim_id in zip(plan.victims, ids, strict=True):
        victim.id = victim_id
    rows = BulkInsert(core, Victim.__table__, VICTIM_COLUMNS)
    for part in _parts(plan.victims, WRITE_CHUNK):
        rows.run((v.id, *v.row[1:]) for v in part)


def _victim_id(slot: CaseSlot) -> int:
    return slot.victim if isinstance(slot.victim, int) else slot.victim.id


def _open_cases(session: Session, core: Connection, plan: Plan, opened: list[CaseSlot]) -> None:
    """Opened with the whole claim their incidents add up to."""
    if not opened:
        return
    first = sequences.reserve(session, "case", len(opened))
    ids = reserve_ids(core, Case.__table__, len(opened))
    for offset, (slot, case_id) in enumerate(zip(opened, ids, strict=True)):
        slot.id, slot.case_number = case_id, format_case_number(first + offset)
    rows = BulkInsert(core, Case.__table__, _CASE_COLUMNS)
    now = plan.now
    for part in _parts(opened, WRITE_CHUNK):
        rows.run((s.id, s.case_number, _victim_id(s), s.channel, s.status, s.added, now, now, 1)
                 for s in part)


def _write_incidents(core: Connection, plan: Plan, batch_id: int,
                     cancel: Callable[[], bool] | None) -> None:
    rows = BulkInsert(core, Incident.__table__, _INCIDENT_COLUMNS)
    now = plan.now
    for part in _parts(plan.incidents, WRITE_CHUNK):
        _stop_if(cancel)
        rows.run((slot.id, *values, "import", batch_id, now) for slot, *values in part)


def _grow_cases(core: Connection, plan: Plan, grown: list[CaseSlot]) -> dict[int, int]:
    """Each stored case the file added to: its claim grows by its incidents, one version
    step. The claims as they were (read under the lock), by case id."""
    before: dict[int, int] = {}
    sql = driver_sql(core, "UPDATE case_file SET claimed_amount = claimed_amount + ?, "
                           "version = version + 1, updated_at = ? WHERE id = ?")
    stored_now = stored_value(core, Case.__table__.c.updated_at, plan.now)
    for part in _parts(grown, CHUNK):
        before.update(core.execute(select(Case.id, Case.claimed_amount)
                                   .where(Case.id.in_([s.id for s in part]))).all())
        core.exec_driver_sql(sql, [(s.added, stored_now, s.id) for s in part])
    return before


def _audit(session: Session, actor: Actor, plan: Plan, batch_id: int, opened: list[CaseSlot],
           grown: list[CaseSlot], before: dict[int, int]) -> None:
    """One event per victim registered, per case opened, per case grown, and the batch's."""
    def event(action: str, entity: str, entity_id: int, after: dict,
              was: dict | None = None, case: bool = True) -> dict:
        return dict(at=plan.now, operator_id=actor.operator_id, actor_login=actor.login,
                    action=action, entity=entity, entity_id=entity_id,
                    case_id=entity_id if case else None, before=audit.to_json(was),
                    after=audit.to_json(after), reason=None)

    s = plan.summary
    events = chain(
        (event("victim.create", "victim", v.id, {"name": v.row[2], "batch_id": batch_id},
                case=False) for v in plan.victims),
        (event("case.open", "case", c.id, {
            "case_number": c.case_number, "channel": c.channel, "source": "import",
            "batch_id": batch_id, "claimed_amount": c.added, "incidents_added": c.count})
          for c in sorted(opened, key=lambda c: c.id)),
        (event("import.incidents", "case", c.id, {
            "claimed_amount": before[c.id] + c.added, "incidents_added": c.count,
            "batch_id": batch_id}, {"claimed_amount": before[c.id]})
          for c in sorted(grown, key=lambda c: c.id)),
        [event("import.batch", "import_batch", batch_id,
               s.as_json() | {"unknown_columns": s.unknown_columns}, case=False)],
    )
    for part in _parts(events, WRITE_CHUNK):
        audit.append_many(session, part)
