"""Importing the balance-refund files: planned outside any write, written in one go.

As the incident import (app.services.imports), two steps. The plan reads, checks and
decides the whole file with reads only, in chunks of a few indexed look-ups (a dry run
is the plan alone): every row ends as accepted, duplicate (same key, same content),
conflict (same key, other content: nothing overwritten) or rejected (its reasons
named), ``read`` is their sum, and an accepted application is decided by the spec's
rules (app.domain.refunds.decide). The prepared rows wait on disk. Then one short
write transaction asks the database again every look-up the plan made (another desk
may have written meanwhile: then nothing is written and the file is planned again,
and after REPLANS the import is refused whole) and writes the rows by executemany,
with an audit event per application. A refusal, a cancel or a crash anywhere leaves
the database as it was; another desk writes freely while the file is read.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.core.collect import fewer_collections
from app.core.errors import ChangedMeanwhile
from app.domain import refunds as rules
from app.domain.roles import Actor
from app.domain.text import email_key, phone_digits, search_key
from app.importers.refund_csv import (
    APPLICATIONS,
    BALANCES,
    ApplicationRecord,
    BalanceRecord,
    FileKind,
    RefundRow,
    read_refund_file,
)
from app.services import audit, settings
from app.services.context import AppContext, confirmed_actor, refund_clock
from app.services.import_write import PlanStale
from app.services.imports import REPLANS, ImportCancelled, RefusedRow, rows_in
from app.storage.bulk import BulkInsert, reserve_ids, stored_value
from app.storage.models import ImportBatch, RefundApplication, RefundMember

CHUNK = 1000
SAMPLE = 1000
# Applications that no longer hold the member's one refund: a later one may stand.
NOT_STANDING = tuple(s.value for s in (rules.RefundState.DUPLICATE, rules.RefundState.REFUSED,
                                       rules.RefundState.REFUSED_CLOSED,
                                       rules.RefundState.REFUSED_NO_BALANCE))


@dataclass
class RefundImportSummary:
    file_name: str
    kind: str
    encoding: str = ""
    sha256: str = ""
    unknown_columns: list[str] = field(default_factory=list)
    read: int = 0
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    balance_accepted: int = 0
    states: dict[str, int] | None = None
    batch_id: int | None = None
    dry_run: bool = False
    refused: list[RefusedRow] = field(default_factory=list)

    def as_json(self) -> dict:
        keys = ["file_name", "kind", "encoding", "sha256", "read", "accepted", "duplicate",
                "conflict", "rejected", "unknown_columns", "batch_id", "dry_run"]
        data = {key: getattr(self, key) for key in keys}
        if self.kind == BALANCES.name:
            data["balance_accepted"] = self.balance_accepted
        else:
            data["states"] = self.states
        return data


class _DryRun(Exception):
    pass


_MEMBER_COLUMNS = ("id", "member_id", "balance", "fraud_charge_balance", "name", "name_kana",
                   "kana_key", "phone", "phone_digits", "email", "email_key", "postal_code",
                   "address", "birth_date", "closed_on", "content_hash", "victim_id",
                   "import_batch_id", "created_at")
_APPLICATION_COLUMNS = (
    "id", "application_id", "content_hash", "member_ref", "member_id", "route", "applied_at",
    "method", "name", "name_kana", "phone", "email", "birth_date", "bank_code", "branch_code",
    "account_type", "account_number", "holder_kana", "state", "state_reason",
    "refundable_amount", "import_batch_id", "created_at", "updated_at", "version")


def import_balances(ctx: AppContext, actor: Actor, path: str | Path, *, dry_run: bool = False,
                    mapping: dict[str, str] | None = None,
                    on_refused: Callable[[RefusedRow], None] | None = None,
                    cancel: Callable[[], bool] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> RefundImportSummary:
    return _import(ctx, actor, path, BALANCES, _BalancePlan, dry_run, mapping, on_refused,
                   cancel, progress)


def import_applications(ctx: AppContext, actor: Actor, path: str | Path, *,
                        dry_run: bool = False, mapping: dict[str, str] | None = None,
                        on_refused: Callable[[RefusedRow], None] | None = None,
                        cancel: Callable[[], bool] | None = None,
                        progress: Callable[[int, int], None] | None = None
                        ) -> RefundImportSummary:
    return _import(ctx, actor, path, APPLICATIONS, _ApplicationPlan, dry_run, mapping,
                   on_refused, cancel, progress)


def _import(ctx, actor, path, kind: FileKind, plan_class, dry_run, mapping, on_refused, cancel,
            progress=None):
    path = Path(path)
    now = refund_clock(ctx).now()
    with ctx.db.read() as session:
        actor = confirmed_actor(session, actor, now)
        opened = settings.load(session).refund_applications_from
    source = read_refund_file(path, kind, now=now, mapping=mapping, applications_from=opened)
    with fewer_collections():  # the rows' objects die young: collected less often
        for _attempt in range(REPLANS + 1):
            with tempfile.TemporaryFile() as refused, tempfile.TemporaryFile() as rows:
                summary = RefundImportSummary(
                    file_name=path.name, kind=kind.name, encoding=source.encoding,
                    sha256=source.sha256, unknown_columns=source.unknown_columns, dry_run=dry_run)
                plan = plan_class(summary, path, now, opened, refused, rows)
                with ctx.db.read() as session:
                    plan.make(session, source, cancel, progress)
                if not dry_run:
                    try:
                        with ctx.db.write() as session:
                            plan.write(session, confirmed_actor(session, actor, now), cancel)
                    except PlanStale:
                        continue
                _replay(refused, on_refused)
                return summary
    raise ChangedMeanwhile(
        "取込の間に他の端末が同じ会員や申出を登録・変更しました。もう一度取り込んでください。",
        "Another desk registered or changed the same members or applications during the "
        "import; import the file again.")


def _chunks(rows: Iterator[RefundRow]) -> Iterator[list[RefundRow]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def _fingerprint(rows: list[tuple]) -> tuple[int, int]:
    """An answer as compared later in the same process: its size and its rows' hash,
    whatever order they come in."""
    return len(rows), hash(frozenset(rows))


class _Reads:
    """Every look-up the plan made (its SQL, the values asked, its answer's
    fingerprint): under the write lock the writer asks each again, and an answer that
    changed means another desk wrote what the plan depended on."""

    def __init__(self, core: Connection) -> None:
        self.core = core
        self.asked: list[tuple[str, list, tuple[int, int]]] = []

    def rows(self, sql: str, values: list) -> list[tuple]:
        found = rows_in(self.core, sql, values)
        if values:
            self.asked.append((sql, values, _fingerprint(found)))
        return found

    def recheck(self, core: Connection) -> None:
        for sql, values, seen in self.asked:
            if _fingerprint(rows_in(core, sql, values)) != seen:
                raise PlanStale


def _spool(stream: IO[bytes], items: list) -> None:
    if items:
        pickle.dump(items, stream, protocol=pickle.HIGHEST_PROTOCOL)


def _unspool(stream: IO[bytes]) -> Iterator[list]:
    stream.seek(0)
    while True:
        try:
            yield pickle.load(stream)
        except EOFError:
            return


def _replay(refused: IO[bytes], on_refused: Callable[[RefusedRow], None] | None) -> None:
    """The refused rows of the plan that stood, in file order."""
    if on_refused is not None:
        for rows in _unspool(refused):
            for row in rows:
                on_refused(row)


class _Plan:
    """One kind's import: ``make`` reads, checks and decides the whole file with reads
    only; ``write`` re-asks what it read and writes the prepared rows, in one short
    transaction. The prepared rows wait on disk (``rows``), as the refused ones do."""

    key_field = ""
    label_ja = ""
    table: Any = None
    columns: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()  # the columns the writer fills: batch, times, version

    def __init__(self, summary: RefundImportSummary, path: Path, now: datetime,
                 opened: date, refused: IO[bytes], rows: IO[bytes]) -> None:
        self.summary, self.path, self.now, self.opened = summary, path, now, opened
        self.refused_spool, self.rows_spool = refused, rows
        self.seen: dict[str, str] = {}
        self.refused: list[RefusedRow] = []
        self.reads: _Reads | None = None
        self.prepared = 0  # rows waiting in the spool
        self.key_of = attrgetter(self.key_field)

    # -- planning, reads only ---------------------------------------------------------
    def make(self, session: Session, source, cancel, progress) -> None:
        core = session.connection()
        self.reads = _Reads(core)
        # Values go to the driver as the column types store them, converted here, not
        # under the write lock.
        self.bulk = BulkInsert(core, self.table, self.columns)
        self.begin(session)
        for chunk in _chunks(iter(source)):
            if cancel and cancel():
                raise ImportCancelled
            self.take(chunk)
            _spool(self.refused_spool, self.refused)
            self.refused = []
            if progress:
                progress(source.bytes_read, source.size)
        self.end(session)

    def begin(self, session: Session) -> None:
        pass

    def end(self, session: Session) -> None:
        pass

    def keep(self, rows: list[tuple]) -> None:
        """Rows of the columns between the id and the tail, ready for the driver."""
        _spool(self.rows_spool, self.bulk.convert(rows))
        self.prepared += len(rows)

    def _asked(self, rows: list[RefundRow]) -> list[str]:
        """The keys of a chunk's records the database may already hold (once each)."""
        key_of, seen = self.key_of, self.seen
        return list({key: None for row in rows if row.record is not None
                     and (key := key_of(row.record)) not in seen})

    def _sort_out(self, rows: list[RefundRow], known: dict[str, str]) -> list:
        """The new records of a chunk; every other row counted."""
        new, key_of = [], self.key_of
        for row in rows:
            if row.record is None:
                self._refuse(row, "rejected", [(f"{e.column}: " if e.column else "", e.ja, e.en)
                                               for e in row.errors])
                continue
            key = key_of(row.record)
            content = row.record.content_hash()
            earlier = self.seen.get(key) or known.get(key)
            if earlier is None:
                self.seen[key] = content
                new.append((row.record, content))
            elif earlier == content:
                self.summary.duplicate += 1
            else:
                self._refuse(row, "conflict", [(
                    "", f"{self.label_ja} {key} は既に異なる内容で登録されています。",
                    f"{self.key_field} {key} is already stored with different content.")])
        return new

    def _refuse(self, row: RefundRow, outcome: str, reasons: list[tuple[str, str, str]]) -> None:
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        refused = RefusedRow(row.line, outcome,
                             tuple(f"{w}{ja} / {en}" for w, ja, en in reasons), row.cells,
                             tuple(w + ja for w, ja, _en in reasons),
                             tuple(w + en for w, _ja, en in reasons))
        if len(self.summary.refused) < SAMPLE:
            self.summary.refused.append(refused)
        self.refused.append(refused)

    # -- writing, under the lock -------------------------------------------------------
    def write(self, session: Session, actor: Actor, cancel) -> None:
        core = session.connection()
        self.recheck(session)
        self.reads.recheck(core)
        self.batch_id = self._open_batch(core, actor)
        if cancel and cancel():
            raise ImportCancelled
        keys = reserve_ids(core, self.table, self.prepared)
        rows = BulkInsert(core, self.table, ("id", *self.columns, *self.tail))
        tail = tuple(self.tail_values(core))
        at = 0
        for part in _unspool(self.rows_spool):
            if cancel and cancel():
                raise ImportCancelled
            written = [(key, *values, *tail)
                       for key, values in zip(keys[at:at + len(part)], part, strict=True)]
            rows.run_converted(written)
            self.wrote(session, actor, written, at)
            at += len(part)
        self.finish(session, actor)

    def recheck(self, session: Session) -> None:
        """The settings the plan decided by are still in force, or PlanStale."""
        if settings.load(session).refund_applications_from != self.opened:
            raise PlanStale

    def tail_values(self, core: Connection) -> Iterator[Any]:
        raise NotImplementedError

    def wrote(self, session: Session, actor: Actor, rows: list[tuple], at: int) -> None:
        """``rows`` as written, the ``at``-th prepared row first."""

    def finish(self, session: Session, actor: Actor) -> None:
        s = self.summary
        audit.record(session, actor, self.now, f"refund.import_{s.kind}", "import_batch",
                     self.batch_id, after=s.as_json())

    def _open_batch(self, core: Connection, actor: Actor) -> int:
        s = self.summary
        table = ImportBatch.__table__
        batch_id = core.execute(insert(table).returning(table.c.id), [dict(
            file_name=self.path.name, sha256=s.sha256, encoding=s.encoding,
            operator_id=actor.operator_id, created_at=self.now, rows_read=s.read,
            accepted=s.accepted, duplicate=s.duplicate, conflict=s.conflict,
            rejected=s.rejected, amount_accepted=s.balance_accepted)]).scalar_one()
        s.batch_id = batch_id
        return batch_id

    def stored(self, core: Connection, column: str, value: Any) -> Any:
        return stored_value(core, self.table.c[column], value)


class _BalancePlan(_Plan):
    key_field = "member_id"
    label_ja = "会員ID"
    table = RefundMember.__table__
    columns = _MEMBER_COLUMNS[1:-2]
    tail = ("import_batch_id", "created_at")

    def take(self, chunk: list[RefundRow]) -> None:
        self.summary.read += len(chunk)
        known = dict(self.reads.rows("SELECT member_id, content_hash FROM refund_member "
                                     "WHERE member_id IN", self._asked(chunk)))
        new = self._sort_out(chunk, known)
        if not new:
            return
        victims = dict(self.reads.rows("SELECT member_id, id FROM victim WHERE member_id IN",
                                       [r.member_id for r, _c in new]))
        self.keep([self._row(record, content, victims.get(record.member_id))
                   for record, content in new])
        self.summary.accepted += len(new)
        self.summary.balance_accepted += sum(r.balance for r, _c in new)

    @staticmethod
    def _row(r: BalanceRecord, content: str, victim_id: int | None) -> tuple:
        return (r.member_id, r.balance, r.fraud_charge_balance, r.name, r.name_kana,
                search_key(r.name_kana), r.phone, phone_digits(r.phone), r.email,
                email_key(r.email), r.postal_code, r.address, r.birth_date, r.closed_on,
                content, victim_id)

    def tail_values(self, core: Connection) -> Iterator[Any]:
        yield self.batch_id
        yield self.stored(core, "created_at", self.now)


@dataclass
class _Known:
    """A member as the decision needs it, with the row's id."""

    ref: int
    member_id: str
    facts: rules.Member


class _ApplicationPlan(_Plan):
    key_field = "application_id"
    label_ja = "申出番号"
    table = RefundApplication.__table__
    columns = _APPLICATION_COLUMNS[1:-4]
    tail = _APPLICATION_COLUMNS[-4:]  # import_batch_id, created_at, updated_at, version
    _STATE = columns.index("state")

    def begin(self, session: Session) -> None:
        self.deadline = settings.load(session).refund_deadline
        self.standing: set[int] = set()  # members whose application stands (this file)
        self.decided: dict[str, int] = {}  # the file's applications by state
        self.reasons: list[str] = []  # each prepared application's decision, in Japanese

    def take(self, chunk: list[RefundRow]) -> None:
        self.summary.read += len(chunk)
        known = dict(self.reads.rows("SELECT application_id, content_hash FROM "
                                     "refund_application WHERE application_id IN",
                                     self._asked(chunk)))
        new = self._sort_out(chunk, known)
        if not new:
            return
        members = _MemberFinder(self.reads.core, [r for r, _c in new], self.reads.rows)
        standing = members.standing_refs()
        rows = []
        for record, content in new:
            member = members.find(record)
            earlier = member is not None and (member.ref in standing
                                              or member.ref in self.standing)
            decision = rules.decide(member.facts if member else None, _applicant(record),
                                    earlier_standing=earlier, deadline=self.deadline)
            state = decision.state.value
            if member is not None and state not in NOT_STANDING:
                self.standing.add(member.ref)
            self.decided[state] = self.decided.get(state, 0) + 1
            rows.append(self._row(record, content, member, decision))
            self.reasons.append(decision.ja)
        self.keep(rows)
        self.summary.accepted += len(rows)

    @staticmethod
    def _row(r: ApplicationRecord, content: str, member: _Known | None,
             decision: rules.Decision) -> tuple:
        amount = (rules.refundable_amount(member.facts.balance, member.facts.fraud_charge_balance)
                  if member else None)
        return (r.application_id, content, member.ref if member else None, r.member_id,
                r.route.value, r.applied_at, r.method.value, r.name, r.name_kana, r.phone,
                r.email, r.birth_date, r.bank_code, r.branch_code, r.account_type,
                r.account_number, r.account_holder_kana, decision.state.value,
                f"{decision.ja} / {decision.en}", amount)

    def end(self, session: Session) -> None:
        """A dry run's states: the stored applications' and the file's (an import only
        adds applications)."""
        stored = state_counts(session)
        self.summary.states = {state: count + self.decided.get(state, 0)
                               for state, count in stored.items()}

    def recheck(self, session: Session) -> None:
        super().recheck(session)
        if settings.load(session).refund_deadline != self.deadline:
            raise PlanStale

    def tail_values(self, core: Connection) -> Iterator[Any]:
        stored_now = self.stored(core, "created_at", self.now)
        return iter((self.batch_id, stored_now, stored_now, 1))

    def wrote(self, session: Session, actor: Actor, rows: list[tuple], at: int) -> None:
        """An event per application, chained after its rows."""
        state, batch_id, now = self._STATE + 1, self.batch_id, self.now
        audit.append_many(session, [dict(
            at=now, operator_id=actor.operator_id, actor_login=actor.login,
            action="refund.application", entity="refund", entity_id=row[0], case_id=None,
            before=None, after=audit.to_json({"application_id": row[1], "state": row[state],
                                              "batch_id": batch_id}),
            reason=reason)
            for row, reason in zip(rows, self.reasons[at:at + len(rows)], strict=True)])

    def finish(self, session: Session, actor: Actor) -> None:
        self.summary.states = state_counts(session)
        super().finish(session, actor)


def _applicant(r: ApplicationRecord) -> rules.Applicant:
    return rules.Applicant(route=r.route, applied_at=r.applied_at, name_kana=r.name_kana,
                           phone=r.phone, email=r.email, birth_date=r.birth_date)


def state_counts(session: Session) -> dict[str, int]:
    counts = dict(session.execute(select(RefundApplication.state, func.count())
                                  .group_by(RefundApplication.state)).all())
    return {state.value: int(counts.get(state.value, 0)) for state in rules.RefundState}


_FINDER_SQL = ("SELECT id, member_id, balance, fraud_charge_balance, name_kana, phone, "
               "phone_digits, email, email_key, birth_date, closed_on FROM refund_member WHERE ")


def _day(value: date | str | None) -> date | None:
    """A DATE as read by driver SQL: ISO text on SQLite, a date on PostgreSQL."""
    return date.fromisoformat(value) if isinstance(value, str) else value


class _MemberFinder:
    """The members a chunk of applications may be for: by member ID when given, else by
    the phone or the e-mail on record (found only when exactly one member has it)."""

    def __init__(self, core: Connection, records: list[ApplicationRecord],
                 ask: Callable[[str, list], list[tuple]] | None = None) -> None:
        """``ask``: how to look up (the import's plan notes each look-up)."""
        self.core = core
        self.ask = ask = ask or (lambda sql, values: rows_in(core, sql, values))
        ids = {r.member_id for r in records if r.member_id}
        phones = {phone_digits(r.phone) for r in records if r.phone and not r.member_id}
        mails = {email_key(r.email) for r in records if r.email and not r.member_id}
        rows = {}
        # Separate indexed look-ups: an OR of them would scan the whole table.
        for column, values in (("member_id", ids), ("phone_digits", phones),
                               ("email_key", mails)):
            for row in ask(f"{_FINDER_SQL}{column} IN", sorted(values)):
                rows[row[0]] = row
        overlapping = _overlapping_members(core, {row[1] for row in rows.values()}, ask)
        self.by_id: dict[str, _Known] = {}
        self.by_phone: dict[str, list[_Known]] = {}
        self.by_mail: dict[str, list[_Known]] = {}
        for (ref, member_id, balance, fraud, kana, phone, digits, email, mail, birth,
             closed) in rows.values():
            known = _Known(ref, member_id, rules.Member(
                balance=balance, fraud_charge_balance=fraud, name_kana=kana, phone=phone,
                email=email, birth_date=_day(birth), closed_on=_day(closed),
                overlapping_victim=member_id in overlapping))
            self.by_id[member_id] = known
            if digits:
                self.by_phone.setdefault(digits, []).append(known)
            if mail:
                self.by_mail.setdefault(mail, []).append(known)

    def find(self, r: ApplicationRecord) -> _Known | None:
        if r.member_id:
            return self.by_id.get(r.member_id)
        for found in (self.by_phone.get(phone_digits(r.phone)) if r.phone else None,
                      self.by_mail.get(email_key(r.email)) if r.email else None):
            if found and len(found) == 1:
                return found[0]
        return None

    def standing_refs(self) -> set[int]:
        """The members found whose application stands (from earlier imports)."""
        markers = ", ".join(f"'{state}'" for state in NOT_STANDING)
        return {ref for (ref,) in self.ask(
            "SELECT member_ref FROM refund_application WHERE state NOT IN "
            f"({markers}) AND member_ref IN", sorted(k.ref for k in self.by_id.values()))}


def member_facts(row: RefundMember, overlapping: bool) -> rules.Member:
    return rules.Member(balance=row.balance, fraud_charge_balance=row.fraud_charge_balance,
                        name_kana=row.name_kana, phone=row.phone, email=row.email,
                        birth_date=row.birth_date, closed_on=row.closed_on,
                        overlapping_victim=overlapping)


def _overlapping_members(core: Connection, member_ids: set[str],
                         ask: Callable[[str, list], list[tuple]] | None = None) -> set[str]:
    """Member IDs that are compensation victims with a credit or debit charge case."""
    ask = ask or (lambda sql, values: rows_in(core, sql, values))
    channels = ", ".join(f"'{channel}'" for channel in sorted(rules.OVERLAP_CHANNELS))
    return {member_id for (member_id,) in ask(
        "SELECT DISTINCT victim.member_id FROM victim JOIN case_file ON "
        f"case_file.victim_id = victim.id WHERE case_file.channel IN ({channels}) "
        "AND victim.member_id IN", sorted(member_ids))}
