"""Importing a reported-incident file: one transaction, all or nothing.

Rows stream from the engine in chunks; each chunk costs a handful of queries
(known report ids, candidate victims, their cases) and executemany inserts,
whatever its size. Any failure, a cancel, or a refusal discovered late in the
file rolls the whole batch back: the database is as it was before.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from app.core.errors import UserError
from app.domain.case_number import format_case_number
from app.domain.channels import Channel
from app.domain.roles import Actor
from app.domain.states import VERIFIED_OR_LATER, Status
from app.domain.text import email_key, search_key
from app.importers.columns import LABELS_JA
from app.importers.incident_csv import (
    IncidentRecord,
    ParsedRow,
    RowError,
    digest_differences,
    fingerprint,
    read_incidents,
)
from app.services import audit, settings
from app.services.context import AppContext, confirmed_actor
from app.storage import sequences
from app.storage.bulk import BulkInsert, driver_sql, reserve_ids, stored_value
from app.storage.models import Case, ImportBatch, Incident, Victim

CHUNK = 1000
SAMPLE = 1000  # refused rows kept in the summary for the screen; all go to on_refused
# ... and at most this many characters of their cells: a row may hold up to a million
# (MAX_RECORD_CHARS), and a thousand such rows would hold gigabytes.
SAMPLE_CHARS = 2_000_000


class ImportCancelled(UserError):
    def __init__(self) -> None:
        super().__init__("取込を中止しました。データベースは変更されていません。",
                         "Import cancelled; the database is unchanged.")


@dataclass(frozen=True)
class RefusedRow:
    line: int
    outcome: str  # rejected / conflict
    reasons: tuple[str, ...]  # "日本語 / English" each: the refused-rows file carries both
    cells: tuple[str, ...]
    ja: tuple[str, ...] = ()  # the same reasons in one language, for the screen
    en: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    file_name: str
    encoding: str = ""
    sha256: str = ""
    header: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    read: int = 0
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    victims_created: int = 0
    cases_created: int = 0
    amount_accepted_by_channel: dict[str, int] = field(
        default_factory=lambda: {c.value: 0 for c in Channel})
    batch_id: int | None = None
    dry_run: bool = False
    refused: list[RefusedRow] = field(default_factory=list)

    def as_json(self) -> dict:
        keys = ("file_name", "encoding", "sha256", "read", "accepted", "duplicate", "conflict",
                "rejected", "victims_created", "cases_created", "amount_accepted_by_channel",
                "unknown_columns", "batch_id", "dry_run")
        return {key: getattr(self, key) for key in keys}


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back after counting."""


@dataclass
class _NewVictim:
    row: tuple  # in _VICTIM_COLUMNS order
    id: int | None = None


@dataclass
class _CaseSlot:
    """A case this chunk adds incidents to (its claim is settled at the end of the file)."""

    id: int | None
    status: str
    new: tuple[int, str] | None = None  # (victim id, channel) of a case still to open


_VICTIM_COLUMNS = ("id", "member_id", "name", "name_kana", "name_key", "kana_key", "phone",
                   "phone_digits", "email", "email_key", "postal_code", "address",
                   "contact_received_at", "contact_changed_at", "created_at", "updated_at",
                   "version")
_CASE_COLUMNS = ("id", "case_number", "victim_id", "channel", "status", "claimed_amount",
                 "created_at", "updated_at", "version")
_INCIDENT_COLUMNS = ("case_id", "report_id", "content_hash", "content_digest", "occurred_at",
                     "amount", "card_issuer", "card_last4", "merchant", "note", "source",
                     "import_batch_id", "created_at")


def import_incidents(
    ctx: AppContext, actor: Actor, path: str | Path, *, mapping: dict[str, str] | None = None,
    dry_run: bool = False, on_refused: Callable[[RefusedRow], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportSummary:
    path = Path(path)
    now = ctx.clock.now()
    with ctx.db.read() as session:
        ceiling = settings.load(session).incident_ceiling
    source = read_incidents(path, now=now, mapping=mapping, ceiling=ceiling)
    summary = ImportSummary(file_name=path.name, encoding=source.encoding, sha256=source.sha256,
                            header=source.header, unknown_columns=source.unknown_columns,
                            dry_run=dry_run)
    try:
        with ctx.db.write() as session:
            run = _Run(session, confirmed_actor(session, actor), now, summary, on_refused)
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


def _located(error: RowError) -> tuple[str, str, str]:
    """(where, Japanese, English): the column a field's problem was found in, and why."""
    return (f"{error.column}: " if error.column else ""), error.ja, error.en


def _chunks(rows: Iterator[ParsedRow]) -> Iterator[list[ParsedRow]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


class _Run:
    """The state of one import while its transaction is open."""

    def __init__(self, session: Session, actor: Actor, now: datetime, summary: ImportSummary,
                 on_refused: Callable[[RefusedRow], None] | None) -> None:
        self.session, self.actor, self.now, self.summary = session, actor, now, summary
        # Core statements on the session's own connection: same transaction, no ORM cost.
        self.core = session.connection()
        self.on_refused = on_refused
        self.sampled = 0  # characters of the refused rows kept in the summary
        self.batch_id = 0
        self.victim_rows = BulkInsert(self.core, Victim.__table__, _VICTIM_COLUMNS)
        self.case_rows = BulkInsert(self.core, Case.__table__, _CASE_COLUMNS)
        self.incident_rows = BulkInsert(self.core, Incident.__table__, _INCIDENT_COLUMNS)
        self.claim_sql = driver_sql(self.core, (
            "UPDATE case_file SET claimed_amount = claimed_amount + ?, "
            "version = version + ?, updated_at = ? WHERE id = ?"))
        # The cases this import opened, in increasing id order (ids are reserved so):
        # 8 bytes a case, so that the end of the file can tell them from cases it grew.
        self.opened = array("q")
        self.stored_now = stored_value(self.core, Case.__table__.c.updated_at, now)
        self._new_chunk()

    def _new_chunk(self) -> None:
        """Everything earlier chunks wrote is in the database (same transaction), so
        the lookups below start afresh each chunk: memory stays flat with file size."""
        self.seen: dict[str, tuple[str, str]] = {}  # report_id -> (hash, digest), this chunk
        self.by_member: dict[str, int | _NewVictim] = {}
        self.by_name: dict[tuple[str, str], list[tuple[int | _NewVictim, str | None]]] = {}
        self.cases: dict[tuple[int, str], _CaseSlot] = {}
        self.placeholder_keys: list[tuple] = []  # index entries pointing at new victims

    # -- batch --------------------------------------------------------------
    def open_batch(self, path: Path) -> None:
        s = self.summary
        table = ImportBatch.__table__
        self.batch_id = self.core.execute(insert(table).returning(table.c.id), [dict(
            file_name=path.name, sha256=s.sha256, encoding=s.encoding,
            operator_id=self.actor.operator_id, created_at=self.now)]).scalar_one()
        s.batch_id = self.batch_id

    def take(self, chunk: list[ParsedRow]) -> None:
        self._new_chunk()
        self.summary.read += len(chunk)
        known = self._known_reports([r.record.report_id for r in chunk if r.ok])
        pending: list[tuple[ParsedRow, IncidentRecord, tuple[str, str]]] = []
        for row in chunk:
            content = self._sort_out(row, known)
            if content:
                pending.append((row, row.record, content))
        if pending:
            self._store(pending)

    def _known_reports(self, report_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        if not report_ids:
            return {}
        rows = self.session.execute(
            select(Incident.report_id, Incident.content_hash, Incident.content_digest)
            .where(Incident.report_id.in_(report_ids)))
        return {rid: (digest_hash, digest) for rid, digest_hash, digest in rows}

    def _sort_out(self, row: ParsedRow, known: dict) -> tuple[str, str] | None:
        """Count the row as rejected, duplicate or conflict; its (hash, digest) if new."""
        if not row.ok:
            self._refuse(row, "rejected", [_located(e) for e in row.errors])
            return None
        record = row.record
        content = fingerprint(record)
        earlier = self.seen.get(record.report_id) or known.get(record.report_id)
        if earlier is None:
            self.seen[record.report_id] = content
            return content
        if earlier[0] == content[0]:
            self.summary.duplicate += 1
            return None
        differing = digest_differences(earlier[1], content[1]) if earlier[1] else []
        named_ja = "、".join(LABELS_JA.get(name, name) for name in differing) or "内容"
        named_en = ", ".join(differing) or "content"
        self._refuse(row, "conflict", [(
            "", f"受付番号 {record.report_id} は既に異なる内容で登録されています（{named_ja}）。",
            f"Report {record.report_id} is already stored with different content ({named_en}).")])
        return None

    def _refuse(self, row: ParsedRow, outcome: str, reasons: list[tuple[str, str, str]]
                ) -> None:
        """``reasons`` as (where, Japanese, English); where is '' or 'column: '."""
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        refused = RefusedRow(row.line, outcome,
                             tuple(f"{where}{ja} / {en}" for where, ja, en in reasons),
                             row.cells, tuple(where + ja for where, ja, _en in reasons),
                             tuple(where + en for where, _ja, en in reasons))
        size = sum(map(len, row.cells))
        if len(self.summary.refused) < SAMPLE and self.sampled + size <= SAMPLE_CHARS:
            self.sampled += size
            self.summary.refused.append(refused)
        if self.on_refused:
            self.on_refused(refused)

    # -- grouping ---------------------------------------------------------------
    def _store(self, pending: list[tuple[ParsedRow, IncidentRecord, tuple[str, str]]]) -> None:
        self._load_victims([record for _row, record, _c in pending])
        victims = [self._victim_for(record) for _row, record, _c in pending]
        self._insert_new_victims(victims)
        victim_ids = [v if isinstance(v, int) else v.id for v in victims]
        self._load_cases(victim_ids)
        incidents = []
        for (row, record, content), victim_id in zip(pending, victim_ids, strict=True):
            slot = self._case_for(victim_id, record.channel)
            if Status(slot.status) in VERIFIED_OR_LATER:
                self.seen.pop(record.report_id, None)
                self._refuse(row, "rejected", [(
                    "",
                    "この被害者の案件は確認済以降のため追加できません。スーパーバイザーに相談してください。",
                    "The victim's case is verified or later: incidents can no longer be added.")])
                continue
            incidents.append((slot, record, content))
        self._insert_new_cases()
        self._insert_incidents(incidents)

    def _load_victims(self, records: list[IncidentRecord]) -> None:
        """Candidates for this chunk: same member ID, or same phone or e-mail (a name
        alone is never enough, and common names would fetch thousands of rows)."""
        members = {r.member_id for r in records if r.member_id}
        phones = {r.phone_digits for r in records if r.phone_digits}
        emails = {email_key(r.email) for r in records if r.email}
        columns = (Victim.id, Victim.member_id, Victim.name_key, Victim.kana_key,
                   Victim.phone_digits, Victim.email_key)
        found = {}
        # Separate indexed look-ups: an OR of them would scan the whole table.
        for column, values in ((Victim.member_id, members), (Victim.phone_digits, phones),
                               (Victim.email_key, emails)):
            if values:
                for row in self.core.execute(select(*columns).where(column.in_(values))).all():
                    found[row[0]] = row
        for victim_id, member, name_key, kana_key, phone, email in found.values():
            self._remember(victim_id, member, name_key, kana_key, phone, email)

    def _remember(self, victim: int | _NewVictim, member: str | None, name_key: str,
                  kana_key: str, phone: str, email: str) -> None:
        new = isinstance(victim, _NewVictim)
        if member and member not in self.by_member:
            self.by_member[member] = victim
            if new:
                self.placeholder_keys.append(("member", member))
        for key in {name_key, kana_key} - {""}:
            for contact in (f"p:{phone}" if phone else None, f"e:{email}" if email else None):
                if contact:
                    entries = self.by_name.setdefault((key, contact), [])
                    if all(existing is not victim for existing, _m in entries):
                        entries.append((victim, member))
                        if new:
                            self.placeholder_keys.append(("name", (key, contact)))

    def _victim_for(self, record: IncidentRecord) -> int | _NewVictim:
        """By member ID; else by name or kana with the same phone or e-mail."""
        if record.member_id and record.member_id in self.by_member:
            return self.by_member[record.member_id]
        keys = (search_key(record.name), search_key(record.name_kana))
        email = email_key(record.email)
        contacts = [f"p:{record.phone_digits}" if record.phone_digits else None,
                    f"e:{email}" if email else None]
        for key in filter(None, keys):
            for contact in filter(None, contacts):
                for victim, member in self.by_name.get((key, contact), []):
                    if not member or not record.member_id or member == record.member_id:
                        return victim
        new = _NewVictim(self._victim_row(record, keys, email))
        self._remember(new, record.member_id, keys[0], keys[1], record.phone_digits or "", email)
        return new

    def _victim_row(self, record: IncidentRecord, keys: tuple[str, str], email: str) -> tuple:
        """In _VICTIM_COLUMNS order, the id left to fill in."""
        return (None, record.member_id, record.name, record.name_kana, keys[0], keys[1],
                record.phone, record.phone_digits or "", record.email, email,
                record.postal_code, record.address, record.contact_received_at, None,
                self.now, self.now, 1)

    def _insert_new_victims(self, victims: list[int | _NewVictim]) -> None:
        new = list({id(v): v for v in victims if isinstance(v, _NewVictim) and v.id is None}
                   .values())
        if not new:
            return
        ids = reserve_ids(self.core, Victim.__table__, len(new))
        for victim, victim_id in zip(new, ids, strict=True):
            victim.id = victim_id
        self.victim_rows.run((v.id, *v.row[1:]) for v in new)
        self._replace_placeholders()
        self.summary.victims_created += len(new)
        self._audit_many("victim.create", "victim", [
            (v.id, None, {"name": v.row[2], "batch_id": self.batch_id}) for v in new])

    def _replace_placeholders(self) -> None:
        """Once inserted, new victims are known by their ids like any other."""
        for kind, key in self.placeholder_keys:
            if kind == "member":
                victim = self.by_member[key]
                if isinstance(victim, _NewVictim):
                    self.by_member[key] = victim.id
            else:
                self.by_name[key] = [(v.id if isinstance(v, _NewVictim) else v, m)
                                     for v, m in self.by_name[key]]
        self.placeholder_keys.clear()

    def _load_cases(self, victim_ids: list[int]) -> None:
        rows = self.core.execute(
            select(Case.id, Case.victim_id, Case.channel, Case.status, Case.merged_into_id)
            .where(Case.victim_id.in_(set(victim_ids)))).all()
        for case_id, victim_id, channel, status, merged_into in rows:
            if merged_into is not None:
                case_id, status = self.core.execute(
                    select(Case.id, Case.status).where(Case.id == merged_into)).one()
            self.cases[(victim_id, channel)] = _CaseSlot(case_id, status)

    def _case_for(self, victim_id: int, channel: Channel) -> _CaseSlot:
        key = (victim_id, channel.value)
        if key not in self.cases:
            self.cases[key] = _CaseSlot(None, Status.RECEIVED.value, new=(victim_id, channel.value))
        return self.cases[key]

    def _insert_new_cases(self) -> None:
        """Opened at no claim: the claim and the audit event wait for the end of the file
        (``_settle_cases``), when all the case's incidents are in."""
        new = [slot for slot in self.cases.values() if slot.id is None]
        if not new:
            return
        first = sequences.reserve(self.session, "case", len(new))
        ids = reserve_ids(self.core, Case.__table__, len(new))
        rows = []
        for offset, (slot, case_id) in enumerate(zip(new, ids, strict=True)):
            slot.id, (victim_id, channel) = case_id, slot.new
            rows.append((case_id, format_case_number(first + offset), victim_id, channel,
                         slot.status, 0, self.now, self.now, 1))
        self.case_rows.run(rows)
        if self.opened and min(ids) < self.opened[-1]:  # not seen: one increasing source
            self.opened = array("q", sorted([*self.opened, *ids]))
        else:
            self.opened.extend(sorted(ids))
        self.summary.cases_created += len(new)

    def _opened_here(self, case_id: int) -> bool:
        at = bisect_left(self.opened, case_id)
        return at < len(self.opened) and self.opened[at] == case_id

    def _insert_incidents(self, incidents: list[tuple[_CaseSlot, IncidentRecord, tuple[str, str]]]
                          ) -> None:
        if not incidents:
            return
        by_channel = self.summary.amount_accepted_by_channel
        rows = []
        for slot, r, (content_hash, digest) in incidents:
            rows.append((slot.id, r.report_id, content_hash, digest, r.occurred_at, r.amount,
                         r.card_issuer, r.card_last4, r.merchant, r.note, "import",
                         self.batch_id, self.now))
            by_channel[r.channel.value] += r.amount
        self.summary.accepted += self.incident_rows.run(rows)

    # -- closing --------------------------------------------------------------------
    def finish(self) -> None:
        self._settle_cases()
        s = self.summary
        self.core.execute(update(ImportBatch).where(ImportBatch.id == self.batch_id).values(
            rows_read=s.read, accepted=s.accepted, duplicate=s.duplicate, conflict=s.conflict,
            rejected=s.rejected, victims_created=s.victims_created,
            cases_created=s.cases_created,
            amount_accepted=sum(s.amount_accepted_by_channel.values())))
        audit.record(self.session, self.actor, self.now, "import.batch", "import_batch",
                     self.batch_id, after=s.as_json() | {"unknown_columns": s.unknown_columns})

    def _settle_cases(self) -> None:
        """Each case the file touched gets what its incidents add up to, one version step
        if it existed before, and one event: ``case.open`` with the whole claim for a case
        the file opened, ``import.incidents`` for one it grew."""
        touched = self.core.execute(
            select(Incident.case_id, func.sum(Incident.amount), func.count(),
                   Case.claimed_amount, Case.case_number, Case.channel)
            .join(Case, Case.id == Incident.case_id)
            .where(Incident.import_batch_id == self.batch_id)
            .group_by(Incident.case_id, Case.claimed_amount, Case.case_number, Case.channel)
            .order_by(Incident.case_id), execution_options={"stream_results": True})
        for part in touched.partitions(CHUNK):
            rows = [(*row, self._opened_here(row[0])) for row in part]
            self.core.exec_driver_sql(self.claim_sql, [
                (int(added), 0 if opened else 1, self.stored_now, case_id)
                for case_id, added, _n, _c, _num, _ch, opened in rows])
            self._audit_many("case.open", "case", [
                (case_id, None, {"case_number": number, "channel": channel, "source": "import",
                                 "batch_id": self.batch_id, "claimed_amount": int(added),
                                 "incidents_added": count})
                for case_id, added, count, _c, number, channel, opened in rows if opened],
                with_case=True)
            self._audit_many("import.incidents", "case", [
                (case_id, {"claimed_amount": claimed},
                 {"claimed_amount": claimed + int(added), "incidents_added": count,
                  "batch_id": self.batch_id})
                for case_id, added, count, claimed, _num, _ch, opened in rows if not opened],
                with_case=True)

    def _audit_many(self, action: str, entity: str, items: list[tuple], *,
                    with_case: bool = False) -> None:
        audit.append_many(self.session, [dict(
            at=self.now, operator_id=self.actor.operator_id, actor_login=self.actor.login,
            action=action, entity=entity, entity_id=entity_id,
            case_id=entity_id if with_case else None, before=audit.to_json(before),
            after=audit.to_json(after), reason=None) for entity_id, before, after in items])
