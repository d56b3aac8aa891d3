"""The programme dashboard: every figure from SQL aggregates, never by loading cases.

One GROUP BY over the cases gives counts and yen by channel and state (at most
48 groups; the totals are summed from those groups). Payments per day, the
outreach progress and the deadline counts are one small aggregate each. The
deadline lists behind the counts are paged row queries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Date

from app.core.clock import JST, today_jst
from app.domain.channels import Channel, PayoutKind
from app.domain.checkpoint import Checkpoint
from app.domain.deadlines import (
    CREDIT_DEADLINE_STATUSES,
    credit_due_horizon,
    payment_late_cutoff,
    reminder_cutoff,
)
from app.domain.states import Status
from app.exports.csv_safe import open_safe_csv
from app.services import checkpoints, queue, settings
from app.services.context import AppContext
from app.storage.models import Case, Payment, PayoutDetail, Victim

NOT_OWED = (Status.REJECTED.value, Status.MERGED.value)
SETTLED = (Status.PAID.value, Status.CLOSED.value)
FIGURES = ("cases", "claimed", "verified", "approved", "paid", "outstanding")


@dataclass
class Money:
    cases: int = 0
    claimed: int = 0
    verified: int = 0
    approved: int = 0
    paid: int = 0
    outstanding: int = 0

    def add(self, other: Money) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Dashboard:
    as_of: datetime
    today: date
    victims: int
    totals: Money
    by_channel: dict[str, Money]
    by_status: dict[str, Money]
    public_victims: int
    public_total_yen: int
    paid_per_day: list[tuple[date, int, int]] = field(default_factory=list)
    outreach: dict[str, int] = field(default_factory=dict)
    deadlines: dict[str, int] = field(default_factory=dict)
    # Where the audit chain stood (signed when a key is configured): the printed
    # report remembers it outside the database.
    checkpoint: Checkpoint | None = None
    # An administrator let operators sign in without an authenticator code: shown
    # on the dashboard and its report, so that the weaker rule is never unnoticed.
    operator_second_factor_relaxed: bool = False

    @property
    def victims_difference(self) -> int:
        return self.victims - self.public_victims

    @property
    def claimed_difference(self) -> int:
        return self.totals.claimed - self.public_total_yen

    def to_json(self) -> dict:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["today"] = self.today.isoformat()
        data["paid_per_day"] = [{"day": d.isoformat(), "cases": n, "yen": y}
                                for d, n, y in self.paid_per_day]
        data["victims_difference"] = self.victims_difference
        data["claimed_difference"] = self.claimed_difference
        data["checkpoint"] = self.checkpoint.to_json() if self.checkpoint else None
        return data


def jst_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=JST)


def _owed_amount():
    """What is still to be paid on an open case: approved, else verified, else claimed."""
    open_case = and_(Case.status.not_in(NOT_OWED + SETTLED))
    value = func.coalesce(Case.approved_amount, Case.verified_amount, Case.claimed_amount)
    return func.sum(case((open_case, value), else_=0))


def _groups(session: Session) -> list[tuple[str, str, Money]]:
    stmt = select(
        Case.channel, Case.status, func.count(),
        func.sum(Case.claimed_amount), func.sum(Case.verified_amount),
        func.sum(Case.approved_amount), func.sum(Case.paid_amount), _owed_amount(),
    ).group_by(Case.channel, Case.status)
    out = []
    for channel, status, *numbers in session.execute(stmt).all():
        out.append((channel, status, Money(*(int(n or 0) for n in numbers))))
    return out


def _jst_day(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Tokyo", column), Date)
    return func.date(column, "+9 hours")


def paid_per_day(session: Session) -> list[tuple[date, int, int]]:
    day = _jst_day(session, Payment.paid_at).label("day")
    stmt = (select(day, func.count(), func.sum(Payment.amount))
            .group_by(day).order_by(day))
    rows = []
    for value, count, amount in session.execute(stmt).all():
        when = value if isinstance(value, date) else date.fromisoformat(str(value))
        rows.append((when, int(count), int(amount or 0)))
    return rows


def _count(session: Session, stmt) -> int:
    return int(session.execute(stmt).scalar_one())


def outreach_progress(session: Session, now: datetime,
                      status_counts: dict[str, int]) -> dict[str, int]:
    """Contacted (given the guidance, or further along), awaiting, unreachable."""
    awaiting = int(status_counts.get(Status.RECEIVED.value, 0))
    not_counted = (Status.RECEIVED.value, Status.UNREACHABLE.value, *NOT_OWED)
    contacted = sum(int(n) for s, n in status_counts.items() if s not in not_counted)
    # Driven from the few victims without contact details (indexed), not from every case.
    silent = select(Victim.id).where(Victim.contact_received_at.is_(None))
    # The state is tested in the sum, not the WHERE, so that no planner scans by state.
    no_contact = _count(session, select(func.coalesce(func.sum(
        case((Case.status == Status.RECEIVED.value, 1), else_=0)), 0))
        .where(Case.victim_id.in_(silent)))
    letter_due = _count(session, queue.letter_due_count_query())
    return {"contacted": contacted, "awaiting": awaiting, "no_contact": no_contact,
            "letter_due": letter_due,
            "unreachable": int(status_counts.get(Status.UNREACHABLE.value, 0))}


def _credit_base():
    return (select(func.count()).select_from(Case)
            .join(PayoutDetail, PayoutDetail.case_id == Case.id)
            .where(Case.channel == Channel.CREDIT_CHARGE.value,
                   PayoutDetail.kind == PayoutKind.CARD_CANCELLATION.value,
                   Case.status.in_([s.value for s in CREDIT_DEADLINE_STATUSES])))


def _documents_condition(today: date, days: int):
    cutoff = reminder_cutoff(today, days)
    # A contacted case's updated_at is when it entered contacted unless edited since:
    # an edit makes the reminder later, never earlier.
    return and_(Case.status == Status.CONTACTED.value,
                Case.updated_at < jst_start(cutoff + timedelta(days=1)))


def _payment_condition(today: date, business_days: int):
    cutoff = payment_late_cutoff(today, business_days)
    return and_(Case.status == Status.APPROVED.value,
                Case.approved_at < jst_start(cutoff + timedelta(days=1)))


def deadline_counts(session: Session, today: date, loaded=None) -> dict[str, int]:
    loaded = loaded or settings.load(session)
    horizon = credit_due_horizon(today, loaded.credit_due_business_days)
    billing = PayoutDetail.billing_confirmation_date
    # Overdue and due in one pass over the credit cases up to the horizon.
    overdue, due = session.execute(
        _credit_base().with_only_columns(
            func.coalesce(func.sum(case((billing < today, 1), else_=0)), 0),
            func.coalesce(func.sum(case((billing >= today, 1), else_=0)), 0))
        .where(billing <= horizon)).one()
    return {
        "credit_overdue": int(overdue),
        "credit_due": int(due),
        "documents_reminder": _count(session, select(func.count()).select_from(Case).where(
            _documents_condition(today, loaded.documents_reminder_days))),
        "payment_late": _count(session, select(func.count()).select_from(Case).where(
            _payment_condition(today, loaded.payment_late_business_days))),
    }


def dashboard(ctx: AppContext) -> Dashboard:
    now = ctx.clock.now()
    today = today_jst(ctx.clock)
    with ctx.db.read() as session:
        loaded = settings.load(session)
        groups = _groups(session)
        by_channel = {c.value: Money() for c in Channel}
        by_status = {s.value: Money() for s in Status}
        totals = Money()
        for channel, status, money in groups:
            by_channel.setdefault(channel, Money()).add(money)
            by_status.setdefault(status, Money()).add(money)
            totals.add(money)
        return Dashboard(
            as_of=now, today=today,
            victims=_count(session, select(func.count()).select_from(Victim)),
            totals=totals, by_channel=by_channel, by_status=by_status,
            public_victims=loaded.programme_victims,
            public_total_yen=loaded.programme_total_yen,
            paid_per_day=paid_per_day(session),
            outreach=outreach_progress(session, now,
                                       {k: m.cases for k, m in by_status.items()}),
            deadlines=deadline_counts(session, today, loaded),
            checkpoint=checkpoints.current(session, ctx, checkpoints.configured_private_key()),
            operator_second_factor_relaxed=loaded.operator_second_factor == "relaxed",
        )


@dataclass(frozen=True)
class DeadlineRow:
    case_id: int
    case_number: str
    name: str
    channel: Channel
    status: Status
    since: datetime | date | None
    amount: int


DEADLINE_LISTS = ("credit_overdue", "credit_due", "documents_reminder", "payment_late")


def deadline_list(ctx: AppContext, which: str, offset: int = 0,
                  limit: int = 500) -> list[DeadlineRow]:
    """The cases behind one deadline count, oldest first."""
    if which not in DEADLINE_LISTS:
        raise ValueError(which)
    today = today_jst(ctx.clock)
    with ctx.db.read() as session:
        loaded = settings.load(session)
        base = select(Case.id, Case.case_number, Victim.name, Case.channel, Case.status)
        base = base.join(Victim, Victim.id == Case.victim_id)
        if which.startswith("credit"):
            billing = PayoutDetail.billing_confirmation_date
            horizon = credit_due_horizon(today, loaded.credit_due_business_days)
            when = (billing < today) if which == "credit_overdue" else and_(
                billing >= today, billing <= horizon)
            stmt = (base.add_columns(billing, Case.claimed_amount)
                    .join(PayoutDetail, PayoutDetail.case_id == Case.id)
                    .where(_credit_base().whereclause, when).order_by(billing, Case.id))
        elif which == "documents_reminder":
            stmt = (base.add_columns(Case.updated_at, Case.claimed_amount)
                    .where(_documents_condition(today, loaded.documents_reminder_days))
                    .order_by(Case.updated_at, Case.id))
        else:
            stmt = (base.add_columns(Case.approved_at, Case.approved_amount)
                    .where(_payment_condition(today, loaded.payment_late_business_days))
                    .order_by(Case.approved_at, Case.id))
        rows = session.execute(stmt.offset(offset).limit(limit)).all()
        return [DeadlineRow(case_id=r[0], case_number=r[1], name=r[2], channel=Channel(r[3]),
                            status=Status(r[4]), since=r[5], amount=int(r[6] or 0))
                for r in rows]


def write_csv(board: Dashboard, path) -> None:
    """Every figure into a CSV that opens safely in Excel."""
    with open_safe_csv(path) as writer:
        for row in figure_rows(board):
            writer.row(row)


def figure_rows(board: Dashboard) -> list[list[object]]:
    """Every figure as rows for CSV: section, key, then the numbers."""
    rows: list[list[object]] = [["section", "key", *FIGURES]]
    rows.append(["total", "all", *(getattr(board.totals, n) for n in FIGURES)])
    for channel, money in board.by_channel.items():
        rows.append(["channel", channel, *(getattr(money, n) for n in FIGURES)])
    for status, money in board.by_status.items():
        rows.append(["status", status, *(getattr(money, n) for n in FIGURES)])
    rows.append(["programme", "victims", board.victims, "", "", "", "", ""])
    rows.append(["programme", "public_victims", board.public_victims, "", "", "", "", ""])
    rows.append(["programme", "victims_difference", board.victims_difference,
                 "", "", "", "", ""])
    rows.append(["programme", "public_total_yen", "", board.public_total_yen,
                 "", "", "", ""])
    rows.append(["programme", "claimed_difference", "", board.claimed_difference,
                 "", "", "", ""])
    for key, value in board.outreach.items():
        rows.append(["outreach", key, value, "", "", "", "", ""])
    for key, value in board.deadlines.items():
        rows.append(["deadline", key, value, "", "", "", "", ""])
    for day, count, amount in board.paid_per_day:
        rows.append(["paid_per_day", day.isoformat(), count, "", "", "", amount, ""])
    rule = "relaxed" if board.operator_second_factor_relaxed else "required"
    rows.append(["security", "operator_second_factor", rule, "", "", "", "", ""])
    return rows


def write_pdf(board: Dashboard, path) -> None:
    """The dashboard as a printable PDF report."""
    from app.exports.dashboard_pdf import write_pdf as render

    render(board, path)
