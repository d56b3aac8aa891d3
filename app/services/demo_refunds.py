"""The demo's balance-refund programme: closing balances for a scaled membership
(440,000 members for 808 victims, scaled alike), the demo victims among them, and the
applications as they stood on a chosen day, each decided by the spec's table.

That day (20 December 2019, 18:00) is the refund programme's own: its applications
open only on 1 October 2019, long after the compensation demo's 26 August. The trail's
``refund.demo`` event says when the programme stands (``stands``); the demo window
gives the programme a clock of its own from there (AppContext.refund_clock), so that
nothing of it (an application "after today", a letter dated before the application it
answers) is judged by the compensation demo's day, and the refund page says the day.

Each member has a contact on record, as the closing-balance file carries it: a victim
who is a member is the same person (the victim's name, phone, e-mail and address);
the others are synthetic people built from the compensation demo's name parts
(resources/demo/names.toml), most with a postal address, so refund letters fall due.
A few web-form and phone applicants gave no member ID and a phone not on record: they
wait on the unmatched list for an operator to find the member.
"""

from __future__ import annotations

import hashlib
import json
import random
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from app.core.clock import JST, DemoClock
from app.core.paths import resources_dir
from app.domain import refunds as rules
from app.domain.roles import SYSTEM_ACTOR
from app.domain.text import email_key, phone_digits, search_key
from app.services import audit
from app.services.context import AppContext
from app.services.refunds_import import (
    _APPLICATION_COLUMNS,
    _MEMBER_COLUMNS,
    _overlapping_members,
)
from app.storage.bulk import BulkInsert, reserve_ids
from app.storage.models import AuditEvent, RefundApplication, RefundMember, Victim

MEMBERS_PER_VICTIM = 440_000 / 808
APPLIED_SHARE = 100_000 / 440_000
DEMO_AS_OF = date(2019, 12, 20)
# Members with a postal address on record (the balance file's postal_code and address):
# most, as the service's own member records would have; the rest get no letter.
ADDRESSED_SHARE = 0.9
# Web-form and phone applications that give no member ID and a phone not on record.
UNMATCHED_SHARE = 0.05


def _names() -> dict:
    """The compensation demo's synthetic name parts (resources/demo/names.toml)."""
    with open(resources_dir() / "demo" / "names.toml", "rb") as handle:
        return tomllib.load(handle)


def build_refund_demo(ctx: AppContext, victims: int, seed: int = 7,
                      as_of: date = DEMO_AS_OF, scale: float = 1 / 100) -> tuple[int, int]:
    """Members (victims x 440,000/808 x ``scale``, at least the victims with a member ID)
    and their applications up to ``as_of``; (members, applications)."""
    rng = random.Random(seed)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=JST) + timedelta(hours=18)
    with ctx.db.write() as session:
        core = session.connection()
        known = core.execute(select(Victim.member_id, Victim.name, Victim.name_kana,
                                    Victim.phone, Victim.email, Victim.postal_code,
                                    Victim.address)
                             .where(Victim.member_id.is_not(None))).all()
        count = max(len(known), int(victims * MEMBERS_PER_VICTIM * scale))
        names = _names()
        rows = [_member(rng, names, i, known[i] if i < len(known) else None)
                for i in range(count)]
        ids = reserve_ids(core, RefundMember.__table__, len(rows))
        BulkInsert(core, RefundMember.__table__, _MEMBER_COLUMNS).run(
            (key, *row[1:-1], now) for key, row in zip(ids, rows, strict=True))
        overlapping = _overlapping_members(core, {row[1] for row in rows})
        applications = _applications(rng, rows, ids, overlapping, as_of, now)
        app_ids = reserve_ids(core, RefundApplication.__table__, len(applications))
        BulkInsert(core, RefundApplication.__table__, _APPLICATION_COLUMNS).run(
            (key, *row[1:]) for key, row in zip(app_ids, applications, strict=True))
        audit.record(session, SYSTEM_ACTOR, now, "refund.demo", "refund", None,
                     after={"members": len(rows), "applications": len(applications),
                            "as_of": as_of})
    return len(rows), len(applications)


@dataclass(frozen=True)
class DemoStand:
    """Where the demo's refund programme stands: its history's end and the day its
    applications are as of."""

    moment: datetime
    as_of: date


def stands(session: Session) -> DemoStand | None:
    """From the trail's last ``refund.demo`` event; None outside a demo."""
    row = session.execute(select(AuditEvent.at, AuditEvent.after)
                          .where(AuditEvent.action == "refund.demo")
                          .order_by(AuditEvent.seq.desc()).limit(1)).first()
    if row is None or not row[1]:
        return None
    return DemoStand(row[0], date.fromisoformat(json.loads(row[1])["as_of"]))


def demo_refund_clock(ctx: AppContext) -> DemoClock | None:
    """The demo's refund programme on its own day (where its history ends), moving with
    real time as the demo's clock does; None when the database holds no refund demo."""
    with ctx.db.read() as session:
        stand = stands(session)
    return DemoClock(start=stand.moment) if stand else None


def _member(rng: random.Random, names: dict, i: int, victim) -> tuple:
    """One closing-balance row. A victim who is a member is the same person in both
    programmes: the record's name and contact are the victim's. Other members get a
    synthetic person like the compensation demo's, most with a postal address."""
    if victim is not None:
        member_id, name, kana, phone, email, postal, address = victim
        fraud = rng.choice([None, 0, rng.randrange(0, 10_001, 100)])
        balance = max(fraud or 0, rng.randrange(0, 20_001, 10))
    else:
        member_id = f"7r{i:010d}"
        surname, surname_kana = rng.choice(names["surnames"])
        given, given_kana = rng.choice(names["given"])
        name, kana = f"{surname} {given}", f"{surname_kana} {given_kana}"
        phone = f"090-{i % 10000:04d}-{i // 10000 % 10000:04d}"
        email = f"member{i:07d}@example.jp" if rng.random() < 0.5 else None
        postal, address = None, None
        if rng.random() < ADDRESSED_SHARE:
            postal, town = rng.choice(names["places"])
            address = (f"{town}{rng.randint(1, 5)}丁目{rng.randint(1, 20)}番"
                       f"{rng.randint(1, 15)}号")
        fraud, balance = None, rng.choice([0, 0, 50, 120, 800, 1500, 3000, 8000, 25_000])
    closed = date(2019, 8, rng.randint(1, 31)) if rng.random() < 0.02 else None
    digest = hashlib.sha256(f"demo:{member_id}".encode()).hexdigest()
    return (None, member_id, balance, fraud, name, kana, search_key(kana), phone,
            phone_digits(phone), email, email_key(email), postal, address, None, closed,
            digest, None, None, None)


def _applications(rng: random.Random, members: list[tuple], ids: list[int],
                  overlapping: set[str], as_of: date, now: datetime) -> list[tuple]:
    first = datetime(2019, 10, 1, 9, 0, tzinfo=JST)
    span = max(1, int((now - first).total_seconds()))
    standing: set[int] = set()
    rows = []
    for index, (member, ref) in enumerate(zip(members, ids, strict=True)):
        if (member[2] == 0 and rng.random() < 0.9) or rng.random() > APPLIED_SHARE * 1.5:
            continue
        route = rng.choice([rules.Route.APP, rules.Route.APP, rules.Route.WEB, rules.Route.PHONE])
        applied = first + timedelta(seconds=rng.randrange(span))
        method = rules.Method.BANK_TRANSFER if rng.random() < 0.7 else rules.Method.POSTAL_ORDER
        facts = rules.Member(balance=member[2], fraud_charge_balance=member[3],
                             name_kana=member[5], phone=member[7], email=None, birth_date=None,
                             closed_on=member[14], overlapping_victim=member[1] in overlapping)
        phone, email, found = member[7], member[9], ref
        if route is not rules.Route.APP and rng.random() < UNMATCHED_SHARE:
            # A form or a call without the member ID, from a phone not on record: no
            # member found, an operator finds the member (the page's "match").
            phone, email, found = f"050-{index % 10000:04d}-{rng.randint(1000, 9999)}", None, None
        applicant = rules.Applicant(route=route, applied_at=applied, name_kana=member[5],
                                    phone=phone, email=None, birth_date=None)
        decision = rules.decide(facts if found else None, applicant,
                                earlier_standing=ref in standing,
                                deadline=rules.DEFAULT_DEADLINE)
        if found:
            standing.add(ref)
        bank = (("0001", "001", "ordinary", f"{index % 10**7:07d}", member[5])
                if method is rules.Method.BANK_TRANSFER else (None,) * 5)
        rows.append((None, f"DEMO-{index:07d}", hashlib.sha256(f"{index}".encode()).hexdigest(),
                     found, member[1] if found else None, route.value, applied, method.value,
                     member[4] or "デモ 会員", member[5], phone, email, None, *bank,
                     decision.state.value, f"{decision.ja} / {decision.en}",
                     rules.refundable_amount(member[2], member[3]) if found else None, None,
                     now, now, 1))
    return rows
