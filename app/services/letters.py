"""Letters on cases: choosing cases for a batch, producing it, marking it mailed, and
finding a letter by the code a caller reads out.

The balance-refund programme's letters (confirmation of the amount, refusal with its
reason, payment notice) go through the same machinery: a letter is a case's or a refund
application's (letter.application_ref), the applications due each kind are read from
their states by app.services.refund_letters, and marking such a batch mailed records
it without moving anything (a refund application has no state for "told").

A batch is all or nothing: the engine writes under temporary names; the letters are
recorded on their cases, in one transaction with their audit events, and only once
that transaction has committed are the files renamed into place. A cancelled or
failed batch leaves neither a file nor a record; a crash leaves no file without its
record (the temporary files are removed at the next start). Cases move on
(received → contacted, paid → closed, ...) only when the operator marks the batch
as mailed, each move checked by the workflow rules and audited.
"""

from __future__ import annotations

import contextlib
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import case as sql_case
from sqlmodel import Session, select

from app.core.clock import to_jst, today_jst
from app.core.errors import (
    EnvironmentProblem,
    MoveNotAllowed,
    NotFound,
    PermissionDenied,
    UserError,
    ValidationError,
)
from app.core.files import Staging, recorded_path
from app.domain.batches import check_letter_batch_mailable
from app.domain.case_number import parse_case_number
from app.domain.channels import Channel
from app.domain.reasons import reason_code
from app.domain.roles import Actor
from app.domain.states import Status
from app.letters import (
    COMPENSATION,
    REFUND,
    BatchResult,
    LetterData,
    LetterError,
    LetterKind,
    LetterRenderer,
    LetterSettings,
    Recipient,
    payout_from_details,
    render_alignment_sheet,
    render_letters,
)
from app.letters import (
    Incident as LetterIncident,
)
from app.letters.shortcuts import PLAIN
from app.services import audit, refund_letters, settings
from app.services.cases import MoveRequest, apply_move, lock_case
from app.services.context import AppContext, confirmed_actor, get_or_404, refund_clock
from app.services.queue import PRIORITY_CHANNELS, letter_due_ids
from app.services.records import payout_of
from app.storage.models import (
    Case,
    Incident,
    Letter,
    LetterBatch,
    Operator,
    Payment,
    PayoutDetail,
    RefundApplication,
    Victim,
)

# Crockford's base 32: no I, L, O or U, so a code read over the phone is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
MAX_BATCH = 20_000
_CHUNK = 500  # cases read per query when building a batch

# The status a rule picks by default for each kind of letter.
DEFAULT_STATUS = {
    LetterKind.GUIDANCE: Status.RECEIVED,
    LetterKind.DEFICIENCY: Status.DOCUMENTS_RECEIVED,
    LetterKind.PAYMENT_NOTICE: Status.PAID,
}
PROGRAMME_LABELS = {COMPENSATION: ("補償", "compensation"),
                    REFUND: ("残高払戻し", "balance refund")}


# -- letter codes ---------------------------------------------------------------
def new_letter_code() -> str:
    """'7KQ2-M9XD': 40 random bits, printed on the letter and stored with it."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(typed: str) -> str | None:
    """A code as an operator types it (lower case, full width, no hyphen, O for 0)
    in its stored form, or None when it cannot be a letter code."""
    text = unicodedata.normalize("NFKC", typed or "").upper().translate(_READ_AS)
    text = "".join(ch for ch in text if ch.isalnum())
    if len(text) != 8 or any(ch not in CODE_ALPHABET for ch in text):
        return None
    return f"{text[:4]}-{text[4:]}"


# -- plain records handed to the window and the command ------------------------------
@dataclass(frozen=True)
class BatchRequest:
    """Which cases get which letter. Case ids or numbers when given, else the rule
    (channel, status, letter_due) in outreach order, up to ``limit``.

    A refund kind's letters go to refund applications: the numbers (申出番号) in
    ``application_ids`` when given (each must be due the letter), else every
    application due it, in the order they became due, up to ``limit``."""

    kind: LetterKind
    case_ids: tuple[int, ...] = ()
    case_numbers: tuple[str, ...] = ()
    channel: Channel | None = None
    status: Status | None = None  # None: the kind's usual status (DEFAULT_STATUS)
    letter_due: bool = False  # only the cases the outreach queue marked as due a letter
    limit: int | None = None
    deficiency_items: tuple[str, ...] = ()
    deficiency_note: str = ""
    reply_by: date | None = None
    application_ids: tuple[str, ...] = ()

    @property
    def by_rule(self) -> bool:
        return not self.case_ids and not self.case_numbers and not self.application_ids

    @property
    def programme(self) -> str:
        return LetterKind(self.kind).programme


@dataclass(frozen=True)
class ChosenCase:
    case_id: int
    case_number: str
    name: str
    channel: Channel
    status: Status


@dataclass(frozen=True)
class ProducedLetter:
    letter_id: int
    case_id: int | None  # None: a refund application's letter
    case_number: str  # the case number, or a refund letter's application number (申出番号)
    code: str
    pages: int
    first_page: int
    sha256: str
    path: Path
    application_ref: int | None = None


@dataclass(frozen=True)
class RefusedRow:
    case_number: str
    reason: str  # both languages
    character: str | None = None
    codepoint: str | None = None
    ja: str = ""  # the reason in one language, for the screen
    en: str = ""


@dataclass(frozen=True)
class BatchSummary:
    batch_id: int | None  # None: nothing recorded (cancelled, or every letter refused)
    kind: LetterKind
    out: Path | None
    letters: tuple[ProducedLetter, ...] = ()
    refused: tuple[RefusedRow, ...] = ()
    pages: int = 0
    sha256: str | None = None
    cancelled: bool = False

    def as_json(self) -> dict:
        return {
            "batch_id": self.batch_id, "kind": self.kind.value,
            "out": str(self.out) if self.out else None, "letters": len(self.letters),
            "pages": self.pages, "sha256": self.sha256, "cancelled": self.cancelled,
            "programme": self.kind.programme,
            "produced": [{self._number_key: x.case_number, "code": x.code, "pages": x.pages,
                          "first_page": x.first_page, "sha256": x.sha256, "path": str(x.path)}
                         for x in self.letters],
            "refused": [{self._number_key: r.case_number, "reason": r.reason,
                         "character": r.character, "codepoint": r.codepoint}
                        for r in self.refused],
        }

    @property
    def _number_key(self) -> str:
        return "application_id" if self.kind.programme == REFUND else "case_number"


@dataclass(frozen=True)
class BatchView:
    id: int
    kind: LetterKind
    created_at: datetime
    operator: str | None
    out_path: str
    per_case: bool
    letters: int
    pages: int
    refused: int
    mailed_at: datetime | None

    @property
    def programme(self) -> str:
        """"compensation" or "refund": which programme's letters the batch holds."""
        return self.kind.programme


@dataclass(frozen=True)
class MailedCase:
    case_number: str
    moved_to: Status | None  # None: the case stays where it is
    reason: str = ""  # why it stays (the rule that refused the move), both languages
    ja: str = ""
    en: str = ""


@dataclass(frozen=True)
class MailedSummary:
    batch_id: int
    letters: int
    moved: tuple[MailedCase, ...]
    stayed: tuple[MailedCase, ...]

    def as_json(self) -> dict:
        return {"batch_id": self.batch_id, "letters": self.letters,
                "moved": [{"case_number": m.case_number, "to": m.moved_to.value}
                          for m in self.moved if m.moved_to],
                "stayed": [{"case_number": m.case_number, "reason": m.reason}
                           for m in self.stayed]}


@dataclass(frozen=True)
class FoundLetter:
    case_id: int | None  # None: a refund application's letter
    case_number: str  # "" on a refund letter
    letter_id: int
    code: str
    kind: LetterKind
    batch_id: int | None
    created_at: datetime
    mailed_at: datetime | None
    application_ref: int | None = None
    application_id: str | None = None  # a refund letter's application (case_id is 0 then)

    @property
    def programme(self) -> str:
        return self.kind.programme


# -- settings -----------------------------------------------------------------------
def letter_settings(session: Session) -> LetterSettings:
    return LetterSettings.from_settings(settings.load(session))


def get_letter_settings(ctx: AppContext) -> LetterSettings:
    with ctx.db.read() as session:
        return letter_settings(session)


# -- choosing cases -----------------------------------------------------------------
def _outreach_order():
    rank = sql_case((Case.channel.in_(PRIORITY_CHANNELS), 0), else_=1)
    return (rank, Victim.contact_received_at, Case.id)


def _check_request(request: BatchRequest) -> None:
    if request.limit is not None and request.limit < 1:
        raise ValidationError("limit", "件数は1以上を指定してください。",
                              "The limit must be at least 1.")
    refund = request.programme == REFUND
    if refund and (request.case_ids or request.case_numbers):
        raise ValidationError("case_numbers", "払戻しの書面は申出番号で指定してください。",
                              "A refund letter goes to refund applications: give their "
                              "application numbers.")
    if not refund and request.application_ids:
        raise ValidationError("application_ids", "補償の書面は案件番号で指定してください。",
                              "A compensation letter goes to cases: give case numbers.")


def _choose(session: Session, request: BatchRequest, now: datetime) -> list[Case]:
    _check_request(request)
    if not request.by_rule:
        return _named_cases(session, request)
    status = request.status or DEFAULT_STATUS[request.kind]
    stmt = (select(Case).join(Victim, Victim.id == Case.victim_id)
            .where(Case.status == status.value).order_by(*_outreach_order()))
    if request.channel is not None:
        stmt = stmt.where(Case.channel == request.channel.value)
    if request.letter_due:
        stmt = stmt.where(Case.id.in_(letter_due_ids(session, now)))
    stmt = stmt.limit(min(request.limit or MAX_BATCH, MAX_BATCH))
    return list(session.exec(stmt).all())


def _named_cases(session: Session, request: BatchRequest) -> list[Case]:
    chosen: list[Case] = []
    seen: set[int] = set()
    by_id: dict[int, Case] = {}
    wanted = list(dict.fromkeys(request.case_ids))
    for start in range(0, len(wanted), _CHUNK):  # one query per chunk, not per case
        part = wanted[start:start + _CHUNK]
        by_id.update((c.id, c) for c in session.exec(select(Case).where(Case.id.in_(part))))
    for case_id in wanted:
        row = by_id.get(case_id) or get_or_404(session, Case, case_id, "案件", "Case")
        if row.id not in seen:
            seen.add(row.id)
            chosen.append(row)
    for typed in request.case_numbers:
        number = parse_case_number(typed)
        if number is None:
            raise ValidationError("case_number", f"案件番号「{typed}」は正しくありません。",
                                  f"{typed!r} is not a valid case number.")
        row = session.exec(select(Case).where(Case.case_number == number)).first()
        if row is None:
            raise NotFound(f"案件 {number} が見つかりません。", f"No case {number}.")
        if row.id not in seen:
            seen.add(row.id)
            chosen.append(row)
    if request.limit:
        chosen = chosen[:request.limit]
    return chosen


def choose_cases(ctx: AppContext, request: BatchRequest) -> list[ChosenCase]:
    """The cases a batch would print, in order (shown before producing it); for a
    refund kind, choose_applications."""
    with ctx.db.read() as session:
        rows = _choose(session, request, ctx.clock.now())
        names = _names(session, [c.victim_id for c in rows])
        return [ChosenCase(c.id, c.case_number, names.get(c.victim_id, ""), Channel(c.channel),
                           Status(c.status)) for c in rows]


def _refund_targets(session: Session, request: BatchRequest, today: date
                    ) -> tuple[list[refund_letters.RefundTarget], list[RefusedRow]]:
    _check_request(request)
    kind = LetterKind(request.kind)
    if request.by_rule:
        limit = min(request.limit or MAX_BATCH, MAX_BATCH)
        return refund_letters.due(session, kind, today, limit), []
    targets, others = refund_letters.named(session, kind, request.application_ids, today)
    if request.limit:
        targets = targets[:request.limit]
    return targets, [RefusedRow(number, f"{ja} / {en}", ja=ja, en=en)
                     for number, ja, en in others]


def choose_applications(ctx: AppContext, request: BatchRequest
                        ) -> list[refund_letters.ChosenApplication]:
    """The refund applications a batch of a refund kind would print, in order."""
    with ctx.db.read() as session:
        targets, _others = _refund_targets(session, request, today_jst(refund_clock(ctx)))
        return refund_letters.chosen(targets)


def _clock(ctx: AppContext, programme: str):
    """A refund letter is dated by the refund programme's clock (the demo's own day)."""
    return refund_clock(ctx) if programme == REFUND else ctx.clock


def refund_letters_due(ctx: AppContext) -> dict[str, int]:
    """How many refund applications each refund letter is due for, not yet produced
    (those with a postal address on record: a letter goes to the address on record)."""
    with ctx.db.read() as session:
        return refund_letters.due_counts(session, today_jst(refund_clock(ctx)))


def _names(session: Session, victim_ids: Sequence[int]) -> dict[int, str]:
    if not victim_ids:
        return {}
    rows = session.exec(select(Victim.id, Victim.name).where(Victim.id.in_(victim_ids))).all()
    return dict(rows)


# -- building LetterData from the database ------------------------------------------
def _recipient(victim: Victim) -> Recipient:
    return Recipient(name=victim.name or "", postal_code=victim.postal_code or "",
                     address=victim.address or "")


@dataclass
class _CaseRows:
    """What the letters of a chunk of cases need, read in four queries."""

    victims: dict[int, Victim]
    incidents: dict[int, list[Incident]]
    payouts: dict[int, PayoutDetail]
    payments: dict[int, Payment]


def _load_rows(session: Session, cases: Sequence[Case], kind: LetterKind) -> _CaseRows:
    ids = [c.id for c in cases]
    victim_ids = list({c.victim_id for c in cases})
    rows = _CaseRows({}, {i: [] for i in ids}, {}, {})
    rows.victims = {v.id: v for v in session.exec(select(Victim)
                                                  .where(Victim.id.in_(victim_ids)))}
    for incident in session.exec(select(Incident).where(Incident.case_id.in_(ids))
                                 .order_by(Incident.occurred_at, Incident.id)):
        rows.incidents[incident.case_id].append(incident)
    rows.payouts = {p.case_id: p for p in session.exec(
        select(PayoutDetail).where(PayoutDetail.case_id.in_(ids)))}
    if kind is LetterKind.PAYMENT_NOTICE:
        rows.payments = {p.case_id: p for p in session.exec(
            select(Payment).where(Payment.case_id.in_(ids)))}
    return rows


def _payout_of_row(row: PayoutDetail | None):
    details = payout_of(row)
    if details is None:
        return None
    try:
        return payout_from_details(details)
    except ValueError:
        return None  # an unknown kind: the letter goes without, or is refused for it


def _letter_from_rows(case: Case, rows: _CaseRows, request: BatchRequest, code: str,
                      issue_date: date) -> LetterData:
    channel = Channel(case.channel)
    extra: dict = {}
    payment = rows.payments.get(case.id)
    if request.kind is LetterKind.PAYMENT_NOTICE and payment is not None:
        extra = dict(paid_amount=payment.amount, paid_date=to_jst(payment.paid_at).date())
    return LetterData(
        kind=request.kind, letter_code=code, case_number=case.case_number, channel=channel,
        recipient=_recipient(rows.victims[case.victim_id]), issue_date=issue_date,
        incidents=tuple(LetterIncident(to_jst(i.occurred_at).date(), channel, i.amount,
                                       i.merchant) for i in rows.incidents[case.id]),
        payout=_payout_of_row(rows.payouts.get(case.id)),
        deficiency_items=request.deficiency_items, deficiency_note=request.deficiency_note,
        reply_by=request.reply_by, **extra,
    )


def build_letter(session: Session, case: Case, request: BatchRequest, code: str,
                 issue_date: date) -> LetterData:
    """One case as the engine's input. Payout numbers are masked by the engine."""
    return _letter_from_rows(case, _load_rows(session, [case], request.kind), request, code,
                             issue_date)


def build_letters(session: Session, cases: Sequence[Case], request: BatchRequest,
                  codes: Sequence[str], issue_date: date) -> list[LetterData]:
    letters: list[LetterData] = []
    for start in range(0, len(cases), _CHUNK):
        part = cases[start:start + _CHUNK]
        rows = _load_rows(session, part, request.kind)
        letters += [_letter_from_rows(c, rows, request, code, issue_date)
                    for c, code in zip(part, codes[start:start + _CHUNK], strict=True)]
    return letters


def _fresh_codes(session: Session, count: int) -> list[str]:
    codes: list[str] = []
    taken: set[str] = set()
    while len(codes) < count:
        wanted = [new_letter_code() for _ in range(min(count - len(codes), 500))]
        existing = set(session.exec(select(Letter.code).where(Letter.code.in_(wanted))).all())
        for code in wanted:
            if code not in existing and code not in taken:
                taken.add(code)
                codes.append(code)
    return codes


# -- producing a batch --------------------------------------------------------------
def produce_batch(
    ctx: AppContext,
    actor: Actor,
    request: BatchRequest,
    out: Path,
    *,
    per_case_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> BatchSummary:
    """Render the chosen cases' letters into ``out`` (or one file per case in
    ``per_case_dir``) and record them. Refused letters are listed; the rest go on."""
    if request.kind is LetterKind.DEFICIENCY and not request.deficiency_items:
        raise ValidationError("deficiency_items", "不備の項目を選んでください。",
                              "Choose at least one missing or wrong item.")
    clock = _clock(ctx, request.programme)
    now = clock.now()
    issue = today_jst(clock)
    not_due: list[RefusedRow] = []
    with ctx.db.read() as session:
        actor = confirmed_actor(session, actor)
        letter_config = letter_settings(session)
        if request.programme == REFUND:
            targets, not_due = _refund_targets(session, request, issue)
            if not targets:
                if not_due:
                    return BatchSummary(None, request.kind, None, refused=tuple(not_due))
                raise UserError("この書面を送る申出はありません。",
                                "No refund application is due this letter.")
            codes = _fresh_codes(session, len(targets))
            letters = refund_letters.build_all(targets, LetterKind(request.kind), codes, issue)
            owners = {t.application_id: _Owner(application_ref=t.application_ref,
                                               postal_order_id=t.audit.get("postal_order_id"),
                                               audit=dict(t.audit)) for t in targets}
            _word_refusals(letters, owners, letter_config)
        else:
            cases = _choose(session, request, now)
            if not cases:
                raise UserError("条件に合う案件がありません。", "No case matches.")
            codes = _fresh_codes(session, len(cases))
            letters = build_letters(session, cases, request, codes, issue)
            owners = {c.case_number: _Owner(case_id=c.id) for c in cases}
    # The files stay under temporary names until the batch is recorded: a batch file
    # never exists without its record. A failed recording, a cancel or a crash leaves
    # no file (the temporaries are removed now, or at the next start after a crash).
    with Staging() as staging:
        result = render_letters(letters, Path(out), settings=letter_config,
                                per_case_dir=per_case_dir, progress=progress, cancel=cancel,
                                staging=staging)
        refused = (*not_due, *(RefusedRow(r.case_number, r.reason, r.character, r.codepoint,
                                          r.ja, r.en) for r in result.refused))
        if result.cancelled or not result.rendered:
            return BatchSummary(None, request.kind, None, refused=refused,
                                cancelled=result.cancelled)
        summary = _record(ctx, actor, request, result, owners, refused,
                          per_case_dir is not None)
        _place(staging, summary)
    return summary


@dataclass(frozen=True)
class _Owner:
    """Whose letter it is: a case, or a refund application (and the 払出証書 a payment
    notice is about), with what its audit event records besides the common fields."""

    case_id: int | None = None
    application_ref: int | None = None
    postal_order_id: int | None = None
    audit: dict = field(default_factory=dict)


def _word_refusals(letters: Sequence[LetterData], owners: dict[str, _Owner],
                   config: LetterSettings) -> None:
    """The reason each refusal letter prints, in the wording's words, for its audit
    event (a letter whose reason cannot be worded is refused by the engine)."""
    if not any(x.kind is LetterKind.REFUND_REFUSAL for x in letters):
        return
    renderer = LetterRenderer(config, shortcuts=PLAIN)
    for letter in letters:
        if letter.kind is LetterKind.REFUND_REFUSAL:
            with contextlib.suppress(LetterError):
                owners[letter.reference].audit["refusal_reason"] = renderer.refusal_text(letter)


def _place(staging: Staging, summary: BatchSummary) -> None:
    """Rename the recorded batch's files into place. Should that fail (the folder was
    removed meanwhile), the files are kept under their temporary names and named."""
    try:
        staging.place_all()
    except OSError as exc:
        kept = sorted(str(temp) for temp in staging.pending)
        for temp in list(staging.pending):
            staging.keep(temp)
        raise EnvironmentProblem(
            f"発送バッチ {summary.batch_id} は記録しましたが、ファイルを置けませんでした"
            f"（{exc.strerror}）。一時ファイル: {', '.join(kept)}",
            f"Letter batch {summary.batch_id} is recorded but its files could not be put in "
            f"place ({exc.strerror}); they are kept as: {', '.join(kept)}") from exc


def _record(ctx: AppContext, actor: Actor, request: BatchRequest, result: BatchResult,
            owners: dict[str, _Owner], refused: tuple[RefusedRow, ...], per_case: bool
            ) -> BatchSummary:
    now = _clock(ctx, request.programme).now()
    with ctx.db.write() as session:
        batch = LetterBatch(kind=request.kind.value, operator_id=actor.operator_id,
                            created_at=now, out_path=recorded_path(result.out),
                            per_case=per_case,
                            letters=len(result.rendered), pages=result.total_pages,
                            refused=len(refused), file_sha256=result.sha256)
        session.add(batch)
        session.flush()
        rows = [Letter(case_id=owners[r.case_number].case_id,
                       application_ref=owners[r.case_number].application_ref,
                       postal_order_id=owners[r.case_number].postal_order_id,
                       kind=request.kind.value, code=r.letter_code,
                       file_sha256=r.sha256, operator_id=actor.operator_id, created_at=now,
                       batch_id=batch.id, pages=r.pages, first_page=r.first_page)
                for r in result.rendered]
        session.add_all(rows)
        session.flush()
        # one event per letter, chained and inserted together (not one flush each)
        audit.append_many(session, [dict(
            at=now, operator_id=actor.operator_id, actor_login=actor.login,
            action="letter.produce", entity="letter", entity_id=row.id, case_id=row.case_id,
            before=None, reason=None, after=audit.to_json({
                "kind": row.kind, "code": row.code, "batch_id": batch.id,
                "sha256": row.file_sha256, "pages": row.pages,
                "file": recorded_path(rendered.path),
                **owners[rendered.case_number].audit}))
            for row, rendered in zip(rows, result.rendered, strict=True)])
        audit.record(session, actor, now, "letter.batch", "letter_batch", batch.id,
                     after={"kind": batch.kind, "programme": request.programme,
                            "letters": batch.letters, "pages": batch.pages,
                            "refused": batch.refused, "out": batch.out_path,
                            "sha256": batch.file_sha256})
        produced = tuple(
            ProducedLetter(row.id, row.case_id, r.case_number, r.letter_code, r.pages,
                           r.first_page, r.sha256, Path(r.path), row.application_ref)
            for row, r in zip(rows, result.rendered, strict=True))
        return BatchSummary(batch.id, request.kind, result.out, produced, refused,
                            result.total_pages, result.sha256)


# -- batches and mailing ------------------------------------------------------------
def list_batches(ctx: AppContext, limit: int = 50) -> list[BatchView]:
    with ctx.db.read() as session:
        logins = dict(session.exec(select(Operator.id, Operator.login)).all())
        rows = session.exec(select(LetterBatch).order_by(LetterBatch.id.desc()).limit(limit))
        return [BatchView(b.id, LetterKind(b.kind), b.created_at, logins.get(b.operator_id),
                          b.out_path, b.per_case, b.letters, b.pages, b.refused, b.mailed_at)
                for b in rows.all()]


def batch_letters(ctx: AppContext, batch_id: int) -> list[ProducedLetter]:
    with ctx.db.read() as session:
        batch = get_or_404(session, LetterBatch, batch_id, "発送バッチ", "Letter batch")
        rows = session.exec(select(Letter, Case.case_number, RefundApplication.application_id)
                            .outerjoin(Case, Case.id == Letter.case_id)
                            .outerjoin(RefundApplication,
                                       RefundApplication.id == Letter.application_ref)
                            .where(Letter.batch_id == batch_id).order_by(Letter.id)).all()
        return [ProducedLetter(x.id, x.case_id, number or application_id or "", x.code,
                               x.pages or 0, x.first_page or 1, x.file_sha256 or "",
                               _letter_path(batch, x), x.application_ref)
                for x, number, application_id in rows]


def _letter_path(batch: LetterBatch, letter: Letter) -> Path:
    """The batch PDF, or this letter's own file (named ..._<kind>_<code>.pdf)."""
    if not batch.per_case or not Path(batch.out_path).is_absolute():
        return Path(batch.out_path)  # the batch PDF; or a folder at a centre's desk
    matches = sorted(Path(batch.out_path).glob(f"*_{letter.kind}_{letter.code}.pdf"))
    return matches[0] if matches else Path(batch.out_path)


# What mailing a letter of each kind does to its case: (from, to, reason).
_MAILED_MOVES = {
    LetterKind.GUIDANCE: ((Status.RECEIVED, Status.UNREACHABLE), Status.CONTACTED),
    LetterKind.DEFICIENCY: ((Status.DOCUMENTS_RECEIVED,), Status.CONTACTED),
    LetterKind.PAYMENT_NOTICE: ((Status.PAID,), Status.CLOSED),
}
_MAILED_REASON = {  # reason codes (app.domain.reasons)
    LetterKind.GUIDANCE: "guidance_mailed",
    LetterKind.DEFICIENCY: "deficiency_mailed",
    LetterKind.PAYMENT_NOTICE: "payment_notice_mailed",
}


def mark_mailed(ctx: AppContext, actor: Actor, batch_id: int) -> MailedSummary:
    """Record the batch as posted and move each case as its letter's kind says, where
    the workflow allows it now; a case the rules refuse stays, with the reason."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        batch = session.exec(select(LetterBatch).where(LetterBatch.id == batch_id)
                             .with_for_update()).first()
        if batch is None:
            raise NotFound(f"発送バッチ {batch_id} が見つかりません。",
                           f"No letter batch {batch_id}.")
        check_letter_batch_mailable(batch.mailed_at is not None, batch_id)
        kind = LetterKind(batch.kind)
        if kind.programme == REFUND:
            return _mark_refund_batch_mailed(session, actor, refund_clock(ctx).now(), batch)
        sources, target = _MAILED_MOVES[kind]
        moved: list[MailedCase] = []
        stayed: list[MailedCase] = []
        letters = session.exec(select(Letter).where(Letter.batch_id == batch_id)
                               .order_by(Letter.id)).all()
        for letter in letters:
            letter.mailed_at = now
            case = lock_case(session, letter.case_id)
            audit.record(session, actor, now, "letter.mailed", "letter", letter.id,
                         case_id=case.id, after={"code": letter.code, "kind": letter.kind,
                                                 "batch_id": batch_id})
            status = Status(case.status)
            if status not in sources:
                ja, en = f"{status.label_ja}のため状態は変わりません", f"stays {status.value}"
                stayed.append(MailedCase(case.case_number, None, f"{ja} / {en}", ja, en))
                continue
            reason = reason_code(_MAILED_REASON[kind], code=letter.code)
            try:
                apply_move(session, ctx, actor, case, MoveRequest(target, reason=reason), now)
            except (MoveNotAllowed, PermissionDenied) as exc:
                stayed.append(MailedCase(case.case_number, None, str(exc), exc.ja, exc.en))
                continue
            moved.append(MailedCase(case.case_number, target))
        batch.mailed_at, batch.mailed_by = now, actor.operator_id
        audit.record(session, actor, now, "letter.batch_mailed", "letter_batch", batch.id,
                     after={"letters": len(letters), "moved": len(moved),
                            "stayed": len(stayed)})
        session.flush()
        return MailedSummary(batch_id, len(letters), tuple(moved), tuple(stayed))


def _mark_refund_batch_mailed(session: Session, actor: Actor, now: datetime,
                              batch: LetterBatch) -> MailedSummary:
    """A refund batch posted: each letter is recorded as mailed and audited; no state
    moves (a refund application's state says what was decided, not what it was told)."""
    letters = session.exec(select(Letter).where(Letter.batch_id == batch.id)
                           .order_by(Letter.id)).all()
    numbers = refund_letters.application_numbers(
        session, {x.application_ref for x in letters if x.application_ref})
    for letter in letters:
        letter.mailed_at = now
        session.add(letter)
        audit.record(session, actor, now, "letter.mailed", "letter", letter.id,
                     after={"code": letter.code, "kind": letter.kind, "batch_id": batch.id,
                            "programme": REFUND,
                            "application_id": numbers.get(letter.application_ref)})
    batch.mailed_at, batch.mailed_by = now, actor.operator_id
    session.add(batch)
    audit.record(session, actor, now, "letter.batch_mailed", "letter_batch", batch.id,
                 after={"letters": len(letters), "programme": REFUND, "moved": 0,
                        "stayed": 0})
    session.flush()
    return MailedSummary(batch.id, len(letters), (), ())


# -- finding a letter by its code ---------------------------------------------------
def find_letter(ctx: AppContext, code: str) -> FoundLetter | None:
    """The letter whose code a caller reads out, typed in any width or case, with or
    without the hyphen; None when no letter has it."""
    canonical = normalise_code(code)
    if canonical is None:
        return None
    with ctx.db.read() as session:
        found = session.exec(select(Letter, Case.case_number, RefundApplication.application_id)
                             .outerjoin(Case, Case.id == Letter.case_id)
                             .outerjoin(RefundApplication,
                                        RefundApplication.id == Letter.application_ref)
                             .where(Letter.code == canonical)).first()
        if found is None:
            return None
        letter, number, application_id = found
        return FoundLetter(letter.case_id, number or "", letter.id, letter.code,
                           LetterKind(letter.kind), letter.batch_id, letter.created_at,
                           letter.mailed_at, letter.application_ref, application_id)


def alignment_sheet(ctx: AppContext, out: Path) -> Path:
    """The envelope-window alignment sheet with the window position from the settings."""
    return render_alignment_sheet(Path(out), settings=get_letter_settings(ctx))
