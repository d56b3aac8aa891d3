"""Opening cases: a hotline call (phone intake) or, in bulk, an import.

A victim record holds the person; a case is one victim on one channel; an
incident is one reported charge or use. The claimed amount of a case is the
sum of its incidents, recomputed whenever one is added.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, select

from app.core.clock import JST
from app.core.errors import MoveNotAllowed, ValidationError
from app.domain import intake_rules
from app.domain.channels import Channel
from app.domain.money import DEFAULT_INCIDENT_CEILING, check_yen
from app.domain.roles import Actor
from app.domain.text import email_key, phone_digits, search_key, tidy_name
from app.importers import fields
from app.services import audit, settings
from app.services.cases import lock_case, new_case, recompute_claim
from app.services.context import AppContext, confirmed_actor, get_or_404
from app.services.records import case_view, victim_view
from app.services.views import CaseView, VictimView
from app.storage import sequences
from app.storage.models import Case, Incident, Victim


@dataclass(frozen=True)
class VictimInput:
    """A victim as a desk sends it. Not app.domain.intake_rules.Person, which also
    carries derived values (the phone's digits) that the server must work out itself,
    never take from a desk."""

    name: str
    name_kana: str | None = None
    member_id: str | None = None
    phone: str | None = None
    email: str | None = None
    postal_code: str | None = None
    address: str | None = None
    contact_received_at: date | None = None


@dataclass(frozen=True)
class IncidentInput:
    channel: Channel
    occurred_at: datetime
    amount: int
    report_id: str | None = None
    card_issuer: str | None = None
    card_last4: str | None = None
    merchant: str | None = None
    note: str | None = None

    def content_hash(self) -> str:
        data = asdict(self)
        data["occurred_at"] = self.occurred_at.isoformat()
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


_VICTIM_TEXT = ("name", "name_kana", "member_id", "phone", "email", "postal_code", "address")
_INCIDENT_TEXT = ("report_id", "card_issuer", "card_last4", "merchant", "note")


def validate_victim(data: VictimInput) -> VictimInput:
    name = tidy_name(data.name or "")
    if not name:
        raise ValidationError("name", "氏名を入力してください。", "Enter the victim's name.")
    if not phone_digits(data.phone) and not email_key(data.email):
        raise ValidationError("phone", "電話番号かメールアドレスのどちらかが必要です。",
                              "A phone number or an e-mail address is needed.")
    clean = VictimInput(**{**asdict(data), "name": name})
    _check_stored(clean, _VICTIM_TEXT)
    return clean


def validate_incident(data: IncidentInput, now: datetime, ceiling: int) -> None:
    try:
        check_yen(data.amount)
    except (TypeError, ValueError) as exc:
        raise ValidationError("amount", "被害金額は1円以上の整数で入力してください。",
                              "The amount must be whole yen above zero.") from exc
    if data.amount > ceiling:
        raise ValidationError("amount", f"被害金額が上限（{ceiling:,}円）を超えています。",
                              f"The amount exceeds the per-incident ceiling of {ceiling} yen.")
    if data.occurred_at.tzinfo is None or data.occurred_at > now:
        raise ValidationError("occurred_at", "発生日時が正しくありません（未来の日時です）。",
                              "The incident date is in the future or has no timezone.")
    if _japan_day(data.occurred_at) < fields.EARLIEST_DAY:
        raise ValidationError(
            "occurred_at", f"{fields.EARLIEST_DAY:%Y-%m-%d}より前の発生日時は受け付けられません。",
            f"Incidents before {fields.EARLIEST_DAY.isoformat()} are not accepted.")
    _check_stored(data, _INCIDENT_TEXT)


def _japan_day(moment: datetime) -> date:
    try:
        return moment.astimezone(JST).date()
    except OverflowError:  # the first days of year 1 in a zone east of UTC
        return date.min


def _check_stored(data: VictimInput | IncidentInput, names: tuple[str, ...]) -> None:
    """What the import checks too: each value fits its column on SQLite and PostgreSQL
    alike, and holds no control character or lone surrogate (no driver encodes one)."""
    for name in names:
        value = getattr(data, name)
        if not value:
            continue
        try:
            fields.refuse_controls(value)
            fields.check_length(name, value)
        except fields.FieldProblem as problem:
            raise ValidationError(name, problem.ja, problem.en) from None


def victim_row(data: VictimInput, now: datetime) -> Victim:
    """The victim a call registers, by the rules an imported row's victim follows."""
    return Victim(**intake_rules.victim_fields(intake_rules.Person(
        name=data.name, name_kana=data.name_kana, member_id=data.member_id, phone=data.phone,
        email=data.email, postal_code=data.postal_code, address=data.address,
        contact_received_at=data.contact_received_at), now))


def find_similar_victims(ctx: AppContext, data: VictimInput, limit: int = 20) -> list[VictimView]:
    """Victims the caller may already be: same member ID, phone, or name and address."""
    conditions = []
    if data.member_id:
        conditions.append(Victim.member_id == data.member_id)
    if phone_digits(data.phone):
        conditions.append(Victim.phone_digits == phone_digits(data.phone))
    if email_key(data.email):
        conditions.append(Victim.email_key == email_key(data.email))
    if data.name and data.address:
        conditions.append((Victim.name_key == search_key(data.name))
                          & (Victim.address == data.address.strip()))
    if not conditions:
        return []
    with ctx.db.read() as session:
        rows = session.exec(select(Victim).where(or_(*conditions)).limit(limit)).all()
        return [victim_view(row) for row in rows]


def take_phone_intake(
    ctx: AppContext, actor: Actor, victim: VictimInput, incident: IncidentInput,
    *, existing_victim_id: int | None = None,
) -> CaseView:
    """A hotline call: a new victim (or the caller's existing record) and one incident."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        ceiling = settings.load(session).incident_ceiling
        validate_incident(incident, now, ceiling)
        if existing_victim_id is None:
            row = victim_row(validate_victim(victim), now)
            session.add(row)
            session.flush()
            audit.record(session, actor, now, "victim.create", "victim", row.id,
                         after=_victim_audit(row))
        else:
            row = get_or_404(session, Victim, existing_victim_id, "被害者", "Victim")
        case = add_incident(session, actor, row.id, incident, "phone", now)
        return case_view(session, case)


def _victim_audit(row: Victim) -> dict:
    return {"name": row.name, "member_id": row.member_id}


def add_incident(session: Session, actor: Actor, victim_id: int, data: IncidentInput,
                 source: str, now: datetime, batch_id: int | None = None) -> Case:
    """Attach one incident to the victim's case on its channel, opening the case if needed."""
    # Locked (PostgreSQL) like every change of a case: a verification saved meanwhile
    # is seen here, and the claim never grows under it nor reuses its version.
    case = session.exec(
        select(Case).where(Case.victim_id == victim_id, Case.channel == data.channel.value)
        .with_for_update()
    ).first()
    while case is not None and case.merged_into_id is not None:
        case = lock_case(session, case.merged_into_id)
    # Which case takes it, and whether it may: the rules an imported row follows.
    book = intake_rules.CaseBook()
    if case is not None:
        book.know(victim_id, data.channel.value, case.id, case.status, case.case_number)
    slot, refused = book.take(victim_id, data.channel, data.amount)
    if refused:
        raise MoveNotAllowed(*refused)
    if slot.opens:
        case = new_case(session, victim_id, data.channel, now)
        audit.record(session, actor, now, "case.open", "case", case.id, case_id=case.id,
                     after={"case_number": case.case_number, "channel": case.channel,
                            "source": source})
    report_id = data.report_id or f"TEL-{sequences.reserve(session, 'phone_report'):08d}"
    incident = Incident(
        case_id=case.id, report_id=report_id, content_hash=data.content_hash(),
        occurred_at=data.occurred_at, amount=data.amount, card_issuer=data.card_issuer,
        card_last4=data.card_last4, merchant=data.merchant, note=data.note, source=source,
        import_batch_id=batch_id, created_at=now,
    )
    session.add(incident)
    session.flush()
    before = case.claimed_amount
    recompute_claim(session, case)
    case.updated_at = now
    case.version += 1
    audit.record(session, actor, now, "incident.add", "incident", incident.id, case_id=case.id,
                 before={"claimed_amount": before},
                 after={"report_id": report_id, "amount": data.amount,
                        "claimed_amount": case.claimed_amount})
    return case


class FormProblems(ValidationError):
    """Every problem of a typed form at once: field -> (ja, en)."""

    def __init__(self, problems: dict[str, tuple[str, str]]) -> None:
        self.problems = problems
        first = next(iter(problems))
        super().__init__(first, "・".join(ja for ja, _en in problems.values()),
                         "; ".join(en for _ja, en in problems.values()))


def parse_intake_form(raw: dict[str, str], channel: Channel, now: datetime,
                      ceiling: int = DEFAULT_INCIDENT_CEILING) -> tuple[VictimInput, IncidentInput]:
    """Read a hotline form by the import contract's rules (full-width digits, eras, ...)."""
    problems: dict[str, tuple[str, str]] = {}
    values: dict[str, object] = {}
    parsers = fields.field_parsers(now=now, ceiling=ceiling)  # the import's, limits and all

    def read(name: str, parser) -> None:
        text = (raw.get(name) or "").strip()
        if not text:
            return
        try:
            values[name] = parser(text)
        except fields.FieldProblem as problem:
            problems[name] = (problem.ja, problem.en)

    for name in ("name", "name_kana", "member_id", "phone", "email", "postal_code", "address",
                 "occurred_at", "amount", "card_issuer", "card_last4", "merchant"):
        read(name, parsers[name])
    if "phone" in values:
        values["phone"] = values["phone"].text
    for name, ja, en in (("name", "氏名を入力してください。", "Enter the name."),
                         ("occurred_at", "発生日時を入力してください。", "Enter when it happened."),
                         ("amount", "被害金額を入力してください。", "Enter the amount.")):
        if name not in values and name not in problems:
            problems[name] = (ja, en)
    if not (raw.get("phone") or "").strip() and not (raw.get("email") or "").strip():
        problems["phone"] = ("電話番号かメールアドレスのどちらかが必要です。",
                             "A phone number or an e-mail address is needed.")
    if problems:
        raise FormProblems(problems)
    victim = VictimInput(**{k: values.get(k) for k in (
        "name", "name_kana", "member_id", "phone", "email", "postal_code", "address")})
    incident = IncidentInput(channel=channel, occurred_at=values["occurred_at"],
                             amount=values["amount"], card_last4=values.get("card_last4"),
                             card_issuer=values.get("card_issuer"),
                             merchant=values.get("merchant"))
    return victim, incident


def parse_amount_text(text: str, ceiling: int = DEFAULT_INCIDENT_CEILING) -> int:
    """An amount typed by an operator, read as the import contract reads it."""
    try:
        fields.refuse_controls(text)
        fields.refuse_foreign_digits(text)
        return fields.parse_amount(text.strip(), ceiling=ceiling)
    except fields.FieldProblem as problem:
        raise ValidationError("amount", problem.ja, problem.en) from problem
