"""Importing a reported-incident file: planned outside any write, written in one go.

Two steps. The plan reads, checks and groups the whole file with reads only
(a dry run is the plan alone): which rows are accepted, duplicate, conflict or
rejected, which victims and cases to register, what each case's claim grows by;
the rules are the phone intake's (app.domain.intake_rules). Then one short write
transaction re-checks what the plan read from the database and writes the
prepared rows (app.services.import_write). Another desk writes freely while the
file is read; all or nothing stays: a refusal late in the file, a cancel, a
crash leave the database as it was.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.core.errors import ChangedMeanwhile, UserError
from app.domain.channels import Channel
from app.domain.intake_rules import CaseBook, NewVictim, Person, VictimMatcher
from app.domain.roles import Actor
from app.domain.text import email_key
from app.importers.columns import LABELS_JA
from app.importers.incident_csv import (
    IncidentFile,
    IncidentRecord,
    ParsedRow,
    RowError,
    digest_differences,
    fingerprint,
    read_incidents,
)
from app.services import settings
from app.services.context import AppContext, confirmed_actor
from app.storage.bulk import driver_rows, driver_sql
from app.storage.models import Case

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


# Re-plans when another desk changed what the plan read, before the import is refused.
REPLANS = 2


def import_incidents(
    ctx: AppContext, actor: Actor, path: str | Path, *, mapping: dict[str, str] | None = None,
    dry_run: bool = False, on_refused: Callable[[RefusedRow], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportSummary:
    from app.services import import_write  # the writer uses this module's plan

    path = Path(path)
    now = ctx.clock.now()
    with ctx.db.read() as session:
        actor = confirmed_actor(session, actor)
        ceiling = settings.load(session).incident_ceiling
    source = read_incidents(path, now=now, mapping=mapping, ceiling=ceiling)
    for _attempt in range(REPLANS + 1):
        with tempfile.TemporaryFile() as spool:
            plan = make_plan(ctx, source, path, now, dry_run, spool, progress, cancel)
            if not dry_run:
                try:
                    with ctx.db.write() as session:
                        import_write.write(session, actor, plan, cancel)
                except import_write.PlanStale:
                    continue
            _replay(spool, on_refused)
            return plan.summary
    raise ChangedMeanwhile(
        "取込の間に他の端末が同じ被害者や受付番号を登録・変更しました。もう一度取り込んでください。",
        "Another desk registered or changed the same victims or reports during the import; "
        "import the file again.")


def _replay(spool: IO[bytes], on_refused: Callable[[RefusedRow], None] | None) -> None:
    """The refused rows of the plan that was written, in file order."""
    if on_refused is None:
        return
    spool.seek(0)
    while True:
        try:
            rows = pickle.load(spool)
        except EOFError:
            return
        for row in rows:
            on_refused(row)


Chunk = list[tuple[ParsedRow, tuple[str, str] | None]]  # rows with their fingerprints


def _chunks(rows: Iterator[ParsedRow]) -> Iterator[Chunk]:
    while part := list(islice(rows, CHUNK)):
        yield [(row, fingerprint(row.record) if row.ok else None) for row in part]


def _located(error: RowError) -> tuple[str, str, str]:
    """(where, Japanese, English): the column a field's problem was found in, and why."""
    return (f"{error.column}: " if error.column else ""), error.ja, error.en


@dataclass
class Lookups:
    """What the plan read from the database, and the keys it asked by: the writer asks
    again under its lock, and an answer that changed means the plan is stale."""

    report_ids: list[str] = field(default_factory=list)
    reports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    victims: dict[int, tuple] = field(default_factory=dict)
    victim_ids: set[int] = field(default_factory=set)
    cases: dict[tuple[int, str], tuple[int, str, str]] = field(default_factory=dict)


# Incident values in the writer's column order, after case_id: the plan's rows.
INCIDENT_VALUES = ("report_id", "content_hash", "content_digest", "occurred_at", "amount",
                   "card_issuer", "card_last4", "merchant", "note")


@dataclass
class Plan:
    summary: ImportSummary
    path: Path
    now: datetime
    victims: list[NewVictim] = field(default_factory=list)
    book: CaseBook = field(default_factory=CaseBook)
    incidents: list[tuple] = field(default_factory=list)  # (CaseSlot, *INCIDENT_VALUES)
    lookups: Lookups = field(default_factory=Lookups)


def make_plan(ctx: AppContext, source: IncidentFile, path: Path, now: datetime, dry_run: bool,
              spool: IO[bytes], progress: Callable[[int, int], None] | None,
              cancel: Callable[[], bool] | None) -> Plan:
    """Read the whole file and decide every row, with reads only."""
    summary = ImportSummary(file_name=path.name, encoding=source.encoding, sha256=source.sha256,
                            header=source.header, unknown_columns=source.unknown_columns,
                            dry_run=dry_run)
    plan = Plan(summary, path, now)
    with ctx.db.read() as session:
        planner = _Planner(session.connection(), plan, spool)
        for chunk in _chunks(iter(source)):
            if cancel and cancel():
                raise ImportCancelled
            planner.take(chunk)
            if progress:
                progress(source.bytes_read, source.size)
        planner.flush_refused()
    summary.victims_created = len(plan.victims)
    summary.cases_created = len(plan.book.opened())
    return plan


def rows_in(core: Connection, sql: str, values: list) -> list[tuple]:
    """``sql`` (ending in IN) for these values: driver SQL, since compiling an
    expanding IN of a thousand values costs more than the look-up itself. No values,
    no rows (and no query); more than CHUNK values are asked CHUNK at a time."""
    if len(values) > CHUNK:
        return [row for at in range(0, len(values), CHUNK)
                for row in rows_in(core, sql, values[at:at + CHUNK])]
    if not values:
        return []
    markers = ", ".join(["?"] * len(values))
    return driver_rows(core, driver_sql(core, f"{sql} ({markers})"), tuple(values))


def read_reports(core: Connection, report_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    if not report_ids:
        return {}
    rows = rows_in(core, "SELECT report_id, content_hash, content_digest FROM incident "
                          "WHERE report_id IN", report_ids)
    return {rid: (digest_hash, digest) for rid, digest_hash, digest in rows}


def read_victims(core: Connection, members: set[str], phones: set[str], emails: set[str]
                 ) -> dict[int, tuple]:
    """Candidates: same member ID, or same phone or e-mail (a name alone is never
    enough, and common names would fetch thousands of rows)."""
    found: dict[int, tuple] = {}
    # Separate indexed look-ups: an OR of them would scan the whole table.
    for column, values in (("member_id", members), ("phone_digits", phones),
                           ("email_key", emails)):
        values = sorted(values)
        for at in range(0, len(values), CHUNK):
            for row in rows_in(core, "SELECT id, member_id, name_key, kana_key, phone_digits, "
                                      f"email_key FROM victim WHERE {column} IN",
                                values[at:at + CHUNK]):
                found[row[0]] = row
    return found


def read_cases(core: Connection, victim_ids: set[int], *, lock: bool = False
               ) -> dict[tuple[int, str], tuple[int, str, str]]:
    """(victim, channel) -> (id, status, number) of the case an incident would go to,
    merges followed. ``lock``: held until the transaction ends (PostgreSQL)."""
    found: dict[tuple[int, str], tuple[int, str, str]] = {}
    ids = sorted(victim_ids)
    columns = (Case.id, Case.victim_id, Case.channel, Case.status, Case.case_number,
               Case.merged_into_id)
    for at in range(0, len(ids), CHUNK):
        query = select(*columns).where(Case.victim_id.in_(ids[at:at + CHUNK]))
        for case_id, victim_id, channel, status, number, merged in core.execute(
                query.with_for_update() if lock else query).all():
            while merged is not None:
                query = select(*columns).where(Case.id == merged)
                case_id, _v, _c, status, number, merged = core.execute(
                    query.with_for_update() if lock else query).one()
            found[(victim_id, channel)] = (case_id, status, number)
    return found


class _Planner:
    """Decides each chunk of rows; everything it learns stays for the rest of the file."""

    def __init__(self, core: Connection, plan: Plan, spool: IO[bytes]) -> None:
        self.core, self.plan, self.summary, self.spool = core, plan, plan.summary, spool
        self.seen: dict[str, tuple[str, str]] = {}  # report_id -> (hash, digest) in the file
        self.matcher = VictimMatcher()
        self.registered: set[NewVictim] = set()
        self.sampled = 0  # characters of the refused rows kept in the summary
        self.refused: list[RefusedRow] = []  # waiting to go to the spool

    def take(self, chunk: Chunk) -> None:
        self.summary.read += len(chunk)
        known = self._known_reports([row for row, _content in chunk])
        pending = []
        for row, content in chunk:
            if self._sort_out(row, content, known):
                pending.append((row, row.record, content))
        if pending:
            self._group(pending)
        self.flush_refused()

    def _known_reports(self, chunk: list[ParsedRow]) -> dict[str, tuple[str, str | None]]:
        asked = list({r.record.report_id for r in chunk
                      if r.ok and r.record.report_id not in self.seen})
        known = read_reports(self.core, asked)
        self.plan.lookups.report_ids.extend(asked)
        self.plan.lookups.reports.update(known)
        return known

    def _sort_out(self, row: ParsedRow, content: tuple[str, str] | None, known: dict) -> bool:
        """Count the row as rejected, duplicate or conflict; True if it is new.
        ``content``: its (hash, digest)."""
        if not row.ok:
            self._refuse(row, "rejected", [_located(e) for e in row.errors])
            return False
        record = row.record
        earlier = self.seen.get(record.report_id) or known.get(record.report_id)
        if earlier is None:
            self.seen[record.report_id] = content
            return True
        if earlier[0] == content[0]:
            self.summary.duplicate += 1
            return False
        differing = digest_differences(earlier[1], content[1]) if earlier[1] else []
        named_ja = "、".join(LABELS_JA.get(name, name) for name in differing) or "内容"
        named_en = ", ".join(differing) or "content"
        self._refuse(row, "conflict", [(
            "", f"受付番号 {record.report_id} は既に異なる内容で登録されています（{named_ja}）。",
            f"Report {record.report_id} is already stored with different content ({named_en}).")])
        return False

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
        self.refused.append(refused)

    def flush_refused(self) -> None:
        """Refused rows wait on disk: they go to on_refused once the import stands."""
        if self.refused:
            pickle.dump(self.refused, self.spool, protocol=pickle.HIGHEST_PROTOCOL)
            self.refused = []

    # -- grouping: the intake's rules ------------------------------------------------
    def _group(self, pending: list[tuple[ParsedRow, IncidentRecord, tuple[str, str]]]) -> None:
        now, book, plan = self.plan.now, self.plan.book, self.plan
        self._load_victims([record for _row, record, _c in pending])
        victims = []
        for _row, record, _c in pending:
            victim = self.matcher.victim_for(_person(record), now)
            if isinstance(victim, NewVictim) and victim not in self.registered:
                self.registered.add(victim)
                plan.victims.append(victim)
            victims.append(victim)
        self._load_cases({v for v in victims if isinstance(v, int)})
        by_channel = self.summary.amount_accepted_by_channel
        for (row, record, content), victim in zip(pending, victims, strict=True):
            slot, refused = book.take(victim, record.channel, record.amount)
            if refused:
                self.seen.pop(record.report_id, None)
                self._refuse(row, "rejected", [("", *refused)])
                continue
            plan.incidents.append((slot, record.report_id, *content, record.occurred_at,
                                   record.amount, record.card_issuer, record.card_last4,
                                   record.merchant, record.note))
            by_channel[record.channel.value] += record.amount
            self.summary.accepted += 1

    def _load_victims(self, records: list[IncidentRecord]) -> None:
        lookups = self.plan.lookups
        members = {r.member_id for r in records if r.member_id} - lookups.members
        phones = {r.phone_digits for r in records if r.phone_digits} - lookups.phones
        emails = {email_key(r.email) for r in records if r.email} - lookups.emails - {""}
        lookups.members |= members
        lookups.phones |= phones
        lookups.emails |= emails
        found = read_victims(self.core, members, phones, emails)
        for victim_id, row in sorted(found.items()):
            if victim_id not in lookups.victims:
                lookups.victims[victim_id] = row
                self.matcher.know(*row)

    def _load_cases(self, victim_ids: set[int]) -> None:
        lookups = self.plan.lookups
        asked = victim_ids - lookups.victim_ids
        if not asked:
            return
        lookups.victim_ids |= asked
        found = read_cases(self.core, asked)
        lookups.cases.update(found)
        for (victim_id, channel), (case_id, status, number) in found.items():
            self.plan.book.know(victim_id, channel, case_id, status, number)


def _person(record: IncidentRecord) -> Person:
    return Person(name=record.name, name_kana=record.name_kana, member_id=record.member_id,
                  phone=record.phone, email=record.email, postal_code=record.postal_code,
                  address=record.address, contact_received_at=record.contact_received_at,
                  digits=record.phone_digits or "")
