"""Reading the audit trail: verifying its chain, the viewer's pages, the auditor's export.

Nothing here changes an event: the trail is append-only (triggers in the
database refuse UPDATE and DELETE of a chained event).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from app.core.clock import JST, to_jst
from app.core.errors import UserError
from app.core.files import Staging
from app.domain.audit_chain import FIELDS, GENESIS, event_hash
from app.domain.roles import Actor, Role
from app.exports.csv_safe import open_safe_csv
from app.services import audit, audit_triggers
from app.services.context import AppContext, confirmed_actor, require_role
from app.services.second_factor import counting_step_up_failures, require_exporter
from app.storage.models import AuditEvent, AuditHead, Case

CHUNK = 5000


# -- verification ------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int  # events checked
    broken_seq: int | None = None  # the first event whose link does not hold
    broken_id: int | None = None
    problem_ja: str = ""
    problem_en: str = ""
    # The verified chain's hashes at the positions asked for (``watch``), and at seq 1.
    hashes: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def as_json(self) -> dict:
        return {"intact": self.intact, "count": self.count, "broken_seq": self.broken_seq,
                "broken_id": self.broken_id, "problem_ja": self.problem_ja,
                "problem_en": self.problem_en}


def _broken(count: int, seq: int | None, event_id: int | None, ja: str, en: str,
            hashes: dict[int, str] | None = None) -> ChainReport:
    return ChainReport(False, count, seq, event_id, ja, en, hashes or {})


def verify_chain(ctx: AppContext, watch: Collection[int] = ()) -> ChainReport:
    """Walk the chain in seq order, a page at a time, recomputing every hash; keep the
    hashes found at the positions in ``watch`` (checkpoints) and at seq 1."""
    table = AuditEvent.__table__
    columns = [table.c.id, table.c.prev_hash, table.c.hash] + [table.c[n] for n in FIELDS]
    expected_seq, last, count = 1, GENESIS, 0
    wanted, hashes = {1, *watch}, {}
    with ctx.db.read() as session:
        _one_snapshot(session)
        head = session.get(AuditHead, 1)
        unchained = session.execute(select(func.count()).select_from(table)
                                    .where(table.c.seq.is_(None))).scalar_one()
        after = 0
        while True:
            rows = session.execute(select(*columns).where(table.c.seq > after)
                                   .order_by(table.c.seq).limit(CHUNK)).mappings().all()
            if not rows:
                break
            for row in rows:
                problem = _check(row, expected_seq, last)
                if problem:
                    return _broken(count, row["seq"], row["id"], *problem, hashes)
                count += 1
                expected_seq, last = row["seq"] + 1, row["hash"]
                if expected_seq - 1 in wanted:
                    hashes[expected_seq - 1] = last
            after = rows[-1]["seq"]
        guards = audit_triggers.problems(session)
    report = _final(count, last, head, unchained, hashes)
    if report.intact and guards:
        ja = "監査記録の書き換え・削除を防ぐデータベースの仕組み（トリガー）が外されています: "
        en = "The database's append-only protection (its triggers) was removed or altered: "
        return _broken(count, None, None, ja + " ".join(g[0] for g in guards),
                       en + " ".join(g[1] for g in guards), hashes)
    return report


def _one_snapshot(session: Session) -> None:
    """On PostgreSQL, read the head and every page from one snapshot: a desk committing
    meanwhile must not look like a chain cut short. (SQLite's read transaction is one
    snapshot already.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _check(row, expected_seq: int, last: str) -> tuple[str, str] | None:
    seq = row["seq"]
    if seq != expected_seq:
        return (f"{expected_seq}番から{seq - 1}番の記録がありません（削除または並べ替え）。",
                f"Events {expected_seq} to {seq - 1} are missing (deleted or reordered).")
    if row["prev_hash"] != last:
        return (f"{seq}番の記録が前の記録とつながっていません（削除または並べ替え）。",
                f"Event {seq} does not link to the one before it (deleted or reordered).")
    if event_hash(dict(row), last) != row["hash"]:
        return (f"{seq}番の記録の内容が書き換えられています。",
                f"Event {seq} was altered after it was written.")
    return None


def _final(count: int, last: str, head: AuditHead | None, unchained: int,
           hashes: dict[int, str]) -> ChainReport:
    if unchained:
        return _broken(count, None, None,
                       f"鎖につながっていない記録が{unchained}件あります。",
                       f"{unchained} events are outside the chain.", hashes)
    if head is None:
        if count == 0:
            return ChainReport(True, 0)
        return _broken(count, None, None, "鎖の終端の記録がありません。",
                       "The chain's end marker is missing.", hashes)
    if head.seq != count or head.hash != last:
        return _broken(count, count + 1, None,
                       f"{count}番より後の記録が失われています（末尾の削除）。",
                       f"Events after {count} are missing (cut off the end).", hashes)
    return ChainReport(True, count, hashes=hashes)


# -- the viewer -----------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditFilter:
    case_number: str | None = None
    operator_login: str | None = None
    action: str | None = None  # a prefix: "case." matches every move
    day_from: date | None = None  # Japan days, inclusive
    day_to: date | None = None


@dataclass(frozen=True)
class AuditRow:
    seq: int | None
    at: datetime  # Japan time
    actor_login: str
    action: str
    entity: str
    entity_id: int | None
    case_number: str | None
    before: str | None
    after: str | None
    reason: str | None


def _jst_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JST)


def _filtered(flt: AuditFilter):
    stmt = (select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor_login, AuditEvent.action,
                   AuditEvent.entity, AuditEvent.entity_id, Case.case_number,
                   AuditEvent.before, AuditEvent.after, AuditEvent.reason)
            .select_from(AuditEvent).outerjoin(Case, Case.id == AuditEvent.case_id))
    if flt.case_number and flt.case_number.strip():
        stmt = stmt.where(Case.case_number == flt.case_number.strip().upper())
    if flt.operator_login and flt.operator_login.strip():
        stmt = stmt.where(AuditEvent.actor_login == flt.operator_login.strip())
    if flt.action and flt.action.strip():
        stmt = stmt.where(AuditEvent.action.startswith(flt.action.strip(), autoescape=True))
    if flt.day_from:
        stmt = stmt.where(AuditEvent.at >= _jst_start(flt.day_from))
    if flt.day_to:
        stmt = stmt.where(AuditEvent.at < _jst_start(flt.day_to + timedelta(days=1)))
    return stmt


def _viewer(session: Session, actor: Actor) -> Actor:
    actor = confirmed_actor(session, actor)
    require_role(actor, Role.SUPERVISOR, Role.ADMIN)
    return actor


def list_events(ctx: AppContext, actor: Actor, flt: AuditFilter, offset: int = 0,
                limit: int = 200) -> list[AuditRow]:
    """One page, newest first (the trail holds personal data: supervisors and admins)."""
    with ctx.db.read() as session:
        _viewer(session, actor)
        rows = session.execute(_filtered(flt).order_by(AuditEvent.id.desc())
                               .offset(offset).limit(limit)).all()
    return [AuditRow(r[0], to_jst(r[1]), *r[2:]) for r in rows]


def count_events(ctx: AppContext, actor: Actor, flt: AuditFilter) -> int:
    with ctx.db.read() as session:
        _viewer(session, actor)
        return session.execute(select(func.count()).select_from(
            _filtered(flt).subquery())).scalar_one()


def action_names(ctx: AppContext) -> list[str]:
    with ctx.db.read() as session:
        return list(session.execute(select(AuditEvent.action).distinct()
                                    .order_by(AuditEvent.action)).scalars())


# -- the auditor's export -----------------------------------------------------------------------
EXPORT_HEADER = ["seq", "日時(JST)", "操作者", "操作", "対象", "対象ID", "案件番号",
                 "変更前", "変更後", "理由", "hash"]


class ExportCancelled(UserError):
    def __init__(self) -> None:
        super().__init__("監査ログの書き出しを取り消しました。何も書き出していません。",
                         "The audit log export was cancelled: nothing was written.")


def export_events(ctx: AppContext, actor: Actor, out: str | Path, flt: AuditFilter, *,
                  second_factor: str | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None) -> int:
    """Write the filtered trail as CSV (UTF-8 with BOM, formulas neutralised), oldest
    first, a page at a time; the export is itself recorded. Returns the row count.
    The trail holds personal data: a supervisor or an administrator, with a fresh
    code checked in the transaction that records the export. The rows are written
    to a temporary file first (no write lock held meanwhile), which takes the
    target's name only once the code is accepted. ``progress`` hears (done, total)
    after each page of rows, and ``cancel`` is asked between them (app.services.progress):
    a cancelled export writes nothing and records nothing."""
    out = Path(out)
    with ctx.db.read() as session:
        actor = _viewer(session, actor)
    with Staging() as staging:  # owner-only, and no leftover after a crash
        temp = staging.new(out)
        with ctx.db.read() as session:
            written = _write_csv(session, temp, flt, progress, cancel)
        now = ctx.clock.now()
        with counting_step_up_failures(ctx, actor), ctx.db.write() as session:
            actor = require_exporter(session, actor, second_factor, now)
            audit.record(session, actor, now, "audit.export", "audit_event", None,
                         after={"rows": written, "file": out.name, "case": flt.case_number,
                                "operator": flt.operator_login, "action": flt.action,
                                "from": flt.day_from, "to": flt.day_to})
            staging.place(temp)  # before the commit: a failed commit is reported
    return written


def _write_csv(session: Session, out: Path, flt: AuditFilter,
               progress: Callable[[int, int], None] | None,
               cancel: Callable[[], bool] | None) -> int:
    stmt = _filtered(flt).add_columns(AuditEvent.hash, AuditEvent.id)
    written, after = 0, 0
    total = session.execute(select(func.count()).select_from(
        _filtered(flt).subquery())).scalar_one() if progress else 0
    with open_safe_csv(out) as writer:
        writer.row(EXPORT_HEADER)
        while True:
            if cancel is not None and cancel():
                raise ExportCancelled()  # the staged file goes; nothing was recorded
            rows = session.execute(stmt.where(AuditEvent.id > after)
                                   .order_by(AuditEvent.id).limit(CHUNK)).all()
            if not rows:
                return written
            for r in rows:
                writer.row([r[0], to_jst(r[1]).strftime("%Y-%m-%d %H:%M:%S"), *r[2:10], r[10]])
            written += len(rows)
            after = rows[-1][11]
            if progress:
                progress(written, max(total, written))
