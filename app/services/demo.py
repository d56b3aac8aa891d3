"""The demo programme: synthetic but realistic, as things stood on 26 August 2019.

By default exactly 808 victims and 38,615,473 yen of incidents (the public
figures); ``victims`` scales it up to a million for benchmarks. Every history
is checked against the workflow rules as it is generated, so the demo never
shows a case that the real program could not have produced. Rows go in with
Core executemany (ORM adds would take minutes at a million victims).
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, text
from sqlmodel import select

from app.core.clock import JST, DemoClock, FixedClock, jst_datetime
from app.core.errors import UserError
from app.core.paths import resources_dir
from app.domain.case_number import format_case_number
from app.domain.channels import Channel, PayoutKind
from app.domain.roles import SYSTEM_ACTOR, Actor, Role
from app.domain.states import Status
from app.domain.text import email_key, phone_digits, search_key
from app.domain.workflow import CaseFacts, Circumstances, check_move
from app.services import audit, settings
from app.services.context import AppContext
from app.services.demo_rails import DemoRails, release_time
from app.services.operators import DEMO_PASSWORD, hash_password
from app.storage.models import (
    AuditEvent,
    Case,
    Counter,
    Incident,
    Operator,
    OutreachAttempt,
    Payment,
    PayoutDetail,
    PayoutList,
    PayoutRequest,
    RefundBatch,
    RefundItem,
    Victim,
)

PUBLIC_VICTIMS = 808
PUBLIC_TOTAL = 38_615_473
# The moment the demo's history stands at, and where the demo's clock starts.
AS_OF = DemoClock.START
OUTREACH_START = date(2019, 8, 19)
CHUNK = 20_000

DEMO_STAFF = (
    ("admin", "管理 花子", Role.ADMIN),
    ("sato", "佐藤 恵子", Role.SUPERVISOR),
    ("kimura", "木村 誠", Role.SUPERVISOR),
    ("tanaka", "田中 翔太", Role.OPERATOR),
    ("ito", "伊藤 美咲", Role.OPERATOR),
    ("yamada", "山田 健太", Role.OPERATOR),
)

# How cases stood a week after outreach began, by channel: (final state, weight).
_SPREAD = {
    Channel.CREDIT_CHARGE: [("paid", 45), ("payout_requested", 33), ("approved", 8),
                            ("verified", 4), ("documents_received", 5), ("on_hold", 3),
                            ("rejected", 2)],
    Channel.DEBIT_CHARGE: [("closed", 10), ("paid", 48), ("payout_requested", 15),
                           ("approved", 10), ("verified", 5), ("documents_received", 6),
                           ("on_hold", 4), ("rejected", 2)],
    Channel.NANACO_CHARGE: [("received", 42), ("contacted", 30), ("documents_received", 11),
                            ("verified", 5), ("approved", 2), ("unreachable", 4),
                            ("on_hold", 4), ("rejected", 2)],
}
_SPREAD[Channel.UNAUTHORIZED_USE] = _SPREAD[Channel.NANACO_CHARGE]

_PATH = ["contacted", "documents_received", "verified", "approved", "payout_requested",
         "paid", "closed"]
_SUPERVISOR_MOVES = {"approved", "rejected"}


@dataclass
class DemoResult:
    victims: int = 0
    cases: int = 0
    incidents: int = 0
    claimed_total: int = 0
    staff: list[tuple[str, str, str]] = field(default_factory=list)
    refund_members: int = 0
    refund_applications: int = 0


def _names() -> dict:
    with open(resources_dir() / "demo" / "names.toml", "rb") as handle:
        return tomllib.load(handle)


def path_to(final: str, channel: Channel, rng: random.Random) -> list[str]:
    """The states a case passed through (after received) to reach ``final``."""
    if final == "received":
        return []
    if final in _PATH:
        return _PATH[: _PATH.index(final) + 1]
    if final == "unreachable":
        return ["unreachable"]
    base = _PATH[: rng.randint(0, 2)]
    if final == "rejected":
        return [*base, "rejected"]
    return [*base, "on_hold"]  # on_hold


class _Ids:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def next(self, name: str) -> int:
        self.values[name] = self.values.get(name, 0) + 1
        return self.values[name]


class _Writer:
    """Buffers rows per table; writes them with executemany, parents first."""

    ORDER = (Victim, Case, Incident, PayoutDetail, OutreachAttempt, RefundBatch, PayoutList,
             RefundItem, PayoutRequest, Payment, AuditEvent)

    def __init__(self, session) -> None:
        self.session = session
        self.buffers: dict[type, list[dict]] = {model: [] for model in self.ORDER}
        self.pending = 0

    def add(self, model: type, row: dict) -> None:
        self.buffers[model].append(row)
        self.pending += 1

    def maybe_flush(self) -> None:
        """Called between victims only: a victim's rows are then all buffered together."""
        if self.pending >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for model in self.ORDER:
            rows = self.buffers[model]
            if rows:
                if model is AuditEvent:  # chained as written: nothing to read back later
                    audit.chain_rows(self.session, rows)
                self.session.execute(insert(model), rows)
                rows.clear()
        self.pending = 0


@dataclass
class _Plan:
    """One victim's cases before they are written: channel -> incident amounts."""

    channels: dict[Channel, list[int]]


class DemoBuilder:
    def __init__(self, victims: int, seed: int, progress: Callable[[int, int], None] | None):
        if not 1 <= victims <= 1_000_000:
            raise UserError("被害者数は1〜1,000,000で指定してください。",
                            "--victims must be between 1 and 1,000,000.")
        self.count = victims
        self.rng = random.Random(seed)
        self.names = _names()
        self.progress = progress
        self.target = round(PUBLIC_TOTAL * victims / PUBLIC_VICTIMS)
        self.ids = _Ids()
        self.staff: dict[Role, list[Actor]] = {}
        self.payouts: dict[int, dict] = {}  # case id -> its payout details, while written
        self.rails: DemoRails | None = None

    # -- amounts ---------------------------------------------------------
    def plans(self) -> list[_Plan]:
        plans = [self._plan() for _ in range(self.count)]
        self._hit_target(plans)
        return plans

    def _plan(self) -> _Plan:
        rng = self.rng
        first = rng.choices(list(Channel), weights=[38, 10, 27, 25])[0]
        chosen = [first]
        if rng.random() < 0.12:
            chosen.append(rng.choice([c for c in Channel if c is not first]))
        channels = {}
        for channel in chosen:
            n = rng.choices([1, 2, 3, 4], weights=[62, 25, 9, 4])[0]
            channels[channel] = [self._amount(channel) for _ in range(n)]
        return _Plan(channels)

    def _amount(self, channel: Channel) -> int:
        if channel is Channel.UNAUTHORIZED_USE:
            return self.rng.randint(300, 60_000)
        return self.rng.choices([1_000, 3_000, 5_000, 10_000, 20_000, 30_000, 50_000],
                                weights=[6, 8, 14, 26, 22, 14, 10])[0]

    def _hit_target(self, plans: list[_Plan]) -> None:
        """Scale the unauthorised-use amounts (free-form sums) to hit the total exactly."""
        fixed = sum(sum(a) for p in plans for c, a in p.channels.items()
                    if c is not Channel.UNAUTHORIZED_USE)
        free = [(p, i) for p in plans for i, _ in
                enumerate(p.channels.get(Channel.UNAUTHORIZED_USE, []))]
        if not free or fixed >= self.target:
            self._hit_by_spreading(plans)
            return
        free_sum = sum(p.channels[Channel.UNAUTHORIZED_USE][i] for p, i in free)
        factor = (self.target - fixed) / free_sum
        for plan, i in free:
            amounts = plan.channels[Channel.UNAUTHORIZED_USE]
            amounts[i] = max(1, min(1_000_000, round(amounts[i] * factor)))
        self._hit_by_spreading(plans)

    def _hit_by_spreading(self, plans: list[_Plan]) -> None:
        """Move the last few yen of difference onto individual incidents."""
        amounts = [a for p in plans for a in p.channels.values()]
        diff = self.target - sum(sum(a) for a in amounts)
        index = 0
        while diff:
            row = amounts[index % len(amounts)]
            slot = index // len(amounts) % len(row) if row else 0
            step = max(-(row[slot] - 1), min(diff, 1_000_000 - row[slot]))
            row[slot] += step
            diff -= step
            index += 1

    # -- people ------------------------------------------------------------
    def person(self, number: int) -> dict:
        rng, names = self.rng, self.names
        surname, surname_kana = rng.choice(names["surnames"])
        given, given_kana = rng.choice(names["given"])
        postal, town = rng.choice(names["places"])
        name, kana = f"{surname} {given}", f"{surname_kana} {given_kana}"
        phone = f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        email = f"user{number:07d}@example.jp" if rng.random() < 0.6 else None
        if rng.random() < 0.04:
            phone = None
            email = email or f"user{number:07d}@example.jp"
        address = f"{town}{rng.randint(1, 5)}丁目{rng.randint(1, 20)}番{rng.randint(1, 15)}号"
        contact = date(2019, 7, 5) + timedelta(days=rng.randint(0, 42))
        return dict(
            member_id=f"7i{rng.randint(10**9, 10**10 - 1)}" if rng.random() < 0.8 else None,
            name=name, name_kana=kana, name_key=search_key(name), kana_key=search_key(kana),
            phone=phone, phone_digits=phone_digits(phone), email=email,
            email_key=email_key(email), postal_code=postal, address=address,
            contact_received_at=contact, contact_changed_at=None,
        )

    # -- histories -----------------------------------------------------------
    def actor(self, role: Role) -> Actor:
        return self.rng.choice(self.staff[role])

    def step_times(self, channel: Channel, created: datetime, steps: int) -> list[datetime]:
        start = created + timedelta(days=1)
        if channel.guided_from_outreach_date:
            start = max(start, jst_datetime(2019, 8, 19, 9, 0))
        span = int((AS_OF - start).total_seconds()) - 3600
        return sorted(start + timedelta(seconds=self.rng.randint(0, span)) for _ in range(steps))

    def write_case(self, out: _Writer, victim_id: int, channel: Channel, amounts: list[int],
                   created: datetime, person: dict) -> None:
        rng = self.rng
        case_id = self.ids.next("case")
        final = rng.choices(*zip(*_SPREAD[channel], strict=True))[0]
        path = path_to(final, channel, rng)
        times = self.step_times(channel, created, len(path))
        if "payout_requested" in path:  # released with a batch or list, in the morning
            k = path.index("payout_requested")
            times[k] = release_time(times[k - 1], times[k + 1] if k + 1 < len(times) else AS_OF)
        last4 = f"{rng.randint(0, 9999):04d}"
        issuer = rng.choice(self.names["card_issuers"])
        case = dict(id=case_id, case_number=format_case_number(case_id), victim_id=victim_id,
                    channel=channel.value, status="received", held_from=None,
                    claimed_amount=sum(amounts), verified_amount=None, approved_amount=None,
                    paid_amount=None, verified_by=None, verified_at=None, approved_by=None,
                    approved_at=None, amount_override_reason=None, status_reason=None,
                    merged_into_id=None, created_at=created, updated_at=created, version=1,
                    payout_rail=None)
        importer = self.staff[Role.OPERATOR][0]
        for amount in amounts:
            incident_id = self.ids.next("incident")
            occurred = jst_datetime(2019, 7, rng.randint(1, 4), rng.randint(0, 23),
                                    rng.randint(0, 59))
            card = channel in (Channel.CREDIT_CHARGE, Channel.DEBIT_CHARGE)
            out.add(Incident, dict(
                id=incident_id, case_id=case_id, report_id=f"R2019-{incident_id:08d}",
                content_hash=f"demo-{incident_id}", occurred_at=occurred, amount=amount,
                card_issuer=issuer if card else None, card_last4=last4 if card else None,
                merchant=rng.choice(self.names["merchants"]), note=None, source="demo",
                import_batch_id=None, created_at=created))
        self.event(out, importer, created, "case.open", case_id, None,
                   {"case_number": case["case_number"], "channel": channel.value,
                    "claimed_amount": case["claimed_amount"], "incidents": len(amounts)})
        details = dict(issuer=issuer, last4=last4, person=person)
        for target, at in zip(path, times, strict=True):
            self.apply_step(out, case, channel, Status(target), at, details)
        out.add(Case, case)
        self.payouts.pop(case_id, None)

    def event(self, out: _Writer, actor: Actor, at: datetime, action: str, case_id: int,
              before: dict | None, after: dict | None, reason: str | None = None) -> None:
        out.add(AuditEvent, dict(
            id=self.ids.next("audit"), at=at, operator_id=actor.operator_id,
            actor_login=actor.login, action=action, entity="case", entity_id=case_id,
            case_id=case_id, before=audit.to_json(before), after=audit.to_json(after),
            reason=reason))

    def apply_step(self, out: _Writer, case: dict, channel: Channel, target: Status,
                   at: datetime, details: dict) -> None:
        role = Role.SUPERVISOR if target.value in _SUPERVISOR_MOVES else Role.OPERATOR
        actor = self.actor(role)
        if target is Status.APPROVED:
            while actor.operator_id == case["verified_by"]:
                actor = self.actor(role)
        if target is Status.DOCUMENTS_RECEIVED:
            self.write_payout(out, case, channel, at, details)
        if target in (Status.CONTACTED, Status.UNREACHABLE) and channel.guided_from_outreach_date:
            self.write_attempts(out, case["id"], actor, at, target)
        reason = {Status.ON_HOLD: "本人確認書類の再提出待ち",
                  Status.REJECTED: "同一被害の重複申告（補償済）"}.get(target)
        facts = CaseFacts(channel=channel, status=Status(case["status"]),
                          claimed_amount=case["claimed_amount"],
                          verified_by=case["verified_by"], payout_complete=True,
                          on_rail=case["payout_rail"] is not None)
        when = Circumstances(actor=actor, today=at.astimezone(JST).date(),
                             outreach_start=OUTREACH_START)
        by_rail = target in (Status.PAYOUT_REQUESTED, Status.PAID)  # the demo's own rails
        move = check_move(facts, target, when, reason, by_rail=by_rail)  # the rules hold
        before = {"status": case["status"]}
        self.update_case(out, case, target, actor, at, reason)
        self.event(out, actor, at, f"case.{move.name}", case["id"], before,
                   {"status": target.value}, reason)

    def update_case(self, out: _Writer, case: dict, target: Status, actor: Actor,
                    at: datetime, reason: str | None) -> None:
        if target is Status.VERIFIED:
            case.update(verified_amount=case["claimed_amount"], verified_by=actor.operator_id,
                        verified_at=at)
        elif target is Status.APPROVED:
            case.update(approved_amount=case["verified_amount"], approved_by=actor.operator_id,
                        approved_at=at)
        elif target is Status.PAYOUT_REQUESTED:
            self.rails.request(out, case, self.payouts[case["id"]], at)
        elif target is Status.PAID:
            case["paid_amount"] = case["approved_amount"]
            out.add(Payment, dict(id=self.ids.next("payment"), case_id=case["id"],
                                  amount=case["paid_amount"], method=self.payout_kind(case),
                                  reference=self.rails.paid(case, actor, at), paid_at=at,
                                  operator_id=actor.operator_id))
        elif target is Status.ON_HOLD:
            case["held_from"] = case["status"]
        case.update(status=target.value, status_reason=reason, updated_at=at,
                    version=case["version"] + 1)

    @staticmethod
    def payout_kind(case: dict) -> str:
        channel = Channel(case["channel"])
        return {Channel.CREDIT_CHARGE: PayoutKind.CARD_CANCELLATION,
                Channel.NANACO_CHARGE: PayoutKind.NANACO}.get(channel, PayoutKind.BANK_ACCOUNT)

    def write_payout(self, out: _Writer, case: dict, channel: Channel, at: datetime,
                     details: dict) -> None:
        rng = self.rng
        row = dict(id=self.ids.next("payout"), case_id=case["id"], kind=self.payout_kind(case),
                   bank_code=None, bank_name=None, branch_code=None, branch_name=None,
                   account_type=None, account_number=None, holder_kana=None,
                   nanaco_number=None, card_issuer=None, card_last4=None,
                   billing_confirmation_date=None, payment_date=None, updated_at=at)
        if row["kind"] == PayoutKind.BANK_ACCOUNT:
            code, bank, branch_code, branch = rng.choice(self.names["debit_banks"])
            row.update(bank_code=code, bank_name=bank, branch_code=branch_code,
                       branch_name=branch, account_type="ordinary",
                       account_number=f"{rng.randint(0, 9_999_999):07d}",
                       holder_kana=details["person"]["name_kana"])
        elif row["kind"] == PayoutKind.NANACO:
            row["nanaco_number"] = f"{rng.randint(0, 10**16 - 1):016d}"
        else:
            billing = date(2019, 8, 15) + timedelta(days=rng.randint(0, 25))
            row.update(card_issuer=details["issuer"], card_last4=details["last4"],
                       billing_confirmation_date=billing,
                       payment_date=billing + timedelta(days=rng.randint(10, 16)))
        out.add(PayoutDetail, row)
        self.payouts[case["id"]] = row
        actor = self.actor(Role.OPERATOR)
        self.event(out, actor, at, "payout.set", case["id"], None, {"kind": row["kind"]})

    def write_attempts(self, out: _Writer, case_id: int, actor: Actor, at: datetime,
                       target: Status) -> None:
        outcomes = ["reached"] if target is Status.CONTACTED else ["no_answer"] * 3
        for index, outcome in enumerate(outcomes):
            when = at - timedelta(hours=20 * (len(outcomes) - 1 - index))
            when = max(when, jst_datetime(2019, 8, 19, 9, 0))
            out.add(OutreachAttempt, dict(id=self.ids.next("attempt"), case_id=case_id,
                                          operator_id=actor.operator_id, at=when,
                                          method="phone", outcome=outcome,
                                          call_back_at=None, note=None))

    # -- the whole ------------------------------------------------------------
    def build(self, ctx: AppContext) -> DemoResult:
        with ctx.db.read() as session:
            if session.exec(select(func.count()).select_from(Case)).one():
                raise UserError(
                    "デモは空のデータベースにだけ作成できます。別の --db を指定してください。",
                    "The demo can only be built in an empty database: give another --db.")
        password_hash = hash_password(DEMO_PASSWORD)
        plans = self.plans()
        result = DemoResult(victims=self.count)
        with ctx.db.write() as session:
            self.add_staff(session, password_hash, result)
            sato, kimura = self.staff[Role.SUPERVISOR][:2]
            self.rails = DemoRails(self.ids, builder=sato, releaser=kimura)
            out = _Writer(session)
            for number, plan in enumerate(plans, start=1):
                self.write_victim(out, number, plan, result)
                out.maybe_flush()
                if self.progress and number % 10_000 == 0:
                    self.progress(number, self.count)
            out.flush()
            DemoRails.settle_totals(session)
            self.finish_sequences(session, ctx)
        # Letters go out with a complete sender block (the demo's own address), set
        # before the demo's day begins, not at today's wall-clock time.
        settings.change_many(AppContext(ctx.db, FixedClock(AS_OF - timedelta(hours=1))),
                             SYSTEM_ACTOR, DEMO_SENDER)
        return result

    def write_victim(self, out: _Writer, number: int, plan: _Plan, result: DemoResult) -> None:
        person = self.person(number)
        created = jst_datetime(2019, 7, 5, 9) + timedelta(minutes=self.rng.randint(0, 7 * 24 * 60))
        out.add(Victim, dict(id=number, created_at=created, updated_at=created, version=1,
                             **person))
        for channel, amounts in plan.channels.items():
            self.write_case(out, number, channel, amounts, created, person)
            result.cases += 1
            result.incidents += len(amounts)
            result.claimed_total += sum(amounts)

    def add_staff(self, session, password_hash: str, result: DemoResult) -> None:
        for login, display, role in DEMO_STAFF:
            row = Operator(login=login, display_name=display, role=role.value,
                           password_hash=password_hash, active=True,
                           must_change_password=False, created_at=AS_OF - timedelta(days=40))
            session.add(row)
            session.flush()
            self.staff.setdefault(role, []).append(Actor(row.id, login, role))
            result.staff.append((login, display, role.value))

    def finish_sequences(self, session, ctx: AppContext) -> None:
        """Explicit ids were used: move the counters and PostgreSQL's sequences past them."""
        session.execute(
            Counter.__table__.update().where(Counter.__table__.c.name == "case")
            .values(value=self.ids.values.get("case", 0)))
        if ctx.db.is_sqlite:
            return
        for table in ("victim", "case_file", "incident", "payout_detail", "outreach_attempt",
                      "refund_batch", "refund_item", "payout_list", "payout_request",
                      "payment", "audit_event"):
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"))


DEMO_SENDER = {"letter_sender_postal_code": "102-0084",
               "letter_sender_address": "東京都千代田区二番町8番地8"}


def build_demo(ctx: AppContext, victims: int = PUBLIC_VICTIMS, seed: int = 7,
               progress: Callable[[int, int], None] | None = None) -> DemoResult:
    from app.services.demo_refunds import build_refund_demo

    result = DemoBuilder(victims, seed, progress).build(ctx)
    # The balance-refund programme beside it (app.services.demo_refunds).
    result.refund_members, result.refund_applications = build_refund_demo(ctx, victims, seed)
    return result


