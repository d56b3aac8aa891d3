"""Importing the balance-refund files: one transaction, all or nothing, idempotent.

Like the incident import (app.services.imports): rows stream in chunks, each chunk
costs a few indexed look-ups and one executemany insert; a refusal, a cancel or a
crash anywhere rolls the whole file back. Every row ends as accepted, duplicate (same
key, same content), conflict (same key, other content: nothing overwritten) or
rejected (its reasons named), and ``read`` is their sum. An accepted application is
decided at once by the spec's rules (app.domain.refunds.decide).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

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
from app.services.context import AppContext, confirmed_actor
from app.services.imports import ImportCancelled, RefusedRow, rows_in
from app.storage.bulk import BulkInsert, reserve_ids
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
    return _import(ctx, actor, path, BALANCES, _BalanceRun, dry_run, mapping, on_refused,
                   cancel, progress)


def import_applications(ctx: AppContext, actor: Actor, path: str | Path, *,
                        dry_run: bool = False, mapping: dict[str, str] | None = None,
                        on_refused: Callable[[RefusedRow], None] | None = None,
                        cancel: Callable[[], bool] | None = None,
                        progress: Callable[[int, int], None] | None = None
                        ) -> RefundImportSummary:
    return _import(ctx, actor, path, APPLICATIONS, _ApplicationRun, dry_run, mapping,
                   on_refused, cancel, progress)


def _import(ctx, actor, path, kind: FileKind, run_class, dry_run, mapping, on_refused, cancel,
            progress=None):
    path = Path(path)
    now = ctx.clock.now()
    with ctx.db.read() as session:
        opened = settings.load(session).refund_applications_from
    source = read_refund_file(path, kind, now=now, mapping=mapping, applications_from=opened)
    summary = RefundImportSummary(file_name=path.name, kind=kind.name, encoding=source.encoding,
                                  sha256=source.sha256,
                                  unknown_columns=source.unknown_columns, dry_run=dry_run)
    try:
        with ctx.db.write() as session:
            run = run_class(session, confirmed_actor(session, actor, now), now, summary,
                            on_refused)
            run.open_batch(path)
            for chunk in _chunks(iter(source)):
                if cancel and cancel():
                    raise ImportCancelled
                run.take(chunk)
                if progress:
                    progress(source.bytes_read, source.size)
            run.finish()
            if dry_run:
                raise _DryRun
    except _DryRun:
        summary.batch_id = None
    return summary


def _chunks(rows: Iterator[RefundRow]) -> Iterator[list[RefundRow]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


class _Run:
    key_field = ""
    label_ja = ""

    def __init__(self, session: Session, actor: Actor, now: datetime,
                 summary: RefundImportSummary, on_refused) -> None:
        self.session, self.actor, self.now, self.summary = session, actor, now, summary
        self.core = session.connection()
        self.on_refused = on_refused
        self.seen: dict[str, str] = {}
        self.batch_id = 0

    def open_batch(self, path: Path) -> None:
        table = ImportBatch.__table__
        s = self.summary
        self.batch_id = self.core.execute(insert(table).returning(table.c.id), [dict(
            file_name=path.name, sha256=s.sha256, encoding=s.encoding,
            operator_id=self.actor.operator_id, created_at=self.now)]).scalar_one()
        s.batch_id = self.batch_id

    def _asked(self, rows: list[RefundRow]) -> list[str]:
        """The keys of a chunk's records the database may already hold (once each)."""
        return list({getattr(row.record, self.key_field): None for row in rows if row.ok
                     and getattr(row.record, self.key_field) not in self.seen})

    def _sort_out(self, rows: list[RefundRow], known: dict[str, str]) -> list:
        """The new records of a chunk; every other row counted."""
        new = []
        for row in rows:
            if not row.ok:
                self._refuse(row, "rejected", [(f"{e.column}: " if e.column else "", e.ja, e.en)
                                               for e in row.errors])
                continue
            key = getattr(row.record, self.key_field)
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
        if self.on_refused:
            self.on_refused(refused)

    def _close_batch(self) -> None:
        s = self.summary
        self.core.execute(update(ImportBatch).where(ImportBatch.id == self.batch_id).values(
            rows_read=s.read, accepted=s.accepted, duplicate=s.duplicate, conflict=s.conflict,
            rejected=s.rejected, amount_accepted=s.balance_accepted))
        audit.record(self.session, self.actor, self.now, f"refund.import_{s.kind}",
                     "import_batch", self.batch_id, after=s.as_json())


class _BalanceRun(_Run):
    key_field = "member_id"
    label_ja = "会員ID"

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.rows = BulkInsert(self.core, RefundMember.__table__, _MEMBER_COLUMNS)

    def take(self, chunk: list[RefundRow]) -> None:
        self.summary.read += len(chunk)
        known = dict(rows_in(self.core, "SELECT member_id, content_hash FROM refund_member "
                                        "WHERE member_id IN", self._asked(chunk)))
        new = self._sort_out(chunk, known)
        if not new:
            return
        victims = dict(rows_in(self.core, "SELECT member_id, id FROM victim WHERE member_id IN",
                               [r.member_id for r, _c in new]))
        keys = reserve_ids(self.core, RefundMember.__table__, len(new))
        self.rows.run(self._row(key, record, content, victims.get(record.member_id))
                      for key, (record, content) in zip(keys, new, strict=True))
        self.summary.accepted += len(new)
        self.summary.balance_accepted += sum(r.balance for r, _c in new)

    def _row(self, key: int, r: BalanceRecord, content: str, victim_id: int | None) -> tuple:
        return (key, r.member_id, r.balance, r.fraud_charge_balance, r.name, r.name_kana,
                search_key(r.name_kana), r.phone, phone_digits(r.phone), r.email,
                email_key(r.email), r.postal_code, r.address, r.birth_date, r.closed_on,
                content, victim_id, self.batch_id, self.now)

    def finish(self) -> None:
        self._close_batch()


@dataclass
class _Known:
    """A member as the decision needs it, with the row's id."""

    ref: int
    member_id: str
    facts: rules.Member


class _ApplicationRun(_Run):
    key_field = "application_id"
    label_ja = "申出番号"

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.rows = BulkInsert(self.core, RefundApplication.__table__, _APPLICATION_COLUMNS)
        self.deadline = settings.load(self.session).refund_deadline
        self.standing: set[int] = set()  # members whose application stands (this file)
        self.events: list[dict] = []

    def take(self, chunk: list[RefundRow]) -> None:
        self.summary.read += len(chunk)
        known = dict(rows_in(self.core, "SELECT application_id, content_hash FROM "
                                        "refund_application WHERE application_id IN",
                             self._asked(chunk)))
        new = self._sort_out(chunk, known)
        if not new:
            return
        members = _MemberFinder(self.core, [r for r, _c in new])
        standing = members.standing_refs()
        keys = reserve_ids(self.core, RefundApplication.__table__, len(new))
        rows = []
        for key, (record, content) in zip(keys, new, strict=True):
            member = members.find(record)
            earlier = member is not None and (member.ref in standing
                                              or member.ref in self.standing)
            decision = rules.decide(member.facts if member else None, _applicant(record),
                                    earlier_standing=earlier, deadline=self.deadline)
            if member is not None and decision.state.value not in NOT_STANDING:
                self.standing.add(member.ref)
            rows.append(self._row(key, record, content, member, decision))
            self.events.append(dict(
                at=self.now, operator_id=self.actor.operator_id,
                actor_login=self.actor.login, action="refund.application", entity="refund",
                entity_id=key, case_id=None, before=None,
                after=audit.to_json({"application_id": record.application_id,
                                     "state": decision.state.value,
                                     "batch_id": self.batch_id}),
                reason=decision.ja))
        self.rows.run(rows)
        self.summary.accepted += len(rows)
        audit.append_many(self.session, self.events)
        self.events = []

    def _row(self, key: int, r: ApplicationRecord, content: str, member: _Known | None,
             decision: rules.Decision) -> tuple:
        amount = (rules.refundable_amount(member.facts.balance, member.facts.fraud_charge_balance)
                  if member else None)
        return (key, r.application_id, content, member.ref if member else None, r.member_id,
                r.route.value, r.applied_at, r.method.value, r.name, r.name_kana, r.phone,
                r.email, r.birth_date, r.bank_code, r.branch_code, r.account_type,
                r.account_number, r.account_holder_kana, decision.state.value,
                f"{decision.ja} / {decision.en}", amount, self.batch_id, self.now, self.now, 1)

    def finish(self) -> None:
        self.summary.states = state_counts(self.session)
        self._close_batch()


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

    def __init__(self, core: Connection, records: list[ApplicationRecord]) -> None:
        self.core = core
        ids = {r.member_id for r in records if r.member_id}
        phones = {phone_digits(r.phone) for r in records if r.phone and not r.member_id}
        mails = {email_key(r.email) for r in records if r.email and not r.member_id}
        rows = {}
        # Separate indexed look-ups: an OR of them would scan the whole table.
        for column, values in (("member_id", ids), ("phone_digits", phones),
                               ("email_key", mails)):
            for row in rows_in(core, f"{_FINDER_SQL}{column} IN", list(values)):
                rows[row[0]] = row
        overlapping = _overlapping_members(core, {row[1] for row in rows.values()})
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
        return {ref for (ref,) in rows_in(
            self.core, "SELECT member_ref FROM refund_application WHERE state NOT IN "
                       f"({markers}) AND member_ref IN",
            [k.ref for k in self.by_id.values()])}


def member_facts(row: RefundMember, overlapping: bool) -> rules.Member:
    return rules.Member(balance=row.balance, fraud_charge_balance=row.fraud_charge_balance,
                        name_kana=row.name_kana, phone=row.phone, email=row.email,
                        birth_date=row.birth_date, closed_on=row.closed_on,
                        overlapping_victim=overlapping)


def _overlapping_members(core: Connection, member_ids: set[str]) -> set[str]:
    """Member IDs that are compensation victims with a credit or debit charge case."""
    channels = ", ".join(f"'{channel}'" for channel in sorted(rules.OVERLAP_CHANNELS))
    return {member_id for (member_id,) in rows_in(
        core, "SELECT DISTINCT victim.member_id FROM victim JOIN case_file ON "
              f"case_file.victim_id = victim.id WHERE case_file.channel IN ({channels}) "
              "AND victim.member_id IN", list(member_ids))}
